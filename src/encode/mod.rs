//! Encoders: the Python-style `%(attr)s` formatter, and the helper every appender uses to build
//! the encoder named in its `encoder:` field.

use log4rs::config::Deserializers;
use log4rs::encode::{Encode, EncoderConfig};

/// Builds the encoder an appender's `encoder:` field names (any kind registered in
/// `deserializers`, ours or log4rs's), or `default()` when the field is absent.
#[allow(dead_code)] // used by the appender kinds as they land
pub(crate) fn build_encoder(
    config: Option<EncoderConfig>,
    deserializers: &Deserializers,
    default: impl FnOnce() -> Box<dyn Encode>,
) -> anyhow::Result<Box<dyn Encode>> {
    match config {
        None => Ok(default()),
        Some(c) => deserializers
            .deserialize::<dyn Encode>(&c.kind, c.config)
            .map_err(|e| anyhow::anyhow!("field \"encoder\" (kind: {}): {e:#}", c.kind)),
    }
}

mod attributes;
mod format;
mod printf;
pub mod python;

pub use python::PythonEncoder;
