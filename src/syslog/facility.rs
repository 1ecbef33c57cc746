//! Syslog facilities (by name, as in `syslog.conf` and Python's `SysLogHandler`) and severities
//! (from the record's level), and the PRI value they make.
//!
//! Written here rather than taken from the `syslog` crate: its `Facility` lacks the names
//! `security`, `console` and `solaris-cron`, has no serde support, and its `Severity` carries no
//! mapping from `log::Level`. The tables are small and fixed by RFC 5424, section 6.2.1.

use serde::Deserialize;

/// The facility of every record an appender sends (RFC 5424 codes 0-23). YAML names are
/// lowercase: `kern`, `user` (the default), `mail`, `daemon`, `auth`, `syslog`, `lpr`, `news`,
/// `uucp`, `cron`, `authpriv`, `ftp`, `ntp`, `security` (alias `audit`), `console` (alias
/// `alert`), `solaris-cron`, `local0` .. `local7`.
///
/// ```
/// use log4rs_appenders::syslog::Facility;
/// assert_eq!(Facility::Local0.code(), 16);
/// assert_eq!("local7".parse::<Facility>(), Ok(Facility::Local7));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum Facility {
    Kern,
    #[default]
    User,
    Mail,
    Daemon,
    Auth,
    Syslog,
    Lpr,
    News,
    Uucp,
    Cron,
    Authpriv,
    Ftp,
    Ntp,
    #[serde(alias = "audit")]
    Security,
    #[serde(alias = "alert")]
    Console,
    #[serde(rename = "solaris-cron", alias = "solaris_cron")]
    SolarisCron,
    Local0,
    Local1,
    Local2,
    Local3,
    Local4,
    Local5,
    Local6,
    Local7,
}

const FACILITIES: [(&str, Facility); 24] = [
    ("kern", Facility::Kern),
    ("user", Facility::User),
    ("mail", Facility::Mail),
    ("daemon", Facility::Daemon),
    ("auth", Facility::Auth),
    ("syslog", Facility::Syslog),
    ("lpr", Facility::Lpr),
    ("news", Facility::News),
    ("uucp", Facility::Uucp),
    ("cron", Facility::Cron),
    ("authpriv", Facility::Authpriv),
    ("ftp", Facility::Ftp),
    ("ntp", Facility::Ntp),
    ("security", Facility::Security),
    ("console", Facility::Console),
    ("solaris-cron", Facility::SolarisCron),
    ("local0", Facility::Local0),
    ("local1", Facility::Local1),
    ("local2", Facility::Local2),
    ("local3", Facility::Local3),
    ("local4", Facility::Local4),
    ("local5", Facility::Local5),
    ("local6", Facility::Local6),
    ("local7", Facility::Local7),
];

impl Facility {
    /// The numeric code (RFC 5424 table 1): `kern` 0 .. `local7` 23.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The lowercase name used in configs.
    pub fn name(self) -> &'static str {
        FACILITIES[self as usize].0
    }
}

impl std::str::FromStr for Facility {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let lower = s.to_ascii_lowercase();
        let alias = match lower.as_str() {
            "audit" => "security",
            "alert" => "console",
            "solaris_cron" => "solaris-cron",
            other => other,
        };
        FACILITIES
            .iter()
            .find(|(name, _)| *name == alias)
            .map(|(_, f)| *f)
            .ok_or_else(|| {
                let names: Vec<&str> = FACILITIES.iter().map(|(n, _)| *n).collect();
                format!(
                    "unknown facility `{s}`, expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// Syslog severity (RFC 5424 codes 0-7). Records map as: error -> `Err` (3), warn -> `Warning`
/// (4), info -> `Info` (6), debug and trace -> `Debug` (7).
///
/// ```
/// use log4rs_appenders::syslog::{Facility, Severity};
/// let s = Severity::from(log::Level::Warn);
/// assert_eq!(s, Severity::Warning);
/// assert_eq!(s.pri(Facility::Local0), 16 * 8 + 4);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Severity {
    Emerg = 0,
    Alert = 1,
    Crit = 2,
    Err = 3,
    Warning = 4,
    Notice = 5,
    Info = 6,
    Debug = 7,
}

impl Severity {
    /// The numeric code, 0 (emerg) .. 7 (debug).
    pub fn code(self) -> u8 {
        self as u8
    }

    /// PRI = facility * 8 + severity (RFC 5424 section 6.2.1).
    pub fn pri(self, facility: Facility) -> u8 {
        facility.code() * 8 + self.code()
    }
}

impl From<log::Level> for Severity {
    fn from(level: log::Level) -> Self {
        match level {
            log::Level::Error => Severity::Err,
            log::Level::Warn => Severity::Warning,
            log::Level::Info => Severity::Info,
            log::Level::Debug | log::Level::Trace => Severity::Debug,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facility_names_and_codes_follow_rfc_5424() {
        for (i, (name, f)) in FACILITIES.iter().enumerate() {
            assert_eq!(f.code() as usize, i);
            assert_eq!(f.name(), *name);
            assert_eq!(name.parse::<Facility>().unwrap(), *f);
        }
        assert_eq!("AUDIT".parse::<Facility>(), Ok(Facility::Security));
        assert!("local8".parse::<Facility>().unwrap_err().contains("local7"));
    }

    #[test]
    fn levels_map_to_severities_and_pri() {
        assert_eq!(Severity::from(log::Level::Error).pri(Facility::User), 11);
        assert_eq!(Severity::from(log::Level::Info).pri(Facility::Kern), 6);
        assert_eq!(Severity::from(log::Level::Trace).pri(Facility::Local7), 191);
    }
}
