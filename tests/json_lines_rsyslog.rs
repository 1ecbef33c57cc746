//! A real consumer of our JSON: rsyslog receives the syslog appender's RFC 5424 messages whose
//! body is a json_lines line, `mmjsonparse` parses the body, and rsyslog's own template writes
//! the fields it extracted (`$!levelname`, `$!user_id`, `$!order!id`, ...). Also pins down why
//! `ensure_ascii` exists: RFC 5424 puts a BOM before a non-ASCII message, and mmjsonparse then
//! refuses it.
#![cfg(all(unix, feature = "syslog"))]

mod support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use log::kv::Value;
use log4rs::append::Append;
use log4rs_appenders::encode::{FieldSet, JsonLinesEncoder};
use log4rs_appenders::syslog::SyslogAppender;

const INSTALL_HINT: &str = "apt-get install rsyslog (scripts/install/syslog.sh)";

/// rsyslogd in the foreground on a temp dir, TCP on a port it picks; killed on drop.
struct Rsyslog {
    dir: tempfile::TempDir,
    child: Child,
    port: u16,
}

impl Rsyslog {
    fn start() -> Option<Rsyslog> {
        if !support::peer_available("rsyslogd", INSTALL_HINT) {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        std::fs::create_dir_all(dir.path().join("work")).unwrap();
        // mmjsonparse with cookie="": the message is plain JSON (no "@cee:" prefix).
        // `:::json` re-escapes the extracted value, so a newline in it stays on one line here.
        let conf = format!(
            r#"global(workDirectory="{d}/work")
module(load="imtcp")
module(load="mmjsonparse")
input(type="imtcp" address="127.0.0.1" port="0" listenPortFileName="{d}/tcp.port")
template(name="J" type="string" string="%parsesuccess%|%$!levelname%|%$!name%|%$!message:::json%|%$!user_id%|%$!admin%|%$!order!id%|%$!order!items%|%$!service%|%$!env%|%$!exc_info:::json%\n")
action(type="mmjsonparse" cookie="")
*.* action(type="omfile" file="{d}/out.log" template="J")
"#
        );
        let conf_path = dir.path().join("rsyslog.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let child = Command::new(support::which("rsyslogd").unwrap())
            .arg("-n")
            .arg("-f")
            .arg(&conf_path)
            .arg("-i")
            .arg(dir.path().join("rsyslog.pid"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let port = loop {
            let text = std::fs::read_to_string(dir.path().join("tcp.port")).unwrap_or_default();
            if let Ok(port) = text.trim().parse::<u16>()
                && std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
            {
                break port;
            }
            assert!(
                Instant::now() < deadline,
                "rsyslogd did not come up in 10 s"
            );
            std::thread::sleep(Duration::from_millis(10));
        };
        Some(Rsyslog { dir, child, port })
    }

    /// Waits until `n` lines arrived (or 10 s passed).
    fn lines(&self, n: usize) -> Vec<Vec<String>> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = std::fs::read_to_string(self.dir.path().join("out.log")).unwrap_or_default();
            let lines: Vec<Vec<String>> = text
                .lines()
                .map(|l| l.split('|').map(str::to_owned).collect())
                .collect();
            if lines.len() >= n || Instant::now() > deadline {
                return lines;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
struct Timeout;

impl std::fmt::Display for Timeout {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("upstream timed out")
    }
}

impl std::error::Error for Timeout {}

#[derive(serde::Serialize)]
struct Order {
    id: u32,
    items: [&'static str; 2],
}

fn send(appender: &SyslogAppender, message: &str) {
    let order = Order {
        id: 7,
        items: ["tea", "scone"],
    };
    let error = Timeout;
    let kvs = [
        ("user_id", Value::from(72)),
        ("admin", Value::from(false)),
        ("order", Value::from_serde(&order)),
        ("error", Value::from_dyn_error(&error)),
    ];
    appender
        .append(
            &log::Record::builder()
                .args(format_args!("{message}"))
                .level(log::Level::Warn)
                .target("microblog::pay")
                .key_values(&kvs)
                .build(),
        )
        .unwrap();
    appender.flush();
}

fn appender(port: u16, ensure_ascii: bool) -> SyslogAppender {
    let encoder = JsonLinesEncoder::builder()
        .fields(FieldSet::Flat)
        .service("microblog")
        .extra("env", "prod")
        .ensure_ascii(ensure_ascii)
        .build()
        .unwrap();
    SyslogAppender::builder()
        .address(format!("tcp://127.0.0.1:{port}"))
        .app_name("microblog")
        .hostname("testhost")
        .structured_data(false)
        .encoder(Box::new(encoder))
        .build()
        .unwrap()
}

#[test]
fn rsyslogs_mmjsonparse_extracts_the_fields_of_our_lines() {
    let Some(r) = Rsyslog::start() else { return };
    let ascii = appender(r.port, true);
    send(&ascii, "payment for café ✓ failed\nretrying \"soon\"");
    let lines = r.lines(1);
    assert_eq!(lines.len(), 1, "{lines:?}");
    let f = &lines[0];
    assert_eq!(f[0], "OK", "mmjsonparse refused the line: {f:?}");
    assert_eq!(f[1], "WARNING");
    assert_eq!(f[2], "microblog::pay");
    assert_eq!(
        f[3], "payment for café ✓ failed\\nretrying \\\"soon\\\"",
        "{f:?}"
    );
    assert_eq!(f[4], "72");
    assert_eq!(f[5], "false");
    assert_eq!(f[6], "7");
    assert_eq!(f[7], r#"[ "tea", "scone" ]"#);
    assert_eq!(f[8], "microblog");
    assert_eq!(f[9], "prod");
    assert_eq!(f[10], "Error: upstream timed out");

    // Without ensure_ascii, a non-ASCII message gets RFC 5424's BOM, which mmjsonparse refuses
    // (what the docs say, and why the option exists); an ASCII one parses.
    let utf8 = appender(r.port, false);
    send(&utf8, "plain ascii");
    send(&utf8, "café");
    let lines = r.lines(3);
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[1][0], "OK", "{:?}", lines[1]);
    assert_eq!(lines[1][3], "plain ascii");
    assert_eq!(
        lines[2][0], "FAIL",
        "rsyslog now parses a JSON body after a BOM: ensure_ascii's docs can be relaxed ({:?})",
        lines[2]
    );
}
