//! The YAML shape of the `smtp` appender, and its conversion into a builder. Validation that
//! needs more than types (addresses, secrets, certificates) happens in the builder, so the
//! programmatic API and YAML give the same errors.

use std::fmt;
use std::path::PathBuf;

use log4rs::config::Deserializers;
use log4rs::encode::EncoderConfig;
use serde::Deserialize;
use serde::de::{self, Deserializer};

use crate::fields::{HumanDuration, LevelField, Secret};
use crate::worker::OnFull;

use super::builder::SmtpAppenderBuilder;

/// How the connection to the mail server is secured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Security {
    /// Plain SMTP, no encryption (default port 25). Only for a relay on the same host or network.
    None,
    /// Plain connection upgraded with STARTTLS, which is required (default port 587). The
    /// default.
    #[default]
    Starttls,
    /// Implicit TLS from the first byte, "SMTPS" (default port 465).
    Tls,
}

impl Security {
    /// The port this mode uses when none is configured.
    pub fn default_port(self) -> u16 {
        match self {
            Security::None => 25,
            Security::Starttls => 587,
            Security::Tls => 465,
        }
    }
}

/// A TCP port, 1-65535, from a YAML number or a string of digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Port(pub u16);

impl<'de> Deserialize<'de> for Port {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = Port;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number 1-65535")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Port, E> {
                match u16::try_from(v) {
                    Ok(p) if p > 0 => Ok(Port(p)),
                    _ => Err(E::custom(format!("expected a number 1-65535, got {v}"))),
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Port, E> {
                match u64::try_from(v) {
                    Ok(v) => self.visit_u64(v),
                    Err(_) => Err(E::custom(format!("expected a number 1-65535, got {v}"))),
                }
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Port, E> {
                Err(E::custom(format!("expected a number 1-65535, got {v}")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Port, E> {
                match v.trim().parse::<u64>() {
                    Ok(n) => self.visit_u64(n),
                    Err(_) => Err(E::custom(format!("expected a number 1-65535, got {v:?}"))),
                }
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// The `smtp` appender's YAML fields. See the [module docs](crate::smtp#fields) for each field's
/// meaning.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    #[serde(rename = "__appender_name", default)]
    appender_name: String,
    host: String,
    #[serde(default)]
    port: Option<Port>,
    #[serde(default)]
    security: Security,
    from: String,
    #[serde(default)]
    to: Vec<String>,
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<Secret>,
    #[serde(default)]
    password_env: Option<String>,
    #[serde(default)]
    password_file: Option<PathBuf>,
    #[serde(default)]
    level: Option<LevelField>,
    #[serde(default)]
    timeout: Option<HumanDuration>,
    #[serde(default)]
    encoder: Option<EncoderConfig>,
    #[serde(default)]
    batch_window: Option<HumanDuration>,
    #[serde(default)]
    max_mails_per_hour: Option<u32>,
    #[serde(default)]
    context_records: Option<usize>,
    #[serde(default)]
    spool_dir: Option<PathBuf>,
    #[serde(default)]
    spool_after: Option<HumanDuration>,
    #[serde(default)]
    retry_backoff: Option<HumanDuration>,
    #[serde(default)]
    root_certificate: Option<PathBuf>,
    #[serde(default)]
    danger_accept_invalid_certs: bool,
    #[serde(default)]
    queue_size: Option<usize>,
    #[serde(default)]
    on_full: Option<OnFull>,
}

impl SmtpConfig {
    /// Turns the parsed YAML into a builder: resolves the password and builds the encoder.
    /// Errors name the field.
    pub(crate) fn into_builder(
        self,
        deserializers: &Deserializers,
    ) -> anyhow::Result<SmtpAppenderBuilder> {
        let password = Secret::resolve(
            self.password,
            self.password_env.as_deref(),
            self.password_file.as_deref(),
            "password",
        )?;
        let mut b = SmtpAppenderBuilder::default()
            .name(self.appender_name)
            .host(self.host)
            .security(self.security)
            .from(self.from)
            .danger_accept_invalid_certs(self.danger_accept_invalid_certs);
        for to in self.to {
            b = b.to(to);
        }
        if let Some(p) = self.port {
            b = b.port(p.0);
        }
        if let Some(s) = self.subject {
            b = b.subject(s);
        }
        b.username = self.username;
        b.password = password;
        if let Some(l) = self.level {
            b = b.level(l.0);
        }
        if let Some(t) = self.timeout {
            b = b.timeout(t.0);
        }
        if let Some(e) = self.encoder {
            b = b.encoder(crate::encode::build_encoder(e, deserializers)?);
        }
        if let Some(w) = self.batch_window {
            b = b.batch_window(w.0);
        }
        if let Some(m) = self.max_mails_per_hour {
            b = b.max_mails_per_hour(m);
        }
        if let Some(c) = self.context_records {
            b = b.context_records(c);
        }
        if let Some(d) = self.spool_dir {
            b = b.spool_dir(d);
        }
        if let Some(a) = self.spool_after {
            b = b.spool_after(a.0);
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

    fn parse(yaml: &str) -> anyhow::Result<SmtpConfig> {
        let v: serde_value::Value = serde_yaml::from_str(yaml).unwrap();
        crate::fields::parse_config::<SmtpConfig>(v)
    }

    #[test]
    fn a_port_that_is_not_a_number_names_the_field_and_the_range() {
        let e = parse("host: h\nfrom: a@b.c\nto: [x@y.z]\nport: smtp").unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"field "port": expected a number 1-65535, got "smtp""#
        );
        let e = parse("host: h\nfrom: a@b.c\nto: [x@y.z]\nport: 70000").unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"field "port": expected a number 1-65535, got 70000"#
        );
        let e = parse("host: h\nfrom: a@b.c\nto: [x@y.z]\nport: 0").unwrap_err();
        assert!(e.to_string().contains("1-65535"), "{e}");
        assert_eq!(
            parse("host: h\nfrom: a@b.c\nport: 2525").unwrap().port,
            Some(Port(2525))
        );
    }

    #[test]
    fn a_misspelt_field_is_named_with_the_known_fields() {
        let e = parse("host: h\nfrom: a@b.c\nto: [x@y.z]\nbatch_windw: 3s").unwrap_err();
        let e = e.to_string();
        assert!(
            e.starts_with("unknown field `batch_windw` (did you mean `batch_window`?)")
                && !e.contains("__appender_name"),
            "{e}"
        );
    }

    #[test]
    fn an_unknown_level_lists_the_levels() {
        let e = parse("host: h\nfrom: a@b.c\nlevel: fatal").unwrap_err();
        assert!(
            e.to_string()
                .starts_with(r#"field "level": expected one of error"#),
            "{e}"
        );
    }
}
