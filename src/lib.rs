//! Production appenders for [log4rs]. (Crate docs are written with the loader.)

pub mod config;
pub mod encode;
pub mod report;
#[cfg(feature = "syslog")]
pub mod syslog;
pub mod worker;

pub use report::set_error_handler;

/// log4rs's default deserializers plus every kind this crate adds.
pub fn deserializers() -> log4rs::config::Deserializers {
    #[allow(unused_mut)]
    let mut d = log4rs::config::Deserializers::default();
    #[cfg(feature = "syslog")]
    d.insert("syslog", syslog::SyslogAppenderDeserializer);
    d
}
