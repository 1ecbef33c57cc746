//! The YAML shape of the `sentry` appender, and its conversion into a builder. Checks that need
//! more than types (the DSN, the levels' order, the certificate, the spool folder) happen in the
//! builder, so the programmatic API and YAML give the same errors.

use std::path::PathBuf;

use serde::Deserialize;

use crate::fields::{HumanDuration, LevelField, Secret};
use crate::worker::OnFull;

use super::builder::{BreadcrumbScope, SentryAppenderBuilder};

/// The `sentry` appender's YAML fields. See the module docs ([`crate::sentry`]) for each field.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SentryConfig {
    #[serde(rename = "__appender_name", default)]
    appender_name: String,
    #[serde(default)]
    dsn: Option<Secret>,
    #[serde(default)]
    dsn_env: Option<String>,
    #[serde(default)]
    dsn_file: Option<PathBuf>,
    #[serde(default)]
    environment: Option<String>,
    #[serde(default)]
    release: Option<String>,
    #[serde(default)]
    server_name: Option<String>,
    #[serde(default)]
    level: Option<LevelField>,
    #[serde(default)]
    breadcrumbs: Option<LevelField>,
    #[serde(default)]
    max_breadcrumbs: Option<usize>,
    #[serde(default)]
    breadcrumbs_scope: Option<BreadcrumbScope>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    in_app: Vec<String>,
    #[serde(default)]
    spool_dir: Option<PathBuf>,
    #[serde(default)]
    timeout: Option<HumanDuration>,
    #[serde(default)]
    retry_backoff: Option<HumanDuration>,
    #[serde(default)]
    root_certificate: Option<PathBuf>,
    #[serde(default)]
    queue_size: Option<usize>,
    #[serde(default)]
    on_full: Option<OnFull>,
}

impl SentryConfig {
    /// Turns the parsed YAML into a builder (resolves the DSN from `dsn`, `dsn_env` or
    /// `dsn_file`). Errors name the field, never the DSN.
    pub(crate) fn into_builder(self) -> anyhow::Result<SentryAppenderBuilder> {
        let dsn = Secret::resolve(
            self.dsn,
            self.dsn_env.as_deref(),
            self.dsn_file.as_deref(),
            "dsn",
        )?;
        let mut b = SentryAppenderBuilder::default()
            .name(self.appender_name)
            .tags(self.tags)
            .in_app(self.in_app);
        // None of them: the builder's check refuses the missing DSN, naming the three fields.
        if let Some(dsn) = dsn {
            b = b.dsn(dsn);
        }
        if let Some(e) = self.environment {
            b = b.environment(e);
        }
        if let Some(r) = self.release {
            b = b.release(r);
        }
        if let Some(s) = self.server_name {
            b = b.server_name(s);
        }
        if let Some(l) = self.level {
            b = b.level(l.0);
        }
        if let Some(l) = self.breadcrumbs {
            b = b.breadcrumbs(l.0);
        }
        if let Some(m) = self.max_breadcrumbs {
            b = b.max_breadcrumbs(m);
        }
        if let Some(s) = self.breadcrumbs_scope {
            b = b.breadcrumbs_scope(s);
        }
        if let Some(d) = self.spool_dir {
            b = b.spool_dir(d);
        }
        if let Some(t) = self.timeout {
            b = b.timeout(t.0);
        }
        if let Some(r) = self.retry_backoff {
            b = b.retry_backoff(r.0);
        }
        if let Some(path) = self.root_certificate {
            b = b.root_certificate(path);
        }
        if let Some(q) = self.queue_size {
            b = b.queue_size(q);
        }
        if let Some(o) = self.on_full {
            b = b.on_full(o);
        }
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(yaml: &str) -> anyhow::Result<super::super::CheckedSentryAppender> {
        let v: serde_value::Value = serde_yaml::from_str(yaml).unwrap();
        crate::fields::parse_config::<SentryConfig>(v)?
            .into_builder()?
            .check()
    }

    const DSN: &str = "https://0123456789abcdef@sentry.example.com/42";

    #[test]
    fn an_invalid_dsn_names_the_field_and_never_shows_the_key() {
        for bad in [
            "not a url",
            "ftp://0123456789abcdef@sentry.example.com/42",
            "https://sentry.example.com/42",
            "https://0123456789abcdef@sentry.example.com/",
        ] {
            let e = check(&format!("dsn: \"{bad}\"")).unwrap_err().to_string();
            assert!(e.starts_with("field \"dsn\":"), "{e}");
            assert!(!e.contains("0123456789abcdef"), "{e}");
        }
    }

    #[test]
    fn a_misspelt_field_is_named_with_the_known_fields() {
        let e = check(&format!("dsn: {DSN}\nenviroment: prod"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("unknown field `enviroment` (did you mean `environment`?)"),
            "{e}"
        );
    }

    #[test]
    fn a_level_below_breadcrumbs_is_refused_naming_both() {
        let e = check(&format!("dsn: {DSN}\nlevel: info\nbreadcrumbs: warn"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("field \"level\":") && e.contains("breadcrumbs"),
            "{e}"
        );
        check(&format!("dsn: {DSN}\nlevel: warn\nbreadcrumbs: debug")).unwrap();
    }

    #[test]
    fn the_dsn_is_required_and_never_in_debug_output() {
        let e = check("environment: prod").unwrap_err().to_string();
        assert!(e.starts_with("field \"dsn\":"), "{e}");
        let checked = check(&format!("dsn: {DSN}")).unwrap();
        let shown = format!("{checked:?}");
        assert!(
            !shown.contains("0123456789abcdef") && shown.contains("sentry.example.com"),
            "{shown}"
        );
        let builder = crate::fields::parse_config::<SentryConfig>(
            serde_yaml::from_str(&format!("dsn: {DSN}")).unwrap(),
        )
        .unwrap();
        assert!(!format!("{builder:?}").contains("0123456789abcdef"));
    }

    #[test]
    fn dsn_env_reads_the_variable_and_names_it_when_unset() {
        let e = check("dsn_env: LOG4RS_APPENDERS_SURELY_UNSET_DSN")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("dsn_env") && e.contains("LOG4RS_APPENDERS_SURELY_UNSET_DSN"),
            "{e}"
        );
    }
}
