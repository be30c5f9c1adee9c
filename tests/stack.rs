//! The whole stack on loopback, as a host runs it: obwatch-exporter (host collectors, the
//! OceanBase collector against MariaDB loaded with the 4.x fixture, the cleaner's textfile) and
//! a second exporter on fake Clusterware tools, obwatch-logtailer with the shipped `rules/`, the
//! cleaner, a real Prometheus loading `rules/prometheus/` and a real Alertmanager.
//! - every expression of every dashboard and rule is sent to Prometheus: it must parse, and
//!   return data unless it is an alert condition (empty on a healthy stack by design) or listed
//!   in [`EMPTY_ON_A_HEALTHY_HOST`] with the reason; alert conditions are empty on a healthy
//!   host, so each selector they read, with its positive matchers, must select series instead
//!   (or be listed in [`ALERT_SELECTORS_ABSENT_ON_A_HEALTHY_HOST`] with the reason);
//! - an OBServer log incident reaches Alertmanager through the logtailer;
//! - a filesystem over its high watermark is brought under the low one by the cleaner, and the
//!   freed bytes reach Prometheus through the textfile;
//! - a stopped database makes ObServerDown fire in Prometheus and arrive in Alertmanager.
//!
//! The rules are loaded with every `for:` shortened to 5s, so the test does not wait minutes.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use obwatch_e2e::mariadb::{self, MariaDb};
use obwatch_e2e::surface;
use obwatch_e2e::*;
use tokio::runtime::Runtime;
use tokio::sync::oneshot;

use crate::live::{clusterware_exporter, exporter, logtailer_daemon, oceanbase_config};

/// Dashboard queries that are empty on a healthy host by design, and why.
const EMPTY_ON_A_HEALTHY_HOST: &[(&str, &str)] = &[
    ("panel 15 \"OceanBase queries failing\"", "lists only queries that fail"),
    ("panel 27 \"Lag by file\"", "lists only files the logtailer is behind on"),
    ("panel 45 \"Errors by policy\"", "lists only cleaner errors"),
    ("panel 39 \"Merge status (3.x)\"", "3.x only; the stack runs the 4.x fixture"),
    ("panel 19 \"Restarts\"", "lists only process groups that restarted"),
    ("panel 24 \"Deleted files held open\"", "lists only groups holding deleted files"),
    ("panel 8 \"Collector failures\"", "lists only failing collectors, not those without data"),
];

/// Selectors in alert expressions that select nothing on a healthy host by design, and why.
const ALERT_SELECTORS_ABSENT_ON_A_HEALTHY_HOST: &[(&str, &str)] = &[
    ("ob_zone_stat{name=\"frozen_version\"}", "3.x only; the stack runs the 4.x fixture"),
    ("ob_zone_stat{name=\"last_merged_version\"}", "3.x only; the stack runs the 4.x fixture"),
    (
        "ob_zone_stat{name=~\"is_merge_error|is_merge_timeout\"}",
        "3.x only; the stack runs the 4.x fixture",
    ),
];

/// A workload on the fixture: the counters OCP's indicators are rates of grow every second
/// (MariaDB's event scheduler), and the stat ids the fixture lacks are added.
const WORKLOAD: &str = "USE oceanbase;
INSERT INTO V$SYSSTAT (CON_ID, `STATISTIC#`, VALUE, VALUE_TYPE, STAT_ID, NAME, CLASS, CAN_VISIBLE) VALUES
 (1002, 3, 5000, 'ADD_VALUE', 40003, 'sql insert time', 8, 'YES'),
 (1002, 4, 100, 'ADD_VALUE', 40004, 'sql replace count', 8, 'YES'),
 (1002, 5, 9000, 'ADD_VALUE', 40005, 'sql replace time', 8, 'YES'),
 (1002, 6, 100, 'ADD_VALUE', 40006, 'sql update count', 8, 'YES'),
 (1002, 7, 9000, 'ADD_VALUE', 40007, 'sql update time', 8, 'YES'),
 (1002, 8, 100, 'ADD_VALUE', 40008, 'sql delete count', 8, 'YES'),
 (1002, 9, 9000, 'ADD_VALUE', 40009, 'sql delete time', 8, 'YES'),
 (1002, 61, 700000, 'ADD_VALUE', 30006, 'trans total time', 4, 'YES'),
 (1002, 80, 100, 'ADD_VALUE', 80040, 'clog write count', 256, 'YES'),
 (1002, 81, 2000, 'ADD_VALUE', 80041, 'clog write time', 256, 'YES'),
 (1002, 82, 1048576, 'ADD_VALUE', 80057, 'clog write size', 256, 'YES'),
 (1002, 152, 8589934592, 'SET_VALUE', 140002, 'max memory size', 64, 'NO'),
 (1002, 153, 4294967296, 'SET_VALUE', 140003, 'memory usage', 64, 'NO'),
 (1002, 154, 5, 'SET_VALUE', 140006, 'cpu usage', 64, 'NO');
SET GLOBAL event_scheduler = ON;
CREATE EVENT sysstat_grows ON SCHEDULE EVERY 1 SECOND DO UPDATE V$SYSSTAT SET VALUE = VALUE + 1000 WHERE VALUE_TYPE = 'ADD_VALUE';
CREATE EVENT plan_cache_grows ON SCHEDULE EVERY 1 SECOND DO UPDATE V$OB_PLAN_CACHE_STAT SET ACCESS_COUNT = ACCESS_COUNT + 100, HIT_COUNT = HIT_COUNT + 99;
CREATE EVENT top_sql_grows ON SCHEDULE EVERY 1 SECOND DO UPDATE GV$OB_PLAN_CACHE_PLAN_STAT SET EXECUTIONS = EXECUTIONS + 10, ELAPSED_TIME = ELAPSED_TIME + 5000;
CREATE EVENT response_times_grow ON SCHEDULE EVERY 1 SECOND DO UPDATE __all_virtual_query_response_time SET COUNT = COUNT + 10, TOTAL = TOTAL + 5 * RESPONSE_TIME;";

/// `="$var"` and `=~"$var"` become "any value", intervals become durations.
fn expand(expr: &str) -> String {
    let mut s = expr.to_string();
    for (var, value) in [
        ("${__rate_interval}", "1m"),
        ("$__rate_interval", "1m"),
        ("${__interval}", "15s"),
        ("$__interval", "15s"),
        ("${__range}", "1h"),
        ("$__range", "1h"),
    ] {
        s = s.replace(var, value);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s.as_str();
    while let Some(p) = rest.find("\"$") {
        let (before, after) = rest.split_at(p);
        let end = after[1..].find('"').map_or(after.len(), |e| e + 2);
        let op_regex = before.ends_with("=~") || before.ends_with("!~");
        let trimmed = before.strip_suffix('=').filter(|_| !op_regex).unwrap_or(before);
        out.push_str(trimmed);
        if !op_regex {
            out.push_str("=~");
        }
        out.push_str("\".*\"");
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// `GET` of Prometheus' or Alertmanager's API.
fn api(base: &str, path: &str) -> Option<String> {
    let (status, body) = get(&format!("{base}{path}")).ok()?;
    (status == 200).then_some(body)
}

fn query(prom: &str, q: &str) -> Result<String, String> {
    let (status, body) =
        get(&format!("{prom}/api/v1/query?query={}", urlencode(q))).map_err(|e| e.to_string())?;
    if status != 200 {
        return Err(body);
    }
    Ok(body)
}

/// The names of the `(name, expression)` pairs whose expression still returns no data after
/// asking again for up to 30 s: a query that timed out in the exporter's last round (a loaded
/// machine) leaves its series stale for a scrape, so one empty answer is not yet "empty".
fn still_empty(prom: &str, mut pending: Vec<(String, String)>) -> Vec<String> {
    poll_every(Duration::from_secs(30), Duration::from_secs(1), || {
        pending.retain(|(_, expr)| !query(prom, expr).is_ok_and(|b| has_data(&b)));
        pending.is_empty().then_some(())
    });
    pending.into_iter().map(|(name, _)| name).collect()
}

fn has_data(body: &str) -> bool {
    body.contains("\"result\":[{") || body.contains("\"resultType\":\"scalar\"")
}

/// Writes the rule files with every `for:` shortened to 5s.
fn fast_rules(dir: &Path) -> PathBuf {
    let out = dir.join("prometheus-rules");
    std::fs::create_dir_all(&out).unwrap();
    for f in surface::files(&surface::repo_root().join("rules/prometheus"), ".rules.yml") {
        let text = std::fs::read_to_string(&f).unwrap();
        let fast: String = text
            .lines()
            .map(|l| match l.trim_start().strip_prefix("for: ") {
                Some(_) => format!("{}for: 5s", &l[..l.len() - l.trim_start().len()]),
                None => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(out.join(f.file_name().unwrap()), fast + "\n").unwrap();
    }
    out
}

fn start_alertmanager(dir: &Path) -> (Proc, String) {
    let cfg = dir.join("alertmanager.yml");
    std::fs::write(&cfg, "route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n")
        .unwrap();
    let (p, addr) = Proc::start_listening(
        &peer("prometheus-alertmanager"),
        &[
            &format!("--config.file={}", cfg.display()),
            &format!("--storage.path={}", dir.join("am-data").display()),
            "--web.listen-address=127.0.0.1:0",
            "--cluster.listen-address=",
        ],
        &dir.join("alertmanager.log"),
    );
    let base = format!("http://{addr}");
    wait_for("Alertmanager", Duration::from_secs(30), || api(&base, "/-/ready"));
    (p, base)
}

/// The logtailer with the shipped rules on an OBServer log dir, delivering to `am`.
fn logtailer(rt: &Runtime, dir: &Path, am: &str) -> (PathBuf, String, oneshot::Sender<()>) {
    let logs = dir.join("oceanbase/log");
    std::fs::create_dir_all(&logs).unwrap();
    let log = logs.join("observer.log");
    std::fs::write(&log, "").unwrap();
    let cfg = dir.join("logtailer.yml");
    std::fs::write(
        &cfg,
        format!(
            "state_dir: {}\ninputs:\n  - name: observer\n    paths: [\"{}/*.log\"]\nrule_files: [\"{}\"]\nalertmanager: {{ urls: [\"{am}\"] }}\n",
            dir.join("lt-state").display(),
            logs.display(),
            surface::repo_root().join("rules").display(),
        ),
    )
    .unwrap();
    let (addr, stop) = logtailer_daemon(rt, &cfg);
    (log, addr, stop)
}

/// Percent used of the filesystem holding `dir`, as df computes it.
fn used_percent(dir: &Path) -> u32 {
    let out = std::process::Command::new("df").args(["--output=pcent"]).arg(dir).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().nth(1).unwrap().trim().trim_end_matches('%').parse().unwrap()
}

/// The cleaner's filesystem: a 4 MiB tmpfs, a policy that compresses and a 70/40 watermark.
struct Disk {
    dir: PathBuf,
    config: obwatch_cleaner::Config,
    _mount: obwatch_testkit::tmpfs::Tmpfs,
}

impl Disk {
    /// Mounts it and runs the cleaner once on it empty, so its counters start at 0 (`None`
    /// where tmpfs cannot be mounted).
    fn new(dir: &Path, textfile: &Path) -> Option<Disk> {
        let disk = dir.join("disk");
        std::fs::create_dir_all(&disk).unwrap();
        let mount = obwatch_testkit::tmpfs::Tmpfs::mount(&disk, "4m")?;
        let cfg = dir.join("cleaner.yml");
        std::fs::write(
            &cfg,
            format!(
                "textfile: {}\nlock_file: {}\npolicies:\n  - name: app\n    paths: [\"{}/*.log.*\"]\n    rotate: {{ compress: gzip }}\ndisk: {{ high_watermark: 70%, low_watermark: 40% }}\n",
                textfile.join("cleaner.prom").display(),
                dir.join("cleaner.lock").display(),
                disk.display()
            ),
        )
        .unwrap();
        let config = obwatch_cleaner::Config::load(&cfg).unwrap();
        let d = Disk { dir: disk, config, _mount: mount };
        d.run();
        Some(d)
    }

    fn run(&self) {
        let opts = obwatch_cleaner::RunOptions::default();
        obwatch_cleaner::run_once(&self.config, &opts, &mut std::io::sink()).unwrap();
    }

    /// Fills it to about 90% with rotated logs, runs the cleaner; usage before and after.
    fn incident(&self) -> (u32, u32) {
        let old = SystemTime::now() - Duration::from_secs(3600);
        for n in 0..9 {
            let p = self.dir.join(format!("app.log.{n}"));
            std::fs::write(&p, vec![b'x'; 400 << 10]).unwrap();
            let f = std::fs::File::options().write(true).open(&p).unwrap();
            f.set_modified(old + Duration::from_secs(n * 60)).unwrap();
        }
        let before = used_percent(&self.dir);
        self.run();
        (before, used_percent(&self.dir))
    }
}

#[test]
fn the_whole_stack_with_real_prometheus_and_alertmanager() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rt = Runtime::new().unwrap();
    let db = std::thread::spawn(|| MariaDb::start(Some(mariadb::OB4_VERSION), Some("ob4.sql")));
    let (_am, am) = start_alertmanager(d);
    let textfile = d.join("textfile");
    std::fs::create_dir_all(&textfile).unwrap();
    let disk = Disk::new(d, &textfile);
    // Clusterware daemons for the process panels: `sleep` under their names.
    let daemons: Vec<Proc> = ["ocssd.bin", "crsd.bin"]
        .iter()
        .map(|name| {
            let link = d.join(name);
            std::os::unix::fs::symlink("/bin/sleep", &link).unwrap();
            Proc::start(&link, &["600"], &d.join(format!("{name}.log")))
        })
        .collect();

    let mut db = db.join().unwrap();
    db.sql(WORKLOAD);
    let ob_config = oceanbase_config(d, &db, "exporter");
    let (host_url, _stop_host) = exporter(
        &rt,
        &[
            format!("--config.file={}", ob_config.display()),
            format!("--collector.textfile.directory={}", textfile.display()),
        ],
    );
    let (cw_url, _stop_cw) = clusterware_exporter(&rt, &d.join("clusterware"));
    let (observer_log, lt_addr, _stop_lt) = logtailer(&rt, d, &am);

    let target =
        |url: &str| url.trim_start_matches("http://").trim_end_matches("/metrics").to_string();
    let rules = fast_rules(d);
    std::fs::write(
        d.join("prometheus.yml"),
        format!(
            "global: {{ scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s }}\n\
             rule_files: ['{}/*.yml']\n\
             alerting: {{ alertmanagers: [ {{ static_configs: [ {{ targets: ['{}'] }} ] }} ] }}\n\
             scrape_configs:\n  - job_name: obwatch-exporter\n    static_configs: [ {{ targets: ['{}', '{}'] }} ]\n  - job_name: obwatch-logtailer\n    static_configs: [ {{ targets: ['{lt_addr}'] }} ]\n",
            rules.display(),
            am.trim_start_matches("http://"),
            target(&host_url),
            target(&cw_url),
        ),
    )
    .unwrap();
    let (_prom, prom) = Proc::start_listening(
        &peer("prometheus"),
        &[
            &format!("--config.file={}", d.join("prometheus.yml").display()),
            &format!("--storage.tsdb.path={}", d.join("prom-data").display()),
            "--web.listen-address=127.0.0.1:0",
        ],
        &d.join("prometheus.log"),
    );
    let prom = format!("http://{prom}");
    wait_for("three healthy targets", Duration::from_secs(60), || {
        query(&prom, "count(up{job=~\"obwatch.*\"} == 1) == 3").ok().filter(|b| has_data(b))
    });

    // The disk incident, while Prometheus watches the cleaner's counters.
    if let Some(disk) = &disk {
        let (before, after) = disk.incident();
        assert!(before >= 70 && after <= 40, "used {before}% before, {after}% after the cleaner");
    }

    // A log incident: the logtailer's shipped rule fires into Alertmanager.
    let line = "[2023-02-14 12:25:19.268085] ERROR [CLOG] update_free_quota (ob_log_file_pool.cpp:413) [89143][3714][Y0-0000000000000000] [lt=539] [dc=0] clog disk is almost full(type_=1, total_size=1081659957248, free_quota=-171216994304, warn_percent(%)=80, limit_percent=95, used_percent(%)=95) BACKTRACE:0xd20040b\n";
    std::io::Write::write_all(
        &mut std::fs::OpenOptions::new().append(true).open(&observer_log).unwrap(),
        line.as_bytes(),
    )
    .unwrap();
    wait_for("ObClogDiskAlmostFull in Alertmanager", Duration::from_secs(30), || {
        api(&am, "/api/v2/alerts").filter(|b| b.contains("ObClogDiskAlmostFull"))
    });

    // Every expression parses and, unless it is an alert condition, returns data. Rates and
    // increases need samples on both sides of a change: wait for several scrapes of every
    // series the incidents and the workload moved.
    for q in [
        "min(count_over_time(obwatch_logtailer_lines_total[1m])) >= 5",
        "min(count_over_time(ob_sysstat{stat_id=\"40000\"}[1m])) >= 5",
        "sum(increase(obwatch_cleaner_files_compressed_total[1m])) > 0",
        "min(count_over_time(namedprocess_namegroup_num_procs[1m])) >= 5",
    ] {
        if q.contains("cleaner") && disk.is_none() {
            continue;
        }
        wait_for(q, Duration::from_secs(60), || query(&prom, q).ok().filter(|b| has_data(b)));
    }
    // The response-time histogram needs no post-processing: histogram_quantile over it is a
    // number (not NaN, which `>= 0` drops) for each tenant the fixture has.
    let p99 = "histogram_quantile(0.99, sum by (tenant_name, le) (rate(ob_query_response_time_seconds_bucket[1m]))) >= 0";
    wait_for("a finite p99 for tenants sys and app", Duration::from_secs(60), || {
        query(&prom, p99).ok().filter(|b| {
            b.contains("\"tenant_name\":\"sys\"") && b.contains("\"tenant_name\":\"app\"")
        })
    });
    let files = surface::rule_files();
    let mut exprs: Vec<(String, String, bool)> = surface::rule_exprs(&files)
        .into_iter()
        .map(|e| {
            let alert = e.source.contains(" alert ");
            (e.source, e.expr, alert)
        })
        .collect();
    for dash in surface::dashboards() {
        for e in surface::dashboard_exprs(&dash).unwrap() {
            exprs.push((e.source, expand(&e.expr), false));
        }
    }
    let mut problems = Vec::new();
    let mut empty = Vec::new();
    for (source, expr, alert) in &exprs {
        match query(&prom, expr) {
            Err(e) => problems.push(format!("{source}: {expr}: {e}")),
            Ok(body) if !alert && !has_data(&body) => {
                empty.push((format!("{source}: {expr}"), expr))
            }
            Ok(_) => {}
        }
    }
    assert!(problems.is_empty(), "Prometheus rejected:\n{}", problems.join("\n"));
    let unexplained = still_empty(
        &prom,
        empty
            .into_iter()
            .filter(|(s, _)| !EMPTY_ON_A_HEALTHY_HOST.iter().any(|(k, _)| s.contains(k)))
            .filter(|(s, _)| disk.is_some() || !s.contains("cleaner"))
            .map(|(s, expr)| (s, expr.clone()))
            .collect(),
    );
    assert!(unexplained.is_empty(), "no data for:\n{unexplained:#?}");

    // Alert conditions are empty on a healthy host by design, but what they read is not: every
    // selector of every alert, with its positive matchers, must select series, so a wrong label
    // value (`type="ora.database.typ"`) fails here, named with its alert.
    let mut alert_selectors = std::collections::BTreeMap::new();
    for (source, expr, _) in exprs.iter().filter(|(_, _, alert)| *alert) {
        for sel in obwatch_e2e::promql::selectors(expr).unwrap() {
            alert_selectors.entry(sel.positive).or_insert_with(|| source.clone());
        }
    }
    let absent = still_empty(
        &prom,
        alert_selectors
            .into_iter()
            .filter(|(sel, _)| {
                !ALERT_SELECTORS_ABSENT_ON_A_HEALTHY_HOST.iter().any(|(k, _)| sel == k)
            })
            .filter(|(sel, _)| disk.is_some() || !sel.contains("cleaner"))
            .map(|(sel, source)| (format!("{source}: {sel}"), sel))
            .collect(),
    );
    assert!(absent.is_empty(), "alert selectors that select nothing:\n{absent:#?}");

    if disk.is_some() {
        let freed = query(&prom, "obwatch_cleaner_freed_bytes_total{policy=\"app\"} > 0").unwrap();
        assert!(has_data(&freed), "the cleaner's freed bytes reach Prometheus: {freed}");
    }

    // The database stops: ObServerDown fires and reaches Alertmanager.
    db.kill();
    wait_for("ObServerDown in Alertmanager", Duration::from_secs(60), || {
        api(&am, "/api/v2/alerts").filter(|b| b.contains("ObServerDown"))
    });
    drop(daemons);
    let log = std::fs::read_to_string(d.join("prometheus.log")).unwrap_or_default();
    assert!(!log.contains("level=error"), "{log}");
}

#[test]
fn grafana_variables_expand_to_any_value() {
    assert_eq!(
        expand(r#"rate(x{instance="$instance",t=~"$tenant"}[$__rate_interval])"#),
        r#"rate(x{instance=~".*",t=~".*"}[1m])"#
    );
    assert_eq!(expand(r#"y{a="${cluster}"}"#), r#"y{a=~".*"}"#);
}
