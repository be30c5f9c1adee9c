//! `obwatch-logtailer run` end to end: the real binary with a ten-line config, a log
//! directory and a real Alertmanager. A line appended to the log becomes an alert in
//! Alertmanager; the daemon's metrics count it; SIGTERM stops it with exit code 0; bad
//! configs and bad rules exit 2 naming what is wrong. Reloads, durability and https have
//! their own modules.
#![allow(clippy::disallowed_methods, clippy::unwrap_used, clippy::print_stderr)]

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use obwatch_testkit::net::{poll, wait_for};
use obwatch_testkit::tmpfs::Tmpfs;
use serde_json::Value;

#[path = "../util/mod.rs"]
mod util;
use util::*;

mod durability;
mod https;
mod reload;

fn alertmanager(dir: &Path) -> (Killed, u16) {
    spawn_alertmanager(dir, 0)
}

/// Starts the daemon on `config` listening on 127.0.0.1:0 with `extra` arguments, its log in
/// `log`; returns it with the port it bound, read back from its log.
fn start_with(config: &Path, log: &Path, extra: &[String]) -> (Killed, u16) {
    let config = config.to_str().unwrap();
    let mut args = vec!["run", "--config", config, "--web.listen-address=127.0.0.1:0"];
    args.extend(extra.iter().map(String::as_str));
    let bin = Path::new(env!("CARGO_BIN_EXE_obwatch-logtailer"));
    let (lt, addr) = Killed::start_listening(bin, &args, log);
    (lt, addr.rsplit(':').next().unwrap().parse().unwrap())
}

/// Starts the daemon on `config` (its log next to the config) and waits until it serves;
/// returns it and its port.
fn start_quiet(config: &Path, what: &str) -> (Killed, u16) {
    start_logged(config, &config.with_extension("stderr.log"), what)
}

/// As [`start_quiet`], with stderr (the daemon's log) written to `stderr`.
fn start_logged(config: &Path, stderr: &Path, what: &str) -> (Killed, u16) {
    let (mut lt, port) = start_with(config, stderr, &[]);
    wait_ready(port, &mut lt.0, what);
    (lt, port)
}

/// Writes `DIR/logtailer.yml`: state in `DIR/state`, one input `app` over `paths`, the rules
/// of `DIR/rules.yaml`, Alertmanager at `alertmanager`, then the `extra` lines. Returns its path.
fn app_config(dir: &Path, paths: &[&Path], alertmanager: &str, extra: &str) -> PathBuf {
    let paths: Vec<String> = paths.iter().map(|p| format!("\"{}\"", p.display())).collect();
    let config = dir.join("logtailer.yml");
    let yaml = format!(
        "state_dir: state\ninputs: [{{ name: app, paths: [{}] }}]\nrule_files: [rules.yaml]\nalertmanager: {{ urls: [\"{alertmanager}\"] }}\n{extra}",
        paths.join(", ")
    );
    std::fs::write(&config, yaml).unwrap();
    config
}

fn logtailer(config: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_obwatch-logtailer"));
    c.args(["run", "--config"]).arg(config).arg("--web.listen-address=127.0.0.1:0");
    c
}

#[test]
fn an_appended_line_reaches_alertmanager() {
    let dir = tempfile::tempdir().unwrap();
    let (_am, am_port) = alertmanager(dir.path());
    let logs = dir.path().join("log");
    std::fs::create_dir(&logs).unwrap();
    std::fs::write(
        logs.join("observer.log"),
        "[2024-01-01 00:00:00.1] INFO  [CLOG] before start\n",
    )
    .unwrap();
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/good.yaml");
    let (hook_addr, hook_rx) = webhook_receiver();
    let config = dir.path().join("logtailer.yml");
    std::fs::write(
        &config,
        format!(
            "state_dir: state\ninputs:\n  - name: observer\n    paths: [\"{}/*.log\"]\nrule_files: [\"{}\"]\nalertmanager: {{ urls: [\"http://127.0.0.1:{am_port}\"] }}\nwebhook: {{ url: \"http://{hook_addr}/hook\" }}\n",
            logs.display(),
            rules.display()
        ),
    )
    .unwrap();
    let (mut lt, port) = start_quiet(&config, "logtailer");

    let line = "[2023-02-14 12:25:19.268085] ERROR [CLOG] update_free_quota (ob_log_file_pool.cpp:413) [89143][3714][Y0-0] [lt=539] [dc=0] clog disk is almost full(type_=1, used_percent(%)=96) BACKTRACE:0x1\n";
    let mut f = std::fs::OpenOptions::new().append(true).open(logs.join("observer.log")).unwrap();
    let appended = Instant::now();
    f.write_all(line.as_bytes()).unwrap();
    let alert = wait_for("the alert in Alertmanager", Duration::from_secs(15), || {
        // A slow answer on a loaded machine is "not yet", not a failure.
        let text = get(&format!("http://127.0.0.1:{am_port}/api/v2/alerts")).unwrap_or_default();
        let alerts: Vec<Value> = serde_json::from_str(&text).unwrap_or_default();
        alerts.into_iter().find(|a| a["labels"]["alertname"] == "ObClogDiskAlmostFull")
    });
    eprintln!("append-to-Alertmanager latency: {:?}", appended.elapsed());
    assert_eq!(alert["labels"]["used_percent"], "96");
    assert_eq!(alert["labels"]["service"], "oceanbase");
    assert_eq!(alert["labels"]["severity"], "critical");
    assert!(!alert["labels"]["instance"].as_str().unwrap().is_empty());
    assert_eq!(alert["annotations"]["summary"], "clog disk 96% used");

    // The webhook got the same alert, as Alertmanager's v2 JSON array, at its own path.
    let (path, body) = hook_rx.recv_timeout(Duration::from_secs(15)).unwrap();
    assert_eq!(path, "/hook");
    let posted: Vec<Value> = serde_json::from_slice(&body).unwrap();
    assert_eq!(posted[0]["labels"]["alertname"], "ObClogDiskAlmostFull");
    assert_eq!(posted[0]["annotations"]["summary"], "clog disk 96% used");

    // The landing page says what this daemon watches and where it sends.
    let page = get(&format!("http://127.0.0.1:{port}/")).unwrap();
    assert!(page.contains("<h1>obwatch-logtailer ") && page.contains("<h2>Inputs</h2>"), "{page}");
    assert!(
        page.contains("<li class=\"mono\">observer: ") && page.contains("1 line(s) read"),
        "{page}"
    );
    assert!(page.contains("observer/ObClogDiskAlmostFull: 1 match(es)"), "{page}");
    assert!(page.contains("post(s) delivered, 0 failed, 0 waiting"), "{page}");
    assert!(page.contains("<a href=\"/metrics\">"), "{page}");

    let metrics = get(&format!("http://127.0.0.1:{port}/metrics")).unwrap();
    for want in [
        "obwatch_logtailer_lines_total{input=\"observer\"} 1\n",
        "obwatch_logtailer_rule_matches_total{alertname=\"ObClogDiskAlmostFull\",group=\"observer\"} 1\n",
        "obwatch_logtailer_alerts_firing 1\n",
    ] {
        assert!(metrics.contains(want), "{want} not in:\n{metrics}");
    }
    // Counted once Alertmanager's answer is read, which may come after the alert shows there.
    wait_metric(
        port,
        &format!(
            "obwatch_logtailer_alert_posts_sent_total{{url=\"http://127.0.0.1:{am_port}\"}} 1"
        ),
    );

    // Valid exposition format, and nothing for promtool's linter to say.
    let lint = obwatch_testkit::promtool_lint(&metrics);
    assert!(lint.is_empty(), "{lint:?}");

    // SIGTERM: a clean exit with code 0.
    Command::new("kill").arg("-TERM").arg(lt.0.id().to_string()).status().unwrap();
    let status =
        wait_for("an exit after SIGTERM", Duration::from_secs(15), || lt.0.try_wait().unwrap());
    assert_eq!(status.code(), Some(0));
}

#[test]
fn bad_configs_and_bad_rules_exit_2_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.yml");
    let run = |text: &str| {
        std::fs::write(&config, text).unwrap();
        let out = logtailer(&config).output().unwrap();
        (out.status.code(), String::from_utf8(out.stderr).unwrap())
    };
    let (code, err) = run(
        "state_dir: s\ninputs: [{ name: a, paths: [\"/x/*.log\"] }]\nrule_files: [r.yaml]\nalertmanager: { urls: [\"http://127.0.0.1:9\"] }\nbogus: 1\n",
    );
    assert_eq!(code, Some(2));
    assert!(err.contains("c.yml:5:1: unknown field `bogus`"), "{err}");
    let (code, err) = run(
        "state_dir: s\ninputs: [{ name: a, paths: [\"x/*.log\"] }]\nrule_files: [r.yaml]\nalertmanager: { urls: [\"http://127.0.0.1:9\"] }\n",
    );
    assert_eq!(code, Some(2));
    assert!(err.contains("field `inputs[0].paths[0]`: expected an absolute path"), "{err}");
    let (code, err) = run(
        "state_dir: s\ninputs: [{ name: a, paths: [\"/x/*.log\"] }]\nrule_files: [r.yaml]\nalertmanager: { urls: [\"127.0.0.1:9093\"] }\n",
    );
    assert_eq!(code, Some(2));
    assert!(err.contains("field `alertmanager.urls[0]`"), "{err}");
    let (code, err) = run(
        "state_dir: s\ninputs: [{ name: a, paths: [\"/x/*.log\"] }]\nrule_files: [r.yaml]\nalertmanager: { urls: [\"http://127.0.0.1:9\"] }\nmax_line_bytes: 100B\n",
    );
    assert_eq!(code, Some(2));
    assert!(err.contains("field `max_line_bytes`: expected at least 256B, got 100B"), "{err}");
    // inputs[].multiline: a bad start regex, max_lines 0, an unknown key.
    for (multiline, want) in [
        ("{ start: '[' }", "field `inputs[0].multiline.start`: regex parse error"),
        ("{ start: x, max_lines: 0 }", "field `inputs[0].multiline.max_lines`: expected 1 or more"),
        ("{ begin: x }", "unknown field `begin`"),
    ] {
        let (code, err) = run(&format!(
            "state_dir: s\ninputs: [{{ name: a, paths: [\"/x/*.log\"], multiline: {multiline} }}]\nrule_files: [r.yaml]\nalertmanager: {{ urls: [\"http://127.0.0.1:9\"] }}\n"
        ));
        assert_eq!(code, Some(2), "{multiline}");
        assert!(err.contains(want), "{multiline}: {err}");
    }
    // The tls section: unknown keys, and files named with their field.
    let tls = |section: &str| {
        run(&format!(
            "state_dir: s\ninputs: [{{ name: a, paths: [\"/x/*.log\"] }}]\nrule_files: [r.yaml]\nalertmanager: {{ urls: [\"https://127.0.0.1:9\"], tls: {{ {section} }} }}\n"
        ))
    };
    let (code, err) = tls("cafile: x");
    assert_eq!(code, Some(2));
    assert!(err.contains("unknown field `cafile`"), "{err}");
    // Inline PEM is checked as a file's is, and named as the inline field.
    let (code, err) = tls("ca: x");
    assert_eq!(code, Some(2));
    assert!(
        err.contains("field `alertmanager.tls.ca`: inline PEM: expected at least one"),
        "{err}"
    );
    let (code, err) = tls("min_version: TLS11");
    assert_eq!(code, Some(2));
    assert!(err.contains("field `alertmanager.tls.min_version`: expected TLS12 or TLS13"), "{err}");
    let (code, err) = run(
        "state_dir: s\ninputs: [{ name: a, paths: [\"/x/*.log\"] }]\nrule_files: [r.yaml]\nalertmanager: { urls: [\"https://127.0.0.1:9\"], tls: { ca_file: nope.pem } }\n",
    );
    assert_eq!(code, Some(2));
    assert!(err.contains("field `alertmanager.tls.ca_file`: cannot read"), "{err}");
    assert!(err.contains("nope.pem"), "{err}");
    // Rules that do not check: the daemon does not start.
    let bad = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/bad.yaml");
    let (code, err) = run(&format!(
        "state_dir: s\ninputs: [{{ name: a, paths: [\"/x/*.log\"] }}]\nrule_files: [\"{}\"]\nalertmanager: {{ urls: [\"http://127.0.0.1:9\"] }}\n",
        bad.display()
    ));
    assert_eq!(code, Some(2));
    assert!(err.contains("bad.yaml:11:19: group \"broken\" rule \"BadSeverity\""), "{err}");
    let (code, err) = run(
        "state_dir: s\ninputs: [{ name: a, paths: [\"/x/*.log\"] }]\nrule_files: [nothing-*.yaml]\nalertmanager: { urls: [\"http://127.0.0.1:9\"] }\n",
    );
    assert_eq!(code, Some(2));
    assert!(err.contains("matches no file"), "{err}");
}

/// Waits until Alertmanager has an alert for which `pred` holds.
fn wait_alert(am_port: u16, what: &str, pred: impl Fn(&Value) -> bool) {
    let mut alerts: Vec<Value> = Vec::new();
    let found = poll(Duration::from_secs(15), || {
        // A slow answer on a loaded machine is "not yet", not a failure.
        let text = get(&format!("http://127.0.0.1:{am_port}/api/v2/alerts")).unwrap_or_default();
        alerts = serde_json::from_str(&text).unwrap_or_default();
        alerts.iter().any(&pred).then_some(())
    });
    assert!(found.is_some(), "{what}: not in Alertmanager: {alerts:?}");
}

/// Waits until the logtailer's /metrics has `line`.
fn wait_metric(port: u16, line: &str) {
    let mut metrics = String::new();
    let found = poll(Duration::from_secs(15), || {
        metrics = get(&format!("http://127.0.0.1:{port}/metrics")).unwrap_or_default();
        metrics.lines().any(|l| l == line).then_some(())
    });
    assert!(found.is_some(), "{line} not in:\n{metrics}");
}

/// The value of the sample `series` (name and labels as exposed) in a scrape.
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// Waits until the sample `series` on the daemon at `port` is at least `min`; returns it.
fn wait_metric_at_least(port: u16, series: &str, min: f64) -> f64 {
    let mut metrics = String::new();
    let found = poll(Duration::from_secs(15), || {
        metrics = get(&format!("http://127.0.0.1:{port}/metrics")).unwrap_or_default();
        sample(&metrics, series).filter(|v| *v >= min)
    });
    found.unwrap_or_else(|| panic!("{series} not at {min}:\n{metrics}"))
}

fn append(path: &Path, line: &str) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    writeln!(f, "{line}").unwrap();
}

const RULES_A: &str = "groups:\n  - name: g\n    rules:\n      - alert: RuleA\n        match: 'AAA (?P<n>\\d+)'\n        severity: warning\n";

/// A one-request HTTP receiver: answers 200 and hands over the request's path and body.
fn webhook_receiver() -> (String, std::sync::mpsc::Receiver<(String, Vec<u8>)>) {
    use std::io::{BufRead, BufReader, Read};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut request_line = String::new();
        reader.read_line(&mut request_line).unwrap();
        let path = request_line.split_whitespace().nth(1).unwrap_or("").to_string();
        let mut length = 0;
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).unwrap();
            if header == "\r\n" {
                break;
            }
            if let Some(v) = header.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        (&stream).write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").unwrap();
        tx.send((path, body)).unwrap();
    });
    (addr, rx)
}

#[test]
fn an_input_multiline_groups_lines_for_groups_without_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let (_am, am_port) = alertmanager(dir.path());
    let (records, plain) = (dir.path().join("records.log"), dir.path().join("plain.log"));
    std::fs::write(&records, "").unwrap();
    std::fs::write(&plain, "").unwrap();
    // The group has no multiline: records come from the input's setting where there is one.
    std::fs::write(
        dir.path().join("rules.yaml"),
        "groups:\n  - name: g\n    rules:\n      - alert: TwoLines\n        match: 'FATAL[^\\n]*\\n\\s*code=(?P<code>\\d+)'\n        severity: critical\n",
    )
    .unwrap();
    let config = dir.path().join("logtailer.yml");
    std::fs::write(
        &config,
        format!(
            "state_dir: state\ninputs:\n  - name: records\n    paths: [\"{}\"]\n    multiline: {{ start: '^\\[\\d{{4}}-', max_lines: 50 }}\n  - name: plain\n    paths: [\"{}\"]\nrule_files: [rules.yaml]\nalertmanager: {{ urls: [\"http://127.0.0.1:{am_port}\"] }}\n",
            records.display(),
            plain.display()
        ),
    )
    .unwrap();
    let (_lt, port) = start_quiet(&config, "logtailer");
    // Without multiline, the two lines are two records: no match.
    let two = |code| {
        format!(
            "[2024-01-01 00:00:00.1] FATAL crash\n  code={code}\n[2024-01-01 00:00:00.2] INFO next"
        )
    };
    append(&plain, &two(43));
    wait_metric(port, "obwatch_logtailer_lines_total{input=\"plain\"} 3");
    // With the input's multiline they are one record (ended by the next start line).
    append(&records, &two(42));
    wait_alert(am_port, "TwoLines code=42", |a| a["labels"]["code"] == "42");
    let metrics = get(&format!("http://127.0.0.1:{port}/metrics")).unwrap();
    let want = "obwatch_logtailer_rule_matches_total{alertname=\"TwoLines\",group=\"g\"} 1";
    assert!(metrics.lines().any(|l| l == want), "{want} not in:\n{metrics}");
}

#[test]
fn an_input_matching_no_file_is_said_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    std::fs::write(&log, "").unwrap();
    std::fs::write(dir.path().join("rules.yaml"), RULES_A).unwrap();
    let config = dir.path().join("logtailer.yml");
    // A typo in the second input's directory.
    std::fs::write(
        &config,
        format!(
            "state_dir: state\ninputs:\n  - {{ name: app, paths: [\"{}\"] }}\n  - {{ name: typo, paths: [\"{}/lgo/*.log\"] }}\nrule_files: [rules.yaml]\nalertmanager: {{ urls: [\"http://127.0.0.1:9\"] }}\n",
            log.display(),
            dir.path().display()
        ),
    )
    .unwrap();
    let stderr = dir.path().join("stderr.log");
    let (_lt, port) = start_logged(&config, &stderr, "logtailer");
    wait_metric(port, "obwatch_logtailer_input_files{input=\"typo\"} 0");
    wait_metric(port, "obwatch_logtailer_input_files{input=\"app\"} 1");
    let text = std::fs::read_to_string(&stderr).unwrap();
    assert!(text.contains("msg=\"Input matches no file (check its paths).\" input=typo"), "{text}");
    assert!(text.contains("files=1 inputs=app:1,typo:0"), "{text}");
}

/// The HTTP surface every daemon shares (`common::http::standard_response`): health and
/// readiness, the metrics content type, 404 for other paths and 405 for other methods.
#[test]
fn health_ready_unknown_paths_and_methods() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    std::fs::write(&log, "").unwrap();
    std::fs::write(dir.path().join("rules.yaml"), RULES_A).unwrap();
    let config = app_config(dir.path(), &[&log], "http://127.0.0.1:9", "");
    let (_lt, port) = start_quiet(&config, "logtailer");
    let status = |args: &[&str], path: &str| -> String {
        let out = Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code} %{content_type}"])
            .args(args)
            .arg(format!("http://127.0.0.1:{port}{path}"))
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(status(&[], "/-/healthy"), "200 text/plain; charset=utf-8");
    assert_eq!(status(&[], "/-/ready"), "200 text/plain; charset=utf-8");
    assert_eq!(status(&[], "/metrics"), "200 text/plain; version=0.0.4; charset=utf-8");
    assert_eq!(status(&[], "/nope"), "404 text/plain; charset=utf-8");
    assert_eq!(status(&["-X", "POST"], "/metrics"), "405 text/plain; charset=utf-8");
}
