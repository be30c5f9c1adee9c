#!/usr/bin/env python3
"""Benchmark of the `obwatch-logtailer run` daemon against a real Alertmanager on loopback:
idle CPU and RSS with FILES watched files, then append-to-Alertmanager latency: a line is
appended to one of the files and Alertmanager's API is polled every millisecond until the
alert it raises is there; N times, p50/p99/max reported.
Usage: bench-logtailer-daemon.py BINARY [FILES] [N] [IDLE_SECONDS]   (default 100 200 30)"""
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def get(url):
    with urllib.request.urlopen(url, timeout=2) as r:
        return r.read()


def wait_ready(port):
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            get(f"http://127.0.0.1:{port}/-/ready")
            return
        except OSError:
            time.sleep(0.02)
    sys.exit(f"not ready on :{port}")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main():
    binary = sys.argv[1]
    files = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    idle = float(sys.argv[4]) if len(sys.argv) > 4 else 30
    work = tempfile.mkdtemp(prefix="bench-lt-")
    logs = os.path.join(work, "logs")
    os.mkdir(logs)
    for i in range(files):
        open(os.path.join(logs, f"f{i:03}.log"), "w").close()
    with open(os.path.join(work, "am.yml"), "w") as f:
        f.write("route: { receiver: b }\nreceivers: [{ name: b }]\n")
    am_port, lt_port = free_port(), free_port()
    am = subprocess.Popen(["prometheus-alertmanager", f"--config.file={work}/am.yml",
                           f"--storage.path={work}/am-data", f"--web.listen-address=127.0.0.1:{am_port}",
                           "--cluster.listen-address="], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(os.path.join(work, "rules.yaml"), "w") as f:
        f.write("groups:\n  - name: bench\n    rules:\n      - alert: Bench\n"
                "        match: 'LATENCY PROBE (?P<probe>\\d+)'\n        severity: info\n")
    with open(os.path.join(work, "lt.yml"), "w") as f:
        f.write(f"state_dir: state\ninputs: [{{ name: bench, paths: [\"{logs}/*.log\"] }}]\n"
                f"rule_files: [rules.yaml]\nalertmanager: {{ urls: [\"http://127.0.0.1:{am_port}\"] }}\n")
    lt = subprocess.Popen([binary, "run", "--config.file", f"{work}/lt.yml", f"--web.listen-address=127.0.0.1:{lt_port}",
                           "--log.level", "warn"], stderr=open(os.path.join(work, "lt.log"), "w"))
    try:
        wait_ready(am_port)
        wait_ready(lt_port)
        time.sleep(2)  # start-up work done
        c0 = cpu_seconds(lt.pid)
        time.sleep(idle)
        idle_cpu = (cpu_seconds(lt.pid) - c0) / idle * 100
        idle_rss = rss_mib(lt.pid)
        lat = []
        rng = random.Random(1)
        for i in range(n):
            path = os.path.join(logs, f"f{rng.randrange(files):03}.log")
            url = f"http://127.0.0.1:{am_port}/api/v2/alerts?filter=probe%3D%22{i}%22"
            t0 = time.perf_counter()
            with open(path, "a") as f:
                f.write(f"2026-11-23 10:00:00 routine line {i}\nLATENCY PROBE {i} reached\n")
            while True:
                if json.loads(get(url)):
                    break
                if time.perf_counter() - t0 > 10:
                    sys.exit(f"probe {i} not delivered in 10 s")
                time.sleep(0.001)
            lat.append((time.perf_counter() - t0) * 1000)
        lat.sort()
        pct = lambda p: lat[min(len(lat) - 1, int(len(lat) * p))]
        print(f"files watched: {files}; idle {idle:.0f} s: CPU {idle_cpu:.2f}% of one core, RSS {idle_rss:.1f} MiB")
        print(f"append-to-Alertmanager latency over {n} alerts: p50 {pct(0.5):.1f} ms, "
              f"p99 {pct(0.99):.1f} ms, max {lat[-1]:.1f} ms; RSS after {rss_mib(lt.pid):.1f} MiB")
    finally:
        lt.terminate()
        am.terminate()
        lt.wait()
        am.wait()


if __name__ == "__main__":
    main()
