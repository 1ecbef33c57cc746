//! Strict loading of log4rs YAML configs: every problem at once, each naming the appender or
//! logger and the field; `$ENV{VAR}` expansion; unknown kinds list the kinds that exist.

mod fields;

pub(crate) use fields::{APPENDER_NAME_KEY, parse_config};
pub use fields::{ByteSize, HumanDuration, Secret};
