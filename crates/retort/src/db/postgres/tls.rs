//! TLS for PostgreSQL connections, following libpq's `sslmode` and
//! `sslrootcert`.
//!
//! rustls's own verifier always checks the host name, which is right for
//! `verify-full` only; `verify-ca`, and `require` with an `sslrootcert`,
//! check the chain alone, and the other modes check nothing (libpq's
//! meaning: they protect against eavesdropping, not impersonation).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use postgres::config::SslMode;
use postgres::{Client, NoTls};
use postgres_rustls::MakeTlsConnector;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::verify_server_cert_signed_by_trust_anchor;
use rustls::crypto::{WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct as Dss, RootCertStore};

use crate::config::{DatabaseUrl, POSTGRES_SSLMODES};
use crate::db::{DbError, DbErrorKind};

/// libpq's `sslmode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl Mode {
    fn parse(value: &str) -> Option<Mode> {
        Some(match value {
            "disable" => Mode::Disable,
            "allow" => Mode::Allow,
            "prefer" => Mode::Prefer,
            "require" => Mode::Require,
            "verify-ca" => Mode::VerifyCa,
            "verify-full" => Mode::VerifyFull,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Mode::Disable => "disable",
            Mode::Allow => "allow",
            Mode::Prefer => "prefer",
            Mode::Require => "require",
            Mode::VerifyCa => "verify-ca",
            Mode::VerifyFull => "verify-full",
        }
    }
}

/// How a driver's connections are encrypted; its work and lock connections
/// share one, so both are held to the same checks.
#[derive(Clone)]
pub(super) struct Tls {
    mode: Mode,
    /// `None` when connections are never encrypted.
    connector: Option<MakeTlsConnector>,
    /// The `sslrootcert` file, when certificates are checked against one.
    root_file: Option<PathBuf>,
}

impl Tls {
    /// Reads `sslmode` and `sslrootcert`, and the root certificates when
    /// they are needed.
    pub(super) fn from_url(url: &DatabaseUrl) -> Result<Tls, DbError> {
        // libpq lets a repeated parameter's last value win.
        let last = |name: &str| {
            url.params()
                .iter()
                .rev()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.as_str())
        };
        let mode = match last("sslmode") {
            None => Mode::Prefer,
            Some(value) => Mode::parse(value).ok_or_else(|| {
                connect_error(format!(
                    "unknown `sslmode={value}`; expected one of {}",
                    POSTGRES_SSLMODES.join(", ")
                ))
            })?,
        };
        // libpq ignores sslmode on Unix-domain sockets, where the server
        // refuses TLS anyway.
        let unix_socket = url.host().is_some_and(|host| host.starts_with('/'));
        if mode == Mode::Disable || unix_socket {
            return Ok(Tls {
                mode: Mode::Disable,
                connector: None,
                root_file: None,
            });
        }
        let root_file = last("sslrootcert").filter(|path| !path.is_empty());
        // As libpq: `require` with a root file checks the chain like `verify-ca`.
        let check_chain = matches!(mode, Mode::VerifyCa | Mode::VerifyFull)
            || (mode == Mode::Require && root_file.is_some());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let algorithms = provider.signature_verification_algorithms;
        let builder = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| connect_error(format!("cannot set up TLS: {e}")))?;
        let roots = match (check_chain, root_file) {
            (false, _) => None,
            (true, Some(path)) => Some(read_roots(Path::new(path))?),
            (true, None) => Some(RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            }),
        };
        let config = match roots {
            Some(roots) if mode == Mode::VerifyFull => {
                builder.with_root_certificates(roots).with_no_client_auth()
            }
            roots => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(Verifier { roots, algorithms }))
                .with_no_client_auth(),
        };
        Ok(Tls {
            mode,
            connector: Some(MakeTlsConnector::new(Arc::new(config).into())),
            root_file: root_file.filter(|_| check_chain).map(PathBuf::from),
        })
    }

    /// Opens one connection the way `sslmode` asks.
    pub(super) fn connect(&self, config: &postgres::Config) -> Result<Client, postgres::Error> {
        let mut config = config.clone();
        let Some(tls) = &self.connector else {
            config.ssl_mode(SslMode::Disable);
            return config.connect(NoTls);
        };
        match self.mode {
            Mode::Allow => {
                config.ssl_mode(SslMode::Disable);
                // libpq's `allow`: encrypt only when the server turns a
                // plain connection away (a `hostssl` line in pg_hba.conf).
                config.connect(NoTls).or_else(|plain| {
                    if plain.as_db_error().is_none() {
                        return Err(plain);
                    }
                    config.ssl_mode(SslMode::Require);
                    config.connect(tls.clone())
                })
            }
            Mode::Prefer => {
                config.ssl_mode(SslMode::Prefer);
                config.connect(tls.clone())
            }
            Mode::Disable | Mode::Require | Mode::VerifyCa | Mode::VerifyFull => {
                config.ssl_mode(SslMode::Require);
                config.connect(tls.clone())
            }
        }
    }

    /// A one-line reason and remedy for a connection that failed because of
    /// TLS; `None` for other failures.
    pub(super) fn explain(&self, error: &postgres::Error) -> Option<String> {
        let mode = self.mode.name();
        let source = std::error::Error::source(error);
        // tokio-postgres says this only in words.
        if source.is_some_and(|s| s.to_string() == "server does not support TLS") {
            return Some(format!(
                "the server does not support SSL, which `sslmode={mode}` requires; turn on `ssl` in the server's postgresql.conf, or use `sslmode=prefer` to connect unencrypted"
            ));
        }
        let error = rustls_error(source)?;
        let rustls::Error::InvalidCertificate(problem) = error else {
            return Some(format!("the TLS handshake with the server failed: {error}"));
        };
        let (signers, remedy) = match &self.root_file {
            Some(path) => (
                format!("no certificate in `sslrootcert` file `{}`", path.display()),
                "make `sslrootcert` name",
            ),
            None => (
                "none of the public root certificates built into retort".to_owned(),
                "add `sslrootcert=PATH` to the URL, naming",
            ),
        };
        Some(match problem {
            CertificateError::UnknownIssuer | CertificateError::BadSignature => format!(
                "the server's certificate is not trusted: {signers} signed it; {remedy} a PEM file with the certificate of the CA that did (for a self-signed server certificate, that certificate itself)"
            ),
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                let host = match problem {
                    CertificateError::NotValidForNameContext { expected, presented } => format!(
                        "host `{}` (it names {})",
                        expected.to_str(),
                        names(presented)
                    ),
                    _ => "the host in the URL".to_owned(),
                };
                format!(
                    "the server's certificate is not valid for {host}; connect with a host name the certificate names, or use `sslmode=verify-ca` to check the certificate but not the host name"
                )
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                "the server's certificate has expired; renew it on the server".to_owned()
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "the server's certificate is not valid yet; check the clocks of this machine and the server".to_owned()
            }
            _ => format!("the server's certificate was rejected: {error}"),
        })
    }
}

fn connect_error(message: String) -> DbError {
    DbError::new(DbErrorKind::Connect, message)
}

/// The trusted roots of an `sslrootcert` file.
fn read_roots(path: &Path) -> Result<RootCertStore, DbError> {
    let shown = path.display();
    let bad = |why: String| {
        connect_error(format!(
            "cannot use `sslrootcert` file `{shown}`: {why}; give a PEM file of the certificates to trust"
        ))
    };
    let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("not valid PEM ({e})")))?;
    if certs.is_empty() {
        return Err(bad("it holds no `BEGIN CERTIFICATE` block".to_owned()));
    }
    let mut roots = RootCertStore::empty();
    for (n, cert) in certs.into_iter().enumerate() {
        roots
            .add(cert)
            .map_err(|e| bad(format!("certificate {} is not valid ({e})", n + 1)))?;
    }
    Ok(roots)
}

/// The rustls error behind a failed handshake: tokio-rustls hands it over
/// inside an `io::Error`, whose `source` skips it.
fn rustls_error<'a>(
    mut next: Option<&'a (dyn std::error::Error + 'static)>,
) -> Option<&'a rustls::Error> {
    while let Some(error) = next {
        if let Some(found) = error.downcast_ref::<rustls::Error>() {
            return Some(found);
        }
        let inner = error
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            .and_then(|inner| inner.downcast_ref::<rustls::Error>());
        if inner.is_some() {
            return inner;
        }
        next = error.source();
    }
    None
}

/// The names a certificate presents, as `DnsName("db")` and
/// `IpAddress(10.0.0.1)` arrive from webpki, written plainly.
fn names(presented: &[String]) -> String {
    if presented.is_empty() {
        return "no host name".to_owned();
    }
    presented
        .iter()
        .map(|name| {
            let plain = name
                .strip_prefix("DnsName(\"")
                .and_then(|rest| rest.strip_suffix("\")"))
                .or_else(|| {
                    name.strip_prefix("IpAddress(")
                        .and_then(|rest| rest.strip_suffix(')'))
                })
                .unwrap_or(name);
            format!("`{plain}`")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Below `verify-full`: the chain against `roots` when there are roots,
/// else nothing. The handshake signature is still checked, so the server
/// holds the key of the certificate it showed.
#[derive(Debug)]
struct Verifier {
    roots: Option<RootCertStore>,
    algorithms: WebPkiSupportedAlgorithms,
}

/// The outcome of a handshake signature check.
type Signed = Result<HandshakeSignatureValid, rustls::Error>;

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Some(roots) = &self.roots {
            let cert = ParsedCertificate::try_from(end_entity)?;
            verify_server_cert_signed_by_trust_anchor(
                &cert,
                roots,
                intermediates,
                now,
                self.algorithms.all,
            )?;
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(&self, msg: &[u8], cert: &CertificateDer<'_>, dss: &Dss) -> Signed {
        verify_tls12_signature(msg, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(&self, msg: &[u8], cert: &CertificateDer<'_>, dss: &Dss) -> Signed {
        verify_tls13_signature(msg, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tls(url: &str) -> Result<Tls, DbError> {
        Tls::from_url(&DatabaseUrl::parse(url).unwrap())
    }

    #[test]
    fn modes_and_roots() {
        let default = tls("postgres://h/db").ok().unwrap();
        assert_eq!(default.mode, Mode::Prefer);
        assert!(default.connector.is_some());
        let last = tls("postgres://h/db?sslmode=require&sslmode=disable")
            .ok()
            .unwrap();
        assert!(last.connector.is_none());
        // Unix-domain sockets are never encrypted, whatever the mode.
        let socket = tls("postgres://%2Frun%2Fpostgresql/db?sslmode=verify-full")
            .ok()
            .unwrap();
        assert!(socket.connector.is_none());
        // Only modes that check certificates read the root file.
        let unread = tls("postgres://h/db?sslmode=prefer&sslrootcert=/nonexistent/root.crt");
        assert!(unread.ok().unwrap().root_file.is_none());
        let read = tls("postgres://h/db?sslmode=require&sslrootcert=/nonexistent/root.crt");
        let message = read.err().unwrap().message;
        assert!(
            message.starts_with("cannot use `sslrootcert` file `/nonexistent/root.crt`: "),
            "{message}"
        );
    }

    #[test]
    fn presented_names() {
        assert_eq!(names(&[]), "no host name");
        let presented = [
            "DnsName(\"db.example.com\")".to_owned(),
            "IpAddress(10.0.0.1)".to_owned(),
            "Unsupported(0x01)".to_owned(),
        ];
        assert_eq!(
            names(&presented),
            "`db.example.com`, `10.0.0.1`, `Unsupported(0x01)`"
        );
    }
}
