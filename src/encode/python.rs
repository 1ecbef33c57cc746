//! The Python-style encoder. PLACEHOLDER: this file fixes the public API so appenders can code
//! against it; the real formatter (issue 3) replaces the body. It renders only `%(message)s`,
//! `%(levelname)s`, `%(name)s` and `%%` for now.

use std::fmt;

use log::Record;
use log4rs::encode::{Encode, Write};

/// Renders Python `logging.Formatter` %-style format strings.
#[derive(Clone, Debug)]
pub struct PythonEncoder {
    format: String,
}

/// A malformed format string or unknown attribute, found when the encoder is built.
#[derive(Debug)]
pub struct FormatError(pub String);

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FormatError {}

impl PythonEncoder {
    /// Parses `format`.
    pub fn new(format: &str) -> Result<Self, FormatError> {
        Ok(PythonEncoder {
            format: format.to_owned(),
        })
    }

    /// Sets the strftime-style date format for `%(asctime)s`.
    pub fn datefmt(self, _datefmt: &str) -> Result<Self, FormatError> {
        Ok(self)
    }

    /// Renders `record` into `out` (no trailing newline added beyond what the format has).
    pub fn format_into(&self, record: &Record, out: &mut Vec<u8>) {
        let s = self
            .format
            .replace("%(message)s", &record.args().to_string())
            .replace("%(levelname)s", record.level().as_str())
            .replace("%(name)s", record.target())
            .replace("%%", "%");
        out.extend_from_slice(s.as_bytes());
    }

    /// Renders `record` to a new `String`.
    pub fn format_to_string(&self, record: &Record) -> String {
        let mut out = Vec::new();
        self.format_into(record, &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }
}

impl Encode for PythonEncoder {
    fn encode(&self, w: &mut dyn Write, record: &Record) -> anyhow::Result<()> {
        let mut out = Vec::new();
        self.format_into(record, &mut out);
        out.push(b'\n');
        w.write_all(&out)?;
        Ok(())
    }
}
