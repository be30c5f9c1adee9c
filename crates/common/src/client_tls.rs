//! The client side of TLS, as Prometheus writes it (`tls_config`: `ca_file`/`ca`,
//! `cert_file`/`cert`, `key_file`/`key`, `server_name`, `insecure_skip_verify`, `min_version`,
//! `max_version`): one schema for every outgoing connection (the logtailer's Alertmanager and
//! webhook, the exporter's OceanBase client), its files resolved against the config file and
//! checked at start-up, and the rustls `ClientConfig` it describes. PEMs and versions are read
//! by `tls`, as the server side's (the web config's `tls_server_config`, `web.rs`) are.
//!
//! Root certificates: `ca_file` when set (and then only it, as Prometheus does), else the
//! system store, found where OpenSSL (and Go's crypto/x509) look for it: `SSL_CERT_FILE` /
//! `SSL_CERT_DIR` when set, else Debian's `/etc/ssl/certs/ca-certificates.crt`, RHEL/CentOS/
//! Kylin/Anolis `/etc/pki/tls/certs/ca-bundle.crt` and the other distributions' paths
//! (`rustls-native-certs`, through `openssl-probe`). Hard-coding Debian's path made an https
//! Alertmanager without `ca_file` fail at start on every RHEL-family host.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::ConfigError;
use crate::tls::{self, Pem, Section};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use serde::Deserialize;

/// Where the roots come from when `ca_file` is not set.
#[derive(Clone, Copy, Debug)]
pub enum SystemRoots<'a> {
    /// The operating system's store, wherever this distribution keeps it.
    Native,
    /// This PEM bundle (tests).
    File(&'a Path),
}

/// A `tls` section of the run config, with Prometheus' `tls_config` field names. Relative
/// paths are relative to the config file; each PEM is a file or inline (`ca_file` or `ca`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    /// CA certificates (PEM) to verify the server with, instead of the system store.
    pub ca_file: Option<PathBuf>,
    /// The same, inline.
    pub ca: Option<String>,
    /// Client certificate chain (PEM), for Alertmanagers that require one.
    pub cert_file: Option<PathBuf>,
    /// The same, inline.
    pub cert: Option<String>,
    /// The client certificate's private key (PEM).
    pub key_file: Option<PathBuf>,
    /// The same, inline.
    pub key: Option<String>,
    /// The name the server's certificate must carry, instead of the URL's host.
    pub server_name: Option<String>,
    /// Accept any server certificate (testing only: no protection against impostors).
    #[serde(default)]
    pub insecure_skip_verify: bool,
    /// Lowest protocol version: `TLS12` (default) or `TLS13`.
    pub min_version: Option<String>,
    /// Highest protocol version: `TLS13` (default) or `TLS12`.
    pub max_version: Option<String>,
}

/// A TLS client for one set of endpoints: the rustls config and the optional server name.
#[derive(Clone, Debug)]
pub struct TlsClient {
    config: Arc<ClientConfig>,
    server_name: Option<ServerName<'static>>,
}

impl TlsClient {
    /// Builds the client `settings` describe; `file` (the config file, relative paths are
    /// resolved against its directory) and `field` (`alertmanager.tls`) name errors.
    /// `system_roots` says where the roots come from when `ca_file` is not set.
    pub fn new(
        settings: &TlsSettings,
        file: &Path,
        field: &str,
        system_roots: SystemRoots<'_>,
    ) -> Result<TlsClient, ConfigError> {
        let at = Section { file, name: field };
        let material = settings.material(at)?;
        let inv = |sub: &str, msg: String| at.invalid(sub, msg);
        let versions =
            tls::versions(at, (settings.min_version.as_deref(), settings.max_version.as_deref()))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&versions)
            .map_err(|e| inv("min_version", e.to_string()))?;
        let builder = if settings.insecure_skip_verify {
            builder.dangerous().with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
        } else {
            let mut roots = RootCertStore::empty();
            match &material.ca {
                Some(ca) => {
                    for c in ca.certs(at, "ca")? {
                        roots.add(c).map_err(|e| inv(&ca.field_name("ca"), e.to_string()))?;
                    }
                }
                None => {
                    let added = system_store(&mut roots, system_roots)
                        .map_err(|e| inv("ca_file", format!("not set, and {e}")))?;
                    tracing::debug!(certificates = added, "Loaded the system CA store.");
                }
            }
            builder.with_root_certificates(roots)
        };
        let config = match &material.identity {
            None => builder.with_no_client_auth(),
            Some((cert, key)) => {
                let chain = cert.certs(at, "cert")?;
                let field = key.field_name("key");
                let key = key.private_key(at, "key")?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| inv(&field, format!("does not match the certificate: {e}")))?
            }
        };
        let server_name = settings
            .server_name
            .as_ref()
            .map(|n| {
                ServerName::try_from(n.clone())
                    .map_err(|e| inv("server_name", format!("{n:?}: {e}")))
            })
            .transpose()?;
        Ok(TlsClient { config: Arc::new(config), server_name })
    }
}

impl TlsClient {
    /// The rustls configuration.
    pub fn config(&self) -> &Arc<ClientConfig> {
        &self.config
    }

    /// The name the server's certificate must carry, when not the URL's host.
    pub fn server_name(&self) -> Option<&ServerName<'static>> {
        self.server_name.as_ref()
    }
}

/// [`TlsSettings`]' PEMs (files joined to the config file's directory, or inline) with the
/// certificate and key checked to come together, for a client that takes them rather than a
/// rustls config (mysql_async).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedTls {
    /// CA certificates to trust.
    pub ca: Option<Pem>,
    /// Client certificate chain and key.
    pub identity: Option<(Pem, Pem)>,
    /// The name the server's certificate must carry.
    pub server_name: Option<String>,
    /// Accept any server certificate.
    pub insecure_skip_verify: bool,
}

impl TlsSettings {
    /// The PEMs, each a file or inline, the certificate and key together or neither; nothing
    /// read yet.
    fn material(&self, at: Section<'_>) -> Result<ResolvedTls, ConfigError> {
        let pem = |name, file: &Option<PathBuf>, inline: &Option<String>| {
            Pem::pick(at, name, (file.as_ref(), inline.as_ref()))
        };
        let cert = pem("cert", &self.cert_file, &self.cert)?;
        let key = pem("key", &self.key_file, &self.key)?;
        let identity = match (cert, key) {
            (None, None) => None,
            (Some(c), None) => {
                let given = c.field_name("cert");
                return Err(at.invalid("key_file", format!("required when {given} is set")));
            }
            (None, Some(k)) => {
                let given = k.field_name("key");
                return Err(at.invalid("cert_file", format!("required when {given} is set")));
            }
            (Some(c), Some(k)) => Some((c, k)),
        };
        Ok(ResolvedTls {
            ca: pem("ca", &self.ca_file, &self.ca)?,
            identity,
            server_name: self.server_name.clone(),
            insecure_skip_verify: self.insecure_skip_verify,
        })
    }

    /// The PEMs, each file checked to be readable now, for a client that reads them itself
    /// later (mysql_async). That client has no protocol version setting, so `min_version` and
    /// `max_version` are refused rather than ignored.
    pub fn resolve(&self, file: &Path, field: &str) -> Result<ResolvedTls, ConfigError> {
        let at = Section { file, name: field };
        for (name, value) in
            [("min_version", &self.min_version), ("max_version", &self.max_version)]
        {
            if value.is_some() {
                let why = "not supported by this client (it has no protocol version setting)";
                return Err(at.invalid(name, why));
            }
        }
        let r = self.material(at)?;
        let (cert, key) = r.identity.as_ref().map(|(c, k)| (c, k)).unzip();
        for (name, pem) in [("ca", r.ca.as_ref()), ("cert", cert), ("key", key)] {
            if let Some(pem) = pem {
                pem.read(at, name)?;
            }
        }
        Ok(r)
    }
}

/// Accepts every certificate, still checking the handshake signatures (`insecure_skip_verify`).
#[derive(Debug)]
struct NoVerify(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerify {
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

/// Adds the system's CA certificates to `roots`; how many, or why none.
fn system_store(roots: &mut RootCertStore, from: SystemRoots<'_>) -> Result<usize, String> {
    let (found, problems): (Vec<CertificateDer<'static>>, Vec<String>) = match from {
        SystemRoots::Native => {
            let r = rustls_native_certs::load_native_certs();
            (r.certs, r.errors.iter().map(ToString::to_string).collect())
        }
        SystemRoots::File(p) => match std::fs::read(p) {
            Ok(pem) => {
                (CertificateDer::pem_slice_iter(&pem).filter_map(Result::ok).collect(), vec![])
            }
            Err(e) => (vec![], vec![format!("{}: {e}", p.display())]),
        },
    };
    let (added, _) = roots.add_parsable_certificates(found);
    if added > 0 {
        return Ok(added);
    }
    let looked = match from {
        SystemRoots::Native => "the system CA store (SSL_CERT_FILE, SSL_CERT_DIR, or the distribution's bundle: /etc/ssl/certs/ca-certificates.crt, /etc/pki/tls/certs/ca-bundle.crt, ...)".to_string(),
        SystemRoots::File(p) => format!("the system CA store {}", p.display()),
    };
    let why = if problems.is_empty() { "no certificate".to_string() } else { problems.join("; ") };
    Err(format!(
        "{looked} gives no usable certificate: {why}; install the CA certificates (ca-certificates) or set ca_file"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(settings: &TlsSettings, system: SystemRoots<'_>) -> String {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("lt.yml");
        std::fs::write(dir.path().join("junk.pem"), "not pem\n").unwrap();
        TlsClient::new(settings, &file, "alertmanager.tls", system).unwrap_err().to_string()
    }

    #[test]
    fn resolve_joins_paths_to_the_config_dir_and_checks_pairs() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("exporter.yml");
        for f in ["ca.pem", "c.pem", "k.pem"] {
            std::fs::write(dir.path().join(f), "x").unwrap();
        }
        let s = TlsSettings {
            ca_file: Some("ca.pem".into()),
            cert_file: Some("c.pem".into()),
            key_file: Some("k.pem".into()),
            server_name: Some("ob1".into()),
            ..TlsSettings::default()
        };
        let r = s.resolve(&file, "oceanbase.tls").unwrap();
        let in_dir = |f: &str| Pem::File(dir.path().join(f));
        assert_eq!(r.ca, Some(in_dir("ca.pem")));
        assert_eq!(r.identity, Some((in_dir("c.pem"), in_dir("k.pem"))));
        assert_eq!(r.server_name.as_deref(), Some("ob1"));
        let e = TlsSettings { key_file: None, ..s.clone() }.resolve(&file, "oceanbase.tls");
        let e = e.unwrap_err().to_string();
        assert!(
            e.contains("field `oceanbase.tls.key_file`: required when cert_file is set"),
            "{e}"
        );
        let e =
            TlsSettings { ca_file: Some("nope.pem".into()), ..s.clone() }.resolve(&file, "x.tls");
        let e = e.unwrap_err().to_string();
        assert!(e.contains("field `x.tls.ca_file`: cannot read") && e.contains("nope.pem"), "{e}");
        let inline = TlsSettings { ca_file: None, ca: Some("PEM".into()), ..s.clone() };
        assert_eq!(inline.resolve(&file, "x.tls").unwrap().ca, Some(Pem::Inline("PEM".into())));
        let both = TlsSettings { ca: Some("PEM".into()), ..s.clone() };
        let e = both.resolve(&file, "x.tls").unwrap_err().to_string();
        assert!(e.contains("`x.tls.ca`: set either ca_file or ca, not both"), "{e}");
        let versioned = TlsSettings { min_version: Some("TLS13".into()), ..s };
        let e = versioned.resolve(&file, "oceanbase.tls").unwrap_err().to_string();
        assert!(e.contains("`oceanbase.tls.min_version`: not supported by this client"), "{e}");
    }

    #[test]
    fn errors_name_the_field_and_the_file() {
        let s = TlsSettings { ca_file: Some("missing.pem".into()), ..TlsSettings::default() };
        let e = err(&s, SystemRoots::Native);
        assert!(e.contains("field `alertmanager.tls.ca_file`: cannot read"), "{e}");
        assert!(e.contains("missing.pem"), "{e}");
        let s = TlsSettings { ca_file: Some("junk.pem".into()), ..TlsSettings::default() };
        let e = err(&s, SystemRoots::Native);
        assert!(e.contains("junk.pem: expected at least one PEM CERTIFICATE"), "{e}");
        let s = TlsSettings { cert_file: Some("c.pem".into()), ..TlsSettings::default() };
        let e = err(&s, SystemRoots::Native);
        assert!(e.contains("`alertmanager.tls.key_file`: required when cert_file is set"), "{e}");
        let e = err(&TlsSettings::default(), SystemRoots::File(Path::new("/nonexistent/ca.crt")));
        assert!(e.contains("`alertmanager.tls.ca_file`: not set, and the system CA store /nonexistent/ca.crt gives no usable certificate: /nonexistent/ca.crt: No such file"), "{e}");
        assert!(e.contains("install the CA certificates (ca-certificates) or set ca_file"), "{e}");
        let s = TlsSettings { server_name: Some("a b".into()), ..TlsSettings::default() };
        let e = err(&s, SystemRoots::Native);
        assert!(e.contains("`alertmanager.tls.server_name`"), "{e}");
    }

    #[test]
    fn the_system_store_loads() {
        // The test machine has Debian's ca-certificates (scripts/test.sh installs it).
        let file = Path::new("/etc/obwatch/lt.yml");
        TlsClient::new(&TlsSettings::default(), file, "alertmanager.tls", SystemRoots::Native)
            .unwrap();
        let mut roots = RootCertStore::empty();
        assert!(system_store(&mut roots, SystemRoots::Native).unwrap() > 10);
    }
}
