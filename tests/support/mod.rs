//! Helpers shared by the integration tests: finding real peers (or skipping loudly), temp dirs.
#![allow(dead_code)]

use std::path::PathBuf;

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
