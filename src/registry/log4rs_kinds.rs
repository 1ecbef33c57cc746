//! log4rs's own appender kinds (`console`, `file`, `rolling_file`), split into a pure check and
//! a start like ours, for the strict loader only.
//!
//! log4rs's deserializers create the log file (and its folders) while they read the config, so a
//! config refused for another appender would already have created it. These mirror log4rs's
//! config shapes (same fields, same defaults), build the nested encoder and rolling policy at
//! check time (both are pure), and create the file only at start, through log4rs's own builders.
//! [`crate::deserializers`] keeps log4rs's deserializers for these kinds: this is how the
//! strict loader reads them, not a replacement.

use std::collections::BTreeMap;

use log4rs::append::Append;
use log4rs::append::file::FileAppender;
use log4rs::append::rolling_file::RollingFileAppender;
use log4rs::append::rolling_file::policy::Policy;
use log4rs::config::Deserializers;
use log4rs::encode::{Encode, EncoderConfig};
use serde::Deserialize;
use serde_value::Value;

use super::AppenderKind;

fn encoder(
    config: Option<EncoderConfig>,
    deserializers: &Deserializers,
) -> anyhow::Result<Option<Box<dyn Encode>>> {
    config
        .map(|e| {
            deserializers
                .deserialize::<dyn Encode>(&e.kind, e.config)
                .map_err(|err| anyhow::anyhow!("field \"encoder\": {err:#}"))
        })
        .transpose()
}

/// `kind: console`: log4rs's console appender. Building it has no side effect, so the check
/// builds it.
pub(crate) struct ConsoleKind;

impl AppenderKind for ConsoleKind {
    const KIND: &'static str = "console";
    const FEATURE: Option<&'static str> = None;
    type Config = BTreeMap<Value, Value>;
    type Checked = Box<dyn Append>;

    fn check(
        config: BTreeMap<Value, Value>,
        deserializers: &Deserializers,
    ) -> anyhow::Result<Box<dyn Append>> {
        deserializers.deserialize::<dyn Append>(Self::KIND, Value::Map(config))
    }

    fn start(appender: Box<dyn Append>) -> anyhow::Result<Box<dyn Append>> {
        Ok(appender)
    }
}

/// log4rs's `FileAppenderConfig`, field for field.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileConfig {
    path: String,
    encoder: Option<EncoderConfig>,
    append: Option<bool>,
}

/// A checked `kind: file`: the file is created at start.
pub(crate) struct CheckedFile {
    path: String,
    encoder: Option<Box<dyn Encode>>,
    append: Option<bool>,
}

/// `kind: file`: log4rs's file appender.
pub(crate) struct FileKind;

impl AppenderKind for FileKind {
    const KIND: &'static str = "file";
    const FEATURE: Option<&'static str> = None;
    type Config = FileConfig;
    type Checked = CheckedFile;

    fn check(config: FileConfig, deserializers: &Deserializers) -> anyhow::Result<CheckedFile> {
        Ok(CheckedFile {
            encoder: encoder(config.encoder, deserializers)?,
            path: config.path,
            append: config.append,
        })
    }

    fn start(c: CheckedFile) -> anyhow::Result<Box<dyn Append>> {
        let mut builder = FileAppender::builder();
        if let Some(append) = c.append {
            builder = builder.append(append);
        }
        if let Some(encoder) = c.encoder {
            builder = builder.encoder(encoder);
        }
        let appender = builder
            .build(&c.path)
            .map_err(|e| anyhow::anyhow!("field \"path\": cannot open {}: {e}", c.path))?;
        Ok(Box::new(appender))
    }
}

/// log4rs's `RollingFileAppenderConfig`, field for field (`policy:` defaults to
/// `kind: compound`, as in log4rs).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RollingFileConfig {
    path: String,
    append: Option<bool>,
    encoder: Option<EncoderConfig>,
    policy: BTreeMap<Value, Value>,
}

/// A checked `kind: rolling_file`: encoder and policy built, the file created at start.
pub(crate) struct CheckedRollingFile {
    path: String,
    append: Option<bool>,
    encoder: Option<Box<dyn Encode>>,
    policy: Box<dyn Policy>,
}

/// `kind: rolling_file`: log4rs's rolling file appender.
pub(crate) struct RollingFileKind;

impl AppenderKind for RollingFileKind {
    const KIND: &'static str = "rolling_file";
    const FEATURE: Option<&'static str> = None;
    type Config = RollingFileConfig;
    type Checked = CheckedRollingFile;

    fn check(
        mut config: RollingFileConfig,
        deserializers: &Deserializers,
    ) -> anyhow::Result<CheckedRollingFile> {
        let kind = match config.policy.remove(&Value::String("kind".into())) {
            None => "compound".to_owned(),
            Some(Value::String(kind)) => kind,
            Some(_) => anyhow::bail!("field \"policy.kind\": expected a string"),
        };
        let policy = deserializers
            .deserialize::<dyn Policy>(&kind, Value::Map(config.policy))
            .map_err(|e| anyhow::anyhow!("field \"policy\": {e:#}"))?;
        Ok(CheckedRollingFile {
            encoder: encoder(config.encoder, deserializers)?,
            path: config.path,
            append: config.append,
            policy,
        })
    }

    fn start(c: CheckedRollingFile) -> anyhow::Result<Box<dyn Append>> {
        let mut builder = RollingFileAppender::builder();
        if let Some(append) = c.append {
            builder = builder.append(append);
        }
        if let Some(encoder) = c.encoder {
            builder = builder.encoder(encoder);
        }
        let appender = builder
            .build(&c.path, c.policy)
            .map_err(|e| anyhow::anyhow!("field \"path\": cannot open {}: {e}", c.path))?;
        Ok(Box::new(appender))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::parse_config;

    fn yaml(text: &str) -> Value {
        serde_yaml::from_str(text).unwrap()
    }

    #[test]
    fn checking_log4rs_file_kinds_creates_nothing_and_starting_creates_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let d = crate::deserializers();
        let file = dir.path().join("sub/f.log");
        let rolling = dir.path().join("sub2/r.log");
        let f = FileKind::check(
            parse_config(yaml(&format!(
                "{{ path: {:?}, encoder: {{ pattern: \"{{m}}\" }} }}",
                file.display().to_string()
            )))
            .unwrap(),
            &d,
        )
        .unwrap();
        let r = RollingFileKind::check(
            parse_config(yaml(&format!(
                "{{ path: {:?}, policy: {{ trigger: {{ kind: size, limit: 1 kb }}, roller: {{ kind: delete }} }} }}",
                rolling.display().to_string()
            )))
            .unwrap(),
            &d,
        )
        .unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        FileKind::start(f).unwrap();
        RollingFileKind::start(r).unwrap();
        assert!(file.is_file() && rolling.is_file());
    }

    #[test]
    fn a_bad_nested_encoder_or_policy_is_found_at_check_time() {
        let d = crate::deserializers();
        let e = FileKind::check(
            parse_config(yaml("{ path: x.log, encoder: { kind: nope } }")).unwrap(),
            &d,
        )
        .err()
        .unwrap();
        assert!(format!("{e}").contains("field \"encoder\""), "{e}");
        let e = RollingFileKind::check(
            parse_config(yaml(
                "{ path: x.log, policy: { trigger: { kind: size, limit: 1 kb }, roller: { kind: fixed_window, pattern: nobraces, count: 3 } } }",
            ))
            .unwrap(),
            &d,
        )
        .err()
        .unwrap();
        assert!(format!("{e}").contains("field \"policy\""), "{e}");
    }
}
