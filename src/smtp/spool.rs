//! The spool: mails that could not be delivered for `spool_after` are written to `spool_dir`,
//! one file per mail, so they survive a restart of the application. A file is written under a
//! temporary name, synced, then renamed into place (a crash never leaves a half mail), and it
//! is deleted only after the server accepted the mail.
//!
//! File format (`*.mail`): a version line, the envelope sender and recipients, a blank line,
//! then the message exactly as it goes over the wire (before dot-stuffing).
//! One appender (one process) per spool directory.
//!
//! The spool holds full error text, so it is private: the directory is created `0700`, every
//! file `0600`, and a directory that is a symbolic link or writable by group or others is
//! refused (at build time and again before every write), never followed.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use lettre::Address;
use lettre::address::Envelope;

use super::message::OutgoingMail;

const MAGIC: &str = "log4rs-appenders spool v1";

/// A spool directory.
#[derive(Debug, Clone)]
pub(crate) struct Spool {
    dir: PathBuf,
}

static SEQUENCE: AtomicU64 = AtomicU64::new(0);

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
        // Checked again here: the directory may have been replaced since the appender started.
        check_dir(&self.dir)?;
        create_private_dir(&self.dir)
            .map_err(|e| anyhow::anyhow!("cannot create spool_dir {}: {e}", self.dir.display()))?;
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        let name = format!(
            "{millis:015}-{}-{:06}.mail",
            std::process::id(),
            SEQUENCE.fetch_add(1, Ordering::Relaxed)
        );
        let path = self.dir.join(&name);
        let tmp = self.dir.join(format!(".{name}.tmp"));
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
        let write = || -> std::io::Result<()> {
            let mut f = create_private_file(&tmp)?;
            f.write_all(&content)?;
            f.sync_all()?;
            fs::rename(&tmp, &path)?;
            // Make the rename itself durable.
            fs::File::open(&self.dir)
                .and_then(|d| d.sync_all())
                .or(Ok(()))
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&tmp);
            anyhow::anyhow!("cannot write spool file {}: {e}", path.display())
        })?;
        Ok(path)
    }

    /// Every spooled mail, oldest first. Unreadable files are reported and skipped (left in
    /// place for a human).
    pub(crate) fn load(&self) -> (Vec<OutgoingMail>, Vec<anyhow::Error>) {
        let mut mails = Vec::new();
        let mut errors = Vec::new();
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (mails, errors),
            Err(e) => {
                errors.push(anyhow::anyhow!(
                    "cannot read spool_dir {}: {e}",
                    self.dir.display()
                ));
                return (mails, errors);
            }
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "mail"))
            .collect();
        paths.sort();
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

    /// Removes a delivered mail's file.
    pub(crate) fn remove(path: &Path) -> anyhow::Result<()> {
        fs::remove_file(path).map_err(|e| {
            anyhow::anyhow!("cannot delete delivered spool file {}: {e}", path.display())
        })
    }

    /// Renames a mail the server refused for good to `*.rejected`, so it is not retried but
    /// stays for a human to look at.
    pub(crate) fn reject(path: &Path) {
        let _ = fs::rename(path, path.with_extension("rejected"));
    }
}

/// Refuses a spool directory that exists but is a symbolic link, not a directory, or (on unix)
/// writable by group or others, who could then plant, read or replace mails. A missing one is
/// fine: it is created private.
fn check_dir(dir: &Path) -> anyhow::Result<()> {
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
                 could plant or replace spooled mails; run `chmod 700 {shown}` or use a \
                 directory of your own"
            );
        }
    }
    Ok(())
}

/// Creates `dir` and any missing parents, each `0700` on unix.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates a new file `0600` on unix; fails if anything (a symbolic link included) is there.
fn create_private_file(path: &Path) -> std::io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Reads a spool file, refusing anything that is not a regular file (a planted link).
fn read_spool_file(path: &Path) -> anyhow::Result<OutgoingMail> {
    if !fs::symlink_metadata(path)?.is_file() {
        anyhow::bail!("not a regular file (a symbolic link or other); left in place");
    }
    let content = fs::read(path)?;
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
        Spool::remove(&path).unwrap();
        assert!(spool.load().0.is_empty());
    }
}
