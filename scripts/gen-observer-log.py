#!/usr/bin/env python3
"""Writes a synthetic OBServer 4.x-style observer.log of about SIZE_MB megabytes to PATH:
mostly routine INFO lines, routine WARN/ERROR lines (timeouts, retries), and one incident
line (clog disk full, disk hung, crash, ...) every ~50,000 lines. Deterministic (seeded).
Usage: gen-observer-log.py PATH SIZE_MB"""
import random
import sys

ROUTINE = [
    "[{ts}] INFO  [STORAGE] ob_pg_sstable_garbage_collector.cpp:170 [{tid}][0][Y0-0000000000000000-0-0] [lt={lt}] [dc=0] do one gc free sstable by queue(ret=0, free sstable cnt={n})",
    "[{ts}] INFO  [PALF] inner_append_log (palf_handle_impl.cpp:2219) [{tid}][T1_IOWorker][T1][Y0-0000000000000000-0-0] [lt={lt}] [PALF STAT INNER APPEND LOG SIZE](this={{palf_id:{n}}}, accum_size={big})",
    "[{ts}] INFO  [SQL.EXE] execute (ob_sql.cpp:1254) [{tid}][T1002_L0_G0][T1002][YB427F000001-00065070C30F{n:04X}-0-0] [lt={lt}] sql execute done(sql_id=\"{sql}\", elapsed_us={big})",
    "[{ts}] INFO  [RS] check_server_alive (ob_server_manager.cpp:880) [{tid}][RSHeartBeat][T1][Y0-0000000000000000-0-0] [lt={lt}] server alive(server=\"10.0.0.{n}:2882\", lease_expire_time={big})",
    "[{ts}] INFO  [COMMON] compute_tenant_wash_size (ob_kvcache_store.cpp:1140) [{tid}][KVCacheWash][T0][Y0-0000000000000000-0-0] [lt={lt}] Wash compute wash size(is_wash_valid=true, sys_total_wash_size={big}, global_cache_size={big})",
    "[{ts}] WDIAG [SERVER] handle (ob_srv_deliver.cpp:{n}) [{tid}][T1002_L0_G0][T1002][Y0-0000000000000000-0-0] [lt={lt}][errcode=-4012] Timeout(ret=-4012, timeout_ts={big})",
    "[{ts}] WARN  [STORAGE.TRANS] handle (ob_trans_service.cpp:{n}) [{tid}][T1002_TxLoop][T1002][Y0-0000000000000000-0-0] [lt={lt}] transaction retry(ret=-6213, tx_id={big})",
    "[{ts}] ERROR [SQL] handle_physical_plan (ob_sql.cpp:{n}) [{tid}][T1002_L0_G0][T1002][Y0-0000000000000000-0-0] [lt={lt}] Timeout(ret=-4012) BACKTRACE:0xd20040b 0xd1e899f",
]
INCIDENTS = [
    "[{ts}] ERROR [CLOG] update_free_quota (ob_log_file_pool.cpp:413) [{tid}][3714][Y0-0000000000000000] [lt={lt}] [dc=0] clog disk is almost full(type_=1, total_size=1081659957248, free_quota=-171216994304, warn_percent(%)=80, limit_percent=95, used_percent(%)=95) BACKTRACE:0xd20040b 0xd1e899f",
    "[{ts}] WARN  [COMMON] check_disk (ob_io_manager.cpp:1) [{tid}][IO][T0][Y0-0] [lt={lt}] data disk may be hung, add failure event(ret=0)",
    "[{ts}] ERROR [STORAGE] read (ob_io.cpp:1) [{tid}][0][Y0-0] [lt={lt}] [dc=0] io error(ret=-4009) BACKTRACE:0x1",
    "CRASH ERROR!!! sig=11, sig_code=2, sig_addr=7f3e00000000, timestamp=1725496052323606, tid={tid}, tname=TNT_L0_1002, lbt=0x9baead8 0x9b9f358",
    "[{ts}] INFO  [SERVER] main (main.cpp:1) [{tid}][0][Y0-0] [lt={lt}] [OBSERVER_NOTICE] start to init observer",
    "[{ts}] ERROR [RPC] send (ob_rpc_proxy.cpp:1) [{tid}][0][Y0-0] [lt={lt}] rpc failed(ret=-4122)",
]


def main():
    path, size_mb = sys.argv[1], int(sys.argv[2])
    rng = random.Random(42)
    limit = size_mb * 1024 * 1024
    written = 0
    sec = 0
    with open(path, "w", buffering=1 << 20) as out:
        batch = []
        while written < limit:
            for _ in range(1000):
                sec += 1
                ts = "2026-11-%02d %02d:%02d:%02d.%06d" % (1 + (sec // 86400000) % 28, (sec // 3600000) % 24, (sec // 60000) % 60, (sec // 1000) % 60, rng.randrange(1000000))
                if rng.randrange(50000) == 0:
                    tpl = rng.choice(INCIDENTS)
                else:
                    tpl = ROUTINE[rng.randrange(len(ROUTINE))]
                line = tpl.format(ts=ts, tid=rng.randrange(1, 99999), lt=rng.randrange(1, 999), n=rng.randrange(1, 4096), big=rng.randrange(1 << 40), sql="%032X" % rng.getrandbits(128))
                batch.append(line)
                written += len(line) + 1
            out.write("\n".join(batch))
            out.write("\n")
            batch.clear()


if __name__ == "__main__":
    main()
