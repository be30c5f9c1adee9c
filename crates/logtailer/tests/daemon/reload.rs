//! Reloads: rule files on change and on SIGHUP (a bad one keeps the old rules), the web config on SIGHUP (a bad one is refused).

use super::*;

#[test]
fn rules_reload_on_change_and_sighup_and_bad_rules_keep_the_old_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (_am, am_port) = alertmanager(dir.path());
    let log = dir.path().join("app.log");
    std::fs::write(&log, "").unwrap();
    let rules = dir.path().join("rules.yaml");
    std::fs::write(&rules, RULES_A).unwrap();
    let config = app_config(dir.path(), &[&log], &format!("http://127.0.0.1:{am_port}"), "");
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
fn sighup_reloads_the_web_config_and_a_bad_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    std::fs::create_dir(&pki).unwrap();
    make_pki(&pki);
    let log = dir.path().join("app.log");
    std::fs::write(&log, "").unwrap();
    std::fs::write(dir.path().join("rules.yaml"), RULES_A).unwrap();
    let dead = format!("http://127.0.0.1:{}", free_port());
    let config = app_config(dir.path(), &[&log], &dead, "");
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
