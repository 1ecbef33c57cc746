//! Digest and flood control: records within `batch_window` share one mail, repeats of the same
//! error collapse into one entry with a count, at most `max_mails_per_hour` mails leave, and
//! whatever could not be shown is counted in the next mail. Pure logic, no I/O: the worker
//! feeds it and asks it for due mails.

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::time::{Duration, Instant, SystemTime};

use log::Level;

use super::message::DigestMail;
use crate::count::Count;
use crate::lost::{Cause, LostRecords};

/// Why `on_full: drop` lost records: the queue to the mail worker was full.
const MAIL_QUEUE_FULL: Cause<'static> = Cause::QueueFull { queue: "mail" };

/// One record as the application thread queues it: already rendered, owning its strings.
#[derive(Debug)]
pub(crate) struct QueuedRecord {
    pub level: Level,
    pub target: String,
    pub file: Option<String>,
    pub line: Option<u32>,
    /// The literal message when it has no arguments (`error!("disk full")`).
    pub template: Option<&'static str>,
    /// The record rendered by the body encoder.
    pub body: String,
    /// The rendered subject (empty for context records).
    pub subject: String,
    pub time: SystemTime,
    /// Below the mail threshold: kept only as context for the next error.
    pub context_only: bool,
}

/// The same error: same target, same call site (`file:line`: one format string per call site
/// with log's macros) or, without a location, the same message with its numbers masked.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct Key {
    target: String,
    file: Option<String>,
    line: Option<u32>,
    /// Only without a full location: the literal message, or the message with digits masked.
    text: Option<String>,
}

impl Key {
    /// Moves the identifying strings out of `r` (no copies on the hot path of a storm).
    fn take(r: &mut QueuedRecord) -> Key {
        let text = match (&r.file, r.line, r.template) {
            (Some(_), Some(_), _) => None,
            (_, _, Some(t)) => Some(t.to_owned()),
            _ => Some(
                r.body
                    .chars()
                    .map(|c| if c.is_ascii_digit() { '#' } else { c })
                    .collect(),
            ),
        };
        Key {
            target: std::mem::take(&mut r.target),
            file: r.file.take(),
            line: r.line,
            text,
        }
    }

    fn location(&self) -> String {
        match (&self.file, self.line) {
            (Some(f), Some(l)) => format!("{f}:{l}"),
            (Some(f), None) => f.clone(),
            _ => String::from("unknown location"),
        }
    }
}

#[derive(Debug)]
struct Entry {
    level: Level,
    count: u64,
    first: String,
    first_time: SystemTime,
    last: Option<String>,
    last_time: SystemTime,
    location: String,
    target: String,
    context: Vec<String>,
}

/// Digest settings (see the builder for their meaning).
#[derive(Clone, Debug)]
pub(crate) struct DigestSettings {
    pub batch_window: Duration,
    pub max_mails_per_hour: u32,
    pub context_records: usize,
    /// Distinct errors shown per mail; further kinds are only counted.
    pub max_entries: usize,
    pub appender_name: String,
}

/// Kinds remembered per mail for counting; beyond this, records are still counted, kinds not.
const MAX_REMEMBERED_KINDS: usize = 4096;

const HOUR: Duration = Duration::from_secs(3600);

/// The pending digest plus the rate limiter's memory.
#[derive(Debug)]
pub(crate) struct Digest {
    settings: DigestSettings,
    entries: Vec<Entry>,
    index: HashMap<Key, usize>,
    subject: String,
    /// Records at or above the threshold in the pending digest (shown, suppressed or dropped).
    records: u64,
    suppressed_records: u64,
    suppressed_kinds: u64,
    dropped: u64,
    /// Context records (below the threshold) lost to a full queue since the last mail.
    dropped_context: u64,
    opened_at: Option<Instant>,
    context: VecDeque<String>,
    sent: VecDeque<Instant>,
    held_since: Option<Instant>,
}

impl Digest {
    pub(crate) fn new(settings: DigestSettings) -> Self {
        Digest {
            context: VecDeque::with_capacity(settings.context_records.min(1024)),
            settings,
            entries: Vec::new(),
            index: HashMap::new(),
            subject: String::new(),
            records: 0,
            suppressed_records: 0,
            suppressed_kinds: 0,
            dropped: 0,
            dropped_context: 0,
            opened_at: None,
            sent: VecDeque::new(),
            held_since: None,
        }
    }

    /// Adds a record: context records go to the ring buffer, others to the digest.
    pub(crate) fn add(&mut self, mut r: QueuedRecord, now: Instant) {
        if r.context_only {
            if self.settings.context_records > 0 {
                if self.context.len() == self.settings.context_records {
                    self.context.pop_front();
                }
                self.context.push_back(r.body);
            }
            return;
        }
        self.open(now);
        self.records += 1;
        let key = Key::take(&mut r);
        if let Some(&i) = self.index.get(&key) {
            let Some(e) = self.entries.get_mut(i) else {
                self.suppressed_records += 1; // a kind beyond the entry limit, seen before
                return;
            };
            e.count += 1;
            e.last = Some(r.body);
            e.last_time = r.time;
            return;
        }
        if self.entries.is_empty() {
            self.subject = r.subject;
        }
        if self.entries.len() >= self.settings.max_entries {
            self.suppressed_records += 1;
            // Count each new kind once: remember it without an entry (bounded memory).
            if self.index.len() < MAX_REMEMBERED_KINDS {
                self.index.insert(key, usize::MAX);
                self.suppressed_kinds += 1;
            }
            return;
        }
        let location = key.location();
        let target = key.target.clone();
        self.index.insert(key, self.entries.len());
        self.entries.push(Entry {
            level: r.level,
            count: 1,
            first: r.body,
            first_time: r.time,
            last: None,
            last_time: r.time,
            location,
            target,
            context: self.context.drain(..).collect(),
        });
    }

    /// Error records the application could not queue (queue full); the next mail counts them.
    pub(crate) fn add_dropped(&mut self, count: u64, now: Instant) {
        if count > 0 {
            self.open(now);
            self.dropped += count;
            self.records += count;
        }
    }

    /// Context records the application could not queue: the next mail says so (they alone do
    /// not make a mail due).
    pub(crate) fn add_dropped_context(&mut self, count: u64) {
        self.dropped_context += count;
    }

    fn open(&mut self, now: Instant) {
        if self.opened_at.is_none() {
            self.opened_at = Some(now);
        }
    }

    /// True when nothing is pending.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// When the pending digest may go out: at the end of its batch window, or later when the
    /// hourly limit is used up.
    pub(crate) fn due(&self) -> Option<Instant> {
        let opened = self.opened_at?;
        let window_end = opened + self.settings.batch_window;
        Some(match self.next_free_slot() {
            Some(slot) => slot.max(window_end),
            None => window_end,
        })
    }

    /// When the hourly limit allows the next mail (None: now).
    fn next_free_slot(&self) -> Option<Instant> {
        let limit = self.settings.max_mails_per_hour.max(1) as usize;
        if self.sent.len() < limit {
            return None;
        }
        self.sent.get(self.sent.len() - limit).map(|t| *t + HOUR)
    }

    /// The pending digest as a mail if it is due (or `force`, for flush and shutdown, which
    /// ignore the window and the hourly limit so nothing is left behind).
    pub(crate) fn take_due(&mut self, now: Instant, force: bool) -> Option<DigestMail> {
        while self
            .sent
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= HOUR)
        {
            self.sent.pop_front();
        }
        let due = self.due()?;
        if !force && due > now {
            if self.held_since.is_none() && self.next_free_slot().is_some_and(|s| s > now) {
                self.held_since = self.opened_at;
            }
            return None;
        }
        let mail = self.render(now);
        self.sent.push_back(now);
        self.entries.clear();
        self.index.clear();
        self.subject.clear();
        self.records = 0;
        self.suppressed_records = 0;
        self.suppressed_kinds = 0;
        self.dropped = 0;
        self.dropped_context = 0;
        self.opened_at = None;
        self.held_since = None;
        Some(mail)
    }

    fn render(&self, now: Instant) -> DigestMail {
        let mut body = String::new();
        let shown: u64 = self.entries.iter().map(|e| e.count).sum();
        let first = self.entries.iter().map(|e| e.first_time).min();
        let last = self.entries.iter().map(|e| e.last_time).max();
        let _ = write!(
            body,
            "{} from appender \"{}\"",
            Count::new(self.records, "record"),
            self.settings.appender_name
        );
        if let (Some(a), Some(b)) = (first, last) {
            let _ = write!(body, ", {} to {}", utc(a), utc(b));
        }
        let _ = writeln!(body, ", {} distinct:\n", self.entries.len());
        for e in &self.entries {
            let _ = writeln!(
                body,
                "--- {}x {} {} at {} (first {}, last {})",
                e.count,
                e.level,
                e.target,
                e.location,
                utc(e.first_time),
                utc(e.last_time)
            );
            if !e.context.is_empty() {
                let before = Count::new(e.context.len() as u64, "record");
                let _ = writeln!(body, "    {before} before it:");
                for c in &e.context {
                    let _ = writeln!(body, "    | {}", c.trim_end());
                }
            }
            let _ = writeln!(body, "{}", e.first.trim_end());
            if let Some(last) = &e.last {
                let _ = writeln!(body, "  last of the {}: {}", e.count, last.trim_end());
            }
            body.push('\n');
        }
        if self.suppressed_records > 0 {
            let _ = writeln!(
                body,
                "Suppressed: {} of {}{} further distinct {} not shown \
                 (more than {} in one mail).",
                Count::new(self.suppressed_records, "record"),
                self.suppressed_kinds,
                if self.index.len() >= MAX_REMEMBERED_KINDS {
                    "+"
                } else {
                    ""
                },
                Count::new(self.suppressed_kinds, "error").noun(),
                Count::new(self.settings.max_entries as u64, "distinct error")
            );
        }
        if self.dropped > 0 {
            let lost = LostRecords::new(self.dropped, "record", MAIL_QUEUE_FULL);
            let _ = writeln!(body, "Dropped: {lost}.");
        }
        if self.dropped_context > 0 {
            let lost = LostRecords::new(self.dropped_context, "context record", MAIL_QUEUE_FULL);
            let _ = writeln!(
                body,
                "Dropped: {lost}; the records shown before an error may be incomplete."
            );
        }
        if let Some(since) = self.held_since {
            let _ = writeln!(
                body,
                "Held back: max_mails_per_hour ({}) delayed this mail by {} s.",
                self.settings.max_mails_per_hour,
                now.saturating_duration_since(since).as_secs()
            );
        }
        debug_assert_eq!(shown + self.suppressed_records + self.dropped, self.records);
        DigestMail {
            subject: self.subject.clone(),
            records: self.records,
            body,
        }
    }
}

fn utc(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t)
        .format("%Y-%m-%d %H:%M:%S%.3f UTC")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(window: u64, per_hour: u32, context: usize) -> DigestSettings {
        DigestSettings {
            batch_window: Duration::from_secs(window),
            max_mails_per_hour: per_hour,
            context_records: context,
            max_entries: 3,
            appender_name: "mail".into(),
        }
    }

    fn rec(line: u32, msg: &str, context_only: bool) -> QueuedRecord {
        QueuedRecord {
            level: if context_only {
                Level::Info
            } else {
                Level::Error
            },
            target: "app".into(),
            file: Some("src/app.rs".into()),
            line: Some(line),
            template: None,
            body: msg.into(),
            subject: format!("ERROR {msg}"),
            time: SystemTime::now(),
            context_only,
        }
    }

    #[test]
    fn repeats_of_one_call_site_collapse_into_one_counted_entry() {
        let mut d = Digest::new(settings(10, 10, 0));
        let t0 = Instant::now();
        for i in 0..1000 {
            d.add(rec(7, &format!("user {i} failed"), false), t0);
        }
        d.add(rec(8, "other", false), t0);
        assert!(d.take_due(t0, false).is_none(), "the window is still open");
        let mail = d.take_due(t0 + Duration::from_secs(10), false).unwrap();
        assert_eq!(mail.records, 1001);
        assert!(
            mail.body.contains("--- 1000x ERROR app at src/app.rs:7"),
            "{}",
            mail.body
        );
        assert!(mail.body.contains("user 0 failed") && mail.body.contains("user 999 failed"));
        assert_eq!(mail.subject, "ERROR user 0 failed");
        assert!(d.is_empty());
    }

    #[test]
    fn lost_context_records_are_counted_in_the_next_mail_without_making_one_due() {
        let mut d = Digest::new(settings(0, 10, 3));
        let t0 = Instant::now();
        d.add_dropped_context(4);
        assert!(d.take_due(t0 + Duration::from_secs(60), true).is_none());
        d.add(rec(1, "x", false), t0);
        let mail = d.take_due(t0 + Duration::from_secs(60), false).unwrap();
        assert!(
            mail.body.contains("Dropped: 4 context records were lost"),
            "{}",
            mail.body
        );
        d.add(rec(1, "x", false), t0);
        let mail = d.take_due(t0 + Duration::from_secs(120), true).unwrap();
        assert!(
            !mail.body.contains("context records were lost"),
            "{}",
            mail.body
        );
    }

    #[test]
    fn kinds_beyond_the_entry_limit_and_drops_are_counted() {
        let mut d = Digest::new(settings(0, 10, 0));
        let t0 = Instant::now();
        for line in 0..10 {
            d.add(rec(line, "x", false), t0);
            d.add(rec(line, "x", false), t0);
        }
        d.add_dropped(5, t0);
        let mail = d.take_due(t0, false).unwrap();
        assert_eq!(mail.records, 25);
        assert!(
            mail.body
                .contains("Suppressed: 14 records of 7 further distinct errors"),
            "{}",
            mail.body
        );
        assert!(
            mail.body.contains("Dropped: 5 records were lost"),
            "{}",
            mail.body
        );
    }

    #[test]
    fn the_hourly_limit_holds_mails_back_and_says_so() {
        let mut d = Digest::new(settings(0, 2, 0));
        let t0 = Instant::now();
        for i in 0..2 {
            d.add(rec(1, "x", false), t0);
            assert!(d.take_due(t0 + Duration::from_secs(i), false).is_some());
        }
        d.add(rec(1, "x", false), t0 + Duration::from_secs(5));
        assert!(d.take_due(t0 + Duration::from_secs(5), false).is_none());
        assert_eq!(d.due(), Some(t0 + HOUR));
        let mail = d.take_due(t0 + HOUR, false).unwrap();
        assert!(mail.body.contains("Held back"), "{}", mail.body);
    }

    #[test]
    fn context_records_before_an_error_ride_along_once() {
        let mut d = Digest::new(settings(0, 10, 2));
        let t0 = Instant::now();
        for m in ["c1", "c2", "c3"] {
            d.add(rec(1, m, true), t0);
        }
        d.add(rec(2, "boom", false), t0);
        d.add(rec(3, "bang", false), t0);
        let mail = d.take_due(t0, false).unwrap();
        assert!(mail.body.contains("| c2\n    | c3\nboom"), "{}", mail.body);
        assert!(!mail.body.contains("c1"));
        assert_eq!(mail.body.matches("| c3").count(), 1);
        assert_eq!(mail.records, 2);
    }
}
