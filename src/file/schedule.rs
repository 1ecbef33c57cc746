//! When time-based rotation happens and how backups are named: CPython 3.13's
//! `TimedRotatingFileHandler.computeRollover`, its backup suffixes and `getFilesToDelete`, as
//! pure functions of a Unix time (no I/O, no clock), so they are tested without waiting.
//!
//! Where Python does arithmetic on Unix seconds and then patches daylight saving time by
//! ±3600 s, this works on local wall-clock time (chrono's `Local`) and maps the result back to
//! an instant: the next rollover is the first instant after the current one at which the local
//! wall clock reaches the target. Without a DST change both give the same instants and names;
//! across one, this never names two backups alike and never stalls (Python 3.13 does with
//! `when: H` across a change, and in zones whose shift is not one hour, see the module docs of
//! [`crate::file`]).

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, LocalResult, NaiveDateTime, TimeDelta, TimeZone, Timelike};

const DAY: i64 = 24 * 60 * 60;

/// When time-based rotation happens (Python's `when`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// `S`: every `interval` seconds; backups named `app.log.2026-12-01_13-45-07`.
    Second,
    /// `M`: every `interval` minutes; backups named `app.log.2026-12-01_13-45`.
    Minute,
    /// `H`: every `interval` hours; backups named `app.log.2026-12-01_13`.
    Hour,
    /// `D`: every `interval` days; backups named `app.log.2026-12-01`.
    Day,
    /// `midnight`: at midnight (or [`at_time`](crate::file::RotatingFileAppenderBuilder::at_time))
    /// every `interval` days; backups named `app.log.2026-12-01`.
    Midnight,
    /// `W0`..`W6`: weekly on that day (0 is Monday), at the end of the day or at `at_time`;
    /// backups named `app.log.2026-12-01`.
    Weekday(u8),
}

/// The words `when` accepts, for error messages.
pub(crate) const WHEN_VALUES: &str = "S, M, H, D, midnight, W0..W6 (W0 is Monday)";

impl FromStr for When {
    type Err = String;

    /// Python's spellings, case-insensitive as in Python.
    fn from_str(s: &str) -> Result<When, String> {
        let upper = s.trim().to_ascii_uppercase();
        Ok(match upper.as_str() {
            "S" => When::Second,
            "M" => When::Minute,
            "H" => When::Hour,
            "D" => When::Day,
            "MIDNIGHT" => When::Midnight,
            w if w.len() == 2 && w.starts_with('W') && (b'0'..=b'6').contains(&w.as_bytes()[1]) => {
                When::Weekday(w.as_bytes()[1] - b'0')
            }
            _ => return Err(format!("expected one of {WHEN_VALUES}, got {s:?}")),
        })
    }
}

impl fmt::Display for When {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            When::Second => f.write_str("S"),
            When::Minute => f.write_str("M"),
            When::Hour => f.write_str("H"),
            When::Day => f.write_str("D"),
            When::Midnight => f.write_str("midnight"),
            When::Weekday(d) => write!(f, "W{d}"),
        }
    }
}

impl When {
    /// Seconds in one unit of `interval` (Python's `self.interval` before multiplying).
    fn unit_secs(self) -> i64 {
        match self {
            When::Second => 1,
            When::Minute => 60,
            When::Hour => 60 * 60,
            When::Day | When::Midnight => DAY,
            When::Weekday(_) => 7 * DAY,
        }
    }

    /// Python's `self.suffix` (an strftime format).
    pub(crate) fn suffix_format(self) -> &'static str {
        match self {
            When::Second => "%Y-%m-%d_%H-%M-%S",
            When::Minute => "%Y-%m-%d_%H-%M",
            When::Hour => "%Y-%m-%d_%H",
            When::Day | When::Midnight | When::Weekday(_) => "%Y-%m-%d",
        }
    }

    /// True for `midnight` and `W0`..`W6`, the kinds that roll at a time of day.
    pub(crate) fn takes_at_time(self) -> bool {
        matches!(self, When::Midnight | When::Weekday(_))
    }
}

/// A time of day for `midnight` and `W0`..`W6` rollovers (Python's `atTime`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AtTime {
    hour: u32,
    minute: u32,
    second: u32,
}

impl AtTime {
    /// `None` unless `hour` < 24, `minute` < 60 and `second` < 60.
    pub fn new(hour: u32, minute: u32, second: u32) -> Option<AtTime> {
        (hour < 24 && minute < 60 && second < 60).then_some(AtTime {
            hour,
            minute,
            second,
        })
    }

    fn seconds(self) -> i64 {
        i64::from((self.hour * 60 + self.minute) * 60 + self.second)
    }
}

impl FromStr for AtTime {
    type Err = String;

    /// `"HH:MM"` or `"HH:MM:SS"`, 24-hour clock.
    fn from_str(s: &str) -> Result<AtTime, String> {
        let bad = || {
            format!(
                "expected a time of day \"HH:MM\" or \"HH:MM:SS\" from 00:00 to 23:59:59, got {s:?}"
            )
        };
        let parts: Vec<&str> = s.trim().split(':').collect();
        if !(2..=3).contains(&parts.len())
            || parts
                .iter()
                .any(|p| p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(bad());
        }
        let n = |i: usize| parts.get(i).map_or(Ok(0), |p| p.parse::<u32>());
        match (n(0), n(1), n(2)) {
            (Ok(h), Ok(m), Ok(sec)) => AtTime::new(h, m, sec).ok_or_else(bad),
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for AtTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}:{:02}", self.hour, self.minute, self.second)
    }
}

/// One interval of time-based rotation: it ends at `ends_at` (Unix seconds; a record at or after
/// it rolls the file over) and its backup is named with `label`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Period {
    pub(crate) ends_at: i64,
    pub(crate) label: String,
}

/// The settings of time-based rotation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Schedule {
    pub(crate) when: When,
    pub(crate) interval: u32,
    pub(crate) utc: bool,
    pub(crate) at_time: Option<AtTime>,
}

impl Schedule {
    /// Python's `computeRollover(t)` and the name of the backup that rollover makes: the period
    /// that `t` starts (`S`..`D`, where `t` is the start time: the file's mtime at start-up, the
    /// time of the previous rollover after) or lies in (`midnight`, `W0`..`W6`).
    pub(crate) fn period_from(&self, t: i64) -> Period {
        if self.utc {
            self.period_in(&chrono::Utc, t)
        } else {
            self.period_in(&chrono::Local, t)
        }
    }

    pub(crate) fn period_in<Tz: TimeZone>(&self, tz: &Tz, t: i64) -> Period {
        let now = local(tz, t);
        let interval = i64::from(self.interval.max(1));
        let (target, label_at) = match self.when {
            When::Midnight | When::Weekday(_) => {
                let target = self.next_time_of_day(now, interval);
                let start = target - TimeDelta::seconds(interval * self.when.unit_secs());
                (target, start)
            }
            _ => (
                now + TimeDelta::seconds(interval * self.when.unit_secs()),
                now,
            ),
        };
        Period {
            ends_at: first_instant_reaching(tz, target, t),
            label: label_at.format(self.when.suffix_format()).to_string(),
        }
    }

    /// `computeRollover` for `midnight` and `W0`..`W6`, on wall-clock time.
    fn next_time_of_day(&self, now: NaiveDateTime, interval: i64) -> NaiveDateTime {
        let seconds = i64::from(now.num_seconds_from_midnight());
        let rotate_at = self.at_time.map_or(DAY, AtTime::seconds);
        let mut until = rotate_at - seconds;
        let mut day = i64::from(now.weekday().num_days_from_monday());
        if until <= 0 {
            until += DAY;
            day = (day + 1) % 7;
        }
        let mut target = now + TimeDelta::seconds(until);
        match self.when {
            When::Weekday(rollover_day) => {
                let rollover_day = i64::from(rollover_day);
                if day != rollover_day {
                    let days_to_wait = if day < rollover_day {
                        rollover_day - day
                    } else {
                        6 - day + rollover_day + 1
                    };
                    target += TimeDelta::days(days_to_wait);
                }
                target + TimeDelta::days(7 * (interval - 1))
            }
            _ => target + TimeDelta::days(interval - 1),
        }
    }

    /// True when `suffix` (a backup's name after `app.log.`) is one this schedule makes:
    /// Python 3.13's `extMatch.fullmatch(suffix)`, plus `.N` for size-and-time backups when
    /// `numbered` and `.gz` when `gzipped`. Returns the sort key: (date part, N).
    pub(crate) fn backup_key<'a>(
        &self,
        suffix: &'a str,
        numbered: bool,
        gzipped: bool,
    ) -> Option<(&'a str, u64)> {
        let mut rest = suffix;
        if gzipped {
            rest = rest.strip_suffix(".gz").unwrap_or(rest);
        }
        let shape = self.when.suffix_format();
        // Each %Y is 4 digits, %m %d %H %M %S 2; everything else stands for itself.
        let width: usize = shape
            .split('%')
            .skip(1)
            .map(|p| if p.starts_with('Y') { 4 } else { 2 } + p.len() - 1)
            .sum();
        if rest.len() < width || !rest.is_char_boundary(width) {
            return None;
        }
        let (date, tail) = rest.split_at(width);
        if !matches_shape(date, shape) {
            return None;
        }
        if tail.is_empty() {
            return Some((date, 0));
        }
        let n = tail.strip_prefix('.').filter(|_| numbered)?;
        if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some((date, n.parse().ok()?))
    }
}

/// True when `text` has the shape of `format`: a digit where the format has a digit of
/// `%Y` / `%m` / `%d` / `%H` / `%M` / `%S`, the same character elsewhere (ASCII only, as
/// Python's `re.ASCII` `\d`).
fn matches_shape(text: &str, format: &str) -> bool {
    let mut expected = Vec::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c == '%' {
            let digits = if chars.next() == Some('Y') { 4 } else { 2 };
            expected.extend(std::iter::repeat_n(None, digits));
        } else {
            expected.push(Some(c));
        }
    }
    text.chars().count() == expected.len()
        && text.chars().zip(expected).all(|(c, e)| match e {
            None => c.is_ascii_digit(),
            Some(e) => c == e,
        })
}

/// The wall-clock time at Unix time `t` in `tz`.
fn local<Tz: TimeZone>(tz: &Tz, t: i64) -> NaiveDateTime {
    match tz.timestamp_opt(t, 0) {
        LocalResult::Single(d) | LocalResult::Ambiguous(d, _) => d.naive_local(),
        LocalResult::None => chrono::DateTime::from_timestamp(t, 0)
            .unwrap_or_default()
            .naive_utc(),
    }
}

/// The first instant after `after` at which the wall clock of `tz` reads `target`: the earlier
/// of two when the clock is set back (an hour that happens twice starts the first time). A
/// `target` the clock skips (02:30 when it jumps from 02:00 to 03:00) is read with the offset
/// before the jump (03:30), as Python's `datetime.timestamp()` reads it.
fn first_instant_reaching<Tz: TimeZone>(tz: &Tz, target: NaiveDateTime, after: i64) -> i64 {
    // Each reading is checked against the wall clock: chrono also offers the instant of a
    // change itself under the offset it ends (02:00 EDT when clocks go back at 02:00).
    let mut readings: Vec<i64> = match tz.from_local_datetime(&target) {
        LocalResult::Single(d) => vec![d.timestamp()],
        LocalResult::Ambiguous(a, b) => vec![a.timestamp(), b.timestamp()],
        LocalResult::None => Vec::new(),
    };
    readings.retain(|&t| local(tz, t) == target);
    readings.sort_unstable();
    if let Some(last) = readings.last() {
        return readings
            .iter()
            .copied()
            .find(|&t| t > after)
            .unwrap_or((*last).max(after + 1));
    }
    // A skipped time: find the jump (the wall clock rises steadily around it), then the offset
    // before it.
    let naive_utc = target.and_utc().timestamp();
    let (mut lo, mut hi) = (naive_utc - DAY, naive_utc + DAY);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if local(tz, mid) >= target {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    let offset_before = local(tz, lo).and_utc().timestamp() - lo;
    (naive_utc - offset_before).max(after + 1)
}

#[cfg(test)]
mod tests;
