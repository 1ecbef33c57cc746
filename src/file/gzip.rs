//! gzip compression of rotated backups, on a background thread (never in the logging call).
//!
//! Rotation leaves the newest backup plain (`app.log.1`) and pokes this worker. The worker
//! compresses every plain backup it finds into a temporary file, then, under the rotation lock,
//! renames the temporary file to `app.log.N.gz` (N = wherever the backup has moved to meanwhile,
//! found by inode) and removes the plain file. A crash at any point leaves either the plain
//! backup or the finished `.gz`, never neither; leftovers are finished at the next start.

use std::fs::File;
use std::io::{self, BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use flate2::Compression;
use flate2::write::GzEncoder;

use super::lock::ProcessLock;
use super::reopen::FileId;
use super::rollover::{BackupNamer, remove_if_exists};
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
}

impl Sink for Compressor {
    type Item = ();

    fn handle(&mut self, _batch: &mut Vec<()>) {
        self.remove_stale_temps();
        // Bounded: each round removes one plain backup or stops.
        for _ in 0..(2 * self.backup_count as usize + 2) {
            match self.compress_one() {
                Ok(true) => {
                    self.streak.recovered();
                }
                Ok(false) => break,
                Err(e) => {
                    if self.streak.failed() {
                        report_error(&anyhow::anyhow!(
                            "appender \"{}\": cannot compress a backup of {} (it stays uncompressed; retried at the next rotation): {e}",
                            self.name,
                            self.names.base().display()
                        ));
                    }
                    break;
                }
            }
        }
    }

    // A dropped poke is harmless: the poke already queued sweeps every plain backup.
    fn dropped(&mut self, _count: u64) {}

    fn flush(&mut self, _deadline: Instant) {}
}

impl Compressor {
    /// Compresses one plain backup; false when there was none left.
    fn compress_one(&mut self) -> io::Result<bool> {
        let Some((index, id)) = (1..=self.backup_count).find_map(|i| {
            let meta = std::fs::metadata(self.names.plain(i)).ok()?;
            meta.is_file().then(|| (i, FileId::of(&meta)))
        }) else {
            return Ok(false);
        };
        if self.names.gzipped(index).exists() {
            // A crash between renaming the .gz into place and removing the plain copy.
            return self.commit(id, None).map(|_| true);
        }
        self.temp_counter += 1;
        let temp = self.names.with_suffix(&format!(
            ".gz-tmp.{}.{}",
            std::process::id(),
            self.temp_counter
        ));
        let result = compress_file(&self.names.plain(index), &temp);
        if let Err(e) = result {
            let _ = std::fs::remove_file(&temp);
            // The backup moved or was deleted while we read it: not an error, look again.
            if e.kind() == io::ErrorKind::NotFound {
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
        let found = (1..=self.backup_count)
            .find(|i| std::fs::metadata(self.names.plain(*i)).is_ok_and(|m| FileId::of(&m) == id));
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

fn compress_file(source: &Path, temp: &PathBuf) -> io::Result<()> {
    let mut input = BufReader::with_capacity(64 * 1024, File::open(source)?);
    let output = File::create(temp)?;
    let mut encoder = GzEncoder::new(
        BufWriter::with_capacity(64 * 1024, output),
        Compression::default(),
    );
    io::copy(&mut input, &mut encoder)?;
    let output = encoder.finish()?.into_inner().map_err(|e| e.into_error())?;
    // On disk before the rename makes it the only copy.
    output.sync_all()
}
