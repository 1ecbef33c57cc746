//! The one sentence every appender uses to say that records never got where they were going:
//! `N records were lost [between A and B] [cause]` (`1 record was lost ..` for one). The rotating file writes it into the file,
//! syslog sends it as a warning, smtp puts it in the mail, the Windows Event Log writes it as a
//! warning event; all of them report it to stderr too, once per streak (see
//! [`crate::report::FailureStreak`]). Callers add what surrounds it (`appender "x": `,
//! `shutting down: `, `; sending works again`).

// Each appender uses the causes that are its own (syslog's, smtp's): builds with fewer features
// leave some unused.
#![cfg_attr(not(all(feature = "smtp", feature = "syslog")), allow(dead_code))]

use std::fmt::{self, Display};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::count::Count;

/// How many records were lost, when, and why; its `Display` is the sentence.
///
/// ```text
/// 42 records were lost between 2026-11-23 03:31:02 and 2026-11-23 03:31:09 because writing to logs/app.log failed: No space left on device (os error 28)
/// 150 syslog records were lost: the buffer of 100 records was full while tcp://h:601 could not be reached
/// ```
pub(crate) struct LostRecords<'a> {
    count: u64,
    /// What a record is called, in the singular: `record`, `syslog record`.
    what: &'a str,
    /// When the streak started and ended, shown in local time.
    between: Option<(SystemTime, SystemTime)>,
    cause: Cause<'a>,
}

/// Why records were lost: the end of the sentence.
pub(crate) enum Cause<'a> {
    /// Nothing said (the sentence ends after the count, or after `between`).
    Unsaid,
    /// ` because writing to {target} failed: {error}`
    WriteFailed {
        target: &'a dyn Display,
        error: &'a dyn Display,
    },
    /// ` while {target} was not taking them`
    NotTaken { target: &'a dyn Display },
    /// `: the buffer of {capacity} {unit}s was full while {target} could not be reached`
    BufferFull {
        capacity: usize,
        /// What the buffer holds, in the singular: `record`, `event`.
        unit: &'a str,
        target: &'a dyn Display,
    },
    /// ` because the {queue} queue was full (on_full: drop)`
    QueueFull { queue: &'a str },
}

impl<'a> LostRecords<'a> {
    /// `count` records, called `what` in the singular (`record`, `syslog record`), lost
    /// because of `cause`.
    pub(crate) fn new(count: u64, what: &'a str, cause: Cause<'a>) -> Self {
        LostRecords {
            count,
            what,
            between: None,
            cause,
        }
    }

    /// Says when: `between {since} and {until}`, in local time to the second.
    pub(crate) fn between(mut self, since: SystemTime, until: SystemTime) -> Self {
        self.between = Some((since, until));
        self
    }
}

impl Display for LostRecords<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = Count::new(self.count, self.what);
        write!(f, "{count} {} lost", count.were())?;
        if let Some((since, until)) = self.between {
            write!(f, " between {} and {}", Local(since), Local(until))?;
        }
        match &self.cause {
            Cause::Unsaid => Ok(()),
            Cause::WriteFailed { target, error } => {
                write!(f, " because writing to {target} failed: {error}")
            }
            Cause::NotTaken { target } => write!(f, " while {target} was not taking them"),
            Cause::BufferFull {
                capacity,
                unit,
                target,
            } => {
                let capacity = Count::new(*capacity as u64, unit);
                write!(
                    f,
                    ": the buffer of {capacity} was full while {target} could not be reached"
                )
            }
            Cause::QueueFull { queue } => {
                write!(f, " because the {queue} queue was full (on_full: drop)")
            }
        }
    }
}

/// A time as the lost-records sentence shows it: local time, to the second (nothing for a time
/// before 1970 or out of chrono's range).
struct Local(SystemTime);

impl Display for Local {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let since_epoch = self.0.duration_since(UNIX_EPOCH).ok();
        let utc = since_epoch.and_then(|d| {
            chrono::DateTime::from_timestamp(i64::try_from(d.as_secs()).ok()?, d.subsec_nanos())
        });
        match utc {
            Some(t) => write!(
                f,
                "{}",
                t.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M:%S")
            ),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn local(t: SystemTime) -> String {
        chrono::DateTime::<chrono::Local>::from(t)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    }

    #[test]
    fn the_file_notice_says_when_and_why() {
        let since = UNIX_EPOCH + Duration::from_millis(1_795_000_000_250);
        let until = since + Duration::from_secs(7);
        let path = std::path::Path::new("logs/app.log").display();
        let lost = LostRecords::new(
            42,
            "record",
            Cause::WriteFailed {
                target: &path,
                error: &"No space left on device (os error 28)",
            },
        )
        .between(since, until);
        assert_eq!(
            lost.to_string(),
            format!(
                "42 records were lost between {} and {} because writing to logs/app.log failed: \
                 No space left on device (os error 28)",
                local(since),
                local(until)
            )
        );
        let when_only = LostRecords::new(3, "record", Cause::Unsaid).between(since, until);
        assert_eq!(
            when_only.to_string(),
            format!(
                "3 records were lost between {} and {}",
                local(since),
                local(until)
            )
        );
    }

    #[test]
    fn the_syslog_notices_name_the_address() {
        assert_eq!(
            LostRecords::new(
                20,
                "syslog record",
                Cause::NotTaken {
                    target: &"unix:/dev/log"
                }
            )
            .to_string(),
            "20 syslog records were lost while unix:/dev/log was not taking them"
        );
        assert_eq!(
            LostRecords::new(
                150,
                "syslog record",
                Cause::BufferFull {
                    capacity: 100,
                    unit: "record",
                    target: &"tcp://h:601"
                }
            )
            .to_string(),
            "150 syslog records were lost: the buffer of 100 records was full while tcp://h:601 \
             could not be reached"
        );
    }

    #[test]
    fn the_mail_says_which_queue_was_full() {
        assert_eq!(
            LostRecords::new(4, "context record", Cause::QueueFull { queue: "mail" }).to_string(),
            "4 context records were lost because the mail queue was full (on_full: drop)"
        );
    }

    #[test]
    fn one_record_was_lost() {
        assert_eq!(
            LostRecords::new(1, "syslog record", Cause::QueueFull { queue: "syslog" }).to_string(),
            "1 syslog record was lost because the syslog queue was full (on_full: drop)"
        );
        assert_eq!(
            LostRecords::new(
                1,
                "record",
                Cause::BufferFull {
                    capacity: 1,
                    unit: "record",
                    target: &"tcp://h:601"
                }
            )
            .to_string(),
            "1 record was lost: the buffer of 1 record was full while tcp://h:601 could not be \
             reached"
        );
    }

    #[test]
    fn a_time_before_1970_is_left_out_rather_than_wrong() {
        let t = UNIX_EPOCH - Duration::from_millis(1500);
        assert_eq!(Local(t).to_string(), "");
    }
}
