//! The YAML shape of `kind: rotating_file`, turned into the builder (which does every check).

use log4rs::config::Deserializers;
use log4rs::encode::EncoderConfig;
use serde::Deserialize;

use super::RotatingFileAppender;
use super::builder::{Compression, DEFAULT_BACKUP_COUNT, RotatingFileAppenderBuilder};
use super::schedule::{AtTime, When};
use crate::fields::{ByteSize, HumanDuration};

/// `kind: rotating_file` in YAML.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub(crate) path: String,
    #[serde(default)]
    pub(crate) max_bytes: Option<ByteSize>,
    #[serde(default = "default_backup_count")]
    pub(crate) backup_count: u32,
    #[serde(default)]
    pub(crate) compress: Compression,
    #[serde(default)]
    pub(crate) delay: bool,
    #[serde(default)]
    pub(crate) multiprocess: bool,
    #[serde(default)]
    pub(crate) buffer: ByteSize,
    #[serde(default)]
    pub(crate) flush_interval: Option<HumanDuration>,
    #[serde(default)]
    pub(crate) mode: Option<FileMode>,
    #[serde(default)]
    pub(crate) encoder: Option<EncoderConfig>,
    #[serde(default, deserialize_with = "parse_from_str")]
    pub(crate) when: Option<When>,
    #[serde(default)]
    pub(crate) interval: Option<u32>,
    #[serde(default)]
    pub(crate) utc: Option<bool>,
    #[serde(default, deserialize_with = "parse_from_str")]
    pub(crate) at_time: Option<AtTime>,
    #[serde(default)]
    pub(crate) max_age: Option<HumanDuration>,
    #[serde(default)]
    pub(crate) max_total_size: Option<ByteSize>,
    /// log4rs's own `rolling_file` field; accepted only to reject it with a pointer to ours.
    #[serde(default)]
    pub(crate) policy: Option<serde_value::Value>,
    #[serde(rename = "__appender_name", default)]
    pub(crate) appender_name: String,
}

/// `mode:` in YAML: permission bits as an octal string, `"0640"` (YAML reads an unquoted `0640`
/// as that string too; a number such as `640` is refused as ambiguous).
pub(crate) struct FileMode(pub(crate) u32);

impl<'de> Deserialize<'de> for FileMode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let quote = "write it as an octal string such as \"0640\" (owner read-write, group \
                     read)";
        match serde_value::Value::deserialize(d)? {
            serde_value::Value::String(s) => {
                let digits = s.strip_prefix("0o").unwrap_or(&s);
                let valid = (3..=4).contains(&digits.len())
                    && digits.bytes().all(|b| (b'0'..=b'7').contains(&b));
                match u32::from_str_radix(digits, 8) {
                    Ok(mode) if valid => Ok(FileMode(mode)),
                    _ => Err(D::Error::custom(format!(
                        "{s:?} is not an octal file mode; {quote}"
                    ))),
                }
            }
            // `640` or `0o640` arrive as numbers: 640 would be a decimal mistake.
            _ => Err(D::Error::custom(format!("expected a string; {quote}"))),
        }
    }
}

/// A field given as a string that the type's `FromStr` parses (its error names the allowed
/// values).
fn parse_from_str<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr<Err = String>,
{
    let text = String::deserialize(d)?;
    text.parse().map(Some).map_err(serde::de::Error::custom)
}

fn default_backup_count() -> u32 {
    DEFAULT_BACKUP_COUNT
}

impl Config {
    /// The builder these fields describe, and the log file's path with `$ENV{..}` expanded.
    /// Nothing is checked here beyond the YAML shape: `build` checks everything.
    pub(crate) fn into_builder(
        self,
        deserializers: &Deserializers,
    ) -> anyhow::Result<(RotatingFileAppenderBuilder, String)> {
        if self.policy.is_some() {
            anyhow::bail!(
                "field \"policy\": kind rotating_file does not take a policy (that is log4rs's \
                 rolling_file); use max_bytes: and backup_count: instead, e.g. \
                 `max_bytes: 10 MiB` and `backup_count: 5`"
            );
        }
        let mut builder = RotatingFileAppender::builder()
            .name(self.appender_name)
            .backup_count(self.backup_count)
            .compress(self.compress)
            .delay(self.delay)
            .multiprocess(self.multiprocess)
            .buffer(usize::try_from(self.buffer.0).unwrap_or(usize::MAX));
        if let Some(max_bytes) = self.max_bytes {
            builder = builder.max_bytes(max_bytes.0);
        }
        if let Some(when) = self.when {
            builder = builder.when(when);
        }
        if let Some(interval) = self.interval {
            builder = builder.interval(interval);
        }
        if let Some(utc) = self.utc {
            builder = builder.utc(utc);
        }
        if let Some(at_time) = self.at_time {
            builder = builder.at_time(at_time);
        }
        if let Some(max_age) = self.max_age {
            builder = builder.max_age(max_age.0);
        }
        if let Some(max_total_size) = self.max_total_size {
            builder = builder.max_total_size(max_total_size.0);
        }
        if let Some(interval) = self.flush_interval {
            builder = builder.flush_interval(interval.0);
        }
        if let Some(mode) = self.mode {
            builder = builder.mode(mode.0);
        }
        if let Some(encoder) = self.encoder {
            builder = builder.encoder(crate::encode::build_encoder(encoder, deserializers)?);
        }
        Ok((builder, crate::fields::expand_env(&self.path).0))
    }
}
