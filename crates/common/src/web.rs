//! The Prometheus exporter-toolkit web config (`--web.config.file`): TLS with rustls, client
//! certificate auth, `basic_auth_users` with bcrypt hashes, and extra response headers.
//! Format: prometheus/exporter-toolkit `docs/web-configuration.md`. Relative file paths are
//! resolved against the config file's directory, as exporter-toolkit does.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use rustls::RootCertStore;
use rustls::server::WebPkiClientVerifier;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::{ConfigError, load_yaml};
use crate::tls::{self, Pem, Section};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebConfig {
    #[serde(default)]
    tls_server_config: Option<RawTls>,
    #[serde(default)]
    http_server_config: Option<RawHttp>,
    #[serde(default)]
    basic_auth_users: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTls {
    cert_file: Option<PathBuf>,
    key_file: Option<PathBuf>,
    cert: Option<String>,
    key: Option<String>,
    client_auth_type: Option<String>,
    client_ca_file: Option<PathBuf>,
    client_ca: Option<String>,
    #[serde(default)]
    client_allowed_sans: Vec<String>,
    min_version: Option<String>,
    max_version: Option<String>,
    #[serde(default)]
    cipher_suites: Vec<String>,
    #[serde(default)]
    curve_preferences: Vec<String>,
    prefer_server_cipher_suites: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttp {
    http2: Option<bool>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
}

/// A validated web config, ready to serve with.
#[derive(Debug, Default)]
pub struct WebConfig {
    /// TLS settings; `None` serves plain HTTP.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Basic auth; `None` lets every request through.
    pub auth: Option<BasicAuth>,
    /// Headers added to every response (`http_server_config.headers`).
    pub headers: Vec<(String, String)>,
    /// Whether HTTP/2 is offered (default true, as in exporter-toolkit).
    pub http2: bool,
}

impl WebConfig {
    /// Plain HTTP, no auth.
    pub fn plain() -> Self {
        WebConfig { http2: true, ..WebConfig::default() }
    }

    /// Loads and validates a web config file; every error names the file and the field.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let raw: RawWebConfig = load_yaml(path)?;
        let tls = raw.tls_server_config.map(|t| build_tls(path, t)).transpose()?;
        let auth = if raw.basic_auth_users.is_empty() {
            None
        } else {
            Some(BasicAuth::new(path, raw.basic_auth_users)?)
        };
        let http = raw.http_server_config.unwrap_or_default();
        for name in http.headers.keys() {
            if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                return Err(ConfigError::invalid(
                    path,
                    format!("http_server_config.headers.{name}"),
                    "expected an HTTP header name (letters, digits and '-')",
                ));
            }
        }
        Ok(WebConfig {
            tls: tls.map(Arc::new),
            auth,
            headers: http.headers.into_iter().collect(),
            http2: http.http2.unwrap_or(true),
        })
    }
}

fn build_tls(path: &Path, t: RawTls) -> Result<rustls::ServerConfig, ConfigError> {
    let at = Section { file: path, name: "tls_server_config" };
    let inv = |field: &str, msg: String| at.invalid(field, msg);
    let required =
        |name: &str| inv(&format!("{name}_file"), "required when TLS is configured".into());
    let cert = Pem::pick(at, "cert", (t.cert_file.as_ref(), t.cert.as_ref()))?
        .ok_or_else(|| required("cert"))?;
    let key = Pem::pick(at, "key", (t.key_file.as_ref(), t.key.as_ref()))?
        .ok_or_else(|| required("key"))?;
    let chain = cert.certs(at, "cert")?;
    let key = key.private_key(at, "key")?;
    if !t.client_allowed_sans.is_empty() {
        return Err(inv("client_allowed_sans", "not supported yet".into()));
    }
    let _ = t.prefer_server_cipher_suites; // rustls always prefers the server's order

    let mut provider = rustls::crypto::ring::default_provider();
    if !t.cipher_suites.is_empty() {
        let all = provider.cipher_suites.clone();
        provider.cipher_suites = t
            .cipher_suites
            .iter()
            .map(|name| {
                all.iter().find(|s| format!("{:?}", s.suite()) == *name).copied().ok_or_else(|| {
                    inv("cipher_suites", format!("unknown or unsupported suite {name:?}"))
                })
            })
            .collect::<Result<_, _>>()?;
    }
    if !t.curve_preferences.is_empty() {
        let all = provider.kx_groups.clone();
        provider.kx_groups = t
            .curve_preferences
            .iter()
            .map(|name| {
                let want = match name.as_str() {
                    "CurveP256" => "secp256r1",
                    "CurveP384" => "secp384r1",
                    "X25519" => "X25519",
                    _ => "",
                };
                all.iter().find(|g| format!("{:?}", g.name()) == want).copied().ok_or_else(|| {
                    inv(
                        "curve_preferences",
                        format!("expected CurveP256, CurveP384 or X25519, got {name:?}"),
                    )
                })
            })
            .collect::<Result<_, _>>()?;
    }
    let versions = tls::versions(at, (t.min_version.as_deref(), t.max_version.as_deref()))?;

    let provider = Arc::new(provider);
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(|e| ConfigError::invalid(path, "tls_server_config", e.to_string()))?;
    let auth_type = t.client_auth_type.as_deref().unwrap_or("NoClientCert");
    let ca = Pem::pick(at, "client_ca", (t.client_ca_file.as_ref(), t.client_ca.as_ref()))?;
    let builder = match auth_type {
        "NoClientCert" => builder.with_no_client_auth(),
        "VerifyClientCertIfGiven" | "RequireAndVerifyClientCert" => {
            let ca = ca.ok_or_else(|| inv("client_ca_file", format!("required by {auth_type}")))?;
            let mut roots = RootCertStore::empty();
            for c in ca.certs(at, "client_ca")? {
                roots.add(c).map_err(|e| inv("client_ca_file", e.to_string()))?;
            }
            let v = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            let v =
                if auth_type == "VerifyClientCertIfGiven" { v.allow_unauthenticated() } else { v };
            builder.with_client_cert_verifier(
                v.build().map_err(|e| inv("client_ca_file", e.to_string()))?,
            )
        }
        other => {
            return Err(inv(
                "client_auth_type",
                format!(
                    "expected NoClientCert, VerifyClientCertIfGiven or RequireAndVerifyClientCert, got {other:?}"
                ),
            ));
        }
    };
    let mut cfg = builder
        .with_single_cert(chain, key)
        .map_err(|e| inv("key_file", format!("does not match cert: {e}")))?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(cfg)
}

/// A valid bcrypt hash of a random password: verified against when the user is unknown, so an
/// unknown user costs the same time as a wrong password and user names don't leak by timing.
const DUMMY_HASH: &str = "$2y$10$y5hT0bDc3.6PLkn9w6ZdPO8GvO9lyxXF/KjUqI.u0YkQlQW8Pvh3m";

/// `basic_auth_users`: user name to bcrypt hash. A bcrypt check costs ~70 ms at cost 10, so a
/// successful (user, password) is remembered as a SHA-256 digest and later requests compare
/// digests in constant time, as exporter-toolkit caches its successes.
#[derive(Debug)]
pub struct BasicAuth {
    users: HashMap<String, String>,
    verified: Mutex<HashMap<String, [u8; 32]>>,
}

impl BasicAuth {
    fn new(path: &Path, users: BTreeMap<String, String>) -> Result<Self, ConfigError> {
        for (user, hash) in &users {
            bcrypt::HashParts::from_str(hash).map_err(|_| {
                ConfigError::invalid(
                    path,
                    format!("basic_auth_users.{user}"),
                    "expected a bcrypt hash like $2y$10$... (htpasswd -nBC 10 \"\" | tr -d ':')",
                )
            })?;
        }
        Ok(BasicAuth { users: users.into_iter().collect(), verified: Mutex::new(HashMap::new()) })
    }

    /// Checks a user and password. May take a bcrypt's time: call on a blocking thread
    /// unless [`BasicAuth::check_cached`] already said yes.
    pub fn check(&self, user: &str, password: &str) -> bool {
        if self.check_cached(user, password) {
            return true;
        }
        let (hash, known) = match self.users.get(user) {
            Some(h) => (h.as_str(), true),
            None => (DUMMY_HASH, false),
        };
        let ok = bcrypt::verify(password, hash).unwrap_or(false) && known;
        if ok {
            let digest = digest(user, password);
            self.verified
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(user.to_string(), digest);
        }
        ok
    }

    /// True when this exact (user, password) was verified before; cheap.
    pub fn check_cached(&self, user: &str, password: &str) -> bool {
        let cached = self.verified.lock().unwrap_or_else(|p| p.into_inner()).get(user).copied();
        cached.is_some_and(|c| bool::from(c.ct_eq(&digest(user, password))))
    }
}

fn digest(user: &str, password: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(user.as_bytes());
    h.update([0u8]);
    h.update(password.as_bytes());
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn dummy_hash_is_a_real_bcrypt_hash() {
        // If it did not parse, verify() would fail fast and unknown users would be told
        // apart from wrong passwords by timing.
        let parts = bcrypt::HashParts::from_str(DUMMY_HASH).unwrap();
        assert_eq!(parts.get_cost(), 10);
        assert!(!bcrypt::verify("x", DUMMY_HASH).unwrap());
    }

    #[test]
    fn basic_auth_checks_and_caches() {
        let dir = tempfile::tempdir().unwrap();
        let hash = bcrypt::hash("s3cret", 4).unwrap();
        let p = write(dir.path(), "web.yml", &format!("basic_auth_users:\n  alice: '{hash}'\n"));
        let cfg = WebConfig::load(&p).unwrap();
        let auth = cfg.auth.unwrap();
        assert!(!auth.check("alice", "wrong"));
        assert!(!auth.check("bob", "s3cret"));
        assert!(!auth.check_cached("alice", "s3cret"));
        assert!(auth.check("alice", "s3cret"));
        assert!(auth.check_cached("alice", "s3cret"));
        assert!(!auth.check_cached("alice", "s3cret "));
        assert!(cfg.tls.is_none());
    }

    #[test]
    fn bad_hash_and_unknown_keys_name_the_field() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "web.yml", "basic_auth_users:\n  alice: plaintext\n");
        let err = WebConfig::load(&p).unwrap_err().to_string();
        assert!(
            err.contains("web.yml: field `basic_auth_users.alice`: expected a bcrypt hash"),
            "{err}"
        );
        let p = write(dir.path(), "web2.yml", "tls_server_config:\n  cert_fil: x\n");
        let err = WebConfig::load(&p).unwrap_err().to_string();
        assert!(err.contains("web2.yml:2:3") && err.contains("cert_fil"), "{err}");
        let p = write(
            dir.path(),
            "web3.yml",
            "tls_server_config:\n  cert_file: nope.pem\n  key_file: k\n",
        );
        let err = WebConfig::load(&p).unwrap_err().to_string();
        assert!(err.contains("tls_server_config.cert_file") && err.contains("nope.pem"), "{err}");
    }
}
