//! Runs tests/smtp_server.py (aiosmtpd, a real SMTP server we did not write) for tests/smtp.rs
//! and benches/smtp_latency.rs, and collects what it received.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One mail as the server received and parsed it.
#[derive(Clone, Debug)]
pub struct ReceivedMail {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
    pub auth: Option<String>,
    /// Decoded by Python's email parser.
    pub subject: String,
    pub headers: Vec<String>,
    pub body: String,
}

impl ReceivedMail {
    /// The `X-Log4rs-Records` header: records this mail accounts for.
    pub fn records(&self) -> u64 {
        self.data
            .lines()
            .find_map(|l| l.strip_prefix("X-Log4rs-Records: "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    }
}

/// A running server; it exits when this is dropped (its stdin closes).
pub struct SmtpServer {
    child: Child,
    stdin: Option<ChildStdin>,
    pub port: u16,
    pub mails: Arc<Mutex<Vec<ReceivedMail>>>,
    /// Other things the server saw, one JSON object each (`{"event": "auth", "user", "ok"}`).
    pub events: Arc<Mutex<Vec<serde_json::Value>>>,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_server.py")
}

impl SmtpServer {
    /// Starts the server with extra arguments (`--mode`, `--cert`, `--key`, `--auth`,
    /// `--delay`, `--port`), collecting into `mails`.
    pub fn start_into(args: &[&str], mails: Arc<Mutex<Vec<ReceivedMail>>>) -> SmtpServer {
        let mut child = Command::new("python3")
            .arg(script())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start python3 tests/smtp_server.py");
        let stdin = child.stdin.take();
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut first = String::new();
        stdout
            .read_line(&mut first)
            .expect("read the server's port");
        let port: u16 = first
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("smtp_server.py did not print its port: {first:?}"));
        let sink = mails.clone();
        let events = Arc::new(Mutex::new(Vec::new()));
        let event_sink = events.clone();
        std::thread::spawn(move || {
            for line in stdout.lines() {
                let Ok(line) = line else { break };
                let v: serde_json::Value = match serde_json::from_str(&line) {
                    Ok(v) => v,
                    Err(e) => panic!("bad line from smtp_server.py: {e}: {line}"),
                };
                if v.get("event").is_some() {
                    event_sink.lock().unwrap().push(v);
                    continue;
                }
                let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
                let list = |k: &str| {
                    v[k].as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|x| x.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default()
                };
                sink.lock().unwrap().push(ReceivedMail {
                    from: s("from"),
                    to: list("to"),
                    data: s("data"),
                    auth: v["auth"].as_str().map(str::to_owned),
                    subject: s("subject"),
                    headers: list("headers"),
                    body: s("body"),
                });
            }
        });
        SmtpServer {
            child,
            stdin,
            port,
            mails,
            events,
        }
    }

    pub fn start(args: &[&str]) -> SmtpServer {
        Self::start_into(args, Arc::new(Mutex::new(Vec::new())))
    }

    /// A copy of what arrived so far.
    pub fn received(&self) -> Vec<ReceivedMail> {
        self.mails.lock().unwrap().clone()
    }

    /// The events of kind `kind` seen so far.
    pub fn events(&self, kind: &str) -> Vec<serde_json::Value> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e["event"] == kind)
            .cloned()
            .collect()
    }

    /// Waits (bounded) until `done` holds for the mails received so far.
    pub fn wait_until(
        &self,
        timeout: Duration,
        done: impl Fn(&[ReceivedMail]) -> bool,
    ) -> Vec<ReceivedMail> {
        let end = Instant::now() + timeout;
        loop {
            let mails = self.received();
            if done(&mails) || Instant::now() >= end {
                return mails;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the server and waits for it to exit.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stdin.take();
        let end = Instant::now() + Duration::from_secs(5);
        while Instant::now() < end {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}
