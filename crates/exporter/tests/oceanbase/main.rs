//! The OceanBase collector against a real MariaDB server loaded with OceanBase 3.x and 4.x
//! view fixtures (crates/testkit/fixtures/oceanbase/*.sql) and answering `version()` like OceanBase:
//! exact families, labels and values per version; a wrong password, a user without grants
//! and a plain MariaDB each named in `obwatch_ob_state`/per-query success; a slow query times
//! out alone while scrapes stay fast; a killed database gives `ob_up 0` and no stale series.
#![allow(clippy::disallowed_methods, clippy::unwrap_used)] // test code

#[path = "../util/mod.rs"]
mod util;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use obwatch_testkit::mariadb::{
    LIMITED_USER, MONITOR_PASSWORD, MONITOR_USER, MariaDb, NO_PARAMS_USER, OB3_VERSION as OB3,
    OB4_VERSION as OB4,
};
use util::*;

mod access;
mod ob3;

/// Writes a config for `db` and starts the exporter with only the OceanBase collector.
fn start_exporter(
    dir: &Path,
    name: &str,
    db: &MariaDb,
    user: &str,
    password: &str,
    extra: &str,
) -> (Proc, String) {
    let pw = dir.join(format!("{name}.pw"));
    std::fs::write(&pw, format!("{password}\n")).unwrap();
    let cfg = dir.join(format!("{name}.yml"));
    std::fs::write(
        &cfg,
        format!(
            "oceanbase:\n  address: {}\n  username: {user}\n  password_file: {}\n  interval: 1s\n  query_timeout: 1s\n  top_sql_limit: 2\n{extra}",
            db.address(),
            pw.display()
        ),
    )
    .unwrap();
    let cfg = cfg.to_str().unwrap().to_string();
    start_ours(
        &["--collector.disable-defaults", "--config.file", &cfg],
        &dir.join(format!("{name}.log")),
    )
}

fn ob_families(body: &str) -> BTreeSet<String> {
    families(body).into_keys().filter(|n| n.starts_with("ob_")).collect()
}

fn state(body: &str, s: &str) -> Option<f64> {
    value(body, "obwatch_ob_state", &[("state", s)])
}

/// The labels every series of the 4.x fixture's server carries, plus `extra`.
fn ob4<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut l = vec![
        ("ob_cluster_id", "1700000001"),
        ("ob_cluster_name", "obcluster"),
        ("obzone", "zone1"),
        ("svr_ip", "10.0.0.1"),
        ("svr_port", "2882"),
    ];
    l.extend_from_slice(extra);
    l
}

/// Every family the 4.x fixture gives a user with all grants.
fn ob4_families() -> BTreeSet<String> {
    [
        "ob_active_session_num",
        "ob_all_session_num",
        "ob_cache_size_bytes",
        "ob_disk_free_bytes",
        "ob_disk_healthy",
        "ob_disk_total_bytes",
        "ob_index_error_num",
        "ob_log_disk_assigned_bytes",
        "ob_log_disk_total_bytes",
        "ob_log_disk_used_bytes",
        "ob_major_compaction_frozen_scn",
        "ob_major_compaction_in_progress",
        "ob_major_compaction_is_error",
        "ob_major_compaction_is_suspended",
        "ob_major_compaction_last_finish_time_seconds",
        "ob_major_compaction_last_scn",
        "ob_major_compaction_start_time_seconds",
        "ob_memstore_active_bytes",
        "ob_memstore_freeze_times",
        "ob_memstore_freeze_trigger_bytes",
        "ob_memstore_limit_bytes",
        "ob_memstore_total_bytes",
        "ob_plan_cache_access_total",
        "ob_plan_cache_hit_total",
        "ob_plan_cache_memory_bytes",
        "ob_query_response_time_seconds",
        "ob_replica_num",
        "ob_server_num",
        "ob_server_resource_cpu",
        "ob_server_resource_cpu_assigned",
        "ob_server_resource_cpu_assigned_percent",
        "ob_server_resource_disk_bytes",
        "ob_server_resource_memory_assigned_bytes",
        "ob_server_resource_memory_assigned_percent",
        "ob_server_resource_memory_bytes",
        "ob_sysstat",
        "ob_system_event_time_waited",
        "ob_system_event_total_waits",
        "ob_table_num",
        "ob_tenant500_memory_hold_bytes",
        "ob_tenant500_memory_used_bytes",
        "ob_tenant_assigned_cpu_assigned",
        "ob_tenant_assigned_cpu_total",
        "ob_tenant_assigned_mem_assigned",
        "ob_tenant_assigned_mem_total",
        "ob_tenant_disk_data_size",
        "ob_tenant_disk_log_size",
        "ob_tenant_log_disk_total_bytes",
        "ob_tenant_resource_max_cpu",
        "ob_tenant_resource_max_memory",
        "ob_tenant_resource_min_cpu",
        "ob_tenant_resource_min_memory",
        "ob_top_sql_cpu_seconds_total",
        "ob_top_sql_elapsed_seconds_total",
        "ob_top_sql_executions_total",
        "ob_trans_expire_num",
        "ob_unit_config_max_cpu",
        "ob_unit_config_max_iops",
        "ob_unit_config_max_memory_bytes",
        "ob_unit_config_min_cpu",
        "ob_unit_config_min_iops",
        "ob_unit_config_min_memory_bytes",
        "ob_unit_num",
        "ob_up",
        "ob_waitevent_wait_seconds_total",
        "ob_waitevent_wait_total",
    ]
    .map(String::from)
    .into()
}

/// The queries that failed in the round `body` serves (`None` before a round with queries).
fn failed_queries(body: &str) -> Option<Vec<String>> {
    let f = families(body).remove("obwatch_ob_query_success")?;
    (!f.samples.is_empty()).then(|| {
        f.samples
            .into_iter()
            .filter(|s| s.value != 1.0)
            .filter_map(|s| s.labels.into_iter().find(|(k, _)| k == "query").map(|(_, v)| v))
            .collect()
    })
}

fn all_queries_ok(body: &str) -> bool {
    value(body, "ob_up", &[]) == Some(1.0) && failed_queries(body).is_some_and(|f| f.is_empty())
}

// One scenario against one server (starting MariaDB costs seconds): the fixture's values, then
// each bad input in turn, as the steps of a story read best in order.
#[allow(clippy::too_many_lines)]
#[test]
fn oceanbase_4x_fixture_then_bad_inputs_slow_query_and_a_dead_database() {
    let db = MariaDb::start(Some(OB4), Some("ob4.sql"));
    let dir = tempfile::tempdir().unwrap();
    let (_ex, base) = start_exporter(dir.path(), "good", &db, MONITOR_USER, MONITOR_PASSWORD, "");
    let url = format!("{base}/metrics");
    let body = scrape_until(&url, "every query to answer", all_queries_ok);
    // The role lookup has its own series, next to the catalogue's queries.
    let role = [("query", "server_role")];
    assert_eq!(value(&body, "obwatch_ob_query_success", &role), Some(1.0));
    assert!(value(&body, "obwatch_ob_query_duration_seconds", &role).is_some());

    assert_eq!(ob_families(&body), ob4_families());
    assert_eq!(state(&body, "up"), Some(1.0));

    let app = [("ob_tenant_id", "1002"), ("tenant_name", "app")];
    let v = |name: &str, extra: &[(&str, &str)]| value(&body, name, &ob4(extra));
    assert_eq!(v("ob_sysstat", &[app[0], app[1], ("stat_id", "40000")]), Some(9876543.0));
    assert_eq!(
        v(
            "ob_sysstat",
            &[("ob_tenant_id", "1001"), ("tenant_name", "META$1002"), ("stat_id", "40000")]
        ),
        Some(55.0)
    );
    // Ids outside the list, classes over 1000 and tenant 500 are left out.
    assert_eq!(families(&body)["ob_sysstat"].samples.len(), 9);
    assert_eq!(v("ob_active_session_num", &app), Some(1.0));
    assert_eq!(v("ob_all_session_num", &app), Some(3.0));
    assert_eq!(families(&body)["ob_all_session_num"].samples.len(), 2, "META tenants left out");
    assert_eq!(v("ob_disk_total_bytes", &[]), Some(214748364800.0));
    assert_eq!(v("ob_disk_free_bytes", &[]), Some(161061273600.0));
    assert_eq!(v("ob_disk_healthy", &[]), Some(1.0));
    assert_eq!(v("ob_log_disk_used_bytes", &[]), Some(8589934592.0));
    assert_eq!(
        v("ob_server_num", &[("status", "ACTIVE"), ("server_ips", "10.0.0.1,10.0.0.2")]),
        Some(2.0)
    );
    assert_eq!(
        v("ob_server_num", &[("status", "INACTIVE"), ("server_ips", "10.0.0.3")]),
        Some(1.0)
    );
    assert_eq!(v("ob_server_resource_cpu_assigned_percent", &[]), Some(75.0));
    assert_eq!(
        v("ob_cache_size_bytes", &[app[0], app[1], ("cache_name", "user_block_cache")]),
        Some(104857600.0)
    );
    assert_eq!(v("ob_memstore_total_bytes", &app), Some(805306368.0));
    assert_eq!(v("ob_memstore_freeze_times", &app), Some(41.0));
    assert_eq!(v("ob_plan_cache_hit_total", &app), Some(97510000.0));
    assert_eq!(v("ob_replica_num", &[app[0], app[1], ("role", "LEADER")]), Some(2.0));
    assert_eq!(v("ob_replica_num", &[app[0], app[1], ("role", "FOLLOWER")]), Some(1.0));
    assert_eq!(v("ob_major_compaction_is_error", &app), Some(1.0));
    assert_eq!(v("ob_major_compaction_in_progress", &app), Some(1.0));
    assert_eq!(
        v("ob_major_compaction_in_progress", &[("ob_tenant_id", "1"), ("tenant_name", "sys")]),
        Some(0.0)
    );
    assert_eq!(v("ob_tenant500_memory_hold_bytes", &[]), Some(6291456.0));
    assert_eq!(v("ob_index_error_num", &[]), Some(1.0));
    assert_eq!(v("ob_unit_num", &[]), Some(3.0));
    assert_eq!(v("ob_tenant_resource_max_memory", &app), Some(8589934592.0));
    assert_eq!(v("ob_tenant_disk_log_size", &app), Some(6979321856.0));
    assert_eq!(v("ob_waitevent_wait_total", &app), Some(6500.0));
    assert_eq!(v("ob_trans_expire_num", &app), Some(2.0));
    assert_eq!(v("ob_table_num", &app), Some(3.0));
    assert_eq!(
        v("ob_trans_expire_num", &[("ob_tenant_id", "1"), ("tenant_name", "sys")]),
        Some(0.0)
    );
    assert_eq!(
        v("ob_unit_config_max_iops", &[app[0], app[1], ("unit_config_name", "app_unit")]),
        Some(20000.0)
    );
    assert_eq!(
        families(&body)["ob_unit_config_max_cpu"].samples.len(),
        2,
        "pools with a unit here"
    );
    assert_eq!(v("ob_waitevent_wait_seconds_total", &app), Some(14.5));
    assert_eq!(
        v("ob_system_event_total_waits", &[app[0], app[1], ("event_group", "IO")]),
        Some(1500.0)
    );
    assert_eq!(
        v("ob_system_event_total_waits", &[app[0], app[1], ("event_group", "SYNC_RPC")]),
        Some(5000.0)
    );
    // Top SQL: the two statements with the most elapsed time on this server, plans summed,
    // digest and tenant labels, no SQL text.
    let top = [app[0], app[1], ("sql_id", "8A3C2F0E1B9D4E7F6A5B4C3D2E1F0A9B")];
    assert_eq!(v("ob_top_sql_elapsed_seconds_total", &top), Some(400.0));
    assert_eq!(v("ob_top_sql_executions_total", &top), Some(5000000.0));
    assert_eq!(families(&body)["ob_top_sql_elapsed_seconds_total"].samples.len(), 2);
    assert!(!body.contains("t_order set status = 2"), "no raw SQL text by default");
    // The response-time histogram: statement types summed, buckets cumulative, +Inf = count,
    // the other server's rows left out.
    let le = |le: &'static str| [app[0], app[1], ("le", le)];
    for (bound, n) in [("0.0001", 50.0), ("0.001", 550.0), ("0.01", 610.0), ("1", 620.0)] {
        assert_eq!(v("ob_query_response_time_seconds_bucket", &le(bound)), Some(n), "le={bound}");
    }
    assert_eq!(v("ob_query_response_time_seconds_bucket", &le("+Inf")), Some(620.0));
    assert_eq!(v("ob_query_response_time_seconds_count", &app), Some(620.0));
    assert_eq!(v("ob_query_response_time_seconds_sum", &app), Some(1.733));
    let sys = [("ob_tenant_id", "1"), ("tenant_name", "sys")];
    assert_eq!(v("ob_query_response_time_seconds_count", &sys), Some(35.0));
    // The server's capacity once per tenant with a unit here, META tenants left out.
    assert_eq!(v("ob_tenant_assigned_cpu_total", &app), Some(16.0));
    assert_eq!(v("ob_tenant_assigned_cpu_assigned", &app), Some(8.0));
    assert_eq!(v("ob_tenant_assigned_mem_assigned", &sys), Some(12884901888.0));
    assert_eq!(families(&body)["ob_tenant_assigned_mem_total"].samples.len(), 2);
    let lint = promtool_lint(&body);
    assert!(lint.is_empty(), "promtool: {lint:?}");
    // The hourly count is served from its last answer in between: same duration two rounds on.
    let duration =
        |b: &str, q: &str| value(b, "obwatch_ob_query_duration_seconds", &[("query", q)]);
    let rounds = value(&body, "obwatch_ob_rounds_total", &[]).unwrap();
    let later = scrape_until(&url, "two more rounds", |b| {
        value(b, "obwatch_ob_rounds_total", &[]).is_some_and(|r| r >= rounds + 2.0)
    });
    assert_eq!(duration(&later, "table_num"), duration(&body, "table_num"), "not re-run");
    assert_eq!(value(&later, "ob_table_num", &ob4(&app)), Some(3.0), "still served");

    // A wrong password and a user without grants, each said by the metrics.
    let (_bad, bad) = start_exporter(dir.path(), "badpw", &db, MONITOR_USER, "wrong", "");
    let b = scrape_until(&format!("{bad}/metrics"), "auth_failed", |b| {
        state(b, "auth_failed") == Some(1.0)
    });
    assert_eq!(value(&b, "ob_up", &[]), Some(0.0));
    assert_eq!(ob_families(&b), BTreeSet::from(["ob_up".to_string()]));
    let (_lim, lim) =
        start_exporter(dir.path(), "limited", &db, LIMITED_USER, MONITOR_PASSWORD, "");
    // Waits for the server list too: a query that timed out on a loaded machine shows as a
    // missing family, never as an extra one.
    let b = scrape_until(&format!("{lim}/metrics"), "per-query failures", |b| {
        value(b, "obwatch_ob_query_success", &[("query", "sysstat")]).is_some()
            && ob_families(b).contains("ob_server_num")
    });
    assert_eq!(value(&b, "ob_up", &[]), Some(1.0), "the server answers; the user lacks grants");
    assert_eq!(value(&b, "obwatch_ob_query_success", &[("query", "sysstat")]), Some(0.0));
    // It may read the server list (identifying the server needs it), nothing else.
    assert_eq!(ob_families(&b), BTreeSet::from(["ob_server_num".to_string(), "ob_up".to_string()]));

    // A view that sleeps past the query timeout: that query fails alone, the others stay,
    // and scrapes never wait for the database.
    db.sql(
        "USE oceanbase; RENAME TABLE `V$OB_PLAN_CACHE_STAT` TO plan_cache_real;
         CREATE VIEW `V$OB_PLAN_CACHE_STAT` AS SELECT p.* FROM plan_cache_real p WHERE SLEEP(3) = 0;",
    );
    // Waited for together with the others answering: one slow query must not fail the others
    // (a round where another query was slow too on a loaded machine is not the case tested).
    let b = scrape_until(&url, "plan_cache alone to time out", |b| {
        failed_queries(b).is_some_and(|f| f == ["plan_cache"])
    });
    assert_eq!(value(&b, "ob_up", &[]), Some(1.0));
    assert!(!ob_families(&b).contains("ob_plan_cache_hit_total"), "no stale plan cache series");
    assert!(ob_families(&b).contains("ob_sysstat"));
    // A scrape that waited for the database would take the 1 s query timeout.
    let slowest = (0..10).map(|_| timed_get(&url)).max().unwrap();
    assert!(slowest < Duration::from_millis(750), "a scrape waited {slowest:?} on a slow database");
    // The timed-out session is killed from the next one: never more than two at a time.
    for _ in 0..5 {
        let sessions: u32 = db
            .query("SELECT COUNT(*) FROM information_schema.processlist WHERE user = 'ocp_monitor'")
            .trim()
            .parse()
            .unwrap();
        assert!(sessions <= 2, "{sessions} sessions of the monitoring user");
        timed_get(&url);
    }
    db.sql("USE oceanbase; DROP VIEW `V$OB_PLAN_CACHE_STAT`; RENAME TABLE plan_cache_real TO `V$OB_PLAN_CACHE_STAT`;");
    scrape_until(&url, "plan_cache to recover", all_queries_ok);

    // An answer no series may come from (a counter gone negative): that query fails alone,
    // keeps none of its series, and is logged once however many rounds it lasts.
    db.sql("UPDATE oceanbase.`V$OB_PLAN_CACHE_STAT` SET hit_count = -5 WHERE tenant_id = 1002;");
    let b = scrape_until(&url, "plan_cache alone to fail", |b| {
        failed_queries(b).is_some_and(|f| f == ["plan_cache"])
    });
    assert_eq!(value(&b, "ob_up", &[]), Some(1.0));
    assert!(!ob_families(&b).contains("ob_plan_cache_memory_bytes"), "no half of a bad answer");
    let rounds = value(&b, "obwatch_ob_rounds_total", &[]).unwrap();
    scrape_until(&url, "two more rounds", |b| {
        value(b, "obwatch_ob_rounds_total", &[]).is_some_and(|r| r >= rounds + 2.0)
    });
    let log = std::fs::read_to_string(dir.path().join("good.log")).unwrap();
    assert_eq!(log.matches("a counter cannot be negative").count(), 1, "{log}");
    db.sql(
        "UPDATE oceanbase.`V$OB_PLAN_CACHE_STAT` SET hit_count = 97510000 WHERE tenant_id = 1002;",
    );
    scrape_until(&url, "plan_cache to recover", all_queries_ok);

    // A view the server lacks (a release without it): that query fails with 1146, alone.
    db.sql("USE oceanbase; RENAME TABLE `GV$OB_LOG_STAT` TO log_stat_gone;");
    let b = scrape_until(&url, "replicas to fail", |b| {
        value(b, "obwatch_ob_query_success", &[("query", "replicas")]) == Some(0.0)
    });
    assert_eq!(value(&b, "ob_up", &[]), Some(1.0));
    assert!(!ob_families(&b).contains("ob_replica_num") && ob_families(&b).contains("ob_sysstat"));

    // The database dies: ob_up 0, the state says why, and no series of the last good round.
    let mut db = db;
    db.kill();
    let b = scrape_until(&url, "ob_up 0", |b| value(b, "ob_up", &[]) == Some(0.0));
    assert_eq!(state(&b, "unreachable"), Some(1.0));
    assert_eq!(ob_families(&b), BTreeSet::from(["ob_up".to_string()]));
    let slowest = (0..5).map(|_| timed_get(&url)).max().unwrap();
    assert!(slowest < Duration::from_millis(750), "a scrape waited {slowest:?} on a dead database");
}

fn timed_get(url: &str) -> Duration {
    let t = Instant::now();
    let (status, _) = get(url).unwrap();
    assert_eq!(status, 200);
    t.elapsed()
}
