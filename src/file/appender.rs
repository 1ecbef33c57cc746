//! The appender: encode outside the lock, then a short critical section that asks the
//! [`Trigger`] whether to roll over and writes the records. There is one write path: buffering is
//! a policy of its last step ([`Shared::put`]), which either writes or keeps the bytes for later.
//! In the default (unbuffered) mode, records of threads logging at once share `write` calls
//! (group commit, `super::group`); in buffered mode each record is a batch of one.

use log4rs::encode::writer::simple::SimpleWriter;
use std::cell::RefCell;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Write as _};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use log::{Level, Record};
use log4rs::append::Append;
use log4rs::encode::Encode;

use super::backups::BackupSet;
use super::builder::{Compression, DEFAULT_FORMAT, RotatingFileAppenderBuilder};
use super::clock::{Clock, unix_seconds};
use super::dated::DatedBackups;
use super::group::{Errors, Group};
use super::housekeeping::{self, Plan};
use super::lock::ProcessLock;
use super::reopen::{FileId, ReopenCheck, moved_away};
use super::retention::Retention;
use super::rollover::{BackupNamer, rotate};
use super::schedule::{Period, Schedule};
use super::trigger::{FileState, Trigger};
use crate::lost::{Cause, LostRecords};
use crate::report::FailureStreak;
use crate::worker::{OnFull, Sink, Worker};

/// A size-rotating file appender with numbered backups, Python's `RotatingFileHandler` for
/// log4rs (`kind: rotating_file`).
///
/// Before a record is written, if the file's size plus the record's length would reach
/// `max_bytes`, the file is rolled over first: `app.log.N` is deleted, `app.log.i` becomes
/// `app.log.i+1`, `app.log` becomes `app.log.1`, and a new `app.log` is started. An empty file is
/// never rolled over, so a record larger than `max_bytes` goes alone into a fresh file.
///
/// ```no_run
/// use log4rs_appenders::file::RotatingFileAppender;
///
/// let appender = RotatingFileAppender::builder()
///     .max_bytes(10 * 1024)
///     .backup_count(10)
///     .build("logs/microblog.log")?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct RotatingFileAppender {
    // Dropped before `shared`, so its final flush still reaches the file.
    _flusher: Option<Worker<()>>,
    shared: Arc<Shared>,
}

struct Shared {
    name: String,
    names: BackupNamer,
    trigger: Trigger,
    backup_count: u32,
    /// `mode:` for the log files this appender creates.
    mode: Option<u32>,
    /// Rotation by time: when, and the dated backups it makes.
    schedule: Option<Schedule>,
    dated: Option<DatedBackups>,
    clock: Arc<dyn Clock>,
    buffer_capacity: usize,
    encoder: Box<dyn Encode>,
    process_lock: Option<ProcessLock>,
    /// Rotation and the housekeeping worker (compression, retention) exclude each other
    /// through this.
    rotation: Arc<Mutex<()>>,
    streak: FailureStreak,
    state: Mutex<State>,
    /// Default mode: threads logging at once share `write` calls (see `group`).
    group: Group,
    /// Compression and retention, in the background (see `housekeeping`).
    housekeeper: Option<Worker<()>>,
}

struct State {
    file: Option<OpenFile>,
    buffer: Vec<u8>,
    buffered_records: u64,
    check: ReopenCheck,
    /// Rotation by time: the current interval (when it ends, what its backup is called).
    period: Option<Period>,
    /// The error that started the current failure streak, for the "records lost" line.
    failure: String,
}

struct OpenFile {
    file: File,
    id: FileId,
    /// Bytes in the file plus bytes buffered for it.
    size: u64,
    /// Python never rotates anything but a regular file (bpo-45401): `/dev/null`, a FIFO...
    regular: bool,
}

impl State {
    /// What the trigger is asked about: the open file and the end of the current interval.
    fn file_state(&self) -> Option<FileState> {
        let open = self.file.as_ref()?;
        Some(FileState {
            size: open.size,
            regular: open.regular,
            rollover_at: self.period.as_ref().map_or(i64::MAX, |p| p.ends_at),
        })
    }
}

/// Bound on the per-thread scratch buffer kept between records (larger ones are freed).
const SCRATCH_KEEP: usize = 64 * 1024;

thread_local! {
    static SCRATCH: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(512));
}

impl RotatingFileAppender {
    /// Starts a builder; see [`RotatingFileAppenderBuilder`].
    pub fn builder() -> RotatingFileAppenderBuilder {
        RotatingFileAppenderBuilder::default()
    }

    pub(crate) fn from_builder(b: RotatingFileAppenderBuilder, path: PathBuf) -> io::Result<Self> {
        let label = if b.name.is_empty() {
            format!("rotating_file {}", path.display())
        } else {
            b.name.clone()
        };
        let names = BackupNamer::new(&path);
        let schedule = b.schedule();
        let max_bytes = b.effective_max_bytes();
        let gzipped = b.compress == Compression::Gzip;
        let dated = schedule
            .map(|s| DatedBackups::new(names.clone(), s, max_bytes > 0, gzipped, b.backup_count));
        // Python's rule: the first interval is computed from the existing file's modification
        // time (a process started after a missed rollover rotates at its first record).
        let period = schedule.map(|s| {
            let start = std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .unwrap_or_else(|_| b.clock.now());
            s.period_from(unix_seconds(start))
        });
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("cannot create the folder {}: {e}", parent.display()),
                )
            })?;
        }
        let process_lock = if b.multiprocess {
            Some(ProcessLock::open(&path)?)
        } else {
            None
        };
        let rotation = Arc::new(Mutex::new(()));
        let plan = Plan {
            name: label.clone(),
            set: match &dated {
                Some(d) => BackupSet::Dated(d.clone()),
                None => BackupSet::Numbered {
                    names: names.clone(),
                    backup_count: b.backup_count,
                },
            },
            compress: gzipped,
            retention: Retention {
                keep: dated.as_ref().map_or(0, DatedBackups::backup_count),
                max_age: b.max_age,
                max_total_size: b.max_total_size,
            },
            clock: b.clock.clone(),
        };
        if cfg!(not(feature = "gzip")) && gzipped {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "compress: gzip needs the crate feature `gzip` of log4rs-appenders (enable it in Cargo.toml)",
            ));
        }
        let housekeeper = if plan.is_needed() {
            Some(housekeeping::spawn(plan, rotation.clone(), b.multiprocess)?)
        } else {
            None
        };
        let encoder = match b.encoder {
            Some(e) => e,
            None => default_encoder(),
        };
        let shared = Arc::new(Shared {
            name: label,
            names,
            trigger: Trigger::new(max_bytes, b.backup_count, schedule.is_some()),
            backup_count: b.backup_count,
            mode: b.mode,
            schedule,
            dated,
            clock: b.clock,
            buffer_capacity: b.buffer,
            encoder,
            process_lock,
            rotation,
            streak: FailureStreak::default(),
            state: Mutex::new(State {
                file: None,
                buffer: Vec::with_capacity(b.buffer),
                buffered_records: 0,
                check: ReopenCheck::new(),
                period,
                failure: String::new(),
            }),
            group: Group::default(),
            housekeeper,
        });
        if !b.delay {
            let mut state = shared.lock_state();
            shared.open(&mut state).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("cannot open {}: {e}", shared.names.base().display()),
                )
            })?;
        }
        let flusher = if b.buffer > 0 {
            let sink = FlushTimer {
                shared: Arc::downgrade(&shared),
                interval: b.flush_interval,
                next: Instant::now() + b.flush_interval,
            };
            Some(Worker::spawn(
                "log4rs-file-flush",
                1,
                OnFull::Drop,
                Duration::from_secs(5),
                sink,
            )?)
        } else {
            None
        };
        Ok(RotatingFileAppender {
            _flusher: flusher,
            shared,
        })
    }
}

fn default_encoder() -> Box<dyn Encode> {
    match crate::encode::PythonEncoder::new(DEFAULT_FORMAT) {
        Ok(e) => Box::new(e),
        // Unreachable with a valid constant format; never panic in an appender.
        Err(_) => Box::new(log4rs::encode::pattern::PatternEncoder::default()),
    }
}

impl fmt::Debug for RotatingFileAppender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RotatingFileAppender")
            .field("name", &self.shared.name)
            .field("path", &self.shared.names.base())
            .field("trigger", &self.shared.trigger)
            .field("schedule", &self.shared.schedule)
            .field("backup_count", &self.shared.backup_count)
            .field("buffer", &self.shared.buffer_capacity)
            .field("multiprocess", &self.shared.process_lock.is_some())
            .field("housekeeping", &self.shared.housekeeper.is_some())
            .finish()
    }
}

impl RotatingFileAppender {
    /// Writes `bytes`, already formatted (by tracing-subscriber's fmt layer), as one record.
    #[cfg(feature = "tracing")]
    pub(crate) fn append_formatted(&self, bytes: &[u8], urgent: bool) -> anyhow::Result<()> {
        self.shared.commit(bytes, urgent)
    }
}

impl Append for RotatingFileAppender {
    fn append(&self, record: &Record) -> anyhow::Result<()> {
        SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut bytes) => {
                bytes.clear();
                let result = self.shared.append_encoded(record, &mut bytes);
                if bytes.capacity() > SCRATCH_KEEP {
                    *bytes = Vec::with_capacity(512);
                }
                result
            }
            // Re-entered from inside an encoder: use a fresh buffer.
            Err(_) => self.shared.append_encoded(record, &mut Vec::new()),
        })
    }

    fn flush(&self) {
        let mut state = self.shared.lock_state();
        let flushed = self
            .shared
            .with_process_lock(|| self.shared.flush_buffer(&mut state));
        if let Err(e) = flushed
            && let Err(report) = self.shared.failed(&mut state, e, 0)
        {
            crate::report::report_error(&report);
        }
        if let Some(open) = &state.file {
            let _ = open.file.sync_data();
        }
        drop(state);
        if let Some(c) = &self.shared.housekeeper {
            c.flush(Duration::from_secs(10));
        }
    }
}

impl Drop for RotatingFileAppender {
    fn drop(&mut self) {
        let mut state = self.shared.lock_state();
        if let Err(e) = self.shared.flush_buffer(&mut state)
            && let Err(report) = self.shared.failed(&mut state, e, 0)
        {
            crate::report::report_error(&report);
        }
        // No later record will carry the lost-records line into the file: say it here.
        if self.shared.streak.is_failing() {
            let base = self.shared.names.base().display();
            let lost = LostRecords::new(
                self.shared.streak.failures(),
                "record",
                Cause::WriteFailed {
                    target: &base,
                    error: &state.failure,
                },
            );
            crate::report::report_error(&anyhow::anyhow!(
                "appender \"{}\": {lost}",
                self.shared.name
            ));
        }
    }
}

impl Shared {
    fn lock_state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn with_process_lock<T>(&self, f: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
        let _guard = match &self.process_lock {
            Some(l) => Some(l.lock()?),
            None => None,
        };
        f()
    }

    fn append_encoded(&self, record: &Record, bytes: &mut Vec<u8>) -> anyhow::Result<()> {
        self.encoder
            .encode(&mut SimpleWriter(&mut *bytes), record)?;
        self.commit(bytes, record.level() <= Level::Error)
    }

    /// Writes one encoded record (rotating first when due). In buffered mode, `urgent` (an
    /// error record) writes the buffer to disk at once.
    fn commit(&self, bytes: &[u8], urgent: bool) -> anyhow::Result<()> {
        if self.buffer_capacity == 0 {
            return self.group.commit(bytes, |bytes, lens, errors| {
                self.write_batch(bytes, lens, errors, false)
            });
        }
        // Buffered mode: a batch of one; an error record goes to disk at once.
        let mut errors = Errors::new();
        self.write_batch(bytes, &[bytes.len()], &mut errors, urgent);
        match errors.pop() {
            Some((_, report)) => Err(report),
            None => Ok(()),
        }
    }

    /// Writes a batch of records (one or more threads' records, in order) with as few `write`
    /// calls as rotation allows: one per stretch between two rotation points; then, if `flush`,
    /// whatever the buffer holds.
    fn write_batch(&self, bytes: &[u8], lens: &[usize], errors: &mut Errors, flush: bool) {
        // The clocks are read before the lock is taken, to keep the critical section short
        // (with two threads logging, the lock changes hands at every record).
        let now = (self.now(), Instant::now());
        let mut state = self.lock_state();
        let mut rotated = false;
        let locked = self.with_process_lock(|| {
            let (mut next, mut offset) = (0, 0);
            while next < lens.len() {
                let first = next;
                let written = self.write_chunk(
                    &mut state,
                    (bytes, lens),
                    (&mut next, &mut offset),
                    now,
                    &mut rotated,
                );
                if let Err(e) = written {
                    let lost = (next - first) as u64;
                    if let Err(report) = self.failed(&mut state, e, lost) {
                        errors.push((first, report));
                    }
                }
            }
            if flush
                && let Err(e) = self.flush_buffer(&mut state)
                && let Err(report) = self.failed(&mut state, e, 0)
            {
                errors.push((0, report));
            }
            Ok(())
        });
        if let Err(e) = locked
            && let Err(report) = self.failed(&mut state, e, lens.len() as u64)
        {
            errors.push((0, report));
        }
        drop(state);
        if rotated && let Some(c) = &self.housekeeper {
            c.send(());
        }
    }

    /// Writes the batch's records from `*next` up to the next rotation point in one `write`,
    /// rotating first if the first of them says so. Moves `*next` / `*offset` past the records
    /// written, or past those lost when it fails (only the first when the file cannot be opened
    /// or rotated, so that the next one tries again, as it would alone). `now` is the time for
    /// rotation by time and the instant for the reopen check, read before the lock.
    fn write_chunk(
        &self,
        state: &mut State,
        (bytes, lens): (&[u8], &[usize]),
        (next, offset): (&mut usize, &mut usize),
        (now, instant): (i64, Instant),
        rotated: &mut bool,
    ) -> io::Result<()> {
        let (first, start) = (*next, *offset);
        *next += 1;
        *offset += lens[first];
        self.make_current(state, now, instant)?;
        if self.streak.is_failing() {
            *rotated |= self.write_lost_notice(state, now)?;
        }
        *rotated |= self.roll_if_due(state, lens[first] as u64, now)?;
        let mut file = self.file_state(state)?;
        file.size += lens[first] as u64;
        while let Some(&len) = lens.get(*next) {
            if self.trigger.fires(file, len as u64, now) {
                break;
            }
            file.size += len as u64;
            *next += 1;
            *offset += len;
        }
        self.put(state, &bytes[start..*offset], (*next - first) as u64)
    }

    /// Asks the trigger about the next `len` bytes and rolls over if it says so; true if it did.
    fn roll_if_due(&self, state: &mut State, len: u64, now: i64) -> io::Result<bool> {
        let file = self.file_state(state)?;
        if !self.trigger.fires(file, len, now) {
            if !file.regular && now >= file.rollover_at {
                // Python: not a regular file, so no rollover, but the next interval begins.
                self.next_period(state, now);
            }
            return Ok(false);
        }
        // What is buffered belongs to the file being rolled over.
        self.flush_buffer(state)?;
        self.roll(state, now)?;
        Ok(true)
    }

    fn file_state(&self, state: &State) -> io::Result<FileState> {
        state
            .file_state()
            .ok_or_else(|| io::Error::other("the log file is not open"))
    }

    /// The time for rotation by time; without it the clock is never read.
    fn now(&self) -> i64 {
        match self.schedule {
            Some(_) => unix_seconds(self.clock.now()),
            None => 0,
        }
    }

    /// Starts the interval after the current one, computed from `now` as Python's
    /// `doRollover` does.
    fn next_period(&self, state: &mut State, now: i64) {
        if let Some(s) = &self.schedule {
            state.period = Some(s.period_from(now));
        }
    }

    /// The write policy: with a buffer, bytes that fit are kept for a later `write` (written
    /// first when they would overflow it); without one, or for bytes as large as the buffer,
    /// they are written now, after anything buffered.
    fn put(&self, state: &mut State, bytes: &[u8], records: u64) -> io::Result<()> {
        if self.buffer_capacity > 0 && bytes.len() < self.buffer_capacity {
            if state.buffer.len() + bytes.len() > self.buffer_capacity {
                self.flush_buffer(state)?;
            }
            state.buffer.extend_from_slice(bytes);
            state.buffered_records += records;
            if let Some(f) = state.file.as_mut() {
                f.size += bytes.len() as u64;
            }
            return Ok(());
        }
        self.flush_buffer(state)?;
        write_or_undo(self.current(state)?, bytes)
    }

    /// Counts the record (and anything buffered) as lost; the first failure of a streak is
    /// returned to log4rs, which prints it; the rest stay quiet until writing works again.
    fn failed(&self, state: &mut State, e: io::Error, records: u64) -> anyhow::Result<()> {
        let lost = records + state.buffered_records;
        state.buffer.clear();
        state.buffered_records = 0;
        // Reopened on the next record: the file may have been fixed or replaced meanwhile.
        state.file = None;
        let starts = !self.streak.is_failing();
        for _ in 0..lost {
            self.streak.failed();
        }
        if starts {
            state.failure = e.to_string();
            return Err(anyhow::anyhow!(
                "appender \"{}\": cannot write to {}: {e}; records are counted as lost until \
                 writing works again",
                self.name,
                self.names.base().display()
            ));
        }
        Ok(())
    }

    /// After a failure streak, one line saying how many records were lost and when. It is
    /// written straight to the file (never only buffered), and the streak ends only once it is
    /// there: if writing fails again, the same streak goes on and keeps counting.
    fn write_lost_notice(&self, state: &mut State, now: i64) -> io::Result<bool> {
        let since = UNIX_EPOCH + Duration::from_millis(self.streak.since_unix_ms());
        let until = SystemTime::now();
        let base = self.names.base().display();
        let lost = LostRecords::new(
            self.streak.failures(),
            "record",
            Cause::WriteFailed {
                target: &base,
                error: &state.failure,
            },
        )
        .between(since, until);
        let mut line = Vec::new();
        let encoded = self.encoder.encode(
            &mut SimpleWriter(&mut line),
            &Record::builder()
                .level(Level::Error)
                .target("log4rs_appenders::file")
                .module_path_static(Some(module_path!()))
                .args(format_args!("appender \"{}\": {lost}", self.name))
                .build(),
        );
        if encoded.is_err() {
            line.clear();
            let when = LostRecords::new(self.streak.failures(), "record", Cause::Unsaid)
                .between(since, until);
            line.extend_from_slice(format!("{when}\n").as_bytes());
        }
        let rotated = self.roll_if_due(state, line.len() as u64, now)?;
        self.flush_buffer(state)?;
        write_or_undo(self.current(state)?, &line)?;
        self.streak.recovered();
        Ok(rotated)
    }

    fn current<'s>(&self, state: &'s mut State) -> io::Result<&'s mut OpenFile> {
        state
            .file
            .as_mut()
            .ok_or_else(|| io::Error::other("the log file is not open"))
    }

    fn flush_buffer(&self, state: &mut State) -> io::Result<()> {
        if state.buffer.is_empty() {
            return Ok(());
        }
        let State { file, buffer, .. } = state;
        let open = file
            .as_mut()
            .ok_or_else(|| io::Error::other("the log file is not open"))?;
        // `size` already counts the buffered bytes.
        open.size -= buffer.len() as u64;
        write_or_undo(open, buffer)?;
        buffer.clear();
        state.buffered_records = 0;
        Ok(())
    }

    /// Opens the file if it is not, and notices when someone else moved or deleted it (every
    /// write in multi-process mode, where the size is also re-read; else at most once a second).
    fn make_current(&self, state: &mut State, now: i64, instant: Instant) -> io::Result<()> {
        let Some(open) = &mut state.file else {
            return self.open(state);
        };
        if self.process_lock.is_some() {
            if moved_away(self.names.base(), open.id) {
                self.after_moved_away(state, now);
                return self.open(state);
            }
            open.size = open.file.metadata()?.len();
        } else if state.check.due(instant) {
            if moved_away(self.names.base(), open.id) {
                // What is buffered was logged before the move: it belongs to the moved file.
                self.flush_buffer(state)?;
                self.after_moved_away(state, now);
                return self.open(state);
            }
            // Truncated in place (logrotate's copytruncate) or appended to by someone else.
            open.size = open.file.metadata()?.len() + state.buffer.len() as u64;
        }
        Ok(())
    }

    /// The file was moved away by someone else (another process sharing it rotated it, or
    /// logrotate): if the current interval is over, that move was its rollover.
    fn after_moved_away(&self, state: &mut State, now: i64) {
        if state.period.as_ref().is_some_and(|p| now >= p.ends_at) {
            self.next_period(state, now);
        }
    }

    fn open(&self, state: &mut State) -> io::Result<()> {
        state.file = None;
        let path = self.names.base();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let file = open_for_append(path, self.mode)?;
        let meta = file.metadata()?;
        state.file = Some(OpenFile {
            id: FileId::of(&meta),
            size: meta.len() + state.buffer.len() as u64,
            regular: meta.is_file(),
            file,
        });
        Ok(())
    }

    fn roll(&self, state: &mut State, now: i64) -> io::Result<()> {
        let _rotation = self.rotation.lock().unwrap_or_else(|p| p.into_inner());
        let (Some(dated), Some(period)) = (&self.dated, state.period.clone()) else {
            state.file = None;
            rotate(&self.names, self.backup_count)?;
            return self.open(state);
        };
        // Python's doRollover: the backup is named for the interval's start; the next interval
        // is computed from now. A size rollover within the interval keeps the interval.
        if now >= period.ends_at {
            self.next_period(state, now);
        }
        state.file = None;
        // Old backups are deleted by the housekeeping worker, which the caller pokes.
        let moved = dated.rotate(&period.label);
        self.open(state)?;
        moved.map(|_| ())
    }
}

/// Opens the log file for appending, creating it if needed. A file this call creates gets `mode`
/// exactly when one is configured (set after creation, so the umask does not reduce it); without
/// one the umask decides, as in Python. An existing file keeps its mode.
#[cfg(unix)]
fn open_for_append(path: &std::path::Path, mode: Option<u32>) -> io::Result<File> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let Some(mode) = mode else {
        return OpenOptions::new().append(true).create(true).open(path);
    };
    match OpenOptions::new()
        .append(true)
        .create_new(true)
        .mode(mode)
        .open(path)
    {
        Ok(file) => {
            file.set_permissions(std::fs::Permissions::from_mode(mode))?;
            Ok(file)
        }
        // Removed again in between: created with `mode` less the umask, never wider.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => OpenOptions::new()
            .append(true)
            .create(true)
            .mode(mode)
            .open(path),
        Err(e) => Err(e),
    }
}

/// Opens the log file for appending, creating it if needed (`mode` has no meaning on Windows).
#[cfg(not(unix))]
fn open_for_append(path: &std::path::Path, _mode: Option<u32>) -> io::Result<File> {
    OpenOptions::new().append(true).create(true).open(path)
}

/// Writes `bytes` at the end of the file. If the write fails part-way (disk full), the partial
/// record is cut off again so that the file holds only whole records.
fn write_or_undo(open: &mut OpenFile, bytes: &[u8]) -> io::Result<()> {
    match open.file.write_all(bytes) {
        Ok(()) => {
            open.size += bytes.len() as u64;
            Ok(())
        }
        Err(e) => {
            if open.regular
                && let Ok(now) = open.file.metadata().map(|m| m.len())
                && now > open.size
                && now < open.size + bytes.len() as u64
            {
                let _ = open.file.set_len(open.size);
            }
            Err(e)
        }
    }
}

/// Buffered mode: writes what waits in the buffer every `flush_interval`.
struct FlushTimer {
    shared: Weak<Shared>,
    interval: Duration,
    next: Instant,
}

impl FlushTimer {
    fn flush_now(&mut self) {
        self.next = Instant::now() + self.interval;
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        let mut state = shared.lock_state();
        if state.buffer.is_empty() {
            return;
        }
        if let Err(e) = shared.flush_buffer(&mut state)
            && let Err(report) = shared.failed(&mut state, e, 0)
        {
            crate::report::report_error(&report);
        }
    }
}

impl Sink for FlushTimer {
    type Item = ();

    fn handle(&mut self, _batch: &mut Vec<()>) {}

    fn dropped(&mut self, _count: u64) {}

    fn wake(&mut self) {
        self.flush_now();
    }

    fn next_wake(&self) -> Option<Instant> {
        Some(self.next)
    }

    fn flush(&mut self, _deadline: Instant) {
        self.flush_now();
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn appender(path: &std::path::Path, max_bytes: u64) -> RotatingFileAppender {
        RotatingFileAppender::builder()
            .name("file")
            .max_bytes(max_bytes)
            .backup_count(3)
            .encoder(Box::new(
                crate::encode::PythonEncoder::new("%(message)s").unwrap(),
            ))
            .build(path)
            .unwrap()
    }

    #[test]
    fn a_batch_is_split_where_pythons_rule_rotates_and_written_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("app.log");
        let app = appender(&base, 25);
        let mut errors = Errors::new();
        // 10 + 10 = 20 < 25, then 20 + 10 >= 25: rotate before the third record.
        app.shared.write_batch(
            b"record 01\nrecord 02\nrecord 03\n",
            &[10, 10, 10],
            &mut errors,
            false,
        );
        assert!(errors.is_empty());
        let backup = std::fs::read_to_string(dir.path().join("app.log.1")).unwrap();
        assert_eq!(backup, "record 01\nrecord 02\n");
        assert_eq!(std::fs::read_to_string(&base).unwrap(), "record 03\n");
    }

    #[test]
    fn a_failed_batch_counts_each_of_its_records_and_reports_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("app.log");
        std::os::unix::fs::symlink("/dev/full", &base).unwrap();
        let app = appender(&base, 0);
        let mut errors = Errors::new();
        app.shared
            .write_batch(b"a\nb\nc\n", &[2, 2, 2], &mut errors, false);
        assert_eq!(errors.len(), 1, "one report for the streak");
        assert_eq!(errors[0].0, 0, "returned to the first record's append");
        assert_eq!(app.shared.streak.failures(), 3, "every record counted");
        app.shared.write_batch(b"d\n", &[2], &mut errors, false);
        assert_eq!(errors.len(), 1, "the streak goes on quietly");
        assert_eq!(app.shared.streak.failures(), 4);
    }
}
