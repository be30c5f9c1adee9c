//! `obwatch-logtailer run` end to end: the real binary with a ten-line config, a log
//! directory and a real Alertmanager. A line appended to the log becomes an alert in
//! Alertmanager; the daemon's metrics count it; SIGTERM stops it with exit code 0; bad
//! configs and bad rules exit 2 naming what is wrong.
#![allow(clippy::disallowed_methods, clippy::unwrap_used, clippy::print_stderr)]

use std::io::Write;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use obwatch_testkit::net::{poll, wait_for};
use obwatch_testkit::tmpfs::Tmpfs;
use serde_json::Value;

mod util;
use util::*;

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

    // Valid exposition format.
    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    promtool.stdin.take().unwrap().write_all(metrics.as_bytes()).unwrap();
    let checked = promtool.wait_with_output().unwrap();
    assert!(checked.status.success(), "{}", String::from_utf8_lossy(&checked.stderr));

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

#[test]
fn rules_reload_on_change_and_sighup_and_bad_rules_keep_the_old_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (_am, am_port) = alertmanager(dir.path());
    let log = dir.path().join("app.log");
    std::fs::write(&log, "").unwrap();
    let rules = dir.path().join("rules.yaml");
    std::fs::write(&rules, RULES_A).unwrap();
    let config = dir.path().join("logtailer.yml");
    std::fs::write(
        &config,
        format!(
            "state_dir: state\ninputs: [{{ name: app, paths: [\"{}\"] }}]\nrule_files: [rules.yaml]\nalertmanager: {{ urls: [\"http://127.0.0.1:{am_port}\"] }}\n",
            log.display()
        ),
    )
    .unwrap();
    let (mut lt, port) = start_quiet(&config, "logtailer");
    append(&log, "AAA 1");
    wait_alert(am_port, "RuleA n=1", |a| {
        a["labels"]["alertname"] == "RuleA" && a["labels"]["n"] == "1"
    });

    // A broken edit is refused; the running rules keep working.
    std::fs::write(&rules, RULES_A.replace("AAA (?P<n>\\d+)", "AAA (?P<n>\\d+")).unwrap();
    wait_metric(port, "obwatch_logtailer_config_last_reload_successful 0");
    append(&log, "AAA 2");
    wait_alert(am_port, "RuleA n=2 after a bad edit", |a| a["labels"]["n"] == "2");

    // A good rule set, loaded on SIGHUP (and by the change poll, whichever comes first).
    let rules_b = format!(
        "{RULES_A}      - alert: RuleB\n        match: 'BBB'\n        severity: critical\n"
    );
    std::fs::write(&rules, rules_b).unwrap();
    Command::new("kill").arg("-HUP").arg(lt.0.id().to_string()).status().unwrap();
    wait_metric(port, "obwatch_logtailer_config_last_reload_successful 1");
    append(&log, "BBB");
    wait_alert(am_port, "RuleB after the reload", |a| a["labels"]["alertname"] == "RuleB");
    assert!(lt.0.try_wait().unwrap().is_none(), "SIGHUP must not stop the daemon");
}

#[test]
fn corrupt_state_garbage_huge_lines_and_a_vanished_log_dir_lose_no_alert() {
    let dir = tempfile::tempdir().unwrap();
    let (_am, am_port) = alertmanager(dir.path());
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let log = logs.join("app.log");
    std::fs::write(&log, "").unwrap();
    std::fs::write(dir.path().join("rules.yaml"), RULES_A).unwrap();
    // A state file that is not JSON: warn, start as on a first start.
    std::fs::create_dir(dir.path().join("state")).unwrap();
    std::fs::write(dir.path().join("state/checkpoints.json"), b"\x00{not json").unwrap();
    let config = dir.path().join("logtailer.yml");
    std::fs::write(
        &config,
        format!(
            "state_dir: state\ninputs: [{{ name: app, paths: [\"{}/*.log\"] }}]\nrule_files: [rules.yaml]\nalertmanager: {{ urls: [\"http://127.0.0.1:{am_port}\"] }}\nmax_line_bytes: 1MiB\n",
            logs.display()
        ),
    )
    .unwrap();
    let (mut lt, port) = start_quiet(&config, "logtailer");

    // Binary garbage and a 10 MB line, then a matching line: the line is cut and counted,
    // the alert still comes.
    let mut garbage: Vec<u8> =
        (0..10u32 << 20).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    garbage.retain(|&b| b != b'\n');
    garbage.push(b'\n');
    std::fs::OpenOptions::new().append(true).open(&log).unwrap().write_all(&garbage).unwrap();
    append(&log, "AAA 1");
    wait_alert(am_port, "after garbage", |a| a["labels"]["n"] == "1");
    wait_metric(port, "obwatch_logtailer_lines_cut_total 1");

    // The log directory vanishes (its inotify watch with it) and comes back with a new file:
    // found by the periodic rescan.
    std::fs::remove_dir_all(&logs).unwrap();
    std::fs::create_dir(&logs).unwrap();
    std::fs::write(&log, "AAA 2\n").unwrap();
    wait_alert(am_port, "after the directory came back", |a| a["labels"]["n"] == "2");
    assert!(lt.0.try_wait().unwrap().is_none(), "the daemon must survive all of it");
}

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
fn sigkill_at_any_moment_loses_no_alert() {
    let dir = tempfile::tempdir().unwrap();
    let (_am, am_port) = alertmanager(dir.path());
    let log = dir.path().join("app.log");
    std::fs::write(&log, "").unwrap();
    std::fs::write(dir.path().join("rules.yaml"), RULES_A).unwrap();
    let config = dir.path().join("logtailer.yml");
    std::fs::write(
        &config,
        format!(
            "state_dir: state\ninputs: [{{ name: app, paths: [\"{}\"] }}]\nrule_files: [rules.yaml]\nalertmanager: {{ urls: [\"http://127.0.0.1:{am_port}\"] }}\n",
            log.display()
        ),
    )
    .unwrap();
    // Each round appends a matching line and kills the daemon a little later each time:
    // before it read the line, while matching, after queueing, after posting. Whatever the
    // moment, the restarted daemon delivers the alert (from the uncommitted line or from
    // the outbox).
    for (n, delay_ms) in [0u64, 1, 3, 10, 30, 100].into_iter().enumerate() {
        let (mut lt, _) = start_quiet(&config, "logtailer");
        append(&log, &format!("AAA {n}"));
        std::thread::sleep(Duration::from_millis(delay_ms)); // the moment of the kill, not a wait
        lt.0.kill().unwrap();
        lt.0.wait().unwrap();
        let (_again, _) = start_quiet(&config, "logtailer after SIGKILL");
        let want = n.to_string();
        wait_alert(am_port, &format!("round {n} (kill after {delay_ms} ms)"), |a| {
            a["labels"]["n"] == want.as_str()
        });
    }
}

#[test]
fn https_alertmanager_a_wrong_ca_is_logged_and_counted_then_the_right_one_delivers() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    std::fs::create_dir(&pki).unwrap();
    make_pki(&pki);
    let (_am, am_port) = spawn_alertmanager_tls(dir.path(), &pki);
    let log = dir.path().join("app.log");
    std::fs::write(&log, "").unwrap();
    std::fs::write(dir.path().join("rules.yaml"), RULES_A).unwrap();
    let config = dir.path().join("logtailer.yml");
    let url = format!("https://127.0.0.1:{am_port}");
    // Paths in `tls` are relative to the config file.
    let write_config = |ca: &str| {
        std::fs::write(
            &config,
            format!(
                "state_dir: state\ninputs: [{{ name: app, paths: [\"{}\"] }}]\nrule_files: [rules.yaml]\nalertmanager:\n  urls: [\"{url}\"]\n  tls: {{ ca_file: pki/{ca}, cert_file: pki/client.pem, key_file: pki/client.key }}\n",
                log.display()
            ),
        )
        .unwrap();
    };

    // A CA that did not sign Alertmanager's certificate: every post fails, is counted, and
    // logged with the reason; the daemon keeps running and the alert waits in the outbox.
    write_config("other-ca.pem");
    let stderr = dir.path().join("lt.log");
    let (mut lt, port) = start_logged(&config, &stderr, "logtailer");
    append(&log, "AAA 7");
    wait_metric(port, &format!("obwatch_logtailer_outbox_entries{{url=\"{url}\"}} 1"));
    // Retried, not given up.
    wait_metric_at_least(
        port,
        &format!("obwatch_logtailer_alert_posts_failed_total{{url=\"{url}\"}}"),
        2.0,
    );
    assert!(lt.0.try_wait().unwrap().is_none(), "a TLS failure must not stop the daemon");
    let logged = std::fs::read_to_string(&stderr).unwrap();
    assert!(logged.contains("invalid peer certificate: UnknownIssuer"), "{logged}");
    assert_eq!(logged.matches("Alertmanager post failed").count(), 1, "logged once: {logged}");
    drop(lt);

    // The right CA: the alert queued during the failures arrives.
    write_config("ca.pem");
    let (_lt, port) = start_quiet(&config, "logtailer");
    let mut alerts: Vec<Value> = Vec::new();
    let delivered = poll(Duration::from_secs(15), || {
        let text = get_with(&format!("{url}/api/v2/alerts"), &tls_curl_args(&pki)).unwrap();
        alerts = serde_json::from_str(&text).unwrap();
        alerts
            .iter()
            .any(|a| a["labels"]["alertname"] == "RuleA" && a["labels"]["n"] == "7")
            .then_some(())
    });
    assert!(delivered.is_some(), "alert not delivered over https: {alerts:?}");
    wait_metric(port, &format!("obwatch_logtailer_outbox_entries{{url=\"{url}\"}} 0"));
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
fn sighup_reloads_the_web_config_and_a_bad_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    std::fs::create_dir(&pki).unwrap();
    make_pki(&pki);
    let log = dir.path().join("app.log");
    std::fs::write(&log, "").unwrap();
    std::fs::write(dir.path().join("rules.yaml"), RULES_A).unwrap();
    let config = dir.path().join("logtailer.yml");
    std::fs::write(
        &config,
        format!(
            "state_dir: state\ninputs: [{{ name: app, paths: [\"{}\"] }}]\nrule_files: [rules.yaml]\nalertmanager: {{ urls: [\"http://127.0.0.1:{}\"] }}\n",
            log.display(),
            free_port()
        ),
    )
    .unwrap();
    let web = dir.path().join("web.yml");
    let tls = format!(
        "tls_server_config: {{ cert_file: {0}/server.pem, key_file: {0}/server.key }}\n",
        pki.display()
    );
    std::fs::write(&web, &tls).unwrap();
    let stderr = dir.path().join("lt.log");
    let (mut lt, port) =
        start_with(&config, &stderr, &[format!("--web.config.file={}", web.display())]);
    let https = format!("https://127.0.0.1:{port}/metrics");
    let plain = format!("http://127.0.0.1:{port}/metrics");
    let ca = ["--cacert".to_string(), pki.join("ca.pem").display().to_string()];
    let metric = |body: &str| -> Option<String> {
        body.lines()
            .find_map(|l| l.strip_prefix("obwatch_logtailer_web_config_last_reload_successful "))
            .map(str::to_string)
    };
    // Waits until `url` answers with the reload gauge at `want`.
    let wait = |url: &str, args: &[String], want: &str| {
        let what = format!("{url} to answer with reload gauge {want}");
        wait_for(&what, Duration::from_secs(15), || {
            get_with(url, args).filter(|body| metric(body).as_deref() == Some(want))
        });
    };
    let hup = |lt: &Killed| {
        Command::new("kill").arg("-HUP").arg(lt.0.id().to_string()).status().unwrap();
    };
    wait(&https, &ca, "1");
    assert!(get(&plain).is_none(), "plain http while TLS is configured");

    // A web config that does not load: refused and logged, TLS stays.
    std::fs::write(&web, tls.replace("server.pem", "missing.pem")).unwrap();
    hup(&lt);
    wait(&https, &ca, "0");
    let logged = std::fs::read_to_string(&stderr).unwrap();
    assert!(logged.contains("Web config reload refused"), "{logged}");
    assert!(logged.contains("missing.pem"), "{logged}");
    assert!(get(&plain).is_none());

    // A good one (no TLS): new connections are plain http.
    std::fs::write(&web, "").unwrap();
    hup(&lt);
    wait(&plain, &[], "1");
    assert!(get_with(&https, &ca).is_none(), "https after TLS was turned off");
    // And back to TLS.
    std::fs::write(&web, &tls).unwrap();
    hup(&lt);
    wait(&https, &ca, "1");
    assert!(lt.0.try_wait().unwrap().is_none(), "SIGHUP must not stop the daemon");
}

/// The committed offset of `log` in the daemon's checkpoint file.
fn committed(state_dir: &Path, log: &Path) -> u64 {
    let text = std::fs::read_to_string(state_dir.join("checkpoints.json")).unwrap();
    let state: Value = serde_json::from_str(&text).unwrap();
    let file =
        state["files"].as_array().unwrap().iter().find(|f| f["path"] == log.to_str().unwrap());
    file.map_or(0, |f| f["offset"].as_u64().unwrap())
}

#[test]
fn a_full_outbox_disk_is_logged_and_counted_holds_the_checkpoint_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (_am, am_port) = alertmanager(dir.path());
    let log = dir.path().join("app.log");
    std::fs::write(&log, "").unwrap();
    std::fs::write(dir.path().join("rules.yaml"), RULES_A).unwrap();
    let state = dir.path().join("state");
    let outbox = state.join("outbox");
    std::fs::create_dir_all(&outbox).unwrap();
    // Declared after `dir` and before the daemon: the daemon dies first, then the unmount,
    // then the temp dir goes.
    let Some(_tmpfs) = Tmpfs::mount(&outbox, "256k") else { return };
    let config = dir.path().join("logtailer.yml");
    let url = format!("http://127.0.0.1:{am_port}");
    std::fs::write(
        &config,
        format!(
            "state_dir: state\ninputs: [{{ name: app, paths: [\"{}\"] }}]\nrule_files: [rules.yaml]\nalertmanager: {{ urls: [\"{url}\"] }}\n",
            log.display()
        ),
    )
    .unwrap();
    let stderr = dir.path().join("lt.log");
    let (mut lt, port) = start_logged(&config, &stderr, "logtailer");
    let lag = |n: u64| format!("obwatch_logtailer_lag_bytes{{path=\"{}\"}} {n}", log.display());

    // The outbox on the tmpfs works: an alert goes through and everything is committed.
    append(&log, "AAA 0");
    wait_alert(am_port, "AAA 0", |a| a["labels"]["n"] == "0");
    wait_metric(port, &lag(0));
    let before = std::fs::metadata(&log).unwrap().len();
    assert_eq!(committed(&state, &log), before);
    // Its outbox entry is gone (acknowledged) before the disk fills, so no page frees up later.
    wait_metric(port, &format!("obwatch_logtailer_outbox_entries{{url=\"{url}\"}} 0"));

    // Fill the tmpfs.
    let filler = outbox.join("filler");
    let mut f = std::fs::File::create(&filler).unwrap();
    let chunk = vec![b'x'; 4096];
    let full = loop {
        if let Err(e) = f.write_all(&chunk) {
            break e;
        }
    };
    drop(f);
    assert_eq!(full.raw_os_error(), Some(28), "expected ENOSPC, got {full}");

    // Matching lines while the outbox cannot take their alerts.
    for n in 1..=5 {
        append(&log, &format!("AAA {n}"));
        append(&log, "noise");
    }
    let end = std::fs::metadata(&log).unwrap().len();
    // Counted, and retried.
    wait_metric_at_least(
        port,
        &format!("obwatch_logtailer_outbox_write_failures_total{{url=\"{url}\"}}"),
        3.0,
    );
    assert!(lt.0.try_wait().unwrap().is_none(), "a full disk must not stop the daemon");
    let logged = std::fs::read_to_string(&stderr).unwrap();
    assert!(logged.contains("No space left on device"), "{logged}");
    assert_eq!(
        logged.matches("Cannot queue alerts in the outbox").count(),
        1,
        "logged once per outage: {logged}"
    );
    // Nothing past the lines whose alerts are not queued is committed.
    assert_eq!(committed(&state, &log), before, "checkpoint moved while the outbox was full");
    wait_metric(port, &lag(end - before));
    let text = get(&format!("{url}/api/v2/alerts")).unwrap();
    let alerts: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert!(!alerts.iter().any(|a| a["labels"]["n"] == "1"), "{alerts:?}");

    // Space again: every alert arrives and the checkpoint reaches the end.
    std::fs::remove_file(&filler).unwrap();
    for n in 1..=5 {
        let want = n.to_string();
        wait_alert(am_port, &format!("AAA {n} after space came back"), |a| {
            a["labels"]["n"] == want.as_str()
        });
    }
    wait_metric(port, &lag(0));
    assert_eq!(committed(&state, &log), end);
    let logged = std::fs::read_to_string(&stderr).unwrap();
    assert!(logged.contains("The outbox takes alerts again"), "{logged}");
}

#[test]
fn a_multiline_record_carried_across_a_copytruncate_and_a_crash_loses_no_line() {
    let dir = tempfile::tempdir().unwrap();
    let (_am, am_port) = alertmanager(dir.path());
    let (log, other) = (dir.path().join("app.log"), dir.path().join("other.log"));
    std::fs::write(&log, "").unwrap();
    std::fs::write(&other, "").unwrap();
    // One rule per line of the record, so each line read shows as an alert; records start at
    // `[` lines.
    std::fs::write(
        dir.path().join("rules.yaml"),
        "groups:\n  - name: g\n    multiline: { start: '^\\[' }\n    rules:\n      - alert: Start\n        match: 'FATAL (?P<n>\\d+)'\n        severity: critical\n      - alert: Code\n        match: 'code=(?P<code>\\d+)'\n        severity: critical\n",
    )
    .unwrap();
    let config = dir.path().join("logtailer.yml");
    std::fs::write(
        &config,
        format!(
            "state_dir: state\ninputs: [{{ name: app, paths: [\"{}\", \"{}\"] }}]\nrule_files: [rules.yaml]\nalertmanager: {{ urls: [\"http://127.0.0.1:{am_port}\"] }}\n",
            log.display(),
            other.display()
        ),
    )
    .unwrap();
    let (mut lt, port) = start_quiet(&config, "logtailer");
    // A record starts and is held: its end has not come yet.
    append(&log, "[t1] FATAL 1");
    wait_metric(port, "obwatch_logtailer_lines_total{input=\"app\"} 1");
    // copytruncate in the middle of the record; its next line goes to the new content.
    std::fs::copy(&log, dir.path().join("app.log.1")).unwrap();
    std::fs::OpenOptions::new().write(true).open(&log).unwrap().set_len(0).unwrap();
    wait_metric(port, "obwatch_logtailer_truncations_total 1");
    append(&log, "  code=7");
    wait_metric(port, "obwatch_logtailer_lines_total{input=\"app\"} 2");
    // Two more full scans (1 s apart): the last one started well after the copy was made, so
    // the checkpoint the next line writes says the copy is older than the last scan, and a
    // restart does not take it for a file rotated while down.
    let before = wait_metric_at_least(port, "obwatch_logtailer_scans_total", 0.0);
    wait_metric_at_least(port, "obwatch_logtailer_scans_total", before + 2.0);
    append(&other, "noise");
    wait_metric(port, "obwatch_logtailer_lines_total{input=\"app\"} 3");
    // Crash before the record ended (nothing of it was evaluated).
    lt.0.kill().unwrap();
    lt.0.wait().unwrap();
    let (_again, port) = start_quiet(&config, "logtailer after SIGKILL");
    // Every line of the record is read again and alerts (the record's start from the copy).
    wait_alert(am_port, "the record's first line", |a| a["labels"]["n"] == "1");
    wait_alert(am_port, "the record's line after the truncation", |a| a["labels"]["code"] == "7");
    // Duplicates: lines read again after the crash (the two record lines, in the copy and in
    // the file), counted by the restarted daemon.
    let metrics = get(&format!("http://127.0.0.1:{port}/metrics")).unwrap();
    let reread = sample(&metrics, "obwatch_logtailer_lines_total{input=\"app\"}").unwrap_or(0.0);
    eprintln!("lines read again after the crash: {reread}");
    assert!((2.0..=3.0).contains(&reread), "re-read {reread} lines:\n{metrics}");
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
    let config = dir.path().join("logtailer.yml");
    std::fs::write(
        &config,
        format!(
            "state_dir: state\ninputs: [{{ name: app, paths: [\"{}\"] }}]\nrule_files: [rules.yaml]\nalertmanager: {{ urls: [\"http://127.0.0.1:9\"] }}\n",
            log.display()
        ),
    )
    .unwrap();
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
