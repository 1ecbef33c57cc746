//! Strict loading of log4rs YAML configs: every problem at once, each naming the appender or
//! logger and the field; `$ENV{VAR}` expansion in every string; unknown kinds list the kinds that
//! exist; unknown fields get a "did you mean".
//!
//! The field types (`ByteSize`, `HumanDuration`, `Secret`) live in [`crate::fields`]; they are
//! re-exported here, where they used to be.

mod loader;
mod problems;

pub use crate::fields::{ByteSize, HumanDuration, Secret};
pub use loader::{
    CheckedConfig, LoadedConfig, check_config_file, check_config_str, load_config_file,
    load_config_str,
};
pub use problems::{ConfigError, Place, Problem};
