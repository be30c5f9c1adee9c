//! The OceanBase 3.x catalogue against its fixture: every 3.x query answered, the families obagent 3.x exports.

use super::*;

#[test]
fn oceanbase_3x_fixture() {
    let db = MariaDb::start(Some(OB3), Some("ob3.sql"));
    let dir = tempfile::tempdir().unwrap();
    let (_ex, base) = start_exporter(
        dir.path(),
        "ob3",
        &db,
        MONITOR_USER,
        MONITOR_PASSWORD,
        "  top_sql_text: true\n",
    );
    let body = scrape_until(&format!("{base}/metrics"), "every query to answer", all_queries_ok);
    let want: BTreeSet<String> = [
        "ob_active_session_num",
        "ob_all_session_num",
        "ob_cache_size_bytes",
        "ob_disk_free_bytes",
        "ob_disk_healthy",
        "ob_disk_total_bytes",
        "ob_index_error_num",
        "ob_memstore_active_bytes",
        "ob_memstore_freeze_times",
        "ob_memstore_freeze_trigger_bytes",
        "ob_memstore_limit_bytes",
        "ob_memstore_total_bytes",
        "ob_partition_num",
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
        "ob_tenant_disk_total_size",
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
        "ob_unit_config_max_session_num",
        "ob_unit_config_min_memory_bytes",
        "ob_unit_num",
        "ob_up",
        "ob_waitevent_wait_seconds_total",
        "ob_waitevent_wait_total",
        "ob_zone_current_timestamp",
        "ob_zone_stat",
    ]
    .map(String::from)
    .into();
    assert_eq!(ob_families(&body), want);
    let l = |extra: &[(&'static str, &'static str)]| {
        let mut l = vec![
            ("ob_cluster_id", "42"),
            ("ob_cluster_name", "trade_cluster"),
            ("obzone", "zone1"),
            ("svr_ip", "10.0.0.11"),
            ("svr_port", "2882"),
        ];
        l.extend_from_slice(extra);
        l
    };
    let trade = [("ob_tenant_id", "1001"), ("tenant_name", "trade")];
    let v = |name: &str, extra: &[(&'static str, &'static str)]| value(&body, name, &l(extra));
    assert_eq!(v("ob_sysstat", &[trade[0], trade[1], ("stat_id", "40000")]), Some(7654321.0));
    assert_eq!(families(&body)["ob_sysstat"].samples.len(), 6);
    assert_eq!(v("ob_active_session_num", &trade), Some(2.0));
    assert_eq!(v("ob_all_session_num", &trade), Some(3.0));
    assert_eq!(v("ob_disk_free_bytes", &[]), Some(214748364800.0));
    assert_eq!(v("ob_memstore_limit_bytes", &trade), Some(8589934592.0));
    assert_eq!(v("ob_replica_num", &[trade[0], trade[1], ("role", "LEADER")]), Some(2.0));
    assert_eq!(v("ob_server_resource_cpu_assigned", &[]), Some(14.0));
    assert_eq!(v("ob_tenant_disk_total_size", &trade), Some(214748364800.0));
    assert_eq!(v("ob_tenant500_memory_hold_bytes", &[]), Some(8388608.0));
    assert_eq!(v("ob_index_error_num", &[]), Some(2.0));
    assert_eq!(v("ob_zone_stat", &[("zone", ""), ("name", "frozen_version")]), Some(12.0));
    assert_eq!(v("ob_zone_stat", &[("zone", "zone2"), ("name", "is_merge_timeout")]), Some(1.0));
    assert_eq!(v("ob_waitevent_wait_total", &trade), Some(450.0));
    assert_eq!(v("ob_trans_expire_num", &trade), Some(1.0));
    assert_eq!(v("ob_partition_num", &trade), Some(3.0));
    assert_eq!(v("ob_table_num", &trade), Some(4.0));
    assert_eq!(
        v(
            "ob_unit_config_min_memory_bytes",
            &[trade[0], trade[1], ("unit_config_name", "trade_unit")]
        ),
        Some(34359738368.0)
    );
    assert_eq!(
        v("ob_system_event_total_waits", &[trade[0], trade[1], ("event_group", "LATCH")]),
        Some(50.0)
    );
    let le = |le: &'static str| [trade[0], trade[1], ("le", le)];
    assert_eq!(v("ob_query_response_time_seconds_bucket", &le("0.001")), Some(900.0));
    assert_eq!(v("ob_query_response_time_seconds_bucket", &le("+Inf")), Some(1000.0));
    assert_eq!(v("ob_query_response_time_seconds_sum", &trade), Some(3.768));
    assert_eq!(v("ob_tenant_assigned_cpu_total", &trade), Some(30.0));
    assert_eq!(v("ob_tenant_assigned_cpu_assigned", &trade), Some(12.5));
    assert_eq!(
        v(
            "ob_unit_config_max_session_num",
            &[trade[0], trade[1], ("unit_config_name", "trade_unit")]
        ),
        Some(9223372036854775807.0)
    );
    // obagent's shape: the server's clock in microseconds on every __all_zone row read.
    let now_us =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_micros()
            as f64;
    let stamp = v("ob_zone_current_timestamp", &[("zone", "zone2"), ("name", "is_merge_timeout")]);
    assert!(stamp.is_some_and(|t| (now_us - t).abs() < 60e6), "{stamp:?} vs {now_us}");
    // top_sql_text: true adds the statement text.
    let top = [
        trade[0],
        trade[1],
        ("sql_id", "A1B2C3D4E5F60718293A4B5C6D7E8F90"),
        ("sql_text", "insert into t values (5)"),
    ];
    assert_eq!(v("ob_top_sql_elapsed_seconds_total", &top), Some(150.0));
}
