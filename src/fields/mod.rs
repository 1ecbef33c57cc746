//! The field kit every kind's YAML config is made of: byte sizes, durations, secrets, levels,
//! `$ENV{..}` expansion, and the strict deserialization that names the field in every error.
//!
//! Appenders and encoders import from here; the strict loader ([`crate::config`]) imports from
//! here too, so the arrows run one way: appenders -> fields, loader -> registry -> appenders.

mod duration;
pub(crate) mod env;
mod level;
mod secret;
mod size;
pub(crate) mod strict;

pub use duration::HumanDuration;
pub use level::{LEVEL_FILTER_NAMES, LEVEL_NAMES, LevelField, parse_level, parse_level_filter};
pub use secret::Secret;
pub use size::ByteSize;

pub(crate) use env::expand_env;
pub(crate) use secret::without_quoted_values;
pub(crate) use strict::{closest_name, parse_config};
