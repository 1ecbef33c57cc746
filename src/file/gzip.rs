//! gzip compression of rotated backups, on a background thread (never in the logging call).
//!
//! Rotation leaves the newest backup plain (`app.log.1`, or `app.log.2026-12-01` with `when:`)
//! and pokes the housekeeping worker, which runs this. It compresses every plain backup it finds
//! into a temporary file, then, under the rotation lock, renames the temporary file to
//! `<backup>.gz` (for numbered backups, wherever the backup has moved to meanwhile, found by
//! inode) and removes the plain file. The `.gz` keeps the source's modification time (the time
//! of its last record, which `max_age` reads). A crash at any point leaves either the plain
//! backup or the finished `.gz`, never neither; leftovers are finished at the next start.
//!
//! Only regular files this appender could have written are compressed: a backup name that holds
//! a symbolic link, a FIFO, a device or a file of another owner is refused (reported once, left
//! as it is), and the backup is opened without following links (`O_NOFOLLOW`), so a link planted
//! in the log folder cannot make the compressor read a file and publish it. The `.gz` gets the
//! permission bits of the file it came from (a `chmod 600` log stays 0600 through compression).

use std::fs::File;
use std::io::{self, BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use flate2::Compression;
use flate2::write::GzEncoder;

use super::backups::BackupSet;
use super::housekeeping::Locks;
use super::reopen::FileId;
use super::rollover::remove_if_exists;
use crate::report::{FailureStreak, report_error};

/// Temporary files older than this are leftovers of a crashed compression and are removed.
const STALE_TEMP_AGE: Duration = Duration::from_secs(60);

/// Compresses the plain backups of one log file (run by the housekeeping worker).
pub(crate) struct Compressor {
    name: String,
    streak: FailureStreak,
    temp_counter: u64,
    /// Backups that are not ours to read (see the module docs), already reported.
    refused: Vec<Refused>,
}

/// A refused backup: by identity on unix (it keeps it when rotation renames it), by path
/// elsewhere (where every identity compares equal).
#[derive(PartialEq)]
struct Refused(FileId, Option<PathBuf>);

impl Refused {
    fn of(id: FileId, path: &Path) -> Self {
        Refused(id, (!cfg!(unix)).then(|| path.to_path_buf()))
    }
}

/// A plain backup about to be compressed.
struct Plain {
    path: PathBuf,
    id: FileId,
    mode: u32,
    modified: Option<SystemTime>,
}

impl Compressor {
    pub(crate) fn new(name: &str) -> Self {
        Compressor {
            name: name.to_owned(),
            streak: FailureStreak::default(),
            temp_counter: 0,
            refused: Vec::new(),
        }
    }

    /// Compresses every plain backup of `set` (and finishes leftovers of a crash); a failure is
    /// reported once per streak and retried at the next run.
    pub(crate) fn run(&mut self, set: &BackupSet, locks: &Locks) {
        remove_stale_temps(set.base());
        // Bounded: each round removes or refuses one plain backup, or stops.
        let rounds = match set.list() {
            Ok(found) => 2 * found.iter().filter(|b| b.has_plain).count() + 2,
            Err(e) => return self.failed(set, &e),
        };
        for _ in 0..rounds {
            match self.compress_one(set, locks) {
                Ok(true) => {
                    self.streak.recovered();
                }
                Ok(false) => break,
                Err(e) => return self.failed(set, &e),
            }
        }
    }

    fn failed(&self, set: &BackupSet, e: &io::Error) {
        if self.streak.failed() {
            report_error(&anyhow::anyhow!(
                "appender \"{}\": cannot compress a backup of {} (it stays uncompressed; retried at the next rotation): {e}",
                self.name,
                set.base().display()
            ));
        }
    }

    /// The next plain backup to compress, refusing and reporting on the way any that is not a
    /// regular file of ours.
    fn next_plain_backup(&mut self, set: &BackupSet) -> io::Result<Option<Plain>> {
        for backup in set.list()? {
            if !backup.has_plain {
                continue;
            }
            let path = backup.plain;
            // Not `metadata`: that would follow a link.
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            let refused = Refused::of(FileId::of(&meta), &path);
            if self.refused.contains(&refused) {
                continue;
            }
            if let Some(why) = not_ours(&meta) {
                report_error(&anyhow::anyhow!(
                    "appender \"{}\": will not compress {}: {why}; only regular files this \
                     appender wrote are compressed (it is left as it is; remove it if it is \
                     not yours)",
                    self.name,
                    path.display()
                ));
                self.refused.push(refused);
                continue;
            }
            return Ok(Some(Plain {
                id: FileId::of(&meta),
                mode: permissions(&meta),
                modified: meta.modified().ok(),
                path,
            }));
        }
        Ok(None)
    }

    /// Compresses one plain backup; false when there was none left.
    fn compress_one(&mut self, set: &BackupSet, locks: &Locks) -> io::Result<bool> {
        let Some(plain) = self.next_plain_backup(set)? else {
            return Ok(false);
        };
        let gz_done =
            std::fs::symlink_metadata(gz_name(&plain.path)).is_ok_and(|m| not_ours(&m).is_none());
        if gz_done {
            // A crash between renaming the .gz into place and removing the plain copy.
            return commit(set, locks, plain.id, None).map(|_| true);
        }
        self.temp_counter += 1;
        let mut temp = set.base().as_os_str().to_owned();
        temp.push(format!(
            ".gz-tmp.{}.{}",
            std::process::id(),
            self.temp_counter
        ));
        let temp = PathBuf::from(temp);
        let result = compress_file(&plain, &temp);
        if let Err(e) = result {
            let _ = std::fs::remove_file(&temp);
            // The backup moved or was deleted (or replaced) while we read it: not an error,
            // look again.
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::Interrupted
            ) {
                return Ok(true);
            }
            return Err(e);
        }
        commit(set, locks, plain.id, Some(&temp))?;
        Ok(true)
    }
}

/// Under the locks, finds where the backup `id` is now (numbered backups move at each rotation)
/// and replaces it with `temp`.
fn commit(set: &BackupSet, locks: &Locks, id: FileId, temp: Option<&Path>) -> io::Result<()> {
    locks.hold(|| {
        let found = set.list()?.into_iter().find(|b| {
            b.has_plain
                && std::fs::symlink_metadata(&b.plain)
                    .is_ok_and(|m| m.is_file() && FileId::of(&m) == id)
        });
        match (found, temp) {
            (Some(b), Some(temp)) => {
                std::fs::rename(temp, b.gzipped())?;
                remove_if_exists(&b.plain)
            }
            (Some(b), None) => remove_if_exists(&b.plain),
            // Rotated out of the window (or deleted by retention) meanwhile.
            (None, Some(temp)) => remove_if_exists(temp),
            (None, None) => Ok(()),
        }
    })
}

fn gz_name(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".gz");
    PathBuf::from(name)
}

fn remove_stale_temps(base: &Path) {
    let (Some(dir), Some(file_name)) = (base.parent(), base.file_name()) else {
        return;
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let prefix = format!("{}.gz-tmp.", file_name.to_string_lossy());
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with(&prefix) {
            continue;
        }
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age >= STALE_TEMP_AGE);
        if old {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Why a plain backup is not ours to compress, if it is not: anything but a regular file
/// (`meta` from `symlink_metadata`, so a link is seen as a link), or a file of another owner.
fn not_ours(meta: &std::fs::Metadata) -> Option<String> {
    let kind = meta.file_type();
    if kind.is_symlink() {
        return Some("it is a symbolic link".to_owned());
    }
    if !kind.is_file() {
        return Some("it is not a regular file".to_owned());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let me = rustix::process::geteuid().as_raw();
        if meta.uid() != me {
            return Some(format!(
                "it belongs to user id {}, not to this process (user id {me})",
                meta.uid()
            ));
        }
    }
    None
}

/// The permission bits the `.gz` copies from its source (unix; elsewhere unused).
fn permissions(meta: &std::fs::Metadata) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.permissions().mode() & 0o7777
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        0
    }
}

/// Opens the backup for reading without following a link (and without blocking on a FIFO put
/// there meanwhile), and checks it is still the regular file `id` that was looked at.
fn open_backup(source: &Path, id: FileId) -> io::Result<File> {
    #[cfg(unix)]
    let file = {
        use rustix::fs::OFlags;
        use std::os::unix::fs::OpenOptionsExt;
        File::options()
            .read(true)
            .custom_flags((OFlags::NOFOLLOW | OFlags::NONBLOCK).bits() as i32)
            .open(source)?
    };
    #[cfg(not(unix))]
    let file = File::open(source)?;
    let meta = file.metadata()?;
    if !meta.is_file() || FileId::of(&meta) != id {
        // Replaced between the look and the open: the caller looks again.
        return Err(io::Error::new(
            io::ErrorKind::Interrupted,
            "the backup was replaced while it was opened",
        ));
    }
    Ok(file)
}

/// Creates the temporary `.gz` (never through an existing name or link), readable by the
/// owner only until it gets the source's permission bits `mode`.
fn create_temp(temp: &Path, mode: u32) -> io::Result<File> {
    let mut options = File::options();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let file = options.open(temp)?;
        file.set_permissions(std::fs::Permissions::from_mode(mode))?;
        Ok(file)
    }
    #[cfg(not(unix))]
    {
        let _ = mode;
        options.open(temp)
    }
}

fn compress_file(plain: &Plain, temp: &Path) -> io::Result<()> {
    let mut input = BufReader::with_capacity(64 * 1024, open_backup(&plain.path, plain.id)?);
    let output = create_temp(temp, plain.mode)?;
    let mut encoder = GzEncoder::new(
        BufWriter::with_capacity(64 * 1024, output),
        Compression::default(),
    );
    io::copy(&mut input, &mut encoder)?;
    let output = encoder.finish()?.into_inner().map_err(|e| e.into_error())?;
    // As gzip(1) does: the .gz keeps the time of the backup's last record, which retention's
    // max_age reads.
    if let Some(t) = plain.modified {
        output.set_modified(t)?;
    }
    // On disk before the rename makes it the only copy.
    output.sync_all()
}
