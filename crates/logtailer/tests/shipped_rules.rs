//! The shipped rules (`rules/*.yaml`) against a generated week of logs, through the real
//! binary's `scan`: OBServer 3.x and 4.x (observer.log, rootservice.log, election.log, the
//! 4.2.3+ alert.log), OBProxy (obproxy.log, obproxy_diagnosis.log, obproxy_error.log),
//! Clusterware 10.2 and 11.2 (two-line alert<host>.log records, crsd.log, ocssd.log) and 19c
//! (ADR alert.log), and /var/log/messages. The logs are mostly routine lines, routine WARN and
//! ERROR lines among them, with incidents mixed in at known lines; the test asserts that every
//! incident record matches exactly the alerts meant for it, that no other line matches any
//! rule, and that every shipped rule has an incident here or in the real-line set
//! (`real_lines.rs`).
//!
//! `scan` does not apply `for_count`/`within` (it shows the matches the counters would see),
//! so a burst incident lists its alert on every line of the burst, and a restart line matches
//! both ObproxyStarted and ObproxyRestartLoop; the inline tests cover the counting.
//! Deterministic: one seeded generator, fixed incident times.
#![allow(clippy::disallowed_methods, clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// 2025-03-03 00:00:00 UTC, a Monday.
const START: i64 = 1_740_960_000;
const WEEK: i64 = 7 * 86_400;
const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

/// splitmix64: small, seeded, good enough to pick templates and jitter.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// How a log stamps its lines.
#[derive(Clone, Copy)]
enum Stamp {
    /// `[2025-03-03 00:00:01.123456]` (OBServer, obproxy.log, obproxy_diagnosis.log).
    Ob,
    /// `2025-03-03 00:00:01.123456` (alert.log rows, obproxy_error.log).
    Plain,
    /// `2025-03-03 00:00:01.123` (Clusterware 10.2/11.2.0.3 alert log, 19c alert.log).
    Crs,
    /// `2025-03-03 00:00:01.123:` (11.2.0.4 alert log, 11.2 crsd.log/ocssd.log).
    CrsColon,
    /// `Mar  3 00:00:01`.
    Syslog,
}

impl Stamp {
    fn format(self, t: i64, rng: &mut Rng) -> String {
        let at = jiff::Timestamp::from_second(t).unwrap().to_zoned(jiff::tz::TimeZone::UTC);
        let date = at.strftime("%Y-%m-%d %H:%M:%S");
        match self {
            Stamp::Ob => format!("[{date}.{:06}]", rng.below(1_000_000)),
            Stamp::Plain => format!("{date}.{:06}", rng.below(1_000_000)),
            Stamp::Crs => format!("{date}.{:03}", rng.below(1_000)),
            Stamp::CrsColon => format!("{date}.{:03}:", rng.below(1_000)),
            Stamp::Syslog => at.strftime("%b %e %H:%M:%S").to_string(),
        }
    }
}

/// Fills a template: `{ts}` with the stamp, and each `{tid}`, `{n}`, `{big}`, `{ms}`, `{cs}`
/// with a fresh number.
fn fill(tpl: &str, ts: &str, rng: &mut Rng) -> String {
    let mut out = tpl.replace("{ts}", ts);
    for (key, lo, hi) in [
        ("{tid}", 1_000, 99_999),
        ("{n}", 1, 4_096),
        ("{big}", 1 << 30, 1 << 40),
        ("{ms}", 0, 999),
        ("{cs}", 500_000, 999_999),
    ] {
        while let Some(i) = out.find(key) {
            let v = lo + rng.below(hi - lo);
            out.replace_range(i..i + key.len(), &v.to_string());
        }
    }
    out
}

/// One record of an incident: written `dt` seconds after the incident starts, matching
/// exactly `alerts` (none: a line of the incident that must stay quiet) with at least
/// `labels`. A template with `\n` is a multi-line record; the match is on its first line.
struct Ev {
    dt: i64,
    tpl: &'static str,
    alerts: &'static [&'static str],
    labels: &'static [(&'static str, &'static str)],
}

const fn ev(
    dt: i64,
    tpl: &'static str,
    alerts: &'static [&'static str],
    labels: &'static [(&'static str, &'static str)],
) -> Ev {
    Ev { dt, tpl, alerts, labels }
}

/// `n` records of one template, `every` seconds apart.
fn burst(
    at: i64,
    n: i64,
    every: i64,
    tpl: &'static str,
    alerts: &'static [&'static str],
    labels: &'static [(&'static str, &'static str)],
) -> (i64, Vec<Ev>) {
    (at, (0..n).map(|i| ev(i * every, tpl, alerts, labels)).collect())
}

/// A log to generate: routine records every `step` seconds on average, and incidents at
/// fixed offsets from START.
struct Spec {
    path: &'static str,
    stamp: Stamp,
    step: u64,
    routine: &'static [&'static str],
    incidents: Vec<(i64, Vec<Ev>)>,
}

/// What a record must match.
#[derive(Debug)]
struct Expect {
    alerts: Vec<&'static str>,
    labels: &'static [(&'static str, &'static str)],
}

struct Log {
    path: PathBuf,
    lines: Vec<String>,
    /// First line of each incident record (1-based) and what it must match.
    expect: BTreeMap<u64, Expect>,
}

impl Log {
    /// Appends a record (one or more lines); returns the number of its first line.
    fn push(&mut self, record: &str) -> u64 {
        let first = self.lines.len() as u64 + 1;
        self.lines.extend(record.split('\n').map(str::to_string));
        first
    }
}

fn generate(root: &Path, spec: Spec, rng: &mut Rng) -> Log {
    let mut incidents = spec.incidents;
    incidents.sort_by_key(|i| i.0);
    let mut log = Log { path: root.join(spec.path), lines: Vec::new(), expect: BTreeMap::new() };
    let mut t = START + rng.below(spec.step) as i64;
    let mut next = 0;
    while t < START + WEEK {
        while next < incidents.len() && START + incidents[next].0 <= t {
            let (at, evs) = &incidents[next];
            for e in evs {
                let when = START + at + e.dt;
                let ts = spec.stamp.format(when, rng);
                let first = log.push(&fill(e.tpl, &ts, rng));
                if !e.alerts.is_empty() {
                    let mut alerts = e.alerts.to_vec();
                    alerts.sort_unstable();
                    log.expect.insert(first, Expect { alerts, labels: e.labels });
                }
                t = t.max(when + 1);
            }
            next += 1;
        }
        let tpl = spec.routine[rng.below(spec.routine.len() as u64) as usize];
        let ts = spec.stamp.format(t, rng);
        log.push(&fill(tpl, &ts, rng));
        t += (spec.step / 2 + rng.below(spec.step)) as i64;
    }
    assert_eq!(next, incidents.len(), "{}: an incident after the week", spec.path);
    log
}

// ---------------------------------------------------------------------------------------
// OBServer 4.x: observer.log and the 4.2.3+ alert log.

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
fn ob4_specs() -> Vec<Spec> {
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

// ---------------------------------------------------------------------------------------
// OBServer 3.x: observer.log, rootservice.log, election.log.

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
fn ob3_specs() -> Vec<Spec> {
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

// ---------------------------------------------------------------------------------------
// OBProxy 4.x.

const PROXY_ROUTINE: &[&str] = &[
    "{ts} INFO  [PROXY.NET] accept (ob_mysql_session_accept.cpp:36) [{tid}][Y0-00007F3A4D2F{n}] [lt={n}] [dc=0] [ObMysqlSessionAccept:main_event] accepted connection(netvc=0x7f3a4c{n}, client_ip={10.20.0.15:5{n}})",
    "{ts} INFO  [PROXY.SM] ob_mysql_sm.cpp:10223 [{tid}][Y0-00007F3A4D2F{n}] [lt={n}] [dc=0] Slow Query: ((client_ip={10.20.0.16:4{n}}, server_ip={10.20.1.11:2881}, cs_id={cs}, proxy_sessid={big}, ss_id={n}, server_sessid={big}, sql=select * from orders where id = ?, cmd=OB_MYSQL_COM_QUERY, total_time={ms}ms))",
    "{ts} INFO  [PROXY] do_repeat_task (ob_async_common_task.cpp:{n}) [{tid}][Y0-0000000000000000] [lt={n}] [dc=0] succ to refresh server state(cluster_name=obcluster, server_count=3)",
    "{ts} WDIAG [PROXY.SM] setup_get_cluster_resource (ob_mysql_sm.cpp:1625) [{tid}][Y0-00007F3A4D2F{n}] [lt=0] [dc=0] cluster does not exist, this connection will disconnect(sm_id={cs}, is_clustername_from_default=false, cluster_name=obclustr, ret=-4669)",
    "{ts} WARN  [PROXY.TXN] handle_error_resp (ob_mysql_transact.cpp:3615) [{tid}][Y0-00007F3A4D2F{n}] [lt={n}] [dc=0] get err pkt from observer, not forward to client, will be consumed soon, and maybe need retry(send_action=\"SERVER_SEND_REQUEST\", state=\"CONNECTION_ALIVE\", error_type=\"REQUEST_TENANT_NOT_IN_SERVER_ERROR\")",
    "{ts} WARN  [PROXY] set_alive_congested_free (ob_congestion_entry.cpp:378) [{tid}][Y0-00007F3A4D2F{n}] [lt={n}] [dc=0] set alive congested free(this={ref_count:3, server_ip:{10.20.1.13:2881}, server_state:\"ACTIVE\", alive_congested:0})",
    "{ts} EDIAG [PROXY.SS] do_io_close (ob_mysql_server_session.cpp:{n}) [{tid}][Y0-00007F3A4D2F{n}] [lt={n}] [dc=0] server session is closed by peer(ss_id={n}, server_ip={10.20.1.12:2881}, ret=-10016)",
];

const DIAG_ROUTINE: &[&str] = &[
    "{ts} [{tid}][Y0-00007F3A4D2F{n}] [CONNECTION](trace_type=\"CLIENT_VC_TRACE\", connection_diagnosis={cs_id:{cs}, ss_id:{n}, proxy_session_id:{big}, server_session_id:{big}, client_addr:\"10.20.0.15:5{n}\", server_addr:\"10.20.1.11:2881\", cluster_name:\"obcluster\", tenant_name:\"app_tenant\", user_name:\"app\", error_code:-10010, error_msg:\"An EOS event received from client while obproxy reading request\", request_cmd:\"COM_SLEEP\", sql_cmd:\"COM_END\"}{vc_event:\"VC_EVENT_EOS\", total_time(us):{big}, user_sql:\"\"})",
    "{ts} [{tid}][Y0-00007F3A4D2F{n}] [CONNECTION](trace_type=\"TIMEOUT_TRACE\", connection_diagnosis={cs_id:{cs}, ss_id:{n}, proxy_session_id:{big}, server_session_id:{big}, client_addr:\"10.20.0.16:4{n}\", server_addr:\"10.20.1.12:2881\", cluster_name:\"obcluster\", tenant_name:\"app_tenant\", user_name:\"app\", error_code:-10022, error_msg:\"OBProxy inactivity timeout\", request_cmd:\"COM_SLEEP\", sql_cmd:\"COM_END\"}{timeout:28800000000, timeout_event:\"CLIENT_WAIT_TIMEOUT\", total_time(us):{big}})",
    "{ts} [{tid}][Y0-00007F3A4D2F{n}] [LOGIN](trace_type=\"LOGIN_TRACE\", connection_diagnosis={cs_id:{cs}, ss_id:0, proxy_session_id:0, server_session_id:0, client_addr:\"10.20.0.31:5{n}\", server_addr:\"10.20.1.11:2881\", cluster_name:\"obcluster\", tenant_name:\"app_tenant\", user_name:\"report\", error_code:-1045, error_msg:\"Access denied for user 'report'@'10.20.0.31' (using password: YES)\", request_cmd:\"OB_MYSQL_COM_LOGIN\", sql_cmd:\"OB_MYSQL_COM_LOGIN\", req_total_time(us):{n}}{internal_sql:\"\", login_result:\"failed\"})",
    "{ts} [{tid}][Y0-00007F3A4D2F{n}] [CONNECTION](trace_type=\"PROXY_INTERNAL_TRACE\", connection_diagnosis={cs_id:{cs}, ss_id:{n}, proxy_session_id:{big}, server_session_id:{big}, client_addr:\"10.20.0.40:4{n}\", server_addr:\"10.20.1.11:2881\", cluster_name:\"obcluster\", tenant_name:\"app_tenant\", user_name:\"app\", error_code:-5065, error_msg:\"connection was killed by user session {cs}\", request_cmd:\"COM_SLEEP\", sql_cmd:\"COM_END\"}{user_sql:\"\"})",
    "{ts} [{tid}][Y0-00007F3A4D2F{n}] [CONNECTION](trace_type=\"SERVER_VC_TRACE\", connection_diagnosis={cs_id:{cs}, ss_id:{n}, proxy_session_id:{big}, server_session_id:{big}, client_addr:\"10.20.0.17:3{n}\", server_addr:\"10.20.1.11:2881\", cluster_name:\"obcluster\", tenant_name:\"app_tenant\", user_name:\"app\", error_code:-10016, error_msg:\"An EOS event received while proxy reading response\", request_cmd:\"COM_QUERY\", sql_cmd:\"COM_QUERY\"}{vc_event:\"VC_EVENT_EOS\", total_time(us):{big}, user_sql:\"select 1\"})",
];

const ERRLOG_ROUTINE: &[&str] = &[
    "{ts},obproxy_prod,,,,obcluster:app_tenant:orders,OB_MYSQL,t_missing,,OB_MYSQL_COM_QUERY,SELECT,failed,-5019,,{n}us,0us,0us,{n}us,Y0-00007F3A4D2F{n},,10.20.0.15:5{n},,0,10.20.1.11:2881,Table doesn't exist,",
    "{ts},obproxy_prod,,,,obcluster:app_tenant:orders,OB_MYSQL,orders,,OB_MYSQL_COM_QUERY,INSERT,failed,-5024,,{n}us,0us,0us,{n}us,Y0-00007F3A4D2F{n},,10.20.0.16:4{n},,0,10.20.1.12:2881,Duplicate entry,",
    "{ts},obproxy_prod,,,,obcluster:app_tenant:orders,OB_MYSQL,orders,,OB_MYSQL_COM_QUERY,SELECT,failed,-4012,,10{ms}{ms}us,0us,0us,10{ms}{ms}us,Y0-00007F3A4D2F{n},,10.20.0.17:3{n},,0,10.20.1.13:2881,Timeout,",
    "{ts},obproxy_prod,,,,obclustr:sys:,OB_MYSQL,,,OB_MYSQL_COM_LOGIN,,failed,-4669,,{n}us,0us,0us,0us,Y0-00007F3A4D2F{n},,127.0.0.1:9{n},,0,,cluster not exist,",
    "{ts},obproxy_prod,,,,obcluster:app_tenant:orders,OB_MYSQL,orders,,OB_MYSQL_COM_QUERY,UPDATE,failed,-6003,,{cs}us,0us,0us,{cs}us,Y0-00007F3A4D2F{n},,10.20.0.15:5{n},,0,10.20.1.11:2881,Deadlock,",
];

const PROXY_START: &str = "{ts} INFO  [PROXY] start (ob_proxy_main.cpp:541) [{tid}][Y0-0000000000000000] [lt=6] [dc=0] has no inherited sockets, start new obproxy(info={is_inherited:false, is_parent:true, hu_state:\"HU_STATE_WAIT_HU_CMD\"})";
const STARTS: &[&str] = &["ObproxyStarted", "ObproxyRestartLoop"];

#[allow(clippy::too_many_lines)] // a table of incidents, one entry per rule
fn proxy_specs() -> Vec<Spec> {
    let main = vec![
        (
            HOUR,
            vec![
                ev(
                    0,
                    "{ts} ERROR [PROXY] sig_direct_handler (ob_proxy_main.cpp:899) [{tid}][Y0-0000000000000000] [lt=0] [dc=0] receive signal(sig=15)",
                    &["ObproxyStopped"],
                    &[("signal", "15")],
                ),
                ev(3, PROXY_START, STARTS, &[]),
                ev(
                    4,
                    "{ts} INFO  [PROXY] do_start_work (ob_proxy_main.cpp:755) [{tid}][Y0-0000000000000000] [lt=12] [dc=0] obproxy init and start succ",
                    &[],
                    &[],
                ),
            ],
        ),
        (
            DAY + 2 * HOUR,
            vec![
                ev(
                    0,
                    "{ts} WDIAG [PROXY] do_monitor_mem (ob_proxy_main.cpp:1291) [{tid}][Y0-0000000000000000] [lt=10] [dc=0] obproxy's memory is out of limit's 80% !!!(mem_limited=2147483648, OTHER_MEMORY_SIZE=104857600, is_out_of_error_mem_limit=false, cur_pos=0)",
                    &["ObproxyMemoryHigh"],
                    &[],
                ),
                ev(
                    600,
                    "{ts} ERROR [PROXY] do_monitor_mem (ob_proxy_main.cpp:1264) [{tid}][Y0-0000000000000000] [lt=11] [dc=0] obproxy's memory is out of limit's 90% !!!(mem_limited=2147483648, OTHER_MEMORY_SIZE=104857600, is_out_of_error_mem_limit=true, cur_pos=3) BACKTRACE:0x9f1c2b3",
                    &["ObproxyMemoryLimit"],
                    &[],
                ),
                ev(
                    602,
                    "{ts} ERROR [PROXY] do_monitor_mem (ob_proxy_main.cpp:1240) [{tid}][Y0-0000000000000000] [lt=11] [dc=0] obproxy's memory is out of limit, will disable alloc memory from the OS(mem_limited=2147483648, OTHER_MEMORY_SIZE=104857600, is_out_of_mem_limit=true, cur_pos=4) BACKTRACE:0x9f1c2b3",
                    &["ObproxyMemoryLimit"],
                    &[],
                ),
            ],
        ),
        (
            2 * DAY + 2 * HOUR,
            vec![
                ev(
                    0,
                    "{ts} WARN  [PROXY] set_dead_congested (ob_congestion_entry.cpp:385) [{tid}][Y0-00007F3A4D2F8A10] [lt=14] [dc=0] set dead congested(this={ref_count:3, this:0x7f3a4c8e7010, zone_state:{zone_name:\"zone2\", state:\"ACTIVE\"}, server_ip:{10.20.1.12:2881}, server_state:\"ACTIVE\", dead_congested:1, stat_conn_failures:5})",
                    &["ObproxyServerDead"],
                    &[("server", "10.20.1.12:2881")],
                ),
                ev(
                    300,
                    "{ts} WARN  [PROXY] set_dead_congested_free (ob_congestion_entry.cpp:393) [{tid}][Y0-00007F3A4D2F8A10] [lt=9] [dc=0] set dead congested free(this={ref_count:3, server_ip:{10.20.1.12:2881}, dead_congested:0})",
                    &[],
                    &[],
                ),
            ],
        ),
        burst(
            3 * DAY + 4 * HOUR,
            3,
            60,
            "{ts} WDIAG [PROXY] get_newest_cluster_rs_list (ob_config_server_processor.cpp:213) [{tid}][Y0-00007F3A4D2F9C30] [lt=21] [dc=0] fail to fetch newest cluster rslist(cluster_name=obcluster, cluster_id=0, ret=-4216)",
            &["ObproxyConfigServerUnreachable"],
            &[],
        ),
        (
            3 * DAY + 5 * HOUR,
            vec![
                ev(
                    0,
                    "{ts} INFO  [PROXY] handle_create_complete (ob_metadb_create_cont.cpp:100) [{tid}][Y0-0000000000000000] [lt=8] [dc=0] fail to create metadb, will retry(remain retry count=1, data=NULL)",
                    &[],
                    &[],
                ),
                ev(
                    30,
                    "{ts} WDIAG [PROXY] handle_create_complete (ob_metadb_create_cont.cpp:109) [{tid}][Y0-0000000000000000] [lt=10] [dc=0] fail to crate metadb, no chance retry(data=NULL)",
                    &["ObproxyMetadbFailed"],
                    &[],
                ),
            ],
        ),
        (
            4 * DAY + 9 * HOUR,
            vec![ev(
                0,
                "{ts} ERROR [PROXY.TXN] handle_error_resp (ob_mysql_transact.cpp:3502) [{tid}][Y0-00007F3A4D301D40] [lt=15] [dc=0] connection id is repetitive, current proxy_id maybe already used by others, need DBA interference. (send_action=\"SERVER_SEND_LOGIN\", proxy_id=3, server_sessid={big})",
                &["ObproxyIdConflict"],
                &[],
            )],
        ),
        (
            5 * DAY + 3 * HOUR,
            vec![
                ev(
                    0,
                    "CRASH ERROR!!! IP=7f3a9c8e2b41, RBP=7f3a52ffd3e0, sig=11, sig_code=1, sig_addr=0x28, RLIMIT_CORE=unlimited, timestamp=1741410000004811, tid={tid}, tname=ET_NET 5, trace_id=Y0-00007F3A52C1B0E0, \nlbt=0x1e5a9f2 0x1e4c7d1 0x1b02a44",
                    &["ObproxyCrashed"],
                    &[("signal", "11")],
                ),
                ev(2, PROXY_START, STARTS, &[]),
                ev(
                    3,
                    "{ts} EDIAG [PROXY] do_start_work (ob_proxy_main.cpp:752) [{tid}][Y0-0000000000000000] [lt=4] [dc=0] obproxy init failed(ret=-4385)",
                    &["ObproxyStartFailed"],
                    &[],
                ),
                ev(
                    4,
                    "{ts} EDIAG [PROXY] start (ob_proxy_main.cpp:544) [{tid}][Y0-0000000000000000] [lt=17] [dc=0] fail to do start work(ret=-4385)",
                    &["ObproxyStartFailed"],
                    &[],
                ),
                ev(300, PROXY_START, STARTS, &[]),
                ev(601, PROXY_START, STARTS, &[]),
                ev(
                    602,
                    "{ts} INFO  [PROXY] do_start_work (ob_proxy_main.cpp:755) [{tid}][Y0-0000000000000000] [lt=12] [dc=0] obproxy init and start succ",
                    &[],
                    &[],
                ),
            ],
        ),
    ];
    let diag = vec![
        burst(
            2 * DAY + 2 * HOUR,
            6,
            1,
            "{ts} [{tid}][Y0-00007F3A4D2F1120] [CONNECTION](trace_type=\"SERVER_VC_TRACE\", connection_diagnosis={cs_id:{cs}, ss_id:0, proxy_session_id:{big}, server_session_id:0, client_addr:\"10.20.0.15:5{n}\", server_addr:\"10.20.1.12:2881\", cluster_name:\"obcluster\", tenant_name:\"app_tenant\", user_name:\"app\", error_code:-10013, error_msg:\"Fail to build connection to observer\", request_cmd:\"COM_QUERY\", sql_cmd:\"COM_QUERY\"}{vc_event:\"VC_EVENT_ERROR\", total_time(us):{big}, user_sql:\"select 1\"})",
            &["ObproxyObserverUnreachable"],
            &[("tenant_name", "app_tenant"), ("ob_cluster_name", "obcluster")],
        ),
        burst(
            4 * DAY + 22 * HOUR,
            4,
            5,
            "{ts} [{tid}][Y0-00007F3A4D2F3000] [CONNECTION](trace_type=\"LOGIN_TRACE\", connection_diagnosis={cs_id:{cs}, ss_id:0, proxy_session_id:0, server_session_id:0, client_addr:\"10.20.0.15:5{n}\", server_addr:\"*Not IP address [0]*:0\", cluster_name:\"obcluster\", tenant_name:\"app_tenant\", user_name:\"app\", error_code:-10018, error_msg:\"fail to check observer version, empty result\", request_cmd:\"COM_SLEEP\", sql_cmd:\"COM_LOGIN\"}{internal_sql:\"SELECT ob_version() AS cluster_version\"})",
            &["ObproxyClusterUnavailable"],
            &[("ob_cluster_name", "obcluster")],
        ),
        burst(
            6 * DAY + 8 * HOUR,
            5,
            2,
            "{ts} [{tid}][Y0-00007F3A4D2F5000] [CONNECTION](trace_type=\"PROXY_INTERNAL_TRACE\", connection_diagnosis={cs_id:{cs}, ss_id:0, proxy_session_id:{big}, server_session_id:0, client_addr:\"10.20.0.15:5{n}\", server_addr:\"\", cluster_name:\"obcluster\", tenant_name:\"app_tenant\", user_name:\"app\", error_code:-10019, error_msg:\"OBProxy reached the maximum number of retrying request\", request_cmd:\"COM_QUERY\", sql_cmd:\"COM_QUERY\"}{user_sql:\"select 1\"})",
            &["ObproxyRetryExhausted"],
            &[("tenant_name", "app_tenant")],
        ),
    ];
    let errlog = vec![burst(
        6 * DAY + 11 * HOUR,
        12,
        3,
        "{ts},obproxy_prod,,,,obcluster:app_tenant:orders,OB_MYSQL,orders,,OB_MYSQL_COM_QUERY,INSERT,failed,-4030,,{n}us,0us,0us,{n}us,Y0-00007F3A4D2F7{n},,10.20.0.15:5{n},,0,10.20.1.11:2881,Over tenant memory limits,",
        &["ObproxyRequestServerErrors"],
        &[("errcode", "-4030")],
    )];
    vec![
        Spec {
            path: "home/admin/obproxy/log/obproxy.log",
            stamp: Stamp::Ob,
            step: 20,
            routine: PROXY_ROUTINE,
            incidents: main,
        },
        Spec {
            path: "home/admin/obproxy/log/obproxy_diagnosis.log",
            stamp: Stamp::Ob,
            step: 120,
            routine: DIAG_ROUTINE,
            incidents: diag,
        },
        Spec {
            path: "home/admin/obproxy/log/obproxy_error.log",
            stamp: Stamp::Plain,
            step: 60,
            routine: ERRLOG_ROUTINE,
            incidents: errlog,
        },
    ]
}

// ---------------------------------------------------------------------------------------
// Oracle Clusterware: 11.2.0.4 and 10.2 alert<host>.log, 11.2 crsd.log/ocssd.log, 19c ADR.

const CRS11_ROUTINE: &[&str] = &[
    "{ts}\n[crsd(5120)]CRS-2772:Server 'rac1' has been assigned to pool 'ora.orcl'.",
    "{ts}\n[crsd(5120)]CRS-2672:Attempting to start 'ora.orcl.db' on 'rac1'",
    "{ts}\n[crsd(5120)]CRS-2676:Start of 'ora.orcl.db' on 'rac1' succeeded",
    "{ts}\n[cssd(4410)]CRS-1601:CSSD Reconfiguration complete. Active nodes are rac1 rac2 .",
    "{ts}\n[ctssd(5238)]CRS-2408:The clock on host rac1 has been updated by the Cluster Time Synchronization Service to be synchronous with the mean cluster time.",
    "{ts}\n[client(2{n})]CRS-10051:CVU found following errors with Clusterware setup : PRVF-4657 : Name resolution setup check for \"rac-scan\" (IP address: 10.0.2.20) failed",
];

const CRS10_ROUTINE: &[&str] = &[
    "{ts}\n[cssd(9822)]CRS-1601:CSSD Reconfiguration complete. Active nodes are rac3 rac4 .",
    "{ts}\n[crsd(7012)]CRS-1012:The OCR service started on node rac3.",
    "{ts}\n[evmd(7001)]CRS-1401:EVMD started on node rac3.",
    "{ts}\n[crsd(7012)]CRS-1201:CRSD started on node rac3.",
];

const CRS19_ROUTINE: &[&str] = &[
    "{ts} [CRSD(31102)]CRS-2772: Server 'rac2' has been assigned to pool 'ora.orcl'.",
    "{ts} [CRSD(31102)]CRS-2672: Attempting to start 'ora.LISTENER.lsnr' on 'rac2'",
    "{ts} [CRSD(31102)]CRS-2676: Start of 'ora.LISTENER.lsnr' on 'rac2' succeeded",
    "{ts} [OCSSD(4410)]CRS-1601: CSSD Reconfiguration complete. Active nodes are rac1 rac2 .",
    "{ts} [OCTSSD(5530)]CRS-2408: The clock on host rac2 has been updated by the Cluster Time Synchronization Service to be synchronous with the mean cluster time.",
    "{ts} [OHASD(2081)]CRS-8500: Oracle Clusterware OHASD process is starting with operating system process ID 2081",
    "{ts} [OCSSD(4410)]CRS-1707: Lease acquisition for node rac2 number 2 completed",
];

const CRSD_ROUTINE: &[&str] = &[
    "{ts} [   CRSPE][1158707520]{1:30416:{n}} State change received from rac1 for ora.orcl.db 1 1",
    "{ts} [    AGFW][1149225280]{0:0:2} Agfw Proxy Server received the message: RESOURCE_STATUS[Proxy] ID 20481:{n}",
    "{ts} [  OCRAPI][1137219904]procr_open_key: Key [SYSTEM.crs.e2eport] not found. Return [4]",
    "{ts} [   CRSPE][1158707520]{1:30416:{n}} CRS-2672: Attempting to start 'ora.orcl.db' on 'rac1'",
];

const OCSSD_ROUTINE: &[&str] = &[
    "{ts} [    CSSD][1113200960]clssnmSendingThread: sending status msg to all nodes",
    "{ts} [    CSSD][1113200960]clssnmSendingThread: sent 5 status msgs to all nodes",
    "{ts} [    CSSD][1097599296]clssgmExecuteClientRequest: Received data update request from client (0x{n}), type 1",
    "{ts} [    CSSD][1097599296]clssgmFreeRPCIndex: freeing rpc {n}",
];

#[allow(clippy::too_many_lines)] // a table of incidents, one entry per rule
fn crs_specs() -> Vec<Spec> {
    let crs11 = vec![
        (
            6 * DAY + 5 * HOUR,
            vec![ev(
                0,
                "{ts}\n[/u01/app/11.2.0/grid/bin/oraagent.bin(6021)]CRS-5011:Check of resource \"orcl\" failed: details at \"(:CLSN00007:)\" in \"/u01/app/11.2.0/grid/log/rac1/agent/crsd/oraagent_oracle/oraagent_oracle.log\"",
                &["CrsResourceCheckFailed"],
                &[("resource", "orcl")],
            )],
        ),
        (
            DAY + 3 * HOUR,
            vec![
                ev(
                    0,
                    "{ts}\n[cssd(4410)]CRS-1612:Network communication with node rac2 (2) missing for 50% of timeout interval.  Removal of this node from cluster in 14.140 seconds",
                    &["CrsNetworkHeartbeatMissing"],
                    &[("node", "rac2"), ("code", "1612")],
                ),
                ev(
                    7,
                    "{ts}\n[cssd(4410)]CRS-1611:Network communication with node rac2 (2) missing for 75% of timeout interval.  Removal of this node from cluster in 6.640 seconds",
                    &["CrsNetworkHeartbeatCritical"],
                    &[("node", "rac2"), ("code", "1611")],
                ),
                ev(
                    12,
                    "{ts}\n[cssd(4410)]CRS-1610:Network communication with node rac2 (2) missing for 90% of timeout interval.  Removal of this node from cluster in 2.630 seconds",
                    &["CrsNetworkHeartbeatCritical"],
                    &[("code", "1610")],
                ),
                ev(
                    15,
                    "{ts}\n[cssd(4410)]CRS-1607:Node rac2 is being evicted in cluster incarnation 472333840; details at (:CSSNM00007:) in /u01/app/11.2.0/grid/log/rac1/cssd/ocssd.log.",
                    &["CrsNodeEvicted"],
                    &[("node", "rac2")],
                ),
                ev(
                    20,
                    "{ts}\n[cssd(4410)]CRS-1601:CSSD Reconfiguration complete. Active nodes are rac1 .",
                    &[],
                    &[],
                ),
                ev(
                    24,
                    "{ts}\n[crsd(5120)]CRS-5504:Node down event reported for node 'rac2'.",
                    &["CrsNodeDownEvent"],
                    &[("node", "rac2")],
                ),
                ev(
                    70,
                    "{ts}\n[crsd(5120)]CRS-2769:Unable to failover resource 'ora.rac2.vip'.",
                    &["CrsResourceFailoverFailed"],
                    &[("resource", "ora.rac2.vip")],
                ),
            ],
        ),
        (
            DAY + 9 * HOUR,
            vec![ev(
                0,
                "{ts}\n[cssd(4410)]CRS-1663:Member kill issued by PID 13543 for 1 members, group DBORCL. Details at (:CSSGM00044:) in /u01/app/11.2.0/grid/log/rac1/cssd/ocssd.log.",
                &["CrsMemberKill"],
                &[("code", "1663"), ("group", "DBORCL")],
            )],
        ),
        (
            2 * DAY + 20 * HOUR,
            vec![
                ev(
                    0,
                    "{ts}\n[/u01/app/11.2.0/grid/bin/oraagent.bin(6021)]CRS-5818:Aborted command 'check' for resource 'ora.asm'. Details at (:CRSAGF00113:) {0:0:2} in /u01/app/11.2.0/grid/log/rac1/agent/ohasd/oraagent_grid/oraagent_grid.log.",
                    &["CrsAgentTrouble"],
                    &[("code", "5818"), ("resource", "ora.asm")],
                ),
                ev(
                    90,
                    "{ts}\n[/u01/app/11.2.0/grid/bin/oraagent.bin(6021)]CRS-5822:Agent '/u01/app/11.2.0/grid/bin/oraagent_grid' disconnected from server. Details at (:CRSAGF00117:) {0:1:4} in /u01/app/11.2.0/grid/log/rac1/agent/ohasd/oraagent_grid/oraagent_grid.log.",
                    &["CrsAgentTrouble"],
                    &[("code", "5822")],
                ),
            ],
        ),
        (
            3 * DAY + 15 * HOUR,
            vec![ev(
                0,
                "{ts}\n[crsd(5120)]CRS-2757:Command 'Start' timed out waiting for response from the resource 'ora.orcl.db'. Details at (:CRSPE00111:) {1:30416:2} in /u01/app/11.2.0/grid/log/rac1/crsd/crsd.log.",
                &["CrsResourceCommandTimeout"],
                &[("command", "Start"), ("resource", "ora.orcl.db")],
            )],
        ),
        (
            2 * DAY + 14 * HOUR,
            vec![
                ev(
                    0,
                    "{ts}\n[crsd(5120)]CRS-2765:Resource 'ora.orcl.db' has failed on server 'rac1'.",
                    &["CrsResourceFailed"],
                    &[("resource", "ora.orcl.db"), ("server", "rac1")],
                ),
                ev(
                    60,
                    "{ts}\n[crsd(5120)]CRS-2771:Maximum restart attempts reached for resource 'ora.orcl.db'; will not restart.",
                    &["CrsResourceRestartLimit"],
                    &[("resource", "ora.orcl.db")],
                ),
            ],
        ),
        (
            3 * DAY + 10 * HOUR,
            vec![
                ev(
                    0,
                    "{ts}\n[ctssd(5238)]CRS-2409:The clock on host rac1 is not synchronous with the mean cluster time. No action has been taken as the Cluster Time Synchronization Service is running in observer mode.",
                    &["CrsClockSyncTrouble"],
                    &[("code", "2409")],
                ),
                ev(
                    1_800,
                    "{ts}\n[ctssd(5238)]CRS-2409:The clock on host rac1 is not synchronous with the mean cluster time. No action has been taken as the Cluster Time Synchronization Service is running in observer mode.",
                    &["CrsClockSyncTrouble"],
                    &[("code", "2409")],
                ),
            ],
        ),
        (
            4 * DAY + 16 * HOUR,
            vec![ev(
                0,
                "{ts}\n[crsd(5120)]CRS-1013:The OCR location in an ASM disk group is inaccessible. Details in /u01/app/11.2.0/grid/log/rac1/crsd/crsd.log.",
                &["CrsOcrOlrInaccessible"],
                &[("code", "1013")],
            )],
        ),
        (
            5 * DAY + 6 * HOUR,
            vec![
                ev(
                    0,
                    "{ts}\n[cssd(4410)]CRS-1606:The number of voting files available, 0, is less than the minimum number of voting files required, 1, resulting in CSSD termination to ensure data integrity; details at (:CSSNM00018:) in /u01/app/11.2.0/grid/log/rac1/cssd/ocssd.log",
                    &["CrsVotingFileTrouble"],
                    &[("code", "1606")],
                ),
                ev(
                    1,
                    "{ts}\n[cssd(4410)]CRS-1656:The CSS daemon is terminating due to a fatal error; Details at (:CSSSC00012:) in /u01/app/11.2.0/grid/log/rac1/cssd/ocssd.log",
                    &["CrsNodeLeavingCluster"],
                    &[("code", "1656")],
                ),
                ev(
                    2,
                    "{ts}\n[cssd(4410)]CRS-1652:Starting clean up of CRSD resources.",
                    &["CrsCrsdCleanup"],
                    &[],
                ),
                ev(
                    9,
                    "{ts}\n[cssd(4410)]CRS-1654:Clean up of CRSD resources finished successfully.",
                    &[],
                    &[],
                ),
            ],
        ),
    ];
    // What the 11.2 daemon logs say during the incidents: crsd.log repeats the alert log's CRS
    // messages and raises nothing; ocssd.log has CSSD's own countdown and diagnosis.
    let crsd = vec![
        (
            2 * DAY + 14 * HOUR,
            vec![ev(
                0,
                "{ts} [   CRSPE][1158707520]{1:30416:2} CRS-2765: Resource 'ora.orcl.db' has failed on server 'rac1'.",
                &[],
                &[],
            )],
        ),
        (
            3 * DAY + 15 * HOUR,
            vec![ev(
                0,
                "{ts} [   CRSPE][1158707520]{1:30416:2} CRS-2757: Command 'Start' timed out waiting for response from the resource 'ora.orcl.db'. Details at (:CRSPE00111:) {1:30416:2} in /u01/app/11.2.0/grid/log/rac1/crsd/crsd.log.",
                &[],
                &[],
            )],
        ),
    ];
    let ocssd = vec![
        (
            DAY + 3 * HOUR,
            vec![
                ev(
                    0,
                    "{ts} [    CSSD][1113200960]clssnmPollingThread: node rac2 (2) at 50% heartbeat fatal, removal in 14.140 seconds",
                    &["CrsCssdHeartbeatFatal"],
                    &[("node", "rac2"), ("percent", "50")],
                ),
                ev(
                    7,
                    "{ts} [    CSSD][1113200960]clssnmPollingThread: node rac2 (2) at 75% heartbeat fatal, removal in 6.640 seconds",
                    &["CrsCssdHeartbeatFatal"],
                    &[("percent", "75")],
                ),
                ev(
                    14,
                    "{ts} [    CSSD][1113200960]clssnmvDHBValidateNCopy: node 2, rac2, has a disk HB, but no network HB, DHB has rcfg 472333840, wrtcnt, 1004011, LATS 4294910570, lastSeqNo 1004008, uniqueness 1381287819, timestamp 1741057214/1380740",
                    &["CrsCssdNoNetworkHeartbeat"],
                    &[("node", "rac2"), ("node_number", "2")],
                ),
                ev(
                    16,
                    "{ts} [    CSSD][1113200960]clssnmPollingThread: node rac2 (2) is impending reconfig, flag 132108, misstime 15360",
                    &["CrsCssdReconfigImpending"],
                    &[("node", "rac2")],
                ),
            ],
        ),
        (
            4 * DAY + 2 * HOUR,
            vec![
                ev(
                    0,
                    "{ts} [    CSSD][1105212352]clssscMonitorThreads clssnmvDiskPingThread not scheduled for 16020 msecs",
                    &["CrsCssdDiskPingStalled"],
                    &[("msecs", "16020")],
                ),
                ev(
                    20,
                    "{ts} [    CSSD][1105212352](:CSSNM00018:)clssnmvDiskCheck: Aborting, 0 of 1 configured voting disks available, need 1",
                    &["CrsCssdAbort"],
                    &[("available", "0")],
                ),
                ev(1, "{ts} [    CSSD][1105212352]###################################", &[], &[]),
                ev(
                    0,
                    "{ts} [    CSSD][1105212352]clssscExit: CSSD aborting from thread clssnmvDiskPingMonitorThread",
                    &["CrsCssdAbort"],
                    &[],
                ),
            ],
        ),
    ];
    let crs10 = vec![(
        3 * DAY + 18 * HOUR,
        vec![
            ev(
                0,
                "{ts}\n[cssd(9822)]CRS-1612:node rac4 (2) at 50% heartbeat fatal, eviction in 29.100 seconds",
                &["CrsNetworkHeartbeatMissing"],
                &[("node", "rac4")],
            ),
            ev(
                30,
                "{ts}\n[cssd(9822)]CRS-1607:Node rac4 is being evicted in cluster incarnation 123456789; details in /u01/crs/log/rac3/cssd/ocssd.log.",
                &["CrsNodeEvicted"],
                &[("node", "rac4")],
            ),
            ev(
                31,
                "{ts}\n[crsd(7012)]CRS-1006:The OCR location /dev/raw/raw1 is inaccessible. Details in /u01/crs/log/rac3/crsd/crsd.log.",
                &["CrsOcrOlrInaccessible"],
                &[("code", "1006")],
            ),
            ev(
                40,
                "{ts}\n[cssd(9822)]CRS-1604:CSSD voting file is offline: /dev/raw/raw3. Details in /u01/crs/log/rac3/cssd/ocssd.log.",
                &["CrsVotingFileTrouble"],
                &[("code", "1604")],
            ),
        ],
    )];
    let crs19 = vec![
        (
            3 * DAY + 2 * HOUR,
            vec![
                ev(
                    0,
                    "{ts} [GIPCD(3042)]CRS-7500: GIPC high availability connection to node rac1 failed",
                    &["CrsGipcTrouble"],
                    &[("code", "7500")],
                ),
                ev(
                    20,
                    "{ts} [ORAAGENT(7781)]CRS-5818: Aborted command 'check' for resource 'ora.LISTENER_SCAN1.lsnr'. Details at (:CRSAGF00113:) {1:38146:2} in /u01/app/grid/diag/crs/rac2/crs/trace/crsd_oraagent_grid.trc.",
                    &["CrsAgentTrouble"],
                    &[("resource", "ora.LISTENER_SCAN1.lsnr")],
                ),
            ],
        ),
        (
            2 * DAY + 4 * HOUR,
            vec![
                ev(
                    0,
                    "{ts} [OCSSD(4410)]CRS-1615: No I/O has completed after 50% of the maximum interval. Voting file /dev/asm-vote1 will be considered not functional in 99760 milliseconds",
                    &["CrsVotingFileIoSlow"],
                    &[("voting_file", "/dev/asm-vote1")],
                ),
                ev(
                    60,
                    "{ts} [OCSSD(4410)]CRS-1605: CSSD voting file is online: /dev/asm-vote1; details in /u01/app/grid/diag/crs/rac2/crs/trace/ocssd.trc.",
                    &[],
                    &[],
                ),
            ],
        ),
        (
            4 * DAY + 4 * HOUR,
            vec![
                ev(
                    0,
                    "{ts} [OHASD(2081)]CRS-8011: reboot advisory message from host: rac1, component: cssagent, with time stamp: L-2025-03-07-04:00:00.120",
                    &["CrsRebootAdvisory"],
                    &[("host", "rac1")],
                ),
                ev(
                    0,
                    "{ts} [OHASD(2081)]CRS-8013: reboot advisory message text: Rebooting after limit 28500 exceeded; disk timeout 28500, network timeout 27030",
                    &[],
                    &[],
                ),
                ev(
                    5,
                    "{ts} [OCSSD(4410)]CRS-1632: Node rac1 is being removed from the cluster in cluster incarnation 600001234",
                    &["CrsNodeLeavingCluster"],
                    &[("code", "1632")],
                ),
            ],
        ),
        (
            5 * DAY + 20 * HOUR,
            vec![
                ev(
                    0,
                    "{ts} [CRSD(31102)]CRS-8503: Oracle Clusterware process CRSD with operating system process ID 31102 experienced fatal signal or exception code 6.",
                    &["CrsProcessFatalSignal"],
                    &[("process", "CRSD")],
                ),
                ev(
                    9,
                    "{ts} [CRSD(31377)]CRS-8500: Oracle Clusterware CRSD process is starting with operating system process ID 31377",
                    &[],
                    &[],
                ),
                ev(
                    30,
                    "{ts} [OCTSSD(5530)]CRS-2402: The Cluster Time Synchronization Service aborted on host rac2. Details at (:ctsselect_msm3:) in /u01/app/grid/diag/crs/rac2/crs/trace/octssd.trc.",
                    &["CrsClockSyncTrouble"],
                    &[("code", "2402")],
                ),
                ev(
                    40,
                    "{ts} [OCSSD(4410)]CRS-1714: Unable to discover any voting files, retrying discovery in 15 seconds; Details at (:CSSNM00070:) in /u01/app/grid/diag/crs/rac2/crs/trace/ocssd.trc",
                    &["CrsVotingFileTrouble"],
                    &[("code", "1714")],
                ),
            ],
        ),
    ];
    vec![
        Spec {
            path: "u01/app/11.2.0/grid/log/rac1/alertrac1.log",
            stamp: Stamp::CrsColon,
            step: 1_800,
            routine: CRS11_ROUTINE,
            incidents: crs11,
        },
        Spec {
            path: "u01/app/11.2.0/grid/log/rac1/crsd/crsd.log",
            stamp: Stamp::CrsColon,
            step: 60,
            routine: CRSD_ROUTINE,
            incidents: crsd,
        },
        Spec {
            path: "u01/app/11.2.0/grid/log/rac1/cssd/ocssd.log",
            stamp: Stamp::CrsColon,
            step: 30,
            routine: OCSSD_ROUTINE,
            incidents: ocssd,
        },
        Spec {
            path: "u01/crs/log/rac3/alertrac3.log",
            stamp: Stamp::Crs,
            step: 3_600,
            routine: CRS10_ROUTINE,
            incidents: crs10,
        },
        Spec {
            path: "u01/app/grid/diag/crs/rac2/crs/trace/alert.log",
            stamp: Stamp::Crs,
            step: 1_800,
            routine: CRS19_ROUTINE,
            incidents: crs19,
        },
    ]
}

// ---------------------------------------------------------------------------------------
// /var/log/messages.

const MESSAGES_ROUTINE: &[&str] = &[
    "{ts} db1 systemd[1]: Started Session {n} of user admin.",
    "{ts} db1 systemd-logind[1021]: New session {n} of user admin.",
    "{ts} db1 CROND[{tid}]: (root) CMD (/usr/lib64/sa/sa1 1 1)",
    "{ts} db1 chronyd[902]: Selected source 10.0.0.2",
    "{ts} db1 rsyslogd[1188]: imjournal: journal files changed, reloading...  [v8.2102.0-10.el8 try https://www.rsyslog.com/e/0 ]",
    "{ts} db1 kernel: ixgbe 0000:3b:00.1 eth1: NIC Link is Up 10 Gbps, Flow Control: RX/TX",
    "{ts} db1 kernel: IPv6: ADDRCONF(NETDEV_UP): eth2: link is not ready",
    "{ts} db1 kernel: ata3: SATA link down (SStatus 0 SControl 300)",
    "{ts} db1 kernel: blk_update_request: I/O error, dev fd0, sector 0",
    "{ts} db1 kernel: Buffer I/O error on dev fd0, logical block 0, async page read",
    "{ts} db1 kernel: EXT4-fs (dm-0): mounted filesystem with ordered data mode. Opts: (null)",
    "{ts} db1 kernel: NMI watchdog: Shutting down hard lockup detector on all cpus",
    "{ts} db1 kernel: NMI watchdog: Enabled. Permanently consumes one hw-PMU counter.",
    "{ts} db1 multipathd[811]: sdc: add path (uevent)",
    "{ts} db1 kernel: bond0: link status definitely up for interface eth1, 10000 Mbps full duplex",
    "{ts} db1 kernel: EDAC MC: Ver: 3.0.0",
    "{ts} db1 kernel: oom_reaper: reaped process {tid} (python3), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB",
];

#[allow(clippy::too_many_lines)] // a table of incidents, one entry per rule
fn messages_spec() -> Spec {
    let incidents = vec![
        (
            DAY + 2 * HOUR,
            vec![
                ev(
                    0,
                    "{ts} db1 kernel: observer invoked oom-killer: gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj=0",
                    &["OsOomKillerInvoked"],
                    &[("invoker", "observer")],
                ),
                ev(
                    1,
                    "{ts} db1 kernel: Out of memory: Killed process 4242 (observer) total-vm:66125828kB, anon-rss:62914560kB, file-rss:0kB, shmem-rss:0kB",
                    &["OsOomKill"],
                    &[("process", "observer"), ("pid", "4242")],
                ),
            ],
        ),
        (
            DAY + 20 * HOUR,
            vec![
                ev(
                    0,
                    "{ts} db1 kernel: INFO: task ocssd.bin:1602 blocked for more than 120 seconds.",
                    &["OsHungTask"],
                    &[("process", "ocssd.bin")],
                ),
                ev(
                    0,
                    "{ts} db1 kernel: \"echo 0 > /proc/sys/kernel/hung_task_timeout_secs\" disables this message.",
                    &[],
                    &[],
                ),
                ev(
                    1,
                    "{ts} db1 kernel: INFO: task kworker/u16:2:2716 blocked for more than 120 seconds.",
                    &["OsHungTask"],
                    &[("process", "kworker/u16:2")],
                ),
            ],
        ),
        burst(
            2 * DAY + 7 * HOUR,
            4,
            1,
            "{ts} db1 kernel: blk_update_request: I/O error, dev sdb, sector {big} op 0x0:(READ) flags 0x0 phys_seg 1 prio class 0",
            &["OsDiskIoError"],
            &[("device", "sdb")],
        ),
        (
            2 * DAY + 7 * HOUR + 10,
            vec![ev(
                0,
                "{ts} db1 kernel: EXT4-fs (sdb1): Remounting filesystem read-only",
                &["OsFilesystemReadOnly"],
                &[],
            )],
        ),
        (
            3 * DAY + 13 * HOUR,
            vec![
                ev(
                    0,
                    "{ts} db1 kernel: ixgbe 0000:3b:00.1 eth1: NIC Link is Down",
                    &["OsNicLinkDown"],
                    &[("interface", "eth1")],
                ),
                ev(
                    0,
                    "{ts} db1 kernel: bond0: link status definitely down for interface eth1, disabling it",
                    &["OsBondingFailover"],
                    &[("bond", "bond0"), ("interface", "eth1")],
                ),
                ev(
                    0,
                    "{ts} db1 kernel: bond0: making interface eth2 the new active one",
                    &["OsBondingFailover"],
                    &[("bond", "bond0")],
                ),
                ev(
                    40,
                    "{ts} db1 kernel: ixgbe 0000:3b:00.1 eth1: NIC Link is Up 10 Gbps, Flow Control: RX/TX",
                    &[],
                    &[],
                ),
            ],
        ),
        (
            4 * DAY + 2 * HOUR,
            vec![ev(
                0,
                "{ts} db1 kernel: watchdog: BUG: soft lockup - CPU#3 stuck for 22s! [observer:4242]",
                &["OsCpuLockup"],
                &[("kind", "soft")],
            )],
        ),
        (
            4 * DAY + 15 * HOUR,
            vec![
                ev(
                    0,
                    "{ts} db1 kernel: mce: [Hardware Error]: Machine check events logged",
                    &["OsMachineCheck"],
                    &[],
                ),
                ev(
                    1,
                    "{ts} db1 kernel: EDAC MC0: 1 CE memory read error on CPU_SrcID#0_Ha#0_Chan#1_DIMM#0 (channel:1 slot:0 page:0x5a2c9c offset:0x0 grain:32 syndrome:0x0)",
                    &["OsMachineCheck"],
                    &[],
                ),
            ],
        ),
        (
            5 * DAY + 9 * HOUR,
            vec![
                ev(
                    0,
                    "{ts} db1 kernel: Uhhuh. NMI received for unknown reason 3d on CPU 12.",
                    &["OsNmiUnknown"],
                    &[("reason", "3d")],
                ),
                ev(
                    0,
                    "{ts} db1 kernel: Do you have a strange power saving mode enabled?",
                    &[],
                    &[],
                ),
                ev(0, "{ts} db1 kernel: Dazed and confused, but trying to continue", &[], &[]),
            ],
        ),
        (
            5 * DAY + 17 * HOUR,
            vec![
                ev(
                    0,
                    "{ts} db1 kernel: NMI: PCI system error (SERR) for reason a1 on CPU 0.",
                    &["OsNmiHardwareError"],
                    &[("kind", "PCI system error"), ("reason", "a1")],
                ),
                ev(0, "{ts} db1 kernel: Dazed and confused, but trying to continue", &[], &[]),
                ev(
                    30,
                    "{ts} db1 kernel: NMI: IOCK error (debug interrupt?) for reason 71 on CPU 0.",
                    &["OsNmiHardwareError"],
                    &[("kind", "IOCK error")],
                ),
            ],
        ),
        (
            6 * DAY + HOUR,
            vec![
                ev(
                    0,
                    "{ts} db1 kernel: Hangcheck: hangcheck value past margin!",
                    &["OsHangcheckPastMargin"],
                    &[],
                ),
                ev(2, "{ts} db1 kernel: sysrq: SysRq : Resetting", &["OsSysrqReset"], &[]),
            ],
        ),
    ];
    Spec {
        path: "var/log/messages",
        stamp: Stamp::Syslog,
        step: 30,
        routine: MESSAGES_ROUTINE,
        incidents,
    }
}

// ---------------------------------------------------------------------------------------

/// The alerts the real-line set (`tests/data/real-lines/*.yaml`) expects somewhere.
fn real_line_alerts() -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/real-lines");
    let mut alerts = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        for line in std::fs::read_to_string(entry.unwrap().path()).unwrap().lines() {
            if let Some(list) = line.strip_prefix("  expect: [").and_then(|l| l.strip_suffix(']')) {
                alerts.extend(list.split(", ").filter(|a| !a.is_empty()).map(str::to_string));
            }
        }
    }
    alerts
}

/// The shipped rule directory and the alert names its files define.
fn shipped_rules() -> (PathBuf, BTreeSet<String>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules");
    let mut alerts = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            for line in std::fs::read_to_string(&path).unwrap().lines() {
                if let Some(name) = line.strip_prefix("      - alert: ") {
                    alerts.insert(name.trim().to_string());
                }
            }
        }
    }
    (dir, alerts)
}

/// One match from `scan --format json`.
struct Match {
    alert: String,
    labels: BTreeMap<String, String>,
}

#[test]
fn a_week_of_logs_raises_the_incidents_and_nothing_else() {
    let root = tempfile::tempdir().unwrap();
    let mut rng = Rng(0x0b5e_4f1e_2025_0303);
    let mut specs = ob4_specs();
    specs.extend(ob3_specs());
    specs.extend(proxy_specs());
    specs.extend(crs_specs());
    specs.push(messages_spec());
    let logs: Vec<Log> = specs.into_iter().map(|s| generate(root.path(), s, &mut rng)).collect();
    let mut total = 0;
    for log in &logs {
        std::fs::create_dir_all(log.path.parent().unwrap()).unwrap();
        let mut text = log.lines.join("\n");
        text.push('\n');
        std::fs::write(&log.path, text).unwrap();
        total += log.lines.len();
    }
    assert!(total > 100_000, "a week of logs should be long: {total} lines");

    let (rules, alerts) = shipped_rules();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_obwatch-logtailer"));
    // Some logs of the week (crsd.log) are read by no group on purpose: nothing may fire there.
    cmd.arg("scan").arg("--rules").arg(&rules).args(["--format", "json", "--allow-unmatched"]);
    cmd.args(logs.iter().map(|l| &l.path));
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "scan failed: {}", String::from_utf8_lossy(&out.stderr));

    let mut found: BTreeMap<(String, u64), Vec<Match>> = BTreeMap::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let labels = v["labels"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect();
        let key = (v["file"].as_str().unwrap().to_string(), v["line"].as_u64().unwrap());
        let alert = v["alertname"].as_str().unwrap().to_string();
        found.entry(key).or_default().push(Match { alert, labels });
    }

    let mut problems = Vec::new();
    let mut covered = BTreeSet::new();
    let mut incidents = 0;
    for log in &logs {
        let file = log.path.to_string_lossy().into_owned();
        let short = log.path.strip_prefix(root.path()).unwrap().display().to_string();
        for (line, want) in &log.expect {
            incidents += 1;
            covered.extend(want.alerts.iter().map(|a| a.to_string()));
            let got = found.remove(&(file.clone(), *line)).unwrap_or_default();
            let mut names: Vec<&str> = got.iter().map(|m| m.alert.as_str()).collect();
            names.sort_unstable();
            if names != want.alerts {
                problems.push(format!(
                    "{short}:{line}: expected {:?}, got {names:?}\n    {}",
                    want.alerts,
                    log.lines[*line as usize - 1]
                ));
                continue;
            }
            for (k, v) in want.labels {
                if !got.iter().any(|m| m.labels.get(*k).map(String::as_str) == Some(*v)) {
                    problems.push(format!(
                        "{short}:{line}: no {:?} alert with {k}={v:?}; got {:?}",
                        want.alerts,
                        got.iter().map(|m| &m.labels).collect::<Vec<_>>()
                    ));
                }
            }
        }
        let stray: Vec<(String, u64)> = found.keys().filter(|(f, _)| *f == file).cloned().collect();
        for key in stray {
            let got = found.remove(&key).unwrap();
            let names: Vec<&str> = got.iter().map(|m| m.alert.as_str()).collect();
            problems.push(format!(
                "{short}:{}: a routine line raised {names:?}\n    {}",
                key.1,
                log.lines[key.1 as usize - 1]
            ));
        }
    }
    assert!(found.is_empty(), "matches in files the test did not write: {:?}", found.keys());
    // A rule proven on real lines (tests/real_lines.rs) needs no generated incident.
    covered.extend(real_line_alerts());
    let missing: Vec<&String> = alerts.difference(&covered).collect();
    if !missing.is_empty() {
        problems.push(format!("shipped rules without an incident in the corpus: {missing:?}"));
    }
    let shown = problems.len().min(40);
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems[..shown].join("\n")
    );
    assert!(incidents > 150, "{incidents} incident records");
}
