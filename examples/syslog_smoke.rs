//! Sends a few records through the syslog appender, configured from YAML, to each address given:
//! the program scripts/windows-syslog-test.sh cross-builds for Windows and runs under wine
//! against receivers on the Linux side (it works the same on a real Windows machine, or on
//! Linux).
//!
//! ```text
//! syslog_smoke [--root-certificate CA.pem] ADDRESS...
//!     ADDRESS: udp://HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT (one appender each);
//!     CA.pem: the CA that signed the tls:// server's certificate
//! ```
//! Before logging it prints the default address (built with no `address`) and what a
//! `unix:/dev/log` address gives (on Windows: the config error).
//!
//! Every appender gets the same records: facility `local3`, app name `syslog-smoke`, one record
//! per level (error, warn, info, debug), one with a key-value, one with non-ASCII text and one
//! with a newline; then, after a flush and half a second (in which the test's TCP and TLS
//! receivers close the connection), two more, which the appender must send on a new
//! connection.

use std::process::ExitCode;

use log4rs_appenders::syslog::SyslogAppender;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("syslog_smoke: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1).peekable();
    let mut root_certificate = None;
    if args.peek().map(String::as_str) == Some("--root-certificate") {
        args.next();
        root_certificate = Some(
            args.next()
                .ok_or_else(|| anyhow::anyhow!("--root-certificate needs a path"))?,
        );
    }
    let addresses: Vec<String> = args.collect();
    if addresses.is_empty() {
        anyhow::bail!("usage: syslog_smoke [--root-certificate CA.pem] ADDRESS...");
    }

    println!("pid {}", std::process::id());
    // Building does not connect, so these show the defaults without sending anything.
    let default = SyslogAppender::builder().build()?;
    println!("default appender: {default:?}");
    match SyslogAppender::builder().address("unix:/dev/log").build() {
        Ok(a) => println!("unix address: accepted: {a:?}"),
        Err(e) => println!("unix address: refused: {e:#}"),
    }

    // The same through the YAML loader: the error names the appender and the field.
    let unix_yaml = "appenders:\n  local:\n    kind: syslog\n    address: unix:/dev/log\n\
                     root:\n  level: info\n  appenders: [local]\n";
    match log4rs_appenders::config::load_config_str(unix_yaml, "unix.yaml") {
        Ok(_) => println!("unix address in YAML: accepted"),
        Err(e) => println!("unix address in YAML: refused: {e}"),
    }

    let dir = std::env::temp_dir().join(format!("syslog-smoke-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;

    let mut yaml = String::from("appenders:\n");
    let mut names = Vec::new();
    for (i, address) in addresses.iter().enumerate() {
        let name = format!("syslog{i}");
        yaml.push_str(&format!(
            "  {name}:\n    kind: syslog\n    address: \"{address}\"\n    facility: local3\n    \
             app_name: syslog-smoke\n"
        ));
        if let (Some(ca), true) = (&root_certificate, address.starts_with("tls://")) {
            yaml.push_str(&format!("    root_certificate: '{ca}'\n"));
        }
        names.push(name);
    }
    // Debug records only from this program: rustls logs its handshakes at debug level, and
    // those records would go to the appenders too.
    yaml.push_str(&format!(
        "root:\n  level: info\n  appenders: [{}]\nloggers:\n  smoke:\n    level: debug\n",
        names.join(", ")
    ));
    let config = dir.join("syslog.yaml");
    std::fs::write(&config, &yaml)?;
    let handle = log4rs_appenders::init_file(&config)?;

    log::error!(target: "smoke", "smoke error: disk full on C:\\data");
    log::warn!(target: "smoke", request_id = 42; "smoke warn: queue at 91%");
    log::info!(target: "smoke", "smoke info: user café logged in");
    log::debug!(target: "smoke", "smoke debug: cache warmed");
    log::info!(target: "smoke", "smoke newline: first line\nsecond line");
    handle.flush();
    std::thread::sleep(std::time::Duration::from_millis(500));
    log::info!(target: "smoke", "smoke reconnect: 1");
    log::info!(target: "smoke", "smoke reconnect: 2");
    handle.flush();
    drop(handle);
    let _ = std::fs::remove_dir_all(&dir);
    println!("logged 7 records to {}", addresses.join(" "));
    Ok(())
}
