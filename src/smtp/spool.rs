//! The spool: mails that could not be delivered for `spool_after` are written to `spool_dir`,
//! one file per mail, so they survive a restart of the application. A file is written under a
//! temporary name, synced, then renamed into place (a crash never leaves a half mail), and it
//! is deleted only after the server accepted the mail.
//!
//! File format (`*.mail`): a version line, the envelope sender and recipients, a blank line,
//! then the message exactly as it goes over the wire (before dot-stuffing).
//! One appender at a time owns a spool directory ([`crate::spool::SpoolLock`], taken by the
//! outbox): it alone loads and sends what is spooled there.
//!
//! The spool holds full error text, so it is private: the directory is created `0700`, every
//! file `0600`, and a directory that is a symbolic link or writable by group or others is
//! refused (at build time and again before every write), never followed.

use std::path::{Path, PathBuf};
use std::time::Instant;

use lettre::Address;
use lettre::address::Envelope;

use super::message::OutgoingMail;
use crate::spool::{check_dir, read_regular_file, spooled_files, unique_name, write_atomically};

const MAGIC: &str = "log4rs-appenders spool v1";

/// A spool directory.
#[derive(Debug, Clone)]
pub(crate) struct Spool {
    dir: PathBuf,
}

impl Spool {
    /// A spool in `dir`, refused when `dir` exists but is not a private directory (see
    /// [`check_dir`]). Creates nothing: the directory is made when the first mail is stored.
    pub(crate) fn open(dir: PathBuf) -> anyhow::Result<Self> {
        check_dir(&dir)?;
        Ok(Spool { dir })
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes `mail` atomically and returns the file's path.
    pub(crate) fn store(&self, mail: &OutgoingMail) -> anyhow::Result<PathBuf> {
        let mut content = Vec::with_capacity(mail.bytes.len() + 256);
        content.extend_from_slice(MAGIC.as_bytes());
        content.extend_from_slice(b"\n");
        let from = mail
            .envelope
            .from()
            .map(|a| a.to_string())
            .unwrap_or_default();
        content.extend_from_slice(format!("from: {from}\n").as_bytes());
        let to: Vec<String> = mail.envelope.to().iter().map(|a| a.to_string()).collect();
        content.extend_from_slice(format!("to: {}\n\n", to.join(", ")).as_bytes());
        content.extend_from_slice(&mail.bytes);
        let path = write_atomically(&self.dir, &unique_name("mail"), &content)?;
        Ok(path)
    }

    /// Every spooled mail, oldest first. Unreadable files are reported and skipped (left in
    /// place for a human).
    pub(crate) fn load(&self) -> (Vec<OutgoingMail>, Vec<anyhow::Error>) {
        let mut mails = Vec::new();
        let mut errors = Vec::new();
        let paths = match spooled_files(&self.dir, "mail") {
            Ok(paths) => paths,
            Err(e) => {
                errors.push(e);
                return (mails, errors);
            }
        };
        for path in paths {
            match read_spool_file(&path) {
                Ok(mut mail) => {
                    mail.spooled = Some(path);
                    mails.push(mail);
                }
                Err(e) => errors.push(e.context(format!("spool file {}", path.display()))),
            }
        }
        (mails, errors)
    }
}

/// Reads a spool file, refusing anything that is not a regular file (a planted link).
fn read_spool_file(path: &Path) -> anyhow::Result<OutgoingMail> {
    let content = read_regular_file(path)?;
    let split = content
        .windows(2)
        .position(|w| w == b"\n\n")
        .ok_or_else(|| anyhow::anyhow!("no header end"))?;
    let head = std::str::from_utf8(&content[..split])?;
    let mut lines = head.lines();
    if lines.next() != Some(MAGIC) {
        anyhow::bail!("not a spool file of this version");
    }
    let mut from = None;
    let mut to = Vec::new();
    for line in lines {
        if let Some(v) = line.strip_prefix("from: ") {
            if !v.is_empty() {
                from = Some(v.parse::<Address>()?);
            }
        } else if let Some(v) = line.strip_prefix("to: ") {
            for a in v.split(", ").filter(|a| !a.is_empty()) {
                to.push(a.parse::<Address>()?);
            }
        }
    }
    Ok(OutgoingMail {
        envelope: Envelope::new(from, to)?,
        bytes: content[split + 2..].to_vec(),
        created: Instant::now(),
        spooled: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spooled_mail_reads_back_identically() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path().join("spool")).unwrap();
        let envelope = Envelope::new(
            Some("a@example.com".parse().unwrap()),
            vec![
                "b@example.com".parse().unwrap(),
                "c@example.com".parse().unwrap(),
            ],
        )
        .unwrap();
        let mail = OutgoingMail {
            envelope,
            bytes: b"Subject: x\r\n\r\n\n\nbody\r\n".to_vec(),
            created: Instant::now(),
            spooled: None,
        };
        let path = spool.store(&mail).unwrap();
        let (loaded, errors) = spool.load();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(loaded.len(), 1);
        assert_eq!(loaded[0].bytes, mail.bytes);
        assert_eq!(loaded[0].envelope, mail.envelope);
        assert_eq!(loaded[0].spooled.as_deref(), Some(path.as_path()));
        crate::spool::remove_delivered(&path).unwrap();
        assert!(spool.load().0.is_empty());
    }
}
