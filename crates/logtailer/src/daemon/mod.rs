//! `obwatch-logtailer run`: the daemon. Loads the rules, opens one outbox and sender per
//! Alertmanager, runs the tail -> rules -> outbox pipeline on a blocking thread and serves
//! its own metrics (`/metrics`, `/-/healthy`, `/-/ready`) until shutdown.

mod landing;
mod pipeline;
mod reload;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use hyper::Request;
use hyper::body::Incoming;
use obwatch_common::config::ConfigError;
use obwatch_common::http::{HttpResponse, metrics_response, standard_response};
use obwatch_common::metrics::{MetricSet, MetricType};
use obwatch_common::web::WebConfig;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

use crate::config::Config;
use crate::rule::{RuleError, RuleSet};
use crate::sink::alertmanager::SinkError;
use crate::sink::outbox::{Outbox, OutboxError};
use crate::sink::sender::{self, Backoff, SenderStats};
use crate::tail::{LogEvents, TailConfig, TailError, TailStats, Tailer};

/// Why the daemon could not start (exit code 2 for configuration, 1 otherwise).
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The rule files named in the config are missing or bad.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Rules(Vec<RuleError>),
    /// `rule_files` matches nothing.
    #[error("{0}")]
    RuleFiles(String),
    /// The web config is bad.
    #[error(transparent)]
    Web(#[from] ConfigError),
    /// An Alertmanager URL is bad.
    #[error(transparent)]
    Sink(#[from] SinkError),
    /// The state dir or an outbox cannot be used.
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    /// The tailing engine cannot start (state dir).
    #[error(transparent)]
    Tail(#[from] TailError),
}

impl StartError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            StartError::Outbox(_) | StartError::Tail(_) => 1,
            _ => 2,
        }
    }
}

/// Counters the pipeline and the senders update and `/metrics` reads.
#[derive(Debug, Default)]
pub struct Shared {
    inner: Mutex<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    lines: BTreeMap<String, (u64, u64)>,
    matches: BTreeMap<(String, String), u64>,
    firing: u64,
    dropped_alerts: u64,
    tail: TailStats,
    files: Vec<(PathBuf, u64)>,
    reload_ok: bool,
    reload_time: f64,
    web_reload_failed: bool,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Counters> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn count_lines(&self, input: &str, lines: u64, bytes: u64) {
        let mut c = self.lock();
        let e = c.lines.entry(input.to_string()).or_default();
        e.0 += lines;
        e.1 += bytes;
    }

    fn count_match(&self, rules: &RuleSet, group: usize, rule: usize) {
        let g = &rules.groups()[group];
        *self.lock().matches.entry((g.name.clone(), g.rules[rule].alert.clone())).or_default() += 1;
    }

    /// Every rule of `rules` gets its match counter, at 0 until it matches: a counter that
    /// first appears at 1 hides that match from Prometheus' increase() and rate().
    fn register_rules(&self, rules: &RuleSet) {
        let mut c = self.lock();
        for g in rules.groups() {
            for r in &g.rules {
                c.matches.entry((g.name.clone(), r.alert.clone())).or_default();
            }
        }
    }

    fn set_firing(&self, firing: u64, dropped: u64) {
        let mut c = self.lock();
        c.firing = firing;
        c.dropped_alerts = dropped;
    }

    fn set_reload(&self, ok: bool) {
        let mut c = self.lock();
        c.reload_ok = ok;
        if ok {
            c.reload_time = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64());
        }
    }

    fn set_web_reload(&self, ok: bool) {
        self.lock().web_reload_failed = !ok;
    }

    fn set_tail(&self, stats: TailStats, files: Vec<(PathBuf, u64, bool)>) {
        let mut c = self.lock();
        c.tail = stats;
        c.files = files.into_iter().map(|(p, committed, _)| (p, committed)).collect();
    }
}

/// One Alertmanager: its outbox and its sender's counters.
struct Target {
    url: String,
    outbox: Arc<Mutex<Outbox>>,
    stats: Arc<Mutex<SenderStats>>,
}

/// Runs the daemon on `listener` until `shutdown` resolves.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), StartError> {
    let rule_paths = config.rule_paths().map_err(StartError::RuleFiles)?;
    let rules = Arc::new(RuleSet::load(&rule_paths).map_err(StartError::Rules)?);
    let web = match &config.web_config_file {
        Some(p) => WebConfig::load(p)?,
        None => WebConfig::plain(),
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut targets = Vec::new();
    let mut queues = Vec::new();
    let mut senders = Vec::new();
    // Every Alertmanager, then the webhook: each its own outbox and sender.
    for (i, sink) in config.sinks.iter().enumerate() {
        let (url, am) = (&sink.url, sink.client.clone());
        let dir = config.state_dir.join("outbox").join(i.to_string());
        let outbox = Arc::new(Mutex::new(Outbox::open(
            &dir,
            config.outbox_max_entries,
            config.outbox_max_bytes,
        )?));
        let wake = Arc::new(Notify::new());
        wake.notify_one(); // deliver what a previous run left
        let stats = Arc::new(Mutex::new(SenderStats::default()));
        let backoff = Backoff::new(sender::RETRY_BASE, sender::RETRY_MAX);
        senders.push(tokio::spawn(sender::run(
            am,
            outbox.clone(),
            wake.clone(),
            stop_rx.clone(),
            backoff,
            500,
            stats.clone(),
        )));
        queues.push(pipeline::Queue { outbox: outbox.clone(), wake });
        targets.push(Target { url: url.clone(), outbox, stats });
    }
    let mut tail_cfg = TailConfig::new(
        config.inputs.iter().flat_map(|i| i.paths.clone()).collect(),
        &config.state_dir,
    );
    tail_cfg.from_beginning = config.from_beginning;
    tail_cfg.follow_symlinks = config.follow_symlinks;
    tail_cfg.max_line_bytes = config.max_line_bytes;
    let tailer = Tailer::open(tail_cfg, LogEvents)?;
    let per_input = files_per_input(&config, tailer.files().iter().map(|f| f.0.as_path()));
    for (input, n) in &per_input {
        if *n == 0 {
            // A typo, or a config copied from a host with other log paths: said at start, and
            // visible as obwatch_logtailer_input_files 0.
            tracing::warn!(input = %input, "Input matches no file (check its paths).");
        }
    }

    let shared = Arc::new(Shared::default());
    shared.register_rules(&rules);
    shared.set_reload(true);
    let stop = Arc::new(AtomicBool::new(false));
    let (reload_tx, reload_rx) = std::sync::mpsc::channel();
    let pipe = {
        let (config, rules, shared, stop) =
            (config.clone(), rules.clone(), shared.clone(), stop.clone());
        tokio::task::spawn_blocking(move || {
            pipeline::run(&config, rules, &reload_rx, &queues, &shared, &stop, tailer)
        })
    };
    let tls = web.tls.is_some();
    let (web_tx, web_rx) = watch::channel(Arc::new(web));
    let reloader =
        tokio::spawn(reload::watch(config.clone(), reload_tx, web_tx, shared.clone(), stop_rx));
    tracing::info!(
        rules = rules.rule_count(),
        rule_files = rule_paths.len(),
        files = per_input.iter().map(|(_, n)| n).sum::<u64>(),
        inputs = %per_input.iter().map(|(i, n)| format!("{i}:{n}")).collect::<Vec<_>>().join(","),
        alertmanagers = targets.len(),
        "Started."
    );
    // The bound address (the port, when the command line said :0), as the exporter logs it.
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(address = %addr, tls, "Listening.");
    }
    let handler = Arc::new(Handler { shared, targets, config: config.clone() });
    let limits = config.conn_limits;
    obwatch_common::http::serve_reloadable(vec![listener], web_rx, limits, handler, shutdown).await;
    stop.store(true, Ordering::Relaxed);
    let _ = stop_tx.send(true);
    let _ = pipe.await;
    let _ = reloader.await;
    for s in senders {
        let _ = s.await;
    }
    Ok(())
}

struct Handler {
    shared: Arc<Shared>,
    targets: Vec<Target>,
    /// For the files-per-input gauge.
    config: Config,
}

/// Tracked files per configured input, in config order, 0 included.
fn files_per_input<'a>(
    config: &Config,
    files: impl Iterator<Item = &'a Path>,
) -> Vec<(String, u64)> {
    let mut counts: Vec<(String, u64)> =
        config.inputs.iter().map(|i| (i.name.clone(), 0)).collect();
    for path in files {
        if let Some(input) = config.input_of(path)
            && let Some(c) = counts.iter_mut().find(|(n, _)| *n == input.name)
        {
            c.1 += 1;
        }
    }
    counts
}

impl obwatch_common::http::Handler for Handler {
    async fn handle(&self, req: Request<Incoming>) -> HttpResponse {
        if let Some(r) = standard_response(&req, &["/metrics", "/"]) {
            return r;
        }
        if req.uri().path() == "/" {
            return self.landing();
        }
        let mut out = String::new();
        self.metrics().encode(&mut out);
        metrics_response(out.into(), false)
    }
}

impl Handler {
    fn metrics(&self) -> MetricSet {
        let mut set = MetricSet::new();
        let c = self.shared.lock();
        let f = set.family(
            "obwatch_logtailer_lines_total",
            "Lines read, by input.",
            MetricType::Counter,
        );
        for (input, (lines, _)) in &c.lines {
            f.sample(&[("input", input)], *lines as f64);
        }
        let f = set.family(
            "obwatch_logtailer_bytes_total",
            "Bytes read, by input.",
            MetricType::Counter,
        );
        for (input, (_, bytes)) in &c.lines {
            f.sample(&[("input", input)], *bytes as f64);
        }
        let f = set.family(
            "obwatch_logtailer_rule_matches_total",
            "Records that matched a rule.",
            MetricType::Counter,
        );
        for ((group, alert), n) in &c.matches {
            f.sample(&[("group", group), ("alertname", alert)], *n as f64);
        }
        let f = set.family(
            "obwatch_logtailer_lag_bytes",
            "Bytes of a tracked file after its committed offset.",
            MetricType::Gauge,
        );
        for (path, committed) in &c.files {
            let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(*committed);
            f.sample(
                &[("path", &path.display().to_string())],
                size.saturating_sub(*committed) as f64,
            );
        }
        set.gauge("obwatch_logtailer_files", "Files tracked.", c.files.len() as f64);
        let f = set.family(
            "obwatch_logtailer_input_files",
            "Files tracked per input (0: its paths match nothing on this host).",
            MetricType::Gauge,
        );
        for (input, n) in files_per_input(&self.config, c.files.iter().map(|f| f.0.as_path())) {
            f.sample(&[("input", &input)], n as f64);
        }
        set.gauge("obwatch_logtailer_alerts_firing", "Alerts firing now.", c.firing as f64);
        set.counter(
            "obwatch_logtailer_alerts_untracked_total",
            "Matches not tracked because too many label sets were pending or firing.",
            c.dropped_alerts as f64,
        );
        set.counter(
            "obwatch_logtailer_rotations_total",
            "Paths that came to name another file.",
            c.tail.rotations as f64,
        );
        set.counter(
            "obwatch_logtailer_truncations_total",
            "In-place truncations (copytruncate) seen.",
            c.tail.truncations as f64,
        );
        set.counter(
            "obwatch_logtailer_scans_total",
            "Full scans of the input globs (new files, and the fallback for missed notify events).",
            c.tail.scans as f64,
        );
        set.counter(
            "obwatch_logtailer_lines_cut_total",
            "Lines cut at max_line_bytes.",
            c.tail.lines_cut as f64,
        );
        set.counter(
            "obwatch_logtailer_symlinks_refused_total",
            "Symlinks among the inputs' matches not followed (follow_symlinks: safe).",
            c.tail.symlinks_refused as f64,
        );
        drop(c);
        let (mut sent, mut failed, mut dropped, mut queued, mut write_failed) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for t in &self.targets {
            let s = t.stats.lock().unwrap_or_else(|p| p.into_inner());
            let o = t.outbox.lock().unwrap_or_else(|p| p.into_inner());
            sent.push((t.url.as_str(), s.sent));
            failed.push((t.url.as_str(), s.failed));
            dropped.push((t.url.as_str(), o.dropped));
            queued.push((t.url.as_str(), o.len() as u64));
            write_failed.push((t.url.as_str(), o.write_failures));
        }
        for (name, help, kind, values) in [
            (
                "obwatch_logtailer_alert_posts_sent_total",
                "Posts Alertmanager accepted.",
                MetricType::Counter,
                sent,
            ),
            (
                "obwatch_logtailer_alert_posts_failed_total",
                "Posts that failed (each retry counts).",
                MetricType::Counter,
                failed,
            ),
            (
                "obwatch_logtailer_outbox_dropped_total",
                "Outbox entries dropped because the outbox was full.",
                MetricType::Counter,
                dropped,
            ),
            (
                "obwatch_logtailer_outbox_entries",
                "Posts waiting in the outbox.",
                MetricType::Gauge,
                queued,
            ),
            (
                "obwatch_logtailer_outbox_write_failures_total",
                "Posts the outbox could not write (full disk; retried, lines stay uncommitted).",
                MetricType::Counter,
                write_failed,
            ),
        ] {
            let f = set.family(name, help, kind);
            for (url, v) in values {
                f.sample(&[("url", url)], v as f64);
            }
        }
        let c = self.shared.lock();
        set.gauge(
            "obwatch_logtailer_config_last_reload_successful",
            "1 when the last (re)load of the rule files succeeded; 0: the previous rules stay in use.",
            if c.reload_ok { 1.0 } else { 0.0 },
        );
        set.gauge(
            "obwatch_logtailer_config_last_reload_success_timestamp_seconds",
            "When the rules in use were loaded.",
            c.reload_time,
        );
        set.gauge(
            "obwatch_logtailer_web_config_last_reload_successful",
            "0 when the last reload of web.config_file (on SIGHUP) was refused; the previous web config stays in use.",
            if c.web_reload_failed { 0.0 } else { 1.0 },
        );
        drop(c);
        set
    }
}
