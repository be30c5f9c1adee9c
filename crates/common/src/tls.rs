//! TLS material, one way for both sides: the server's `tls_server_config` (web config,
//! exporter-toolkit's schema) and the clients' `tls_config` (Prometheus' schema: the logtailer's
//! Alertmanager and webhook, the exporter's OceanBase client). The two schemas name their
//! fields differently, as their upstreams do, but each PEM may be a file (relative to the
//! config file) or inline text, both sides read certificates and keys the same way, and both
//! take `min_version`/`max_version` with Go's names (`TLS12`, `TLS13`). Errors name the
//! config file and the field.

use std::path::{Path, PathBuf};

use rustls::SupportedProtocolVersion;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::ConfigError;

/// Where a config field's errors go: the config file and the TLS section's name
/// (`tls_server_config`, `alertmanager.tls`).
#[derive(Clone, Copy, Debug)]
pub struct Section<'a> {
    /// The config file.
    pub file: &'a Path,
    /// The section, prefixed to each field's name.
    pub name: &'a str,
}

impl Section<'_> {
    /// An error about `field` of this section.
    pub fn invalid(&self, field: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::invalid(self.file, format!("{}.{field}", self.name), message)
    }

    /// The directory relative paths are relative to.
    pub fn base(&self) -> &Path {
        self.file.parent().unwrap_or(Path::new("."))
    }
}

/// PEM text given as a file or inline (`cert_file` or `cert`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pem {
    /// A file, its path joined to the config file's directory.
    File(PathBuf),
    /// The PEM text itself.
    Inline(String),
}

impl Pem {
    /// The `{name}_file`/`{name}` pair of `at`: at most one may be set.
    pub fn pick(
        at: Section<'_>,
        name: &str,
        (file, inline): (Option<&PathBuf>, Option<&String>),
    ) -> Result<Option<Pem>, ConfigError> {
        match (file, inline) {
            (Some(_), Some(_)) => {
                Err(at.invalid(name, format!("set either {name}_file or {name}, not both")))
            }
            (Some(f), None) => Ok(Some(Pem::File(at.base().join(f)))),
            (None, Some(text)) => Ok(Some(Pem::Inline(text.clone()))),
            (None, None) => Ok(None),
        }
    }

    /// The PEM bytes; a file that cannot be read is an error naming `{name}_file`.
    pub fn read(&self, at: Section<'_>, name: &str) -> Result<Vec<u8>, ConfigError> {
        match self {
            Pem::File(p) => std::fs::read(p).map_err(|e| {
                at.invalid(&format!("{name}_file"), format!("cannot read {}: {e}", p.display()))
            }),
            Pem::Inline(text) => Ok(text.clone().into_bytes()),
        }
    }

    /// The field it was given as: `{name}_file` or `{name}`.
    pub fn field_name(&self, name: &str) -> String {
        match self {
            Pem::File(_) => format!("{name}_file"),
            Pem::Inline(_) => name.to_string(),
        }
    }

    /// The file's path, or "inline PEM".
    fn describe(&self) -> String {
        match self {
            Pem::File(p) => p.display().to_string(),
            Pem::Inline(_) => "inline PEM".into(),
        }
    }

    /// The certificates it holds: at least one.
    pub fn certs(
        &self,
        at: Section<'_>,
        name: &str,
    ) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
        let pem = self.read(at, name)?;
        let (field, what) = (self.field_name(name), self.describe());
        let certs: Vec<_> = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<_, _>>()
            .map_err(|e| at.invalid(&field, format!("{what}: bad PEM: {e}")))?;
        if certs.is_empty() {
            return Err(
                at.invalid(&field, format!("{what}: expected at least one PEM CERTIFICATE"))
            );
        }
        Ok(certs)
    }

    /// The first private key it holds.
    pub fn private_key(
        &self,
        at: Section<'_>,
        name: &str,
    ) -> Result<PrivateKeyDer<'static>, ConfigError> {
        let pem = self.read(at, name)?;
        private_key(&pem)
            .map_err(|e| at.invalid(&self.field_name(name), format!("{}: {e}", self.describe())))
    }
}

/// The first private key (PKCS#8, PKCS#1 or SEC1) of a PEM text, or what is wrong.
pub fn private_key(pem: &[u8]) -> Result<PrivateKeyDer<'static>, String> {
    match PrivateKeyDer::from_pem_slice(pem) {
        Ok(k) => Ok(k),
        Err(rustls::pki_types::pem::Error::NoItemsFound) => {
            Err("expected a PEM PRIVATE KEY".to_string())
        }
        Err(e) => Err(format!("bad PEM: {e}")),
    }
}

/// The protocol versions from `min_version` (default TLS12) to `max_version` (default TLS13),
/// written as Go's crypto/tls names them. TLS 1.0 and 1.1 are not offered (rustls has neither).
pub fn versions(
    at: Section<'_>,
    (min, max): (Option<&str>, Option<&str>),
) -> Result<Vec<&'static SupportedProtocolVersion>, ConfigError> {
    let version = |field: &str, v: Option<&str>, default: u8| -> Result<u8, ConfigError> {
        match v {
            None => Ok(default),
            Some("TLS12") => Ok(12),
            Some("TLS13") => Ok(13),
            Some(other) => Err(at.invalid(
                field,
                format!("expected TLS12 or TLS13, got {other:?} (TLS 1.0/1.1 are not offered)"),
            )),
        }
    };
    let min = version("min_version", min, 12)?;
    let max = version("max_version", max, 13)?;
    let versions: Vec<_> = [(12, &rustls::version::TLS12), (13, &rustls::version::TLS13)]
        .into_iter()
        .filter(|(v, _)| (min..=max).contains(v))
        .map(|(_, p)| p)
        .collect();
    if versions.is_empty() {
        return Err(at.invalid("max_version", "is below min_version"));
    }
    Ok(versions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pem_is_a_file_or_inline_never_both() {
        let at = Section { file: Path::new("/etc/obwatch/web.yml"), name: "tls_server_config" };
        let (f, text) = (PathBuf::from("c.pem"), "-----BEGIN".to_string());
        assert_eq!(
            Pem::pick(at, "cert", (Some(&f), None)).unwrap(),
            Some(Pem::File("/etc/obwatch/c.pem".into()))
        );
        assert_eq!(
            Pem::pick(at, "cert", (None, Some(&text))).unwrap(),
            Some(Pem::Inline(text.clone()))
        );
        assert_eq!(Pem::pick(at, "cert", (None, None)).unwrap(), None);
        let e = Pem::pick(at, "cert", (Some(&f), Some(&text))).unwrap_err().to_string();
        assert!(
            e.contains("web.yml: field `tls_server_config.cert`: set either cert_file or cert"),
            "{e}"
        );
        let e = Pem::Inline("junk".into()).certs(at, "cert").unwrap_err().to_string();
        assert!(e.contains("`tls_server_config.cert`: inline PEM: expected at least one"), "{e}");
        let e = Pem::File("/nonexistent/k.pem".into()).private_key(at, "key").unwrap_err();
        assert!(
            e.to_string().contains("`tls_server_config.key_file`: cannot read /nonexistent/k.pem")
        );
    }

    #[test]
    fn versions_between_min_and_max() {
        let at = Section { file: Path::new("lt.yml"), name: "alertmanager.tls" };
        assert_eq!(versions(at, (None, None)).unwrap().len(), 2);
        let v = versions(at, (Some("TLS13"), None)).unwrap();
        assert_eq!(v, [&rustls::version::TLS13]);
        let e = versions(at, (Some("TLS13"), Some("TLS12"))).unwrap_err().to_string();
        assert!(e.contains("`alertmanager.tls.max_version`: is below min_version"), "{e}");
        let e = versions(at, (Some("TLS10"), None)).unwrap_err().to_string();
        assert!(e.contains("`alertmanager.tls.min_version`: expected TLS12 or TLS13"), "{e}");
    }
}
