//! Encoders: the Python-style `%(attr)s` formatter, JSON lines for log shippers, and the helper every appender uses to build
//! the encoder named in its `encoder:` field.

use log4rs::config::Deserializers;
use log4rs::encode::{Encode, EncoderConfig};

/// Builds the encoder an appender's `encoder:` field names (any kind registered in
/// `deserializers`, ours or log4rs's). Errors name the field and the kind.
pub(crate) fn build_encoder(
    config: EncoderConfig,
    deserializers: &Deserializers,
) -> anyhow::Result<Box<dyn Encode>> {
    deserializers
        .deserialize::<dyn Encode>(&config.kind, config.config)
        .map_err(|e| anyhow::anyhow!("field \"encoder\" (kind: {}): {e:#}", config.kind))
}

mod attributes;
mod format;
pub mod json;
mod line;
mod printf;
pub mod python;

pub use json::{FieldSet, JsonLinesEncoder, JsonLinesKind};
pub use python::{DefaultValue, PythonEncoder, PythonKind};
