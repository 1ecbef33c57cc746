//! The rotating file appender against what a hostile folder or a careless config can do: links
//! planted at backup names, permissions widened by compression, absurd backup counts. Real
//! files in a temporary folder; unix only (modes, links, FIFOs and owners).
#![cfg(unix)]

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use log::{Level, Record};
use log4rs::append::Append;
use log4rs_appenders::encode::PythonEncoder;
use log4rs_appenders::file::{RotatingFileAppender, RotatingFileAppenderBuilder};

fn builder() -> RotatingFileAppenderBuilder {
    RotatingFileAppender::builder()
        .name("file")
        .encoder(Box::new(PythonEncoder::new("%(message)s").unwrap()))
}

fn info(app: &dyn Append, message: &str) {
    app.append(
        &Record::builder()
            .level(Level::Info)
            .args(format_args!("{message}"))
            .build(),
    )
    .unwrap();
}

fn mode_of(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o7777
}

/// Everything reported through the crate's error handler in this test process (also printed).
fn reports() -> &'static Mutex<Vec<String>> {
    static REPORTS: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    REPORTS.get_or_init(|| {
        log4rs_appenders::set_error_handler(|e| {
            eprintln!("log4rs: {e:#}");
            REPORTS
                .get()
                .unwrap()
                .lock()
                .unwrap()
                .push(format!("{e:#}"));
        });
        Mutex::new(Vec::new())
    })
}

fn reports_about(needle: &str) -> Vec<String> {
    reports()
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.contains(needle))
        .cloned()
        .collect()
}

/// Logs 40-byte records until the log file has rotated `times` times (max_bytes 100: two
/// records per file).
fn rotate(app: &dyn Append, times: usize) {
    for i in 0..times * 2 + 1 {
        info(app, &format!("{i:039}"));
    }
}

#[cfg(feature = "gzip")]
mod gzip {
    use super::*;
    use log4rs_appenders::file::Compression;
    use std::io::Read;

    fn gunzip(path: &Path) -> String {
        let mut out = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
            .read_to_string(&mut out)
            .unwrap();
        out
    }

    /// Issue 12, item 1: a link `app.log.1 -> secret` made the compressor read the secret and
    /// write it into a world-readable `app.log.1.gz`, then delete the link.
    #[test]
    fn gzip_never_follows_a_link_planted_at_a_backup_name_and_reports_it_once() {
        reports();
        let outside = tempfile::tempdir().unwrap();
        let secret = outside.path().join("secret");
        std::fs::write(&secret, "SECRET TOKEN\n").unwrap();
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("app.log");
        let link = dir.path().join("app.log.1");
        std::os::unix::fs::symlink(&secret, &link).unwrap();
        // A FIFO at a backup name: opening it for reading would block the compressor forever.
        let fifo = dir.path().join("app.log.2");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());

        let app = builder()
            .max_bytes(100)
            .backup_count(6)
            .compress(Compression::Gzip)
            .build(&base)
            .unwrap();
        app.flush(); // the leftover sweep at start-up
        // Two rotations move the link to .3 and the FIFO to .4; each pokes the compressor.
        rotate(&app, 2);
        app.flush();

        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        for name in &names {
            let path = dir.path().join(name);
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_file() {
                let content = if name.ends_with(".gz") {
                    gunzip(&path)
                } else {
                    std::fs::read_to_string(&path).unwrap()
                };
                assert!(!content.contains("SECRET"), "{name} holds the secret");
            }
        }
        let moved_link = dir.path().join("app.log.3");
        assert!(
            std::fs::symlink_metadata(&moved_link)
                .unwrap()
                .file_type()
                .is_symlink(),
            "the link is left as it is (and moved along like any backup): {names:?}"
        );
        assert!(
            std::fs::symlink_metadata(dir.path().join("app.log.4"))
                .unwrap()
                .file_type()
                .is_fifo(),
            "{names:?}"
        );
        assert!(!dir.path().join("app.log.3.gz").exists(), "{names:?}");
        assert_eq!(std::fs::read_to_string(&secret).unwrap(), "SECRET TOKEN\n");
        // Our own backups were compressed as usual.
        assert!(dir.path().join("app.log.1.gz").exists(), "{names:?}");
        assert!(dir.path().join("app.log.2.gz").exists(), "{names:?}");

        let dir_name = dir.path().display().to_string();
        let about: Vec<String> = reports_about(&dir_name);
        let links: Vec<&String> = about
            .iter()
            .filter(|r| r.contains("symbolic link"))
            .collect();
        let fifos: Vec<&String> = about
            .iter()
            .filter(|r| r.contains("not a regular file"))
            .collect();
        assert_eq!(links.len(), 1, "one report for the link: {about:?}");
        assert_eq!(fifos.len(), 1, "one report for the FIFO: {about:?}");
        assert!(links[0].contains("will not compress") && links[0].contains("app.log.1"));
        assert_eq!(about.len(), 2, "{about:?}");
    }

    /// A regular file of another user at a backup name is not ours to compress (root only: the
    /// test gives the file away with chown).
    #[test]
    fn gzip_refuses_a_backup_that_belongs_to_another_user() {
        reports();
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("SKIPPED: giving a file to another user needs root");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("app.log");
        let planted = dir.path().join("app.log.1");
        std::fs::write(&planted, "not mine\n").unwrap();
        std::os::unix::fs::chown(&planted, Some(65534), Some(65534)).unwrap();
        let app = builder()
            .backup_count(3)
            .compress(Compression::Gzip)
            .build(&base)
            .unwrap();
        app.flush();
        assert!(planted.exists() && !dir.path().join("app.log.1.gz").exists());
        let about = reports_about(&dir.path().display().to_string());
        assert_eq!(about.len(), 1, "{about:?}");
        assert!(about[0].contains("belongs to user id 65534"), "{about:?}");
    }

    /// Issue 12, item 2: a log chmod'ed to 0600 rotated into a 0644 `.gz`.
    #[test]
    fn a_compressed_backup_keeps_the_mode_of_the_file_it_came_from() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("app.log");
        let app = builder()
            .max_bytes(100)
            .backup_count(3)
            .compress(Compression::Gzip)
            .build(&base)
            .unwrap();
        for mode in [0o600, 0o640] {
            std::fs::set_permissions(&base, std::fs::Permissions::from_mode(mode)).unwrap();
            rotate(&app, 1);
            app.flush();
            let gz = dir.path().join("app.log.1.gz");
            assert_eq!(mode_of(&gz), mode, "{:o}", mode_of(&gz));
        }
        assert_eq!(mode_of(&dir.path().join("app.log.2.gz")), 0o600);
    }
}

#[test]
fn a_plain_backup_keeps_the_mode_of_the_file_it_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("app.log");
    let app = builder()
        .max_bytes(100)
        .backup_count(3)
        .build(&base)
        .unwrap();
    std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o600)).unwrap();
    rotate(&app, 1);
    assert_eq!(mode_of(&dir.path().join("app.log.1")), 0o600);
}

/// `mode` is set exactly on every log file the appender creates (0o660 would be 0o640 under the
/// usual umask 022 if the umask applied), and a backup keeps it.
#[test]
fn mode_sets_the_permissions_of_every_log_file_the_appender_creates() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("app.log");
    let app = builder()
        .max_bytes(100)
        .backup_count(3)
        .mode(0o660)
        .build(&base)
        .unwrap();
    assert_eq!(mode_of(&base), 0o660, "{:o}", mode_of(&base));
    rotate(&app, 2);
    assert_eq!(mode_of(&base), 0o660);
    assert_eq!(mode_of(&dir.path().join("app.log.1")), 0o660);
    assert_eq!(mode_of(&dir.path().join("app.log.2")), 0o660);
}

#[test]
fn without_mode_a_new_log_file_gets_the_umask_default_as_in_python() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("app.log");
    let _app = builder().build(&base).unwrap();
    // What the same process gets from a plain create (0o666 less the umask), as open() does.
    let probe = dir.path().join("probe");
    std::fs::write(&probe, "").unwrap();
    assert_eq!(mode_of(&base), mode_of(&probe));
}

#[test]
fn an_existing_log_file_keeps_its_mode_when_mode_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("app.log");
    std::fs::write(&base, "").unwrap();
    std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o600)).unwrap();
    let _app = builder().mode(0o644).build(&base).unwrap();
    assert_eq!(mode_of(&base), 0o600);
}

// ---------------------------------------------------------------------------------------------
// Refused settings: the same words from YAML and from the builder, and nothing created.

/// Builds the `rotating_file` appender of `fields` (YAML lines after `path:`) in `dir`.
fn load(dir: &Path, fields: &str) -> Result<Box<dyn Append>, String> {
    let yaml = format!(
        "kind: rotating_file\npath: {}/app.log\n{fields}",
        dir.display()
    );
    let mut body: serde_yaml::Mapping = serde_yaml::from_str(&yaml).unwrap();
    let kind = body.remove("kind").unwrap();
    let value = serde_value::to_value(body).unwrap();
    log4rs_appenders::deserializers()
        .deserialize::<dyn Append>(kind.as_str().unwrap(), value)
        .map_err(|e| format!("{e:#}"))
}

#[test]
fn mode_in_yaml_is_an_octal_string_quoted_or_not() {
    for (mode, want) in [("\"0640\"", 0o640), ("0600", 0o600), ("\"0o660\"", 0o660)] {
        let dir = tempfile::tempdir().unwrap();
        load(dir.path(), &format!("mode: {mode}\n")).unwrap();
        assert_eq!(mode_of(&dir.path().join("app.log")), want, "{mode}");
    }
}

/// Issue 12, item 12: `backup_count: 1000000000` was accepted, and each rotation walked every
/// index (1e7 took 86 s).
#[test]
fn bad_mode_and_backup_count_are_refused_naming_the_field_and_nothing_is_created() {
    let cases: [(&str, &[&str]); 5] = [
        (
            "backup_count: 1000000000\n",
            &["field \"backup_count\"", "1000000000", "10000"],
        ),
        (
            "mode: 640\n",
            &["field \"mode\"", "octal string such as \"0640\""],
        ),
        ("mode: \"0999\"\n", &["field \"mode\"", "\"0999\"", "octal"]),
        ("mode: \"rw-r-----\"\n", &["field \"mode\"", "\"0640\""]),
        ("mode: \"77777\"\n", &["field \"mode\"", "octal"]),
    ];
    for (fields, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        let error = load(dir.path(), fields).expect_err(fields);
        assert!(
            expected.iter().all(|e| error.contains(e)),
            "{fields}: expected {expected:?} in {error}"
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "{fields}: something was created"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("app.log");
    for (b, field) in [
        (builder().backup_count(1_000_000_000), "backup_count"),
        (builder().mode(0o100000), "mode"),
    ] {
        let e = b.build(&base).unwrap_err().to_string();
        assert!(e.starts_with(&format!("field \"{field}\"")), "{e}");
    }
    assert!(!base.exists());
    let most = log4rs_appenders::file::MAX_BACKUP_COUNT;
    builder().backup_count(most).build(&base).unwrap();
}
