//! The YAML shape of `kind: syslog`, and its conversion into the builder (which makes every
//! check, so YAML and code refuse the same things).

use std::path::PathBuf;

use log4rs::encode::EncoderConfig;
use serde::Deserialize;

use crate::fields::{ByteSize, HumanDuration};
use crate::worker::OnFull;

use super::builder::SyslogAppenderBuilder;
use super::facility::Facility;
use super::format::SyslogFormat;
use super::transport::stream::Framing;

/// `kind: syslog` as written in YAML. Every field is optional.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyslogConfig {
    #[serde(rename = "__appender_name", default)]
    pub(crate) appender_name: String,
    pub(crate) address: Option<String>,
    pub(crate) format: Option<SyslogFormat>,
    #[serde(default)]
    pub(crate) facility: Facility,
    pub(crate) app_name: Option<String>,
    pub(crate) hostname: Option<String>,
    pub(crate) framing: Option<Framing>,
    pub(crate) structured_data: Option<bool>,
    pub(crate) sd_id: Option<String>,
    pub(crate) max_message_size: Option<ByteSize>,
    pub(crate) buffer_size: Option<usize>,
    #[serde(default)]
    pub(crate) on_full: OnFull,
    pub(crate) root_certificate: Option<PathBuf>,
    pub(crate) client_certificate: Option<PathBuf>,
    pub(crate) client_key: Option<PathBuf>,
    #[serde(default)]
    pub(crate) danger_accept_invalid_certs: bool,
    pub(crate) connect_timeout: Option<HumanDuration>,
    pub(crate) shutdown_timeout: Option<HumanDuration>,
    pub(crate) encoder: Option<EncoderConfig>,
}

impl SyslogConfig {
    pub(crate) fn into_builder(
        self,
        deserializers: &log4rs::config::Deserializers,
    ) -> anyhow::Result<SyslogAppenderBuilder> {
        let mut b = SyslogAppenderBuilder {
            name: if self.appender_name.is_empty() {
                "syslog".to_owned()
            } else {
                self.appender_name
            },
            format: self.format,
            facility: self.facility,
            app_name: self.app_name,
            hostname: self.hostname,
            framing: self.framing,
            sd_id: self.sd_id,
            on_full: self.on_full,
            root_certificate: self.root_certificate,
            client_certificate: self.client_certificate,
            client_key: self.client_key,
            danger_accept_invalid_certs: self.danger_accept_invalid_certs,
            ..SyslogAppenderBuilder::default()
        };
        if let Some(a) = self.address {
            b.address = a;
        }
        if let Some(s) = self.structured_data {
            b.structured_data = s;
        }
        if let Some(m) = self.max_message_size {
            b.max_message_size = Some(usize::try_from(m.0).unwrap_or(usize::MAX));
        }
        if let Some(n) = self.buffer_size {
            b.buffer_size = n;
        }
        if let Some(t) = self.connect_timeout {
            b.connect_timeout = t.0;
        }
        if let Some(t) = self.shutdown_timeout {
            b.shutdown_timeout = t.0;
        }
        if let Some(e) = self.encoder {
            b.encoder = Some(crate::encode::build_encoder(e, deserializers)?);
        }
        Ok(b)
    }
}
