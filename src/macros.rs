//! Drop-in replacements for `log`'s macros that also record the enclosing function's name, so
//! `%(funcName)s` shows it.
//!
//! Same syntax as `log`'s (`target:`, key-values with `=`, `:?`, `:%`, `:err`, format args);
//! each record gets one extra key-value, `funcName`. Swap `use log::{info, warn};` for
//! `use log4rs_appenders::prelude::*;`:
//!
//! ```
//! use log4rs_appenders::prelude::*;
//!
//! fn charge(user_id: u64) {
//!     info!(user_id; "charging user {user_id}");
//!     warn!(target: "shop::audit", amount = 12.5, currency:% = "EUR"; "refund");
//!     let e = std::io::Error::other("card declined");
//!     error!(error:err = e; "charge failed");
//! }
//! # charge(7);
//! ```
//!
//! Rust has no caller frames to inspect at run time, so the macro declares a local item and
//! takes the function's path from its `type_name` (`shop::pay::charge::f`), dropping closures
//! (`{{closure}}`) and keeping the last segment (`charge`). For methods that is the method
//! name, for `async fn` the function itself.
//!
//! Records from `log::info!` and friends carry no such key-value; `%(funcName)s` shows
//! `(unknown function)` for them, as CPython does when it cannot find the caller.

/// Logs at the given level, like `log::log!`, adding the key-value `funcName`.
///
/// ```
/// use log4rs_appenders::log;
/// log!(log::Level::Info, "{} items", 3);
/// log!(target: "shop::audit", log::Level::Warn, user = 7; "refund");
/// ```
#[macro_export]
macro_rules! log {
    // log!(target: "t", Level::Info, key = v, key2:? = v2; "a {} event", x)
    (target: $target:expr, $lvl:expr, $($key:tt $(:$capture:tt)? $(= $value:expr)?),+; $($arg:tt)+) => ({
        let lvl = $lvl;
        if lvl <= $crate::macros::__private::STATIC_MAX_LEVEL
            && lvl <= $crate::macros::__private::max_level()
        {
            $crate::macros::__private::log(
                ::core::format_args!($($arg)+),
                lvl,
                $target,
                &(::core::module_path!(), ::core::file!(), ::core::line!()),
                $crate::__log4rs_appenders_function_name!(),
                &[$((
                    $crate::__log4rs_appenders_key!($key),
                    $crate::__log4rs_appenders_value!($key $(:$capture)* = $($value)*)
                )),+],
            );
        }
    });

    // log!(target: "t", Level::Info, "a {} event", x)
    (target: $target:expr, $lvl:expr, $($arg:tt)+) => ({
        let lvl = $lvl;
        if lvl <= $crate::macros::__private::STATIC_MAX_LEVEL
            && lvl <= $crate::macros::__private::max_level()
        {
            $crate::macros::__private::log(
                ::core::format_args!($($arg)+),
                lvl,
                $target,
                &(::core::module_path!(), ::core::file!(), ::core::line!()),
                $crate::__log4rs_appenders_function_name!(),
                &[],
            );
        }
    });

    // log!(Level::Info, "a log event")
    ($lvl:expr, $($arg:tt)+) => (
        $crate::log!(target: ::core::module_path!(), $lvl, $($arg)+)
    );
}

/// Logs at the error level, like `log::error!`, adding the key-value `funcName`.
///
/// ```
/// use log4rs_appenders::error;
/// let e = std::io::Error::other("disk full");
/// error!(error:err = e, path = "/var/log/app"; "cannot write");
/// ```
#[macro_export]
macro_rules! error {
    (target: $target:expr, $($arg:tt)+) => (
        $crate::log!(target: $target, $crate::macros::__private::Level::Error, $($arg)+)
    );
    ($($arg:tt)+) => ($crate::log!($crate::macros::__private::Level::Error, $($arg)+));
}

/// Logs at the warn level, like `log::warn!`, adding the key-value `funcName`.
///
/// ```
/// use log4rs_appenders::warn;
/// warn!(retries = 3; "slow upstream");
/// ```
#[macro_export]
macro_rules! warn {
    (target: $target:expr, $($arg:tt)+) => (
        $crate::log!(target: $target, $crate::macros::__private::Level::Warn, $($arg)+)
    );
    ($($arg:tt)+) => ($crate::log!($crate::macros::__private::Level::Warn, $($arg)+));
}

/// Logs at the info level, like `log::info!`, adding the key-value `funcName`.
///
/// ```
/// use log4rs_appenders::info;
/// let user = "ann";
/// info!(target: "shop::auth", user; "{user} logged in");
/// ```
#[macro_export]
macro_rules! info {
    (target: $target:expr, $($arg:tt)+) => (
        $crate::log!(target: $target, $crate::macros::__private::Level::Info, $($arg)+)
    );
    ($($arg:tt)+) => ($crate::log!($crate::macros::__private::Level::Info, $($arg)+));
}

/// Logs at the debug level, like `log::debug!`, adding the key-value `funcName`.
///
/// ```
/// use log4rs_appenders::debug;
/// debug!(query:? = ("users", 7); "cache miss");
/// ```
#[macro_export]
macro_rules! debug {
    (target: $target:expr, $($arg:tt)+) => (
        $crate::log!(target: $target, $crate::macros::__private::Level::Debug, $($arg)+)
    );
    ($($arg:tt)+) => ($crate::log!($crate::macros::__private::Level::Debug, $($arg)+));
}

/// Logs at the trace level, like `log::trace!`, adding the key-value `funcName`.
///
/// ```
/// use log4rs_appenders::trace;
/// trace!("entering {}", "parse");
/// ```
#[macro_export]
macro_rules! trace {
    (target: $target:expr, $($arg:tt)+) => (
        $crate::log!(target: $target, $crate::macros::__private::Level::Trace, $($arg)+)
    );
    ($($arg:tt)+) => ($crate::log!($crate::macros::__private::Level::Trace, $($arg)+));
}

/// The enclosing function's short name (see the module docs).
#[doc(hidden)]
#[macro_export]
macro_rules! __log4rs_appenders_function_name {
    () => {{
        fn f() {}
        $crate::macros::__private::function_name(f)
    }};
}

#[doc(hidden)]
#[macro_export]
macro_rules! __log4rs_appenders_key {
    ($key:ident) => {
        ::core::stringify!($key)
    };
    ($key:literal) => {
        $key
    };
    ($key:expr) => {
        $key
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __log4rs_appenders_value {
    ($key:tt = $value:expr) => {
        $crate::__log4rs_appenders_value!(($value):value)
    };
    ($key:tt :$capture:tt = $value:expr) => {
        $crate::__log4rs_appenders_value!(($value):$capture)
    };
    ($key:ident =) => {
        $crate::__log4rs_appenders_value!(($key):value)
    };
    ($key:ident :$capture:tt =) => {
        $crate::__log4rs_appenders_value!(($key):$capture)
    };
    (($value:expr):value) => {
        $crate::macros::__private::capture_to_value(&&$value)
    };
    (($value:expr):?) => {
        $crate::macros::__private::capture_debug(&&$value)
    };
    (($value:expr):debug) => {
        $crate::macros::__private::capture_debug(&&$value)
    };
    (($value:expr):%) => {
        $crate::macros::__private::capture_display(&&$value)
    };
    (($value:expr):display) => {
        $crate::macros::__private::capture_display(&&$value)
    };
    (($value:expr):err) => {
        $crate::macros::__private::capture_error(&$value)
    };
}

/// The crate's macros, for `use log4rs_appenders::prelude::*;` in place of `use log::*` macros.
pub mod prelude {
    pub use crate::{debug, error, info, log, trace, warn};
}

/// Support for the macros; not a public API.
#[doc(hidden)]
pub mod __private {
    use std::fmt::Arguments;

    use log::kv::{self, Key, Source, Value, VisitSource};

    pub use log::{Level, STATIC_MAX_LEVEL, max_level};

    /// The record's own key-values, then `funcName`.
    struct WithFunction<'a> {
        key_values: &'a [(&'a str, Value<'a>)],
        function: &'static str,
    }

    impl Source for WithFunction<'_> {
        fn visit<'kvs>(&'kvs self, visitor: &mut dyn VisitSource<'kvs>) -> Result<(), kv::Error> {
            self.key_values.visit(visitor)?;
            visitor.visit_pair(Key::from_str("funcName"), Value::from(self.function))
        }

        fn count(&self) -> usize {
            self.key_values.len() + 1
        }
    }

    /// Builds the record and hands it to the installed logger.
    pub fn log(
        args: Arguments,
        level: Level,
        target: &str,
        &(module_path, file, line): &(&'static str, &'static str, u32),
        function: &'static str,
        key_values: &[(&str, Value)],
    ) {
        let source = WithFunction {
            key_values,
            function,
        };
        log::logger().log(
            &log::Record::builder()
                .args(args)
                .level(level)
                .target(target)
                .module_path_static(Some(module_path))
                .file_static(Some(file))
                .line(Some(line))
                .key_values(&source)
                .build(),
        );
    }

    pub fn capture_to_value<'a, V: kv::ToValue + ?Sized>(v: &'a &'a V) -> Value<'a> {
        v.to_value()
    }

    pub fn capture_debug<'a, V: core::fmt::Debug + ?Sized>(v: &'a &'a V) -> Value<'a> {
        Value::from_debug(v)
    }

    pub fn capture_display<'a, V: core::fmt::Display + ?Sized>(v: &'a &'a V) -> Value<'a> {
        Value::from_display(v)
    }

    pub fn capture_error<'a>(v: &'a (dyn std::error::Error + 'static)) -> Value<'a> {
        Value::from_dyn_error(v)
    }

    /// The name of the function enclosing `f` (a local item declared by the macro).
    pub fn function_name<F>(_: F) -> &'static str {
        short_function_name(core::any::type_name::<F>())
    }

    /// `shop::pay::charge::f` gives `charge`; `shop::run::{{closure}}::f` gives `run`;
    /// `<shop::Cart as shop::Total>::total::f` gives `total`.
    pub fn short_function_name(path: &'static str) -> &'static str {
        let mut path = path.strip_suffix("::f").unwrap_or(path);
        while let Some(rest) = path.strip_suffix("::{{closure}}") {
            path = rest;
        }
        path.rsplit("::").next().unwrap_or(path)
    }

    #[cfg(test)]
    mod tests {
        use super::short_function_name;

        #[test]
        fn function_names_drop_the_marker_closures_and_path() {
            assert_eq!(short_function_name("shop::pay::charge::f"), "charge");
            assert_eq!(
                short_function_name("shop::run::{{closure}}::{{closure}}::f"),
                "run"
            );
            assert_eq!(
                short_function_name("<shop::Cart as shop::Total>::total::f"),
                "total"
            );
            assert_eq!(short_function_name("main::f"), "main");
        }
    }
}
