//! https for the Alertmanager client: hyper-rustls over hyper's TCP connector, with the rustls
//! config `obwatch_common::client_tls` builds from the `tls` sections.

use std::sync::Arc;

use hyper_util::client::legacy::connect::HttpConnector;
pub use obwatch_common::client_tls::{SystemRoots, TlsClient, TlsSettings};
use rustls::{ClientConfig, RootCertStore};

/// The Alertmanager client's connector: hyper-rustls over hyper's TCP connector, `https://`
/// through `tls`'s rustls config (and its `server_name`, when set), `http://` plain.
pub type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

/// Builds the [`Connector`]; `http` must accept any scheme (`enforce_http(false)`). Without
/// `tls` (every URL is `http://`, config validation sees to that) an `https://` URL would
/// fail: no root is trusted.
pub fn connector(http: HttpConnector, tls: Option<&TlsClient>) -> Result<Connector, rustls::Error> {
    let config = match tls {
        Some(t) => (**t.config()).clone(),
        None => {
            ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()?
                .with_root_certificates(RootCertStore::empty())
                .with_no_client_auth()
        }
    };
    let builder =
        hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(config).https_or_http();
    let builder = match tls.and_then(|t| t.server_name().cloned()) {
        Some(name) => {
            builder.with_server_name_resolver(hyper_rustls::FixedServerNameResolver::new(name))
        }
        None => builder,
    };
    Ok(builder.enable_http1().wrap_connector(http))
}

/// The error and its causes, `: `-joined (hyper's client error alone says only "Connect").
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}
