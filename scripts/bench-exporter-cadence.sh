#!/usr/bin/env bash
# The exporter measured the way Prometheus scrapes it: a real Prometheus scrapes Debian's
# node_exporter and obwatch-exporter (both with their default collectors) over kept-alive
# connections with its own headers (Accept-Encoding: gzip, X-Prometheus-Scrape-Timeout-Seconds),
# once at a 1 s interval and once at Prometheus' default 15 s, both exporters in the same run.
# Per exporter and interval: CPU per scrape (utime+stime from /proc/PID/stat over the run,
# divided by the scrapes Prometheus made, counted from its own `up` series), RSS at the end,
# and the lowest and highest thread count seen (sampled every 0.2 s: a range means threads
# were created and exited between scrapes).
# Usage: scripts/bench-exporter-cadence.sh [SECONDS_AT_1S] [SECONDS_AT_15S]   (default 120 300)
# Prints a markdown table for the README's benchmark section.
set -euo pipefail
cd "$(dirname "$0")/.."
secs1=${1:-120}
secs15=${2:-300}

for cmd in prometheus prometheus-node-exporter curl; do
  command -v "$cmd" >/dev/null || {
    pkg=$cmd; [ "$cmd" = prometheus-node-exporter ] || [ "$cmd" = curl ] || pkg=prometheus
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null
  }
done
cargo build --release -q -p obwatch-exporter
ours=target/release/obwatch-exporter
out=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$out"; }
trap cleanup EXIT

clk=$(getconf CLK_TCK)
ne_port=19111 ob_port=19112 prom_port=19113
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_mb() { awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
threads() { awk '/^Threads:/ {print $2}' "/proc/$1/status"; }
# The number of scrapes Prometheus made of `job` in the last `secs` seconds.
scrapes() {
  curl -s "http://127.0.0.1:$prom_port/api/v1/query" \
    --data-urlencode "query=count_over_time(up{job=\"$1\"}[${2}s])" |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)'
}

# One run: both exporters fresh, Prometheus scraping both every `interval` for `secs`.
run() {
  local interval=$1 secs=$2
  prometheus-node-exporter --web.listen-address=127.0.0.1:$ne_port >"$out/ne.log" 2>&1 &
  local ne_pid=$!
  "$ours" --web.listen-address=127.0.0.1:$ob_port >"$out/ob.log" 2>&1 &
  local ob_pid=$!
  pids+=("$ne_pid" "$ob_pid")
  for port in $ne_port $ob_port; do
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/metrics" >/dev/null && break; sleep 0.1; done
  done
  cat >"$out/prometheus.yml" <<EOF
global: { scrape_interval: ${interval}s, scrape_timeout: 1s }
scrape_configs:
  - job_name: node_exporter
    static_configs: [{ targets: ["127.0.0.1:$ne_port"] }]
  - job_name: obwatch
    static_configs: [{ targets: ["127.0.0.1:$ob_port"] }]
EOF
  rm -rf "$out/data"
  prometheus --config.file="$out/prometheus.yml" --storage.tsdb.path="$out/data" \
    --web.listen-address=127.0.0.1:$prom_port >"$out/prom.log" 2>&1 &
  local prom_pid=$!
  pids+=("$prom_pid")
  # Let the first scrapes happen (cold start), then measure.
  sleep $((interval * 2 + 2))
  local ne_t0 ob_t0 ne_min=999 ne_max=0 ob_min=999 ob_max=0 t
  ne_t0=$(ticks $ne_pid) ob_t0=$(ticks $ob_pid)
  local end=$((SECONDS + secs))
  while [ $SECONDS -lt $end ]; do
    t=$(threads $ne_pid); ((t < ne_min)) && ne_min=$t; ((t > ne_max)) && ne_max=$t
    t=$(threads $ob_pid); ((t < ob_min)) && ob_min=$t; ((t > ob_max)) && ob_max=$t
    sleep 0.2
  done
  local ne_d=$(($(ticks $ne_pid) - ne_t0)) ob_d=$(($(ticks $ob_pid) - ob_t0))
  local ne_n ob_n
  ne_n=$(scrapes node_exporter "$secs") ob_n=$(scrapes obwatch "$secs")
  local ne_cpu ob_cpu
  ne_cpu=$(awk -v d=$ne_d -v n="$ne_n" -v c="$clk" 'BEGIN { printf "%.2f", d / c / n * 1000 }')
  ob_cpu=$(awk -v d=$ob_d -v n="$ob_n" -v c="$clk" 'BEGIN { printf "%.2f", d / c / n * 1000 }')
  echo "| ${interval}s | node_exporter | $ne_n | $ne_cpu | $(rss_mb $ne_pid) | $ne_min-$ne_max |"
  echo "| ${interval}s | obwatch-exporter | $ob_n | $ob_cpu | $(rss_mb $ob_pid) | $ob_min-$ob_max |"
  awk -v a="$ob_cpu" -v b="$ne_cpu" -v i="$interval" \
    'BEGIN { printf "| %ss | **ratio obwatch/node_exporter** | | **%.3fx** | | |\n", i, a / b }'
  kill "$prom_pid" "$ne_pid" "$ob_pid"
  wait "$prom_pid" "$ne_pid" "$ob_pid" 2>/dev/null || true
  pids=()
}

echo "Host: $(nproc) CPUs, kernel $(uname -r); $(prometheus --version 2>&1 | head -1 | awk '{print $1, $3}'); node_exporter $(prometheus-node-exporter --version 2>&1 | awk 'NR==1 {print $3}') vs obwatch-exporter $("$ours" --version | head -1 | awk '{print $2}'); ${secs1}s at 1s, ${secs15}s at 15s."
echo
echo "| interval | exporter | scrapes | CPU ms/scrape | RSS MB | threads (min-max) |"
echo "| --- | --- | --- | --- | --- | --- |"
run 1 "$secs1"
run 15 "$secs15"
