//! The syslog appender against independent parsers (`syslog_rfc5424`, `syslog_loose`) and, end
//! to end, against a real rsyslog started here in the foreground with its own config (unix
//! datagram and stream sockets in a temp dir, UDP, TCP and TLS on loopback), whose output file
//! the tests read. The rsyslog tests and those of unix sockets are unix-only; the rest (the
//! appender over UDP against independent parsers, config errors) run on Windows too
//! (scripts/windows-syslog-test.sh runs them under wine).
#![cfg_attr(not(unix), allow(dead_code, unused_imports))]

mod support;

use std::collections::HashMap;
use std::io::Read;
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use log::{Level, Record};
use log4rs::append::Append;
use log4rs_appenders::syslog::{Facility, Framing, SyslogAppender, SyslogFormat};

const INSTALL_HINT: &str = "apt-get install rsyslog rsyslog-gnutls (scripts/install/syslog.sh)";

fn record<'a>(level: Level, args: std::fmt::Arguments<'a>) -> Record<'a> {
    Record::builder()
        .level(level)
        .target("app::web")
        .args(args)
        .build()
}

fn append(a: &SyslogAppender, level: Level, msg: &str) {
    a.append(&record(level, format_args!("{msg}"))).unwrap();
}

fn unix_micros(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).unwrap().as_micros() as i64
}

/// A UDP socket on loopback the test reads datagrams from.
fn udp_receiver() -> (UdpSocket, String) {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let addr = format!("udp://{}", s.local_addr().unwrap());
    (s, addr)
}

fn recv(s: &UdpSocket) -> Vec<u8> {
    let mut buf = vec![0u8; 65536];
    let n = s.recv(&mut buf).expect("a datagram within 5 s");
    buf.truncate(n);
    buf
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

// ---------------------------------------------------------------- independent parsers

#[test]
fn rfc5424_messages_parse_with_an_independent_parser_and_carry_the_records_fields() {
    let (rx, addr) = udp_receiver();
    let a = SyslogAppender::builder()
        .address(&addr)
        .facility(Facility::Local3)
        .app_name("microblog")
        .hostname("web1")
        .build()
        .unwrap();
    let levels = [
        (Level::Error, 3),
        (Level::Warn, 4),
        (Level::Info, 6),
        (Level::Debug, 7),
        (Level::Trace, 7),
    ];
    for (level, severity) in levels {
        let before = SystemTime::now();
        append(&a, level, "user 72000 logged in");
        let after = SystemTime::now();
        let raw = recv(&rx);
        let pri = 19 * 8 + severity;
        assert!(
            raw.starts_with(format!("<{pri}>1 ").as_bytes()),
            "{:?}",
            String::from_utf8_lossy(&raw)
        );
        let m = syslog_rfc5424::parse_message(std::str::from_utf8(&raw).unwrap()).unwrap();
        assert_eq!(m.severity as i32, severity);
        assert_eq!(m.facility.as_str(), "local3");
        assert_eq!(m.hostname.as_deref(), Some("web1"));
        assert_eq!(m.appname.as_deref(), Some("microblog"));
        assert_eq!(m.msgid, None, "MSGID is the NILVALUE");
        assert!(m.sd.is_empty(), "no key-values: SD is the NILVALUE");
        assert_eq!(m.msg, "user 72000 logged in");
        match m.procid {
            Some(syslog_rfc5424::message::ProcId::PID(p)) => {
                assert_eq!(p as u32, std::process::id())
            }
            other => panic!("procid {other:?}"),
        }
        // The timestamp is the record's (taken in append), with microseconds and an offset.
        let stamped = m.timestamp.unwrap() * 1_000_000 + (m.timestamp_nanos.unwrap() / 1000) as i64;
        assert!(
            unix_micros(before) <= stamped && stamped <= unix_micros(after),
            "{stamped}"
        );
        let text = String::from_utf8_lossy(&raw);
        let ts = text.split(' ').nth(1).unwrap();
        assert_eq!(ts.len(), "2026-11-23T03:30:05.123456+00:00".len(), "{ts}");
        assert!(
            ts.as_bytes()[19] == b'.' && matches!(ts.as_bytes()[26], b'+' | b'-'),
            "{ts}"
        );
    }
}

#[test]
fn key_values_become_escaped_sd_params_that_a_parser_reads_back() {
    let (rx, addr) = udp_receiver();
    let a = SyslogAppender::builder()
        .address(&addr)
        .hostname("h")
        .app_name("app")
        .build()
        .unwrap();
    let tricky = r#"say "hi" \ [x] done"#;
    let kvs: [(&str, &str); 3] = [("user", "ann"), ("quote", tricky), ("bad key=]\"", "v")];
    let r = Record::builder()
        .level(Level::Info)
        .args(format_args!("with kvs"))
        .key_values(&kvs)
        .build();
    a.append(&r).unwrap();
    let raw = String::from_utf8(recv(&rx)).unwrap();
    assert!(
        raw.contains(r#"[log4rs@32473 user="ann" quote="say \"hi\" \\ [x\] done" bad_key___="v"]"#),
        "{raw}"
    );
    let m = syslog_rfc5424::parse_message(&raw).unwrap();
    assert_eq!(
        m.sd.find_tuple("log4rs@32473", "user"),
        Some(&"ann".to_owned())
    );
    assert_eq!(
        m.sd.find_tuple("log4rs@32473", "quote"),
        Some(&tricky.to_owned())
    );
    assert_eq!(m.msg, "with kvs");
    let loose = syslog_loose::parse_message(&raw, syslog_loose::Variant::RFC5424);
    assert_eq!(loose.structured_data[0].id, "log4rs@32473");
    assert_eq!(loose.msg, "with kvs");
}

#[test]
fn non_ascii_messages_start_with_a_bom_and_ascii_ones_do_not() {
    let (rx, addr) = udp_receiver();
    let a = SyslogAppender::builder().address(&addr).build().unwrap();
    append(&a, Level::Info, "Grüße aus Köln");
    let raw = recv(&rx);
    let bom_msg = [b"\xEF\xBB\xBF".as_slice(), "Grüße aus Köln".as_bytes()].concat();
    assert!(
        raw.ends_with(&bom_msg),
        "{:?}",
        String::from_utf8_lossy(&raw)
    );
    let m = syslog_rfc5424::parse_message(String::from_utf8(raw).unwrap()).unwrap();
    assert!(
        m.msg.trim_start_matches('\u{feff}') == "Grüße aus Köln",
        "{:?}",
        m.msg
    );
    append(&a, Level::Info, "plain");
    let raw = recv(&rx);
    assert!(
        raw.ends_with(b"- - plain"),
        "{:?}",
        String::from_utf8_lossy(&raw)
    );
}

#[test]
fn newlines_in_a_message_are_escaped_and_never_forge_a_second_message() {
    let (rx, addr) = udp_receiver();
    let a = SyslogAppender::builder()
        .address(&addr)
        .hostname("h")
        .app_name("app")
        .build()
        .unwrap();
    append(
        &a,
        Level::Info,
        "login ok\n<11>1 2026-01-01T00:00:00Z h app 1 - - forged\r\n",
    );
    let raw = recv(&rx);
    assert!(!raw.contains(&b'\n') && !raw.contains(&b'\r'));
    let m = syslog_rfc5424::parse_message(String::from_utf8(raw).unwrap()).unwrap();
    assert_eq!(
        m.msg,
        "login ok#012<11>1 2026-01-01T00:00:00Z h app 1 - - forged"
    );
}

#[test]
fn rfc3164_messages_parse_with_syslog_loose_in_local_time() {
    let (rx, addr) = udp_receiver();
    let a = SyslogAppender::builder()
        .address(&addr)
        .format(SyslogFormat::Rfc3164)
        .facility(Facility::Mail)
        .app_name("microblog")
        .hostname("web1")
        .build()
        .unwrap();
    let before = chrono::Local::now();
    append(&a, Level::Warn, "disk almost full");
    let after = chrono::Local::now();
    let raw = String::from_utf8(recv(&rx)).unwrap();
    assert!(raw.starts_with("<20>"), "{raw}");
    let tail = format!(" web1 microblog[{}]: disk almost full", std::process::id());
    assert!(raw.ends_with(&tail), "{raw}");
    // `Mmm dd hh:mm:ss`, day padded with a space, local time, the second of the append call.
    let stamp = &raw[4..19];
    let candidates = [before, after].map(|t| t.format("%b %e %H:%M:%S").to_string());
    assert!(
        candidates.iter().any(|c| c == stamp),
        "{stamp:?} not in {candidates:?}"
    );
    let m = syslog_loose::parse_message(&raw, syslog_loose::Variant::RFC3164);
    assert_eq!(m.severity.unwrap().as_str(), "warning");
    assert_eq!(m.facility.unwrap().as_str(), "mail");
    assert_eq!(m.hostname, Some("web1"));
    assert_eq!(m.appname, Some("microblog"));
    assert_eq!(m.msg, "disk almost full");
}

#[test]
fn udp_messages_over_max_message_size_are_cut_at_a_utf8_boundary() {
    let (rx, addr) = udp_receiver();
    let a = SyslogAppender::builder()
        .address(&addr)
        .max_message_size(600)
        .build()
        .unwrap();
    // 3-byte characters: a cut at an arbitrary byte would land inside one two times out of three.
    let long: String = "€".repeat(400);
    for _ in 0..3 {
        append(&a, Level::Info, &long);
        let raw = recv(&rx);
        assert!(raw.len() <= 600 && raw.len() > 590, "{}", raw.len());
        let text = String::from_utf8(raw).expect("valid UTF-8: never cut inside a character");
        assert!(text.ends_with('€'));
        syslog_rfc5424::parse_message(&text).unwrap();
    }
    // Default over UDP: 2048 bytes.
    let a = SyslogAppender::builder().address(&addr).build().unwrap();
    append(&a, Level::Info, &"é".repeat(3000));
    let raw = recv(&rx);
    assert!(raw.len() <= 2048 && raw.len() >= 2047, "{}", raw.len());
    assert!(String::from_utf8(raw).is_ok());
}

#[test]
fn bad_config_names_the_field_and_the_fix() {
    let cases = [
        ("address: ftp://x", "field \"address\""),
        ("facility: local9", "field \"facility\""),
        ("app_name: my app", "field \"app_name\""),
        ("sd_id: nope", "field \"sd_id\""),
        (
            "adress: udp://x",
            "unknown field `adress` (did you mean `address`?)",
        ),
        (
            "address: udp://127.0.0.1:1\nframing: newline",
            "field \"framing\"",
        ),
        (
            "address: tls://127.0.0.1\nroot_certificate: /nonexistent.pem",
            "field \"root_certificate\"",
        ),
        (
            "address: tls://127.0.0.1\nclient_certificate: /c.pem",
            "needs client_key",
        ),
        (
            "address: udp://127.0.0.1\ndanger_accept_invalid_certs: true",
            "only used with a tls://",
        ),
    ];
    for (yaml, expected) in cases {
        let value: serde_value::Value = serde_yaml::from_str(yaml).unwrap();
        let e = log4rs_appenders::deserializers()
            .deserialize::<dyn Append>("syslog", value)
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(e.contains(expected), "{yaml}: {e}");
    }
}

#[cfg(windows)]
#[test]
fn on_windows_unix_addresses_are_refused_and_the_default_is_udp_to_this_machine() {
    for address in ["unix:/dev/log", "unix-dgram:/run/x", "unix-stream:/run/x"] {
        let value: serde_value::Value =
            serde_yaml::from_str(&format!("address: {address}")).unwrap();
        let e = log4rs_appenders::deserializers()
            .deserialize::<dyn Append>("syslog", value)
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("field \"address\"")
                && e.contains("unix sockets are not available on Windows")
                && e.contains("use udp://HOST:514, tcp://HOST:601 or tls://HOST:6514"),
            "{e}"
        );
    }
    let default = format!("{:?}", SyslogAppender::builder().build().unwrap());
    assert!(default.contains(r#"Udp("127.0.0.1", 514)"#), "{default}");
}

#[test]
fn the_windows_config_example_loads_on_every_platform() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config-examples/syslog-windows.yaml");
    let config =
        log4rs::config::load_config_file(&path, log4rs_appenders::deserializers()).unwrap();
    assert_eq!(config.appenders().len(), 2);
}

#[cfg(unix)]
#[test]
fn the_config_example_loads_with_no_daemon_running() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config-examples/syslog.yaml");
    let config =
        log4rs::config::load_config_file(&path, log4rs_appenders::deserializers()).unwrap();
    assert!(!config.appenders().is_empty());
}

// ---------------------------------------------------------------- rsyslog end to end

/// One line of rsyslog's output file (template `T`).
#[cfg(unix)]
#[derive(Debug, Clone)]
struct Line {
    input: String,
    hostname: String,
    app: String,
    facility: String,
    severity: String,
    sd: String,
    msg: String,
    raw: String,
}

/// A real rsyslogd in the foreground, on a temp dir; killed on drop.
#[cfg(unix)]
struct Rsyslog {
    dir: tempfile::TempDir,
    child: Option<Child>,
    udp_port: u16,
    tcp_port: u16,
    tls_port: u16,
    /// TLS that requires a client certificate signed by the test CA.
    mtls_port: u16,
}

/// A test CA (`ca.pem`), a server certificate for 127.0.0.1 (`server.pem`, `server.key`) and a
/// client certificate (`client.pem`, `client.key`), both signed by the CA.
#[cfg(unix)]
fn write_test_pki(dir: &Path) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "log4rs-appenders test CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    std::fs::write(dir.join("ca.pem"), ca_cert.pem()).unwrap();
    for (name, sans) in [
        ("server", vec!["127.0.0.1".to_owned()]),
        ("client", vec!["client.test".to_owned()]),
    ] {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(sans).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let cert = params.signed_by(&key, &issuer).unwrap();
        std::fs::write(dir.join(format!("{name}.pem")), cert.pem()).unwrap();
        std::fs::write(dir.join(format!("{name}.key")), key.serialize_pem()).unwrap();
    }
}

#[cfg(unix)]
impl Rsyslog {
    fn start() -> Option<Rsyslog> {
        if !support::peer_available("rsyslogd", INSTALL_HINT) {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        write_test_pki(dir.path());
        let mut r = Rsyslog {
            dir,
            child: None,
            udp_port: free_port(),
            tcp_port: free_port(),
            tls_port: free_port(),
            mtls_port: free_port(),
        };
        r.launch();
        Some(r)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn launch(&mut self) {
        let d = self.dir.path().display();
        std::fs::create_dir_all(self.path("work")).unwrap();
        let conf = format!(
            r#"global(workDirectory="{d}/work")
module(load="imuxsock" SysSock.Use="off")
module(load="imudp")
module(load="imtcp")
module(load="imptcp")
input(type="imuxsock" Socket="{d}/log.sock" CreatePath="on" RateLimit.Interval="0")
input(type="imuxsock" Socket="{d}/log5424.sock" CreatePath="on" UseSpecialParser="off" ParseHostname="on" RateLimit.Interval="0")
input(type="imptcp" path="{d}/stream.sock" unlink="on")
input(type="imudp" address="127.0.0.1" port="{udp}")
input(type="imtcp" address="127.0.0.1" port="{tcp}")
input(type="imtcp" address="127.0.0.1" port="{tls}" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon" streamDriver.CAFile="{d}/ca.pem" streamDriver.CertFile="{d}/server.pem" streamDriver.KeyFile="{d}/server.key")
input(type="imtcp" address="127.0.0.1" port="{mtls}" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="x509/certvalid" streamDriver.CAFile="{d}/ca.pem" streamDriver.CertFile="{d}/server.pem" streamDriver.KeyFile="{d}/server.key")
template(name="T" type="string" string="%inputname%|%hostname%|%app-name%|%syslogfacility-text%|%syslogseverity-text%|%structured-data%|%msg%|%rawmsg%\n")
*.* action(type="omfile" file="{d}/out.log" template="T")
"#,
            udp = self.udp_port,
            tcp = self.tcp_port,
            tls = self.tls_port,
            mtls = self.mtls_port,
        );
        std::fs::write(self.path("rsyslog.conf"), conf).unwrap();
        let _ = std::fs::remove_file(self.path("rsyslog.pid"));
        let child = Command::new(support::which("rsyslogd").unwrap())
            .arg("-n")
            .arg("-f")
            .arg(self.path("rsyslog.conf"))
            .arg("-i")
            .arg(self.path("rsyslog.pid"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        self.child = Some(child);
        // Up when every listener is: the sockets exist and TCP accepts.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let up = self.path("log.sock").exists()
                && self.path("log5424.sock").exists()
                && self.path("stream.sock").exists()
                && std::net::TcpStream::connect(("127.0.0.1", self.tcp_port)).is_ok()
                && std::net::TcpStream::connect(("127.0.0.1", self.tls_port)).is_ok()
                && std::net::TcpStream::connect(("127.0.0.1", self.mtls_port)).is_ok();
            if up {
                break;
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                let mut err = String::new();
                self.child
                    .as_mut()
                    .unwrap()
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut err)
                    .unwrap();
                panic!("rsyslogd exited ({status}): {err}");
            }
            assert!(
                Instant::now() < deadline,
                "rsyslogd did not come up in 10 s"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Stops the daemon (SIGTERM, as a service restart does) and waits for it to exit.
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            unsafe_free_kill(child.id());
            let deadline = Instant::now() + Duration::from_secs(10);
            while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn lines(&self) -> Vec<Line> {
        let text = std::fs::read_to_string(self.path("out.log")).unwrap_or_default();
        text.lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.splitn(8, '|').collect();
                (f.len() == 8).then(|| Line {
                    input: f[0].into(),
                    hostname: f[1].into(),
                    app: f[2].into(),
                    facility: f[3].into(),
                    severity: f[4].into(),
                    sd: f[5].into(),
                    msg: f[6].trim_start().into(),
                    raw: f[7].into(),
                })
            })
            .collect()
    }

    /// Waits until `n` lines whose message contains `needle` arrived (or 10 s passed).
    fn wait_for(&self, needle: &str, n: usize) -> Vec<Line> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let found: Vec<Line> = self
                .lines()
                .into_iter()
                .filter(|l| l.msg.contains(needle))
                .collect();
            if found.len() >= n || Instant::now() > deadline {
                // A little longer, to catch duplicates.
                std::thread::sleep(Duration::from_millis(100));
                return self
                    .lines()
                    .into_iter()
                    .filter(|l| l.msg.contains(needle))
                    .collect();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// SIGTERM through the `kill` program (keeps `unsafe` out of the tests).
#[cfg(unix)]
fn unsafe_free_kill(pid: u32) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status();
}

#[cfg(unix)]
impl Drop for Rsyslog {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[cfg(unix)]
fn appender_to(address: &str) -> log4rs_appenders::syslog::SyslogAppenderBuilder {
    SyslogAppender::builder()
        .address(address)
        .app_name("e2e")
        .hostname("testhost")
        .facility(Facility::Local4)
}

#[cfg(unix)]
#[test]
fn records_reach_rsyslog_over_udp_tcp_tls_and_unix_sockets_with_severity_and_facility() {
    let Some(r) = Rsyslog::start() else { return };
    let cases = [
        ("udp", format!("udp://127.0.0.1:{}", r.udp_port), "imudp"),
        ("tcp", format!("tcp://127.0.0.1:{}", r.tcp_port), "imtcp"),
        ("tls", format!("tls://127.0.0.1:{}", r.tls_port), "imtcp"),
        (
            "dgram",
            format!("unix:{}", r.path("log5424.sock").display()),
            "imuxsock",
        ),
        (
            "stream",
            format!("unix-stream:{}", r.path("stream.sock").display()),
            "imptcp",
        ),
        (
            "auto",
            format!("unix:{}", r.path("stream.sock").display()),
            "imptcp",
        ),
    ];
    for (tag, address, input) in &cases {
        let mut b = appender_to(address).format(SyslogFormat::Rfc5424);
        if *tag == "tls" {
            b = b.root_certificate(r.path("ca.pem"));
        }
        let a = b.build().unwrap();
        let kvs = [("request", "1962000")];
        for (level, sev) in [
            (Level::Error, "err"),
            (Level::Warn, "warning"),
            (Level::Info, "info"),
            (Level::Debug, "debug"),
        ] {
            let msg = format!("{tag}-{sev} first\nsecond ü");
            a.append(
                &Record::builder()
                    .level(level)
                    .args(format_args!("{msg}"))
                    .key_values(&kvs)
                    .build(),
            )
            .unwrap();
        }
        a.flush();
        let lines = r.wait_for(&format!("{tag}-"), 4);
        assert_eq!(lines.len(), 4, "{tag}: {lines:#?}");
        for (line, sev) in lines.iter().zip(["err", "warning", "info", "debug"]) {
            assert_eq!(&line.input, input, "{tag}");
            assert_eq!(line.severity, sev, "{tag}");
            assert_eq!(line.facility, "local4", "{tag}");
            assert_eq!(line.hostname, "testhost", "{tag}");
            assert_eq!(line.app, "e2e", "{tag}");
            assert_eq!(line.sd, r#"[log4rs@32473 request="1962000"]"#, "{tag}");
            // One record, one line: the newline arrives escaped, the BOM before non-ASCII text.
            assert!(
                line.msg
                    .ends_with(&format!("{tag}-{sev} first#012second ü")),
                "{tag}: {:?}",
                line.msg
            );
            assert!(line.msg.starts_with('\u{feff}'), "{tag}: {:?}", line.msg);
            syslog_rfc5424::parse_message(&line.raw).unwrap();
        }
    }
    assert!(
        !r.lines().iter().any(|l| l.msg.starts_with("second")),
        "no forged lines"
    );
}

#[cfg(unix)]
#[test]
fn on_unix_sockets_the_default_is_the_syslog3_local_format_rsyslogs_default_parser_reads() {
    let Some(r) = Rsyslog::start() else { return };
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    for (tag, address) in [
        (
            "local-dgram",
            format!("unix:{}", r.path("log.sock").display()),
        ),
        (
            "local-stream",
            format!("unix-stream:{}", r.path("stream.sock").display()),
        ),
    ] {
        // No hostname set: none is sent (the daemon adds its own), as syslog(3) does.
        let a = SyslogAppender::builder()
            .address(&address)
            .app_name("e2e")
            .facility(Facility::Daemon)
            .build()
            .unwrap();
        append(&a, Level::Warn, &format!("{tag} disk almost full"));
        a.flush();
        let lines = r.wait_for(tag, 1);
        assert_eq!(lines.len(), 1, "{lines:?}");
        let l = &lines[0];
        assert_eq!(l.app, "e2e", "{tag}: {l:?}");
        assert_eq!(l.severity, "warning", "{tag}");
        assert_eq!(l.facility, "daemon", "{tag}");
        assert_eq!(l.msg, format!("{tag} disk almost full"), "{tag}");
        assert_eq!(l.hostname, host.trim(), "{tag}");
        assert!(l.raw.starts_with("<28>"), "{tag}: {}", l.raw);
        assert!(
            l.raw
                .contains(&format!(" e2e[{}]: {tag}", std::process::id())),
            "{}",
            l.raw
        );
    }
}

#[cfg(unix)]
#[test]
fn tcp_newline_framing_and_octet_counting_both_deliver_each_record_once() {
    let Some(r) = Rsyslog::start() else { return };
    for (framing, tag) in [
        (Framing::OctetCounting, "octet"),
        (Framing::Newline, "newline"),
    ] {
        let a = appender_to(&format!("tcp://127.0.0.1:{}", r.tcp_port))
            .framing(framing)
            .build()
            .unwrap();
        for i in 0..500 {
            append(&a, Level::Info, &format!("{tag} {i} a\nb"));
        }
        a.flush();
        let lines = r.wait_for(&format!("{tag} "), 500);
        let mut seen: Vec<usize> = lines
            .iter()
            .map(|l| l.msg.split(' ').nth(1).unwrap().parse().unwrap())
            .collect();
        seen.sort();
        assert_eq!(seen, (0..500).collect::<Vec<_>>(), "{tag}");
    }
}

#[cfg(unix)]
#[test]
fn a_unix_datagram_burst_beyond_the_socket_queue_loses_nothing_and_keeps_order() {
    let Some(r) = Rsyslog::start() else { return };
    let a = local_appender(&format!("unix-dgram:{}", r.path("log.sock").display()))
        .build()
        .unwrap();
    // The kernel queues only a few datagrams per unix socket (net.unix.max_dgram_qlen).
    for i in 0..3000 {
        append(&a, Level::Info, &format!("burst {i}"));
    }
    a.flush();
    let lines = r.wait_for("burst ", 3000);
    let seen: Vec<usize> = lines
        .iter()
        .map(|l| l.msg.trim_start_matches("burst ").parse().unwrap())
        .collect();
    assert_eq!(seen, (0..3000).collect::<Vec<_>>());
}

#[cfg(unix)]
#[test]
fn tls_verifies_the_server_certificate() {
    let Some(r) = Rsyslog::start() else { return };
    let errors = capture_errors();
    // The system roots do not know the test server's self-signed certificate.
    let a = appender_to(&format!("tls://127.0.0.1:{}", r.tls_port))
        .name("tls-unverified")
        .build()
        .unwrap();
    append(&a, Level::Error, "must not arrive");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !errors
        .lock()
        .unwrap()
        .iter()
        .any(|e| e.contains("tls-unverified"))
    {
        assert!(Instant::now() < deadline, "no certificate error reported");
        std::thread::sleep(Duration::from_millis(20));
    }
    let reported = errors
        .lock()
        .unwrap()
        .iter()
        .find(|e| e.contains("tls-unverified"))
        .cloned()
        .unwrap();
    assert!(reported.contains("certificate"), "{reported}");
    assert!(r.lines().iter().all(|l| !l.msg.contains("must not arrive")));
}

/// rustls logs its handshake at debug level through `log`, so under a debug root logger the TLS
/// worker logs into the very appender it serves. `flush` must not hold the appender while it
/// waits for that worker, or each waits for the other until the flush gives up. The logger is
/// global, so the logging side runs in a child process (`tls_debug_logging_child`).
#[cfg(unix)]
#[test]
fn flush_completes_while_the_tls_worker_logs_into_its_own_appender() {
    let Some(r) = Rsyslog::start() else { return };
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "tls_debug_logging_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(
            "LOG4RS_APPENDERS_SYSLOG_CHILD",
            format!("{} {}", r.tls_port, r.path("ca.pem").display()),
        )
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && text.contains("flushed"),
        "{text}"
    );
    assert!(!text.contains("flush gave up"), "{text}");
    assert_eq!(r.wait_for("through a debug root logger", 1).len(), 1);
}

/// The child side of the test above; does nothing on its own.
#[cfg(unix)]
#[test]
fn tls_debug_logging_child() {
    let Ok(arg) = std::env::var("LOG4RS_APPENDERS_SYSLOG_CHILD") else {
        return;
    };
    let (port, ca) = arg.split_once(' ').unwrap();
    let appender = appender_to(&format!("tls://127.0.0.1:{port}"))
        .name("tls-debug")
        .root_certificate(ca)
        .build()
        .unwrap();
    let config = log4rs::Config::builder()
        .appender(log4rs::config::Appender::builder().build("tls", Box::new(appender)))
        .build(
            log4rs::config::Root::builder()
                .appender("tls")
                .build(log::LevelFilter::Debug),
        )
        .unwrap();
    let handle = log4rs_appenders::init_config(config).unwrap();
    log::info!(target: "app", "through a debug root logger");
    handle.flush();
    println!("flushed");
}

/// Collects what the appenders report (shared by the tests; filter by appender name).
#[cfg(unix)]
fn capture_errors() -> &'static Mutex<Vec<String>> {
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

#[cfg(unix)]
#[test]
fn a_tcp_daemon_restart_mid_stream_delivers_every_record_once_or_reports_possible_loss() {
    let Some(mut r) = Rsyslog::start() else {
        return;
    };
    let a = appender_to(&format!("tcp://127.0.0.1:{}", r.tcp_port))
        .build()
        .unwrap();
    let total = 3000;
    for i in 0..total {
        if i == 1000 {
            r.stop(); // while the worker is still writing what came before
        }
        if i == 2000 {
            r.launch();
        }
        append(&a, Level::Info, &format!("restart {i}"));
        if i % 10 == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    a.flush();
    let lines = r.wait_for("restart ", total);
    let mut counts: HashMap<usize, usize> = HashMap::new();
    for l in &lines {
        *counts
            .entry(l.msg.trim_start_matches("restart ").parse().unwrap())
            .or_default() += 1;
    }
    let missing: Vec<usize> = (0..total).filter(|i| !counts.contains_key(i)).collect();
    let duplicated: Vec<usize> = counts
        .iter()
        .filter(|(_, c)| **c > 1)
        .map(|(i, _)| *i)
        .collect();
    assert!(duplicated.is_empty(), "duplicated {duplicated:?}");
    // Everything logged while the daemon was down or after it came back arrives.
    assert!(missing.iter().all(|i| *i < 1000), "missing {missing:?}");
    // Plain TCP has no acknowledgements: records the old daemon's kernel accepted while it was
    // shutting down can vanish. The appender cannot see which, so it reports how many may have.
    if !missing.is_empty() {
        let notice = r.wait_for("may not have been received", 1);
        let reported: usize = notice
            .first()
            .unwrap_or_else(|| panic!("missing {missing:?} but no possible loss reported"))
            .msg
            .split("up to ")
            .nth(1)
            .and_then(|t| t.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap();
        assert!(
            missing.len() <= reported,
            "missing {} > reported {reported}",
            missing.len()
        );
        eprintln!(
            "restart: {} records lost in the daemon's shutdown, {reported} reported as possibly lost",
            missing.len()
        );
    }
}

#[cfg(unix)]
#[test]
fn records_beyond_the_outage_buffer_are_counted_and_the_count_is_reported() {
    let Some(mut r) = Rsyslog::start() else {
        return;
    };
    r.stop();
    let a = appender_to(&format!("tcp://127.0.0.1:{}", r.tcp_port))
        .buffer_size(50)
        .build()
        .unwrap();
    for i in 0..200 {
        append(&a, Level::Info, &format!("outage {i}"));
    }
    // Let the worker take them all in (its first connection attempt fails at once).
    std::thread::sleep(Duration::from_millis(300));
    r.launch();
    a.flush();
    let lines = r.wait_for("outage ", 50);
    let seen: Vec<usize> = lines
        .iter()
        .map(|l| l.msg.trim_start_matches("outage ").parse().unwrap())
        .collect();
    assert_eq!(seen, (0..50).collect::<Vec<_>>());
    let notice = r.wait_for("syslog records were lost", 1);
    assert_eq!(notice.len(), 1, "{notice:?}");
    assert!(
        notice[0].msg.contains("150 syslog records were lost"),
        "{:?}",
        notice[0].msg
    );
    assert_eq!(notice[0].severity, "warning");
}

#[cfg(unix)]
#[test]
fn timestamps_are_taken_when_the_record_is_logged_not_when_it_is_sent() {
    let Some(mut r) = Rsyslog::start() else {
        return;
    };
    r.stop();
    let a = appender_to(&format!("tcp://127.0.0.1:{}", r.tcp_port))
        .build()
        .unwrap();
    let logged = SystemTime::now();
    append(&a, Level::Info, "stamped early");
    std::thread::sleep(Duration::from_millis(1500));
    r.launch();
    a.flush();
    let line = r
        .wait_for("stamped early", 1)
        .pop()
        .expect("delivered after the outage");
    let m = syslog_rfc5424::parse_message(&line.raw).unwrap();
    let stamped = m.timestamp.unwrap() * 1_000_000 + (m.timestamp_nanos.unwrap() / 1000) as i64;
    let diff = stamped - unix_micros(logged);
    assert!(
        (0..100_000).contains(&diff),
        "stamped {diff} us after the append call"
    );
}

#[cfg(unix)]
#[test]
fn unix_datagram_and_stream_appenders_reconnect_after_the_daemon_restarts() {
    let Some(mut r) = Rsyslog::start() else {
        return;
    };
    let dgram = local_appender(&format!("unix:{}", r.path("log.sock").display()))
        .build()
        .unwrap();
    let stream = local_appender(&format!("unix-stream:{}", r.path("stream.sock").display()))
        .build()
        .unwrap();
    append(&dgram, Level::Info, "dgram before");
    append(&stream, Level::Info, "stream before");
    stream.flush();
    assert_eq!(r.wait_for("before", 2).len(), 2);
    r.stop();
    r.launch(); // new sockets at the same paths
    append(&dgram, Level::Info, "dgram after");
    append(&stream, Level::Info, "stream after");
    stream.flush();
    let after = r.wait_for("after", 2);
    assert_eq!(after.len(), 2, "{after:#?}");
}

/// Counts heap allocations made by the current thread (to check the UDP path allocates nothing
/// per record once warmed up).
struct CountingAllocator;

thread_local! {
    static THREAD_ALLOCATIONS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl std::alloc::GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        let _ = THREAD_ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

#[test]
fn udp_appends_allocate_nothing_per_record_once_warm() {
    let (rx, addr) = udp_receiver();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while rx.recv(&mut buf).is_ok() {}
    });
    let a = SyslogAppender::builder().address(&addr).build().unwrap();
    let kvs = [("request", 1962000u64)];
    let send = |i: u64| {
        a.append(
            &Record::builder()
                .level(Level::Info)
                .args(format_args!("user {i} logged in"))
                .key_values(&kvs)
                .build(),
        )
        .unwrap();
    };
    for i in 0..10 {
        send(i);
    }
    let before = THREAD_ALLOCATIONS.with(|c| c.get());
    for i in 0..2000 {
        send(i);
    }
    let allocations = THREAD_ALLOCATIONS.with(|c| c.get()) - before;
    // A new second re-formats the cached timestamp (a few small strings) at most once or twice.
    assert!(
        allocations <= 12,
        "{allocations} allocations for 2000 records"
    );
}

/// An appender for a local socket with the defaults a local program would use (no hostname).
#[cfg(unix)]
fn local_appender(address: &str) -> log4rs_appenders::syslog::SyslogAppenderBuilder {
    SyslogAppender::builder().address(address).app_name("e2e")
}

#[cfg(unix)]
#[test]
fn tls_with_a_client_certificate_reaches_an_rsyslog_that_requires_one() {
    let Some(r) = Rsyslog::start() else { return };
    let without = appender_to(&format!("tls://127.0.0.1:{}", r.mtls_port))
        .name("mtls-without-client-cert")
        .root_certificate(r.path("ca.pem"))
        .build()
        .unwrap();
    append(&without, Level::Info, "no client certificate");
    without.flush();
    let a = appender_to(&format!("tls://127.0.0.1:{}", r.mtls_port))
        .root_certificate(r.path("ca.pem"))
        .client_certificate(r.path("client.pem"))
        .client_key(r.path("client.key"))
        .build()
        .unwrap();
    append(&a, Level::Info, "mutual tls works");
    a.flush();
    assert_eq!(r.wait_for("mutual tls works", 1).len(), 1);
    std::thread::sleep(Duration::from_millis(300));
    let rejected = r
        .lines()
        .into_iter()
        .filter(|l| l.msg.contains("no client certificate"));
    assert_eq!(
        rejected.count(),
        0,
        "the server must refuse a client without a certificate"
    );
}

#[cfg(unix)]
#[test]
fn danger_accept_invalid_certs_connects_to_an_unknown_server() {
    let Some(r) = Rsyslog::start() else { return };
    let a = appender_to(&format!("tls://127.0.0.1:{}", r.tls_port))
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    append(&a, Level::Info, "accepted anyway");
    a.flush();
    assert_eq!(r.wait_for("accepted anyway", 1).len(), 1);
}

/// A notice of lost records: `N syslog records were lost ..` or `1 syslog record was lost ..`.
fn is_lost_notice(text: &str) -> bool {
    text.contains(" syslog records were lost") || text.contains(" syslog record was lost")
}

#[cfg(unix)]
#[test]
fn datagrams_a_stalled_receiver_cannot_take_are_counted_and_the_count_is_sent_later() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stalled.sock");
    let receiver = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
    let a = local_appender(&format!("unix-dgram:{}", path.display()))
        .connect_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let total = 3000;
    let start = Instant::now();
    for i in 0..total {
        append(&a, Level::Info, &format!("stalled {i}"));
    }
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "the logging thread must not wait"
    );
    std::thread::sleep(Duration::from_millis(500)); // the spill worker gives up on the rest
    // The receiver wakes up: it drains what its queue held, then the appender flushes.
    receiver.set_nonblocking(true).unwrap();
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    let mut drain = |received: &mut Vec<String>| {
        while let Ok(n) = receiver.recv(&mut buf) {
            received.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    };
    drain(&mut received);
    a.flush();
    std::thread::sleep(Duration::from_millis(100));
    drain(&mut received);
    let delivered: Vec<usize> = received
        .iter()
        .filter_map(|m| m.split("stalled ").nth(1)?.parse().ok())
        .collect();
    assert!(
        delivered.windows(2).all(|w| w[0] < w[1]),
        "in order: {delivered:?}"
    );
    let notice = received
        .iter()
        .find(|m| is_lost_notice(m))
        .unwrap_or_else(|| panic!("no lost-count notice among {received:?}"));
    let lost: usize = notice
        .split(": ")
        .find_map(|part| part.split(' ').next()?.parse().ok())
        .unwrap();
    assert_eq!(delivered.len() + lost, total, "{notice}");
    assert!(lost > 0);
}

#[cfg(unix)]
#[test]
fn datagrams_the_full_queue_dropped_are_reported_as_such_not_as_an_outage() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slow.sock");
    let receiver = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
    let name = "queue-full-dgram";
    let a = local_appender(&format!("unix-dgram:{}", path.display()))
        .name(name)
        .connect_timeout(Duration::from_secs(10)) // the spill worker waits, never gives up
        .build()
        .unwrap();
    capture_errors();
    // The receiver reads nothing yet: the spill worker waits for room while its queue (4096
    // records) fills and the rest is dropped.
    let total = 10_000;
    for i in 0..total {
        append(&a, Level::Info, &format!("slow {i}"));
    }
    // The receiver reads again, as fast as it can.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            receiver
                .set_read_timeout(Some(Duration::from_millis(50)))
                .unwrap();
            let mut received = Vec::new();
            let mut buf = [0u8; 4096];
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if let Ok(n) = receiver.recv(&mut buf) {
                    received.push(String::from_utf8_lossy(&buf[..n]).into_owned());
                }
            }
            received
        })
    };
    a.flush();
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let received = reader.join().unwrap();
    let delivered = received.iter().filter(|m| m.contains("slow ")).count();
    let notices: Vec<&String> = received.iter().filter(|m| is_lost_notice(m)).collect();
    let reported: Vec<String> = capture_errors()
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.contains(&format!("appender \"{name}\"")))
        .cloned()
        .collect();
    eprintln!("{delivered} delivered; notices {notices:?}; reported {reported:?}");
    assert!(
        delivered < total,
        "nothing was dropped: the test proves nothing"
    );
    // The spill worker's socket has send room of its own (unix datagrams queued at the
    // receiver count against their sender's buffer), so it may get a few records through, and
    // report the drops so far, while the logging thread is still dropping: a notice per run of
    // drops, each counting its own.
    assert!(!notices.is_empty(), "no notice among {received:?}");
    let count = |text: &str| -> usize {
        text.split(": ")
            .find_map(|part| part.split(' ').next()?.parse().ok())
            .unwrap_or_else(|| panic!("no count in {text}"))
    };
    for n in &notices {
        assert!(
            n.contains(" lost because the syslog queue was full (on_full: drop)"),
            "{n}"
        );
        assert!(!n.contains("not taking"), "{n}");
    }
    let lost: usize = notices.iter().map(|n| count(n)).sum();
    assert_eq!(delivered + lost, total, "{notices:?}");
    // stderr has the same reports, and nothing else.
    assert_eq!(reported.len(), notices.len(), "{reported:?}");
    for (r, n) in reported.iter().zip(&notices) {
        assert!(n.ends_with(r.as_str()), "{r} / {n}");
    }
}

/// An encoder that fails on records whose message is "unencodable".
#[derive(Debug)]
struct FailsOnUnencodable;

impl log4rs::encode::Encode for FailsOnUnencodable {
    fn encode(&self, w: &mut dyn log4rs::encode::Write, record: &Record) -> anyhow::Result<()> {
        let text = record.args().to_string();
        if text == "unencodable" {
            anyhow::bail!("cannot encode this one");
        }
        w.write_all(text.as_bytes())?;
        Ok(())
    }
}

#[test]
fn records_an_encoding_streak_lost_are_counted_and_reported_when_one_gets_through() {
    let errors = capture_errors();
    let (receiver, address) = udp_receiver();
    let name = "encoding-streak";
    let a = SyslogAppender::builder()
        .name(name)
        .address(&address)
        .encoder(Box::new(FailsOnUnencodable))
        .build()
        .unwrap();
    let first = a.append(&record(Level::Info, format_args!("unencodable")));
    let first = format!("{:#}", first.unwrap_err());
    assert!(first.contains("encoding a record"), "{first}");
    for _ in 0..2 {
        // The same streak: counted, not reported again.
        a.append(&record(Level::Info, format_args!("unencodable")))
            .unwrap();
    }
    append(&a, Level::Info, "encodable");
    let delivered = String::from_utf8_lossy(&recv(&receiver)).into_owned();
    assert!(delivered.ends_with("encodable"), "{delivered}");
    let notice = String::from_utf8_lossy(&recv(&receiver)).into_owned();
    assert!(
        notice.contains(&format!(
            "appender \"{name}\": 3 records were lost between "
        )) && notice.ends_with("; sending works again"),
        "{notice}"
    );
    assert!(
        notice.starts_with("<12>"),
        "a warning (user.warning): {notice}"
    );
    let reported = errors.lock().unwrap();
    assert_eq!(
        reported
            .iter()
            .filter(|e| e.contains(&format!("appender \"{name}\": 3 records were lost")))
            .count(),
        1,
        "{reported:?}"
    );
}
