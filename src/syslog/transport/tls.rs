//! TLS with rustls (ring provider, chosen explicitly so no process-wide default is needed).
//! Server certificates are verified against the system's roots, or only against
//! `root_certificate` when it is given; `danger_accept_invalid_certs` turns that off. A client
//! certificate (`client_certificate` + `client_key`) serves servers that require one (rsyslog
//! `authMode="x509/certvalid"` or `"x509/name"`).

use std::io::{self, Read};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime, pem::PemObject};
use rustls::{
    ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore, SignatureScheme,
    StreamOwned,
};

pub(crate) type TlsStream = StreamOwned<ClientConnection, TcpStream>;

/// The TLS settings of the config.
#[derive(Debug, Default)]
pub(crate) struct TlsOptions<'a> {
    pub(crate) root_certificate: Option<&'a Path>,
    pub(crate) client_certificate: Option<&'a Path>,
    pub(crate) client_key: Option<&'a Path>,
    pub(crate) danger_accept_invalid_certs: bool,
}

fn read_certs(field: &str, path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<_, _>>())
        .map_err(|e| {
            anyhow::anyhow!(
                "field \"{field}\": cannot read PEM certificates from {}: {e}",
                path.display()
            )
        })?;
    if certs.is_empty() {
        anyhow::bail!(
            "field \"{field}\": {} holds no PEM certificate (expected -----BEGIN \
             CERTIFICATE-----)",
            path.display()
        );
    }
    Ok(certs)
}

/// Builds the client config: reads the roots (and client certificate) once, at load time.
pub(crate) fn client_config(options: &TlsOptions) -> anyhow::Result<Arc<ClientConfig>> {
    if options.danger_accept_invalid_certs && options.root_certificate.is_some() {
        anyhow::bail!(
            "field \"danger_accept_invalid_certs\": cannot be combined with root_certificate; \
             keep root_certificate (certificates stay verified) and remove this field"
        );
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| anyhow::anyhow!("TLS setup: {e}"))?;
    let builder = if options.danger_accept_invalid_certs {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
    } else {
        let mut roots = RootCertStore::empty();
        match options.root_certificate {
            Some(path) => {
                for cert in read_certs("root_certificate", path)? {
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
        builder.with_root_certificates(roots)
    };
    let config = match (options.client_certificate, options.client_key) {
        (None, None) => builder.with_no_client_auth(),
        (Some(cert), Some(key)) => {
            let chain = read_certs("client_certificate", cert)?;
            let key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
                anyhow::anyhow!(
                    "field \"client_key\": cannot read a PEM private key from {}: {e}",
                    key.display()
                )
            })?;
            builder.with_client_auth_cert(chain, key).map_err(|e| {
                anyhow::anyhow!("field \"client_key\": does not fit client_certificate: {e}")
            })?
        }
        (Some(_), None) => anyhow::bail!(
            "field \"client_certificate\": needs client_key too (the PEM private key of the \
             certificate)"
        ),
        (None, Some(_)) => anyhow::bail!(
            "field \"client_key\": needs client_certificate too (the PEM certificate chain)"
        ),
    };
    Ok(Arc::new(config))
}

/// `danger_accept_invalid_certs: true`: any server certificate is accepted (the handshake
/// signatures are still checked). Anyone on the path can read and change the records.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
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

/// Ends a TLS session properly: close_notify (RFC 5425 section 4.4: MUST), shut down writing,
/// then read (and drop: session tickets, the server's own close_notify) until the server closes,
/// at most until `deadline`. Ok when it did, so it read everything written before.
pub(crate) fn close(mut stream: TlsStream, deadline: Instant) -> io::Result<()> {
    use super::stream::{remaining, until_closed};
    stream.conn.send_close_notify();
    stream.sock.set_write_timeout(Some(remaining(deadline)))?;
    while stream.conn.wants_write() {
        stream.conn.write_tls(&mut stream.sock)?;
    }
    stream.sock.shutdown(std::net::Shutdown::Write)?;
    let mut plaintext = [0u8; 4096];
    until_closed(deadline, |timeout| {
        stream.sock.set_read_timeout(Some(timeout))?;
        if stream.conn.read_tls(&mut stream.sock)? == 0 {
            return Ok(true);
        }
        let state = stream
            .conn
            .process_new_packets()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        // A syslog server sends no application data; drop any.
        while matches!(stream.conn.reader().read(&mut plaintext), Ok(n) if n > 0) {}
        Ok(state.peer_has_closed())
    })
}
