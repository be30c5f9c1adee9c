//! OBServer 3.x: observer.log, rootservice.log, election.log.

use super::*;

const OB3_ROUTINE: &[&str] = &[
    "{ts} INFO  [STORAGE] ob_pg_sstable_garbage_collector.cpp:170 [{tid}][0][Y0-0000000000000000-0-0] [lt={n}] [dc=0] do one gc free sstable by queue(ret=0, free sstable cnt={n})",
    "{ts} INFO  [CLOG] update_free_quota (ob_log_file_pool.cpp:421) [{tid}][{n}][Y0-0000000000000000] [lt={n}] [dc=0] update free quota(type_=1, total_size=1081659957248, free_quota={big}, warn_percent(%)=80, limit_percent=95, used_percent(%)=41)",
    "{ts} INFO  [SERVER] ob_server_schema_updater.cpp:{n} [{tid}][0][Y0-0000000000000000] [lt={n}] [dc=0] schedule fetch new schema task(ret=0, schema_version={big})",
    "{ts} WARN  [SQL] get_leader (ob_sql_partition_location_cache.cpp:91) [{tid}][0][Y0-0000000000000000] [lt={n}] [dc=0] fail to get leader(ret=-4038, partition_key={tid:1100611139453777, partition_id:0})",
    "{ts} WARN  [STORAGE] get_store_ctx (ob_partition_storage.cpp:812) [{tid}][0][Y0-0000000000000000] [lt={n}] [dc=0] fail to get store ctx(ret=-4012)",
    "{ts} WARN  [SQL.RESV] resolve (ob_select_resolver.cpp:{n}) [{tid}][0][Y0-7F2A1C4C{n}] [lt={n}] [dc=0] failed to resolve table(ret=-5019)",
    "{ts} ERROR [SQL] handle_physical_plan (ob_sql.cpp:{n}) [{tid}][0][Y0-0000000000000000] [lt={n}] [dc=0] Timeout(ret=-4012) BACKTRACE:0xa7bb1c2 0xa7a0013",
    "{ts} ERROR [SERVER] process (ob_mysql_end_trans_cb.cpp:{n}) [{tid}][0][Y0-0000000000000000] [lt={n}] [dc=0] fail to end trans(ret=-6224) BACKTRACE:0xa7bb1c2",
];

const RS3_ROUTINE: &[&str] = &[
    "{ts} INFO  [RS] check_server_alive (ob_server_manager.cpp:880) [{tid}][0][Y0-0000000000000000] [lt={n}] [dc=0] server alive(server=\"10.0.0.12:2882\", lease_expire_time={big})",
    "{ts} INFO  [RS] batch_process_tasks (ob_partition_table_updater.cpp:701) [{tid}][0][Y0-0000000000000000] [lt={n}] [dc=0] batch process partition table update tasks(ret=0, task_cnt={n}, cost_time={n})",
    "{ts} INFO  [RS] balance_replica (ob_root_balancer.cpp:{n}) [{tid}][0][Y0-0000000000000000] [lt={n}] [dc=0] balance finish(ret=0, task_cnt=0)",
    "{ts} WARN  [RS] check_tenant_resource (ob_root_service.cpp:{n}) [{tid}][0][Y0-0000000000000000] [lt={n}] [dc=0] fail to check(ret=-4023)",
    "{ts} ERROR [RS] submit_task (ob_rs_async_rpc_proxy.h:{n}) [{tid}][0][Y0-0000000000000000] [lt={n}] [dc=0] execute rpc failed(ret=-4012) BACKTRACE:0xa7bb1c2",
    "{ts} WARN  [RS] run3 (ob_daily_merge_scheduler.cpp:171) [{tid}][0][Y0-0000000000000000] [lt={n}] [dc=0] daily merge schedule round failed(ret=-4012)",
];

const ELECT3_ROUTINE: &[&str] = &[
    "{ts} INFO  [ELECT] run_gt1_task (ob_election.cpp:{n}) [{tid}][0][Y0-0000000000000000] [lt={n}] [dc=0] leader lease is renewed(partition={tid:1100611139453777, partition_id:{n}}, lease_end={big})",
    "{ts} INFO  [ELECT] process_vote_prepare (ob_election.cpp:{n}) [{tid}][0][Y0-0000000000000000] [lt={n}] [dc=0] vote prepare received(current_leader=\"10.0.0.11:2882\")",
    "{ts} WARN  [ELECT] get_leader (ob_election.cpp:1820) [{tid}][0][Y0-0000000000000000] [lt={n}] [dc=0] election not running(ret=-4018)",
];

#[allow(clippy::too_many_lines)] // a table of incidents, one entry per rule
pub(super) fn ob3_specs() -> Vec<Spec> {
    let ob = vec![
        (
            DAY + 7 * HOUR,
            vec![ev(
                0,
                "{ts} ERROR [CLOG] update_free_quota (ob_log_file_pool.cpp:413) [{tid}][3714][Y0-0000000000000000] [lt=539] [dc=0] clog disk is almost full(type_=1, total_size=1081659957248, free_quota=-171216994304, warn_percent(%)=80, limit_percent=95, used_percent(%)=96) BACKTRACE:0xd20040b 0xd1e899f",
                &["ObClogDiskAlmostFull"],
                &[("used_percent", "96")],
            )],
        ),
        (
            2 * DAY + 5 * HOUR,
            vec![ev(
                0,
                "{ts} ERROR [STORAGE] write (ob_store_file.cpp:{n}) [{tid}][0][Y0-0000000000000000] [lt={n}] [dc=0] Server out of disk space(ret=-4184) BACKTRACE:0xa7bb1c2",
                &["ObDataDiskFull"],
                &[],
            )],
        ),
        (
            2 * DAY + 9 * HOUR,
            vec![ev(
                0,
                "{ts} ERROR [STORAGE] read (ob_io.cpp:{n}) [{tid}][0][Y0-0000000000000000] [lt={n}] [dc=0] io error(ret=-4009) BACKTRACE:0xa7bb1c2",
                &["ObDiskIoError"],
                &[("errcode", "4009")],
            )],
        ),
        burst(
            3 * DAY + 23 * HOUR,
            4,
            60,
            "{ts} ERROR [SHARE] fetch_rs_list_from_url (ob_web_service_root_addr.cpp:176) [{tid}][0][Y0-0005ABFA67B71CA5] [lt=3] [dc=0] call web service failed(ret=-4216, url=\"http://obconfig:8080/services?Action=ObRootServiceInfo\", timeout_ms=2000) BACKTRACE:0x31f2fb9",
            &["ObConfigServerUnreachable"],
            &[],
        ),
        burst(
            4 * DAY + 13 * HOUR,
            10,
            2,
            "{ts} WARN  [LIB] alloc_block (ob_tenant_ctx_allocator.cpp:355) [{tid}][0][Y0-0000000000000000] [lt=3] [dc=0] [OOPS] alloc failed reason is that tenant memory has reached the upper limit(tenant_id=1001, tenant_hold=8589934592, tenant_limit=8589934592, alloc_size=2097152)",
            &["ObMemoryAllocFailures"],
            &[("tenant_id", "1001")],
        ),
        burst(
            5 * DAY + 2 * HOUR,
            21,
            4,
            "{ts} WARN  [RPC] send (ob_rpc_proxy.ipp:220) [{tid}][0][Y0-0000000000000000] [lt=3] [dc=0] rpc post error(ret=-4122, dst=\"10.0.0.12:2882\", pcode=1794)",
            &["ObRpcFailures"],
            &[("errcode", "4122")],
        ),
        (
            4 * DAY + 2 * HOUR,
            vec![
                ev(
                    0,
                    "{ts} INFO  [SERVER] wait (ob_server.cpp:868) [{tid}][0][Y0-0000000000000000] [lt=3] [dc=0] stop signal detected, begin stopping",
                    &[],
                    &[],
                ),
                ev(
                    0,
                    "{ts} WARN  [SERVER] stop (ob_server.cpp:741) [{tid}][0][Y0-0000000000000000] [lt=6] [dc=0] stop observer begin",
                    &["ObServerStopped"],
                    &[],
                ),
                ev(
                    12,
                    "{ts} WARN  [SERVER] stop (ob_server.cpp:862) [{tid}][0][Y0-0000000000000000] [lt=7] [dc=0] stop observer end(ret=0)",
                    &[],
                    &[],
                ),
            ],
        ),
        (
            6 * DAY + 4 * HOUR,
            vec![
                ev(
                    0,
                    "CRASH ERROR!!! sig=6, sig_code=-6, sig_addr=3e800005a1f, timestamp=1741492800000000, tid={tid}, tname=TNT_L0_1001, trace_id=0-0, extra_info=((null)), lbt=0x9baead8 0x9b9f358",
                    &["ObServerCrashed"],
                    &[("signal", "6")],
                ),
                ev(
                    30,
                    "{ts} INFO  [SERVER] main.cpp:456 [{tid}][0][Y0-0000000000000000] [lt=0] [dc=0] [OBSERVER_NOTICE] start to init observer",
                    &["ObServerStarting"],
                    &[],
                ),
            ],
        ),
    ];
    let rs = vec![
        (
            3 * DAY + 2 * HOUR,
            vec![ev(
                0,
                "{ts} ERROR [RS] process_barrier (ob_partition_table_updater.cpp:612) [{tid}][0][Y0-0000000000000000] [lt=7] [dc=0] partition table update task cost too much time to execute(safe_interval=60000000, cost_time=80121440) BACKTRACE:0xa7bb1c2",
                &["ObPartitionTableUpdateSlow"],
                &[],
            )],
        ),
        (
            4 * DAY + HOUR,
            vec![
                ev(
                    0,
                    "{ts} ERROR [RS] schedule_stagger_merge (ob_daily_merge_scheduler.cpp:362) [{tid}][0][Y0-0000000000000000] [lt=5] [dc=0] merge error; please check it(ret=0, is_merge_error=true) BACKTRACE:0xa7bb1c2",
                    &["ObMajorCompactionError"],
                    &[],
                ),
                ev(
                    600,
                    "{ts} ERROR [RS] run3 (ob_daily_merge_scheduler.cpp:145) [{tid}][0][Y0-0000000000000000] [lt=8] [dc=0] merge error, refuse to start merge(ret=0, is_merge_error=true) BACKTRACE:0xa7bb1c2 0xa7a0013",
                    &["ObMajorCompactionError"],
                    &[],
                ),
            ],
        ),
    ];
    let elect = vec![burst(
        5 * DAY + 2 * HOUR,
        20,
        6,
        "{ts} WARN  [ELECT] get_leader (ob_election.cpp:1820) [{tid}][0][Y0-0000000000000000] [lt={n}] [dc=0] get leader error(ret=-7006, partition={tid:1100611139453777, partition_id:0})",
        &["ObLeaderTrouble"],
        &[("errcode", "7006")],
    )];
    vec![
        Spec {
            path: "data/ob32/log/observer.log",
            stamp: Stamp::Ob,
            step: 30,
            routine: OB3_ROUTINE,
            incidents: ob,
        },
        Spec {
            path: "data/ob32/log/rootservice.log",
            stamp: Stamp::Ob,
            step: 120,
            routine: RS3_ROUTINE,
            incidents: rs,
        },
        Spec {
            path: "data/ob32/log/election.log",
            stamp: Stamp::Ob,
            step: 120,
            routine: ELECT3_ROUTINE,
            incidents: elect,
        },
    ]
}
