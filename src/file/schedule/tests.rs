//! CPython 3.13's own `test_logging` cases for `TimedRotatingFileHandler.computeRollover`
//! (`test_compute_rollover_*`, `test_compute_rollover_daily_attime`,
//! `test_compute_rollover_weekly_attime`, `test_compute_rollover_MIDNIGHT_local`,
//! `test_compute_rollover_W6_local`, `test_invalid`), ported; then where we differ on purpose
//! (DST with `when: H`, a 30-minute DST shift).
//!
//! The local-time cases need a time zone: they run in a child process (this test binary again)
//! with `TZ` set, since chrono's `Local` reads `TZ` once per process.

use std::process::Command;

use chrono::{Local, NaiveDate, TimeZone};

use super::*;

const HOUR: i64 = 3600;

fn schedule(when: &str, interval: u32, utc: bool, at: Option<&str>) -> Schedule {
    Schedule {
        when: when.parse().unwrap(),
        interval,
        utc,
        at_time: at.map(|a| a.parse().unwrap()),
    }
}

fn rollover(s: &Schedule, t: i64) -> i64 {
    s.period_from(t).ends_at
}

// ---------------------------------------------------------------------------------------------
// UTC: test_compute_rollover_{S,M,H,D,MIDNIGHT,W0}[_interval]

#[test]
fn compute_rollover_from_the_epoch_as_cpython_for_every_when_and_interval() {
    // The epoch is a Thursday; W0 (Monday) rolls at the end of Monday: 4 days + 24 hours.
    for (when, unit) in [
        ("S", 1),
        ("M", 60),
        ("H", HOUR),
        ("D", DAY),
        ("MIDNIGHT", DAY),
        ("W0", 4 * DAY + 24 * HOUR),
    ] {
        for interval in [1, 3] {
            let expected = if when.starts_with('W') {
                unit + 7 * DAY * (i64::from(interval) - 1)
            } else {
                unit * i64::from(interval)
            };
            let s = schedule(when, interval, true, None);
            assert_eq!(rollover(&s, 0), expected, "when={when} interval={interval}");
        }
    }
}

#[test]
fn compute_rollover_daily_attime() {
    let s = schedule("MIDNIGHT", 1, true, None);
    assert_eq!(rollover(&s, 0), 24 * HOUR);
    assert_eq!(rollover(&s, 24 * HOUR - 1), 24 * HOUR);
    assert_eq!(rollover(&s, 24 * HOUR), 48 * HOUR);
    assert_eq!(rollover(&s, 25 * HOUR), 48 * HOUR);
    let s = schedule("MIDNIGHT", 1, true, Some("12:00:00"));
    assert_eq!(rollover(&s, 0), 12 * HOUR);
    assert_eq!(rollover(&s, 12 * HOUR - 1), 12 * HOUR);
    assert_eq!(rollover(&s, 12 * HOUR), 36 * HOUR);
    assert_eq!(rollover(&s, 13 * HOUR), 36 * HOUR);
}

#[test]
fn compute_rollover_weekly_attime() {
    // CPython uses today; any day works, so every day of one week is tried.
    for today in (0..7).map(|d| 20_000 * DAY + d * DAY) {
        let wday = i64::from(local(&chrono::Utc, today).weekday().num_days_from_monday());
        for day in 0..7 {
            let s = schedule(&format!("W{day}"), 1, true, Some("12:00"));
            let days = if wday > day {
                7 - wday + day
            } else {
                day - wday
            };
            let mut expected = today + days * DAY + 12 * HOUR;
            assert_eq!(rollover(&s, today), expected, "W{day} wday={wday}");
            assert_eq!(rollover(&s, today + 12 * HOUR - 1), expected);
            if day == wday {
                // Goes into the following week.
                expected += 7 * DAY;
            }
            assert_eq!(rollover(&s, today + 12 * HOUR), expected);
            assert_eq!(rollover(&s, today + 13 * HOUR), expected);
        }
    }
}

#[test]
fn invalid_when_and_at_time_are_refused_naming_the_allowed_values() {
    // test_invalid: when='X', 'W', 'W7'; and an atTime that is no time of day.
    for bad in ["X", "W", "W7", "hourly", "", "W-1", "midnight2"] {
        let e = bad.parse::<When>().unwrap_err();
        assert!(e.contains("S, M, H, D, midnight, W0..W6"), "{bad}: {e}");
    }
    for good in ["s", "m", "h", "d", "Midnight", "w0", "W6"] {
        assert!(good.parse::<When>().is_ok(), "{good}");
    }
    for bad in [
        "25:00",
        "12:60",
        "12",
        "1:00",
        "12:00:60",
        "noon",
        "12:00:00:00",
    ] {
        let e = bad.parse::<AtTime>().unwrap_err();
        assert!(e.contains("\"HH:MM\""), "{bad}: {e}");
    }
    assert_eq!(
        "03:00".parse::<AtTime>().unwrap(),
        AtTime::new(3, 0, 0).unwrap()
    );
    assert_eq!(
        "23:59:59".parse::<AtTime>().unwrap().to_string(),
        "23:59:59"
    );
}

// ---------------------------------------------------------------------------------------------
// Names: the suffix names the start of the interval

#[test]
fn backups_are_named_for_the_start_of_the_interval_with_cpythons_suffixes() {
    let utc = |h, m, s| {
        NaiveDate::from_ymd_opt(2026, 12, 1)
            .unwrap()
            .and_hms_opt(h, m, s)
            .unwrap()
            .and_utc()
            .timestamp()
    };
    let t = utc(12, 15, 7); // a Tuesday
    for (when, label) in [
        ("S", "2026-12-01_12-15-07"),
        ("M", "2026-12-01_12-15"),
        ("H", "2026-12-01_12"),
        ("D", "2026-12-01"),
        ("MIDNIGHT", "2026-12-01"),
        // W0 rolls at the end of Monday 2026-12-07; its interval began 2026-11-30 24:00.
        ("W0", "2026-12-01"),
    ] {
        assert_eq!(
            schedule(when, 1, true, None).period_from(t).label,
            label,
            "{when}"
        );
    }
    // With at_time 03:00, a record at 01:00 belongs to the day that began yesterday at 03:00.
    let s = schedule("MIDNIGHT", 1, true, Some("03:00"));
    let one_am = utc(1, 0, 0);
    assert_eq!(s.period_from(one_am).label, "2026-11-30");
    assert_eq!(s.period_from(one_am).ends_at, one_am + 2 * HOUR);
}

#[test]
fn backup_names_match_as_cpython_3_13s_fullmatch_and_nothing_else() {
    let s = schedule("MIDNIGHT", 1, true, None);
    assert_eq!(
        s.backup_key("2026-12-01", false, false),
        Some(("2026-12-01", 0))
    );
    for other in [
        "2026-12-1",
        "2026-12-01.1",
        "2026-12-01.gz",
        "x2026-12-01",
        "2026-12-01x",
        "2026-12-01_10",
        "２０２６-12-01",
    ] {
        assert_eq!(s.backup_key(other, false, false), None, "{other}");
    }
    assert_eq!(
        s.backup_key("2026-12-01.12", true, false),
        Some(("2026-12-01", 12))
    );
    assert_eq!(
        s.backup_key("2026-12-01.2.gz", true, true),
        Some(("2026-12-01", 2))
    );
    assert_eq!(
        s.backup_key("2026-12-01.gz", false, true),
        Some(("2026-12-01", 0))
    );
    assert_eq!(s.backup_key("2026-12-01.", true, false), None);
    let h = schedule("H", 1, true, None);
    assert_eq!(
        h.backup_key("2026-12-01_10", false, false),
        Some(("2026-12-01_10", 0))
    );
    assert_eq!(h.backup_key("2026-12-01", false, false), None);
}

// ---------------------------------------------------------------------------------------------
// Local time, in a child process with TZ set

/// Runs `case` (a function below, by name) in this test binary again with `TZ=tz`.
fn in_zone(tz: &str, case: &str) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "file::schedule::tests::zone_child",
            "--include-ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("TZ", tz)
        .env("SCHEDULE_TEST_CASE", case)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{case} in {tz} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The child must really have run the case (not filtered it out).
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 passed"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
#[ignore = "run by other tests as a child process with TZ set"]
fn zone_child() {
    match std::env::var("SCHEDULE_TEST_CASE").as_deref() {
        Ok("midnight_local") => midnight_local(),
        Ok("w6_local") => w6_local(),
        Ok("berlin_hours") => berlin_hours(),
        Ok("lord_howe") => lord_howe(),
        Ok(other) => panic!("unknown case {other}"),
        Err(_) => {}
    }
}

/// A local wall-clock time; `fold` 1 is the second of two equal times (Python's `fold`).
fn dt(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, fold: u8) -> i64 {
    let naive = NaiveDate::from_ymd_opt(y, mo, d)
        .unwrap()
        .and_hms_opt(h, mi, s)
        .unwrap();
    let r = Local.from_local_datetime(&naive);
    let d = if fold == 1 { r.latest() } else { r.earliest() };
    d.unwrap_or_else(|| panic!("{naive} does not exist here"))
        .timestamp()
}

fn check(s: &Schedule, current: i64, expected: i64) {
    let actual = rollover(s, current);
    assert_eq!(
        actual,
        expected,
        "from {} expected {} got {} ({:+} s)",
        Local.timestamp_opt(current, 0).unwrap(),
        Local.timestamp_opt(expected, 0).unwrap(),
        Local.timestamp_opt(actual, 0).unwrap(),
        actual - expected
    );
}

#[test]
#[cfg_attr(
    not(unix),
    ignore = "TZ selects the local zone only on unix; Windows reads it from the system"
)]
fn compute_rollover_midnight_local() {
    in_zone("America/New_York", "midnight_local");
}

/// test_compute_rollover_MIDNIGHT_local (CPython runs it in EST+05EDT,M3.2.0,M11.1.0, which is
/// New York's rule in 2012): DST begins 2012-03-11 02:00 and ends 2012-11-04 02:00.
fn midnight_local() {
    let t = |y, mo, d, h, mi, s| dt(y, mo, d, h, mi, s, 0);
    let s = schedule("MIDNIGHT", 1, false, None);
    check(&s, t(2012, 3, 10, 23, 59, 59), t(2012, 3, 11, 0, 0, 0));
    check(&s, t(2012, 3, 11, 0, 0, 0), t(2012, 3, 12, 0, 0, 0));
    check(&s, t(2012, 3, 11, 1, 0, 0), t(2012, 3, 12, 0, 0, 0));
    check(&s, t(2012, 11, 3, 23, 59, 59), t(2012, 11, 4, 0, 0, 0));
    check(&s, t(2012, 11, 4, 0, 0, 0), t(2012, 11, 5, 0, 0, 0));
    check(&s, t(2012, 11, 4, 1, 0, 0), t(2012, 11, 5, 0, 0, 0));

    let s = schedule("MIDNIGHT", 1, false, Some("12:00:00"));
    check(&s, t(2012, 3, 10, 11, 59, 59), t(2012, 3, 10, 12, 0, 0));
    check(&s, t(2012, 3, 10, 12, 0, 0), t(2012, 3, 11, 12, 0, 0));
    check(&s, t(2012, 3, 10, 13, 0, 0), t(2012, 3, 11, 12, 0, 0));
    check(&s, t(2012, 11, 3, 11, 59, 59), t(2012, 11, 3, 12, 0, 0));
    check(&s, t(2012, 11, 3, 12, 0, 0), t(2012, 11, 4, 12, 0, 0));
    check(&s, t(2012, 11, 3, 13, 0, 0), t(2012, 11, 4, 12, 0, 0));

    let s = schedule("MIDNIGHT", 1, false, Some("02:00:00"));
    check(&s, t(2012, 3, 10, 1, 59, 59), t(2012, 3, 10, 2, 0, 0));
    // 2:00:00 is the same as 3:00:00 at 2012-3-11.
    check(&s, t(2012, 3, 10, 2, 0, 0), t(2012, 3, 11, 3, 0, 0));
    check(&s, t(2012, 3, 10, 3, 0, 0), t(2012, 3, 11, 3, 0, 0));
    check(&s, t(2012, 3, 11, 1, 59, 59), t(2012, 3, 11, 3, 0, 0));
    // No time between 2:00:00 and 3:00:00 at 2012-3-11.
    check(&s, t(2012, 3, 11, 3, 0, 0), t(2012, 3, 12, 2, 0, 0));
    check(&s, t(2012, 3, 11, 4, 0, 0), t(2012, 3, 12, 2, 0, 0));
    check(&s, t(2012, 11, 3, 1, 59, 59), t(2012, 11, 3, 2, 0, 0));
    check(&s, t(2012, 11, 3, 2, 0, 0), t(2012, 11, 4, 2, 0, 0));
    check(&s, t(2012, 11, 3, 3, 0, 0), t(2012, 11, 4, 2, 0, 0));
    // 1:00:00-2:00:00 is repeated twice at 2012-11-4.
    check(&s, t(2012, 11, 4, 1, 59, 59), t(2012, 11, 4, 2, 0, 0));
    check(&s, dt(2012, 11, 4, 1, 59, 59, 1), t(2012, 11, 4, 2, 0, 0));
    check(&s, t(2012, 11, 4, 2, 0, 0), t(2012, 11, 5, 2, 0, 0));
    check(&s, t(2012, 11, 4, 3, 0, 0), t(2012, 11, 5, 2, 0, 0));

    let s = schedule("MIDNIGHT", 1, false, Some("02:30:00"));
    check(&s, t(2012, 3, 10, 2, 29, 59), t(2012, 3, 10, 2, 30, 0));
    // No time 2:30:00 at 2012-3-11.
    check(&s, t(2012, 3, 10, 2, 30, 0), t(2012, 3, 11, 3, 30, 0));
    check(&s, t(2012, 3, 10, 3, 0, 0), t(2012, 3, 11, 3, 30, 0));
    check(&s, t(2012, 3, 11, 1, 59, 59), t(2012, 3, 11, 3, 30, 0));
    check(&s, t(2012, 3, 11, 3, 0, 0), t(2012, 3, 12, 2, 30, 0));
    check(&s, t(2012, 3, 11, 3, 30, 0), t(2012, 3, 12, 2, 30, 0));
    check(&s, t(2012, 11, 3, 2, 29, 59), t(2012, 11, 3, 2, 30, 0));
    check(&s, t(2012, 11, 3, 2, 30, 0), t(2012, 11, 4, 2, 30, 0));
    check(&s, t(2012, 11, 3, 3, 0, 0), t(2012, 11, 4, 2, 30, 0));
    check(&s, t(2012, 11, 4, 1, 59, 59), t(2012, 11, 4, 2, 30, 0));
    check(&s, dt(2012, 11, 4, 1, 59, 59, 1), t(2012, 11, 4, 2, 30, 0));
    check(&s, t(2012, 11, 4, 2, 30, 0), t(2012, 11, 5, 2, 30, 0));
    check(&s, t(2012, 11, 4, 3, 0, 0), t(2012, 11, 5, 2, 30, 0));

    let s = schedule("MIDNIGHT", 1, false, Some("01:30:00"));
    check(&s, t(2012, 3, 11, 1, 29, 59), t(2012, 3, 11, 1, 30, 0));
    check(&s, t(2012, 3, 11, 1, 30, 0), t(2012, 3, 12, 1, 30, 0));
    check(&s, t(2012, 3, 11, 1, 59, 59), t(2012, 3, 12, 1, 30, 0));
    // No time between 2:00:00 and 3:00:00 at 2012-3-11.
    check(&s, t(2012, 3, 11, 3, 0, 0), t(2012, 3, 12, 1, 30, 0));
    check(&s, t(2012, 3, 11, 3, 30, 0), t(2012, 3, 12, 1, 30, 0));
    check(&s, t(2012, 11, 4, 1, 0, 0), t(2012, 11, 4, 1, 30, 0));
    check(&s, t(2012, 11, 4, 1, 29, 59), t(2012, 11, 4, 1, 30, 0));
    check(&s, t(2012, 11, 4, 1, 30, 0), t(2012, 11, 5, 1, 30, 0));
    check(&s, t(2012, 11, 4, 1, 59, 59), t(2012, 11, 5, 1, 30, 0));
    // It is weird, but the rollover date jumps back from 2012-11-5 to 2012-11-4.
    check(
        &s,
        dt(2012, 11, 4, 1, 0, 0, 1),
        dt(2012, 11, 4, 1, 30, 0, 1),
    );
    check(
        &s,
        dt(2012, 11, 4, 1, 29, 59, 1),
        dt(2012, 11, 4, 1, 30, 0, 1),
    );
    check(&s, dt(2012, 11, 4, 1, 30, 0, 1), t(2012, 11, 5, 1, 30, 0));
    check(&s, dt(2012, 11, 4, 1, 59, 59, 1), t(2012, 11, 5, 1, 30, 0));
    check(&s, t(2012, 11, 4, 2, 0, 0), t(2012, 11, 5, 1, 30, 0));
    check(&s, t(2012, 11, 4, 2, 30, 0), t(2012, 11, 5, 1, 30, 0));
}

#[test]
#[cfg_attr(
    not(unix),
    ignore = "TZ selects the local zone only on unix; Windows reads it from the system"
)]
fn compute_rollover_w6_local() {
    in_zone("America/New_York", "w6_local");
}

/// test_compute_rollover_W6_local (2012-03-04 and 2012-10-28 are Sundays).
fn w6_local() {
    let t = |y, mo, d, h, mi, s| dt(y, mo, d, h, mi, s, 0);
    let s = schedule("W6", 1, false, None);
    check(&s, t(2012, 3, 4, 23, 59, 59), t(2012, 3, 5, 0, 0, 0));
    check(&s, t(2012, 3, 5, 0, 0, 0), t(2012, 3, 12, 0, 0, 0));
    check(&s, t(2012, 3, 5, 1, 0, 0), t(2012, 3, 12, 0, 0, 0));
    check(&s, t(2012, 10, 28, 23, 59, 59), t(2012, 10, 29, 0, 0, 0));
    check(&s, t(2012, 10, 29, 0, 0, 0), t(2012, 11, 5, 0, 0, 0));
    check(&s, t(2012, 10, 29, 1, 0, 0), t(2012, 11, 5, 0, 0, 0));

    let s = schedule("W6", 1, false, Some("00:00:00"));
    check(&s, t(2012, 3, 4, 23, 59, 59), t(2012, 3, 11, 0, 0, 0));
    check(&s, t(2012, 3, 11, 0, 0, 0), t(2012, 3, 18, 0, 0, 0));
    check(&s, t(2012, 3, 11, 1, 0, 0), t(2012, 3, 18, 0, 0, 0));
    check(&s, t(2012, 10, 28, 23, 59, 59), t(2012, 11, 4, 0, 0, 0));
    check(&s, t(2012, 11, 4, 0, 0, 0), t(2012, 11, 11, 0, 0, 0));
    check(&s, t(2012, 11, 4, 1, 0, 0), t(2012, 11, 11, 0, 0, 0));

    let s = schedule("W6", 1, false, Some("12:00:00"));
    check(&s, t(2012, 3, 4, 11, 59, 59), t(2012, 3, 4, 12, 0, 0));
    check(&s, t(2012, 3, 4, 12, 0, 0), t(2012, 3, 11, 12, 0, 0));
    check(&s, t(2012, 3, 4, 13, 0, 0), t(2012, 3, 11, 12, 0, 0));
    check(&s, t(2012, 10, 28, 11, 59, 59), t(2012, 10, 28, 12, 0, 0));
    check(&s, t(2012, 10, 28, 12, 0, 0), t(2012, 11, 4, 12, 0, 0));
    check(&s, t(2012, 10, 28, 13, 0, 0), t(2012, 11, 4, 12, 0, 0));

    let s = schedule("W6", 1, false, Some("02:00:00"));
    check(&s, t(2012, 3, 4, 1, 59, 59), t(2012, 3, 4, 2, 0, 0));
    check(&s, t(2012, 3, 4, 2, 0, 0), t(2012, 3, 11, 3, 0, 0));
    check(&s, t(2012, 3, 4, 3, 0, 0), t(2012, 3, 11, 3, 0, 0));
    check(&s, t(2012, 3, 11, 1, 59, 59), t(2012, 3, 11, 3, 0, 0));
    check(&s, t(2012, 3, 11, 3, 0, 0), t(2012, 3, 18, 2, 0, 0));
    check(&s, t(2012, 3, 11, 4, 0, 0), t(2012, 3, 18, 2, 0, 0));
    check(&s, t(2012, 11, 4, 1, 59, 59), t(2012, 11, 4, 2, 0, 0));
    check(&s, dt(2012, 11, 4, 1, 59, 59, 1), t(2012, 11, 4, 2, 0, 0));
    check(&s, t(2012, 11, 4, 2, 0, 0), t(2012, 11, 11, 2, 0, 0));
}

// ---------------------------------------------------------------------------------------------
// Where CPython 3.13 is wrong and we are not

#[test]
#[cfg_attr(
    not(unix),
    ignore = "TZ selects the local zone only on unix; Windows reads it from the system"
)]
fn hourly_rotation_across_both_berlin_dst_changes_names_every_hour_once_and_never_stalls() {
    in_zone("Europe/Berlin", "berlin_hours");
}

/// Python 3.13 names the interval after the spring change `_03` twice (the second rollover
/// then finds the name taken and never rotates again) and repeats `_02` in the autumn.
fn berlin_hours() {
    for (start, rollovers) in [
        // 2026-03-29 02:00 CET -> 03:00 CEST; 2026-10-25 03:00 CEST -> 02:00 CET.
        (dt(2026, 3, 28, 23, 30, 0, 0), 30),
        (dt(2026, 10, 24, 23, 30, 0, 0), 29),
    ] {
        let s = schedule("H", 1, false, None);
        let (mut t, mut labels) = (start, Vec::new());
        // Records arrive every minute; each rollover happens at the first record at or after
        // the boundary, and the next period starts there, as in Python.
        let mut period = s.period_from(t);
        while t < start + 30 * HOUR {
            t += 60;
            if t >= period.ends_at {
                labels.push(period.label.clone());
                period = s.period_from(t);
            }
        }
        let mut unique = labels.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(
            unique.len(),
            labels.len(),
            "every backup name once: {labels:?}"
        );
        assert!(!labels.contains(&"2026-03-29_02".to_string()), "{labels:?}");
        // One rollover per real hour in spring (the skipped hour has no interval), one per
        // wall-clock hour in autumn (the repeated hour 02 is one interval of two real hours).
        assert_eq!(labels.len(), rollovers, "{labels:?}");
    }
}

#[test]
#[cfg_attr(
    not(unix),
    ignore = "TZ selects the local zone only on unix; Windows reads it from the system"
)]
fn midnight_in_a_zone_with_a_30_minute_dst_shift_rotates_once_a_day_at_midnight() {
    in_zone("Australia/Lord_Howe", "lord_howe");
}

/// Lord Howe Island moves its clocks by 30 minutes (2026-04-05 02:00 -> 01:30, 2026-10-04
/// 02:00 -> 02:30). Python 3.13 corrects by a whole hour and so rotates at 23:30 and stalls.
fn lord_howe() {
    let s = schedule("MIDNIGHT", 1, false, None);
    for (y, mo, first_day) in [(2026, 4, 3), (2026, 10, 2)] {
        let mut t = dt(y, mo, first_day, 12, 0, 0, 0);
        for day in 0..4 {
            let period = s.period_from(t);
            let midnight = dt(y, mo, first_day + day + 1, 0, 0, 0, 0);
            assert_eq!(period.ends_at, midnight, "day {day} of {y}-{mo}");
            let local = Local.timestamp_opt(period.ends_at, 0).unwrap();
            assert_eq!(local.format("%H:%M:%S").to_string(), "00:00:00");
            t = period.ends_at;
        }
    }
}
