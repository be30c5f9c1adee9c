//! The per-tenant queries: sysstat counters, wait events, caches, memstores, sessions, the
//! resources units give tenants, plan cache, top SQL and the response-time histogram.

use super::*;

pub(super) const KVCACHE: Query = Query {
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
};

pub(super) const MEMSTORE: Query = Query {
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
};

pub(super) const PLAN_CACHE: Query = Query {
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
};

pub(super) const QUERY_RESPONSE_TIME: Query = Query {
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
};

pub(super) const SESSIONS: Query = Query {
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
};

pub(super) const SYSSTAT: Query = Query {
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
};

pub(super) const SYSTEM_EVENT: Query = Query {
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
};

pub(super) const TENANT500_MEMORY: Query = Query {
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
};

pub(super) const TENANT_ASSIGNED: Query = Query {
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
};

pub(super) const TENANT_RESOURCE: Query = Query {
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
};

pub(super) const TOP_SQL: Query = Query {
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
};

pub(super) const WAITEVENT: Query = Query {
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
};
