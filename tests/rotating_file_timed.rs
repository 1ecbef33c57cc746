//! Time-based rotation, retention (`max_age`, `max_total_size`) and gzip with `when:`, on real
//! files, driven through the crate's clock seam (a fake clock: no sleeping for a day).
#![cfg(unix)]

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use log::{Level, Record};
use log4rs::append::Append;
use log4rs_appenders::encode::PythonEncoder;
use log4rs_appenders::file::{Clock, RotatingFileAppender, RotatingFileAppenderBuilder, When};

const DAY: i64 = 86_400;
/// 2026-12-01 00:00:00 UTC, a Tuesday.
const DEC_1: i64 = 1_796_083_200;

#[derive(Debug)]
struct FakeClock(AtomicI64);

impl FakeClock {
    fn at(t: i64) -> Arc<FakeClock> {
        Arc::new(FakeClock(AtomicI64::new(t)))
    }
    fn set(&self, t: i64) {
        self.0.store(t, Ordering::SeqCst);
    }
}

impl Clock for FakeClock {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.0.load(Ordering::SeqCst) as u64)
    }
}

fn builder(clock: &Arc<FakeClock>) -> RotatingFileAppenderBuilder {
    RotatingFileAppender::builder()
        .name("file")
        .encoder(Box::new(PythonEncoder::new("%(message)s").unwrap()))
        .clock(clock.clone())
}

fn info(app: &dyn Append, message: &str) {
    app.append(
        &Record::builder()
            .level(Level::Info)
            .target("app")
            .args(format_args!("{message}"))
            .build(),
    )
    .unwrap();
}

/// Every file in `dir` (name -> content; `.gz` files decompressed), lock files aside.
fn files(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| !e.file_name().to_string_lossy().ends_with(".lock"))
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let bytes = std::fs::read(e.path()).unwrap();
            let content = if name.ends_with(".gz") {
                gunzip(&bytes)
            } else {
                String::from_utf8(bytes).unwrap()
            };
            (name, content)
        })
        .collect()
}

#[cfg(feature = "gzip")]
fn gunzip(bytes: &[u8]) -> String {
    use std::io::Read;
    let mut out = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut out)
        .expect("a complete gzip file");
    out
}

#[cfg(not(feature = "gzip"))]
fn gunzip(_bytes: &[u8]) -> String {
    unreachable!("no .gz files without the gzip feature")
}

fn names(dir: &Path) -> Vec<String> {
    files(dir).into_keys().collect()
}

fn set_mtime(path: &Path, t: SystemTime) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(t)
        .unwrap();
}

/// 49 characters + newline = 50 bytes.
fn record(n: u32) -> String {
    format!("record {n:02} {}", "x".repeat(39))
}

// ---------------------------------------------------------------------------------------------
// Retention

#[test]
fn max_age_deletes_backups_last_written_longer_ago_and_keeps_newer_ones() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("app.log");
    let now = SystemTime::now();
    for (i, days) in [(1, 1), (2, 10), (3, 40), (4, 50)] {
        let path = dir.path().join(format!("app.log.{i}"));
        std::fs::write(&path, format!("backup {i}\n")).unwrap();
        set_mtime(&path, now - Duration::from_secs(days * DAY as u64));
    }
    let clock = FakeClock::at(UNIX_EPOCH.elapsed().unwrap().as_secs() as i64);
    let app = builder(&clock)
        .max_bytes(101)
        .backup_count(5)
        .max_age(Duration::from_secs(30 * DAY as u64))
        .build(&base)
        .unwrap();
    // At start, the background worker deletes what is too old already.
    app.flush();
    assert_eq!(names(dir.path()), ["app.log", "app.log.1", "app.log.2"]);
    // A rotation shifts .2 to .3 (10 days old) and keeps it: age is the file's, not its number's.
    for n in 1..=3 {
        info(&app, &record(n));
    }
    app.flush();
    assert_eq!(
        names(dir.path()),
        ["app.log", "app.log.1", "app.log.2", "app.log.3"]
    );
    assert_eq!(files(dir.path())["app.log.3"], "backup 2\n");
}

#[test]
fn max_total_size_deletes_the_oldest_dated_backups_until_the_rest_fit() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("app.log");
    let clock = FakeClock::at(DEC_1 + 3600);
    let app = builder(&clock)
        .when(When::Day)
        .utc(true)
        .max_bytes(101)
        .backup_count(0)
        .max_total_size(250)
        .build(&base)
        .unwrap();
    for n in 1..=6 {
        info(&app, &record(n));
    }
    clock.set(DEC_1 + DAY + 3600);
    for n in 7..=9 {
        info(&app, &record(n));
    }
    app.flush();
    // Four backups of 100 bytes were made (12-01 .1 .2 .3, 12-02 .1); 200 bytes fit in 250.
    let f = files(dir.path());
    assert_eq!(
        f.keys().collect::<Vec<_>>(),
        ["app.log", "app.log.2026-12-01.3", "app.log.2026-12-02.1"]
    );
    assert_eq!(
        f["app.log.2026-12-01.3"],
        format!("{}\n{}\n", record(5), record(6))
    );
    assert_eq!(
        f["app.log.2026-12-02.1"],
        format!("{}\n{}\n", record(7), record(8))
    );
    assert_eq!(f["app.log"], format!("{}\n", record(9)));
}

#[test]
fn backup_count_with_when_is_applied_in_the_background_as_pythons_get_files_to_delete() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("app.log");
    // Not ours (other shapes) and left alone, as CPython 3.13's fullmatch leaves them.
    for other in ["app.log.2026-11-01x", "app.log.2026-11-01.1", "app.log.old"] {
        std::fs::write(dir.path().join(other), "other\n").unwrap();
    }
    let clock = FakeClock::at(DEC_1 + 60);
    let app = builder(&clock)
        .when(When::Midnight)
        .utc(true)
        .backup_count(2)
        .build(&base)
        .unwrap();
    for day in 0..5 {
        clock.set(DEC_1 + day * DAY + 60);
        info(&app, &format!("day {day}"));
    }
    app.flush();
    let f = files(dir.path());
    assert_eq!(
        f.keys().collect::<Vec<_>>(),
        [
            "app.log",
            "app.log.2026-11-01.1",
            "app.log.2026-11-01x",
            "app.log.2026-12-03",
            "app.log.2026-12-04",
            "app.log.old"
        ]
    );
    assert_eq!(f["app.log.2026-12-04"], "day 3\n");
    assert_eq!(f["app.log"], "day 4\n");
}

// ---------------------------------------------------------------------------------------------
// gzip with `when:`

#[cfg(feature = "gzip")]
mod gzip {
    use super::*;
    use log4rs_appenders::file::Compression;

    #[test]
    fn dated_backups_are_compressed_and_backup_count_counts_the_gz_names() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("app.log");
        let clock = FakeClock::at(DEC_1 + 60);
        let app = builder(&clock)
            .when(When::Midnight)
            .utc(true)
            .backup_count(2)
            .compress(Compression::Gzip)
            .build(&base)
            .unwrap();
        for day in 0..5 {
            clock.set(DEC_1 + day * DAY + 60);
            info(&app, &format!("day {day}"));
            // Each rotation's backup is compressed before the next day's.
            app.flush();
        }
        let f = files(dir.path());
        assert_eq!(
            f.keys().collect::<Vec<_>>(),
            ["app.log", "app.log.2026-12-03.gz", "app.log.2026-12-04.gz"]
        );
        assert_eq!(f["app.log.2026-12-03.gz"], "day 2\n");
        assert_eq!(f["app.log.2026-12-04.gz"], "day 3\n");
        assert_eq!(f["app.log"], "day 4\n");
    }

    #[test]
    fn size_and_time_numbers_continue_after_compressed_backups() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("app.log");
        let clock = FakeClock::at(DEC_1 + 60);
        let app = builder(&clock)
            .when(When::Day)
            .utc(true)
            .max_bytes(101)
            .backup_count(0)
            .compress(Compression::Gzip)
            .build(&base)
            .unwrap();
        for n in 1..=7 {
            info(&app, &record(n));
            app.flush();
        }
        let f = files(dir.path());
        assert_eq!(
            f.keys().collect::<Vec<_>>(),
            [
                "app.log",
                "app.log.2026-12-01.1.gz",
                "app.log.2026-12-01.2.gz",
                "app.log.2026-12-01.3.gz"
            ]
        );
        for (i, name) in ["1", "2", "3"].iter().enumerate() {
            let n = 2 * i as u32 + 1;
            assert_eq!(
                f[&format!("app.log.2026-12-01.{name}.gz")],
                format!("{}\n{}\n", record(n), record(n + 1))
            );
        }
    }

    #[test]
    fn a_day_whose_gz_backup_exists_is_not_rotated_over_it() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("app.log");
        std::fs::write(&base, "late record of 12-01\n").unwrap();
        set_mtime(
            &base,
            UNIX_EPOCH + Duration::from_secs((DEC_1 + 3600) as u64),
        );
        let gz = dir.path().join("app.log.2026-12-01.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut enc, b"earlier run\n").unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        let clock = FakeClock::at(DEC_1 + DAY + 60);
        let app = builder(&clock)
            .when(When::Midnight)
            .utc(true)
            .backup_count(0)
            .compress(Compression::Gzip)
            .build(&base)
            .unwrap();
        info(&app, "12-02");
        app.flush();
        let f = files(dir.path());
        assert_eq!(
            f["app.log.2026-12-01.gz"], "earlier run\n",
            "never overwritten"
        );
        assert_eq!(f["app.log"], "late record of 12-01\n12-02\n");
        assert_eq!(f.len(), 2, "{f:?}");
    }

    #[test]
    fn max_age_reads_the_time_a_gz_keeps_from_its_source() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("app.log");
        let clock = FakeClock::at(DEC_1 + 60);
        let app = builder(&clock)
            .when(When::Midnight)
            .utc(true)
            .backup_count(0)
            .compress(Compression::Gzip)
            .max_age(Duration::from_secs(2 * DAY as u64))
            .build(&base)
            .unwrap();
        info(&app, "day 0");
        // The file system stamps real time: make the log look written on day 0.
        set_mtime(&base, UNIX_EPOCH + Duration::from_secs((DEC_1 + 60) as u64));
        clock.set(DEC_1 + DAY + 60);
        info(&app, "day 1");
        app.flush();
        let gz = dir.path().join("app.log.2026-12-01.gz");
        let kept = std::fs::metadata(&gz).unwrap().modified().unwrap();
        assert_eq!(kept, UNIX_EPOCH + Duration::from_secs((DEC_1 + 60) as u64));
        // 2 days and 1 second after its last record, the next rotation's retention deletes it.
        set_mtime(
            &base,
            UNIX_EPOCH + Duration::from_secs((DEC_1 + DAY + 60) as u64),
        );
        clock.set(DEC_1 + 2 * DAY + 61);
        info(&app, "day 2");
        app.flush();
        assert_eq!(names(dir.path()), ["app.log", "app.log.2026-12-02.gz"]);
    }
}

// ---------------------------------------------------------------------------------------------
// A missed rollover

/// A process stopped before midnight and started the next morning: CPython computes the first
/// rollover from the file's modification time (yesterday), so its first record rotates the file
/// to yesterday's name, and the next rollover is the coming midnight.
#[test]
fn a_process_started_after_a_missed_midnight_rotates_on_its_first_record_as_python() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("app.log");
    std::fs::write(&base, "evening of 11-28\n").unwrap();
    // Last written 2026-11-28 22:00 UTC, three days before the restart.
    set_mtime(
        &base,
        UNIX_EPOCH + Duration::from_secs((DEC_1 - 3 * DAY + 22 * 3600) as u64),
    );
    let clock = FakeClock::at(DEC_1 + 9 * 3600);
    let app = builder(&clock)
        .when(When::Midnight)
        .utc(true)
        .backup_count(7)
        .build(&base)
        .unwrap();
    info(&app, "morning of 12-01");
    clock.set(DEC_1 + DAY - 1);
    info(&app, "night of 12-01");
    clock.set(DEC_1 + DAY);
    info(&app, "12-02");
    app.flush();
    let f = files(dir.path());
    assert_eq!(
        f.keys().collect::<Vec<_>>(),
        ["app.log", "app.log.2026-11-28", "app.log.2026-12-01"]
    );
    assert_eq!(f["app.log.2026-11-28"], "evening of 11-28\n");
    assert_eq!(
        f["app.log.2026-12-01"],
        "morning of 12-01\nnight of 12-01\n"
    );
    assert_eq!(f["app.log"], "12-02\n");
}

// ---------------------------------------------------------------------------------------------
// YAML

fn load(yaml_fields: &str) -> Result<(), String> {
    let yaml = format!(
        "appenders:\n  f:\n    kind: rotating_file\n    path: {}\n    {yaml_fields}",
        tempfile::tempdir().unwrap().path().join("x.log").display()
    );
    let doc: serde_yaml::Value = serde_yaml::from_str(&yaml).unwrap();
    let deserializers = log4rs_appenders::deserializers();
    let mut body = doc["appenders"]["f"].as_mapping().unwrap().clone();
    let kind = body.remove("kind").unwrap();
    let value = serde_value::to_value(body).unwrap();
    deserializers
        .deserialize::<dyn Append>(kind.as_str().unwrap(), value)
        .map(|_| ())
        .map_err(|e| format!("{e:#}"))
}

#[test]
fn yaml_takes_retention_and_gzip_with_when() {
    load("when: midnight\n    backup_count: 7\n    max_age: 30 days\n    max_total_size: 2 GiB\n")
        .unwrap();
    load("max_bytes: 1 MiB\n    max_age: 12h\n").unwrap();
    if cfg!(feature = "gzip") {
        load("when: midnight\n    compress: gzip\n    max_bytes: 100 MiB\n").unwrap();
    }
}

#[test]
fn yaml_refuses_retention_that_cannot_work_naming_the_field() {
    for (fields, expected) in [
        ("max_age: 0\n", &["field \"max_age\"", "more than 0"][..]),
        ("max_age: 3 fortnights\n", &["max_age", "duration"]),
        (
            "max_total_size: 0\n",
            &["field \"max_total_size\"", "more than 0"],
        ),
        (
            "max_total_size: 1 GiB\n    backup_count: 0\n",
            &["field \"max_total_size\"", "never rotated"],
        ),
        (
            "max_age: 1 day\n    max_bytes: 0\n",
            &["field \"max_age\"", "never rotated"],
        ),
        ("max_ages: 1 day\n", &["unknown field `max_ages`"]),
    ] {
        let e = load(fields).unwrap_err();
        assert!(
            expected.iter().all(|x| e.contains(x)),
            "{fields}: expected {expected:?} in {e}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Where CPython 3.13 is wrong: a 30-minute DST shift

/// Lord Howe Island moves its clocks by 30 minutes (2026-04-05 02:00 -> 01:30, 2026-10-04
/// 02:00 -> 02:30). CPython 3.13's `midnight` there corrects by a whole hour, rotates at 23:30
/// and then stalls; ours rotates once per local midnight, every record lands in the backup of
/// its local day, and nothing stalls. Runs in a child process with `TZ` set (chrono's `Local`
/// reads it once per process).
#[test]
fn midnight_across_a_30_minute_dst_shift_rotates_once_per_local_day_and_never_stalls() {
    if std::env::var_os("TIMED_CHILD_DIR").is_some() {
        return;
    }
    for (start, days) in [("2026-04-02", 6), ("2026-10-01", 6)] {
        let dir = tempfile::tempdir().unwrap();
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "lord_howe_child",
                "--include-ignored",
                "--nocapture",
            ])
            .env("TZ", "Australia/Lord_Howe")
            .env("TIMED_CHILD_DIR", dir.path())
            .env("TIMED_CHILD_START", start)
            .env("TIMED_CHILD_DAYS", days.to_string())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let f = files(dir.path());
        let mut total = 0;
        let mut local_days = std::collections::BTreeSet::new();
        for (name, content) in &f {
            let label = name.strip_prefix("app.log.").unwrap_or("today");
            for line in content.lines() {
                // "record <n> local <YYYY-MM-DD HH:MM>"
                let local_day = line.split(' ').nth(3).unwrap();
                if label != "today" {
                    assert_eq!(local_day, label, "{line} in {name}");
                }
                local_days.insert(local_day.to_owned());
                total += 1;
            }
        }
        assert_eq!(total, days as usize * 48, "every record once");
        // One backup per local day, the last day in app.log: no stall, no extra rotation.
        assert_eq!(
            f.len(),
            local_days.len(),
            "{:?}",
            f.keys().collect::<Vec<_>>()
        );
    }
}

#[test]
#[ignore = "run by midnight_across_a_30_minute_dst_shift_... with TZ set"]
fn lord_howe_child() {
    let Some(dir) = std::env::var_os("TIMED_CHILD_DIR") else {
        return;
    };
    let start: chrono::NaiveDate = std::env::var("TIMED_CHILD_START").unwrap().parse().unwrap();
    let days: i64 = std::env::var("TIMED_CHILD_DAYS").unwrap().parse().unwrap();
    use chrono::TimeZone;
    let first = chrono::Local
        .from_local_datetime(&start.and_hms_opt(0, 10, 0).unwrap())
        .single()
        .unwrap()
        .timestamp();
    let clock = FakeClock::at(first);
    let app = builder(&clock)
        .when(When::Midnight)
        .backup_count(0)
        .build(Path::new(&dir).join("app.log"))
        .unwrap();
    // Every 30 minutes of real time, 48 a day.
    for i in 0..days * 48 {
        let t = first + i * 1800;
        clock.set(t);
        let local = chrono::Local.timestamp_opt(t, 0).unwrap();
        info(
            &app,
            &format!("record {i} local {}", local.format("%Y-%m-%d %H:%M")),
        );
    }
    app.flush();
}

// ---------------------------------------------------------------------------------------------
// Several writers sharing one file (`multiprocess: true`) with `when:` and retention

/// Two appenders on one file with `multiprocess: true` (each has its own lock-file handle, so
/// they exclude each other as two processes do), logging in turn across five days: one rotation
/// per midnight (whichever writer comes first rotates; the other sees the file moved), every
/// record exactly once, and retention keeps the two newest days.
#[test]
fn two_writers_sharing_a_file_rotate_once_per_midnight_and_keep_every_record() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("app.log");
    let clock = FakeClock::at(DEC_1 + 60);
    let writer = || {
        builder(&clock)
            .when(When::Midnight)
            .utc(true)
            .backup_count(2)
            .multiprocess(true)
            .build(&base)
            .unwrap()
    };
    let (a, b) = (writer(), writer());
    let mut n = 0;
    for day in 0..5 {
        for hour in [1, 9, 17] {
            clock.set(DEC_1 + day * DAY + hour * 3600);
            for app in [&a, &b] {
                n += 1;
                info(app, &format!("day {day} record {n}"));
            }
        }
    }
    a.flush();
    b.flush();
    let f = files(dir.path());
    assert_eq!(
        f.keys().collect::<Vec<_>>(),
        ["app.log", "app.log.2026-12-03", "app.log.2026-12-04"]
    );
    for (name, day) in [
        ("app.log.2026-12-03", 2),
        ("app.log.2026-12-04", 3),
        ("app.log", 4),
    ] {
        let lines: Vec<&str> = f[name].lines().collect();
        assert_eq!(lines.len(), 6, "{name}: {lines:?}");
        assert!(
            lines.iter().all(|l| l.starts_with(&format!("day {day} "))),
            "{name}: {lines:?}"
        );
    }
}
