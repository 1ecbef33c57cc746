//! The differential test of time-based rotation: the same record stream and the same faked clock
//! through CPython 3.13's `TimedRotatingFileHandler` (tests/timed_rotation_peer.py) and through
//! our appender (this test binary again, as a child process), both under libfaketime with
//! `TZ=Europe/Berlin`; the resulting file sets and contents must be identical.
//!
//! Each scenario is a list of process runs (a restart is a new run). Before each run the log
//! file's modification time is set to the time of the previous run's last record (the start time
//! for the first run), as a real process would have left it (the file system stamps real time,
//! not libfaketime's), or to an earlier time to make a missed rollover. Inside a run, `clock T` sets the faked clock to the Unix second
//! T through `FAKETIME_TIMESTAMP_FILE` (re-read at every clock reading: `FAKETIME_NO_CACHE=1`).
//!
//! Where CPython 3.13 is wrong (`when: H` across a DST change), the run is compared with what is
//! right instead, and CPython's result is printed; see the rustdoc of `log4rs_appenders::file`.
#![cfg(all(unix, target_os = "linux"))]

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Set in the environment of the child that plays our side.
const CHILD_ENV: &str = "ROTATING_FILE_TIMED_DIFF_CHILD";
const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;

/// One process run: the modification time its log file starts with (None: leave it), the
/// handler's settings, and the records, each at a Unix second.
struct Run {
    mtime: Option<i64>,
    open: String,
    records: Vec<i64>,
}

struct Scenario {
    name: String,
    runs: Vec<Run>,
    /// Where CPython 3.13 is wrong (or, for `D`, counts 24 hours where we count a calendar
    /// day): why. Ours is then checked against what is right instead (see `check_right`).
    cpython_differs: Option<&'static str>,
}

fn open(when: &str, interval: u32, utc: bool, at_time: Option<&str>, backup_count: u32) -> String {
    format!(
        "when={when} interval={interval} utc={} at_time={} backup_count={backup_count}",
        u8::from(utc),
        at_time.unwrap_or("-")
    )
}

/// Records from `start` every `step` seconds, `count` of them.
fn every(start: i64, step: i64, count: i64) -> Vec<i64> {
    (0..count).map(|i| start + i * step).collect()
}

/// Unix time of a Berlin wall-clock time in 2026 outside the hours DST changes (CET is UTC+1,
/// CEST UTC+2, from 2026-03-29 01:00 UTC to 2026-10-25 01:00 UTC).
fn berlin(month: u32, day: u32, hour: u32, minute: u32) -> i64 {
    let naive = chrono::NaiveDate::from_ymd_opt(2026, month, day)
        .unwrap()
        .and_hms_opt(hour, minute, 0)
        .unwrap()
        .and_utc()
        .timestamp();
    let summer = naive - 2 * HOUR;
    let (start, end) = (1_774_746_000, 1_792_890_000);
    if (start..end).contains(&summer) {
        summer
    } else {
        naive - HOUR
    }
}

fn single(name: &str, open: String, records: Vec<i64>) -> Scenario {
    Scenario {
        name: name.to_owned(),
        runs: vec![Run {
            mtime: None,
            open,
            records,
        }],
        cpython_differs: None,
    }
}

fn differs(name: &str, open: String, records: Vec<i64>, why: &'static str) -> Scenario {
    Scenario {
        cpython_differs: Some(why),
        ..single(name, open, records)
    }
}

fn scenarios() -> Vec<Scenario> {
    let dec1 = berlin(12, 1, 10, 0);
    let mut all = vec![
        single(
            "S interval 5",
            open("S", 5, false, None, 4),
            every(dec1, 3, 25),
        ),
        single(
            "M interval 2, utc",
            open("M", 2, true, None, 0),
            every(dec1 + 7, 50, 14),
        ),
        single(
            "H interval 3",
            open("H", 3, false, None, 2),
            every(dec1, 40 * 60, 20),
        ),
        single(
            "D interval 2",
            open("D", 2, false, None, 0),
            every(dec1, 7 * HOUR, 22),
        ),
        single(
            "midnight",
            open("MIDNIGHT", 1, false, None, 3),
            every(dec1, 5 * HOUR, 26),
        ),
        single(
            "midnight interval 2 at 03:00",
            open("MIDNIGHT", 2, false, Some("03:00:00"), 0),
            every(dec1, 5 * HOUR, 34),
        ),
        single(
            "midnight utc at 23:00",
            open("MIDNIGHT", 1, true, Some("23:00:00"), 2),
            every(dec1, 4 * HOUR, 20),
        ),
        single(
            "midnight across the spring DST change",
            open("MIDNIGHT", 1, false, None, 0),
            every(berlin(3, 27, 20, 0), 2 * HOUR + 7 * 60, 45),
        ),
        single(
            "midnight across the autumn DST change",
            open("MIDNIGHT", 1, false, None, 0),
            every(berlin(10, 23, 20, 0), 2 * HOUR + 7 * 60, 45),
        ),
        single(
            "midnight at 01:30 across the autumn DST change",
            open("MIDNIGHT", 1, false, Some("01:30:00"), 0),
            every(berlin(10, 23, 20, 0), 2 * HOUR + 7 * 60, 45),
        ),
        single(
            "W6 across the spring DST change",
            open("W6", 1, false, None, 0),
            every(berlin(3, 20, 12, 0), 11 * HOUR, 40),
        ),
    ];
    for day in 0..7 {
        let at = (day % 3 == 1).then_some("12:30:00");
        all.push(single(
            &format!(
                "W{day} interval 2{}",
                if at.is_some() { " at 12:30" } else { "" }
            ),
            open(&format!("W{day}"), 2, false, at, 2),
            every(dec1, 23 * HOUR, 32),
        ));
    }
    // A restart the same day: the first rollover comes from the file's modification time.
    let restart = every(dec1, 4 * HOUR, 3);
    all.push(Scenario {
        name: "restart before midnight".into(),
        cpython_differs: None,
        runs: vec![
            Run {
                mtime: None,
                open: open("MIDNIGHT", 1, false, None, 2),
                records: restart.clone(),
            },
            Run {
                mtime: None,
                open: open("MIDNIGHT", 1, false, None, 2),
                records: every(restart[2] + HOUR, 3 * HOUR, 8),
            },
        ],
    });
    // Stopped in the evening, started three days later: rotates at the first record.
    for when in ["MIDNIGHT", "H", "D"] {
        all.push(Scenario {
            name: format!("missed rollover, {when}"),
            cpython_differs: None,
            runs: vec![
                Run {
                    mtime: None,
                    open: open(when, 1, false, None, 3),
                    records: vec![berlin(12, 1, 18, 0), berlin(12, 1, 22, 30)],
                },
                Run {
                    mtime: None,
                    open: open(when, 1, false, None, 3),
                    records: every(berlin(12, 4, 8, 0), 50 * 60, 30),
                },
            ],
        });
    }
    // A log file last written long ago (set explicitly), then a restart.
    all.push(Scenario {
        name: "missed rollover, W0 with an old file".into(),
        cpython_differs: None,
        runs: vec![
            Run {
                mtime: None,
                open: open("W0", 1, true, None, 1),
                records: vec![dec1],
            },
            Run {
                mtime: Some(dec1 - 20 * DAY),
                open: open("W0", 1, true, None, 1),
                records: every(dec1 + DAY, 2 * DAY, 8),
            },
        ],
    });
    let hourly = "CPython 3.13 names a backup after the spring change _03 (its +3600 s patch) \
                  and, after the autumn change, finds its name taken and never rotates again";
    let daily = "CPython counts D as 86,400 s, so across a change its rollover moves by an hour \
                 on the wall clock; we roll at the same local time the next day";
    all.extend([
        differs(
            "H across the spring DST change",
            open("H", 1, false, None, 0),
            every(berlin(3, 28, 22, 0), 25 * 60, 20),
            hourly,
        ),
        differs(
            "H across the autumn DST change",
            open("H", 1, false, None, 0),
            every(berlin(10, 24, 22, 0), 25 * 60, 20),
            hourly,
        ),
        differs(
            "D across the spring DST change",
            open("D", 1, false, None, 0),
            every(berlin(3, 27, 20, 0), 2 * HOUR + 7 * 60, 45),
            daily,
        ),
        differs(
            "D across the autumn DST change",
            open("D", 1, false, None, 0),
            every(berlin(10, 23, 20, 0), 2 * HOUR + 7 * 60, 45),
            daily,
        ),
    ]);
    all
}

/// The Berlin wall-clock time of Unix time `t` in 2026.
fn berlin_local(t: i64) -> chrono::NaiveDateTime {
    let (start, end) = (1_774_746_000, 1_792_890_000);
    let offset = if (start..end).contains(&t) { 2 } else { 1 } * HOUR;
    chrono::DateTime::from_timestamp(t + offset, 0)
        .unwrap()
        .naive_utc()
}

/// What is right where CPython is not (single-run `H`/`D` scenarios, local time): every record
/// exactly once and in order; each backup named for the local time of its first record (the
/// record that started its interval, or the first of all); no file spanning more than one
/// interval (plus the hour a DST change adds): rotation never stalls.
fn check_right(scenario: &Scenario, ours: &BTreeMap<String, String>) -> Result<(), String> {
    let run = &scenario.runs[0];
    let (format, interval) = if run.open.starts_with("when=H") {
        ("%Y-%m-%d_%H", HOUR)
    } else {
        ("%Y-%m-%d", DAY)
    };
    let mut seen: Vec<(u32, i64)> = Vec::new();
    for (name, content) in ours {
        let records: Vec<(u32, i64)> = content
            .lines()
            .map(|l| {
                let mut w = l.split(' ');
                let n = w.nth(1).unwrap().parse().unwrap();
                (n, w.nth(1).unwrap().parse().unwrap())
            })
            .collect();
        let (first, last) = (records[0].1, records[records.len() - 1].1);
        if last - first >= interval + HOUR {
            return Err(format!("{name} spans {} s: rotation stalled", last - first));
        }
        if let Some(label) = name.strip_prefix("app.log.") {
            let expected = berlin_local(first).format(format).to_string();
            if label != expected {
                return Err(format!("{name} starts at {expected}"));
            }
        }
        seen.extend(records);
    }
    seen.sort();
    let numbers: Vec<u32> = seen.iter().map(|(n, _)| *n).collect();
    if numbers != (1..=run.records.len() as u32).collect::<Vec<_>>() {
        return Err(format!("records lost or repeated: {numbers:?}"));
    }
    Ok(())
}

/// The steps file of one run (see tests/timed_rotation_peer.py).
fn steps(run: &Run, first_record: &mut u32) -> String {
    let mut s = format!("clock {}\nopen {}\n", run.records[0], run.open);
    for t in &run.records {
        *first_record += 1;
        s.push_str(&format!("clock {t}\nlog record {first_record} at {t}\n"));
    }
    s
}

/// libfaketime's library, where Debian and Ubuntu put it.
fn libfaketime() -> Option<PathBuf> {
    let dirs = std::fs::read_dir("/usr/lib").ok()?;
    dirs.flatten()
        .map(|d| d.path().join("faketime/libfaketime.so.1"))
        .chain([PathBuf::from("/usr/lib/faketime/libfaketime.so.1")])
        .find(|p| p.is_file())
}

/// Runs one side of one scenario in `dir`; `side` is the command for one run (its steps file and
/// `dir` are appended).
fn play(scenario: &Scenario, dir: &Path, side: &dyn Fn(&Path, &Path) -> Command, fake: &Path) {
    let mut record = 0;
    let mut last: Option<i64> = None;
    for (i, run) in scenario.runs.iter().enumerate() {
        // CPython opens (creates) the file before it reads its modification time, which the
        // file system stamps with real time: so the file is created here, stamped with the
        // faked time a real start would have given it.
        let log = dir.join("app.log");
        let t = run.mtime.or(last).unwrap_or(run.records[0]);
        let when = UNIX_EPOCH + Duration::from_secs(t as u64);
        let file = std::fs::File::options()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        file.set_modified(when).unwrap();
        let steps_path = dir.with_extension(format!("steps{i}"));
        std::fs::write(&steps_path, steps(run, &mut record)).unwrap();
        let stamp = dir.with_extension("faketime");
        std::fs::write(&stamp, format!("{}\n", run.records[0])).unwrap();
        let out = side(&steps_path, dir)
            .env("TZ", "Europe/Berlin")
            .env("LD_PRELOAD", fake)
            .env("FAKETIME_FMT", "%s")
            .env("FAKETIME_TIMESTAMP_FILE", &stamp)
            .env("FAKETIME_NO_CACHE", "1")
            .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
            .env("NO_FAKE_STAT", "1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: run {i} failed: {}\n{}",
            scenario.name,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        last = run.records.last().copied();
    }
}

fn files(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read_to_string(e.path()).unwrap(),
            )
        })
        .collect()
}

/// The files that differ, one line each: name, then CPython's and our content.
fn difference(theirs: &BTreeMap<String, String>, ours: &BTreeMap<String, String>) -> String {
    let names: std::collections::BTreeSet<&String> = theirs.keys().chain(ours.keys()).collect();
    let show = |c: Option<&String>| match c {
        Some(c) => format!("{:?}", c.lines().collect::<Vec<_>>()),
        None => "(none)".to_owned(),
    };
    names
        .into_iter()
        .filter(|n| theirs.get(*n) != ours.get(*n))
        .map(|n| {
            format!(
                "  {n}\n    CPython: {}\n    ours:    {}",
                show(theirs.get(n)),
                show(ours.get(n))
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn matches_cpython_3_13_timed_rotating_file_handler_on_the_same_records_and_clock() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let Some(python) = support::python313() else {
        return;
    };
    let Some(fake) = libfaketime() else {
        support::skip(
            "libfaketime",
            "bash scripts/install/file.sh (apt-get install libfaketime)",
        );
        return;
    };
    let peer = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/timed_rotation_peer.py");
    let me = std::env::current_exe().unwrap();
    let started = std::time::Instant::now();
    let root = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let scenarios = scenarios();
    for (n, scenario) in scenarios.iter().enumerate() {
        let (theirs, ours) = (
            root.path().join(format!("py{n}")),
            root.path().join(format!("rs{n}")),
        );
        std::fs::create_dir(&theirs).unwrap();
        std::fs::create_dir(&ours).unwrap();
        let python_side = |steps: &Path, dir: &Path| {
            let mut c = Command::new(&python);
            c.arg(&peer).arg(steps).arg(dir);
            c
        };
        let our_side = |steps: &Path, dir: &Path| {
            let mut c = Command::new(&me);
            c.args([
                "--exact",
                "child",
                "--include-ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, format!("{}\n{}", steps.display(), dir.display()));
            c
        };
        play(scenario, &theirs, &python_side, &fake);
        play(scenario, &ours, &our_side, &fake);
        let (theirs, ours) = (files(&theirs), files(&ours));
        let backups = ours.len() - 1;
        if let Some(why) = scenario.cpython_differs {
            match check_right(scenario, &ours) {
                Ok(()) => eprintln!(
                    "right where CPython differs: {} ({backups} backups; {why}; CPython made {:?})",
                    scenario.name,
                    theirs.keys().collect::<Vec<_>>()
                ),
                Err(e) => failures.push(format!(
                    "{}: {e}\n{}",
                    scenario.name,
                    difference(&theirs, &ours)
                )),
            }
        } else if theirs != ours {
            failures.push(format!(
                "{}:\n{}",
                scenario.name,
                difference(&theirs, &ours)
            ));
        } else {
            eprintln!("same as CPython: {} ({backups} backups)", scenario.name);
        }
    }
    eprintln!(
        "{} scenarios in {:.1} s",
        scenarios.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Our side of one run: reads the steps file named in `CHILD_ENV` and plays it through the
/// appender with the system clock (faked by libfaketime).
#[test]
#[ignore = "run by the differential test as a child process under libfaketime"]
fn child() {
    use log::{Level, Record};
    use log4rs::append::Append;
    use log4rs_appenders::encode::PythonEncoder;
    use log4rs_appenders::file::{RotatingFileAppender, When};

    let Some(spec) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let spec = spec.to_string_lossy().into_owned();
    let (steps, dir) = spec.split_once('\n').unwrap();
    let stamp = std::env::var("FAKETIME_TIMESTAMP_FILE").unwrap();
    let mut app: Option<RotatingFileAppender> = None;
    for line in std::fs::read_to_string(steps).unwrap().lines() {
        let (op, arg) = line.split_once(' ').unwrap();
        match op {
            "clock" => {
                let t: u64 = arg.parse().unwrap();
                std::fs::write(&stamp, format!("{t}\n")).unwrap();
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap()
                    .as_secs();
                assert_eq!(now, t, "the faked clock: is libfaketime loaded?");
            }
            "open" => {
                let kw: BTreeMap<&str, &str> = arg
                    .split(' ')
                    .map(|kv| kv.split_once('=').unwrap())
                    .collect();
                let mut b = RotatingFileAppender::builder()
                    .name("file")
                    .encoder(Box::new(PythonEncoder::new("%(message)s").unwrap()))
                    .when(kw["when"].parse::<When>().unwrap())
                    .interval(kw["interval"].parse().unwrap())
                    .utc(kw["utc"] == "1")
                    .backup_count(kw["backup_count"].parse().unwrap());
                if kw["at_time"] != "-" {
                    b = b.at_time(kw["at_time"].parse().unwrap());
                }
                app = Some(b.build(Path::new(dir).join("app.log")).unwrap());
            }
            "log" => {
                app.as_ref()
                    .unwrap()
                    .append(
                        &Record::builder()
                            .level(Level::Info)
                            .target("app")
                            .args(format_args!("{arg}"))
                            .build(),
                    )
                    .unwrap();
            }
            other => panic!("unknown step {other}"),
        }
    }
    if let Some(app) = app {
        app.flush();
    }
}
