//! `obproxy`: relays OBProxy's own Prometheus endpoint (`enable_prometheus = true`, port
//! `prometheus_listen_port`, 2884 by default) through this exporter, so a host needs one scrape
//! target, and says with `obwatch_obproxy_up` whether OBProxy answered. Off unless
//! `--obproxy.metrics-url` or `obproxy.metrics_url` is given.
//!
//! Fetched on a [`Background`] thread every `interval` (15 s) under `timeout` (5 s), so a hung
//! OBProxy never slows a scrape; each round replaces the last, so a dead OBProxy leaves no
//! stale series. OBProxy's client-library families (`process_*`, `go_*`, `promhttp_*`) are
//! dropped: they would collide with the exporter's own. Process health (up, restarts, memory)
//! comes from the `namedprocess` groups `obproxy` and `obproxyd` either way.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::Uri;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use obwatch_common::config::{ConfigError, HumanDuration, Polling};
use obwatch_common::exposition;
use obwatch_common::metrics::{MetricSet, MetricType};
use serde::Deserialize;

use super::background::Background;
use super::{BuildContext, BuildError, CollectError, Collector, CollectorSpec};
use crate::collector::option_parts::Origin;

/// Registry entry. Off by default; the config turns it on when a URL is given.
pub const SPEC: CollectorSpec = CollectorSpec { name: "obproxy", default_enabled: false, build };

/// Families of OBProxy's client library that would clash with the exporter's own.
const DROPPED_PREFIXES: [&str; 3] = ["process_", "go_", "promhttp_"];

/// Larger answers are refused: a metrics page is kilobytes, and memory is the host's.
const MAX_BODY_BYTES: usize = 16 << 20;

const UP_HELP: &str = "1 when OBProxy's metrics endpoint answered the last fetch, else 0.";

/// Settings from `obproxy:` in the YAML and `--obproxy.metrics-url`.
#[derive(Clone, Debug)]
pub struct Options {
    /// `http://HOST:PORT/metrics` of OBProxy.
    pub metrics_url: Uri,
    /// How often it is fetched.
    pub interval: Duration,
    /// How long one fetch may take.
    pub timeout: Duration,
}

/// Its flag.
#[derive(Debug, Default, clap::Args)]
#[group(skip)]
pub(crate) struct Flags {
    /// OBProxy's Prometheus endpoint (http://HOST:2884/metrics) to relay; the obproxy
    /// collector is off without it.
    #[arg(long = "obproxy.metrics-url", value_name = "URL")]
    pub(crate) metrics_url: Option<String>,
}

/// The `obproxy:` section of the YAML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Section {
    metrics_url: Option<String>,
    interval: Option<HumanDuration>,
    timeout: Option<HumanDuration>,
}

/// The flag over the section's `metrics_url` (an `http://` URL with a host), and the section's
/// polling settings. `None` without a URL: the collector stays off.
pub(crate) fn compile(
    flags: Flags,
    raw: Section,
    at: &Origin,
) -> Result<Option<Options>, ConfigError> {
    let url = ("--obproxy.metrics-url", flags.metrics_url);
    let Some(url) = at.pick(url, ("obproxy.metrics_url", raw.metrics_url)) else {
        return Ok(None);
    };
    let uri: Uri = url.value.parse().map_err(|e| {
        url.invalid(format!("expected http://HOST:PORT/metrics, got {:?}: {e}", url.value))
    })?;
    if uri.scheme_str() != Some("http") || uri.host().is_none() {
        return Err(url.invalid(format!(
            "expected an http:// URL with a host (https is not supported), got {:?}",
            url.value
        )));
    }
    let polling = Polling::from_yaml(
        at.file,
        ("obproxy", "timeout"),
        (raw.interval, raw.timeout),
        Polling { interval: Duration::from_secs(15), timeout: Duration::from_secs(5) },
    )?;
    Ok(Some(Options { metrics_url: uri, interval: polling.interval, timeout: polling.timeout }))
}

fn build(cx: &BuildContext) -> Result<Box<dyn Collector>, BuildError> {
    let err = |reason: String| BuildError { collector: "obproxy", reason };
    let Some(o) = cx.options.obproxy.clone() else {
        return Err(err("needs --obproxy.metrics-url or obproxy.metrics_url in the YAML".into()));
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| err(format!("cannot start the fetcher: {e}")))?;
    let client: Client<HttpConnector, Empty<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let mut last_error: Option<String> = None;
    let rounds = Background::start("obwatch-obproxy", o.interval, move || {
        let result = rt.block_on(fetch(&client, &o));
        round(result, &o.metrics_url, &mut last_error)
    })
    .map_err(|e| err(format!("cannot start the fetcher: {e}")))?;
    Ok(Box::new(Obproxy { rounds }))
}

/// Serves the last fetch.
#[derive(Debug)]
pub struct Obproxy {
    rounds: Background,
}

impl Collector for Obproxy {
    fn collect(&self, out: &mut MetricSet) -> Result<(), CollectError> {
        let served = self.rounds.copy_into(
            out,
            "obwatch_obproxy_snapshot_age_seconds",
            "Seconds since OBProxy's metrics served here were fetched.",
        );
        if !served {
            out.family("obwatch_obproxy_up", UP_HELP, MetricType::Gauge).sample(&[], 0.0);
        }
        Ok(())
    }
}

/// GETs the endpoint and returns its body.
async fn fetch(
    client: &Client<HttpConnector, Empty<Bytes>>,
    o: &Options,
) -> Result<String, String> {
    let request = hyper::Request::get(o.metrics_url.clone())
        .header(hyper::header::ACCEPT, "text/plain;version=0.0.4")
        .body(Empty::new())
        .map_err(|e| e.to_string())?;
    let get = async {
        let resp = client.request(request).await.map_err(|e| format!("{e:?}"))?;
        let status = resp.status();
        let body = Limited::new(resp.into_body(), MAX_BODY_BYTES)
            .collect()
            .await
            .map_err(|e| format!("reading the answer: {e}"))?
            .to_bytes();
        if !status.is_success() {
            return Err(format!("HTTP {status}"));
        }
        Ok(String::from_utf8_lossy(&body).into_owned())
    };
    tokio::time::timeout(o.timeout, get)
        .await
        .map_err(|_| format!("no answer within {:?}", o.timeout))?
}

/// Turns one fetch into the snapshot; logs a failure when its message changes.
fn round(result: Result<String, String>, url: &Uri, last_error: &mut Option<String>) -> MetricSet {
    let mut out = MetricSet::new();
    let converted = result.and_then(|text| relay(&text, &mut out));
    let up = match converted {
        Ok(()) => {
            if last_error.take().is_some() {
                tracing::info!(url = %url, "OBProxy metrics answer again.");
            }
            1.0
        }
        Err(e) => {
            out = MetricSet::new();
            if last_error.as_deref() != Some(e.as_str()) {
                tracing::warn!(url = %url, error = %e, "Cannot read OBProxy metrics.");
                *last_error = Some(e);
            }
            0.0
        }
    };
    out.family("obwatch_obproxy_up", UP_HELP, MetricType::Gauge).sample(&[], up);
    out
}

/// Parses OBProxy's exposition and copies its families, minus the client-library ones.
pub fn relay(text: &str, out: &mut MetricSet) -> Result<(), String> {
    let families = exposition::parse(text).map_err(|e| format!("unparsable metrics: {e}"))?;
    let kept: Vec<_> = families
        .into_iter()
        .filter(|f| !DROPPED_PREFIXES.iter().any(|p| f.name.starts_with(p)))
        .collect();
    super::textfile::convert(&kept, out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const TEXT: &str = "# HELP odp_requests_total Requests.\n# TYPE odp_requests_total counter\nodp_requests_total{cluster=\"obcluster\",tenant=\"app\"} 1027\n# HELP process_cpu_seconds_total CPU.\n# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 3.5\n";

    #[test]
    fn relays_families_but_not_client_library_ones() {
        let mut out = MetricSet::new();
        relay(TEXT, &mut out).unwrap();
        assert_eq!(
            out.get("odp_requests_total", &[("cluster", "obcluster"), ("tenant", "app")]),
            Some(1027.0)
        );
        assert!(out.find("process_cpu_seconds_total").is_none());
    }

    #[test]
    fn a_failed_fetch_leaves_only_up_zero_and_logs_once() {
        let url: Uri = "http://127.0.0.1:2884/metrics".parse().unwrap();
        let mut last = None;
        let ok = round(Ok(TEXT.into()), &url, &mut last);
        assert_eq!(ok.get("obwatch_obproxy_up", &[]), Some(1.0));
        let bad = round(Ok("odp_requests_total{".into()), &url, &mut last);
        assert_eq!(bad.get("obwatch_obproxy_up", &[]), Some(0.0));
        assert_eq!(bad.families().len(), 1, "no series of the unparsable text");
        assert!(last.as_deref().unwrap().starts_with("unparsable metrics"));
        let down = round(Err("HTTP 503 Service Unavailable".into()), &url, &mut last);
        assert_eq!(down.families().len(), 1);
        assert_eq!(last.as_deref(), Some("HTTP 503 Service Unavailable"));
    }
}
