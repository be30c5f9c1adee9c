//! Delivery to a real Alertmanager (Debian's `prometheus-alertmanager`, started here on a
//! loopback port in a temp dir): a matching line becomes an alert with the right labels,
//! annotations and expiry, it resolves, and a dead second Alertmanager does not stop the
//! first from getting it; over https (Alertmanager serving TLS with a client certificate
//! required), the right CA delivers and a wrong one fails with the reason.
#![allow(clippy::disallowed_methods, clippy::unwrap_used)]

use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use obwatch_logtailer::rule::state::AlertState;
use obwatch_logtailer::rule::{Matcher, RuleSet};
use obwatch_logtailer::sink::alertmanager::{Alertmanager, SinkError};
use obwatch_logtailer::sink::outbox::Outbox;
use obwatch_logtailer::sink::sender::{self, Backoff, SenderStats};
use obwatch_logtailer::sink::tls::{SystemRoots, TlsClient, TlsSettings};
use serde_json::Value;
use tokio::sync::{Notify, watch};

mod util;
use util::*;

struct Am {
    child: Killed,
    port: u16,
    _dir: tempfile::TempDir,
}

fn start_alertmanager() -> Am {
    let dir = tempfile::tempdir().unwrap();
    let (child, port) = spawn_alertmanager(dir.path(), 0);
    Am { child, port, _dir: dir }
}

/// Alerts Alertmanager reports as active, as JSON values.
fn active_alerts(port: u16) -> Vec<Value> {
    let text = get(&format!("http://127.0.0.1:{port}/api/v2/alerts?active=true")).unwrap();
    serde_json::from_str::<Vec<Value>>(&text).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_matching_line_fires_and_resolves_in_alertmanager() {
    let am = start_alertmanager();
    let rules_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/good.yaml");
    let rules = RuleSet::load(&[rules_path]).unwrap();
    let log = "/u01/crs/log/rac1/alertrac1.log";
    let text = b"2011-03-04 10:06:37.123\n[cssd(9822)]CRS-1607:Node rac2 is being evicted in cluster incarnation 1\n";
    let hits = Matcher::new(&rules, rules.groups_for(Path::new(log))).eval(text, 1);
    assert_eq!(hits.len(), 1);

    let mut state = AlertState::new(100);
    let now = SystemTime::now();
    let alert = state.observe(&rules, &hits[0], log, now).unwrap().clone();
    let rule = &rules.groups()[hits[0].group].rules[hits[0].rule];
    let expiry = alert.last_match + rule.resolve_after;
    assert_eq!(alert.expires_at(), expiry);

    let dead = format!("http://127.0.0.1:{}", free_port());
    let urls = [format!("http://127.0.0.1:{}", am.port), dead];
    let sink = Alertmanager::new(&urls, Duration::from_secs(2), None).unwrap();
    let results = sink.post(Alertmanager::body(std::slice::from_ref(&alert), "db1")).await;
    assert!(results[0].is_ok(), "{:?}", results[0]);
    assert!(matches!(results[1], Err(SinkError::Request { .. })), "{:?}", results[1]);

    let got = active_alerts(am.port);
    assert_eq!(got.len(), 1, "{got:?}");
    let a = &got[0];
    let labels: serde_json::Map<String, Value> = a["labels"].as_object().unwrap().clone();
    let want: serde_json::Map<String, Value> = serde_json::from_str(
        r#"{"alertname":"CrsNodeEvicted","severity":"critical","node":"rac2","instance":"db1"}"#,
    )
    .unwrap();
    assert_eq!(labels, want);
    assert_eq!(a["annotations"]["summary"], format!("Node rac2 evicted (seen in {log})"));
    assert_eq!(a["status"]["state"], "active");
    // endsAt is the rule's resolve_after (10m) after the match, not Alertmanager's default.
    let ends: jiff::Timestamp = a["endsAt"].as_str().unwrap().parse().unwrap();
    let want_ends = jiff::Timestamp::try_from(expiry).unwrap();
    assert!(
        (ends.as_millisecond() - want_ends.as_millisecond()).abs() <= 1,
        "{ends} vs {want_ends}"
    );

    // Quiet for resolve_after: resolved, posted with its endsAt, gone from the active list.
    let resolved = state.expire(&rules, expiry);
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0].ends_at, Some(expiry));
    // The test cannot wait 10 minutes: Alertmanager gets the resolution as ending now.
    let mut done = resolved[0].clone();
    done.ends_at = Some(SystemTime::now());
    let results = sink.post(Alertmanager::body(&[done], "db1")).await;
    assert!(results[0].is_ok(), "{:?}", results[0]);
    until("the alert to resolve", Duration::from_secs(10), || active_alerts(am.port).is_empty())
        .await;
}

/// Awaits `check` (without blocking the runtime's timers), every 20 ms; fails naming `what`
/// after `timeout`. The async form of the test kit's `wait_for`.
async fn until(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !check() {
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_refused_post_names_the_status_and_a_silent_peer_times_out() {
    let am = start_alertmanager();
    let sink =
        Alertmanager::new(&[format!("http://127.0.0.1:{}", am.port)], Duration::from_secs(2), None)
            .unwrap();
    let results = sink.post(bytes::Bytes::from_static(b"[{\"labels\":{}}]")).await;
    match &results[0] {
        Err(SinkError::Status { status: 400, body, .. }) => assert!(!body.is_empty()),
        other => panic!("expected HTTP 400, got {other:?}"),
    }
    // A listener that accepts and never answers: the post gives up at its timeout.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let sink = Alertmanager::new(&[url], Duration::from_millis(300), None).unwrap();
    let started = Instant::now();
    let results = sink.post(bytes::Bytes::from_static(b"[]")).await;
    assert!(matches!(results[0], Err(SinkError::Timeout { .. })), "{:?}", results[0]);
    assert!(started.elapsed() < Duration::from_secs(2));
}

/// A sender posting to a stopped Alertmanager with one alert, `labels`, queued in its outbox.
struct Outage {
    am: Am,
    outbox: Arc<Mutex<Outbox>>,
    stats: Arc<Mutex<SenderStats>>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    _state: tempfile::TempDir,
}

impl Outage {
    fn start(labels: &[(&str, &str)], backoff: Backoff) -> Self {
        let mut am = start_alertmanager();
        am.child.0.kill().unwrap();
        am.child.0.wait().unwrap();
        let state = tempfile::tempdir().unwrap();
        let outbox =
            Arc::new(Mutex::new(Outbox::open(&state.path().join("outbox"), 100, 1 << 20).unwrap()));
        outbox.lock().unwrap().push(&Alertmanager::body(&[firing(labels)], "db1")).unwrap();
        let (stop, stop_rx) = watch::channel(false);
        let stats = Arc::new(Mutex::new(SenderStats::default()));
        let sink = Alertmanager::new(
            &[format!("http://127.0.0.1:{}", am.port)],
            Duration::from_secs(1),
            None,
        )
        .unwrap();
        let task = tokio::spawn(sender::run(
            sink,
            outbox.clone(),
            Arc::new(Notify::new()),
            stop_rx,
            backoff,
            100,
            stats.clone(),
        ));
        Outage { am, outbox, stats, stop, task, _state: state }
    }

    /// Waits until `n` posts have failed (Alertmanager is down), for at most `within`.
    async fn wait_failed(&self, n: u64, within: Duration) {
        let what = format!("{n} failed posts");
        until(&what, within, || self.stats.lock().unwrap().failed >= n).await;
    }

    /// Alertmanager comes back on the same port (the one probe-then-bind left: the port was
    /// free a moment ago, when the first Alertmanager was killed).
    fn restart_alertmanager(&mut self) {
        self.am.child = spawn_alertmanager(self.am._dir.path(), self.am.port).0;
    }

    async fn stop(self) {
        self.stop.send(true).unwrap();
        self.task.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn an_alert_survives_an_alertmanager_outage_in_the_outbox() {
    // The alert is queued while Alertmanager is down; it retries ...
    let labels = [("alertname", "ObServerCrashed"), ("severity", "critical"), ("signal", "11")];
    let backoff = Backoff::new(Duration::from_millis(50), Duration::from_millis(400));
    let mut outage = Outage::start(&labels, backoff);
    outage.wait_failed(2, Duration::from_secs(10)).await;
    assert_eq!(outage.outbox.lock().unwrap().len(), 1);
    // ... and delivers once it is back on the same port.
    let port = outage.am.port;
    outage.restart_alertmanager();
    until("the alert delivered after the restart", Duration::from_secs(20), || {
        active_alerts(port)
            .iter()
            .any(|a| a["labels"]["alertname"] == "ObServerCrashed" && a["labels"]["signal"] == "11")
    })
    .await;
    until("the outbox to empty", Duration::from_secs(5), || {
        outage.outbox.lock().unwrap().is_empty()
    })
    .await;
    assert_eq!(outage.stats.lock().unwrap().sent, 1);
    outage.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn after_a_long_outage_the_alert_arrives_within_10s_of_the_return() {
    // The daemon's own backoff: 0.5 s doubling, capped at 10 s. After six failed posts (~15 s
    // down) the next wait is the cap; with the old 60 s cap it was 16 s and growing.
    let labels = [("alertname", "ObDiskHung"), ("severity", "critical"), ("disk", "clog")];
    let mut outage = Outage::start(&labels, Backoff::new(sender::RETRY_BASE, sender::RETRY_MAX));
    outage.wait_failed(6, Duration::from_secs(60)).await;
    outage.restart_alertmanager();
    // 10 s of backoff plus Alertmanager's own start.
    until("the alert redelivered within 10 s", Duration::from_secs(13), || {
        let got = active_alerts_or_none(outage.am.port);
        got.iter().any(|a| a["labels"]["alertname"] == "ObDiskHung")
    })
    .await;
    outage.stop().await;
}

/// Active alerts, or none while Alertmanager is still starting.
fn active_alerts_or_none(port: u16) -> Vec<Value> {
    get(&format!("http://127.0.0.1:{port}/api/v2/alerts?active=true"))
        .and_then(|t| serde_json::from_str::<Vec<Value>>(&t).ok())
        .unwrap_or_default()
}

/// A TLS client for `settings` (paths relative to `pki`), with the system roots as fallback.
/// An alert that started firing now, with these labels.
fn firing(labels: &[(&str, &str)]) -> obwatch_logtailer::rule::state::Alert {
    let now = SystemTime::now();
    obwatch_logtailer::rule::state::Alert {
        labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        annotations: Default::default(),
        starts_at: now,
        last_match: now,
        ends_at: None,
        count: 1,
        resolve_after: Duration::from_secs(600),
    }
}

fn tls(pki: &Path, settings: TlsSettings) -> TlsClient {
    let file = pki.join("logtailer.yml");
    TlsClient::new(&settings, &file, "alertmanager.tls", SystemRoots::Native).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn https_alertmanager_with_a_ca_and_a_client_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    std::fs::create_dir(&pki).unwrap();
    make_pki(&pki);
    let (_am, port) = spawn_alertmanager_tls(dir.path(), &pki);
    let url = vec![format!("https://127.0.0.1:{port}")];
    let client = |ca: Option<&str>, cert: bool, insecure: bool| TlsSettings {
        ca_file: ca.map(Into::into),
        cert_file: cert.then(|| "client.pem".into()),
        key_file: cert.then(|| "client.key".into()),
        insecure_skip_verify: insecure,
        ..TlsSettings::default()
    };
    let alert = |name: &str| firing(&[("alertname", name), ("severity", "critical")]);
    let post = |settings: TlsSettings, name: &str| {
        let sink =
            Alertmanager::new(&url, Duration::from_secs(5), Some(&tls(&pki, settings))).unwrap();
        let body = Alertmanager::body(&[alert(name)], "db1");
        async move { sink.post(body).await.remove(0) }
    };

    // The right CA and a client certificate: accepted, and Alertmanager has the alert.
    post(client(Some("ca.pem"), true, false), "ViaTls").await.unwrap();
    let text =
        get_with(&format!("https://127.0.0.1:{port}/api/v2/alerts"), &tls_curl_args(&pki)).unwrap();
    let alerts: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert!(alerts.iter().any(|a| a["labels"]["alertname"] == "ViaTls"), "{alerts:?}");

    // A CA that did not sign the server's certificate: a request error that says why.
    let e = post(client(Some("other-ca.pem"), true, false), "WrongCa").await.unwrap_err();
    assert!(matches!(e, SinkError::Request { .. }), "{e:?}");
    assert!(e.to_string().contains("invalid peer certificate: UnknownIssuer"), "{e}");
    // The system roots do not know the test CA either.
    let e = post(client(None, true, false), "SystemRoots").await.unwrap_err();
    assert!(e.to_string().contains("UnknownIssuer"), "{e}");
    // No client certificate where Alertmanager requires one: refused.
    let e = post(client(Some("ca.pem"), false, false), "NoClientCert").await.unwrap_err();
    assert!(matches!(e, SinkError::Request { .. }), "{e:?}");
    // insecure_skip_verify: any server certificate goes (the wrong CA too).
    post(client(Some("other-ca.pem"), true, true), "Insecure").await.unwrap();
    // server_name: the certificate must carry that name instead of the URL's host.
    let mut named = client(Some("ca.pem"), true, false);
    named.server_name = Some("localhost".into());
    post(named.clone(), "ServerName").await.unwrap();
    named.server_name = Some("am.example.com".into());
    let e = post(named, "WrongName").await.unwrap_err();
    assert!(e.to_string().contains("certificate not valid for name \"am.example.com\""), "{e}");
    // The same material inline (`ca`, `cert`, `key`), TLS 1.3 only: Alertmanager (Go) offers
    // 1.3, so it is accepted; TLS 1.2 only is accepted too (Go's server allows 1.2 by default).
    let read = |f: &str| Some(std::fs::read_to_string(pki.join(f)).unwrap());
    let inline = TlsSettings {
        ca: read("ca.pem"),
        cert: read("client.pem"),
        key: read("client.key"),
        min_version: Some("TLS13".into()),
        ..TlsSettings::default()
    };
    post(inline.clone(), "InlineTls13").await.unwrap();
    let tls12 = TlsSettings { min_version: None, max_version: Some("TLS12".into()), ..inline };
    post(tls12, "InlineTls12").await.unwrap();
}
