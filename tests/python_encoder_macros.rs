//! The drop-in macros through a real log4rs logger: `%(funcName)s` shows the enclosing function
//! for our macros and `(unknown function)` for `log::` macros; the rest of `log`'s syntax
//! (target, key-values with every capture, format args) works unchanged.

use std::fmt;
use std::sync::{Arc, Mutex};

use log4rs::append::Append;
use log4rs::config::{Appender, Config, Root};
use log4rs::encode::Encode;
use log4rs::encode::writer::simple::SimpleWriter;
use log4rs_appenders::encode::PythonEncoder;
use log4rs_appenders::prelude::*;

/// Encodes every record with the Python encoder into a shared list of lines.
#[derive(Debug)]
struct Capture {
    encoder: Arc<Mutex<PythonEncoder>>,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Append for Capture {
    fn append(&self, record: &log::Record) -> anyhow::Result<()> {
        let mut w = SimpleWriter(Vec::new());
        self.encoder.lock().unwrap().encode(&mut w, record)?;
        self.lines.lock().unwrap().push(String::from_utf8(w.0)?);
        Ok(())
    }

    fn flush(&self) {}
}

fn handle_login() {
    info!("login");
}

struct Cart;

impl Cart {
    fn total(&self) {
        warn!(items = 3; "total");
    }
}

trait Greeter {
    fn greet(&self);
}

impl Greeter for Cart {
    fn greet(&self) {
        debug!("hello");
    }
}

fn run_jobs() {
    let job = || trace!("job");
    job();
}

fn process<T: fmt::Debug>(t: T) {
    info!("{t:?}");
}

async fn fetch_user() {
    info!("fetching");
}

fn plain_log_macro() {
    log::info!("plain");
}

#[derive(Debug)]
struct ChargeError(std::io::Error);

impl fmt::Display for ChargeError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("charge failed")
    }
}

impl std::error::Error for ChargeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

fn key_values_and_targets() {
    let user = "ann";
    let e = ChargeError(std::io::Error::other("connection reset"));
    error!(
        target: "shop::pay",
        user,
        amount = 12.5,
        items:? = vec![1, 2],
        currency:% = "EUR",
        error:err = e;
        "payment of {} by {user}", 12.5
    );
    log!(log::Level::Info, "level {}", "given");
    log!(target: "shop::audit", log::Level::Warn, id = 9; "audited");
}

#[test]
fn macros_record_the_enclosing_function_and_log_macros_show_unknown_function() {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let encoder = Arc::new(Mutex::new(
        PythonEncoder::new(
            "%(funcName)s|%(levelname)s|%(name)s|%(filename)s|%(module)s|%(message)s",
        )
        .unwrap(),
    ));
    let config = Config::builder()
        .appender(Appender::builder().build(
            "capture",
            Box::new(Capture {
                encoder: encoder.clone(),
                lines: lines.clone(),
            }),
        ))
        .build(
            Root::builder()
                .appender("capture")
                .build(log::LevelFilter::Trace),
        )
        .unwrap();
    log4rs::init_config(config).unwrap();

    handle_login();
    Cart.total();
    Cart.greet();
    run_jobs();
    process(("a", 1));
    let mut fut = std::pin::pin!(fetch_user());
    let _ = fut
        .as_mut()
        .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()));
    plain_log_macro();

    let here = "python_encoder_macros.rs|python_encoder_macros";
    let target = "python_encoder_macros";
    let got = std::mem::take(&mut *lines.lock().unwrap());
    assert_eq!(
        got,
        vec![
            format!("handle_login|INFO|{target}|{here}|login\n"),
            format!("total|WARNING|{target}|{here}|total\n"),
            format!("greet|DEBUG|{target}|{here}|hello\n"),
            format!("run_jobs|TRACE|{target}|{here}|job\n"),
            format!("process|INFO|{target}|{here}|(\"a\", 1)\n"),
            format!("fetch_user|INFO|{target}|{here}|fetching\n"),
            format!("(unknown function)|INFO|{target}|{here}|plain\n"),
        ]
    );

    // Key-values with every capture form, and the error chain.
    key_values_and_targets();
    let got = std::mem::take(&mut *lines.lock().unwrap());
    assert_eq!(
        got,
        vec![
            format!(
                "key_values_and_targets|ERROR|shop::pay|{here}|payment of 12.5 by ann\n\
                 Error: charge failed\nCaused by: connection reset\n"
            ),
            format!("key_values_and_targets|INFO|{target}|{here}|level given\n"),
            format!("key_values_and_targets|WARNING|shop::audit|{here}|audited\n"),
        ]
    );

    // The key-values themselves, by key, in every capture form.
    *encoder.lock().unwrap() = PythonEncoder::with_defaults(
        "%(user)s %(amount).2f %(items)s %(currency)s %(id)03d %(funcName)s",
        ["user", "amount", "items", "currency", "id"].map(|k| (k, "-")),
    )
    .unwrap();
    let user = "ann";
    info!(user, amount = 12.5, items:? = vec![1, 2], currency:% = "EUR", id = 9; "kv");
    // Missing key-values show their declared default `-`, padded like text (`%(id)03d` gives
    // "  -").
    info!("no key-values: {}", "%(user)s shows -");
    let got = std::mem::take(&mut *lines.lock().unwrap());
    let test_fn = "macros_record_the_enclosing_function_and_log_macros_show_unknown_function";
    assert_eq!(
        got,
        vec![
            format!("ann 12.50 [1, 2] EUR 009 {test_fn}\n"),
            format!("- - - -   - {test_fn}\n")
        ]
    );
}

use std::future::Future as _;
