//! OBProxy 4.x.

use super::*;

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
pub(super) fn proxy_specs() -> Vec<Spec> {
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
