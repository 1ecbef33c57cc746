//! The kind registry: every appender and encoder kind this crate adds is one entry in ONE list
//! (`src/registry/kinds.rs`), and everything that needs to know the kinds is made from it: log4rs's
//! [`Deserializers`] ([`crate::deserializers`]) and the strict loader's table of kinds (which
//! kinds exist, which are ours, which need a cargo feature this build lacks).
//!
//! A kind implements [`AppenderKind`] (or [`EncoderKind`]) in its own folder; one generic
//! deserializer ([`KindDeserializer`]) turns any of them into a log4rs deserializer.
//!
//! Building an appender is two steps, so that a config with a problem has no side effects:
//! [`AppenderKind::check`] is pure (it parses, resolves and validates: every check the builder
//! makes), and [`AppenderKind::start`] opens files, spawns threads and touches spools. The strict
//! loader checks every appender of a config before it starts any.

mod kinds;
mod log4rs_kinds;

use std::marker::PhantomData;

use log4rs::append::Append;
use log4rs::config::{Deserialize, Deserializers};
use log4rs::encode::Encode;
use serde::de::DeserializeOwned;

use crate::fields::parse_config;

/// One appender kind (`kind: rotating_file`, `kind: smtp`, ...).
///
/// ```ignore
/// pub struct SmtpKind;
/// impl AppenderKind for SmtpKind {
///     const KIND: &'static str = "smtp";
///     const FEATURE: Option<&'static str> = Some("smtp");
///     type Config = config::SmtpConfig;           // the YAML shape (serde)
///     type Checked = builder::SmtpAppenderBuilder; // every check passed, nothing started
///     fn check(c: Self::Config, d: &Deserializers) -> anyhow::Result<Self::Checked> { .. }
///     fn start(b: Self::Checked) -> anyhow::Result<Box<dyn Append>> { .. }
/// }
/// ```
pub trait AppenderKind: 'static {
    /// The YAML `kind:` value.
    const KIND: &'static str;
    /// The cargo feature that compiles the kind in (`None`: always there).
    const FEATURE: Option<&'static str>;
    /// The YAML shape, deserialized strictly (unknown fields are refused with a "did you mean").
    type Config: DeserializeOwned;
    /// What [`check`](Self::check) settled: an appender ready to start.
    type Checked: 'static;

    /// Every check, and no side effect: no file created, no thread, socket or spool. Errors name
    /// the field (`field "port": ...`). `deserializers` build a nested `encoder:`.
    fn check(config: Self::Config, deserializers: &Deserializers) -> anyhow::Result<Self::Checked>;

    /// Starts the appender: opens files, spawns its worker, picks up its spool.
    fn start(checked: Self::Checked) -> anyhow::Result<Box<dyn Append>>;
}

/// One encoder kind (`encoder: { kind: python, .. }`).
pub trait EncoderKind: 'static {
    /// The YAML `kind:` value.
    const KIND: &'static str;
    /// The YAML shape, deserialized strictly.
    type Config: DeserializeOwned;

    /// Builds the encoder (encoders have no side effects). Errors name the field.
    fn build(config: Self::Config) -> anyhow::Result<Box<dyn Encode>>;
}

/// log4rs's deserializer for any [`AppenderKind`] or [`EncoderKind`]: parse strictly, check,
/// start. [`crate::deserializers`] registers one per kind.
pub struct KindDeserializer<K>(PhantomData<fn() -> K>);

impl<K> KindDeserializer<K> {
    /// The deserializer of kind `K`.
    pub const fn new() -> Self {
        KindDeserializer(PhantomData)
    }
}

impl<K> Default for KindDeserializer<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K> Clone for KindDeserializer<K> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K> Copy for KindDeserializer<K> {}

impl<K> std::fmt::Debug for KindDeserializer<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "KindDeserializer<{}>", std::any::type_name::<K>())
    }
}

/// The appender deserializer ([`AppenderKind`]s are wrapped in [`AsAppender`]).
impl<K: AppenderKind> Deserialize for KindDeserializer<AsAppender<K>> {
    type Trait = dyn Append;
    type Config = serde_value::Value;

    fn deserialize(
        &self,
        config: serde_value::Value,
        deserializers: &Deserializers,
    ) -> anyhow::Result<Box<dyn Append>> {
        K::start(check_kind::<K>(config, deserializers)?)
    }
}

/// The encoder deserializer ([`EncoderKind`]s are wrapped in [`AsEncoder`]).
impl<K: EncoderKind> Deserialize for KindDeserializer<AsEncoder<K>> {
    type Trait = dyn Encode;
    type Config = serde_value::Value;

    fn deserialize(
        &self,
        config: serde_value::Value,
        _: &Deserializers,
    ) -> anyhow::Result<Box<dyn Encode>> {
        K::build(parse_config(config)?)
    }
}

/// Marks `K` as an appender kind for [`KindDeserializer`] (a type can be only one of the two
/// kinds of kind, but Rust cannot see that without this marker).
pub struct AsAppender<K>(PhantomData<fn() -> K>);

/// Marks `K` as an encoder kind for [`KindDeserializer`].
pub struct AsEncoder<K>(PhantomData<fn() -> K>);

/// The deserializer of appender kind `K`, as log4rs wants it.
pub type AppenderDeserializer<K> = KindDeserializer<AsAppender<K>>;

/// The deserializer of encoder kind `K`, as log4rs wants it.
pub type EncoderDeserializer<K> = KindDeserializer<AsEncoder<K>>;

fn check_kind<K: AppenderKind>(
    config: serde_value::Value,
    deserializers: &Deserializers,
) -> anyhow::Result<K::Checked> {
    K::check(parse_config(config)?, deserializers)
}

/// An appender whose config passed every check, not started yet.
pub(crate) trait CheckedAppender {
    /// Starts it (files, threads, sockets, spool).
    fn start(self: Box<Self>) -> anyhow::Result<Box<dyn Append>>;
}

struct Checked<K: AppenderKind>(K::Checked);

impl<K: AppenderKind> CheckedAppender for Checked<K> {
    fn start(self: Box<Self>) -> anyhow::Result<Box<dyn Append>> {
        K::start(self.0)
    }
}

/// What the list knows of a compiled-in appender kind, without its type.
#[derive(Clone, Copy)]
pub(crate) struct AppenderFns {
    kind: &'static str,
    #[cfg_attr(not(test), allow(dead_code))]
    feature: Option<&'static str>,
    register: fn(&mut Deserializers),
    check: fn(serde_value::Value, &Deserializers) -> anyhow::Result<Box<dyn CheckedAppender>>,
}

impl AppenderFns {
    pub(crate) const fn of<K: AppenderKind>() -> Self {
        AppenderFns {
            kind: K::KIND,
            feature: K::FEATURE,
            register: |d| d.insert(K::KIND, AppenderDeserializer::<K>::new()),
            check: |config, d| {
                check_kind::<K>(config, d)
                    .map(|c| Box::new(Checked::<K>(c)) as Box<dyn CheckedAppender>)
            },
        }
    }
}

/// One entry of the appender list: the kind's name and feature, and its functions when the
/// feature is compiled in.
#[derive(Clone, Copy)]
pub(crate) struct AppenderEntry {
    pub(crate) kind: &'static str,
    pub(crate) feature: Option<&'static str>,
    pub(crate) fns: Option<AppenderFns>,
}

/// One entry of the encoder list.
#[derive(Clone, Copy)]
pub(crate) struct EncoderEntry {
    pub(crate) kind: &'static str,
    register: fn(&mut Deserializers),
}

impl EncoderEntry {
    pub(crate) const fn of<K: EncoderKind>() -> Self {
        EncoderEntry {
            kind: K::KIND,
            register: |d| d.insert(K::KIND, EncoderDeserializer::<K>::new()),
        }
    }
}

/// An entry of the appender list: `appender_kind!(file::RotatingFileKind)` for a kind that is
/// always compiled in, `appender_kind!("smtp", feature = "smtp", smtp::SmtpKind)` for one behind
/// a cargo feature (the name and feature are written out because the type does not exist when
/// the feature is off; a test checks they match the type's).
macro_rules! appender_kind {
    ($ty:ty) => {
        $crate::registry::AppenderEntry {
            kind: <$ty as $crate::registry::AppenderKind>::KIND,
            feature: None,
            fns: Some($crate::registry::AppenderFns::of::<$ty>()),
        }
    };
    ($kind:literal, feature = $feature:literal, $ty:ty) => {
        $crate::registry::AppenderEntry {
            kind: $kind,
            feature: Some($feature),
            #[cfg(feature = $feature)]
            fns: Some($crate::registry::AppenderFns::of::<$ty>()),
            #[cfg(not(feature = $feature))]
            fns: None,
        }
    };
}
pub(crate) use appender_kind;

/// log4rs's own appender kinds (all enabled in our log4rs dependency), split into check and
/// start for the strict loader (log4rs's deserializers stay registered for them).
const LOG4RS_APPENDERS: &[AppenderFns] = &[
    AppenderFns::of::<log4rs_kinds::ConsoleKind>(),
    AppenderFns::of::<log4rs_kinds::FileKind>(),
    AppenderFns::of::<log4rs_kinds::RollingFileKind>(),
];

/// log4rs's own encoder kinds.
const LOG4RS_ENCODER_KINDS: &[&str] = &["pattern", "json"];

/// Filter kinds (log4rs's).
pub(crate) const FILTER_KINDS: &[&str] = &["threshold"];

/// log4rs's default deserializers plus every kind in the list that this build compiles in.
pub(crate) fn deserializers() -> Deserializers {
    let mut d = Deserializers::default();
    for entry in kinds::ENCODERS {
        (entry.register)(&mut d);
    }
    for fns in kinds::APPENDERS.iter().filter_map(|e| e.fns) {
        (fns.register)(&mut d);
    }
    d
}

/// Every appender kind that can be used in YAML with this build.
pub(crate) fn appender_kinds() -> Vec<&'static str> {
    let mut kinds: Vec<&str> = LOG4RS_APPENDERS.iter().map(|f| f.kind).collect();
    for entry in kinds::APPENDERS {
        if entry.fns.is_some() && !kinds.contains(&entry.kind) {
            kinds.push(entry.kind);
        }
    }
    kinds
}

/// Every encoder kind that can be used in YAML with this build.
pub(crate) fn encoder_kinds() -> Vec<&'static str> {
    let mut kinds = LOG4RS_ENCODER_KINDS.to_vec();
    kinds.extend(kinds::ENCODERS.iter().map(|e| e.kind));
    kinds
}

/// The list entry of one of our appender kinds, compiled in or not.
pub(crate) fn our_appender_kind(kind: &str) -> Option<&'static AppenderEntry> {
    kinds::APPENDERS.iter().find(|e| e.kind == kind)
}

/// Checks the config of an appender of kind `kind` (ours or log4rs's) with no side effects;
/// `None` if the kind is unknown to this build.
pub(crate) fn check_appender(
    kind: &str,
    config: serde_value::Value,
    deserializers: &Deserializers,
) -> Option<anyhow::Result<Box<dyn CheckedAppender>>> {
    let fns = match our_appender_kind(kind) {
        Some(entry) => entry.fns?,
        None => *LOG4RS_APPENDERS.iter().find(|f| f.kind == kind)?,
    };
    Some((fns.check)(config, deserializers))
}

/// If `kind` is ours but its feature was not compiled in, says which feature to enable.
pub(crate) fn kind_unavailable(kind: &str) -> Option<String> {
    let entry = our_appender_kind(kind)?;
    if entry.fns.is_some() {
        return None;
    }
    Some(unavailable_message(entry))
}

/// What the strict loader says of a kind whose cargo feature this build lacks.
fn unavailable_message(entry: &AppenderEntry) -> String {
    let kind = entry.kind;
    let feature = entry.feature.unwrap_or_default();
    format!(
        "appender kind {kind:?} needs log4rs-appenders' cargo feature `{feature}`, which this build does not enable"
    )
}

/// Whether a kind is written as an appender's `kind:` or an encoder's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KindRole {
    /// `appenders: { name: { kind: .. } }`.
    Appender,
    /// `encoder: { kind: .. }` inside an appender.
    Encoder,
}

/// One kind of the registry (`src/registry/kinds.rs`), as [`kinds`] lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KindInfo {
    /// The YAML `kind:` value.
    pub kind: &'static str,
    /// The cargo feature that compiles it in (`None`: always there).
    pub feature: Option<&'static str>,
    /// Whether this build has it (its feature is enabled).
    pub compiled_in: bool,
    /// Appender or encoder.
    pub role: KindRole,
}

/// Every kind this crate adds, compiled in or not, in the order of the list: appenders, then
/// encoders. For tests and tools that enumerate the registry (log4rs's own kinds are not
/// listed).
///
/// ```
/// use log4rs_appenders::registry::{KindRole, kinds};
/// let smtp = kinds().find(|k| k.kind == "smtp").unwrap();
/// assert_eq!((smtp.feature, smtp.role), (Some("smtp"), KindRole::Appender));
/// ```
pub fn kinds() -> impl Iterator<Item = KindInfo> {
    let appenders = kinds::APPENDERS.iter().map(|e| KindInfo {
        kind: e.kind,
        feature: e.feature,
        compiled_in: e.fns.is_some(),
        role: KindRole::Appender,
    });
    let encoders = kinds::ENCODERS.iter().map(|e| KindInfo {
        kind: e.kind,
        feature: None,
        compiled_in: true,
        role: KindRole::Encoder,
    });
    appenders.chain(encoders)
}

/// Every appender kind in the list: (YAML kind, cargo feature, compiled in?). [`kinds`] lists
/// encoders too.
pub fn our_appender_kinds() -> impl Iterator<Item = (&'static str, Option<&'static str>, bool)> {
    kinds()
        .filter(|k| k.role == KindRole::Appender)
        .map(|k| (k.kind, k.feature, k.compiled_in))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_list_entry_names_the_kind_and_feature_of_its_type() {
        for entry in kinds::APPENDERS {
            if let Some(fns) = entry.fns {
                assert_eq!(fns.kind, entry.kind);
                assert_eq!(fns.feature, entry.feature, "{}", entry.kind);
            }
        }
    }

    /// The loader's answer to a kind whose feature is off, checked for every feature-gated entry
    /// whether or not this build has it (a build has each feature on or off, never both).
    #[test]
    fn a_kind_whose_feature_is_off_is_refused_naming_the_feature() {
        for entry in kinds::APPENDERS {
            let Some(feature) = entry.feature else {
                continue;
            };
            let message = unavailable_message(entry);
            assert!(
                message.contains(&format!("`{feature}`")) && message.contains(entry.kind),
                "{message}"
            );
            let off = AppenderEntry {
                fns: None,
                ..*entry
            };
            assert_eq!(unavailable_message(&off), message);
            match kind_unavailable(entry.kind) {
                None => assert!(entry.fns.is_some(), "{}", entry.kind),
                Some(m) => {
                    assert!(entry.fns.is_none(), "{}", entry.kind);
                    assert_eq!(m, message);
                }
            }
        }
    }

    #[test]
    fn kinds_are_listed_once() {
        let mut kinds: Vec<&str> = kinds::APPENDERS.iter().map(|e| e.kind).collect();
        kinds.extend(kinds::ENCODERS.iter().map(|e| e.kind));
        let n = kinds.len();
        kinds.sort_unstable();
        kinds.dedup();
        assert_eq!(kinds.len(), n, "{kinds:?}");
    }
}
