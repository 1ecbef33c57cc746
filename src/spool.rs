//! The private spool directory shared by the appenders that keep undelivered work on disk (the
//! smtp appender's mails, the sentry appender's events): one file per item, written under a
//! temporary name, synced, then renamed into place (a crash never leaves half an item), and
//! deleted by the appender only after the server accepted it.
//!
//! A spool holds full error text, so it is private: the directory is created `0700`, every file
//! `0600`, and a directory that is a symbolic link, not a directory, or writable by group or
//! others is refused (when the config is checked, and again before every write), never
//! followed. Files that are not regular files (a planted link) are never read.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::count::Count;
use crate::lost::LostRecords;
use crate::report::{FailureStreak, report_error};

/// Refuses a spool directory that exists but is a symbolic link, not a directory, or (on unix)
/// writable by group or others, who could then plant, read or replace spooled files. A missing
/// one is fine: [`write_atomically`] creates it private. Errors name the `spool_dir` field.
pub(crate) fn check_dir(dir: &Path) -> anyhow::Result<()> {
    let shown = dir.display();
    let meta = match fs::symlink_metadata(dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => anyhow::bail!("field \"spool_dir\": cannot read {shown}: {e}"),
    };
    if meta.file_type().is_symlink() {
        anyhow::bail!(
            "field \"spool_dir\": {shown} is a symbolic link, which the spool never follows \
             (someone else could point it elsewhere); give the real directory instead"
        );
    }
    if !meta.is_dir() {
        anyhow::bail!("field \"spool_dir\": {shown} exists and is not a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o022 != 0 {
            anyhow::bail!(
                "field \"spool_dir\": {shown} is writable by other users (mode {mode:04o}), who \
                 could plant or replace spooled files; run `chmod 700 {shown}` or use a \
                 directory of your own"
            );
        }
    }
    Ok(())
}

/// Creates `dir` and any missing parents, each `0700` on unix.
pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates a new file `0600` on unix; fails if anything (a symbolic link included) is there.
pub(crate) fn create_private_file(path: &Path) -> std::io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// A file name that sorts by creation time and is unique across processes and threads:
/// `<unix millis>-<pid>-<sequence>.<extension>`.
pub(crate) fn unique_name(extension: &str) -> String {
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    format!(
        "{millis:015}-{}-{:06}.{extension}",
        std::process::id(),
        SEQUENCE.fetch_add(1, Ordering::Relaxed)
    )
}

/// Writes `content` to `dir/name` atomically and durably (temporary file `0600`, fsync,
/// rename, fsync of the directory), after checking `dir` again (it may have been replaced since
/// the appender started) and creating it `0700` if missing. Returns the file's path.
pub(crate) fn write_atomically(dir: &Path, name: &str, content: &[u8]) -> anyhow::Result<PathBuf> {
    check_dir(dir)?;
    create_private_dir(dir)
        .map_err(|e| anyhow::anyhow!("cannot create spool_dir {}: {e}", dir.display()))?;
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    let write = || -> std::io::Result<()> {
        let mut f = create_private_file(&tmp)?;
        f.write_all(content)?;
        f.sync_all()?;
        fs::rename(&tmp, &path)?;
        // Make the rename itself durable (not possible on every platform: best effort).
        fs::File::open(dir).and_then(|d| d.sync_all()).or(Ok(()))
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        anyhow::anyhow!("cannot write spool file {}: {e}", path.display())
    })?;
    Ok(path)
}

/// The spooled files of `dir` with this extension, oldest first (by name). A missing directory
/// has none.
pub(crate) fn spooled_files(dir: &Path, extension: &str) -> anyhow::Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => anyhow::bail!("cannot read spool_dir {}: {e}", dir.display()),
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == extension))
        .collect();
    paths.sort();
    Ok(paths)
}

/// Deletes the spool file of an item the server accepted.
pub(crate) fn remove_delivered(path: &Path) -> anyhow::Result<()> {
    fs::remove_file(path)
        .map_err(|e| anyhow::anyhow!("cannot delete delivered spool file {}: {e}", path.display()))
}

/// Sets aside the spool file of an item the server refused for good: renamed `*.rejected`, so
/// it is never picked up again but stays for a human to look at. Returns the new name.
pub(crate) fn set_aside_rejected(path: &Path) -> PathBuf {
    let rejected = path.with_extension("rejected");
    let _ = fs::rename(path, &rejected);
    rejected
}

/// Reads a spooled file, refusing anything that is not a regular file (a planted link).
pub(crate) fn read_regular_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    if !fs::symlink_metadata(path)?.is_file() {
        anyhow::bail!("not a regular file (a symbolic link or other); left in place");
    }
    Ok(fs::read(path)?)
}

/// The name of the lock file in a spool directory.
pub(crate) const LOCK_FILE: &str = ".lock";

/// An exclusive hold on a spool directory, so that one appender at a time picks up and sends
/// what is spooled there: during a reload to a config with the same `spool_dir`, the old
/// appender (still draining) keeps the spool until it is dropped, and the new one takes it over
/// then. The hold is an advisory lock (std's [`fs::File::try_lock`]: `flock` / `LockFileEx`) on
/// `.lock` in the directory, created `0600` and never opened through a symbolic link; it is
/// released when this is dropped (and by the operating system if the process dies). The file
/// stays.
#[derive(Debug)]
pub(crate) struct SpoolLock {
    _file: fs::File,
}

impl SpoolLock {
    /// Takes the lock on `dir` if it is free: `Ok(None)` while another appender (of this
    /// process or another) holds it. Creates `dir` private if it is missing, after checking it
    /// as [`check_dir`] does.
    pub(crate) fn try_acquire(dir: &Path) -> anyhow::Result<Option<SpoolLock>> {
        check_dir(dir)?;
        create_private_dir(dir)
            .map_err(|e| anyhow::anyhow!("cannot create spool_dir {}: {e}", dir.display()))?;
        let path = dir.join(LOCK_FILE);
        let file = open_lock_file(&path)
            .map_err(|e| anyhow::anyhow!("cannot open the spool lock {}: {e}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(SpoolLock { _file: file })),
            Err(fs::TryLockError::WouldBlock) => Ok(None),
            Err(fs::TryLockError::Error(e)) => Err(anyhow::anyhow!(
                "cannot lock the spool lock {}: {e}",
                path.display()
            )),
        }
    }
}

/// How often a spool held by another appender (or one that cannot be locked) is tried again.
pub(crate) const TAKEOVER_RETRY: Duration = Duration::from_millis(200);
/// A spool held this long by another appender is reported: a reload's old appender lets go
/// within its flush timeout; longer means another process, or another appender of the same
/// config, uses the same `spool_dir`.
pub(crate) const TAKEOVER_PATIENCE: Duration = Duration::from_secs(30);

/// Taking a spool over, for an appender's sending thread: holds the [`SpoolLock`] once taken;
/// until then tries again every [`TAKEOVER_RETRY`] (no sooner, however often it is asked),
/// tells once per wait when another appender has held the spool for [`TAKEOVER_PATIENCE`], and
/// tells a lock that cannot be taken (a broken `spool_dir`) once per streak of such failures.
/// The time is passed in, so the waits can be tested without sleeping.
#[derive(Debug)]
pub(crate) struct Takeover {
    /// The appender, named in the reports.
    appender: String,
    /// What the spool holds, in the plural ("mails", "events"), for the reports.
    items: &'static str,
    lock: Option<SpoolLock>,
    /// Since when another appender holds the spool (reset once taken).
    held_since: Option<Instant>,
    /// Whether the present wait was reported.
    held_reported: bool,
    /// No attempt before this (none while the spool is ours or before the first attempt).
    next_try: Option<Instant>,
    errors: FailureStreak,
}

/// What one [`Takeover::try_take`] did.
#[derive(Debug)]
#[must_use]
pub(crate) enum Take {
    /// This attempt took the spool: pick up what earlier runs left there now.
    Taken,
    /// Nothing to do: the spool was ours already, it is too soon to try again, or it is still
    /// held (or still cannot be locked) and that was told already or not yet worth telling.
    Unchanged,
    /// Not taken, and worth telling (once per wait, or once per streak of failures): pass it
    /// to the error handler. It names the appender, the `spool_dir` field and the fix.
    Report(anyhow::Error),
}

impl Take {
    /// Passes a [`Take::Report`] to log4rs's error handler; true when this attempt took the
    /// spool (the caller then picks up what is spooled there).
    pub(crate) fn taken(self) -> bool {
        match self {
            Take::Taken => true,
            Take::Unchanged => false,
            Take::Report(e) => {
                report_error(&e);
                false
            }
        }
    }
}

impl Takeover {
    /// A takeover for `appender`, whose spool holds `items` (plural, e.g. "mails").
    pub(crate) fn new(appender: &str, items: &'static str) -> Self {
        Takeover {
            appender: appender.to_owned(),
            items,
            lock: None,
            held_since: None,
            held_reported: false,
            next_try: None,
            errors: FailureStreak::default(),
        }
    }

    /// Whether this appender holds the spool (tests).
    #[cfg(test)]
    pub(crate) fn holds(&self) -> bool {
        self.lock.is_some()
    }

    /// When to try again (for the worker's next wake); `None` once the spool is ours.
    pub(crate) fn next_try(&self) -> Option<Instant> {
        self.next_try
    }

    /// Takes the lock on `dir` if it is free and it is time to try (see [`Take`]).
    pub(crate) fn try_take(&mut self, dir: &Path, now: Instant) -> Take {
        if self.lock.is_some() || self.next_try.is_some_and(|t| now < t) {
            return Take::Unchanged;
        }
        match SpoolLock::try_acquire(dir) {
            Ok(Some(lock)) => {
                self.lock = Some(lock);
                self.held_since = None;
                self.held_reported = false;
                self.next_try = None;
                self.errors.recovered();
                Take::Taken
            }
            Ok(None) => {
                self.next_try = Some(now + TAKEOVER_RETRY);
                self.errors.recovered();
                let since = *self.held_since.get_or_insert(now);
                let held = now.saturating_duration_since(since);
                if self.held_reported || held < TAKEOVER_PATIENCE {
                    return Take::Unchanged;
                }
                self.held_reported = true;
                Take::Report(anyhow::anyhow!(
                    "appender \"{}\": field \"spool_dir\": {} has been in use by another \
                     appender for {} s (another process, or another appender, with the same \
                     spool_dir?); the {} spooled there are left to that one, and this appender \
                     sends only its own until it takes the spool over; give each appender and \
                     process a spool_dir of its own",
                    self.appender,
                    dir.display(),
                    held.as_secs(),
                    self.items
                ))
            }
            Err(e) => {
                self.next_try = Some(now + TAKEOVER_RETRY);
                if !self.errors.failed() {
                    return Take::Unchanged;
                }
                Take::Report(e.context(format!(
                    "appender \"{}\": cannot take the spool in spool_dir over (tried again \
                     every {} ms); the {} spooled there wait until it can",
                    self.appender,
                    TAKEOVER_RETRY.as_millis(),
                    self.items
                )))
            }
        }
    }

    /// Makes the next [`Takeover::try_take`] try at once (tests).
    #[cfg(test)]
    pub(crate) fn try_now(&mut self) {
        self.next_try = None;
    }
}

/// What an outbox with a spool option says when it shuts down (its worker is dropped) with
/// work undelivered, one text each (the caller prefixes `appender "x": shutting down: `):
/// what only memory held is lost (`3 records were lost while T was not taking them (set
/// spool_dir to keep them for the next run)`), and what `spool_dir` holds waits for the next
/// run (`1 mail is kept in spool_dir D and sent by the next run`). Shared by smtp's and sentry's
/// outboxes.
pub(crate) fn left_at_shutdown(
    lost: Option<LostRecords<'_>>,
    kept: Option<(Count<'_>, &Path)>,
) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(lost) = lost {
        out.push(format!(
            "{lost} (set spool_dir to keep them for the next run)"
        ));
    }
    if let Some((kept, dir)) = kept {
        out.push(format!(
            "{kept} {} kept in spool_dir {} and sent by the next run",
            kept.are(),
            dir.display()
        ));
    }
    out
}

/// Reports each of `texts` as `appender "name": shutting down: text`.
pub(crate) fn report_shutdown(name: &str, texts: Vec<String>) {
    for text in texts {
        report_error(&anyhow::anyhow!(
            "appender \"{name}\": shutting down: {text}"
        ));
    }
}

/// Opens (creating it `0600` if missing) the lock file, refusing anything but a regular file:
/// a link planted in its place is never followed (the file opened must be the one `lstat` saw).
fn open_lock_file(path: &Path) -> std::io::Result<fs::File> {
    match create_private_file(path) {
        Ok(file) => return Ok(file),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    let seen = fs::symlink_metadata(path)?;
    if !seen.is_file() {
        return Err(std::io::Error::other(
            "not a regular file (a symbolic link or other); remove it",
        ));
    }
    let file = fs::OpenOptions::new().write(true).open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let opened = file.metadata()?;
        if (opened.dev(), opened.ino()) != (seen.dev(), seen.ino()) {
            return Err(std::io::Error::other(
                "it was replaced while being opened; remove it",
            ));
        }
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_file_is_private_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let spool = dir.path().join("a").join("spool");
        let path = write_atomically(&spool, &unique_name("x"), b"content").unwrap();
        assert_eq!(read_regular_file(&path).unwrap(), b"content");
        assert_eq!(spooled_files(&spool, "x").unwrap(), vec![path.clone()]);
        assert!(spooled_files(&spool, "y").unwrap().is_empty());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&spool), 0o700);
            assert_eq!(mode(&path), 0o600);
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_shared_or_linked_directory_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let shared = dir.path().join("shared");
        fs::create_dir(&shared).unwrap();
        fs::set_permissions(&shared, fs::Permissions::from_mode(0o777)).unwrap();
        let e = check_dir(&shared).unwrap_err().to_string();
        assert!(
            e.contains("spool_dir") && e.contains("writable by other users"),
            "{e}"
        );
        let private = dir.path().join("private");
        create_private_dir(&private).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&private, &link).unwrap();
        let e = check_dir(&link).unwrap_err().to_string();
        assert!(e.contains("symbolic link"), "{e}");
        assert!(write_atomically(&link, "a.x", b"x").is_err());
        assert!(check_dir(&private).is_ok());
    }

    #[test]
    fn one_spool_lock_at_a_time_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let spool = dir.path().join("spool");
        let first = SpoolLock::try_acquire(&spool).unwrap().expect("free");
        assert!(SpoolLock::try_acquire(&spool).unwrap().is_none(), "held");
        drop(first);
        assert!(
            SpoolLock::try_acquire(&spool).unwrap().is_some(),
            "released"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(spool.join(LOCK_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_link_planted_as_the_spool_lock_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let spool = dir.path().join("spool");
        create_private_dir(&spool).unwrap();
        let target = dir.path().join("elsewhere");
        fs::write(&target, b"not ours").unwrap();
        std::os::unix::fs::symlink(&target, spool.join(LOCK_FILE)).unwrap();
        let e = SpoolLock::try_acquire(&spool).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
        assert_eq!(fs::read(&target).unwrap(), b"not ours");
    }

    /// Milliseconds after `t0`.
    fn at(t0: Instant, ms: u64) -> Instant {
        t0 + Duration::from_millis(ms)
    }

    #[test]
    fn a_free_spool_is_taken_at_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let spool = dir.path().join("spool");
        let mut takeover = Takeover::new("mail", "mails");
        let t0 = Instant::now();
        assert!(matches!(takeover.try_take(&spool, t0), Take::Taken));
        assert!(takeover.holds());
        assert_eq!(takeover.next_try(), None, "nothing to try again");
        assert!(matches!(takeover.try_take(&spool, t0), Take::Unchanged));
        assert!(SpoolLock::try_acquire(&spool).unwrap().is_none(), "held");
    }

    #[test]
    fn a_held_spool_is_tried_again_every_200_ms_and_no_sooner() {
        let dir = tempfile::tempdir().unwrap();
        let spool = dir.path().join("spool");
        let other = SpoolLock::try_acquire(&spool).unwrap().expect("free");
        let mut takeover = Takeover::new("mail", "mails");
        let t0 = Instant::now();
        assert!(matches!(takeover.try_take(&spool, t0), Take::Unchanged));
        assert!(!takeover.holds());
        assert_eq!(takeover.next_try(), Some(at(t0, 200)));
        drop(other);
        assert!(
            matches!(takeover.try_take(&spool, at(t0, 199)), Take::Unchanged),
            "too soon: not tried"
        );
        assert!(!takeover.holds());
        assert!(matches!(
            takeover.try_take(&spool, at(t0, 200)),
            Take::Taken
        ));
        assert!(takeover.holds());
    }

    #[test]
    fn a_spool_held_past_the_patience_is_reported_once_naming_the_appender_field_and_fix() {
        let dir = tempfile::tempdir().unwrap();
        let spool = dir.path().join("spool");
        let other = SpoolLock::try_acquire(&spool).unwrap().expect("free");
        let mut takeover = Takeover::new("sentry", "events");
        let t0 = Instant::now();
        let mut t = t0;
        while t < at(t0, 29_999) {
            assert!(
                matches!(takeover.try_take(&spool, t), Take::Unchanged),
                "reported before the patience ran out, at {:?}",
                t - t0
            );
            t += TAKEOVER_RETRY;
        }
        let Take::Report(e) = takeover.try_take(&spool, at(t0, 30_000)) else {
            panic!("not reported after 30 s");
        };
        let e = format!("{e:#}");
        let expected = format!(
            "appender \"sentry\": field \"spool_dir\": {} has been in use by another appender \
             for 30 s",
            spool.display()
        );
        assert!(e.starts_with(&expected), "{e}");
        assert!(
            e.contains("the events spooled there are left to that one")
                && e.ends_with("give each appender and process a spool_dir of its own"),
            "{e}"
        );
        for ms in [30_200, 60_000, 3_600_000] {
            assert!(
                matches!(takeover.try_take(&spool, at(t0, ms)), Take::Unchanged),
                "reported twice in one wait"
            );
        }
        drop(other);
        assert!(matches!(
            takeover.try_take(&spool, at(t0, 3_600_200)),
            Take::Taken
        ));
    }

    #[test]
    fn a_spool_that_cannot_be_locked_is_reported_once_per_streak_and_retried() {
        let dir = tempfile::tempdir().unwrap();
        let spool = dir.path().join("spool");
        fs::write(&spool, b"a file where the spool should be").unwrap();
        let mut takeover = Takeover::new("mail", "mails");
        let t0 = Instant::now();
        let Take::Report(e) = takeover.try_take(&spool, t0) else {
            panic!("a broken spool_dir was not reported");
        };
        let e = format!("{e:#}");
        assert!(
            e.starts_with("appender \"mail\": cannot take the spool in spool_dir over")
                && e.contains("is not a directory"),
            "{e}"
        );
        assert_eq!(takeover.next_try(), Some(at(t0, 200)));
        assert!(
            matches!(takeover.try_take(&spool, at(t0, 200)), Take::Unchanged),
            "the same streak is reported once"
        );
        // Fixed, but another appender holds it now: that wait is reported on its own.
        fs::remove_file(&spool).unwrap();
        let other = SpoolLock::try_acquire(&spool).unwrap().expect("free");
        assert!(matches!(
            takeover.try_take(&spool, at(t0, 400)),
            Take::Unchanged
        ));
        assert!(matches!(
            takeover.try_take(&spool, at(t0, 30_400)),
            Take::Report(_)
        ));
        drop(other);
        assert!(matches!(
            takeover.try_take(&spool, at(t0, 30_600)),
            Take::Taken
        ));
    }
}
