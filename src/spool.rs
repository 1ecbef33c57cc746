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
use std::time::{SystemTime, UNIX_EPOCH};

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
}
