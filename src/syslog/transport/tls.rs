//! TLS with rustls (ring provider, chosen explicitly so no process-wide default is needed).
//! Server certificates are verified against the system's roots, or only against
//! `root_certificate` when it is given.

use std::io::{self, Read};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

pub(crate) type TlsStream = StreamOwned<ClientConnection, TcpStream>;

/// Builds the client config: reads the roots once, at load time.
pub(crate) fn client_config(root_certificate: Option<&Path>) -> anyhow::Result<Arc<ClientConfig>> {
    let mut roots = RootCertStore::empty();
    match root_certificate {
        Some(path) => {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .and_then(|it| it.collect::<Result<_, _>>())
                .map_err(|e| {
                    anyhow::anyhow!(
                        "field \"root_certificate\": cannot read PEM certificates from {}: {e}",
                        path.display()
                    )
                })?;
            if certs.is_empty() {
                anyhow::bail!(
                    "field \"root_certificate\": {} holds no PEM certificate (expected \
                     -----BEGIN CERTIFICATE-----)",
                    path.display()
                );
            }
            for cert in certs {
                roots.add(cert).map_err(|e| {
                    anyhow::anyhow!("field \"root_certificate\": {}: {e}", path.display())
                })?;
            }
        }
        None => {
            // Unreadable individual system certificates are skipped, as browsers do.
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| anyhow::anyhow!("TLS setup: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Connects and completes the handshake, so a certificate problem is reported as one.
pub(crate) fn connect(
    config: Arc<ClientConfig>,
    host: &str,
    mut tcp: TcpStream,
) -> io::Result<TlsStream> {
    let name = ServerName::try_from(host.to_owned()).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("server name {host:?}: {e}"),
        )
    })?;
    let mut conn = ClientConnection::new(config, name).map_err(io::Error::other)?;
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp)
            .map_err(|e| io::Error::new(e.kind(), format!("TLS handshake failed: {e}")))?;
    }
    Ok(StreamOwned::new(conn, tcp))
}

/// True when the server has closed the TLS session or the connection. The server may send
/// session tickets at any time, so readable bytes are processed rather than taken as a close.
pub(crate) fn peer_closed(stream: &mut TlsStream) -> bool {
    if stream.sock.set_nonblocking(true).is_err() {
        return true;
    }
    let closed = loop {
        match stream.conn.read_tls(&mut stream.sock) {
            Ok(0) => break true,
            Ok(_) => {
                if stream.conn.process_new_packets().is_err() {
                    break true;
                }
                let mut sink = [0u8; 256];
                match stream.conn.reader().read(&mut sink) {
                    Ok(0) => break true,
                    Ok(_) => continue,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                    Err(_) => break true,
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break false,
            Err(_) => break true,
        }
    };
    closed || stream.sock.set_nonblocking(false).is_err()
}
