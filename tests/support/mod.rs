//! Helpers shared by the integration tests: finding real peers (or skipping loudly), temp dirs.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

/// True when `program` is on PATH. When it is not, prints a loud SKIPPED line naming what is
/// missing and how to get it, and returns false, unless `LOG4RS_APPENDERS_REQUIRE_PEERS=1`
/// (set by `scripts/test.sh` and CI), where a missing peer fails the test instead.
pub fn peer_available(program: &str, install_hint: &str) -> bool {
    if which(program).is_some() {
        return true;
    }
    let message = format!(
        "SKIPPED: `{program}` is not installed, so this test cannot run against the real peer. \
         Install it with: {install_hint} (or run scripts/test.sh, which installs every peer)"
    );
    if std::env::var("LOG4RS_APPENDERS_REQUIRE_PEERS").as_deref() == Ok("1") {
        panic!("{message} [LOG4RS_APPENDERS_REQUIRE_PEERS=1 makes this a failure]");
    }
    eprintln!("\n========================================================================");
    eprintln!("{message}");
    eprintln!("========================================================================\n");
    false
}

/// Like [`peer_available`], for a Python module (`python3 -c "import NAME"`).
pub fn python_module_available(module: &str, install_hint: &str) -> bool {
    if !peer_available("python3", "apt-get install python3") {
        return false;
    }
    let ok = std::process::Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if ok {
        return true;
    }
    let message = format!(
        "SKIPPED: Python module `{module}` is not installed. Install it with: {install_hint} \
         (or run scripts/test.sh)"
    );
    if std::env::var("LOG4RS_APPENDERS_REQUIRE_PEERS").as_deref() == Ok("1") {
        panic!("{message} [LOG4RS_APPENDERS_REQUIRE_PEERS=1 makes this a failure]");
    }
    eprintln!("\n{message}\n");
    false
}

/// The full path of `program` on PATH.
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| [dir.join(program), dir.join("sbin").join(program)])
        .chain(
            ["/usr/sbin", "/sbin"]
                .iter()
                .map(|d| PathBuf::from(d).join(program)),
        )
        .find(|p| p.is_file())
}

/// A CPython 3.13 interpreter, for tests that compare with behaviour specific to it (its Unicode
/// database for `repr`, gh-102402's `msecs`). Looked for, in order: `$LOG4RS_APPENDERS_PYTHON313`,
/// `python3.13` on PATH, pyenv's `~/.pyenv/versions/3.13.*`, `python3` if it is 3.13, and
/// `uv python find 3.13` (what scripts/install/python-encoder.sh installs when none exists).
/// Missing: a loud SKIPPED line, or a failure under `LOG4RS_APPENDERS_REQUIRE_PEERS=1`.
pub fn python313() -> Option<PathBuf> {
    let is_313 = |python: &std::path::Path| {
        std::process::Command::new(python)
            .args(["-c", "import sys; assert sys.version_info[:2] == (3, 13)"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    };
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(p) = std::env::var_os("LOG4RS_APPENDERS_PYTHON313") {
        candidates.push(p.into());
    }
    candidates.extend(which("python3.13"));
    if let Some(home) = std::env::var_os("HOME") {
        let versions = PathBuf::from(home).join(".pyenv/versions");
        if let Ok(entries) = std::fs::read_dir(&versions) {
            let mut found: Vec<PathBuf> = entries
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with("3.13"))
                .map(|e| e.path().join("bin/python3"))
                .collect();
            found.sort();
            candidates.extend(found.into_iter().rev());
        }
    }
    candidates.extend(which("python3"));
    // uv as a command, or as the module `pip install uv` puts next to python3.
    for (program, args) in [
        ("uv", &["python", "find", "3.13"][..]),
        ("python3", &["-m", "uv", "python", "find", "3.13"][..]),
    ] {
        if let Ok(out) = std::process::Command::new(program).args(args).output()
            && out.status.success()
        {
            let path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            if !path.is_empty() {
                candidates.push(path.into());
            }
        }
    }
    if let Some(found) = candidates.into_iter().find(|p| is_313(p)) {
        return Some(found);
    }
    let message = "SKIPPED: no CPython 3.13 found (python3.13, ~/.pyenv/versions/3.13.*, uv), so \
                   this comparison with CPython 3.13 cannot run. Install it with: bash \
                   scripts/install/python-encoder.sh (or set LOG4RS_APPENDERS_PYTHON313)";
    if std::env::var("LOG4RS_APPENDERS_REQUIRE_PEERS").as_deref() == Ok("1") {
        panic!("{message} [LOG4RS_APPENDERS_REQUIRE_PEERS=1 makes this a failure]");
    }
    eprintln!("\n========================================================================");
    eprintln!("{message}");
    eprintln!("========================================================================\n");
    None
}

/// Skips a test whose peer (`what`) is missing, with a loud SKIPPED line saying how to get it,
/// unless `LOG4RS_APPENDERS_REQUIRE_PEERS=1`, where it fails instead.
pub fn skip(what: &str, install_hint: &str) {
    let message = format!(
        "SKIPPED: {what} is not installed, so this test cannot run against the real peer. \
         Install it with: {install_hint}"
    );
    if std::env::var("LOG4RS_APPENDERS_REQUIRE_PEERS").as_deref() == Ok("1") {
        panic!("{message} [LOG4RS_APPENDERS_REQUIRE_PEERS=1 makes this a failure]");
    }
    eprintln!("\n========================================================================");
    eprintln!("{message}");
    eprintln!("========================================================================\n");
}

/// `{"a": {"b": 1}, "c.d": 2}` -> `{"a.b": 1, "c.d": 2}`; null values left out (the peers
/// write `null` where we leave a field out).
pub fn flatten_json(value: &Value) -> BTreeMap<String, Value> {
    fn walk(prefix: &str, value: &Value, out: &mut BTreeMap<String, Value>) {
        match value {
            Value::Object(map) if !map.is_empty() => {
                for (k, v) in map {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, out);
                }
            }
            Value::Null => {}
            other => {
                out.insert(prefix.to_owned(), other.clone());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk("", value, &mut out);
    out
}
