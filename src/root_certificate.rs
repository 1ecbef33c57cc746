//! The `root_certificate` option shared by the appenders that speak TLS through a builder with
//! a PEM-text variant (smtp, sentry): where the PEM comes from, and reading it.

use std::path::PathBuf;

/// Where a custom root certificate comes from.
#[derive(Clone, Debug)]
pub(crate) enum RootCertificate {
    Path(PathBuf),
    Pem(Vec<u8>),
}

impl RootCertificate {
    /// The PEM text, and how errors name it (the file, or "the PEM given"). A file that cannot
    /// be read is refused, naming the `root_certificate` field.
    pub(crate) fn read(&self) -> anyhow::Result<(Vec<u8>, String)> {
        match self {
            RootCertificate::Path(p) => {
                let pem = std::fs::read(p).map_err(|e| {
                    anyhow::anyhow!(
                        "field \"root_certificate\": cannot read {}: {e}",
                        p.display()
                    )
                })?;
                Ok((pem, p.display().to_string()))
            }
            RootCertificate::Pem(pem) => Ok((pem.clone(), String::from("the PEM given"))),
        }
    }
}
