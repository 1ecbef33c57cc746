//! gzip compression of rotated backups, on a background thread (never in the logging call).
//!
//! Rotation leaves the newest backup plain (`app.log.1`) and pokes this worker. The worker
//! compresses every plain backup it finds into a temporary file, then, under the rotation lock,
//! renames the temporary file to `app.log.N.gz` (N = wherever the backup has moved to meanwhile,
//! found by inode) and removes the plain file. A crash at any point leaves either the plain
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
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use flate2::Compression;
use flate2::write::GzEncoder;

use super::lock::ProcessLock;
use super::reopen::FileId;
use super::rollover::{BackupNamer, existing_backups, remove_if_exists};
use crate::report::{FailureStreak, report_error};
use crate::worker::{OnFull, Sink, Worker};

/// Temporary files older than this are leftovers of a crashed compression and are removed.
const STALE_TEMP_AGE: Duration = Duration::from_secs(60);

/// Starts the compression worker for one log file and asks it to finish any leftovers.
pub(crate) fn spawn(
    name: &str,
    names: BackupNamer,
    backup_count: u32,
    rotation: Arc<Mutex<()>>,
    multiprocess: bool,
) -> io::Result<Worker<()>> {
    let process_lock = if multiprocess {
        Some(ProcessLock::open(names.base())?)
    } else {
        None
    };
    let sink = Compressor {
        name: name.to_owned(),
        names,
        backup_count,
        rotation,
        process_lock,
        streak: FailureStreak::default(),
        temp_counter: 0,
        refused: Vec::new(),
    };
    let worker = Worker::spawn(
        "log4rs-gzip",
        4,
        OnFull::Drop,
        Duration::from_secs(10),
        sink,
    )?;
    worker.send(());
    Ok(worker)
}

struct Compressor {
    name: String,
    names: BackupNamer,
    backup_count: u32,
    rotation: Arc<Mutex<()>>,
    process_lock: Option<ProcessLock>,
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

impl Sink for Compressor {
    type Item = ();

    fn handle(&mut self, _batch: &mut Vec<()>) {
        self.remove_stale_temps();
        // Bounded: each round removes or refuses one plain backup, or stops.
        let rounds = match existing_backups(&self.names) {
            Ok(found) => 2 * found.iter().filter(|b| b.plain).count() + 2,
            Err(e) => return self.failed(&e),
        };
        for _ in 0..rounds {
            match self.compress_one() {
                Ok(true) => {
                    self.streak.recovered();
                }
                Ok(false) => break,
                Err(e) => return self.failed(&e),
            }
        }
    }

    // A dropped poke is harmless: the poke already queued sweeps every plain backup.
    fn dropped(&mut self, _count: u64) {}

    fn flush(&mut self, _deadline: Instant) {}
}

impl Compressor {
    fn failed(&self, e: &io::Error) {
        if self.streak.failed() {
            report_error(&anyhow::anyhow!(
                "appender \"{}\": cannot compress a backup of {} (it stays uncompressed; retried at the next rotation): {e}",
                self.name,
                self.names.base().display()
            ));
        }
    }

    /// The next plain backup to compress (index, identity, permission bits), refusing and
    /// reporting on the way any that is not a regular file of ours.
    fn next_plain_backup(&mut self) -> io::Result<Option<(u32, FileId, u32)>> {
        for backup in existing_backups(&self.names)? {
            if !backup.plain || backup.index > self.backup_count {
                continue;
            }
            let path = self.names.plain(backup.index);
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
            return Ok(Some((backup.index, FileId::of(&meta), permissions(&meta))));
        }
        Ok(None)
    }

    /// Compresses one plain backup; false when there was none left.
    fn compress_one(&mut self) -> io::Result<bool> {
        let Some((index, id, mode)) = self.next_plain_backup()? else {
            return Ok(false);
        };
        let gz_done = std::fs::symlink_metadata(self.names.gzipped(index))
            .is_ok_and(|m| not_ours(&m).is_none());
        if gz_done {
            // A crash between renaming the .gz into place and removing the plain copy.
            return self.commit(id, None).map(|_| true);
        }
        self.temp_counter += 1;
        let temp = self.names.with_suffix(&format!(
            ".gz-tmp.{}.{}",
            std::process::id(),
            self.temp_counter
        ));
        let result = compress_file(&self.names.plain(index), id, mode, &temp);
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
        self.commit(id, Some(&temp))?;
        Ok(true)
    }

    /// Under the rotation lock, finds where the backup `id` is now and replaces it with `temp`.
    fn commit(&self, id: FileId, temp: Option<&Path>) -> io::Result<()> {
        // Same order as the appender (process lock, then rotation lock): no deadlock.
        let _across_processes = match &self.process_lock {
            Some(l) => Some(l.lock()?),
            None => None,
        };
        let _in_process = self.rotation.lock().unwrap_or_else(|p| p.into_inner());
        let found = existing_backups(&self.names)?
            .into_iter()
            .filter(|b| b.plain && b.index <= self.backup_count)
            .map(|b| b.index)
            .find(|i| {
                std::fs::symlink_metadata(self.names.plain(*i))
                    .is_ok_and(|m| m.is_file() && FileId::of(&m) == id)
            });
        match (found, temp) {
            (Some(i), Some(temp)) => {
                std::fs::rename(temp, self.names.gzipped(i))?;
                remove_if_exists(&self.names.plain(i))
            }
            (Some(i), None) => remove_if_exists(&self.names.plain(i)),
            // Rotated out of the window meanwhile: it would have been deleted.
            (None, Some(temp)) => remove_if_exists(temp),
            (None, None) => Ok(()),
        }
    }

    fn remove_stale_temps(&self) {
        let base = self.names.base();
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

fn compress_file(source: &Path, id: FileId, mode: u32, temp: &Path) -> io::Result<()> {
    let mut input = BufReader::with_capacity(64 * 1024, open_backup(source, id)?);
    let output = create_temp(temp, mode)?;
    let mut encoder = GzEncoder::new(
        BufWriter::with_capacity(64 * 1024, output),
        Compression::default(),
    );
    io::copy(&mut input, &mut encoder)?;
    let output = encoder.finish()?.into_inner().map_err(|e| e.into_error())?;
    // On disk before the rename makes it the only copy.
    output.sync_all()
}
