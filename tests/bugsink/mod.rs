//! Bugsink, a real, self-hosted, Sentry-SDK-compatible error tracker (Django + SQLite), as the
//! peer of the sentry appender's tests and benchmark: one server per test binary (a random
//! port, a temporary folder), a project per test, and what the server stored read back through
//! its own Django models (`bugsink-manage shell -c`).
//!
//! Installed by `scripts/install/sentry.sh` into a virtualenv: `$BUGSINK_VENV`, default
//! `${XDG_CACHE_HOME:-$HOME/.cache}/log4rs-appenders/bugsink-venv`.
#![allow(dead_code)]

use std::fmt::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

/// What Bugsink stored for one issue.
#[derive(Debug, Clone)]
pub struct StoredIssue {
    /// `Issue.calculated_type` (the title's first part: the exception type, or "Log Message").
    pub ty: String,
    /// `Issue.calculated_value` (the title's rest: the exception value, or the message).
    pub value: String,
    /// `Issue.digested_event_count`.
    pub event_count: u64,
    /// Every stored event's JSON, as the server received it, oldest first.
    pub events: Vec<serde_json::Value>,
}

/// A project: its id and the DSN the appender gets.
#[derive(Debug, Clone)]
pub struct Project {
    pub id: u64,
    pub dsn: String,
}

/// One running Bugsink.
pub struct Bugsink {
    venv: PathBuf,
    dir: tempfile::TempDir,
    pub port: u16,
    server: Mutex<Option<Child>>,
    /// Tests that stop the server take it for writing; the others for reading.
    outage: RwLock<()>,
}

/// Bugsink served over HTTPS by gunicorn ([`Bugsink::start_tls`]); stopped when dropped.
pub struct TlsFrontEnd {
    child: Child,
    pub port: u16,
}

impl Drop for TlsFrontEnd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The virtualenv Bugsink is installed in.
pub fn venv() -> PathBuf {
    if let Some(v) = std::env::var_os("BUGSINK_VENV") {
        return PathBuf::from(v);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"));
    cache.join("log4rs-appenders").join("bugsink-venv")
}

fn python(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    }
}

/// The shared server of this test binary, started on first use; `None` (after a loud
/// SKIPPED message) when Bugsink is not installed, unless LOG4RS_APPENDERS_REQUIRE_PEERS=1,
/// where that fails instead.
pub fn shared() -> Option<&'static Bugsink> {
    static SERVER: OnceLock<Option<Bugsink>> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            let venv = venv();
            if !python(&venv).is_file() {
                let message = format!(
                    "SKIPPED: Bugsink (the Sentry-protocol server these tests send to) is not \
                     installed in {}. Install it with: bash scripts/install/sentry.sh (or run \
                     scripts/test.sh, which installs every peer)",
                    venv.display()
                );
                if std::env::var("LOG4RS_APPENDERS_REQUIRE_PEERS").as_deref() == Ok("1") {
                    panic!("{message} [LOG4RS_APPENDERS_REQUIRE_PEERS=1 makes this a failure]");
                }
                eprintln!(
                    "\n========================================================================"
                );
                eprintln!("{message}");
                eprintln!(
                    "========================================================================\n"
                );
                return None;
            }
            Some(Bugsink::start_new(venv).expect("Bugsink starts"))
        })
        .as_ref()
}

impl Bugsink {
    fn start_new(venv: PathBuf) -> Result<Bugsink, String> {
        let started = Instant::now();
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let server = Bugsink {
            venv,
            dir,
            port,
            server: Mutex::new(None),
            outage: RwLock::new(()),
        };
        server.run_script(&format!(
            "from bugsink.scripts.create_conf import main; \
             sys.argv = ['bugsink-create-conf', '--template', 'local', '--port', '{port}', '-o', 'bugsink_conf.py']; main()"
        ))?;
        // scripts/install/sentry.sh migrates a template database once; copying it saves the
        // 4-15 s a migration takes here.
        let template = server.venv.join("log4rs-appenders-template");
        if template.join("done").is_file() {
            for entry in std::fs::read_dir(&template).map_err(|e| e.to_string())? {
                let path = entry.map_err(|e| e.to_string())?.path();
                if path.extension().is_some_and(|x| x == "sqlite3") {
                    let to = server.dir.path().join(path.file_name().unwrap_or_default());
                    std::fs::copy(&path, to).map_err(|e| e.to_string())?;
                }
            }
        } else {
            server.manage(&["migrate", "-v0"])?;
        }
        server.start();
        eprintln!(
            "Bugsink started on 127.0.0.1:{port} in {:.1} s ({})",
            started.elapsed().as_secs_f64(),
            server.dir.path().display()
        );
        Ok(server)
    }

    /// The folder of its config, database and log.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn command(&self) -> Command {
        let mut c = Command::new(python(&self.venv));
        c.current_dir(self.dir.path())
            .env("DJANGO_SETTINGS_MODULE", "bugsink_conf")
            .env("PYTHONPATH", self.dir.path())
            .stdin(Stdio::null());
        c
    }

    fn run_script(&self, script: &str) -> Result<String, String> {
        let out = self
            .command()
            .arg("-c")
            .arg(format!("import sys\n{script}"))
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!(
                "{script}: {}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn manage(&self, args: &[&str]) -> Result<String, String> {
        let argv: Vec<String> = args.iter().map(|a| format!("{a:?}")).collect();
        self.run_script(&format!(
            "from bugsink.scripts.manage import main; sys.argv = ['bugsink-manage', {}]; main()",
            argv.join(", ")
        ))
    }

    /// Runs Python in Bugsink's Django shell and returns what it printed after `@@OUT@@`.
    pub fn shell(&self, code: &str) -> String {
        let out = self
            .manage(&["shell", "-c", code])
            .unwrap_or_else(|e| panic!("bugsink shell failed: {e}"));
        match out.split_once("@@OUT@@") {
            Some((_, rest)) => rest.trim().to_owned(),
            None => panic!("bugsink shell printed no result: {out}"),
        }
    }

    /// Starts the server (again), on the same port and database, and waits until it answers.
    /// It stops by itself when the test process ends (a watchdog thread in the server).
    pub fn start(&self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("server.log"))
            .expect("server log");
        let watchdog = format!(
            "import os, threading, time\n\
             parent = os.getppid()\n\
             def watch():\n\
             \x20   while os.getppid() == parent:\n\
             \x20       time.sleep(0.5)\n\
             \x20   os._exit(0)\n\
             threading.Thread(target=watch, daemon=True).start()\n\
             from bugsink.scripts.manage import main\n\
             sys.argv = ['bugsink-manage', 'runserver', '127.0.0.1:{}', '--noreload']\n\
             main()\n",
            self.port
        );
        let child = self
            .command()
            .arg("-c")
            .arg(format!("import sys\n{watchdog}"))
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start bugsink runserver");
        *self.server.lock().unwrap() = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "Bugsink did not listen within 60 s; see {}",
                self.dir.path().join("server.log").display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A second front end of the same Bugsink (same database) that serves HTTPS: Bugsink's own
    /// production server, gunicorn (installed with Bugsink), with `cert` and `key` (PEM files)
    /// and Python's `ssl` (OpenSSL) terminating TLS. Stopped when dropped (and, like the plain
    /// server, when the test process ends).
    pub fn start_tls(&self, cert: &Path, key: &Path) -> TlsFrontEnd {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("tls.log"))
            .expect("tls log");
        let script = format!(
            "import os, threading, time\n\
             parent = os.getppid()\n\
             def watch():\n\
             \x20   while os.getppid() == parent:\n\
             \x20       time.sleep(0.5)\n\
             \x20   os._exit(0)\n\
             threading.Thread(target=watch, daemon=True).start()\n\
             from gunicorn.app.wsgiapp import run\n\
             sys.argv = ['gunicorn', 'bugsink.wsgi:application', '--bind', '127.0.0.1:{port}', \
             '--workers', '1', '--certfile', {cert:?}, '--keyfile', {key:?}]\n\
             run()\n",
            cert = cert.display().to_string(),
            key = key.display().to_string(),
        );
        let child = self
            .command()
            .arg("-c")
            .arg(format!("import sys\n{script}"))
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start gunicorn");
        let front = TlsFrontEnd { child, port };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "gunicorn did not listen within 60 s; see {}",
                self.dir.path().join("tls.log").display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        front
    }

    /// Stops the server (the database stays).
    pub fn stop(&self) {
        if let Some(mut child) = self.server.lock().unwrap().take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_ok() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// For a test that stops the server: no other test runs meanwhile.
    pub fn exclusive(&self) -> std::sync::RwLockWriteGuard<'_, ()> {
        self.outage.write().unwrap_or_else(|p| p.into_inner())
    }

    /// For a test that needs the server up.
    pub fn shared_use(&self) -> std::sync::RwLockReadGuard<'_, ()> {
        self.outage.read().unwrap_or_else(|p| p.into_inner())
    }

    /// A new project (each test has its own, so tests never see each other's events).
    pub fn project(&self, name: &str) -> Project {
        let out = self.shell(&format!(
            "from teams.models import Team; from projects.models import Project\n\
             p = Project.objects.create(name={name:?}, team=Team.objects.create(name={name:?}))\n\
             print('@@OUT@@', p.id, p.dsn)"
        ));
        let (id, dsn) = out.split_once(' ').expect("id and dsn");
        Project {
            id: id.trim().parse().expect("project id"),
            dsn: dsn.trim().replace("@localhost:", "@127.0.0.1:"),
        }
    }

    /// Every issue of a project, oldest first, with its events.
    pub fn issues(&self, project: &Project) -> Vec<StoredIssue> {
        let out = self.shell(&format!(
            "import json\n\
             from issues.models import Issue\n\
             from events.models import Event\n\
             out = []\n\
             for i in Issue.objects.filter(project_id={}).order_by('digest_order'):\n\
             \x20   events = [json.loads(e.get_raw_data()) for e in Event.objects.filter(issue=i).order_by('digest_order')]\n\
             \x20   out.append(dict(ty=i.calculated_type, value=i.calculated_value, count=i.digested_event_count, events=events))\n\
             print('@@OUT@@' + json.dumps(out))",
            project.id
        ));
        let parsed: serde_json::Value = serde_json::from_str(&out).expect("issues JSON");
        parsed
            .as_array()
            .expect("a list")
            .iter()
            .map(|i| StoredIssue {
                ty: i["ty"].as_str().unwrap_or_default().to_owned(),
                value: i["value"].as_str().unwrap_or_default().to_owned(),
                event_count: i["count"].as_u64().unwrap_or(0),
                events: i["events"].as_array().cloned().unwrap_or_default(),
            })
            .collect()
    }

    /// Waits until the project holds `events` events (or `timeout` passed); returns its issues.
    pub fn wait_for_events(
        &self,
        project: &Project,
        events: usize,
        timeout: Duration,
    ) -> Vec<StoredIssue> {
        let deadline = Instant::now() + timeout;
        loop {
            let issues = self.issues(project);
            let stored: usize = issues.iter().map(|i| i.events.len()).sum();
            if stored >= events || Instant::now() >= deadline {
                return issues;
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// How many requests the server logged for this project's envelope endpoint, with this
    /// HTTP status (Django's runserver logs one line per request).
    pub fn envelope_requests(&self, project: &Project, status: u16) -> usize {
        let text = std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
        let path = format!("POST /api/{}/envelope/ ", project.id);
        text.lines()
            .filter(|l| l.contains(&path) && l.contains(&format!("\" {status} ")))
            .count()
    }

    /// Runs Bugsink's own quota logic's outcome for a project: marks its per-5-minutes quota
    /// (1,000 events by default) as exceeded for `seconds` (0: no longer), as Bugsink does when
    /// the project reaches it, so its ingest view answers 429 with `X-Sentry-Rate-Limits`.
    pub fn exceed_quota(&self, project: &Project, seconds: u64) {
        self.shell(&format!(
            "import json, datetime\n\
             from django.utils import timezone\n\
             from bugsink.app_settings import get_settings\n\
             from projects.models import Project\n\
             p = Project.objects.get(id={})\n\
             p.quota_exceeded_until = timezone.now() + datetime.timedelta(seconds={seconds}) if {seconds} else None\n\
             p.quota_exceeded_reason = json.dumps(['minute', 5, get_settings()['MAX_EVENTS_PER_PROJECT_PER_5_MINUTES']])\n\
             p.save(update_fields=['quota_exceeded_until', 'quota_exceeded_reason'])\n\
             print('@@OUT@@ ok')",
            project.id
        ));
    }

    /// The server's log so far (for failure messages).
    pub fn log(&self) -> String {
        let text = std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(30).collect();
        let mut out = String::new();
        for line in tail.into_iter().rev() {
            let _ = writeln!(out, "{line}");
        }
        out
    }
}

/// A TCP proxy in front of the real Bugsink that holds every piece of the server's answers for
/// `delay` before passing it on: a server that answers after `delay`. The delay is the only
/// thing faked; requests go to Bugsink unchanged, as soon as they arrive.
pub struct DelayProxy {
    pub port: u16,
}

impl DelayProxy {
    /// Listens on a random local port and forwards every connection to `127.0.0.1:upstream`.
    pub fn start(upstream: u16, delay: Duration) -> DelayProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy port");
        let port = listener.local_addr().expect("proxy address").port();
        std::thread::Builder::new()
            .name("delay-proxy".into())
            .spawn(move || {
                for client in listener.incoming().flatten() {
                    let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                        continue; // Bugsink stopped: the client sees the connection close.
                    };
                    let _ = client.set_nodelay(true);
                    let _ = server.set_nodelay(true);
                    let (Ok(client_w), Ok(server_r)) = (client.try_clone(), server.try_clone())
                    else {
                        continue;
                    };
                    // Requests: straight through.
                    std::thread::spawn(move || {
                        let (mut from, mut to) = (client, server);
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Write);
                    });
                    // Answers: each piece `delay` after it arrived.
                    std::thread::spawn(move || delayed_copy(server_r, client_w, delay));
                }
            })
            .expect("proxy thread");
        DelayProxy { port }
    }
}

fn delayed_copy(mut from: TcpStream, mut to: TcpStream, delay: Duration) {
    use std::io::{Read, Write};
    let (tx, rx) = std::sync::mpsc::channel::<(Instant, Vec<u8>)>();
    let writer = std::thread::spawn(move || {
        for (arrived, chunk) in rx {
            let due = arrived + delay;
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            if to.write_all(&chunk).is_err() {
                return;
            }
        }
        let _ = to.shutdown(std::net::Shutdown::Write);
    });
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if tx.send((Instant::now(), buf[..n].to_vec())).is_err() {
                    break;
                }
            }
        }
    }
    drop(tx);
    let _ = writer.join();
}
