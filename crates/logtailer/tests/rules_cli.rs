//! `check`, `test` and `scan` as users run them: the real binary on the rule files and logs
//! in `tests/data`, asserting exit codes and exact output.
#![allow(clippy::disallowed_methods, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn data(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name);
    p.to_string_lossy().into_owned()
}

fn run(args: &[&str]) -> (i32, String, String) {
    let Output { status, stdout, stderr } =
        Command::new(env!("CARGO_BIN_EXE_obwatch-logtailer")).args(args).output().unwrap();
    (status.code().unwrap(), String::from_utf8(stdout).unwrap(), String::from_utf8(stderr).unwrap())
}

#[test]
fn severity_may_be_given_the_prometheus_way() {
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, rule: &str| {
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            format!("groups:\n  - name: g\n    rules:\n      - alert: Boom\n        match: 'boom'\n{rule}tests:\n  - input: ['boom']\n    expect: [{{ alert: Boom, labels: {{ severity: warning, team: dba }} }}]\n"),
        )
        .unwrap();
        path.to_str().unwrap().to_string()
    };
    let labels = file("labels.yaml", "        labels: { severity: warning, team: dba }\n");
    let (code, out, err) = run(&["test", &labels]);
    assert_eq!(code, 0, "{out}{err}");
    let both = file(
        "both.yaml",
        "        severity: warning\n        labels: { severity: warning, team: dba }\n",
    );
    assert_eq!(run(&["test", &both]).0, 0, "the same severity twice is fine");
    let clash = file(
        "clash.yaml",
        "        severity: critical\n        labels: { severity: warning, team: dba }\n",
    );
    let (code, _, err) = run(&["check", &clash]);
    assert_eq!(code, 2);
    assert!(
        err.contains(
            "field `labels.severity`: \"warning\" disagrees with `severity: critical`; give it once"
        ),
        "{err}"
    );
    let none = file("none.yaml", "        labels: { team: dba }\n");
    let (code, _, err) = run(&["check", &none]);
    assert_eq!(code, 2);
    assert!(
        err.contains(
            "missing `severity` (critical, warning or info; or `labels: { severity: ... }`)"
        ),
        "{err}"
    );
    let bad = file("bad.yaml", "        labels: { severity: page, team: dba }\n");
    let (_, _, err) = run(&["check", &bad]);
    assert!(
        err.contains("field `labels.severity`: expected critical, warning or info, got \"page\""),
        "{err}"
    );
}

#[test]
fn named_tests_run_filtered_and_report_junit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.yaml");
    std::fs::write(
        &path,
        "groups:\n  - name: g\n    rules:\n      - alert: Disk\n        match: 'disk <full>'\n        severity: critical\ntests:\n  - name: disk full\n    input: ['disk <full> & more']\n    expect: [{ alert: Disk }]\n  - name: a failing one\n    input: ['nothing']\n    expect: [{ alert: Disk }]\n",
    )
    .unwrap();
    let p = path.to_str().unwrap();
    let (code, out, _) = run(&["test", "--run", "disk full", p]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&format!("PASS {p}:9: test 1 (disk full)\n")), "{out}");
    assert!(!out.contains("coverage:"), "coverage is for whole runs: {out}");
    assert!(out.ends_with("1 test(s), 0 failed\n"), "{out}");
    let junit = dir.path().join("junit.xml");
    let (code, _, _) = run(&["test", "--junit", junit.to_str().unwrap(), p]);
    assert_eq!(code, 1);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("<testsuites name=\"obwatch-logtailer test\" tests=\"2\" failures=\"1\">"),
        "{xml}"
    );
    assert!(
        xml.contains(&format!("<testcase name=\"{p}:9: test 1 (disk full)\" classname=\"{p}\"/>")),
        "{xml}"
    );
    assert!(xml.contains("<failure message=\"expected Disk{} to fire; fired: none\">"), "{xml}");
    let (code, _, err) = run(&["test", "--run", "(", p]);
    assert_eq!(code, 2);
    assert!(err.contains("--run: not a regex"), "{err}");
}

#[test]
fn check_validates_a_run_config_with_its_rules() {
    let dir = tempfile::tempdir().unwrap();
    let rules = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../rules");
    let cfg = dir.path().join("logtailer.yml");
    let write = |am: &str| {
        std::fs::write(
            &cfg,
            format!(
                "state_dir: {}\ninputs: [{{ name: os, paths: [/var/log/messages] }}]\nrule_files: [\"{}/*.yaml\"]\nalertmanager: {{ urls: [\"{am}\"] }}\n",
                dir.path().join("state").display(),
                rules.display()
            ),
        )
        .unwrap();
    };
    write("http://127.0.0.1:9093");
    let c = cfg.to_str().unwrap();
    let (code, out, err) = run(&["check", "-c", c]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with(&format!("SUCCESS: {c}: 1 input(s), 4 rule file(s) with ")), "{out}");
    assert!(out.ends_with(" rule(s), 1 Alertmanager URL(s)\n"), "{out}");
    // A bad URL is named with the file and field, and nothing is started.
    write("ftp://am:9093");
    let (code, _, err) = run(&["check", "--config.file", c]);
    assert_eq!(code, 2);
    assert!(err.contains(c) && err.contains("alertmanager.urls"), "{err}");
    // Neither a config nor rule files: a usage error.
    assert_eq!(run(&["check"]).0, 2);
}

/// An https Alertmanager without `ca_file` uses the system store wherever the distribution
/// keeps it (RHEL's /etc/pki/tls/certs/ca-bundle.crt, not only Debian's path), and a host with
/// none says how to fix it. The store's location is given as OpenSSL takes it, SSL_CERT_FILE.
#[test]
fn https_alertmanager_uses_the_system_store_of_any_distribution() {
    let dir = tempfile::tempdir().unwrap();
    let rules = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../rules");
    let cfg = dir.path().join("logtailer.yml");
    std::fs::write(
        &cfg,
        format!(
            "state_dir: {}\ninputs: [{{ name: os, paths: [/var/log/messages] }}]\nrule_files: [\"{}/os.yaml\"]\nalertmanager: {{ urls: [\"https://am.example:9093\"] }}\n",
            dir.path().join("state").display(),
            rules.display()
        ),
    )
    .unwrap();
    let c = cfg.to_str().unwrap();
    let check = |cert_file: &Path| {
        Command::new(env!("CARGO_BIN_EXE_obwatch-logtailer"))
            .args(["check", "-c", c])
            .env("SSL_CERT_FILE", cert_file)
            .env_remove("SSL_CERT_DIR")
            .output()
            .unwrap()
    };
    // A RHEL layout: the bundle under /etc/pki.
    let rhel = dir.path().join("etc/pki/tls/certs/ca-bundle.crt");
    std::fs::create_dir_all(rhel.parent().unwrap()).unwrap();
    std::fs::copy("/etc/ssl/certs/ca-certificates.crt", &rhel).unwrap();
    let out = check(&rhel);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // No store at all: exit 2, the field, and the way out.
    let out = check(&dir.path().join("none.crt"));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("field `alertmanager.tls.ca_file`: not set, and the system CA store")
            && err.contains("install the CA certificates (ca-certificates) or set ca_file"),
        "{err}"
    );
}

#[test]
fn man_page_and_completions_need_no_subcommand() {
    let (code, man, err) = run(&["--help-man"]);
    assert_eq!(code, 0, "{err}");
    assert!(man.contains(".TH obwatch-logtailer 1") && man.contains("scan"), "{man}");
    let (code, script, _) = run(&["--completion-script-bash"]);
    assert_eq!(code, 0);
    assert!(script.contains("obwatch-logtailer") && script.contains("--coverage"), "{script}");
}

#[test]
fn check_accepts_good_rules() {
    let (code, out, err) = run(&["check", &data("good.yaml")]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "SUCCESS: 1 file(s), 2 group(s), 3 rule(s), 4 test(s)\n");
}

#[test]
fn check_reports_every_error_with_its_place() {
    let path = data("bad.yaml");
    let (code, out, err) = run(&["check", &path, &data("good.yaml")]);
    assert_eq!(code, 2);
    assert_eq!(out, "");
    let expected = [
        ("3:13", r#"group "broken" field `files`: bad glob "[oops""#),
        ("4:25", r#"group "broken" field `multiline.start`: bad regex"#),
        ("4:41", r#"group "broken" field `multiline.max_lines`: expected 1 or more"#),
        ("7:16", r#"rule "BadRegex" field `match`: bad regex"#),
        (
            "11:19",
            r#"rule "BadSeverity" field `severity`: expected critical, warning or info, got "fatal""#,
        ),
        ("15:20", r#"rule "BadWindow" field `for_count`: needs `within`"#),
        (
            "19:17",
            r#"rule "BadTemplate" field `within`: expected a duration like 30s, 10m, 1h30m, 8d or 1w (units ms, s, m, h, d, w, y, largest first), got "5x""#,
        ),
        (
            "17:16",
            r#"rule "BadTemplate" field `match`: capture group "code" is also a key of `labels`"#,
        ),
        (
            "20:38",
            r#"rule "BadTemplate" field `labels.__meta`: names starting with __ are reserved"#,
        ),
        (
            "21:33",
            r#"rule "BadTemplate" field `annotations.summary`: `{{ $labels.nodes }}`: no label "nodes""#,
        ),
        ("22:16", r#"rule "Bad-Name": field `alert`: expected a name of letters, digits and _"#),
        ("25:16", r#"rule "BadRegex": duplicate alert name in this group"#),
        ("28:11", r#"group "broken": duplicate group name"#),
        ("28:11", r#"group "broken": expected at least one rule"#),
    ];
    for (at, message) in expected {
        let want = format!("{path}:{at}: ");
        assert!(
            err.lines().any(|l| l.starts_with(&want) && l.contains(message)),
            "missing {want}{message} in:\n{err}"
        );
    }
    assert!(err.ends_with("14 error(s) in the rule files\n"), "{err}");
}

#[test]
fn check_names_unknown_keys_and_unreadable_files() {
    let path = data("unknown_key.yaml");
    let (code, _, err) = run(&["check", &path]);
    assert_eq!(code, 2);
    assert!(
        err.starts_with(&format!("{path}:7:9: unknown field `sevrity`, expected one of")),
        "{err}"
    );
    let (code, _, err) = run(&["check", "/nonexistent/rules.yaml"]);
    assert_eq!(code, 2);
    assert!(err.starts_with("/nonexistent/rules.yaml: cannot read: "), "{err}");
}

#[test]
fn test_passes_good_cases_and_explains_failing_ones() {
    let (code, out, err) = run(&["test", &data("good.yaml")]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out.matches("PASS ").count(), 4, "{out}");
    assert!(out.ends_with("4 test(s), 0 failed\n"));

    let path = data("failing_tests.yaml");
    let (code, out, _) = run(&["test", &path]);
    assert_eq!(code, 1);
    let want = format!(
        "FAIL {path}:8: test 1\n  \
         expected OraInternal{{arg=\"kcbgtcr_99\"}} to fire; fired: OraInternal{{arg=\"kcbgtcr_13\", severity=\"critical\"}}\n  \
         unexpected alert OraInternal{{arg=\"kcbgtcr_13\", severity=\"critical\"}}\n\
         FAIL {path}:10: test 2\n  \
         unexpected alert OraInternal{{arg=\"4194\", severity=\"critical\"}}\n\
         coverage: 1 of 1 rule(s) raised by a test line; 0 test line(s) raise nothing\n\
         2 test(s), 2 failed\n"
    );
    assert_eq!(out, want);
    // Bad rules are a configuration error even for `test`.
    assert_eq!(run(&["test", &data("bad.yaml")]).0, 2);
}

#[test]
fn test_reports_untested_rules_and_lists_quiet_lines_on_request() {
    // good.yaml: every rule is raised by some test line; one line is a near-miss.
    let (code, out, _) = run(&["test", &data("good.yaml")]);
    assert_eq!(code, 0);
    assert!(
        out.contains("\ncoverage: 3 of 3 rule(s) raised by a test line; 1 test line(s) raise nothing (--coverage lists them)\n"),
        "{out}"
    );
    let (_, out, _) = run(&["test", "--coverage", &data("good.yaml")]);
    let quiet: Vec<&str> = out.lines().filter(|l| l.starts_with("  raises nothing: ")).collect();
    assert_eq!(quiet.len(), 1, "{out}");
    assert!(
        quiet[0].contains(": test 2: ") && quiet[0].contains("fetch_rs_list_from_url"),
        "{out}"
    );
    // A rule no test raises is named, with its group and line; the summary stays last.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.yaml");
    std::fs::write(
        &path,
        "groups:\n  - name: g\n    rules:\n      - alert: Tested\n        match: 'boom'\n        severity: warning\n      - alert: Untested\n        match: 'bang'\n        severity: warning\ntests:\n  - input: ['a boom here']\n    expect: [{ alert: Tested }]\n",
    )
    .unwrap();
    let (code, out, _) = run(&["test", path.to_str().unwrap()]);
    assert_eq!(code, 0, "an untested rule is reported, not a failure");
    assert!(out.contains("coverage: 1 of 2 rule(s) raised by a test line; 0 test line(s) raise nothing\n  untested rule: group g, line 7: Untested\n1 test(s), 0 failed\n"), "{out}");
}

#[test]
fn scan_prints_each_match_as_json_with_its_first_line() {
    let (ob, crs) = (data("observer.log"), data("alertrac1.log"));
    let (code, out, err) =
        run(&["scan", "--rules", &data("good.yaml"), "--format", "json", &ob, &crs]);
    assert_eq!(code, 0, "{err}");
    let clog = |line, pct: &str| {
        format!(
            r#"{{"alertname":"ObClogDiskAlmostFull","severity":"critical","file":"{ob}","line":{line},"labels":{{"alertname":"ObClogDiskAlmostFull","service":"oceanbase","severity":"critical","used_percent":"{pct}"}}}}"#
        )
    };
    let burst = |line, module: &str| {
        format!(
            r#"{{"alertname":"ObErrorBurst","severity":"warning","file":"{ob}","line":{line},"labels":{{"alertname":"ObErrorBurst","module":"{module}","severity":"warning"}}}}"#
        )
    };
    let evicted = format!(
        r#"{{"alertname":"CrsNodeEvicted","severity":"critical","file":"{crs}","line":3,"labels":{{"alertname":"CrsNodeEvicted","node":"rac2","severity":"critical"}}}}"#
    );
    let want = [
        clog(2, "95"),
        burst(2, "CLOG"),
        burst(6, "STORAGE"),
        clog(7, "97"),
        burst(7, "CLOG"),
        evicted,
    ];
    assert_eq!(out.lines().collect::<Vec<_>>(), want);
}

#[test]
fn scan_text_shows_multiline_records_and_fails_on_unreadable_logs() {
    let crs = data("alertrac1.log");
    let (code, out, err) = run(&["scan", "--rules", &data("good.yaml"), &crs, "/nonexistent.log"]);
    assert_eq!(code, 1);
    assert_eq!(
        out,
        format!(
            "{crs}:3: CrsNodeEvicted critical {{node=\"rac2\"}} | 2011-03-04 10:06:37.123 ⏎ \
             [cssd(9822)]CRS-1607:Node rac2 is being evicted in cluster incarnation 472333840; details in ocssd.log.\n"
        )
    );
    assert!(err.contains("/nonexistent.log: cannot read: "), "{err}");
    let (code, _, err) = run(&["scan", &crs]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--rules"), "{err}");
}

/// The rule file example in docs/rules.md (the format of ARCHITECTURE.md) passes `check` and its
/// inline test: a user who copies it gets a working rule.
#[test]
fn the_documented_rule_example_passes_check_and_test() {
    let readme = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/rules.md"),
    )
    .unwrap();
    let start = readme.find("```yaml\ngroups:\n  - name: clusterware-10g").expect("the example");
    let body = &readme[start + "```yaml\n".len()..];
    let example = &body[..body.find("```").unwrap()];
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("example.yaml");
    std::fs::write(&file, example).unwrap();
    let (code, out, err) = run(&["check", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = run(&["test", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("PASS"), "{out}");
}

/// Runs the binary with stdout or stderr a pipe whose reader is already gone (`... | head -0`)
/// and returns its exit code (None: killed by a signal).
fn run_into_closed_pipe(args: &[String], close_stderr: bool) -> Option<i32> {
    use std::process::Stdio;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_obwatch-logtailer"));
    cmd.args(args).stdin(Stdio::null());
    if close_stderr {
        cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    } else {
        cmd.stdout(Stdio::piped()).stderr(Stdio::null());
    }
    let mut child = cmd.spawn().unwrap();
    drop(child.stdout.take());
    drop(child.stderr.take());
    child.wait().unwrap().code()
}

#[test]
fn a_closed_stdout_or_stderr_ends_quietly_with_the_documented_code() {
    // Far more than a pipe holds (64 KiB): 300 bad files, several error lines each, on stderr.
    let dir = tempfile::tempdir().unwrap();
    let bad = std::fs::read_to_string(data("bad.yaml")).unwrap();
    let mut args = vec!["check".to_string()];
    for i in 0..300 {
        let p = dir.path().join(format!("bad{i}.yaml"));
        std::fs::write(&p, &bad).unwrap();
        args.push(p.display().to_string());
    }
    // Was a panic in eprintln! (SIGABRT, 134, in release builds).
    assert_eq!(run_into_closed_pipe(&args, true), Some(2), "check | head with bad rules");

    // `scan ... | head`: 20,000 matches on stdout, the reader gone.
    let log = dir.path().join("observer.log");
    let line = std::fs::read_to_string(data("observer.log")).unwrap();
    std::fs::write(&log, line.repeat(20_000 / line.lines().count().max(1) + 1)).unwrap();
    let args: Vec<String> =
        ["scan", "--rules", &data("good.yaml"), log.to_str().unwrap()].map(String::from).into();
    assert_eq!(run_into_closed_pipe(&args, false), Some(0), "scan | head");
}

#[test]
fn scan_refuses_rule_files_as_logs_and_logs_no_group_reads() {
    // `--rules rules/*.yaml observer.log` after the shell: the second rule file lands in logs.
    let (code, out, err) =
        run(&["scan", "--rules", &data("good.yaml"), &data("bad.yaml"), &data("observer.log")]);
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(
        err.contains("bad.yaml is a rule file, not a log") && err.contains("--rules DIR"),
        "{err}"
    );

    // A file no group's `files` selects: exit 1, unless allowed (then skipped, still said).
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("unrelated.txt");
    std::fs::write(&other, "ORA-00600\n").unwrap();
    let (code, _, err) = run(&["scan", "--rules", &data("good.yaml"), other.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("unrelated.txt: no rule group reads this file"), "{err}");
    let (code, _, err) = run(&[
        "scan",
        "--rules",
        &data("good.yaml"),
        "--allow-unmatched",
        other.to_str().unwrap(),
        &data("observer.log"),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("skipped"), "{err}");
}

#[test]
fn scan_reads_compressed_rotated_logs_and_stdin_and_sums_up() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let plain = std::fs::read(data("observer.log")).unwrap();
    let (_, want, _) = run(&["scan", "--rules", &data("good.yaml"), &data("observer.log")]);
    assert!(!want.is_empty());
    // The cleaner's rotated name, gzip content.
    let gz = dir.path().join("observer.log.20261201120000.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&plain).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let (code, out, err) =
        run(&["scan", "--rules", &data("good.yaml"), "--stats", gz.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let strip =
        |s: &str| s.lines().map(|l| l.split_once(':').unwrap().1.to_string()).collect::<Vec<_>>();
    assert_eq!(strip(&out), strip(&want), "same matches as the plain file");
    let n = want.lines().count();
    assert!(
        err.contains(&format!(
            "scanned 1 file(s), {} lines",
            plain.iter().filter(|&&b| b == b'\n').count()
        )),
        "{err}"
    );
    assert!(err.contains(&format!(": {n} matches")), "{err}");
    assert!(err.contains("  ObClogDiskAlmostFull: "), "{err}");

    // `-`: standard input, read by every group.
    let mut child = Command::new(env!("CARGO_BIN_EXE_obwatch-logtailer"))
        .args(["scan", "--rules", &data("good.yaml"), "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&plain).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let out = String::from_utf8(out.stdout).unwrap();
    assert!(out.contains("-:2: ObClogDiskAlmostFull critical"), "{out}");
}

#[test]
fn every_flag_and_example_key_is_documented() {
    let flags = obwatch_testkit::docs::help_flags(
        env!("CARGO_BIN_EXE_obwatch-logtailer"),
        &["run", "check", "test", "scan"],
    );
    let keys = obwatch_testkit::docs::example_keys("packaging/examples/logtailer.yml");
    let missing = obwatch_testkit::docs::undocumented(&flags, &keys);
    assert!(missing.is_empty(), "not in docs/: {missing:?}");
}
