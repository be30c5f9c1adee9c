//! The dashboards and Prometheus rules against the binaries, without Grafana or a Prometheus
//! server:
//! - every dashboard follows the structural rules (`surface::check_dashboard`);
//! - every alert has a severity and a summary and description naming its labels;
//! - every expression of every dashboard (Grafana variables expanded) parses, by
//!   `promtool check rules` on a generated rule file;
//! - every metric an expression reads is one the binaries really export, and the labels its
//!   matchers require are labels that metric really has. The exported set is collected from
//!   real output: obwatch-exporter on this host (with a fake `observer` process for the
//!   process groups and the cleaner's textfile), the exporter's golden scrape of its fixture
//!   tree (hardware this host lacks), the exporter against fake crsctl/olsnodes, the exporter
//!   against MariaDB loaded with the OceanBase 3.x and 4.x view fixtures, obwatch-logtailer
//!   with a rule that matched, and obwatch-cleaner after a run that deleted, found a held file
//!   and a deleted-but-open one. Only series Prometheus itself makes are listed by hand.
#![allow(clippy::disallowed_methods, clippy::unwrap_used)] // test code

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use obwatch_e2e::mariadb::{self, MariaDb};
use obwatch_e2e::surface::{self, Expr};
use obwatch_e2e::*;
use tokio::runtime::Runtime;
use tokio::sync::oneshot;

use crate::live::{
    clusterware_exporter, exporter, logtailer_daemon, oceanbase_config, scrape_until,
};

/// Series Prometheus makes itself, so no binary exports them.
const PROMETHEUS_SERIES: &[(&str, &str)] = &[
    ("up", "written by Prometheus for every scrape target"),
    ("scrape_duration_seconds", "written by Prometheus for every scrape"),
    ("scrape_samples_scraped", "written by Prometheus for every scrape"),
    ("scrape_samples_post_metric_relabeling", "written by Prometheus for every scrape"),
    ("scrape_series_added", "written by Prometheus for every scrape"),
    ("ALERTS", "written by Prometheus' rule manager"),
    ("ALERTS_FOR_STATE", "written by Prometheus' rule manager"),
];

/// Labels every scraped series gets from Prometheus.
const TARGET_LABELS: &[&str] = &["instance", "job"];

/// Metric name -> every label name seen on it, over all the sources.
#[derive(Debug, Default)]
struct Exported(BTreeMap<String, BTreeSet<String>>);

impl Exported {
    fn add(&mut self, origin: &str, text: &str) {
        let families = obwatch_common::exposition::parse(text)
            .unwrap_or_else(|e| panic!("{origin}: unparsable exposition: {e:?}"));
        for f in families {
            for s in f.samples {
                self.0.entry(s.name).or_default().extend(s.labels.into_iter().map(|(l, _)| l));
            }
        }
    }

    fn has(&self, metric: &str) -> bool {
        self.0.contains_key(metric)
    }
}

#[test]
fn dashboards_follow_the_structural_rules() {
    let boards = surface::dashboards();
    assert!(boards.len() >= 4, "expected the four dashboards, found {}", boards.len());
    let mut errs: Vec<String> = boards.iter().flat_map(surface::check_dashboard).collect();
    let mut uids = BTreeMap::new();
    for d in &boards {
        let uid = d.json["uid"].as_str().unwrap_or_default();
        if let Some(other) = uids.insert(uid, &d.name) {
            errs.push(format!("{}: uid {uid:?} is also {other}'s", d.name));
        }
    }
    assert!(errs.is_empty(), "dashboard rules broken:\n{}", errs.join("\n"));
}

/// A bad dashboard is caught: a hard-coded uid, a panel without a unit, a repeated id.
#[test]
fn the_structural_check_catches_bad_dashboards() {
    let good = surface::dashboards().into_iter().next().unwrap();
    let mut json = good.json.clone();
    let panel =
        json["panels"].as_array_mut().unwrap().iter_mut().find(|p| p["type"] != "row").unwrap();
    panel["datasource"] = serde_json::json!({"type": "prometheus", "uid": "P1809F7CD0C75ACF3"});
    panel["fieldConfig"]["defaults"]["unit"] = serde_json::Value::Null;
    let id = panel["id"].clone();
    json["panels"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"id": id, "type": "row", "title": "dup"}));
    let bad = surface::Dashboard { name: "bad.json".into(), json };
    let errs = surface::check_dashboard(&bad).join("\n");
    assert!(errs.contains("P1809F7CD0C75ACF3"), "{errs}");
    assert!(errs.contains("no unit"), "{errs}");
    assert!(errs.contains("duplicate id"), "{errs}");
}

/// Every alert has a severity the logtailer also uses, and a summary and a description that
/// name what they are about through its labels.
#[test]
fn every_alert_has_severity_and_annotations() {
    let mut errs = Vec::new();
    for (file, f) in surface::rule_files() {
        for r in f.groups.iter().flat_map(|g| &g.rules) {
            let Some(alert) = &r.alert else { continue };
            let severity = r.labels.get("severity").map(String::as_str);
            if !matches!(severity, Some("critical" | "warning" | "info")) {
                errs.push(format!("{file} {alert}: severity {severity:?}"));
            }
            for key in ["summary", "description"] {
                match r.annotations.get(key) {
                    Some(t) if t.contains("{{ $labels.") => {}
                    _ => errs.push(format!("{file} {alert}: no {key} naming a label")),
                }
            }
        }
    }
    assert!(errs.is_empty(), "{}", errs.join("\n"));
}

fn all_exprs() -> (Vec<Expr>, BTreeSet<String>) {
    let rules = surface::rule_files();
    assert!(!rules.is_empty(), "no rules/prometheus/*.rules.yml");
    let mut exprs = surface::rule_exprs(&rules);
    for d in surface::dashboards() {
        exprs.extend(surface::dashboard_exprs(&d).unwrap_or_else(|e| panic!("{e}")));
    }
    (exprs, surface::recorded_names(&rules))
}

#[test]
fn every_dashboard_expression_parses() {
    let (exprs, _) = all_exprs();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dashboards.rules.yml");
    // One group per expression, named after its source, so promtool's error names it.
    let mut yaml = String::from("groups:\n");
    for (i, e) in exprs.iter().filter(|e| e.grafana).enumerate() {
        let expr = promql::expand_grafana(&e.expr);
        yaml.push_str(&format!(
            "  - name: {}\n    rules:\n      - record: dashboard:expr:{i}\n        expr: {}\n",
            serde_json::to_string(&format!("{i}: {}", e.source)).unwrap(),
            serde_json::to_string(&expr).unwrap()
        ));
    }
    std::fs::write(&file, yaml).unwrap();
    let out = Command::new(peer("promtool")).args(["check", "rules"]).arg(&file).output().unwrap();
    assert!(
        out.status.success(),
        "promtool check rules on the dashboards' expressions:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every problem of `exprs` against `exported`: unknown metrics (by name) and matchers on
/// labels the metric does not have.
fn unknown_references(
    exprs: &[Expr],
    exported: &Exported,
    recorded: &BTreeSet<String>,
) -> Vec<String> {
    let mut errs = Vec::new();
    for e in exprs {
        let text = if e.grafana { promql::expand_grafana(&e.expr) } else { e.expr.clone() };
        let sels = match promql::selectors(&text) {
            Ok(s) => s,
            Err(m) => {
                errs.push(format!("{}: {m} in {:?}", e.source, e.expr));
                continue;
            }
        };
        for s in sels {
            if recorded.contains(&s.metric) || PROMETHEUS_SERIES.iter().any(|(n, _)| *n == s.metric)
            {
                continue;
            }
            let Some(labels) = exported.0.get(&s.metric) else {
                errs.push(format!("{}: metric {} is exported by no binary", e.source, s.metric));
                continue;
            };
            for l in &s.required_labels {
                if !labels.contains(l) && !TARGET_LABELS.contains(&l.as_str()) {
                    errs.push(format!(
                        "{}: metric {} has no label {l} (it has {labels:?})",
                        e.source, s.metric
                    ));
                }
            }
        }
    }
    errs
}

#[test]
fn every_metric_referenced_is_exported() {
    let (exprs, recorded) = all_exprs();
    let exported = collect_exported();
    let errs = unknown_references(&exprs, &exported, &recorded);
    assert!(
        errs.is_empty(),
        "{} reference(s) to what no binary exports:\n{}",
        errs.len(),
        errs.join("\n")
    );
    // And a name nobody exports is reported by its name.
    let bogus = [Expr {
        source: "bogus panel".into(),
        expr: "rate(ob_no_such_metric_total[5m])".into(),
        grafana: true,
    }];
    let errs = unknown_references(&bogus, &exported, &recorded);
    assert_eq!(errs, ["bogus panel: metric ob_no_such_metric_total is exported by no binary"]);
}

/// Runs the cleaner once over old logs, one held open by this process and one deleted while
/// held, so that every family of its textfile appears. Returns the open files to keep.
fn run_cleaner(dir: &Path, textfile_dir: &Path) -> Vec<std::fs::File> {
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let old = SystemTime::now() - Duration::from_secs(20 * 86400);
    let mut held = Vec::new();
    for name in ["app.log.1", "app.log.2", "app.log.3", "gone.log.1"] {
        let f = std::fs::File::create(logs.join(name)).unwrap();
        f.set_len(4096).unwrap();
        f.set_modified(old).unwrap();
        if name == "app.log.1" || name == "gone.log.1" {
            held.push(f);
        }
    }
    std::fs::remove_file(logs.join("gone.log.1")).unwrap();
    let cfg = dir.join("cleaner.yml");
    let text = format!(
        "textfile: {}\nlock_file: {}\naudit_log: {}\npolicies:\n  - name: app\n    paths: [\"{}/*.log.*\"]\n    max_age: 7d\n",
        textfile_dir.join("cleaner.prom").display(),
        dir.join("cleaner.lock").display(),
        dir.join("audit.jsonl").display(),
        logs.display()
    );
    std::fs::write(&cfg, &text).unwrap();
    let config = obwatch_cleaner::Config::load(&cfg).unwrap();
    obwatch_cleaner::run_once(
        &config,
        &obwatch_cleaner::RunOptions::default(),
        &mut std::io::sink(),
    )
    .unwrap();
    held
}

/// Starts the logtailer in-process on a log file with one rule, no reachable Alertmanager,
/// and appends a line the rule matches. Returns its metrics URL and a stop handle.
fn logtailer(rt: &Runtime, dir: &Path) -> (String, oneshot::Sender<()>) {
    std::fs::create_dir_all(dir).unwrap();
    let log = dir.join("app.log");
    std::fs::write(&log, "start\n").unwrap();
    let rules = dir.join("rules.yaml");
    std::fs::write(
        &rules,
        "groups:\n  - name: demo\n    rules:\n      - alert: DemoError\n        match: 'ERROR (?P<what>\\w+)'\n        severity: warning\n",
    )
    .unwrap();
    let cfg = dir.join("logtailer.yml");
    std::fs::write(
        &cfg,
        format!(
            "state_dir: {}\ninputs:\n  - name: app\n    paths: [\"{}\"]\nrule_files: [\"{}\"]\nalertmanager: {{ urls: [\"http://127.0.0.1:{}\"] }}\n",
            dir.join("state").display(),
            log.display(),
            rules.display(),
            free_port()
        ),
    )
    .unwrap();
    let (addr, stop) = logtailer_daemon(rt, &cfg);
    std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .unwrap()
        .write_all(b"ERROR disk full\n")
        .unwrap();
    (format!("http://{addr}/metrics"), stop)
}

/// The OceanBase collector against `db`, until a full round answered every query.
fn oceanbase_scrape(
    rt: &Runtime,
    dir: &Path,
    db: &MariaDb,
    what: &str,
) -> (String, oneshot::Sender<()>) {
    let cfg = oceanbase_config(dir, db, what);
    let (url, stop) = exporter(
        rt,
        &["--collector.disable-defaults".into(), format!("--config.file={}", cfg.display())],
    );
    // A round where a query timed out (a loaded machine) lacks that query's families: wait for
    // one where every query answered. A query that always fails is named at the deadline.
    let mut failed: Vec<String> = Vec::new();
    let body = poll(Duration::from_secs(30), || {
        let body = get(&url).map(|(_, b)| b).unwrap_or_default();
        failed = body
            .lines()
            .filter(|l| l.starts_with("obwatch_ob_query_success{") && l.ends_with(" 0"))
            .map(String::from)
            .collect();
        let round_done = body.contains("\nob_up 1\n")
            && body.contains("\nobwatch_ob_rounds_total ")
            && !body.contains("\nobwatch_ob_rounds_total 0\n");
        (round_done && failed.is_empty()).then_some(body)
    });
    let body = body.unwrap_or_else(|| {
        panic!("{what} fixture: no full round with every query answered; failing: {failed:?}")
    });
    (body, stop)
}

/// Everything the three binaries export, from real output (see the module comment).
fn collect_exported() -> Exported {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // The databases take a second or two each to bootstrap: start them first, in parallel.
    let ob4 = std::thread::spawn(|| MariaDb::start(Some(mariadb::OB4_VERSION), Some("ob4.sql")));
    let ob3 = std::thread::spawn(|| MariaDb::start(Some(mariadb::OB3_VERSION), Some("ob3.sql")));
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mut exported = Exported::default();
    let mut stops = Vec::new();

    // Host, process groups, timer and textfile (the cleaner's) on this host.
    let textfile = d.join("textfile");
    std::fs::create_dir_all(&textfile).unwrap();
    let _held = run_cleaner(&d.join("cleaner"), &textfile);
    let cleaner = std::fs::read_to_string(textfile.join("cleaner.prom")).unwrap();
    assert!(cleaner.contains("obwatch_cleaner_files_held{"), "no held file reported:\n{cleaner}");
    assert!(
        !cleaner.contains("obwatch_cleaner_deleted_open_bytes 0\n"),
        "no deleted-open file reported:\n{cleaner}"
    );
    // A process named like OBServer (argv[0]), so the built-in `observer` group appears.
    let _observer = Proc(
        Command::new("sleep").arg0("observer").arg("600").stdin(Stdio::null()).spawn().unwrap(),
    );
    let (url, stop) =
        exporter(&rt, &[format!("--collector.textfile.directory={}", textfile.display())]);
    stops.push(stop);
    let body = scrape_until(&url, "the observer process group and the cleaner's textfile", |b| {
        b.contains("namedprocess_namegroup_num_procs{groupname=\"observer\"} 1")
            && b.contains("obwatch_cleaner_freed_bytes_total")
    });
    exported.add("exporter (this host)", &body);

    // Hardware this host may lack (hwmon, nvme, bonding, ...): the golden scrape of the
    // exporter's fixture tree, kept equal to real output by crates/exporter/tests/scrape.rs.
    let golden = surface::repo_root().join("crates/exporter/tests/golden/fixture.prom");
    exported.add("exporter golden scrape", &std::fs::read_to_string(golden).unwrap());

    // Clusterware, through fake tools under a fake root.
    let (url, stop) = clusterware_exporter(&rt, &d.join("rootfs"));
    stops.push(stop);
    let body = scrape_until(&url, "every crsctl/olsnodes call to succeed", |b| {
        let calls: Vec<&str> =
            b.lines().filter(|l| l.starts_with("obwatch_command_success{")).collect();
        calls.len() == 4 && calls.iter().all(|l| l.ends_with(" 1"))
    });
    exported.add("exporter (fake clusterware)", &body);

    // The logtailer with a rule that matched.
    let (url, stop) = logtailer(&rt, &d.join("logtailer"));
    stops.push(stop);
    // Rule counters exist from the start at 0: wait for the match itself (and so the line).
    let body = scrape_until(&url, "the logtailer rule to match", |b| {
        b.lines()
            .any(|l| l.starts_with("obwatch_logtailer_rule_matches_total{") && l.ends_with(" 1"))
            && b.contains("obwatch_logtailer_lines_total{")
    });
    exported.add("logtailer", &body);

    // OceanBase 4.x and 3.x.
    let (ob4, ob3) = (ob4.join().unwrap(), ob3.join().unwrap());
    for (db, what) in [(&ob4, "4.x"), (&ob3, "3.x")] {
        let (body, stop) = oceanbase_scrape(&rt, d, db, what);
        stops.push(stop);
        exported.add(&format!("exporter (OceanBase {what} fixture)"), &body);
    }

    for s in stops {
        let _ = s.send(());
    }
    rt.shutdown_timeout(Duration::from_secs(5));
    for must in [
        "node_cpu_seconds_total",
        "ob_sysstat",
        "ob_zone_stat",
        "crs_resource_up",
        "obwatch_logtailer_lag_bytes",
    ] {
        assert!(exported.has(must), "{must} missing from the collected output");
    }
    exported
}
