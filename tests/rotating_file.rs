//! The size-rotating file appender against real files, real processes and CPython's own
//! `RotatingFileHandler`. Unix only: the failure tests use /dev/full, `ulimit` and uids.
#![cfg(unix)]

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use log::{Level, Record};
use log4rs::append::Append;
use log4rs_appenders::encode::PythonEncoder;
use log4rs_appenders::file::{RotatingFileAppender, RotatingFileAppenderBuilder};

/// Environment variable that turns one run of this test binary into a child process.
const CHILD_ENV: &str = "ROTATING_FILE_TEST_CHILD";

fn builder() -> RotatingFileAppenderBuilder {
    RotatingFileAppender::builder()
        .name("file")
        .encoder(Box::new(PythonEncoder::new("%(message)s").unwrap()))
}

fn log(app: &dyn Append, level: Level, message: &str) -> anyhow::Result<()> {
    app.append(
        &Record::builder()
            .level(level)
            .target("app")
            .args(format_args!("{message}"))
            .build(),
    )
}

fn info(app: &dyn Append, message: &str) {
    log(app, Level::Info, message).unwrap();
}

/// Every file in `dir` (name -> content), lock files aside.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| !e.file_name().to_string_lossy().ends_with(".lock"))
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn text(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// All lines of the log and its plain backups, oldest first.
fn all_lines(base: &Path, backup_count: u32) -> Vec<String> {
    let mut out = Vec::new();
    for i in (1..=backup_count).rev() {
        let p = PathBuf::from(format!("{}.{i}", base.display()));
        out.extend(text(&p).lines().map(str::to_owned));
    }
    out.extend(text(base).lines().map(str::to_owned));
    out
}

/// A deterministic stream of ASCII messages of varied lengths, each shorter than `max_len`.
fn stream(count: usize, max_len: usize) -> Vec<String> {
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    (0..count)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let head = format!("r{i:05}");
            let len = head.len() + (x as usize % max_len.saturating_sub(head.len()).max(1));
            let mut m = head;
            while m.len() < len {
                m.push(char::from(b'a' + (m.len() % 26) as u8));
            }
            m
        })
        .collect()
}

/// The re-run of this binary that acts as a child process, selected by [`CHILD_ENV`].
fn spawn_child(role: &str) -> Command {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args([
        "--exact",
        "child_process",
        "--include-ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD_ENV, role)
    // The child's own test summary would read like this binary's; its panics go to stderr.
    .stdout(std::process::Stdio::null());
    c
}

// ---------------------------------------------------------------------------------------------
// Python parity

const CPYTHON_SCRIPT: &str = r#"
import logging, logging.handlers, sys
path, max_bytes, backups, messages, split = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
lines = open(messages, encoding="ascii").read().split("\n")[:-1]
def run(chunk):
    h = logging.handlers.RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups, encoding="ascii")
    h.setFormatter(logging.Formatter("%(message)s"))
    log = logging.getLogger("parity")
    log.propagate = False
    log.handlers = [h]
    log.setLevel(logging.INFO)
    for m in chunk:
        log.info(m)
    h.close()
run(lines[:split])
run(lines[split:])
"#;

fn python_version() -> (u32, u32) {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sys; print(sys.version_info[0], sys.version_info[1])",
        ])
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&out.stdout);
    let mut it = s.split_whitespace().map(|n| n.parse().unwrap_or(0));
    (it.next().unwrap_or(0), it.next().unwrap_or(0))
}

#[test]
fn matches_cpython_rotating_file_handler_on_the_same_record_stream() {
    if !support::peer_available("python3", "apt-get install -y python3") {
        return;
    }
    // CPython before 3.13 rolls over an empty file when one record alone reaches maxBytes
    // (fixed by gh-116263); such records are only in the stream when the peer has the fix.
    let has_gh_116263 = python_version() >= (3, 13);
    // (max_bytes, backup_count, restart after this many records)
    let cases: [(u64, u32, usize); 6] = [
        (200, 3, 150),
        (97, 5, 0),
        (1000, 2, 250),
        (300, 0, 100),
        (0, 4, 100),
        (4096, 1, 299),
    ];
    for (max_bytes, backups, split) in cases {
        let max_len = if max_bytes == 0 {
            180
        } else {
            (max_bytes as usize - 1).min(180)
        };
        let mut messages = stream(300, max_len);
        if has_gh_116263 && max_bytes > 0 {
            messages.insert(120, "x".repeat(max_bytes as usize + 10));
            messages.insert(121, "y".repeat(max_bytes as usize * 2));
        }
        let dir = tempfile::tempdir().unwrap();
        let (ours, theirs) = (dir.path().join("ours"), dir.path().join("cpython"));
        std::fs::create_dir_all(&theirs).unwrap();
        let messages_file = dir.path().join("messages.txt");
        std::fs::write(
            &messages_file,
            messages
                .iter()
                .map(|m| format!("{m}\n"))
                .collect::<String>(),
        )
        .unwrap();
        let status = Command::new("python3")
            .args(["-c", CPYTHON_SCRIPT])
            .arg(theirs.join("app.log"))
            .args([max_bytes.to_string(), backups.to_string()])
            .arg(&messages_file)
            .arg(split.to_string())
            .status()
            .unwrap();
        assert!(status.success());
        // Ours, with the same restart in the middle.
        for chunk in [&messages[..split], &messages[split..]] {
            let app = builder()
                .max_bytes(max_bytes)
                .backup_count(backups)
                .build(ours.join("app.log"))
                .unwrap();
            for m in chunk {
                info(&app, m);
            }
        }
        let (o, t) = (files(&ours), files(&theirs));
        assert_eq!(
            o.keys().collect::<Vec<_>>(),
            t.keys().collect::<Vec<_>>(),
            "file sets differ for max_bytes {max_bytes}, backup_count {backups}"
        );
        for (name, content) in &t {
            assert!(
                o[name] == *content,
                "{name} differs from CPython's for max_bytes {max_bytes}, backup_count {backups}"
            );
        }
        if max_bytes > 0 && backups > 0 {
            assert!(
                o.len() as u32 == backups + 1,
                "the stream should fill every backup"
            );
        }
    }
}

#[test]
fn a_record_larger_than_max_bytes_goes_alone_into_a_fresh_file_and_no_backup_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("app.log");
    let app = builder()
        .max_bytes(100)
        .backup_count(5)
        .build(&base)
        .unwrap();
    let big = "B".repeat(250);
    // Into an empty file: no rollover, it goes alone.
    info(&app, &big);
    info(&app, "after big");
    info(&app, &big);
    info(&app, &big);
    info(&app, "small");
    drop(app);
    assert_eq!(text(&base), "small\n");
    assert_eq!(text(dir.path().join("app.log.1")), format!("{big}\n"));
    assert_eq!(text(dir.path().join("app.log.2")), format!("{big}\n"));
    assert_eq!(text(dir.path().join("app.log.3")), "after big\n");
    assert_eq!(text(dir.path().join("app.log.4")), format!("{big}\n"));
    assert!(!dir.path().join("app.log.5").exists());
    for (name, content) in files(dir.path()) {
        assert!(!content.is_empty(), "{name} is empty");
    }
}

#[test]
fn the_file_stays_below_max_bytes_and_rotates_exactly_when_the_next_record_would_reach_it() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("app.log");
    let app = builder()
        .max_bytes(30)
        .backup_count(2)
        .build(&base)
        .unwrap();
    info(&app, "123456789"); // 10 bytes
    info(&app, "123456789"); // 20
    info(&app, "12345678"); // 29: still < 30
    assert_eq!(std::fs::metadata(&base).unwrap().len(), 29);
    info(&app, ""); // 29 + 1 = 30 >= 30: rolls over first
    assert_eq!(text(&base), "\n");
    assert_eq!(
        std::fs::metadata(dir.path().join("app.log.1"))
            .unwrap()
            .len(),
        29
    );
}

#[test]
fn restart_continues_the_size_count_and_keeps_backups_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("app.log");
    std::fs::write(dir.path().join("app.log.1"), "older\n").unwrap();
    std::fs::write(dir.path().join("app.log.2"), "oldest\n").unwrap();
    std::fs::write(&base, "0123456789012345678\n").unwrap(); // 20 bytes from a previous run
    let app = builder()
        .max_bytes(40)
        .backup_count(3)
        .build(&base)
        .unwrap();
    info(&app, "abcdefghijklmnopqr"); // 20 + 19 = 39 < 40: appended
    info(&app, "x"); // 39 + 2 >= 40: rolls over
    drop(app);
    assert_eq!(text(&base), "x\n");
    assert_eq!(
        text(dir.path().join("app.log.1")),
        "0123456789012345678\nabcdefghijklmnopqr\n"
    );
    assert_eq!(text(dir.path().join("app.log.2")), "older\n");
    assert_eq!(text(dir.path().join("app.log.3")), "oldest\n");
}

#[test]
fn backup_count_zero_never_rotates_as_in_python() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("app.log");
    let app = builder()
        .max_bytes(20)
        .backup_count(0)
        .build(&base)
        .unwrap();
    for i in 0..10 {
        info(&app, &format!("record {i}"));
    }
    assert_eq!(files(dir.path()).len(), 1);
    assert_eq!(text(&base).lines().count(), 10);
}

// ---------------------------------------------------------------------------------------------
// Concurrency

/// Checks that `lines` hold every (writer, seq) exactly once, whole, in each writer's order.
fn assert_each_record_once_in_order(lines: &[String], writers: usize, per_writer: usize) {
    let mut next = vec![0usize; writers];
    for line in lines {
        let (w, seq) = line
            .split_once(' ')
            .and_then(|(w, s)| Some((w[1..].parse::<usize>().ok()?, s.parse::<usize>().ok()?)))
            .unwrap_or_else(|| panic!("torn or interleaved line: {line:?}"));
        assert!(w < writers, "unknown writer in {line:?}");
        assert_eq!(
            seq, next[w],
            "writer {w}: expected record {} next, found {line:?}",
            next[w]
        );
        next[w] += 1;
    }
    assert!(
        next.iter().all(|n| *n == per_writer),
        "records missing: {next:?}"
    );
}

#[test]
fn eight_threads_lose_duplicate_and_tear_nothing_across_rotations() {
    const THREADS: usize = 8;
    const PER_THREAD: usize = 100_000;
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("app.log");
    // Every backup is kept so every record can be checked.
    let app = Arc::new(
        builder()
            .max_bytes(64 * 1024)
            .backup_count(1000)
            .build(&base)
            .unwrap(),
    );
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let app = app.clone();
            std::thread::spawn(move || {
                for i in 0..PER_THREAD {
                    info(&*app, &format!("t{t} {i}"));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    drop(app);
    let backups = files(dir.path()).len() as u32 - 1;
    assert!(backups > 100, "expected many rotations, got {backups}");
    for (name, content) in files(dir.path()) {
        assert!(content.len() < 64 * 1024, "{name} reached max_bytes");
    }
    assert_each_record_once_in_order(&all_lines(&base, backups), THREADS, PER_THREAD);
}

const PROCESSES: usize = 4;
const PER_PROCESS: usize = 20_000;

#[test]
fn processes_sharing_a_file_lose_duplicate_and_tear_nothing_across_rotations() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("app.log");
    let children: Vec<_> = (0..PROCESSES)
        .map(|p| {
            spawn_child(&format!("multiprocess {p} {}", base.display()))
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success(), "a writer process failed");
    }
    let backups = files(dir.path()).len() as u32 - 1;
    assert!(backups > 20, "expected many rotations, got {backups}");
    for (name, content) in files(dir.path()) {
        assert!(content.len() < 16 * 1024, "{name} reached max_bytes");
    }
    assert_each_record_once_in_order(&all_lines(&base, backups), PROCESSES, PER_PROCESS);
}

fn child_multiprocess(args: &[&str]) {
    let (p, path): (usize, &str) = (args[0].parse().unwrap(), args[1]);
    let app = builder()
        .max_bytes(16 * 1024)
        .backup_count(10_000)
        .multiprocess(true)
        .build(path)
        .unwrap();
    for i in 0..PER_PROCESS {
        info(&app, &format!("p{p} {i}"));
    }
}

// ---------------------------------------------------------------------------------------------
// gzip

#[cfg(feature = "gzip")]
mod gzip {
    use super::*;
    use log4rs_appenders::file::Compression;
    use std::io::Read;

    fn gunzip(path: &Path) -> String {
        let mut out = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
            .read_to_string(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn gzip_backups_are_valid_for_flate2_gzip_and_python_and_hold_the_rotated_records() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("app.log");
        let app = builder()
            .max_bytes(4096)
            .backup_count(3)
            .compress(Compression::Gzip)
            .build(&base)
            .unwrap();
        let messages = stream(400, 60);
        for m in &messages {
            info(&app, m);
        }
        app.flush();
        let names: Vec<String> = files(dir.path()).into_keys().collect();
        assert_eq!(
            names,
            ["app.log", "app.log.1.gz", "app.log.2.gz", "app.log.3.gz"]
        );
        let mut lines: Vec<String> = Vec::new();
        for i in (1..=3).rev() {
            let gz = dir.path().join(format!("app.log.{i}.gz"));
            let content = gunzip(&gz);
            assert!(content.len() < 4096 && content.ends_with('\n'));
            lines.extend(content.lines().map(str::to_owned));
            if support::peer_available("gzip", "apt-get install -y gzip") {
                let ok = Command::new("gzip").arg("-t").arg(&gz).status().unwrap();
                assert!(ok.success(), "gzip -t rejects {}", gz.display());
            }
            if support::peer_available("python3", "apt-get install -y python3") {
                let out = Command::new("python3")
                    .args([
                        "-c",
                        "import gzip,sys; sys.stdout.buffer.write(gzip.open(sys.argv[1]).read())",
                    ])
                    .arg(&gz)
                    .output()
                    .unwrap();
                assert!(out.status.success());
                assert_eq!(String::from_utf8(out.stdout).unwrap(), content);
            }
        }
        lines.extend(text(&base).lines().map(str::to_owned));
        assert_eq!(lines[..], messages[messages.len() - lines.len()..]);
    }

    #[test]
    fn processes_sharing_a_compressed_file_keep_whole_valid_backups() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("app.log");
        let children: Vec<_> = (0..3)
            .map(|p| {
                spawn_child(&format!("multiprocess-gzip {p} {}", base.display()))
                    .spawn()
                    .unwrap()
            })
            .collect();
        for mut c in children {
            assert!(c.wait().unwrap().success(), "a writer process failed");
        }
        let names: Vec<String> = files(dir.path()).into_keys().collect();
        assert_eq!(
            names,
            ["app.log", "app.log.1.gz", "app.log.2.gz", "app.log.3.gz"]
        );
        let mut seen = std::collections::HashSet::new();
        for name in &names {
            let path = dir.path().join(name);
            let content = if name.ends_with(".gz") {
                gunzip(&path)
            } else {
                text(&path)
            };
            assert!(
                content.len() < 8 * 1024 && content.ends_with('\n'),
                "{name}"
            );
            for line in content.lines() {
                let (p, i) = line.split_once(' ').expect("whole line");
                assert!(
                    p.starts_with('p') && i.parse::<u32>().is_ok(),
                    "torn line {line:?}"
                );
                assert!(seen.insert(line.to_owned()), "{line} twice");
            }
        }
    }

    pub(super) fn child_multiprocess_gzip(args: &[&str]) {
        let app = builder()
            .max_bytes(8 * 1024)
            .backup_count(3)
            .multiprocess(true)
            .compress(Compression::Gzip)
            .build(args[1])
            .unwrap();
        for i in 0..5000 {
            info(&app, &format!("p{} {i}", args[0]));
        }
        app.flush();
    }

    #[test]
    fn compression_runs_off_the_logging_thread() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("app.log");
        // A large backup takes a while to compress (a debug build of flate2: hundreds of ms).
        let max = 8 << 20;
        let app = builder()
            .max_bytes(max)
            .backup_count(2)
            .compress(Compression::Gzip)
            .build(&base)
            .unwrap();
        let line = stream(1, 200).pop().unwrap() + &"z".repeat(800);
        let mut written = 0;
        while written + line.len() as u64 + 1 < max {
            info(&app, &line);
            written += line.len() as u64 + 1;
        }
        let started = Instant::now();
        info(&app, &line); // rotates
        let append_took = started.elapsed();
        // The logging call returned with the backup still plain: compression had not run in it.
        let plain_still_there = dir.path().join("app.log.1").exists();
        app.flush();
        let compress_took = started.elapsed();
        assert!(
            plain_still_there,
            "append returned after compressing (append {append_took:?}, compression done by {compress_took:?})"
        );
        assert!(!dir.path().join("app.log.1").exists());
        assert_eq!(
            gunzip(&dir.path().join("app.log.1.gz")).len() as u64,
            written
        );
        assert_eq!(text(&base), format!("{line}\n"));
    }

    #[test]
    fn a_crash_mid_compression_loses_no_backup_and_leftovers_are_finished_at_next_start() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("app.log");
        // What a crash can leave: a plain backup not yet compressed, a half-written temporary
        // file, and a backup whose .gz was renamed into place before the plain copy was removed.
        std::fs::write(dir.path().join("app.log.1"), "newest backup\n").unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, b"third backup\n").unwrap();
        std::fs::write(dir.path().join("app.log.3.gz"), gz.finish().unwrap()).unwrap();
        std::fs::write(dir.path().join("app.log.3"), "third backup\n").unwrap();
        let temp = dir.path().join("app.log.gz-tmp.99999.1");
        std::fs::write(&temp, b"\x1f\x8b half").unwrap();
        let old = std::time::SystemTime::now() - Duration::from_secs(3600);
        std::fs::File::options()
            .write(true)
            .open(&temp)
            .unwrap()
            .set_modified(old)
            .unwrap();

        let app = builder()
            .backup_count(3)
            .compress(Compression::Gzip)
            .build(&base)
            .unwrap();
        app.flush();
        let names: Vec<String> = files(dir.path()).into_keys().collect();
        assert_eq!(names, ["app.log", "app.log.1.gz", "app.log.3.gz"]);
        assert_eq!(gunzip(&dir.path().join("app.log.1.gz")), "newest backup\n");
        assert_eq!(gunzip(&dir.path().join("app.log.3.gz")), "third backup\n");
    }
}

// ---------------------------------------------------------------------------------------------
// External rotation

#[test]
fn notices_within_a_second_that_the_file_was_moved_or_deleted_and_reopens_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("app.log");
    let moved = dir.path().join("app.log.moved");
    let app = builder().max_bytes(0).build(&base).unwrap();
    info(&app, "one");
    std::fs::rename(&base, &moved).unwrap(); // as logrotate does
    std::thread::sleep(Duration::from_millis(1100));
    info(&app, "two");
    assert_eq!(text(&moved), "one\n");
    assert_eq!(text(&base), "two\n");

    std::fs::remove_file(&base).unwrap(); // an operator deletes it
    std::thread::sleep(Duration::from_millis(1100));
    info(&app, "three");
    assert_eq!(text(&base), "three\n");
}

#[test]
fn a_file_truncated_in_place_is_noticed_within_a_second_so_rotation_stays_right() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("app.log");
    let app = builder()
        .max_bytes(100)
        .backup_count(1)
        .build(&base)
        .unwrap();
    info(&app, &"a".repeat(79)); // 80 bytes
    // logrotate's copytruncate: the file is copied elsewhere and emptied in place.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&base)
        .unwrap()
        .set_len(0)
        .unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    info(&app, &"b".repeat(29)); // 0 + 30 < 100: no rotation (the stale count would say 110)
    assert_eq!(text(&base), format!("{}\n", "b".repeat(29)));
    assert!(!dir.path().join("app.log.1").exists());
}

// ---------------------------------------------------------------------------------------------
// Failures: disk full, file size limit, permission denied

/// The two forms of the lost-records sentence: `N records were lost ..`, `1 record was lost ..`.
const LOST: [&str; 2] = [" records were lost", " record was lost"];

fn is_lost_notice(line: &str) -> bool {
    LOST.iter().any(|form| line.contains(form))
}

/// The count of a lost-records line; a singular count must be 1, a plural one anything else.
fn lost_count(line: &str) -> u64 {
    let (form, before) = LOST
        .iter()
        .find_map(|form| Some((*form, line.split_once(form)?.0)))
        .unwrap_or_else(|| panic!("not a lost-records line: {line:?}"));
    let n: u64 = before.rsplit(' ').next().unwrap().parse().unwrap();
    assert_eq!(n == 1, form == LOST[1], "{line:?}");
    n
}

#[test]
fn disk_full_is_reported_once_and_the_lost_records_are_counted_when_writing_works_again() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("app.log");
    // Writing to /dev/full fails with ENOSPC, as a full disk does.
    std::os::unix::fs::symlink("/dev/full", &base).unwrap();
    let app = builder()
        .max_bytes(10_000)
        .backup_count(2)
        .build(&base)
        .unwrap();
    let results: Vec<_> = (0..5)
        .map(|i| log(&app, Level::Info, &format!("lost {i}")))
        .collect();
    let error = results[0].as_ref().unwrap_err().to_string();
    assert!(
        error.contains("appender \"file\"") && error.contains("app.log"),
        "{error}"
    );
    assert!(error.contains("No space left on device"), "{error}");
    assert!(
        results[1..].iter().all(|r| r.is_ok()),
        "only the first failure is reported"
    );
    // Space again: the path is now a regular file.
    std::fs::remove_file(&base).unwrap();
    info(&app, "back");
    let content = text(&base);
    let lines: Vec<&str> = content.lines().collect();
    assert_eq!(lines.len(), 2, "{content:?}");
    assert_eq!(lost_count(lines[0]), 5, "{}", lines[0]);
    assert!(lines[0].contains("No space left on device"), "{}", lines[0]);
    assert_eq!(lines[1], "back");
}

#[test]
fn one_lost_record_is_counted_in_the_singular() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("app.log");
    std::os::unix::fs::symlink("/dev/full", &base).unwrap();
    let app = builder().build(&base).unwrap();
    assert!(log(&app, Level::Info, "lost").is_err());
    std::fs::remove_file(&base).unwrap();
    info(&app, "back");
    let content = text(&base);
    let lines: Vec<&str> = content.lines().collect();
    assert_eq!(lines.len(), 2, "{content:?}");
    assert!(
        lines[0].contains(": 1 record was lost between "),
        "{}",
        lines[0]
    );
    assert_eq!(lost_count(lines[0]), 1);
}

#[test]
fn a_file_size_limit_hit_mid_record_leaves_only_whole_records_and_recovers() {
    if !support::peer_available("bash", "apt-get install -y bash") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("app.log");
    // Soft limit of 4 KiB on file size; SIGXFSZ ignored so write() fails with EFBIG instead.
    let status = Command::new("bash")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -S -f 4; exec \"$@\"")
        .arg("bash")
        .arg(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_process",
            "--include-ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, format!("filesize {}", base.display()))
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(
        status.success(),
        "the child process failed (see its output above)"
    );
    let content = text(&base);
    let lines: Vec<&str> = content.lines().collect();
    let whole: Vec<&&str> = lines.iter().filter(|l| l.starts_with("record ")).collect();
    assert!(whole.len() > 50 && whole.len() < 200);
    for (i, l) in whole.iter().enumerate() {
        assert_eq!(
            **l,
            format!("record {i:04} {}", "p".repeat(40)),
            "torn record"
        );
    }
    let notice = lines[whole.len()];
    assert_eq!(lost_count(notice), 200 - whole.len() as u64, "{notice}");
    assert_eq!(lines[whole.len() + 1], "back");
    assert_eq!(lines.len(), whole.len() + 2);
}

fn child_filesize(args: &[&str]) {
    let app = builder().max_bytes(0).build(args[0]).unwrap();
    let failures = (0..200)
        .filter(|i| {
            log(
                &app,
                Level::Info,
                &format!("record {i:04} {}", "p".repeat(40)),
            )
            .is_err()
        })
        .count();
    assert_eq!(failures, 1, "the failure streak is reported once");
    // The limit is lifted (as space comes back): the soft limit goes back up to the hard one.
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with valid pointers to an initialised struct.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_FSIZE, &mut limit), 0);
        limit.rlim_cur = limit.rlim_max;
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &limit), 0);
    }
    info(&app, "back");
}

/// Runs `role` as a child process under a 4 KiB file size limit (`ulimit -f 4`, SIGXFSZ
/// ignored so that write() fails with EFBIG, as a full disk fails with ENOSPC).
fn run_under_file_size_limit(role: &str) {
    let status = Command::new("bash")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -S -f 4; exec \"$@\"")
        .arg("bash")
        .arg(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_process",
            "--include-ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, role)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(
        status.success(),
        "the child process failed (see its output above)"
    );
}

#[test]
fn buffered_mode_under_a_full_disk_counts_every_lost_record_and_reports_the_streak_once() {
    if !support::peer_available("bash", "apt-get install -y bash") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("app.log");
    run_under_file_size_limit(&format!("filesize-buffered {}", base.display()));
    let content = text(&base);
    let lines: Vec<&str> = content.lines().collect();
    let whole: Vec<&&str> = lines.iter().filter(|l| l.starts_with("record ")).collect();
    assert!(whole.len() > 20 && whole.len() < 200, "{}", whole.len());
    for (i, l) in whole.iter().enumerate() {
        assert_eq!(
            **l,
            format!("record {i:04} {}", "p".repeat(40)),
            "torn or missing record"
        );
    }
    // One notice for the one streak, with every record that is not in the file.
    let notices: Vec<&&str> = lines.iter().filter(|l| is_lost_notice(l)).collect();
    assert_eq!(notices.len(), 1, "{content}");
    assert_eq!(
        lost_count(notices[0]),
        200 - whole.len() as u64,
        "{}",
        notices[0]
    );
    assert_eq!(lines[whole.len()], *notices[0]);
    assert_eq!(lines[whole.len() + 1], "back");
    assert_eq!(lines.len(), whole.len() + 2);
}

fn child_filesize_buffered(args: &[&str]) {
    let app = builder().max_bytes(0).buffer(1024).build(args[0]).unwrap();
    let failures = (0..200)
        .filter(|i| {
            log(
                &app,
                Level::Info,
                &format!("record {i:04} {}", "p".repeat(40)),
            )
            .is_err()
        })
        .count();
    assert_eq!(failures, 1, "the failure streak is reported once");
    lift_file_size_limit();
    info(&app, "back");
}

fn lift_file_size_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with valid pointers to an initialised struct.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_FSIZE, &mut limit), 0);
        limit.rlim_cur = limit.rlim_max;
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &limit), 0);
    }
}

#[test]
fn permission_denied_is_reported_once_and_recovers_when_permission_is_given() {
    use std::os::unix::fs::PermissionsExt;
    // /tmp rather than $TMPDIR: the unprivileged child must be able to reach it.
    let dir = tempfile::tempdir_in("/tmp").unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let mut child = spawn_child(&format!("permission {}", logs.display()));
    // root is never denied, so the child runs as nobody, owning the folder it locks itself out of.
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        // A copy of this binary that nobody can run, wherever the build folder is.
        let exe = dir.path().join("child-test-binary");
        std::fs::copy(std::env::current_exe().unwrap(), &exe).unwrap();
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        let args: Vec<_> = child.get_args().map(|a| a.to_owned()).collect();
        child = Command::new(&exe);
        child
            .args(args)
            .env(CHILD_ENV, format!("permission {}", logs.display()))
            .stdout(std::process::Stdio::null());
        std::os::unix::fs::chown(&logs, Some(65534), Some(65534)).unwrap();
        std::os::unix::process::CommandExt::uid(&mut child, 65534);
        std::os::unix::process::CommandExt::gid(&mut child, 65534);
    }
    assert!(
        child.status().unwrap().success(),
        "the child process failed (see above)"
    );
    let content = text(logs.join("app.log"));
    let lines: Vec<&str> = content.lines().collect();
    assert_eq!(lines.len(), 2, "{content}");
    assert_eq!(lost_count(lines[0]), 3, "{}", lines[0]);
    assert!(lines[0].contains("Permission denied"), "{}", lines[0]);
    assert_eq!(lines[1], "allowed");
}

fn child_permission(args: &[&str]) {
    use std::os::unix::fs::PermissionsExt;
    let logs = Path::new(args[0]);
    let app = builder().delay(true).build(logs.join("app.log")).unwrap();
    std::fs::set_permissions(logs, std::fs::Permissions::from_mode(0o555)).unwrap();
    let results: Vec<_> = (0..3)
        .map(|i| log(&app, Level::Info, &format!("denied {i}")))
        .collect();
    let error = results[0].as_ref().unwrap_err().to_string();
    assert!(error.contains("Permission denied"), "{error}");
    assert!(results[1..].iter().all(|r| r.is_ok()));
    std::fs::set_permissions(logs, std::fs::Permissions::from_mode(0o755)).unwrap();
    info(&app, "allowed");
}

// ---------------------------------------------------------------------------------------------
// Durability and buffered mode

#[test]
fn by_default_every_record_is_in_the_file_when_append_returns_even_if_the_process_dies() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("app.log");
    let status = spawn_child(&format!("abort {}", base.display()))
        .status()
        .unwrap();
    assert!(!status.success(), "the child was meant to abort");
    let content = text(&base);
    assert_eq!(content.lines().count(), 1000);
    assert_eq!(content.lines().last(), Some("record 999"));
}

fn child_abort(args: &[&str]) {
    let app = builder().build(args[0]).unwrap();
    for i in 0..1000 {
        info(&app, &format!("record {i}"));
        if i == 0 {
            assert_eq!(
                text(args[0]),
                "record 0\n",
                "in the file when append returned"
            );
        }
    }
    std::process::abort(); // no flush, no drop
}

/// Threads logging `noise N` without pause until `stop`, so that records are written in
/// batches that hold several threads' records.
fn noisy_threads(
    app: &Arc<RotatingFileAppender>,
    count: usize,
    stop: &Arc<std::sync::atomic::AtomicBool>,
) -> Vec<std::thread::JoinHandle<usize>> {
    (0..count)
        .map(|t| {
            let (app, stop) = (app.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) && n < 500_000 {
                    let _ = log(&*app, Level::Info, &format!("noise {t} {n}"));
                    n += 1;
                }
                n
            })
        })
        .collect()
}

#[test]
fn with_other_threads_logging_every_record_is_in_the_file_when_append_returns() {
    use std::io::Read as _;
    const MARKS: usize = 3_000;
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("app.log");
    let app = Arc::new(builder().max_bytes(0).build(&base).unwrap());
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let noise = noisy_threads(&app, 3, &stop);
    // A second descriptor of the file, read as far as it goes after each append returns.
    let mut reader = std::fs::File::open(&base).unwrap();
    let mut seen = Vec::new();
    let mut from = 0;
    for i in 0..MARKS {
        let mark = format!("mark {i}\n");
        info(&*app, mark.trim_end());
        reader.read_to_end(&mut seen).unwrap();
        let at = seen[from..]
            .windows(mark.len())
            .position(|w| w == mark.as_bytes())
            .unwrap_or_else(|| panic!("append returned but {mark:?} is not in the file yet"));
        from += at + mark.len();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let noise: Vec<usize> = noise.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(
        noise.iter().all(|n| *n > 0),
        "the other threads logged meanwhile: {noise:?}"
    );
    // And nothing was lost, duplicated or torn among the other threads' records.
    let content = text(&base);
    let mut next = vec![0usize; noise.len()];
    for line in content.lines().filter(|l| !l.starts_with("mark ")) {
        let (t, n) = line
            .strip_prefix("noise ")
            .and_then(|r| r.split_once(' '))
            .and_then(|(t, n)| Some((t.parse::<usize>().ok()?, n.parse::<usize>().ok()?)))
            .unwrap_or_else(|| panic!("torn or interleaved line: {line:?}"));
        assert_eq!(n, next[t], "thread {t}: {line:?} out of order");
        next[t] += 1;
    }
    assert_eq!(next, noise);
    assert_eq!(
        content.lines().filter(|l| l.starts_with("mark ")).count(),
        MARKS
    );
}

/// `threads` threads log `per_thread` records each into `app` at once; how many of those
/// appends returned an error.
fn failing_appends_from_threads(
    app: &Arc<RotatingFileAppender>,
    threads: usize,
    per_thread: usize,
) -> usize {
    let threads: Vec<_> = (0..threads)
        .map(|t| {
            let app = app.clone();
            std::thread::spawn(move || {
                (0..per_thread)
                    .filter(|i| log(&*app, Level::Info, &format!("lost {t} {i}")).is_err())
                    .count()
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).sum()
}

#[test]
fn failures_while_threads_log_at_once_are_reported_once_and_every_lost_record_counted() {
    const THREADS: usize = 4;
    const PER_THREAD: usize = 2_000;
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("app.log");
    std::os::unix::fs::symlink("/dev/full", &base).unwrap();
    let app = Arc::new(builder().build(&base).unwrap());
    assert_eq!(
        failing_appends_from_threads(&app, THREADS, PER_THREAD),
        1,
        "the failure streak is returned to one append only"
    );
    std::fs::remove_file(&base).unwrap();
    info(&*app, "back");
    let content = text(&base);
    let lines: Vec<&str> = content.lines().collect();
    assert_eq!(lines.len(), 2, "{content:?}");
    assert_eq!(
        lost_count(lines[0]),
        (THREADS * PER_THREAD) as u64,
        "{}",
        lines[0]
    );
    assert_eq!(lines[1], "back");
}

#[test]
fn buffered_failures_while_threads_log_at_once_are_reported_once_and_every_lost_record_counted() {
    // Threads filling the buffer while another one's write of the full buffer fails: each
    // record is counted once, the streak reported once.
    const THREADS: usize = 4;
    const PER_THREAD: usize = 2_000;
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("app.log");
    std::os::unix::fs::symlink("/dev/full", &base).unwrap();
    let app = Arc::new(
        builder()
            .buffer(1024)
            .flush_interval(Duration::from_secs(600))
            .build(&base)
            .unwrap(),
    );
    assert_eq!(
        failing_appends_from_threads(&app, THREADS, PER_THREAD),
        1,
        "the failure streak is returned to one append only"
    );
    // What is still buffered fails too, quietly (the streak goes on).
    app.flush();
    std::fs::remove_file(&base).unwrap();
    info(&*app, "back");
    app.flush();
    let content = text(&base);
    let lines: Vec<&str> = content.lines().collect();
    assert_eq!(lines.len(), 2, "{content:?}");
    assert_eq!(
        lost_count(lines[0]),
        (THREADS * PER_THREAD) as u64,
        "{}",
        lines[0]
    );
    assert_eq!(lines[1], "back");
}

#[test]
fn buffered_records_reach_the_file_within_flush_interval_without_more_records() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("app.log");
    let interval = Duration::from_secs(2);
    let app = builder()
        .buffer(64 * 1024)
        .flush_interval(interval)
        .build(&base)
        .unwrap();
    let logged = Instant::now();
    info(&app, "waits in the buffer");
    assert_eq!(text(&base), "", "buffered mode wrote at once");
    while text(&base).is_empty() && logged.elapsed() < interval * 3 {
        std::thread::sleep(Duration::from_millis(20));
    }
    let took = logged.elapsed();
    assert_eq!(text(&base), "waits in the buffer\n");
    assert!(
        took <= interval + Duration::from_millis(1500),
        "took {took:?}"
    );
    drop(app);
}

#[test]
fn buffered_mode_flushes_error_records_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("app.log");
    let app = builder()
        .buffer(64 * 1024)
        .flush_interval(Duration::from_secs(600))
        .build(&base)
        .unwrap();
    info(&app, "info");
    log(&app, Level::Warn, "warn").unwrap();
    assert_eq!(text(&base), "");
    log(&app, Level::Error, "error").unwrap();
    assert_eq!(text(&base), "info\nwarn\nerror\n");
}

#[test]
fn buffered_mode_writes_everything_on_flush_and_on_drop() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("app.log");
    let app = builder()
        .buffer(64 * 1024)
        .flush_interval(Duration::from_secs(600))
        .build(&base)
        .unwrap();
    for i in 0..3 {
        info(&app, &format!("a{i}"));
    }
    assert_eq!(text(&base), "");
    app.flush();
    assert_eq!(text(&base), "a0\na1\na2\n");
    info(&app, "b0");
    info(&app, "b1");
    assert_eq!(text(&base), "a0\na1\na2\n");
    drop(app);
    assert_eq!(text(&base), "a0\na1\na2\nb0\nb1\n");
}

#[test]
fn a_full_buffer_is_written_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("app.log");
    let app = builder()
        .buffer(1024)
        .flush_interval(Duration::from_secs(600))
        .build(&base)
        .unwrap();
    let line = "x".repeat(49);
    for _ in 0..100 {
        info(&app, &line);
    }
    let on_disk = std::fs::metadata(&base).unwrap().len();
    assert!((4000..5000).contains(&on_disk), "{on_disk} bytes on disk");
    app.flush();
    assert_eq!(std::fs::metadata(&base).unwrap().len(), 5000);
}

#[test]
fn buffered_mode_rotates_exactly_as_unbuffered_mode() {
    let messages = stream(2000, 90);
    let mut results = Vec::new();
    for buffer in [0, 64 * 1024, 300] {
        let dir = tempfile::tempdir().unwrap();
        let app = builder()
            .max_bytes(2048)
            .backup_count(30)
            .buffer(buffer)
            .flush_interval(Duration::from_secs(600))
            .build(dir.path().join("app.log"))
            .unwrap();
        for m in &messages {
            info(&app, m);
        }
        drop(app);
        results.push(files(dir.path()));
    }
    assert!(results[0].len() > 20);
    assert!(results[0] == results[1] && results[0] == results[2]);
}

// ---------------------------------------------------------------------------------------------
// YAML

/// Builds every appender in `yaml` with this crate's deserializers: (built, errors).
fn load(yaml: &str) -> (usize, Vec<String>) {
    let doc: serde_yaml::Value = serde_yaml::from_str(yaml).unwrap();
    let deserializers = log4rs_appenders::deserializers();
    let (mut built, mut errors) = (0, Vec::new());
    for (_, appender) in doc["appenders"].as_mapping().unwrap() {
        let mut body = appender.as_mapping().unwrap().clone();
        let kind = body.remove("kind").unwrap();
        let value = serde_value::to_value(body).unwrap();
        match deserializers.deserialize::<dyn Append>(kind.as_str().unwrap(), value) {
            Ok(_) => built += 1,
            Err(e) => errors.push(format!("{e:#}")),
        }
    }
    (built, errors)
}

#[test]
fn yaml_config_builds_an_appender_that_logs_to_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("sub/app.log");
    let yaml = format!(
        "appenders:\n  file:\n    kind: rotating_file\n    path: {}\n    max_bytes: 10 KiB\n    backup_count: 3\n    buffer: 64 KiB\n    flush_interval: 2 seconds\nroot:\n  level: info\n  appenders: [file]\n",
        base.display()
    );
    let raw: log4rs::config::RawConfig = serde_yaml::from_str(&yaml).unwrap();
    let (appenders, errors) = raw.appenders_lossy(&log4rs_appenders::deserializers());
    assert!(errors.is_empty(), "{errors:?}");
    let config = log4rs::Config::builder()
        .appenders(appenders)
        .build(raw.root())
        .unwrap();
    let logger = log4rs::Logger::new(config);
    log::Log::log(
        &logger,
        &Record::builder()
            .level(Level::Error)
            .args(format_args!("hello"))
            .build(),
    );
    assert!(text(&base).contains("hello"), "{}", text(&base));
}

#[test]
fn yaml_errors_name_the_field_and_the_fix() {
    // (fields after `path: /tmp/x.log`, what the one error must contain)
    let mut cases: Vec<(&str, &[&str])> = vec![
        (
            "max_byte: 10\n",
            &["unknown field `max_byte` (did you mean `max_bytes`?)"],
        ),
        (
            "policy:\n      kind: compound\n",
            &["field \"policy\"", "max_bytes"],
        ),
        (
            "max_bytes: 10 parsecs\n",
            &["field \"max_bytes\"", "unknown size unit"],
        ),
        ("compress: zip\n", &["field \"compress\"", "gzip"]),
        (
            "multiprocess: true\n    buffer: 64 KiB\n",
            &["field \"buffer\"", "multiprocess"],
        ),
    ];
    if cfg!(not(feature = "gzip")) {
        cases.push((
            "compress: gzip\n",
            &["field \"compress\"", "feature `gzip`"],
        ));
    }
    for (fields, expected) in cases {
        let (built, errors) = load(&format!(
            "appenders:\n  f:\n    kind: rotating_file\n    path: /tmp/x.log\n    {fields}"
        ));
        assert_eq!(built, 0, "{fields}");
        assert!(
            expected.iter().all(|e| errors[0].contains(e)),
            "{fields}: expected {expected:?} in {errors:?}"
        );
    }
}

#[test]
fn log4rs_rolling_file_stays_available_beside_rotating_file() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        "appenders:\n  theirs:\n    kind: rolling_file\n    path: {0}/a.log\n    policy:\n      kind: compound\n      trigger: {{ kind: size, limit: 10 kb }}\n      roller: {{ kind: delete }}\n  ours:\n    kind: rotating_file\n    path: {0}/b.log\n",
        dir.path().display()
    );
    let (n, errors) = load(&yaml);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(n, 2);
}

#[test]
#[cfg(feature = "gzip")] // the example compresses its backups
fn the_config_example_loads() {
    let dir = tempfile::tempdir().unwrap();
    let example = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("config-examples/rotating-file.yaml"),
    )
    .unwrap();
    let yaml = example.replace("path: logs/", &format!("path: {}/", dir.path().display()));
    let (n, errors) = load(&yaml);
    assert!(errors.is_empty(), "{errors:?}");
    assert!(n >= 1);
}

// ---------------------------------------------------------------------------------------------
// Child processes

/// Not a test of its own: the body of the child processes the tests above start.
#[test]
#[ignore = "run by other tests as a child process"]
fn child_process() {
    let Ok(role) = std::env::var(CHILD_ENV) else {
        return;
    };
    let parts: Vec<&str> = role.splitn(3, ' ').collect();
    let rest: Vec<&str> = parts[1..].to_vec();
    match parts[0] {
        "multiprocess" => child_multiprocess(&rest),
        #[cfg(feature = "gzip")]
        "multiprocess-gzip" => gzip::child_multiprocess_gzip(&rest),
        "filesize" => child_filesize(&[&role["filesize ".len()..]]),
        "filesize-buffered" => child_filesize_buffered(&[&role["filesize-buffered ".len()..]]),
        "permission" => child_permission(&[&role["permission ".len()..]]),
        "abort" => child_abort(&[&role["abort ".len()..]]),
        other => panic!("unknown child role {other}"),
    }
}
