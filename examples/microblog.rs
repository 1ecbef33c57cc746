//! The microblog demo: the Flask Mega-Tutorial's error-handling chapter, in Rust.
//!
//! ```text
//! cargo run --example microblog
//! ```
//!
//! A tiny app with users. Editing a profile to another user's name hits the database's UNIQUE
//! constraint (the tutorial's deliberate bug): the error is logged with its error chain, goes
//! to `logs/microblog.log` (rotating, 10 KiB x 10) and is mailed to the admins. A background
//! thread then panics, and `log_panics()` turns that into a logged, mailed error too. The
//! database layer's statements go to their own logger and file. The mail goes to a debugging
//! SMTP server this program starts on 127.0.0.1:8025, and is printed here. It exits by itself.
//!
//! Logging is configured by `config-examples/microblog.yaml` (or the YAML file given as the
//! first argument); this file only logs. With `SENTRY_DSN` set (a Sentry project's, or a local
//! Bugsink's: see the README's Sentry section), the error and the panic also become Sentry
//! events: the demo adds a `sentry` appender to that YAML's root. Unset, nothing changes.

use std::error::Error;
use std::fmt;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use log4rs_appenders::debug_smtp::{DebugSmtpServer, ReceivedMail};
use log4rs_appenders::prelude::*;

/// The YAML next to this crate, whatever directory the demo runs in (logs/ is created there).
const CONFIG: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/config-examples/microblog.yaml"
);
/// Where the YAML's `mail` appender sends: the tutorial's `localhost:8025`.
const SMTP_ADDRESS: &str = "127.0.0.1:8025";

/// The database layer, standing in for SQLAlchemy / sqlx: logs every statement on its own
/// target, `microblog::db`, which the YAML sends to its own file at debug level.
mod db {
    use super::*;

    #[derive(Clone, Debug)]
    pub struct User {
        pub id: u32,
        pub username: String,
        pub about_me: String,
    }

    /// A constraint the database enforces, as sqlite reports it.
    #[derive(Debug)]
    pub struct IntegrityError {
        pub constraint: &'static str,
        pub statement: String,
    }

    impl fmt::Display for IntegrityError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(
                f,
                "(sqlite3.IntegrityError) UNIQUE constraint failed: {} [SQL: {}]",
                self.constraint, self.statement
            )
        }
    }

    impl Error for IntegrityError {}

    #[derive(Default)]
    pub struct Database {
        users: Vec<User>,
    }

    impl Database {
        pub fn insert_user(&mut self, username: &str) -> u32 {
            let id = self.users.len() as u32 + 1;
            debug!("INSERT INTO user (id, username) VALUES ({id}, {username:?})");
            self.users.push(User {
                id,
                username: username.to_owned(),
                about_me: String::new(),
            });
            id
        }

        pub fn user(&self, id: u32) -> Option<&User> {
            debug!("SELECT * FROM user WHERE id = {id}");
            self.users.iter().find(|u| u.id == id)
        }

        /// `UPDATE user SET username = ?, about_me = ? WHERE id = ?`, with `username` UNIQUE.
        pub fn update_user(&mut self, updated: &User) -> Result<(), IntegrityError> {
            let statement = format!(
                "UPDATE user SET username={:?}, about_me={:?} WHERE user.id = {}",
                updated.username, updated.about_me, updated.id
            );
            debug!("{statement}");
            if self
                .users
                .iter()
                .any(|u| u.username == updated.username && u.id != updated.id)
            {
                debug!("ROLLBACK");
                return Err(IntegrityError {
                    constraint: "user.username",
                    statement,
                });
            }
            if let Some(u) = self.users.iter_mut().find(|u| u.id == updated.id) {
                *u = updated.clone();
            }
            debug!("COMMIT");
            Ok(())
        }
    }
}

/// The web app's views, on target `microblog::routes`.
mod routes {
    use super::*;

    /// Why a request failed: what the app was doing, caused by what the database said.
    #[derive(Debug)]
    pub struct RequestError {
        pub doing: String,
        pub source: db::IntegrityError,
    }

    impl fmt::Display for RequestError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(&self.doing)
        }
    }

    impl Error for RequestError {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.source)
        }
    }

    /// `POST /edit_profile`: the tutorial's view, before the chapter's fix (no check that the
    /// new username is free).
    pub fn edit_profile(
        db: &mut db::Database,
        current_user: u32,
        username: &str,
        about_me: &str,
    ) -> Result<String, RequestError> {
        let Some(user) = db.user(current_user).cloned() else {
            warn!("edit_profile: no user {current_user}");
            return Ok("404 Not Found".to_owned());
        };
        let updated = db::User {
            username: username.to_owned(),
            about_me: about_me.to_owned(),
            ..user.clone()
        };
        db.update_user(&updated).map_err(|source| RequestError {
            doing: format!(
                "cannot save the profile of {:?} (user {}) with the new username {username:?}",
                user.username, user.id
            ),
            source,
        })?;
        info!("{:?} is now {username:?}", user.username);
        Ok(format!("302 Found, redirect to /user/{username}"))
    }

    /// What the framework does with a request: a failed one is logged with its error chain
    /// (Flask's "Exception on /edit_profile [POST]") and the user sees a polite 500 page.
    pub fn handle(path: &str, result: Result<String, RequestError>) -> String {
        match result {
            Ok(status) => status,
            Err(e) => {
                error!(error:err = e; "Exception on {path} [POST]");
                "500 Internal Server Error: An unexpected error has occurred. \
                 The administrator has been notified. Sorry for the inconvenience!"
                    .to_owned()
            }
        }
    }
}

fn main() -> ExitCode {
    println!("== microblog: the Flask error-handling chapter, in Rust ==\n");

    // The tutorial's `python -m smtpd -n -c DebuggingServer localhost:8025`, in-process.
    let server = match DebugSmtpServer::start(SMTP_ADDRESS) {
        Ok(server) => {
            println!(
                "debugging SMTP server listening on {} (mail is printed, not delivered)",
                server.local_addr()
            );
            Some(server)
        }
        Err(e) => {
            println!(
                "cannot start the debugging SMTP server on {SMTP_ADDRESS}: {e}; if \
                 `log4rs-appenders smtp-debug-server` runs there, the mail shows up in its window"
            );
            None
        }
    };

    // `cargo run --example microblog -- my.yaml` tries another config.
    let config = std::env::args().nth(1).unwrap_or_else(|| CONFIG.to_owned());
    let started = match with_sentry(&config) {
        Some(yaml) => log4rs_appenders::config::load_config_str(&yaml, &config)
            .map_err(log4rs_appenders::InitError::from)
            .and_then(|loaded| log4rs_appenders::init_config(loaded.config)),
        None => log4rs_appenders::init_file(&config),
    };
    let log = match started {
        Ok(handle) => handle,
        Err(e) => {
            eprintln!("cannot start logging:\n{e}");
            return ExitCode::from(1);
        }
    };
    log4rs_appenders::log_panics();
    println!("logging configured from {config}");
    info!("Microblog startup");

    let mut db = db::Database::default();
    db.insert_user("john");
    let susan = db.insert_user("susan");

    println!("\n-- requests --");
    let path = "/edit_profile";
    let response = routes::handle(
        path,
        routes::edit_profile(&mut db, susan, "susan_b", "I like tea"),
    );
    println!("POST {path} as susan, username \"susan_b\" -> {response}");
    let response = routes::handle(
        path,
        routes::edit_profile(&mut db, susan, "john", "I like tea"),
    );
    println!("POST {path} as susan_b, username \"john\"  -> {response}");

    let mut mails = Vec::new();
    if let Some(server) = &server {
        println!("\n-- the mail the admins get (printed by the debugging SMTP server) --");
        match wait_for_mail(server, "Exception on /edit_profile") {
            Some(mail) => {
                println!("{mail}");
                mails.push(mail);
            }
            None => println!("(no mail arrived within 20 seconds: see the errors above)"),
        }
    }

    // A background job with a bug: `log_panics()` logs the panic (with its backtrace) and mails
    // it, as Flask mails an unhandled exception.
    println!("\n-- a background thread panics --");
    let _ = std::thread::Builder::new()
        .name("avatar-resizer".into())
        .spawn(move || {
            let users = ["john", "susan_b"];
            let index = users.len() + std::hint::black_box(1);
            let user = users.get(index).expect("every post has an author");
            println!("resized the avatar of {user}");
        })
        .map(|worker| worker.join());
    if let Some(server) = &server {
        println!("\n-- the panic mail --");
        match wait_for_mail(server, "panicked") {
            Some(mail) => {
                println!("{mail}");
                mails.push(mail);
            }
            None => println!("(no mail arrived within 20 seconds: see the errors above)"),
        }
    }

    info!("Microblog shutdown");
    drop(log); // flushes every appender
    for file in ["logs/microblog.log", "logs/microblog-sql.log"] {
        println!("\n-- {file} --");
        match std::fs::read_to_string(file) {
            Ok(text) => print!("{text}"),
            Err(e) => println!("(cannot read it: {e})"),
        }
    }
    if server.is_some() && mails.len() < 2 {
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

/// With `SENTRY_DSN` set: the config's YAML with a `sentry` appender (`dsn_env: SENTRY_DSN`)
/// added to root, so errors and panics also become Sentry events and the records before them
/// breadcrumbs. `None` (the config as it is) when the variable is unset, or the file unreadable
/// (`init_file` then says why).
fn with_sentry(config: &str) -> Option<String> {
    std::env::var_os("SENTRY_DSN")?;
    if !cfg!(feature = "sentry") {
        println!(
            "SENTRY_DSN is set, but this build has no `sentry` feature: not sending to Sentry"
        );
        return None;
    }
    let mut yaml: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(config).ok()?).ok()?;
    let sentry = "{kind: sentry, dsn_env: SENTRY_DSN, environment: demo, release: microblog@0.1.0}";
    yaml["appenders"]["sentry"] = serde_yaml::from_str(sentry).ok()?;
    yaml["root"]["appenders"]
        .as_sequence_mut()?
        .push("sentry".into());
    println!("SENTRY_DSN is set: the error and the panic also go to Sentry");
    serde_yaml::to_string(&yaml).ok()
}

/// The next mail whose subject or body contains `needle`, waiting at most 20 seconds.
fn wait_for_mail(server: &DebugSmtpServer, needle: &str) -> Option<ReceivedMail> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        if let Some(mail) = server.recv_timeout(left)
            && (mail.subject().contains(needle) || mail.body().contains(needle))
        {
            return Some(mail);
        }
    }
    None
}
