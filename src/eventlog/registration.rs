//! Registering an event source: the registry key that tells Event Viewer where the source's
//! messages live, so it shows each record's text without the "description for Event ID ...
//! cannot be found" note.
//!
//! The key is `HKLM\SYSTEM\CurrentControlSet\Services\EventLog\<log>\<source>` with
//! `EventMessageFile` (REG_EXPAND_SZ) and `TypesSupported` (7: error, warning, information).
//! The message file defaults to .NET Framework's `EventLogMessages.dll`, which every Windows
//! since 10 / Server 2016 ships and whose message for every id 0-65535 is just `%1` (the
//! record's text); it is what PowerShell's `New-EventLog` and .NET's `EventLog` register too.

/// The registry path, under `HKEY_LOCAL_MACHINE`, of the event logs' configuration.
pub const EVENT_LOG_REGISTRY_PATH: &str = r"SYSTEM\CurrentControlSet\Services\EventLog";

/// Where .NET Framework's `EventLogMessages.dll` lives, newest and 64-bit first, as written to
/// the registry (`%SystemRoot%` is expanded by Windows when the value is read).
pub const DOTNET_MESSAGE_FILES: [&str; 4] = [
    r"%SystemRoot%\Microsoft.NET\Framework64\v4.0.30319\EventLogMessages.dll",
    r"%SystemRoot%\Microsoft.NET\Framework\v4.0.30319\EventLogMessages.dll",
    r"%SystemRoot%\Microsoft.NET\Framework64\v2.0.50727\EventLogMessages.dll",
    r"%SystemRoot%\Microsoft.NET\Framework\v2.0.50727\EventLogMessages.dll",
];

/// The registration of one event source: which log it belongs to and which message file
/// Event Viewer formats its events with. Registering and deregistering need administrator
/// rights, so they belong in an installer (or the `eventlog register` command of the CLI).
///
/// ```no_run
/// use log4rs_appenders::eventlog::SourceRegistration;
/// SourceRegistration::new("Microblog").log("Application").register()?;
/// # Ok::<(), anyhow::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceRegistration {
    source: String,
    log: String,
    message_file: Option<String>,
}

impl SourceRegistration {
    /// The registration of `source` in the Application log, with .NET's message file.
    pub fn new(source: impl Into<String>) -> Self {
        SourceRegistration {
            source: source.into(),
            log: "Application".to_owned(),
            message_file: None,
        }
    }

    /// The log to register the source in (default `Application`). A log that does not exist yet
    /// is created by registering a source in it.
    pub fn log(mut self, log: impl Into<String>) -> Self {
        self.log = log.into();
        self
    }

    /// The message file to register instead of .NET's `EventLogMessages.dll`: a DLL whose
    /// message table maps the event ids you use to `%1`. `%SystemRoot%`-style variables are
    /// allowed (the value is stored as REG_EXPAND_SZ).
    pub fn message_file(mut self, path: impl Into<String>) -> Self {
        self.message_file = Some(path.into());
        self
    }

    /// The registry key of this source, under `HKEY_LOCAL_MACHINE`.
    ///
    /// ```
    /// use log4rs_appenders::eventlog::SourceRegistration;
    /// assert_eq!(
    ///     SourceRegistration::new("Microblog").key_path().unwrap(),
    ///     r"SYSTEM\CurrentControlSet\Services\EventLog\Application\Microblog"
    /// );
    /// ```
    pub fn key_path(&self) -> anyhow::Result<String> {
        check_key_name("source", &self.source)?;
        check_key_name("log", &self.log)?;
        Ok(format!(
            "{EVENT_LOG_REGISTRY_PATH}\\{}\\{}",
            self.log, self.source
        ))
    }

    /// Writes the source's registry key (needs administrator rights). Registering again
    /// overwrites the values, so installers can call it on every install.
    pub fn register(&self) -> anyhow::Result<()> {
        let path = self.key_path()?;
        imp::register(&path, self.message_file.as_deref())
            .map_err(|e| self.error("register", &path, e))
    }

    /// Removes the source's registry key (needs administrator rights). Returns false when the
    /// source was not registered in this log.
    pub fn deregister(&self) -> anyhow::Result<bool> {
        let path = self.key_path()?;
        imp::deregister(&path).map_err(|e| self.error("deregister", &path, e))
    }

    /// True when the source is registered in this log (needs no special rights).
    pub fn is_registered(&self) -> anyhow::Result<bool> {
        let path = self.key_path()?;
        imp::is_registered(&path).map_err(|e| self.error("look up", &path, e))
    }

    fn error(&self, action: &str, path: &str, e: anyhow::Error) -> anyhow::Error {
        let admin = e
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::PermissionDenied);
        let hint = if admin {
            " (this needs administrator rights: run it from an elevated prompt or the installer)"
        } else {
            ""
        };
        anyhow::anyhow!(
            "cannot {action} event source {:?} (HKLM\\{path}): {e:#}{hint}",
            self.source
        )
    }
}

/// Registers `source` in the Application log with .NET's `EventLogMessages.dll` as its message
/// file, so Event Viewer shows records' text as is. Needs administrator rights; see
/// [`SourceRegistration`] for another log or message file.
pub fn register_source(source: &str) -> anyhow::Result<()> {
    SourceRegistration::new(source).register()
}

/// Removes the registration of `source` from the Application log. Returns false when it was not
/// registered. Needs administrator rights.
pub fn deregister_source(source: &str) -> anyhow::Result<bool> {
    SourceRegistration::new(source).deregister()
}

/// A source or log name must be one registry key name: not empty, no backslash, at most 255
/// characters (the registry's limit).
pub(crate) fn check_key_name(field: &str, name: &str) -> anyhow::Result<()> {
    if name.trim().is_empty() {
        anyhow::bail!(
            "field \"{field}\": must not be empty (an event {field} name such as Microblog)"
        );
    }
    if name.contains('\\') {
        anyhow::bail!(
            "field \"{field}\": {name:?} must not contain a backslash (it is a registry key name)"
        );
    }
    if name.chars().any(char::is_control) {
        anyhow::bail!("field \"{field}\": {name:?} must not contain control characters");
    }
    if name.encode_utf16().count() > 255 {
        anyhow::bail!("field \"{field}\": is longer than 255 characters, the registry's limit");
    }
    Ok(())
}

/// `path` with a leading `%SystemRoot%` replaced by `system_root`.
#[cfg_attr(not(windows), allow(dead_code))]
pub(crate) fn expand_system_root(path: &str, system_root: &str) -> String {
    match path.get(..12) {
        Some(prefix) if prefix.eq_ignore_ascii_case("%SystemRoot%") => {
            format!("{system_root}{}", &path[12..])
        }
        _ => path.to_owned(),
    }
}

#[cfg(windows)]
mod imp {
    use super::super::windows::RegistryKey;
    use super::{DOTNET_MESSAGE_FILES, expand_system_root};

    pub(super) fn register(path: &str, message_file: Option<&str>) -> anyhow::Result<()> {
        let message_file = match message_file {
            Some(file) => file.to_owned(),
            None => dotnet_message_file()?,
        };
        let key = RegistryKey::create(path)?;
        key.set_expand_string("EventMessageFile", &message_file)?;
        key.set_dword("TypesSupported", 7)?;
        Ok(())
    }

    pub(super) fn deregister(path: &str) -> anyhow::Result<bool> {
        Ok(RegistryKey::delete(path)?)
    }

    pub(super) fn is_registered(path: &str) -> anyhow::Result<bool> {
        Ok(RegistryKey::open(path)?.is_some())
    }

    fn dotnet_message_file() -> anyhow::Result<String> {
        let root = std::env::var("SystemRoot")
            .or_else(|_| std::env::var("windir"))
            .unwrap_or_else(|_| r"C:\Windows".to_owned());
        DOTNET_MESSAGE_FILES
            .iter()
            .find(|f| std::path::Path::new(&expand_system_root(f, &root)).is_file())
            .map(|f| (*f).to_owned())
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "no message file: .NET Framework's EventLogMessages.dll is not at {} \
                     (install .NET Framework 4, or give a message file with \
                     SourceRegistration::message_file)",
                    expand_system_root(DOTNET_MESSAGE_FILES[0], &root)
                )
            })
    }
}

#[cfg(not(windows))]
mod imp {
    fn only_on_windows() -> anyhow::Error {
        anyhow::anyhow!(
            "event sources exist only on Windows (this is {})",
            std::env::consts::OS
        )
    }

    pub(super) fn register(_path: &str, _message_file: Option<&str>) -> anyhow::Result<()> {
        Err(only_on_windows())
    }

    pub(super) fn deregister(_path: &str) -> anyhow::Result<bool> {
        Err(only_on_windows())
    }

    pub(super) fn is_registered(_path: &str) -> anyhow::Result<bool> {
        Err(only_on_windows())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_path_names_log_and_source() {
        let r = SourceRegistration::new("Microblog").log("Microblog Ops");
        assert_eq!(
            r.key_path().unwrap(),
            r"SYSTEM\CurrentControlSet\Services\EventLog\Microblog Ops\Microblog"
        );
    }

    #[test]
    fn a_backslash_or_empty_name_is_refused_naming_the_field() {
        let e = SourceRegistration::new(r"a\b")
            .key_path()
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("field \"source\": ") && e.contains("backslash"),
            "{e}"
        );
        let e = SourceRegistration::new("ok")
            .log(" ")
            .key_path()
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("field \"log\": ") && e.contains("empty"),
            "{e}"
        );
        let e = SourceRegistration::new("x".repeat(256))
            .key_path()
            .unwrap_err()
            .to_string();
        assert!(e.contains("255"), "{e}");
    }

    #[test]
    fn system_root_expands_only_as_a_prefix_in_any_case() {
        assert_eq!(
            expand_system_root(DOTNET_MESSAGE_FILES[0], r"C:\Windows"),
            r"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\EventLogMessages.dll"
        );
        assert_eq!(
            expand_system_root(r"%systemroot%\x.dll", r"D:\W"),
            r"D:\W\x.dll"
        );
        assert_eq!(
            expand_system_root(r"C:\app\msg.dll", r"D:\W"),
            r"C:\app\msg.dll"
        );
    }

    #[cfg(not(windows))]
    #[test]
    fn registering_elsewhere_than_windows_says_why_it_cannot() {
        let e = register_source("Microblog").unwrap_err().to_string();
        assert!(
            e.contains("only on Windows") && e.contains("Microblog"),
            "{e}"
        );
    }
}
