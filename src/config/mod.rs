//! Strict loading of log4rs YAML configs: every problem at once, each naming the appender or
//! logger and the field; `$ENV{VAR}` expansion in every string; unknown kinds list the kinds that
//! exist; unknown fields get a "did you mean".

mod env;
pub(crate) mod fields;
mod loader;
mod problems;

pub(crate) use fields::parse_config;
pub use fields::{ByteSize, HumanDuration, Secret};
pub use loader::{LoadedConfig, load_config_file, load_config_str};
pub use problems::{ConfigError, Place, Problem};
