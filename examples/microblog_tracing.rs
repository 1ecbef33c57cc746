//! The microblog demo's `tracing` variant: the same app, the same appenders, the same kind of
//! YAML, logged through `tracing` instead of `log`.
//!
//! ```text
//! cargo run --example microblog_tracing
//! ```
//!
//! As `cargo run --example microblog`: editing a profile to another user's name hits the
//! database's UNIQUE constraint; the error is logged with its error chain, goes to
//! `logs/microblog-tracing.log` (rotating) and is mailed to the admins through a debugging SMTP
//! server this program starts on 127.0.0.1:8025; a background thread panics and that is mailed
//! too. What `tracing` adds: every request is a span, the views are `#[instrument]` functions, so
//! the file and the mail show the span chain (`%(spans)s`) and `%(funcName)s` is the view.
//!
//! Logging is configured by `config-examples/microblog-tracing.yaml` (or the YAML file given as
//! the first argument), loaded by `log4rs_appenders::tracing::init_file`; this file only logs.

use std::error::Error;
use std::fmt;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use log4rs_appenders::debug_smtp::{DebugSmtpServer, ReceivedMail};
use tracing::{debug, error, info, warn};

/// The YAML next to this crate, whatever directory the demo runs in (logs/ is created there).
const CONFIG: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/config-examples/microblog-tracing.yaml"
);
/// Where the YAML's `mail` appender sends: the tutorial's `localhost:8025`.
const SMTP_ADDRESS: &str = "127.0.0.1:8025";

/// The database layer, standing in for SQLAlchemy / sqlx: logs every statement on its own
/// target, `microblog_tracing::db`, which the YAML sends to its own file at debug level.
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
        #[tracing::instrument(skip_all, fields(id = updated.id))]
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

/// The web app's views, on target `microblog_tracing::routes`.
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
    #[tracing::instrument(skip(db, about_me))]
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
    #[tracing::instrument(skip_all)]
    pub fn handle(path: &str, result: Result<String, RequestError>) -> String {
        match result {
            Ok(status) => status,
            Err(e) => {
                error!(error = &e as &dyn Error, "Exception on {path} [POST]");
                "500 Internal Server Error: An unexpected error has occurred. \
                 The administrator has been notified. Sorry for the inconvenience!"
                    .to_owned()
            }
        }
    }
}

fn main() -> ExitCode {
    println!("== microblog (tracing): the Flask error-handling chapter, in Rust ==\n");

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
    let log = match log4rs_appenders::tracing::init_file(&config) {
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
    let response = tracing::info_span!("request", method = "POST", path).in_scope(|| {
        routes::handle(
            path,
            routes::edit_profile(&mut db, susan, "susan_b", "I like tea"),
        )
    });
    println!("POST {path} as susan, username \"susan_b\" -> {response}");
    let response = tracing::info_span!("request", method = "POST", path).in_scope(|| {
        routes::handle(
            path,
            routes::edit_profile(&mut db, susan, "john", "I like tea"),
        )
    });
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
    for file in [
        "logs/microblog-tracing.log",
        "logs/microblog-tracing-sql.log",
    ] {
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
