//! obwatch-exporter: a Prometheus scrape target for database hosts, node_exporter-compatible.
//!
//! # Layout
//! - [`config`]: flags and YAML, merged and validated into [`Config`].
//! - [`collector`]: the collector contract and one file per host collector.
//! - [`options`]: per-collector options, compiled once.
//! - [`registry`]: runs collectors under a deadline, at most once at a time each.
//! - [`server`]: the HTTP endpoints.
//! - [`self_metrics`]: the exporter's own `process_*` and build info.
//! - [`fixture`]: builds fake procfs/sysfs trees for tests and benches.
#![deny(missing_docs)]

use std::future::Future;
use std::sync::Arc;

use obwatch_common::config::ConfigError;
use obwatch_common::web::WebConfig;
use tokio::net::TcpListener;

pub mod collector;
/// The collectors' options, at the crate root for the tests and benches that build them.
pub use collector::options;
pub mod config;
pub mod fixture;
pub mod registry;
pub mod self_metrics;
pub mod server;

pub use config::Config;

use collector::{BuildContext, BuildError};
use registry::Registry;
use server::Exporter;

/// Blocking threads one scrape uses. Two, so one stuck collector never stalls the others,
/// and few, so a scrape wakes few threads (load average matters to DBAs).
const SCRAPE_WORKERS: usize = 2;

/// Why the exporter could not start; all are configuration problems (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A collector rejected its options.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// The web config file is bad.
    #[error(transparent)]
    WebConfig(#[from] ConfigError),
}

/// `obwatch-exporter check`: loads the web config and builds every enabled collector, as a start
/// would, without listening; returns what would run.
pub fn check(config: &Config) -> Result<String, StartError> {
    if let Some(p) = &config.web_config_file {
        WebConfig::load(p)?;
    }
    let registry = build_registry(config)?;
    let names: Vec<&str> = registry.names().collect();
    Ok(format!(
        "ok: {} collectors ({}), listening on {}, web config {}",
        names.len(),
        names.join(","),
        config.listen_addresses.join(","),
        config.web_config_file.as_ref().map_or("none".into(), |p| p.display().to_string()),
    ))
}

/// Builds every enabled collector once.
pub fn build_registry(config: &Config) -> Result<Registry, BuildError> {
    let cx = BuildContext { root: &config.root, options: &config.options };
    let mut built = Vec::with_capacity(config.enabled.len());
    for name in &config.enabled {
        let spec = collector::spec(name).ok_or_else(|| BuildError {
            collector: "registry",
            reason: format!("unknown collector {name:?}"),
        })?;
        built.push((spec.name, (spec.build)(&cx)?));
    }
    Ok(Registry::new(built, SCRAPE_WORKERS))
}

/// Builds the exporter from `config` and serves it on `listeners` until `shutdown` resolves.
pub async fn run(
    config: Config,
    listeners: Vec<TcpListener>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), StartError> {
    let web = match &config.web_config_file {
        Some(p) => WebConfig::load(p)?,
        None => WebConfig::plain(),
    };
    let registry = build_registry(&config)?;
    let names: Vec<&str> = registry.names().collect();
    tracing::info!(collectors = %names.join(","), "Enabled collectors.");
    let exporter = Arc::new(Exporter::new(registry, &config));
    for l in &listeners {
        if let Ok(addr) = l.local_addr() {
            tracing::info!(address = %addr, tls = web.tls.is_some(), "Listening.");
        }
    }
    let limits = config.conn_limits;
    obwatch_common::http::serve(listeners, Arc::new(web), limits, exporter, shutdown).await;
    Ok(())
}
