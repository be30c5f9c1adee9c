//! The exporter's HTTP endpoints: `/metrics` (with `collect[]`/`exclude[]`), the landing page,
//! `/-/healthy` and `/-/ready`. Concurrent unfiltered scrapes share one collection.

use std::io::Write as _;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::header::ACCEPT_ENCODING;
use hyper::{Request, StatusCode};
use obwatch_common::http::{Handler, HttpResponse, metrics_response, standard_response, text};
use obwatch_common::metrics::MetricSet;
use tokio::sync::{Mutex, Semaphore};

use crate::config::Config;
use crate::registry::Registry;
use crate::self_metrics;

/// Margin kept below Prometheus' own scrape timeout so the answer arrives before it gives up.
const TIMEOUT_MARGIN: Duration = Duration::from_millis(250);

/// One rendered scrape, shared by every request that joined it.
#[derive(Debug)]
struct Rendered {
    text: Bytes,
    /// Compressed lazily, once, by the first request that accepts gzip.
    gzip: OnceLock<Bytes>,
}

/// The exporter's request handler.
#[derive(Debug)]
pub struct Exporter {
    registry: Registry,
    telemetry_path: String,
    exporter_metrics: bool,
    scrape_timeout: Duration,
    /// `--web.max-requests`: excess scrapes get 503 instead of piling up (promhttp does the
    /// same with MaxRequestsInFlight).
    limiter: Option<Semaphore>,
    /// Held while an unfiltered collection runs; requests arriving meanwhile wait here and
    /// then take its result instead of collecting again.
    collecting: Mutex<Option<Arc<Rendered>>>,
    /// Count of finished unfiltered collections; a waiter that sees it moved takes the result.
    finished: AtomicU64,
    /// Size of the last scrape, to allocate the next one's buffer in one go.
    last_len: AtomicUsize,
    /// Scrape requests answered and collections run: with concurrent scrapers the second is
    /// lower, which is how sharing shows (and is tested).
    requests: AtomicU64,
    collections: AtomicU64,
    boot_time_seconds: Option<f64>,
}

impl Exporter {
    /// Wraps a registry with the HTTP behaviour from `config`.
    pub fn new(registry: Registry, config: &Config) -> Self {
        Exporter {
            registry,
            telemetry_path: config.telemetry_path.clone(),
            exporter_metrics: !config.disable_exporter_metrics,
            scrape_timeout: config.scrape_timeout,
            limiter: (config.max_requests > 0).then(|| Semaphore::new(config.max_requests)),
            collecting: Mutex::new(None),
            finished: AtomicU64::new(0),
            last_len: AtomicUsize::new(64 * 1024),
            requests: AtomicU64::new(0),
            collections: AtomicU64::new(0),
            boot_time_seconds: self_metrics::boot_time_seconds(),
        }
    }

    /// Collects and encodes one scrape (all collectors when `only` is `None`).
    pub async fn render(&self, only: Option<&[usize]>, timeout: Duration) -> Bytes {
        let collections = self.collections.fetch_add(1, Ordering::Relaxed) + 1;
        let mut set: MetricSet = self.registry.gather(only, timeout).await;
        self_metrics::node_exporter_build_info(&mut set);
        // Like node_exporter, a filtered scrape carries only the named collectors.
        if only.is_none() && self.exporter_metrics {
            self_metrics::collect(&mut set, self.boot_time_seconds);
            set.counter(
                "obwatch_exporter_scrape_requests_total",
                "Scrape requests received on the telemetry path.",
                self.requests.load(Ordering::Relaxed) as f64,
            );
            set.counter(
                "obwatch_exporter_collections_total",
                "Collections run; concurrent scrapes share one, so this grows slower than requests.",
                collections as f64,
            );
        }
        let mut out = String::with_capacity(self.last_len.load(Ordering::Relaxed) + 4096);
        set.encode(&mut out);
        self.last_len.store(out.len(), Ordering::Relaxed);
        Bytes::from(out)
    }

    async fn shared_render(&self, timeout: Duration) -> Arc<Rendered> {
        let seen = self.finished.load(Ordering::Acquire);
        let mut slot = self.collecting.lock().await;
        if self.finished.load(Ordering::Acquire) != seen
            && let Some(r) = slot.as_ref()
        {
            return r.clone();
        }
        let r =
            Arc::new(Rendered { text: self.render(None, timeout).await, gzip: OnceLock::new() });
        *slot = Some(r.clone());
        self.finished.fetch_add(1, Ordering::Release);
        r
    }

    async fn metrics(&self, req: &Request<Incoming>) -> HttpResponse {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let only = match self.parse_filter(req.uri().query().unwrap_or("")) {
            Ok(o) => o,
            Err(msg) => return text(StatusCode::BAD_REQUEST, msg),
        };
        let _permit = match &self.limiter {
            Some(l) => match l.try_acquire() {
                Ok(p) => Some(p),
                Err(_) => {
                    return text(StatusCode::SERVICE_UNAVAILABLE, "Too many concurrent scrapes.\n");
                }
            },
            None => None,
        };
        let timeout = scrape_timeout(req, self.scrape_timeout);
        let rendered = match only {
            None => self.shared_render(timeout).await,
            Some(ix) => Arc::new(Rendered {
                text: self.render(Some(&ix), timeout).await,
                gzip: OnceLock::new(),
            }),
        };
        let wants_gzip = req
            .headers()
            .get(ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|e| e.trim().split(';').next() == Some("gzip")));
        if wants_gzip {
            metrics_response(rendered.gzip.get_or_init(|| gzip(&rendered.text)).clone(), true)
        } else {
            metrics_response(rendered.text.clone(), false)
        }
    }

    /// `collect[]=a&collect[]=b` or `exclude[]=c` (node_exporter's semantics: both at once,
    /// or a name that is not enabled, is a 400).
    fn parse_filter(&self, query: &str) -> Result<Option<Vec<usize>>, String> {
        let (mut collect, mut exclude) = (Vec::new(), Vec::new());
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match percent_decode(k).as_str() {
                "collect[]" => collect.push(percent_decode(v)),
                "exclude[]" => exclude.push(percent_decode(v)),
                _ => {}
            }
        }
        if collect.is_empty() && exclude.is_empty() {
            return Ok(None);
        }
        if !collect.is_empty() && !exclude.is_empty() {
            return Err("Cannot use both collect[] and exclude[] in one request.\n".into());
        }
        let names: Vec<&str> = self.registry.names().collect();
        for n in collect.iter().chain(&exclude) {
            if !names.contains(&n.as_str()) {
                return Err(format!(
                    "Collector {n:?} is unknown or not enabled; enabled: {}.\n",
                    names.join(", ")
                ));
            }
        }
        let ix = (0..names.len())
            .filter(|&i| {
                let listed = |l: &Vec<String>| l.iter().any(|n| n == names[i]);
                if collect.is_empty() { !listed(&exclude) } else { listed(&collect) }
            })
            .collect();
        Ok(Some(ix))
    }

    fn landing(&self) -> HttpResponse {
        let page = obwatch_common::landing::LandingPage {
            name: "obwatch-exporter",
            description: "Prometheus exporter for database hosts: node_exporter-compatible host metrics, OceanBase, OBProxy, Clusterware and process groups.",
            links: vec![
                (
                    self.telemetry_path.clone(),
                    "metrics (collect[]=NAME and exclude[]=NAME select collectors)",
                ),
                ("/-/healthy".into(), "liveness"),
                ("/-/ready".into(), "readiness"),
            ],
            sections: vec![(
                "Collectors enabled, as the last scrape found them",
                self.registry
                    .last_runs()
                    .into_iter()
                    .map(|(name, last)| match last {
                        Some(l) => format!("{name}: {} in {:.1} ms", l.state, l.seconds * 1e3),
                        None => format!("{name}: not scraped yet"),
                    })
                    .collect(),
            )],
        };
        page.response()
    }
}

impl Handler for Exporter {
    async fn handle(&self, req: Request<Incoming>) -> HttpResponse {
        if let Some(r) = standard_response(&req, &[self.telemetry_path.as_str(), "/"]) {
            return r;
        }
        if req.uri().path() == self.telemetry_path {
            self.metrics(&req).await
        } else {
            self.landing()
        }
    }
}

/// The scrape's time budget: ours, capped by Prometheus' `X-Prometheus-Scrape-Timeout-Seconds`
/// minus a margin so the answer still arrives in time.
fn scrape_timeout(req: &Request<Incoming>, ours: Duration) -> Duration {
    let theirs = req
        .headers()
        .get("x-prometheus-scrape-timeout-seconds")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<f64>().ok())
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .map(|d| d.saturating_sub(TIMEOUT_MARGIN).max(Duration::from_millis(100)));
    theirs.map_or(ours, |t| t.min(ours))
}

fn gzip(data: &[u8]) -> Bytes {
    // Level 1: a scrape is ~60 KB of very repetitive text; fast compression already gets ~8x.
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(data.len() / 6),
        flate2::Compression::fast(),
    );
    let _ = enc.write_all(data);
    Bytes::from(enc.finish().unwrap_or_default())
}

/// Decodes `%XX` escapes and `+` (form encoding); invalid escapes are kept literally.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                match std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("collect%5B%5D"), "collect[]");
        assert_eq!(percent_decode("a+b%2"), "a b%2");
        assert_eq!(percent_decode("%zz%41"), "%zzA");
    }
}
