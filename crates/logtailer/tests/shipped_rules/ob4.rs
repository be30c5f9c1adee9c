//! OBServer 4.x: observer.log and the 4.2.3+ alert log.

use super::*;

const OB4_ROUTINE: &[&str] = &[
    "{ts} INFO  [PALF] inner_append_log (palf_handle_impl.cpp:2219) [{tid}][T1_IOWorker][T1][Y0-0000000000000000-0-0] [lt={n}] [PALF STAT INNER APPEND LOG SIZE](this={palf_id:{n}, self:\"10.0.0.11:2882\"}, accum_size={big})",
    "{ts} INFO  [SQL.EXE] execute (ob_sql.cpp:1254) [{tid}][T1002_L0_G0][T1002][YB420A00010B-00061F1D5E8A{n}-0-0] [lt={n}] sql execute done(elapsed_us={big})",
    "{ts} INFO  [COMMON] compute_tenant_wash_size (ob_kvcache_store.cpp:1140) [{tid}][KVCacheWash][T0][Y0-0000000000000000-0-0] [lt={n}] Wash compute wash size(is_wash_valid=true, sys_total_wash_size={big}, global_cache_size={big})",
    "{ts} INFO  [STORAGE] ob_tenant_freezer.cpp:620 [{tid}][T1002_Occam][T1002][Y0-0000000000000000-0-0] [lt={n}] [TenantFreezer] tenant memstore info(tenant_id=1002, active_memstore_used={big}, total_memstore_used={big}, memstore_freeze_trigger={big}, memstore_limit=7516192768)",
    "{ts} INFO  [PALF] try_recycle_blocks (palf_env_impl.cpp:745) [{tid}][T1002_PalfGC][T1002][Y0-0000000000000000-0-0] [lt={n}] [PALF STAT LOG DISK USAGE](total_size(MB)=30720, used_size(MB)={n}, used_percent(%)=13)",
    "{ts} WDIAG [SERVER] handle (ob_srv_deliver.cpp:{n}) [{tid}][T1002_L0_G0][T1002][Y0-0000000000000000-0-0] [lt={n}][errcode=-4012] Timeout(ret=-4012, timeout_ts={big})",
    "{ts} WDIAG [SQL] do_process (ob_sql.cpp:1877) [{tid}][T1002_L0_G0][T1002][Y0-0000000000000000-0-0] [lt={n}][errcode=-4038] not master(ret=-4038)",
    "{ts} WDIAG [SQL.RESV] resolve_table (ob_dml_resolver.cpp:{n}) [{tid}][T1002_L0_G0][T1002][YB420A00010B-00061F1D5E8A{n}-0-0] [lt={n}][errcode=-5019] table not exist(ret=-5019, table_name=\"tmp_report\")",
    "{ts} WARN  [STORAGE.TRANS] handle (ob_trans_service.cpp:{n}) [{tid}][T1002_TxLoop][T1002][Y0-0000000000000000-0-0] [lt={n}] transaction retry(ret=-6213, tx_id={big})",
    "{ts} ERROR [SQL] handle_physical_plan (ob_sql.cpp:{n}) [{tid}][T1002_L0_G0][T1002][Y0-0000000000000000-0-0] [lt={n}] Timeout(ret=-4012) BACKTRACE:0xd20040b 0xd1e899f",
    "{ts} ERROR [SERVER] process (ob_mysql_end_trans_cb.cpp:{n}) [{tid}][T1002_L0_G0][T1002][Y0-0000000000000000-0-0] [lt={n}][errcode=-6002] fail to end trans, rollback(ret=-6002) BACKTRACE:0x12a0c6d7",
    "{ts} WDIAG [RS.COMPACTION] verify_tablet_replica_checksum (ob_checksum_validator.cpp:416) [{tid}][T1002_MergeSche][T1002][Y0-0000000000000000-0-0] [lt={n}][errcode=-4012] fail to check major tablet_replica checksum(ret=-4012, ret=\"OB_TIMEOUT\", tenant_id=1002)",
];

const OB4_ALERT_ROUTINE: &[&str] = &[
    "{ts}|INFO|SERVER|OB_SERVER_START_SUCCESS|0||{tid}|observer|Y0-0000000000000000-0-0|start|ob_server.cpp:1061|\"observer start service\"",
    "{ts}|INFO|LOG|OB_LOG_SERVICE_START_SUCCESS|0|1002|{tid}|OBServer|Y0-0000000000000000-0-0|start|ob_log_service.h:224|\"OBServer log service start success, cost {big} us.\"",
    "{ts}|INFO|STORAGE|OB_MAJOR_MERGE_FINISHED|0|1002|{tid}|T1002_MergeSche|Y0-0000000000000000-0-0|finish_merge|ob_tenant_freeze_info_mgr.cpp:{n}|\"major merge finished\"",
];

fn ob4(day: i64) -> i64 {
    day * DAY
}

#[allow(clippy::too_many_lines)] // a table of incidents, one entry per rule
pub(super) fn ob4_specs() -> Vec<Spec> {
    let ob = vec![
        (
            ob4(0) + 9 * HOUR,
            vec![ev(
                0,
                "{ts} ERROR [COORDINATOR] detect_palf_disk_full_ (ob_failure_detector.cpp:391) [{tid}][T1_Occam][T1][Y0-0000000000000000-0-0] [lt={n}][errcode=-4264] clog disk is almost full, add failure event(clog_disk_full_event={type:\"RESOURCE NOT ENOUGH\", module:\"LOG\"}, now={big})",
                &["ObClogDiskAlmostFull"],
                &[],
            )],
        ),
        (
            ob4(0) + 10 * HOUR,
            vec![ev(
                0,
                "{ts} ERROR [PALF] try_recycle_blocks (palf_env_impl.cpp:711) [{tid}][T1002_PalfGC][T1002][Y0-0000000000000000-0-0] [lt={n}][errcode=-4264] log disk space is almost full(ret=-4264, total_size(MB)=30720, used_size(MB)=29286)",
                &["ObLogDiskAlmostFull"],
                &[],
            )],
        ),
        (
            ob4(0) + 11 * HOUR,
            vec![ev(
                0,
                "{ts} WDIAG [PALF] submit_log (palf_handle_impl.cpp:489) [{tid}][T1002_TxLoop][T1002][Y0-0000000000000000-0-0] [lt={n}][errcode=-4264] submit_log failed(ret=-4264, palf_id=1001)",
                &["ObLogDiskFull"],
                &[],
            )],
        ),
        (
            ob4(1) + 3 * HOUR,
            vec![
                ev(
                    0,
                    "{ts} ERROR [COORDINATOR] detect_palf_hang_failure_ (ob_failure_detector.cpp:522) [{tid}][T1_Occam][T1][Y0-0000000000000000-0-0] [lt={n}][errcode=-4392] clog disk may be hung, add failure event(clog_disk_last_working_time={big})",
                    &["ObDiskHung"],
                    &[("disk", "clog")],
                ),
                ev(
                    1,
                    "{ts} WDIAG [COMMON] wait (ob_io_define.cpp:1540) [{tid}][T1002_L0_G0][T1002][Y0-0000000000000000-0-0] [lt={n}][errcode=-4404] IO wait timeout(timeout_ms=10000)",
                    &["ObDiskIoError"],
                    &[("errcode", "4404")],
                ),
            ],
        ),
        (
            ob4(1) + 4 * HOUR,
            vec![ev(
                0,
                "{ts} WDIAG [STORAGE.BLKMGR] alloc_block (ob_block_manager.cpp:316) [{tid}][T1002_DagSchedu][T1002][Y0-0000000000000000-0-0] [lt={n}][errcode=-4184] Failed to alloc block from io device",
                &["ObDataDiskFull"],
                &[],
            )],
        ),
        burst(
            ob4(1) + 14 * HOUR,
            12,
            2,
            "{ts} WDIAG [STORAGE] check_tenant_out_of_memstore_limit_ (ob_storage_table_guard.cpp:211) [{tid}][T1002_L0_G0][T1002][Y0-0000000000000000-0-0] [lt={n}][errcode=-4030] this tenant is already out of memstore limit or some thing wrong.(tenant_id=1002)",
            &["ObMemstoreFull"],
            &[("tenant_id", "1002"), ("errcode", "4030")],
        ),
        burst(
            ob4(2) + 2 * HOUR,
            12,
            1,
            "{ts} WDIAG [LIB] ob_malloc (ob_malloc.h:56) [{tid}][T1002_L0_G0][T1002][Y0-0000000000000000-0-0] [lt={n}][errcode=-4013] allocate memory fail(attr=tenant_id=1002, label=SqlExec, ctx_id=0, nbyte=2097152)",
            &["ObMemoryAllocFailures"],
            &[("tenant_id", "1002"), ("errcode", "4013")],
        ),
        burst(
            ob4(2) + 20 * HOUR,
            25,
            3,
            "{ts} WDIAG [RPC.FRAME] rpc_encode_req (ob_rpc_net_handler.cpp:78) [{tid}][T1_RpcTimer][T1][Y0-0000000000000000-0-0] [lt={n}][errcode=-4124] connect to peer failed(ret=-4124, addr=\"10.0.0.13:2882\")",
            &["ObRpcFailures"],
            &[("errcode", "4124")],
        ),
        burst(
            ob4(3) + 6 * HOUR,
            22,
            5,
            "{ts} WDIAG [SQL.DAS] refresh_partition_location_cache (ob_das_location_router.cpp:1420) [{tid}][T1002_L0_G0][T1002][Y0-0000000000000000-0-0] [lt={n}][errcode=-7006] leader is invalid(ret=-7006, ls_id={id:1001})",
            &["ObLeaderTrouble"],
            &[("errcode", "7006")],
        ),
        burst(
            ob4(3) + 12 * HOUR,
            3,
            120,
            "{ts} WDIAG [SHARE] call_service (ob_web_service_root_addr.cpp:434) [{tid}][T1_ConfigMgr][T1][Y0-0000000000000000-0-0] [lt={n}][errcode=-4216] call web service failed(ret=-4216, url=\"http://ocp:8080/services?Action=ObRootServiceRegister\", timeout_ms=2000)",
            &["ObConfigServerUnreachable"],
            &[],
        ),
        burst(
            ob4(4) + HOUR,
            6,
            1,
            "{ts} INFO  ob_log.cpp:1034 [{tid}][T1002_L0_G0][T1002][Y0-0000000000000000-0-0] [lt=0] REACH SYSLOG RATE LIMIT [bandwidth]",
            &["ObSyslogRateLimited"],
            &[],
        ),
        (
            ob4(4) + 8 * HOUR,
            vec![ev(
                0,
                "{ts} ERROR [STORAGE.TRANS] handle_trans_msg (ob_trans_part_ctx.cpp:6120) [{tid}][T1002_TxLoop][T1002][Y0-0000000000000000-0-0] [lt={n}][errcode=-4016] unexpected trans state(state=INIT) BACKTRACE:0x12a0c6d7",
                &["ObInternalError"],
                &[],
            )],
        ),
        (
            ob4(5) + 3 * HOUR,
            vec![
                ev(
                    0,
                    "CRASH ERROR!!! IP=7f1bd7c4c9fc, RBP=7f1b4f1f5e80, sig=11, sig_code=1, sig_addr=(nil), RLIMIT_CORE=unlimited, timestamp=1741496400113004, tid={tid}, tname=T1002_L0_G0, trace_id=Y0-0000000000000000-0-0, extra_info=(), lbt=0x12a0c6d7 0x129ff1e2, SQL_ID=, SQL_STRING=",
                    &["ObServerCrashed"],
                    &[("signal", "11")],
                ),
                ev(
                    40,
                    "{ts} INFO  [SERVER] main (main.cpp:560) [{tid}][observer][T0][Y0-0000000000000000-0-0] [lt=1] [OBSERVER_NOTICE] start to init observer",
                    &["ObServerStarting"],
                    &[],
                ),
                ev(
                    42,
                    "{ts} ERROR [SERVER] main (main.cpp:630) [{tid}][observer][T0][Y0-0000000000000000-0-0] [lt=5][errcode=-4388] [OBSERVER_NOTICE] fail to init observer(ret=-4388) BACKTRACE:0x12a0c6d7",
                    &["ObServerStartFailed"],
                    &[],
                ),
                ev(
                    100,
                    "{ts} INFO  [SERVER] main (main.cpp:560) [{tid}][observer][T0][Y0-0000000000000000-0-0] [lt=1] [OBSERVER_NOTICE] start to init observer",
                    &["ObServerStarting"],
                    &[],
                ),
                ev(
                    160,
                    "{ts} INFO  [SERVER] start (ob_server.cpp:1061) [{tid}][observer][T0][Y0-0000000000000000-0-0] [lt=3] [OBSERVER_NOTICE] observer start service(start_service_time={big})",
                    &[],
                    &[],
                ),
            ],
        ),
        (
            ob4(5) + 20 * HOUR,
            vec![
                ev(
                    0,
                    "{ts} INFO  [SERVER] set_stop (ob_server.cpp:1318) [{tid}][SignalHandle][T0][Y0-0000000000000000-0-0] [lt=9] [OBSERVER_NOTICE] observer is setted to stop",
                    &[],
                    &[],
                ),
                ev(
                    0,
                    "{ts} INFO  [SERVER] stop (ob_server.cpp:1326) [{tid}][observer][T0][Y0-0000000000000000-0-0] [lt=4] [OBSERVER_NOTICE] stop observer begin",
                    &["ObServerStopped"],
                    &[],
                ),
                ev(
                    1,
                    "{ts} INFO  [SERVER] stop (ob_server.cpp:1329) [{tid}][observer][T0][Y0-0000000000000000-0-0] [lt=3] begin to stop OB_LOGGER",
                    &[],
                    &[],
                ),
                ev(
                    300,
                    "{ts} INFO  [SERVER] main (main.cpp:560) [{tid}][observer][T0][Y0-0000000000000000-0-0] [lt=1] [OBSERVER_NOTICE] start to init observer",
                    &["ObServerStarting"],
                    &[],
                ),
            ],
        ),
        (
            ob4(6) + 2 * HOUR,
            vec![ev(
                0,
                "{ts} ERROR [RS.COMPACTION] verify_tablet_replica_checksum (ob_checksum_validator.cpp:412) [{tid}][T1002_MergeSche][T1002][YB420A00010B-00061F1D5E8A0012-0-0] [lt={n}][errcode=-4103] ERROR! ERROR! ERROR! checksum error in major tablet_replica_checksum(ret=-4103, ret=\"OB_CHECKSUM_ERROR\", tenant_id=1002, frozen_scn={val:1741485600000000000}, pair_cnt={n}) BACKTRACE:0x12a0c6d7 0x129ff1e2",
                &["ObMajorCompactionError"],
                &[("tenant_id", "1002")],
            )],
        ),
    ];
    let alert = vec![
        (
            ob4(0) + 10 * HOUR,
            vec![ev(
                0,
                "{ts}|ERROR|LOG|OB_LOG_OUTOF_DISK_SPACE|-4264|1002|{tid}|T1002_PalfGC|Y0-0000000000000000-0-0|try_recycle_blocks|palf_env_impl.cpp:711|\"log disk space is almost full\"",
                &["ObAlertLogError"],
                &[("event", "OB_LOG_OUTOF_DISK_SPACE"), ("tenant_id", "1002")],
            )],
        ),
        (
            ob4(1) + 14 * HOUR,
            vec![ev(
                0,
                "{ts}|WARN|STORAGE|OB_TENANT_MEMORY_NOT_ENOUGH|-4030|1002|{tid}|T1002_L0_G0|Y0-0000000000000000-0-0|check_tenant_out_of_memstore_limit_|ob_storage_table_guard.cpp:211|\"this tenant is already out of memstore limit\"",
                &["ObAlertLogWarning"],
                &[("errcode", "-4030")],
            )],
        ),
    ];
    vec![
        Spec {
            path: "home/admin/oceanbase/log/observer.log",
            stamp: Stamp::Ob,
            step: 20,
            routine: OB4_ROUTINE,
            incidents: ob,
        },
        Spec {
            path: "home/admin/oceanbase/log/alert/alert.log",
            stamp: Stamp::Plain,
            step: 1_800,
            routine: OB4_ALERT_ROUTINE,
            incidents: alert,
        },
    ]
}
