//! The cluster, server and unit queries: compaction, disks, replicas and partitions, servers
//! and their resources, units, long transactions, index errors.

use super::*;

pub(super) const COMPACTION: Query = Query {
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
};

pub(super) const DISK: Query = Query {
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
};

pub(super) const INDEX_ERROR: Query = Query {
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
};

pub(super) const LONG_TRANSACTIONS: Query = Query {
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
};

pub(super) const PARTITION_NUM: Query = Query {
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
};

pub(super) const REPLICAS: Query = Query {
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
};

pub(super) const SERVER_NUM: Query = Query {
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
};

pub(super) const SERVER_RESOURCE: Query = Query {
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
};

pub(super) const TABLE_NUM: Query = Query {
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
};

pub(super) const UNIT_CONFIG: Query = Query {
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
};

pub(super) const UNIT_NUM: Query = Query {
    name: "unit_num",
    v3: Some("SELECT /*+ MONITOR_AGENT READ_CONSISTENCY(WEAK) */ COUNT(*) AS units FROM v$unit"),
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
};
