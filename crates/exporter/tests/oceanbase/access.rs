//! What a DBA gets wrong or sets up: a user without the parameter grant, a plain MariaDB that is not OceanBase, a server that requires TLS.

use super::*;

#[test]
fn a_user_without_the_parameter_grant_gets_everything_but_the_cluster_labels() {
    let db = MariaDb::start(Some(OB4), Some("ob4.sql"));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (_ex, base) = start_exporter(d, "noparams", &db, NO_PARAMS_USER, MONITOR_PASSWORD, "");
    let lookup = [("query", "cluster_parameters")];
    let body = scrape_until(&format!("{base}/metrics"), "every other query to answer", |b| {
        value(b, "ob_up", &[]) == Some(1.0)
            && failed_queries(b).is_some_and(|f| f == ["cluster_parameters"])
    });
    assert_eq!(value(&body, "obwatch_ob_query_success", &lookup), Some(0.0));
    assert_eq!(state(&body, "up"), Some(1.0));
    assert_eq!(ob_families(&body), ob4_families(), "one missing grant costs no family");
    // The labels stay empty rather than guessed; the rest are the server's.
    let app = [("ob_tenant_id", "1002"), ("tenant_name", "app")];
    let labels = |name: &'static str, id: &'static str| {
        let mut l = ob4(&app);
        l[0].1 = id;
        l[1].1 = name;
        l
    };
    assert_eq!(value(&body, "ob_active_session_num", &labels("", "")), Some(1.0));
    // Said once, with the view and the way out, however many rounds fail.
    let rounds = value(&body, "obwatch_ob_rounds_total", &[]).unwrap();
    scrape_until(&format!("{base}/metrics"), "three more rounds", |b| {
        value(b, "obwatch_ob_rounds_total", &[]).is_some_and(|r| r >= rounds + 3.0)
    });
    let log = std::fs::read_to_string(d.join("noparams.log")).unwrap();
    let hint = "grant SELECT on oceanbase.GV$OB_PARAMETERS to the monitor user";
    assert_eq!(log.matches(hint).count(), 1, "{log}");

    // Configured name and id: no lookup at all, and the configured labels.
    let cfg = "  cluster_name: prod\n  cluster_id: 7\n";
    let (_ex, base) = start_exporter(d, "configured", &db, NO_PARAMS_USER, MONITOR_PASSWORD, cfg);
    let body = scrape_until(&format!("{base}/metrics"), "every query to answer", all_queries_ok);
    assert_eq!(value(&body, "obwatch_ob_query_success", &lookup), None, "not looked up");
    assert_eq!(value(&body, "ob_active_session_num", &labels("prod", "7")), Some(1.0));
    assert_eq!(ob_families(&body), ob4_families());
}

#[test]
fn a_plain_mariadb_is_not_oceanbase() {
    let db = MariaDb::start(None, None);
    let dir = tempfile::tempdir().unwrap();
    db.sql("CREATE DATABASE oceanbase; CREATE USER ocp_monitor@'%' IDENTIFIED BY 'monitor-pw'; GRANT SELECT ON oceanbase.* TO ocp_monitor@'%';");
    let (_ex, base) = start_exporter(dir.path(), "plain", &db, MONITOR_USER, MONITOR_PASSWORD, "");
    let body = scrape_until(&format!("{base}/metrics"), "not_oceanbase", |b| {
        state(b, "not_oceanbase") == Some(1.0)
    });
    assert_eq!(value(&body, "ob_up", &[]), Some(0.0));
    assert_eq!(ob_families(&body), BTreeSet::from(["ob_up".to_string()]));
    // Three more rounds fail the same way; the log says so once.
    let rounds = value(&body, "obwatch_ob_rounds_total", &[]).unwrap();
    scrape_until(&format!("{base}/metrics"), "three more rounds", |b| {
        value(b, "obwatch_ob_rounds_total", &[]).is_some_and(|r| r >= rounds + 3.0)
    });
    let log = std::fs::read_to_string(dir.path().join("plain.log")).unwrap();
    assert!(log.contains("not an OceanBase server"), "{log}");
    assert_eq!(
        log.matches("not an OceanBase server").count(),
        1,
        "logged once per state change:\n{log}"
    );
}

#[test]
fn tls_required_is_named_and_tls_connects() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    obwatch_testkit::pki::make_pki(d);
    let cert = d.join("server.pem").display().to_string();
    let key = d.join("server.key").display().to_string();
    let ca = d.join("ca.pem").display().to_string();
    let db = MariaDb::start_with(
        Some(OB4),
        Some("ob4.sql"),
        &[
            &format!("--ssl-cert={cert}"),
            &format!("--ssl-key={key}"),
            "--require-secure-transport=ON",
        ],
    );
    // Without TLS: MariaDB answers 1045 as for a bad password; the collector tells them apart.
    let (_plain, plain) = start_exporter(d, "plain", &db, MONITOR_USER, MONITOR_PASSWORD, "");
    let b = scrape_until(&format!("{plain}/metrics"), "tls_required", |b| {
        state(b, "tls_required") == Some(1.0)
    });
    assert_eq!(value(&b, "ob_up", &[]), Some(0.0));
    // A wrong password on the same server is still a wrong password.
    let (_bad, bad) = start_exporter(d, "badpw", &db, MONITOR_USER, "wrong", "");
    scrape_until(&format!("{bad}/metrics"), "auth_failed", |b| {
        state(b, "auth_failed") == Some(1.0)
    });
    // With the CA: everything answers.
    let tls = format!("  tls:\n    ca_file: {ca}\n");
    let (_tls, tls) = start_exporter(d, "tls", &db, MONITOR_USER, MONITOR_PASSWORD, &tls);
    scrape_until(&format!("{tls}/metrics"), "every query over TLS", all_queries_ok);
}
