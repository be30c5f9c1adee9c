//! The statements, sorted by name (a test checks). Sources per query: obagent
//! `etc/module_config/monitor_ob.yaml` and the view references of OceanBase 3.2 and 4.2. The
//! statements are in `cluster.rs` and `tenant.rs`; this file keeps what they share and the
//! list.

use obwatch_common::metrics::MetricType::{Counter, Gauge, Untyped};

use std::time::Duration;

use super::{Field, HistogramSpec, Query, Scope, Shape};

/// obagent's cache time for its heavy counts.
const HOURLY: Option<Duration> = Some(Duration::from_secs(3600));

/// obagent's cache time for its per-minute metrics.
const MINUTELY: Option<Duration> = Some(Duration::from_secs(60));

/// `V$SYSSTAT` ids obagent exports from 3.x (reference/oceanbase.md §5.1): RPC, request queue,
/// clog, transactions, SQL counts and times, caches, I/O, memstore, tenant CPU and memory.
macro_rules! sysstat_ids_v3 {
    () => {
        "10000, 10001, 10002, 10003, 10004, 10005, 10006, 20000, 20001, 20002, 30000, 30001, 30002, 30005, 30006, 30007, 30008, 30009, 30010, 30011, 30012, 30013, 30080, 30081, 40000, 40001, 40002, 40003, 40004, 40005, 40006, 40007, 40008, 40009, 40010, 40011, 40012, 40018, 40019, 40030, 40116, 40117, 40118, 50000, 50001, 50002, 50004, 50005, 50008, 50009, 50010, 50011, 50037, 50038, 60000, 60001, 60002, 60003, 60004, 60005, 60019, 60020, 60021, 60022, 60023, 60024, 80040, 80041, 80057, 120000, 120001, 120008, 120009, 130000, 130001, 130002, 130004, 140002, 140003, 140005, 140006"
    };
}

/// The 4.x list: the 3.x ids less those 4.x dropped (30080, 30081, 40116-40118, 50002), plus
/// 60087.
macro_rules! sysstat_ids_v4 {
    () => {
        "10000, 10001, 10002, 10003, 10004, 10005, 10006, 20000, 20001, 20002, 30000, 30001, 30002, 30005, 30006, 30007, 30008, 30009, 30010, 30011, 30012, 30013, 40000, 40001, 40002, 40003, 40004, 40005, 40006, 40007, 40008, 40009, 40010, 40011, 40012, 40018, 40019, 40030, 50000, 50001, 50004, 50005, 50008, 50009, 50010, 50011, 50037, 50038, 60000, 60001, 60002, 60003, 60004, 60005, 60019, 60020, 60021, 60022, 60023, 60024, 60087, 80040, 80041, 80057, 120000, 120001, 120008, 120009, 130000, 130001, 130002, 130004, 140002, 140003, 140005, 140006"
    };
}

/// obagent's wait-event groups by event id (v$system_event).
macro_rules! event_group {
    () => {
        "CASE WHEN e.event_id = 10000 THEN 'INTERNAL' WHEN e.event_id = 13000 THEN 'SYNC_RPC' WHEN e.event_id = 14003 THEN 'ROW_LOCK_WAIT' WHEN (e.event_id >= 10001 AND e.event_id <= 11006) OR (e.event_id >= 11008 AND e.event_id <= 11011) THEN 'IO' WHEN e.event LIKE 'latch:%' THEN 'LATCH' ELSE 'OTHER' END"
    };
}

const TENANT: &[&str] = &["ob_tenant_id", "tenant_name"];

mod cluster;
mod tenant;

/// Every query, sorted by name.
pub const ALL: &[Query] = &[
    cluster::COMPACTION,
    cluster::DISK,
    cluster::INDEX_ERROR,
    tenant::KVCACHE,
    cluster::LONG_TRANSACTIONS,
    tenant::MEMSTORE,
    cluster::PARTITION_NUM,
    tenant::PLAN_CACHE,
    tenant::QUERY_RESPONSE_TIME,
    cluster::REPLICAS,
    cluster::SERVER_NUM,
    cluster::SERVER_RESOURCE,
    tenant::SESSIONS,
    tenant::SYSSTAT,
    tenant::SYSTEM_EVENT,
    cluster::TABLE_NUM,
    tenant::TENANT500_MEMORY,
    tenant::TENANT_ASSIGNED,
    tenant::TENANT_RESOURCE,
    tenant::TOP_SQL,
    cluster::UNIT_CONFIG,
    cluster::UNIT_NUM,
    tenant::WAITEVENT,
];
