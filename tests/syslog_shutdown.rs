//! What the syslog appender promises when it is dropped (or the `LogHandle` is), and for
//! outages, against real receivers: syslog-ng (TLS), a TLS server that reads slowly
//! (`tests/slow_tls_syslog_server.py`, Python's `ssl`), rsyslog (unix datagrams) and a port
//! where nothing listens.
//!
//! - TCP/TLS/unix streams: dropping the appender delivers what is queued within
//!   `shutdown_timeout`, ends a TLS session with close_notify, waits until the server closes its
//!   end, and reports with a count whatever was not sent or not confirmed.
//! - Datagrams: one outage (daemon down, or not reading) is reported once when it starts and
//!   once when it ends, with the count of lost records.
#![cfg(unix)]

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use log::{Level, Record};
use log4rs::append::Append;
use log4rs_appenders::syslog::SyslogAppender;

const SYSLOG_NG_ROOT: &str = "/opt/syslog-ng";

fn append(a: &SyslogAppender, msg: &str) {
    try_append(a, msg).unwrap();
}

fn try_append(a: &SyslogAppender, msg: &str) -> anyhow::Result<()> {
    a.append(
        &Record::builder()
            .level(Level::Info)
            .target("app")
            .args(format_args!("{msg}"))
            .build(),
    )
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A self-signed certificate for 127.0.0.1 (`cert.pem`, `key.pem`), its own root.
fn write_certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let c = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, c.cert.pem()).unwrap();
    std::fs::write(&key, c.signing_key.serialize_pem()).unwrap();
    (cert, key)
}

/// Collects what the appenders report (shared by the tests; filter by appender name).
fn reports() -> &'static Mutex<Vec<String>> {
    static ERRORS: OnceLock<&'static Mutex<Vec<String>>> = OnceLock::new();
    ERRORS.get_or_init(|| {
        let errors: &'static Mutex<Vec<String>> = Box::leak(Box::new(Mutex::new(Vec::new())));
        log4rs_appenders::set_error_handler(move |e| {
            eprintln!("reported: {e:#}");
            errors.lock().unwrap().push(format!("{e:#}"));
        });
        errors
    })
}

fn reports_of(appender: &str) -> Vec<String> {
    let needle = format!("appender \"{appender}\"");
    reports()
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.contains(&needle))
        .cloned()
        .collect()
}

fn skip_or_fail(what: &str, hint: &str) {
    let message = format!("SKIPPED: {what} is not available. Install it with: {hint}");
    if std::env::var("LOG4RS_APPENDERS_REQUIRE_PEERS").as_deref() == Ok("1") {
        panic!("{message} [LOG4RS_APPENDERS_REQUIRE_PEERS=1 makes this a failure]");
    }
    eprintln!("\n{message}\n");
}

// ---------------------------------------------------------------- syslog-ng

/// syslog-ng in the foreground (unpacked by scripts/install/syslog-ng.sh), with a TLS source
/// whose messages go to `out.log`, one MSG per line, through a slow program (5 ms a record)
/// under flow control: syslog-ng stops reading the connection while it waits, as a busy
/// receiver does. Killed on drop.
struct SyslogNg {
    dir: tempfile::TempDir,
    child: Child,
    tls_port: u16,
    cert: PathBuf,
}

impl SyslogNg {
    fn start() -> Option<SyslogNg> {
        let bin = Path::new(SYSLOG_NG_ROOT).join("usr/sbin/syslog-ng");
        if !bin.is_file() {
            skip_or_fail("syslog-ng", "bash scripts/install/syslog-ng.sh");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = write_certificate(dir.path());
        let tls_port = free_port();
        let d = dir.path().display();
        let conf = format!(
            r#"@version: 3.38
options {{ keep-hostname(yes); stats-freq(0); }};
source s_tls {{ syslog(ip(127.0.0.1) port({tls_port}) transport(tls) log-iw-size(20)
    tls(key-file("{key}") cert-file("{cert}") peer-verify(optional-untrusted))); }};
destination d_slow {{ program("/bin/sh {d}/slow.sh"
    template("$MSG\n") log-fifo-size(20)); }};
log {{ source(s_tls); destination(d_slow); flags(flow-control); }};
"#,
            key = key.display(),
            cert = cert.display(),
        );
        std::fs::write(
            dir.path().join("slow.sh"),
            format!(
                "while read -r l; do printf '%s\\n' \"$l\" >> {d}/out.log; sleep 0.005; done\n"
            ),
        )
        .unwrap();
        std::fs::write(dir.path().join("ng.conf"), conf).unwrap();
        let root = SYSLOG_NG_ROOT;
        let child = Command::new(&bin)
            .env(
                "LD_LIBRARY_PATH",
                format!(
                    "{root}/usr/lib/syslog-ng:{root}/usr/lib/x86_64-linux-gnu:{root}/lib/x86_64-linux-gnu"
                ),
            )
            .arg("-F")
            .arg("-e")
            .arg("--no-caps")
            .arg(format!("--module-path={root}/usr/lib/syslog-ng/3.38"))
            .arg("-f")
            .arg(dir.path().join("ng.conf"))
            .arg("-p")
            .arg(dir.path().join("pid"))
            .arg("-c")
            .arg(dir.path().join("ctl"))
            .arg("-R")
            .arg(dir.path().join("persist"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("ng.err")).unwrap())
            .spawn()
            .unwrap();
        let ng = SyslogNg {
            dir,
            child,
            tls_port,
            cert,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !ng.stderr().contains("syslog-ng starting up") {
            assert!(
                Instant::now() < deadline,
                "syslog-ng did not start: {}",
                ng.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(ng)
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("ng.err")).unwrap_or_default()
    }

    /// Lines of `out.log` containing `needle`, once `n` arrived or 10 s passed.
    fn wait_for(&self, needle: &str, n: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = std::fs::read_to_string(self.dir.path().join("out.log")).unwrap_or_default();
            let found: Vec<String> = text
                .lines()
                .filter(|l| l.contains(needle))
                .map(str::to_owned)
                .collect();
            if found.len() >= n || Instant::now() > deadline {
                return found;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for SyslogNg {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn tls_records_queued_at_drop_all_reach_syslog_ng_and_the_session_ends_with_close_notify() {
    let Some(ng) = SyslogNg::start() else { return };
    let name = "ng-tls";
    let a = SyslogAppender::builder()
        .name(name)
        .address(format!("tls://127.0.0.1:{}", ng.tls_port))
        .root_certificate(&ng.cert)
        .app_name("shutdown")
        .hostname("h")
        .build()
        .unwrap();
    reports();
    let total = 300;
    for i in 0..total {
        append(&a, &format!("ng tls {i}"));
    }
    drop(a);
    let got = ng.wait_for("ng tls ", total);
    // syslog-ng logs this for a peer that closes without close_notify.
    let unclean = ng.stderr().contains("unexpected eof");
    eprintln!(
        "syslog-ng TLS: {} of {total} records; closed without close_notify: {unclean}",
        got.len()
    );
    assert_eq!(got.len(), total, "syslog-ng log: {}", ng.stderr());
    assert!(!unclean, "no close_notify: {}", ng.stderr());
    assert!(reports_of(name).is_empty(), "{:?}", reports_of(name));
}

// ---------------------------------------------------------------- a slow TLS reader

/// `tests/slow_tls_syslog_server.py`: waits `delay` before reading each connection, then
/// prints `{"records": N, "end": ...}` per connection.
struct SlowTlsServer {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    port: u16,
    cert: PathBuf,
    _dir: tempfile::TempDir,
}

impl SlowTlsServer {
    fn start(delay: Duration) -> Option<SlowTlsServer> {
        if !support::peer_available("python3", "apt-get install python3") {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = write_certificate(dir.path());
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slow_tls_syslog_server.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(&cert)
            .arg(&key)
            .arg(delay.as_secs_f64().to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let port = line.trim().parse().unwrap();
        Some(SlowTlsServer {
            child,
            stdin,
            stdout,
            port,
            cert,
            _dir: dir,
        })
    }

    fn address(&self) -> String {
        format!("tls://127.0.0.1:{}", self.port)
    }

    /// The next connection's summary: (records, how it ended).
    fn next_connection(&mut self) -> (u64, String) {
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        let v: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line:?}: {e}"));
        (
            v["records"].as_u64().unwrap(),
            v["end"].as_str().unwrap().to_owned(),
        )
    }
}

impl Drop for SlowTlsServer {
    fn drop(&mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.flush();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn dropping_the_appender_waits_for_a_slow_tls_reader_and_every_record_arrives() {
    let Some(mut server) = SlowTlsServer::start(Duration::from_secs(1)) else {
        return;
    };
    let name = "slow-tls";
    let a = SyslogAppender::builder()
        .name(name)
        .address(server.address())
        .root_certificate(&server.cert)
        .build()
        .unwrap();
    reports();
    for i in 0..300 {
        append(&a, &format!("slow {i}"));
    }
    let start = Instant::now();
    drop(a);
    let took = start.elapsed();
    let (records, end) = server.next_connection();
    eprintln!("slow TLS reader: {records} of 300 records, ended by {end}, drop took {took:?}");
    assert_eq!((records, end.as_str()), (300, "close_notify"));
    assert!(reports_of(name).is_empty(), "{:?}", reports_of(name));
}

/// The same through `init_config` and the `LogHandle`: the global logger is never dropped, so
/// the logging side runs in a child process (`log_handle_child`) that exits right after
/// dropping the handle.
#[test]
fn dropping_the_log_handle_delivers_to_a_slow_tls_reader_before_the_process_exits() {
    let Some(mut server) = SlowTlsServer::start(Duration::from_secs(1)) else {
        return;
    };
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "log_handle_child", "--nocapture"])
        .env(
            "LOG4RS_APPENDERS_SHUTDOWN_CHILD",
            format!("{} {}", server.address(), server.cert.display()),
        )
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{text}");
    let (records, end) = server.next_connection();
    eprintln!("LogHandle drop, slow TLS reader: {records} of 300 records, ended by {end}");
    assert_eq!((records, end.as_str()), (300, "close_notify"), "{text}");
    assert!(!text.contains("log4rs:"), "nothing to report: {text}");
}

/// The child side of the test above; does nothing on its own.
#[test]
fn log_handle_child() {
    let Ok(arg) = std::env::var("LOG4RS_APPENDERS_SHUTDOWN_CHILD") else {
        return;
    };
    let (address, cert) = arg.split_once(' ').unwrap();
    let appender = SyslogAppender::builder()
        .name("handle-tls")
        .address(address)
        .root_certificate(cert)
        .build()
        .unwrap();
    let config = log4rs::Config::builder()
        .appender(log4rs::config::Appender::builder().build("tls", Box::new(appender)))
        .build(
            log4rs::config::Root::builder()
                .appender("tls")
                .build(log::LevelFilter::Info),
        )
        .unwrap();
    let handle = log4rs_appenders::init_config(config).unwrap();
    for i in 0..300 {
        log::info!(target: "app", "through the handle {i}");
    }
    drop(handle);
}

#[test]
fn records_a_tls_reader_has_not_confirmed_by_the_shutdown_timeout_are_reported_with_a_count() {
    // The server reads nothing for 30 s: nothing written can be confirmed within 1 s.
    let Some(server) = SlowTlsServer::start(Duration::from_secs(30)) else {
        return;
    };
    let name = "stalled-tls";
    let a = SyslogAppender::builder()
        .name(name)
        .address(server.address())
        .root_certificate(&server.cert)
        .shutdown_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    reports();
    for i in 0..300 {
        append(&a, &format!("stalled {i}"));
    }
    let start = Instant::now();
    drop(a);
    let took = start.elapsed();
    let reported = reports_of(name);
    eprintln!("stalled TLS reader: drop took {took:?}, reported {reported:?}");
    assert!(took < Duration::from_secs(3), "drop took {took:?}");
    assert_eq!(reported.len(), 1, "{reported:?}");
    assert!(
        reported[0].contains("up to 300 records written to tls://"),
        "{}",
        reported[0]
    );
    assert!(reported[0].contains("may not have been received"));
}

// ---------------------------------------------------------------- receiver down at shutdown

#[test]
fn records_queued_for_a_tcp_receiver_that_is_down_at_shutdown_are_reported_with_their_count() {
    let port = free_port(); // nothing listens there
    let name = "down-tcp";
    let a = SyslogAppender::builder()
        .name(name)
        .address(format!("tcp://127.0.0.1:{port}"))
        .shutdown_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    reports();
    for i in 0..200 {
        append(&a, &format!("down {i}"));
    }
    let start = Instant::now();
    drop(a);
    let took = start.elapsed();
    // Reports from the worker's thread may come just after a drop that gave up waiting.
    std::thread::sleep(Duration::from_millis(200));
    let reported = reports_of(name);
    eprintln!("receiver down at shutdown: drop took {took:?}, reported {reported:?}");
    assert!(took < Duration::from_secs(3), "drop took {took:?}");
    let shutdown: Vec<&String> = reported
        .iter()
        .filter(|e| e.contains("shutting down"))
        .collect();
    assert_eq!(shutdown.len(), 1, "{reported:?}");
    assert!(
        shutdown[0].contains("200 records were not sent to tcp://127.0.0.1:"),
        "{}",
        shutdown[0]
    );
}

// ---------------------------------------------------------------- a receiver that stops reading

/// A TCP receiver that accepts and reads nothing until `go` fires, then reads everything until
/// the appender ends the connection.
fn stalled_tcp_receiver() -> (
    u16,
    std::sync::mpsc::Sender<()>,
    std::thread::JoinHandle<String>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (go, wait) = std::sync::mpsc::channel::<()>();
    let reader = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let _ = wait.recv_timeout(Duration::from_secs(60));
        let mut received = Vec::new();
        std::io::Read::read_to_end(&mut conn, &mut received).unwrap();
        String::from_utf8_lossy(&received).into_owned()
    });
    (port, go, reader)
}

#[test]
fn records_the_full_queue_dropped_are_reported_as_such_not_as_a_full_buffer() {
    let (port, go, reader) = stalled_tcp_receiver();
    let name = "queue-full-tcp";
    let a = SyslogAppender::builder()
        .name(name)
        .address(format!("tcp://127.0.0.1:{port}"))
        .framing(log4rs_appenders::syslog::Framing::Newline)
        .buffer_size(1_000_000) // the buffer never fills: only the queue can
        .build()
        .unwrap();
    reports();
    // The worker blocks writing once the kernel's buffers are full (a few MB); the queue
    // (4096 records) fills behind it and the rest is dropped.
    let padding = "x".repeat(2000);
    let total = 20_000;
    for i in 0..total {
        append(&a, &format!("stalled {i} {padding}"));
    }
    go.send(()).unwrap();
    a.flush();
    drop(a);
    let received = reader.join().unwrap();
    let delivered = received.lines().filter(|l| l.contains("stalled ")).count() as u64;
    let notices: Vec<&str> = received
        .lines()
        .filter(|l| l.contains(" were lost") || l.contains(" was lost"))
        .collect();
    let reported = reports_of(name);
    eprintln!("queue full: {delivered} delivered, notices {notices:?}, reported {reported:?}");
    assert!(
        delivered < total,
        "nothing was dropped: the test proves nothing"
    );
    // Usually one notice; a worker slower than the logging thread may drop (and report) while
    // it is still writing, so every notice counts the drops since the one before.
    assert!(!notices.is_empty(), "no notice");
    for n in &notices {
        assert!(
            n.contains(" lost because the syslog queue was full (on_full: drop)"),
            "{n}"
        );
        assert!(!n.contains("buffer"), "{n}");
    }
    let lost: u64 = notices
        .iter()
        .map(|n| number_before(n, " syslog record").unwrap())
        .sum();
    assert_eq!(delivered + lost, total, "{notices:?}");
    // stderr has the same reports, and nothing else.
    assert_eq!(reported.len(), notices.len(), "{reported:?}");
    for (r, n) in reported.iter().zip(&notices) {
        assert!(n.ends_with(r.as_str()), "{r} / {n}");
    }
}

// ---------------------------------------------------------------- datagram outages

/// rsyslog with only a unix datagram socket (`log.sock`), writing each MSG to `out.log`.
struct Rsyslog {
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Rsyslog {
    fn start() -> Option<Rsyslog> {
        if !support::peer_available("rsyslogd", "bash scripts/install/syslog.sh") {
            return None;
        }
        let mut r = Rsyslog {
            dir: tempfile::tempdir().unwrap(),
            child: None,
        };
        r.launch();
        Some(r)
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("log.sock")
    }

    fn launch(&mut self) {
        let d = self.dir.path().display();
        std::fs::create_dir_all(self.dir.path().join("work")).unwrap();
        let conf = format!(
            r#"global(workDirectory="{d}/work")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="{d}/log.sock" CreatePath="on" RateLimit.Interval="0")
template(name="T" type="string" string="%msg%\n")
*.* action(type="omfile" file="{d}/out.log" template="T")
"#
        );
        std::fs::write(self.dir.path().join("rsyslog.conf"), conf).unwrap();
        let child = Command::new(support::which("rsyslogd").unwrap())
            .arg("-n")
            .arg("-f")
            .arg(self.dir.path().join("rsyslog.conf"))
            .arg("-i")
            .arg(self.dir.path().join("rsyslog.pid"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.socket().exists() {
            assert!(Instant::now() < deadline, "rsyslogd did not come up");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().unwrap().id().to_string();
        Command::new("kill").args([signal, &pid]).status().unwrap();
    }

    /// SIGTERM, as a service stop does; waits until it exited (the socket is gone).
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status()
                .unwrap();
            child.wait().unwrap();
        }
    }

    fn lines(&self, needle: &str) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("out.log"))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains(needle))
            .map(str::to_owned)
            .collect()
    }

    fn wait_for(&self, needle: &str, n: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.lines(needle).len() < n && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        self.lines(needle)
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The number just before `word` in `text` (`...: 20 syslog records ...`; ` syslog record`
/// finds the count of `1 syslog record was lost` and of `20 syslog records were lost`).
fn number_before(text: &str, word: &str) -> Option<u64> {
    let before = text.split(word).next()?;
    before.split_whitespace().last()?.parse().ok()
}

#[test]
fn a_unix_datagram_outage_is_reported_once_when_it_starts_and_once_when_it_ends() {
    let Some(mut r) = Rsyslog::start() else {
        return;
    };
    let name = "dgram-outage";
    let a = SyslogAppender::builder()
        .name(name)
        .address(format!("unix:{}", r.socket().display()))
        .connect_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    reports();
    append(&a, "outage before");
    assert_eq!(r.wait_for("outage before", 1).len(), 1);

    // 1. The daemon is down for a while: every record in between fails.
    r.stop();
    for i in 0..20 {
        // Through `log4rs`, an `append` error is what its error handler prints.
        if let Err(e) = try_append(&a, &format!("down {i}")) {
            log4rs_appenders::report::report_error(&e);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    r.launch();
    for i in 0..5 {
        append(&a, &format!("back {i}"));
    }
    a.flush();
    assert_eq!(r.wait_for("back ", 5).len(), 5);
    let down = reports_of(name);
    eprintln!("daemon down: {} reports: {down:#?}", down.len());

    // 2. The daemon hangs (SIGSTOP): its socket queue fills and stays full.
    reports().lock().unwrap().clear();
    r.signal("-STOP");
    for i in 0..3000 {
        if let Err(e) = try_append(&a, &format!("hung {i}")) {
            log4rs_appenders::report::report_error(&e);
        }
        if i % 100 == 0 {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    std::thread::sleep(Duration::from_millis(500));
    r.signal("-CONT");
    // Records logged just after it resumes may still meet a full queue (and count as lost in
    // the same outage): log until one arrives.
    let mut resumed = 0;
    let deadline = Instant::now() + Duration::from_secs(10);
    while r.lines("resumed ").is_empty() && Instant::now() < deadline {
        append(&a, &format!("resumed {resumed}"));
        resumed += 1;
        a.flush();
        std::thread::sleep(Duration::from_millis(100));
    }
    a.flush();
    let hung = reports_of(name);
    eprintln!(
        "daemon hung: {} reports after {resumed} records since it resumed: {hung:#?}",
        hung.len()
    );
    assert!(
        !r.lines("resumed ").is_empty(),
        "nothing arrived after SIGCONT"
    );

    // One report when the outage starts, one (with the count) when it ends.
    assert_eq!(down.len(), 2, "{down:#?}");
    assert_eq!(
        down.iter()
            .filter_map(|e| number_before(e, " syslog record"))
            .collect::<Vec<_>>(),
        vec![20],
        "{down:#?}"
    );
    assert_eq!(hung.len(), 2, "{hung:#?}");
    let lost = hung
        .iter()
        .find_map(|e| number_before(e, " syslog record"))
        .unwrap_or_else(|| panic!("no count in {hung:#?}"));
    let delivered = r.wait_for("hung ", 0).len() + r.wait_for("resumed ", 0).len();
    assert_eq!(delivered as u64 + lost, 3000 + resumed, "{hung:#?}");
}
