#!/usr/bin/env bash
# How the cost of a scrape grows with the host: Debian's node_exporter and obwatch-exporter read
# the same generated procfs/sysfs tree (scripts/gen-host-tree.py) through --path.procfs and
# --path.sysfs, with the 16 collectors both have that read it, once on a small host's tree
# (4 CPUs, 2 NVMe namespaces, 2 NICs) and once on a database host's (128 CPUs, 48 NVMe
# namespaces with 3 partitions each, 32 NICs). Both exporters run in the same loop: one client
# keeps a connection to each open and scrapes them in turn with Prometheus' headers
# (Accept-Encoding: gzip, X-Prometheus-Scrape-Timeout-Seconds), pausing between rounds.
# CPU per scrape = utime+stime from /proc/PID/stat over the run / scrapes.
# Usage: scripts/bench-exporter-bighost.sh [SCRAPES] [PAUSE_S]   (default 200 0.2)
# Prints a markdown table for docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scrapes=${1:-200}
pause=${2:-0.2}

command -v prometheus-node-exporter >/dev/null ||
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus-node-exporter >/dev/null
cargo build --release -q -p obwatch-exporter
ours=target/release/obwatch-exporter
out=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$out"; }
trap cleanup EXIT

collectors=(cpu cpufreq diskstats entropy filefd loadavg meminfo netclass netdev netstat nvme
  pressure schedstat sockstat stat vmstat)
flags=(--collector.disable-defaults)
for c in "${collectors[@]}"; do flags+=("--collector.$c"); done
# Same filters on both: node_exporter 1.5's diskstats default misses nothing here, but
# Debian's netdev default drops lo and its netdev reads netlink, which ignores --path.procfs.
flags+=(--collector.netdev.device-exclude='^$')
clk=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_mb() { awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }

echo "| tree | exporter | samples | CPU ms/scrape | RSS MB |"
echo "| --- | --- | --- | --- | --- |"
declare -A cost
for size in small big; do
  case $size in
    small) dims=(4 2 2) ;;
    big) dims=(128 48 32) ;;
  esac
  tree=$out/$size
  python3 scripts/gen-host-tree.py "$tree" "${dims[@]}"
  paths=(--path.procfs="$tree/proc" --path.sysfs="$tree/sys")
  prometheus-node-exporter --web.listen-address=127.0.0.1:19131 --no-collector.netdev.netlink \
    "${flags[@]}" "${paths[@]}" >"$out/ne-$size.log" 2>&1 &
  ne=$!
  "$ours" --web.listen-address=127.0.0.1:19132 "${flags[@]}" "${paths[@]}" \
    >"$out/ob-$size.log" 2>&1 &
  ob=$!
  pids+=("$ne" "$ob")
  for port in 19131 19132; do
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/metrics" >/dev/null && break; sleep 0.1; done
  done
  # Both must read the tree, not this host: a CPU count that is not the tree's fails the run.
  for port in 19131 19132; do
    n=$(curl -s "http://127.0.0.1:$port/metrics" | grep -c '^node_cpu_seconds_total{cpu="[0-9]*",mode="idle"}')
    [ "$n" = "${dims[0]}" ] || { echo "exporter on :$port reports $n CPUs, not ${dims[0]}" >&2; exit 1; }
  done
  ne0=$(ticks "$ne") ob0=$(ticks "$ob")
  samples=$(python3 - "$scrapes" "$pause" <<'EOF'
import http.client, sys, time, gzip
n, pause = int(sys.argv[1]), float(sys.argv[2])
conns = {p: http.client.HTTPConnection("127.0.0.1", p) for p in (19131, 19132)}
headers = {"Accept": "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1",
           "Accept-Encoding": "gzip", "X-Prometheus-Scrape-Timeout-Seconds": "10",
           "User-Agent": "Prometheus/2.42.0"}
counts = {}
for _ in range(n):
    for p, c in conns.items():
        c.request("GET", "/metrics", headers=headers)
        r = c.getresponse()
        body = r.read()
        assert r.status == 200, (p, r.status)
        if r.getheader("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        counts[p] = sum(1 for l in body.split(b"\n") if l and not l.startswith(b"#"))
    time.sleep(pause)
print(counts[19131], counts[19132])
EOF
)
  read -r ne_samples ob_samples <<<"$samples"
  ne_ms=$(echo "($(ticks "$ne") - $ne0) * 1000 / $clk / $scrapes" | bc -l)
  ob_ms=$(echo "($(ticks "$ob") - $ob0) * 1000 / $clk / $scrapes" | bc -l)
  cost[$size,ne]=$ne_ms cost[$size,ob]=$ob_ms
  label="$size (${dims[0]} CPUs, ${dims[1]} NVMe, ${dims[2]} NICs)"
  printf "| %s | node_exporter | %s | %.2f | %s |\n" "$label" "$ne_samples" "$ne_ms" "$(rss_mb "$ne")"
  printf "| %s | obwatch-exporter | %s | %.2f | %s |\n" "$label" "$ob_samples" "$ob_ms" "$(rss_mb "$ob")"
  printf "| %s | **ratio** | | **%.3fx** | |\n" "$size" "$(echo "$ob_ms / $ne_ms" | bc -l)"
  kill "$ne" "$ob"
  wait "$ne" "$ob" 2>/dev/null || true
done
printf "\nGrowth small -> big: node_exporter %.1fx, obwatch-exporter %.1fx\n" \
  "$(echo "${cost[big,ne]} / ${cost[small,ne]}" | bc -l)" \
  "$(echo "${cost[big,ob]} / ${cost[small,ob]}" | bc -l)"
echo "($scrapes scrapes each, ${pause}s between rounds, $(date -u +%F), $(nproc) CPUs, kernel $(uname -r))"
