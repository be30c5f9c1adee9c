//! An https Alertmanager requiring a client certificate: a wrong CA is logged and counted, the right one delivers.

use super::*;

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
