//! The statements, sorted by name (a test checks). Sources per query: obagent
//! `etc/module_config/monitor_ob.yaml` and the view references of OceanBase 3.2 and 4.2.

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

/// Every query, sorted by name.
pub const ALL: &[Query] = &[
    Query {
        name: "compaction",
        v3: Some(
            "SELECT /*+ MONITOR_AGENT READ_CONSISTENCY(WEAK) */ zone, name, value, time_to_usec(now()) AS now_usec FROM __all_zone WHERE name IN ('frozen_version', 'last_merged_version', 'global_broadcast_version', 'is_merge_error', 'is_merge_timeout', 'merge_status')",
        ),
        v4: Some(
            "SELECT /* MONITOR_AGENT */ c.tenant_id AS ob_tenant_id, t.tenant_name, c.frozen_scn, c.last_scn, c.is_error = 'YES' AS is_error, c.is_suspended = 'YES' AS is_suspended, c.status <> 'IDLE' AS in_progress, UNIX_TIMESTAMP(c.last_finish_time) AS last_finish_time, UNIX_TIMESTAMP(c.start_time) AS start_time FROM CDB_OB_MAJOR_COMPACTION c LEFT JOIN DBA_OB_TENANTS t ON t.tenant_id = c.tenant_id",
        ),
        scope: Scope::RootService,
        labels: &["ob_tenant_id", "tenant_name", "zone", "name"],
        fields: &[
            Field {
                column: "value",
                family: "ob_zone_stat",
                help: "3.x major compaction state per zone from __all_zone (frozen/merged/broadcast version, is_merge_error, is_merge_timeout, merge_status).",
                kind: Gauge,
            },
            Field {
                column: "now_usec",
                family: "ob_zone_current_timestamp",
                help: "3.x: the server's clock when __all_zone was read, microseconds since the epoch, on every ob_zone_stat series (obagent's shape).",
                kind: Gauge,
            },
            Field {
                column: "frozen_scn",
                family: "ob_major_compaction_frozen_scn",
                help: "4.x: SCN of the last major freeze (CDB_OB_MAJOR_COMPACTION.FROZEN_SCN).",
                kind: Gauge,
            },
            Field {
                column: "last_scn",
                family: "ob_major_compaction_last_scn",
                help: "4.x: SCN of the last finished major compaction; below frozen_scn while one runs.",
                kind: Gauge,
            },
            Field {
                column: "is_error",
                family: "ob_major_compaction_is_error",
                help: "4.x: 1 when the tenant's major compaction reported an error.",
                kind: Gauge,
            },
            Field {
                column: "is_suspended",
                family: "ob_major_compaction_is_suspended",
                help: "4.x: 1 when the tenant's major compaction is suspended.",
                kind: Gauge,
            },
            Field {
                column: "in_progress",
                family: "ob_major_compaction_in_progress",
                help: "4.x: 1 while the tenant's major compaction runs (STATUS not IDLE).",
                kind: Gauge,
            },
            Field {
                column: "last_finish_time",
                family: "ob_major_compaction_last_finish_time_seconds",
                help: "4.x: Unix time the last major compaction finished.",
                kind: Gauge,
            },
            Field {
                column: "start_time",
                family: "ob_major_compaction_start_time_seconds",
                help: "4.x: Unix time the current or last major compaction started.",
                kind: Gauge,
            },
        ],
        every: None,
        shape: Shape::Families,
    },
    Query {
        name: "disk",
        v3: Some(
            "SELECT /*+ MONITOR_AGENT READ_CONSISTENCY(WEAK) */ total_size, free_size, is_disk_valid AS healthy FROM __all_virtual_disk_stat WHERE svr_ip = '{svr_ip}' AND svr_port = {svr_port}",
        ),
        v4: Some(
            "SELECT /* MONITOR_AGENT */ data_disk_capacity AS total_size, data_disk_capacity - data_disk_in_use AS free_size, data_disk_health_status = 'NORMAL' AS healthy, log_disk_capacity, log_disk_assigned, log_disk_in_use FROM GV$OB_SERVERS WHERE svr_ip = '{svr_ip}' AND svr_port = {svr_port}",
        ),
        scope: Scope::Server,
        labels: &[],
        fields: &[
            Field {
                column: "total_size",
                family: "ob_disk_total_bytes",
                help: "Size of the data file, bytes (3.x __all_virtual_disk_stat, 4.x GV$OB_SERVERS.DATA_DISK_CAPACITY).",
                kind: Gauge,
            },
            Field {
                column: "free_size",
                family: "ob_disk_free_bytes",
                help: "Free space in the data file, bytes.",
                kind: Gauge,
            },
            Field {
                column: "healthy",
                family: "ob_disk_healthy",
                help: "1 when the server considers its data disk healthy (3.x is_disk_valid, 4.x DATA_DISK_HEALTH_STATUS = NORMAL).",
                kind: Gauge,
            },
            Field {
                column: "log_disk_capacity",
                family: "ob_log_disk_total_bytes",
                help: "4.x: size of the log (clog) disk, bytes.",
                kind: Gauge,
            },
            Field {
                column: "log_disk_assigned",
                family: "ob_log_disk_assigned_bytes",
                help: "4.x: log disk assigned to tenant units, bytes.",
                kind: Gauge,
            },
            Field {
                column: "log_disk_in_use",
                family: "ob_log_disk_used_bytes",
                help: "4.x: log disk in use, bytes.",
                kind: Gauge,
            },
        ],
        every: None,
        shape: Shape::Families,
    },
    Query {
        name: "index_error",
        v3: Some(
            "SELECT /*+ MONITOR_AGENT READ_CONSISTENCY(WEAK) QUERY_TIMEOUT(100000000) */ COUNT(*) AS indexes FROM gv$table WHERE table_type IN (5) AND index_status IN (5, 6)",
        ),
        v4: Some(
            "SELECT /*+ MONITOR_AGENT QUERY_TIMEOUT(100000000) */ COUNT(*) AS indexes FROM CDB_INDEXES WHERE status IN ('ERROR', 'UNUSABLE')",
        ),
        scope: Scope::RootService,
        labels: &[],
        fields: &[Field {
            column: "indexes",
            family: "ob_index_error_num",
            help: "Indexes in error or unusable state in the cluster; reported by the RootService server.",
            kind: Gauge,
        }],
        every: None,
        shape: Shape::Families,
    },
    Query {
        name: "kvcache",
        v3: Some(
            "SELECT /*+ MONITOR_AGENT READ_CONSISTENCY(WEAK) */ c.tenant_id AS ob_tenant_id, t.tenant_name, c.cache_name, SUM(c.cache_size) AS cache_size FROM __all_virtual_kvcache_info c LEFT JOIN __all_tenant t ON t.tenant_id = c.tenant_id WHERE c.svr_ip = '{svr_ip}' AND c.svr_port = {svr_port} GROUP BY c.tenant_id, t.tenant_name, c.cache_name",
        ),
        v4: Some(
            "SELECT /* MONITOR_AGENT */ c.tenant_id AS ob_tenant_id, t.tenant_name, c.cache_name, SUM(c.cache_size) AS cache_size FROM GV$OB_KVCACHE c LEFT JOIN DBA_OB_TENANTS t ON t.tenant_id = c.tenant_id WHERE c.svr_ip = '{svr_ip}' AND c.svr_port = {svr_port} GROUP BY c.tenant_id, t.tenant_name, c.cache_name",
        ),
        scope: Scope::Server,
        labels: &["ob_tenant_id", "tenant_name", "cache_name"],
        fields: &[Field {
            column: "cache_size",
            family: "ob_cache_size_bytes",
            help: "Memory held by a KV cache (row, block, location, ...), bytes.",
            kind: Gauge,
        }],
        every: None,
        shape: Shape::Families,
    },
    Query {
        name: "long_transactions",
        v3: Some(
            "SELECT /*+ MONITOR_AGENT READ_CONSISTENCY(WEAK) */ n.tenant_id AS ob_tenant_id, n.tenant_name, COUNT(t.tenant_id) AS expired FROM __all_tenant n LEFT JOIN __all_virtual_trans_stat t ON t.tenant_id = n.tenant_id AND t.svr_ip = '{svr_ip}' AND t.svr_port = {svr_port} AND t.part_trans_action > 2 AND t.ctx_create_time < DATE_SUB(NOW(), INTERVAL 600 SECOND) GROUP BY n.tenant_id, n.tenant_name",
        ),
        v4: Some(
            "SELECT /* MONITOR_AGENT */ n.tenant_id AS ob_tenant_id, n.tenant_name, COUNT(t.tenant_id) AS expired FROM DBA_OB_TENANTS n LEFT JOIN GV$OB_TRANSACTION_PARTICIPANTS t ON t.tenant_id = n.tenant_id AND t.svr_ip = '{svr_ip}' AND t.svr_port = {svr_port} AND t.ctx_create_time < DATE_SUB(NOW(), INTERVAL 600 SECOND) WHERE n.tenant_type <> 'META' GROUP BY n.tenant_id, n.tenant_name",
        ),
        scope: Scope::Server,
        labels: TENANT,
        fields: &[Field {
            column: "expired",
            family: "ob_trans_expire_num",
            help: "Transactions on this server open for more than 10 minutes (obagent's threshold), per tenant: 3.x __all_virtual_trans_stat, 4.x GV$OB_TRANSACTION_PARTICIPANTS.",
            kind: Gauge,
        }],
        every: None,
        shape: Shape::Families,
    },
    Query {
        name: "memstore",
        v3: Some(
            "SELECT /*+ MONITOR_AGENT READ_CONSISTENCY(WEAK) */ m.tenant_id AS ob_tenant_id, t.tenant_name, m.active, m.total, m.freeze_trigger, m.mem_limit, m.freeze_cnt FROM gv$memstore m LEFT JOIN __all_tenant t ON t.tenant_id = m.tenant_id WHERE m.ip = '{svr_ip}' AND m.port = {svr_port}",
        ),
        v4: Some(
            "SELECT /* MONITOR_AGENT */ m.tenant_id AS ob_tenant_id, t.tenant_name, m.active_span AS active, m.memstore_used AS total, m.freeze_trigger, m.memstore_limit AS mem_limit, m.freeze_cnt FROM GV$OB_MEMSTORE m LEFT JOIN DBA_OB_TENANTS t ON t.tenant_id = m.tenant_id WHERE m.svr_ip = '{svr_ip}' AND m.svr_port = {svr_port}",
        ),
        scope: Scope::Server,
        labels: TENANT,
        fields: &[
            Field {
                column: "active",
                family: "ob_memstore_active_bytes",
                help: "Active (not yet frozen) memstore of a tenant, bytes.",
                kind: Gauge,
            },
            Field {
                column: "total",
                family: "ob_memstore_total_bytes",
                help: "Memstore used by a tenant, bytes.",
                kind: Gauge,
            },
            Field {
                column: "freeze_trigger",
                family: "ob_memstore_freeze_trigger_bytes",
                help: "Active memstore size that triggers a minor freeze, bytes.",
                kind: Gauge,
            },
            Field {
                column: "mem_limit",
                family: "ob_memstore_limit_bytes",
                help: "Memstore limit of a tenant; writes fail with -4030 above it, bytes.",
                kind: Gauge,
            },
            Field {
                column: "freeze_cnt",
                family: "ob_memstore_freeze_times",
                help: "Minor freezes since the server started (a counter; obagent's name, hence untyped).",
                kind: Untyped,
            },
        ],
        every: None,
        shape: Shape::Families,
    },
    Query {
        name: "partition_num",
        v3: Some(
            "SELECT /*+ MONITOR_AGENT READ_CONSISTENCY(WEAK) QUERY_TIMEOUT(100000000) */ p.tenant_id AS ob_tenant_id, t.tenant_name, COUNT(*) AS partitions FROM __all_virtual_partition_info p LEFT JOIN __all_tenant t ON t.tenant_id = p.tenant_id WHERE p.svr_ip = '{svr_ip}' AND p.svr_port = {svr_port} GROUP BY p.tenant_id, t.tenant_name",
        ),
        v4: None,
        scope: Scope::Server,
        labels: TENANT,
        fields: &[Field {
            column: "partitions",
            family: "ob_partition_num",
            help: "3.x: partition replicas on this server (__all_virtual_partition_info); refreshed hourly.",
            kind: Gauge,
        }],
        every: HOURLY,
        shape: Shape::Families,
    },
    Query {
        name: "plan_cache",
        v3: Some(
            "SELECT /*+ MONITOR_AGENT READ_CONSISTENCY(WEAK) */ p.tenant_id AS ob_tenant_id, t.tenant_name, p.mem_used, p.access_count, p.hit_count FROM v$plan_cache_stat p LEFT JOIN __all_tenant t ON t.tenant_id = p.tenant_id",
        ),
        v4: Some(
            "SELECT /* MONITOR_AGENT */ p.tenant_id AS ob_tenant_id, t.tenant_name, p.mem_used, p.access_count, p.hit_count FROM V$OB_PLAN_CACHE_STAT p LEFT JOIN DBA_OB_TENANTS t ON t.tenant_id = p.tenant_id",
        ),
        scope: Scope::Server,
        labels: TENANT,
        fields: &[
            Field {
                column: "mem_used",
                family: "ob_plan_cache_memory_bytes",
                help: "Memory used by a tenant's plan cache, bytes.",
                kind: Gauge,
            },
            Field {
                column: "access_count",
                family: "ob_plan_cache_access_total",
                help: "Plan cache lookups; hit ratio = rate(hit) / rate(access).",
                kind: Counter,
            },
            Field {
                column: "hit_count",
                family: "ob_plan_cache_hit_total",
                help: "Plan cache lookups that found a plan.",
                kind: Counter,
            },
        ],
        every: None,
        shape: Shape::Families,
    },
    Query {
        name: "query_response_time",
        v3: Some(
            "SELECT /*+ MONITOR_AGENT READ_CONSISTENCY(WEAK) */ r.tenant_id AS ob_tenant_id, t.tenant_name, r.response_time, SUM(r.count) AS count, SUM(r.total) AS total FROM __all_virtual_query_response_time r LEFT JOIN __all_tenant t ON t.tenant_id = r.tenant_id WHERE r.svr_ip = '{svr_ip}' AND r.svr_port = {svr_port} GROUP BY r.tenant_id, t.tenant_name, r.response_time",
        ),
        v4: Some(
            "SELECT /* MONITOR_AGENT */ r.tenant_id AS ob_tenant_id, t.tenant_name, r.response_time, SUM(r.count) AS count, SUM(r.total) AS total FROM __all_virtual_query_response_time r LEFT JOIN DBA_OB_TENANTS t ON t.tenant_id = r.tenant_id WHERE r.svr_ip = '{svr_ip}' AND r.svr_port = {svr_port} GROUP BY r.tenant_id, t.tenant_name, r.response_time",
        ),
        scope: Scope::Server,
        labels: TENANT,
        fields: &[],
        // Every round, unlike obagent's 60 s cache: one grouped read of this server's rows,
        // and rate() over short windows needs fresh buckets.
        every: None,
        shape: Shape::Histogram(HistogramSpec {
            family: "ob_query_response_time_seconds",
            help: "Statement response times of a tenant on this server (__all_virtual_query_response_time), seconds; buckets are OceanBase's (powers of query_response_time_range_base).",
            bound_column: "response_time",
            count_column: "count",
            sum_column: "total",
            divisor: 1e6,
        }),
    },
    Query {
        name: "replicas",
        v3: Some(
            "SELECT /*+ MONITOR_AGENT READ_CONSISTENCY(WEAK) */ r.tenant_id AS ob_tenant_id, t.tenant_name, CASE r.role WHEN 1 THEN 'LEADER' ELSE 'FOLLOWER' END AS role, COUNT(*) AS replicas FROM __all_virtual_meta_table r LEFT JOIN __all_tenant t ON t.tenant_id = r.tenant_id WHERE r.svr_ip = '{svr_ip}' AND r.svr_port = {svr_port} GROUP BY r.tenant_id, t.tenant_name, CASE r.role WHEN 1 THEN 'LEADER' ELSE 'FOLLOWER' END",
        ),
        v4: Some(
            "SELECT /* MONITOR_AGENT */ r.tenant_id AS ob_tenant_id, t.tenant_name, r.role, COUNT(*) AS replicas FROM GV$OB_LOG_STAT r LEFT JOIN DBA_OB_TENANTS t ON t.tenant_id = r.tenant_id WHERE r.svr_ip = '{svr_ip}' AND r.svr_port = {svr_port} GROUP BY r.tenant_id, t.tenant_name, r.role",
        ),
        scope: Scope::Server,
        labels: &["ob_tenant_id", "tenant_name", "role"],
        fields: &[Field {
            column: "replicas",
            family: "ob_replica_num",
            help: "Replicas on this server by role: partitions (3.x __all_virtual_meta_table) or log streams (4.x GV$OB_LOG_STAT).",
            kind: Gauge,
        }],
        every: None,
        shape: Shape::Families,
    },
    Query {
        name: "server_num",
        v3: Some(
            "SELECT /*+ MONITOR_AGENT READ_CONSISTENCY(WEAK) */ status, GROUP_CONCAT(svr_ip ORDER BY svr_ip SEPARATOR ',') AS server_ips, COUNT(*) AS servers FROM __all_server GROUP BY status",
        ),
        v4: Some(
            "SELECT /* MONITOR_AGENT */ status, GROUP_CONCAT(svr_ip ORDER BY svr_ip SEPARATOR ',') AS server_ips, COUNT(*) AS servers FROM DBA_OB_SERVERS GROUP BY status",
        ),
        scope: Scope::RootService,
        labels: &["status", "server_ips"],
        fields: &[Field {
            column: "servers",
            family: "ob_server_num",
            help: "Servers of the cluster by status (active, inactive, deleting); reported by the RootService server.",
            kind: Gauge,
        }],
        every: None,
        shape: Shape::Families,
    },
    Query {
        name: "server_resource",
        v3: Some(
            "SELECT /*+ MONITOR_AGENT READ_CONSISTENCY(WEAK) */ cpu_total, cpu_max_assigned AS cpu_assigned, mem_total, mem_max_assigned AS mem_assigned, disk_total, cpu_assigned_percent, mem_assigned_percent FROM __all_virtual_server_stat WHERE svr_ip = '{svr_ip}' AND svr_port = {svr_port}",
        ),
        v4: Some(
            "SELECT /* MONITOR_AGENT */ cpu_capacity_max AS cpu_total, cpu_assigned_max AS cpu_assigned, mem_capacity AS mem_total, mem_assigned, data_disk_capacity AS disk_total, 100 * cpu_assigned_max / cpu_capacity_max AS cpu_assigned_percent, 100 * mem_assigned / mem_capacity AS mem_assigned_percent FROM GV$OB_SERVERS WHERE svr_ip = '{svr_ip}' AND svr_port = {svr_port}",
        ),
        scope: Scope::Server,
        labels: &[],
        fields: &[
            Field {
                column: "cpu_total",
                family: "ob_server_resource_cpu",
                help: "CPUs the server offers to tenants.",
                kind: Gauge,
            },
            Field {
                column: "cpu_assigned",
                family: "ob_server_resource_cpu_assigned",
                help: "CPUs assigned to tenant units (max_cpu).",
                kind: Gauge,
            },
            Field {
                column: "mem_total",
                family: "ob_server_resource_memory_bytes",
                help: "Memory the server offers to tenants, bytes.",
                kind: Gauge,
            },
            Field {
                column: "mem_assigned",
                family: "ob_server_resource_memory_assigned_bytes",
                help: "Memory assigned to tenant units, bytes.",
                kind: Gauge,
            },
            Field {
                column: "disk_total",
                family: "ob_server_resource_disk_bytes",
                help: "Data disk the server offers, bytes.",
                kind: Gauge,
            },
            Field {
                column: "cpu_assigned_percent",
                family: "ob_server_resource_cpu_assigned_percent",
                help: "CPU assigned to units as a percentage (0-100) of what the server offers.",
                kind: Gauge,
            },
            Field {
                column: "mem_assigned_percent",
                family: "ob_server_resource_memory_assigned_percent",
                help: "Memory assigned to units as a percentage (0-100) of what the server offers.",
                kind: Gauge,
            },
        ],
        every: None,
        shape: Shape::Families,
    },
    Query {
        name: "sessions",
        v3: Some(
            "SELECT /*+ MONITOR_AGENT READ_CONSISTENCY(WEAK) */ t.tenant_id AS ob_tenant_id, t.tenant_name, COALESCE(SUM(p.state = 'ACTIVE'), 0) AS active, COUNT(p.id) AS total FROM __all_tenant t LEFT JOIN __all_virtual_processlist p ON p.tenant = t.tenant_name AND p.svr_ip = '{svr_ip}' AND p.svr_port = {svr_port} GROUP BY t.tenant_id, t.tenant_name",
        ),
        v4: Some(
            "SELECT /* MONITOR_AGENT */ t.tenant_id AS ob_tenant_id, t.tenant_name, COALESCE(SUM(p.state = 'ACTIVE'), 0) AS active, COUNT(p.id) AS total FROM DBA_OB_TENANTS t LEFT JOIN GV$OB_PROCESSLIST p ON p.tenant = t.tenant_name AND p.svr_ip = '{svr_ip}' AND p.svr_port = {svr_port} WHERE t.tenant_type <> 'META' GROUP BY t.tenant_id, t.tenant_name",
        ),
        scope: Scope::Server,
        labels: TENANT,
        fields: &[
            Field {
                column: "active",
                family: "ob_active_session_num",
                help: "Sessions of a tenant on this server running a statement.",
                kind: Gauge,
            },
            Field {
                column: "total",
                family: "ob_all_session_num",
                help: "Sessions of a tenant on this server.",
                kind: Gauge,
            },
        ],
        every: None,
        shape: Shape::Families,
    },
    Query {
        name: "sysstat",
        v3: Some(concat!(
            "SELECT /*+ MONITOR_AGENT READ_CONSISTENCY(WEAK) */ s.con_id AS ob_tenant_id, t.tenant_name, s.stat_id, s.value FROM v$sysstat s LEFT JOIN __all_tenant t ON t.tenant_id = s.con_id WHERE s.stat_id IN (",
            sysstat_ids_v3!(),
            ") AND (s.con_id > 1000 OR s.con_id = 1) AND s.class < 1000"
        )),
        v4: Some(concat!(
            "SELECT /* MONITOR_AGENT */ s.con_id AS ob_tenant_id, t.tenant_name, s.stat_id, s.value FROM V$SYSSTAT s LEFT JOIN DBA_OB_TENANTS t ON t.tenant_id = s.con_id WHERE s.stat_id IN (",
            sysstat_ids_v4!(),
            ") AND (s.con_id > 1000 OR s.con_id = 1) AND s.class < 1000"
        )),
        scope: Scope::Server,
        labels: &["ob_tenant_id", "tenant_name", "stat_id"],
        fields: &[Field {
            column: "value",
            family: "ob_sysstat",
            help: "V$SYSSTAT value by stat_id (QPS, TPS, RT, memstore, clog, I/O, caches; see docs/exporter.md). Counters and gauges mixed, hence untyped.",
            kind: Untyped,
        }],
        every: None,
        shape: Shape::Families,
    },
    Query {
        name: "system_event",
        v3: Some(concat!(
            "SELECT /*+ MONITOR_AGENT READ_CONSISTENCY(WEAK) */ e.con_id AS ob_tenant_id, t.tenant_name, ",
            event_group!(),
            " AS event_group, SUM(e.total_waits) AS total_waits, SUM(e.time_waited_micro) / 1000000 AS time_waited FROM v$system_event e LEFT JOIN __all_tenant t ON t.tenant_id = e.con_id WHERE e.wait_class <> 'IDLE' AND (e.con_id > 1000 OR e.con_id = 1) GROUP BY e.con_id, t.tenant_name, event_group"
        )),
        v4: Some(concat!(
            "SELECT /* MONITOR_AGENT */ e.con_id AS ob_tenant_id, t.tenant_name, ",
            event_group!(),
            " AS event_group, SUM(e.total_waits) AS total_waits, SUM(e.time_waited_micro) / 1000000 AS time_waited FROM V$SYSTEM_EVENT e LEFT JOIN DBA_OB_TENANTS t ON t.tenant_id = e.con_id WHERE e.wait_class <> 'IDLE' AND (e.con_id > 1000 OR e.con_id = 1) GROUP BY e.con_id, t.tenant_name, event_group"
        )),
        scope: Scope::Server,
        labels: &["ob_tenant_id", "tenant_name", "event_group"],
        fields: &[
            Field {
                column: "total_waits",
                family: "ob_system_event_total_waits",
                help: "Waits of a tenant by obagent's event group (INTERNAL, SYNC_RPC, ROW_LOCK_WAIT, IO, LATCH, OTHER); a counter with obagent's name, hence untyped.",
                kind: Untyped,
            },
            Field {
                column: "time_waited",
                family: "ob_system_event_time_waited",
                help: "Time a tenant waited by event group, seconds; a counter with obagent's name, hence untyped.",
                kind: Untyped,
            },
        ],
        every: None,
        shape: Shape::Families,
    },
    Query {
        name: "table_num",
        v3: Some(
            "SELECT /*+ MONITOR_AGENT READ_CONSISTENCY(WEAK) QUERY_TIMEOUT(100000000) */ g.tenant_id AS ob_tenant_id, g.tenant_name, COUNT(*) AS tables FROM gv$table g GROUP BY g.tenant_id, g.tenant_name",
        ),
        v4: Some(
            "SELECT /*+ MONITOR_AGENT QUERY_TIMEOUT(100000000) */ c.con_id AS ob_tenant_id, t.tenant_name, COUNT(*) AS tables FROM CDB_TABLES c LEFT JOIN DBA_OB_TENANTS t ON t.tenant_id = c.con_id GROUP BY c.con_id, t.tenant_name",
        ),
        scope: Scope::RootService,
        labels: TENANT,
        fields: &[Field {
            column: "tables",
            family: "ob_table_num",
            help: "Tables per tenant in the cluster (3.x gv$table, 4.x CDB_TABLES); reported by the RootService server, refreshed hourly.",
            kind: Gauge,
        }],
        every: HOURLY,
        shape: Shape::Families,
    },
    Query {
        name: "tenant500_memory",
        v3: Some(
            "SELECT /*+ MONITOR_AGENT READ_CONSISTENCY(WEAK) */ SUM(hold) AS hold, SUM(used) AS used FROM __all_virtual_memory_info WHERE tenant_id = 500 AND svr_ip = '{svr_ip}' AND svr_port = {svr_port} AND mod_name <> 'OB_KVSTORE_CACHE_MB'",
        ),
        v4: Some(
            "SELECT /* MONITOR_AGENT */ SUM(hold) AS hold, SUM(used) AS used FROM GV$OB_MEMORY WHERE tenant_id = 500 AND svr_ip = '{svr_ip}' AND svr_port = {svr_port} AND mod_name <> 'KvstorCacheMb'",
        ),
        scope: Scope::Server,
        labels: &[],
        fields: &[
            Field {
                column: "hold",
                family: "ob_tenant500_memory_hold_bytes",
                help: "Memory held by the server's internal tenant 500, KV cache left out, bytes.",
                kind: Gauge,
            },
            Field {
                column: "used",
                family: "ob_tenant500_memory_used_bytes",
                help: "Memory used by the internal tenant 500, KV cache left out, bytes.",
                kind: Gauge,
            },
        ],
        every: None,
        shape: Shape::Families,
    },
    Query {
        name: "tenant_assigned",
        v3: Some(
            "SELECT /*+ MONITOR_AGENT READ_CONSISTENCY(WEAK) */ u.tenant_id AS ob_tenant_id, u.tenant_name, s.cpu_total, s.cpu_assigned, s.mem_total, s.mem_assigned FROM __all_virtual_server_stat s JOIN `gv$unit` u ON u.svr_ip = s.svr_ip AND u.svr_port = s.svr_port WHERE s.svr_ip = '{svr_ip}' AND s.svr_port = {svr_port}",
        ),
        v4: Some(
            "SELECT /* MONITOR_AGENT */ u.tenant_id AS ob_tenant_id, t.tenant_name, s.cpu_capacity AS cpu_total, s.cpu_assigned, s.mem_capacity AS mem_total, s.mem_assigned FROM GV$OB_SERVERS s JOIN GV$OB_UNITS u ON u.svr_ip = s.svr_ip AND u.svr_port = s.svr_port JOIN DBA_OB_TENANTS t ON t.tenant_id = u.tenant_id WHERE t.tenant_type <> 'META' AND s.svr_ip = '{svr_ip}' AND s.svr_port = {svr_port}",
        ),
        scope: Scope::Server,
        labels: TENANT,
        fields: &[
            Field {
                column: "cpu_total",
                family: "ob_tenant_assigned_cpu_total",
                help: "CPUs of this server (3.x cpu_total, 4.x CPU_CAPACITY), once per tenant with a unit here (obagent's shape; untyped, as obagent exports it, since a gauge may not end in _total).",
                kind: Untyped,
            },
            Field {
                column: "cpu_assigned",
                family: "ob_tenant_assigned_cpu_assigned",
                help: "CPUs of this server assigned to units (min_cpu sum), once per tenant with a unit here.",
                kind: Gauge,
            },
            Field {
                column: "mem_total",
                family: "ob_tenant_assigned_mem_total",
                help: "Memory of this server for tenants, bytes, once per tenant with a unit here.",
                kind: Untyped,
            },
            Field {
                column: "mem_assigned",
                family: "ob_tenant_assigned_mem_assigned",
                help: "Memory of this server assigned to units, bytes, once per tenant with a unit here.",
                kind: Gauge,
            },
        ],
        every: MINUTELY,
        shape: Shape::Families,
    },
    Query {
        name: "tenant_resource",
        v3: Some(
            "SELECT /*+ MONITOR_AGENT READ_CONSISTENCY(WEAK) */ tenant_id AS ob_tenant_id, tenant_name, max_cpu, min_cpu, max_memory, min_memory, max_disk_size AS disk_size FROM gv$unit WHERE svr_ip = '{svr_ip}' AND svr_port = {svr_port}",
        ),
        v4: Some(
            "SELECT /* MONITOR_AGENT */ u.tenant_id AS ob_tenant_id, t.tenant_name, u.max_cpu, u.min_cpu, u.memory_size AS max_memory, u.memory_size AS min_memory, u.data_disk_in_use, u.log_disk_size, u.log_disk_in_use FROM GV$OB_UNITS u LEFT JOIN DBA_OB_TENANTS t ON t.tenant_id = u.tenant_id WHERE u.svr_ip = '{svr_ip}' AND u.svr_port = {svr_port}",
        ),
        scope: Scope::Server,
        labels: TENANT,
        fields: &[
            Field {
                column: "max_cpu",
                family: "ob_tenant_resource_max_cpu",
                help: "CPUs a tenant's unit on this server may use.",
                kind: Gauge,
            },
            Field {
                column: "min_cpu",
                family: "ob_tenant_resource_min_cpu",
                help: "CPUs reserved for a tenant's unit on this server.",
                kind: Gauge,
            },
            Field {
                column: "max_memory",
                family: "ob_tenant_resource_max_memory",
                help: "Memory a tenant's unit may use, bytes (4.x: MEMORY_SIZE).",
                kind: Gauge,
            },
            Field {
                column: "min_memory",
                family: "ob_tenant_resource_min_memory",
                help: "Memory reserved for a tenant's unit, bytes (4.x: MEMORY_SIZE).",
                kind: Gauge,
            },
            Field {
                column: "disk_size",
                family: "ob_tenant_disk_total_size",
                help: "3.x: data disk a tenant's unit may use, bytes.",
                kind: Gauge,
            },
            Field {
                column: "data_disk_in_use",
                family: "ob_tenant_disk_data_size",
                help: "4.x: data disk a tenant's unit uses, bytes.",
                kind: Gauge,
            },
            Field {
                column: "log_disk_size",
                family: "ob_tenant_log_disk_total_bytes",
                help: "4.x: log disk of a tenant's unit, bytes.",
                kind: Gauge,
            },
            Field {
                column: "log_disk_in_use",
                family: "ob_tenant_disk_log_size",
                help: "4.x: log disk a tenant's unit uses, bytes.",
                kind: Gauge,
            },
        ],
        every: None,
        shape: Shape::Families,
    },
    Query {
        name: "top_sql",
        v3: Some(
            "SELECT x.*, t.tenant_name FROM (SELECT /*+ MONITOR_AGENT READ_CONSISTENCY(WEAK) */ tenant_id AS ob_tenant_id, sql_id, SUM(executions) AS executions, SUM(elapsed_time) / 1000000 AS elapsed_seconds, SUM(cpu_time) / 1000000 AS cpu_seconds{sql_text} FROM gv$plan_cache_plan_stat WHERE svr_ip = '{svr_ip}' AND svr_port = {svr_port} GROUP BY tenant_id, sql_id ORDER BY SUM(elapsed_time) DESC LIMIT {limit}) x LEFT JOIN __all_tenant t ON t.tenant_id = x.ob_tenant_id",
        ),
        v4: Some(
            "SELECT x.*, t.tenant_name FROM (SELECT /* MONITOR_AGENT */ tenant_id AS ob_tenant_id, sql_id, SUM(executions) AS executions, SUM(elapsed_time) / 1000000 AS elapsed_seconds, SUM(cpu_time) / 1000000 AS cpu_seconds{sql_text} FROM GV$OB_PLAN_CACHE_PLAN_STAT WHERE svr_ip = '{svr_ip}' AND svr_port = {svr_port} GROUP BY tenant_id, sql_id ORDER BY SUM(elapsed_time) DESC LIMIT {limit}) x LEFT JOIN DBA_OB_TENANTS t ON t.tenant_id = x.ob_tenant_id",
        ),
        scope: Scope::Server,
        labels: &["ob_tenant_id", "tenant_name", "sql_id", "sql_text"],
        fields: &[
            Field {
                column: "executions",
                family: "ob_top_sql_executions_total",
                help: "Executions of one of the statements with the most elapsed time in the plan cache (top oceanbase.top_sql_limit), by sql_id.",
                kind: Counter,
            },
            Field {
                column: "elapsed_seconds",
                family: "ob_top_sql_elapsed_seconds_total",
                help: "Elapsed time of a top statement since its plans were cached, seconds.",
                kind: Counter,
            },
            Field {
                column: "cpu_seconds",
                family: "ob_top_sql_cpu_seconds_total",
                help: "CPU time of a top statement since its plans were cached, seconds.",
                kind: Counter,
            },
        ],
        every: None,
        shape: Shape::Families,
    },
    Query {
        name: "unit_config",
        v3: Some(
            "SELECT /*+ MONITOR_AGENT READ_CONSISTENCY(WEAK) */ p.tenant_id AS ob_tenant_id, t.tenant_name, c.name AS unit_config_name, c.max_cpu, c.min_cpu, c.max_memory, c.min_memory, c.max_iops, c.min_iops, c.max_session_num FROM __all_resource_pool p JOIN __all_unit_config c ON c.unit_config_id = p.unit_config_id LEFT JOIN __all_tenant t ON t.tenant_id = p.tenant_id WHERE EXISTS (SELECT 1 FROM __all_unit u WHERE u.resource_pool_id = p.resource_pool_id AND u.svr_ip = '{svr_ip}' AND u.svr_port = {svr_port})",
        ),
        v4: Some(
            "SELECT /* MONITOR_AGENT */ p.tenant_id AS ob_tenant_id, t.tenant_name, c.name AS unit_config_name, c.max_cpu, c.min_cpu, c.memory_size AS max_memory, c.memory_size AS min_memory, c.max_iops, c.min_iops FROM DBA_OB_RESOURCE_POOLS p JOIN DBA_OB_UNIT_CONFIGS c ON c.unit_config_id = p.unit_config_id LEFT JOIN DBA_OB_TENANTS t ON t.tenant_id = p.tenant_id WHERE EXISTS (SELECT 1 FROM DBA_OB_UNITS u WHERE u.resource_pool_id = p.resource_pool_id AND u.svr_ip = '{svr_ip}' AND u.svr_port = {svr_port})",
        ),
        scope: Scope::Server,
        labels: &["ob_tenant_id", "tenant_name", "unit_config_name"],
        fields: &[
            Field {
                column: "max_cpu",
                family: "ob_unit_config_max_cpu",
                help: "max_cpu of the unit config of a tenant's pool on this server.",
                kind: Gauge,
            },
            Field {
                column: "min_cpu",
                family: "ob_unit_config_min_cpu",
                help: "min_cpu of the unit config.",
                kind: Gauge,
            },
            Field {
                column: "max_memory",
                family: "ob_unit_config_max_memory_bytes",
                help: "Memory of the unit config (4.x: MEMORY_SIZE), bytes.",
                kind: Gauge,
            },
            Field {
                column: "min_memory",
                family: "ob_unit_config_min_memory_bytes",
                help: "Reserved memory of the unit config (4.x: MEMORY_SIZE), bytes.",
                kind: Gauge,
            },
            Field {
                column: "max_iops",
                family: "ob_unit_config_max_iops",
                help: "max_iops of the unit config.",
                kind: Gauge,
            },
            Field {
                column: "min_iops",
                family: "ob_unit_config_min_iops",
                help: "min_iops of the unit config.",
                kind: Gauge,
            },
            Field {
                column: "max_session_num",
                family: "ob_unit_config_max_session_num",
                help: "3.x: max_session_num of the unit config (4.x has no such limit).",
                kind: Gauge,
            },
        ],
        every: None,
        shape: Shape::Families,
    },
    Query {
        name: "unit_num",
        v3: Some(
            "SELECT /*+ MONITOR_AGENT READ_CONSISTENCY(WEAK) */ COUNT(*) AS units FROM v$unit",
        ),
        v4: Some("SELECT /* MONITOR_AGENT */ COUNT(*) AS units FROM V$OB_UNITS"),
        scope: Scope::Server,
        labels: &[],
        fields: &[Field {
            column: "units",
            family: "ob_unit_num",
            help: "Resource units on this server.",
            kind: Gauge,
        }],
        every: None,
        shape: Shape::Families,
    },
    Query {
        name: "waitevent",
        v3: Some(
            "SELECT /*+ MONITOR_AGENT READ_CONSISTENCY(WEAK) */ e.con_id AS ob_tenant_id, t.tenant_name, SUM(e.total_waits) AS waits, SUM(e.time_waited_micro) / 1000000 AS wait_seconds FROM v$system_event e LEFT JOIN __all_tenant t ON t.tenant_id = e.con_id WHERE e.wait_class <> 'IDLE' AND (e.con_id > 1000 OR e.con_id = 1) GROUP BY e.con_id, t.tenant_name",
        ),
        v4: Some(
            "SELECT /* MONITOR_AGENT */ e.con_id AS ob_tenant_id, t.tenant_name, SUM(e.total_waits) AS waits, SUM(e.time_waited_micro) / 1000000 AS wait_seconds FROM V$SYSTEM_EVENT e LEFT JOIN DBA_OB_TENANTS t ON t.tenant_id = e.con_id WHERE e.wait_class <> 'IDLE' AND (e.con_id > 1000 OR e.con_id = 1) GROUP BY e.con_id, t.tenant_name",
        ),
        scope: Scope::Server,
        labels: TENANT,
        fields: &[
            Field {
                column: "waits",
                family: "ob_waitevent_wait_total",
                help: "Waits of a tenant, IDLE class left out (V$SYSTEM_EVENT).",
                kind: Counter,
            },
            Field {
                column: "wait_seconds",
                family: "ob_waitevent_wait_seconds_total",
                help: "Time a tenant waited, IDLE class left out, seconds.",
                kind: Counter,
            },
        ],
        every: None,
        shape: Shape::Families,
    },
];
