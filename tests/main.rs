//! End-to-end tests of the whole stack against real peers. Table of contents:
//! - prometheus_scrapes_the_exporter: a real Prometheus scrapes obwatch-exporter on loopback;
//!   the node_exporter names dashboards and alerts use are queryable.
//! - dashboards (module): the dashboards follow their structural rules, their expressions
//!   parse, and every metric the dashboards and Prometheus rules read is one the binaries
//!   really export, with the labels matched on.
//! - packaging (module): the example configs pass each binary's config validation, the
//!   systemd units, timer, cron line and examples agree on paths, and the units pass
//!   `systemd-analyze verify` and its offline security score.
//! - stack (module): the three binaries with a real Prometheus, Alertmanager and MariaDB:
//!   every dashboard and rule expression evaluated, a log incident alerted, a full disk
//!   cleaned, a stopped database alerted.
#![forbid(unsafe_code)]
#![allow(clippy::disallowed_methods, clippy::unwrap_used)] // test code

mod dashboards;
mod globs;
mod live;
mod packaging;
mod source_audit;
mod stack;

use std::time::Duration;

use obwatch_e2e::*;
use obwatch_exporter::Config;

#[test]
fn prometheus_scrapes_the_exporter() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let target = listener.local_addr().unwrap().to_string();
    let config = Config::load(["obwatch-exporter"]).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(obwatch_exporter::run(config, vec![listener], async move {
        let _ = stopped.await;
    }));

    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("prometheus.yml");
    std::fs::write(&cfg, format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
         scrape_configs:\n  - job_name: obwatch\n    static_configs:\n      - targets: ['{target}']\n")).unwrap();
    let data = dir.path().join("data");
    let (_prom, listen) = Proc::start_listening(
        &peer("prometheus"),
        &[
            &format!("--config.file={}", cfg.display()),
            &format!("--storage.tsdb.path={}", data.display()),
            "--web.listen-address=127.0.0.1:0",
        ],
        &dir.path().join("prometheus.log"),
    );

    let query = |q: &str| -> Option<String> {
        let (status, body) =
            get(&format!("http://{listen}/api/v1/query?query={}", urlencode(q))).ok()?;
        (status == 200 && body.contains("\"result\":[{")).then_some(body)
    };
    let up = wait_for("up{job=\"obwatch\"} == 1", Duration::from_secs(60), || {
        query("up{job=\"obwatch\"} == 1")
    });
    assert!(up.contains(&target), "{up}");
    // Series that node-mixin alerts and the common dashboards are built on.
    for q in [
        "node_load1",
        "node_filesystem_avail_bytes{mountpoint=\"/\"} / node_filesystem_size_bytes{mountpoint=\"/\"}",
        "node_scrape_collector_success{collector=\"loadavg\"} == 1",
        "scrape_samples_scraped{job=\"obwatch\"} > 20",
    ] {
        let r = wait_for(q, Duration::from_secs(30), || query(q));
        assert!(r.contains("\"value\""), "{q}: {r}");
    }
    let _ = stop.send(());
    rt.block_on(server).unwrap().unwrap();
    // Prometheus' log is kept for post-mortems on failure.
    let log = std::fs::read_to_string(dir.path().join("prometheus.log")).unwrap_or_default();
    assert!(!log.contains("level=error"), "{log}");
}
