#!/usr/bin/env bash
# Side-by-side benchmark of obwatch-exporter against Debian's node_exporter on this host, both
# with their default collectors, at 1 and 10 concurrent scrapers (wrk). Measures, per
# exporter: CPU seconds per scrape (utime+stime from /proc/PID/stat over the run / requests),
# p50 and p99 latency (wrk --latency), RSS and threads after the run.
# With GLIBC217=1 it also measures the release build (scripts/release.sh's: cargo-zigbuild
# against glibc 2.17, stripped) in the same run, to show it is not slower than the native one.
# Usage: [GLIBC217=1] scripts/bench-exporter.sh [SECONDS_PER_RUN]   (default 10)
# Prints a markdown table for the README's benchmark section.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}

for cmd in wrk prometheus-node-exporter; do
  if ! command -v "$cmd" >/dev/null; then
    pkg=$cmd; [ "$cmd" = wrk ] || pkg=prometheus-node-exporter
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null
  fi
done
cargo build --release -q -p obwatch-exporter
ours=target/release/obwatch-exporter
out=$(mktemp -d)
whos=(ne ob)
if [ "${GLIBC217:-}" = 1 ]; then
  command -v cargo-zigbuild >/dev/null || python3 -m pip install -q ziglang==0.17.0 cargo-zigbuild==0.24.1
  cargo zigbuild --release -q -p obwatch-exporter --target x86_64-unknown-linux-gnu.2.17
  old217="$out/obwatch-exporter-glibc217"
  objcopy --strip-all target/x86_64-unknown-linux-gnu/release/obwatch-exporter "$old217"
  chmod +x "$old217"
  whos+=(g217)
fi
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$out"; }
trap cleanup EXIT

clk=$(getconf CLK_TCK)
ne_port=19101; ob_port=19102
prometheus-node-exporter --web.listen-address=127.0.0.1:$ne_port >"$out/ne.log" 2>&1 & pids+=($!); ne_pid=$!
"$ours" --web.listen-address=127.0.0.1:$ob_port >"$out/ob.log" 2>&1 & pids+=($!); ob_pid=$!
declare -A PID=([ne]=$ne_pid [ob]=$ob_pid) PORT=([ne]=$ne_port [ob]=$ob_port)
declare -A NAME=([ne]=node_exporter [ob]=obwatch-exporter [g217]="obwatch-exporter (glibc 2.17 build)")
if [ -n "${old217:-}" ]; then
  "$old217" --web.listen-address=127.0.0.1:19103 >"$out/g217.log" 2>&1 & pids+=($!)
  PID[g217]=$!; PORT[g217]=19103
fi
for port in "${PORT[@]}"; do
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/metrics" >/dev/null && break; sleep 0.1; done
done

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
threads() { awk '/^Threads:/ {print $2}' "/proc/$1/status"; }
# wrk prints latency percentiles like "     99%   12.34ms"; normalise to milliseconds.
pct() { awk -v p="$1" '$1 == p { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } printf "%.3f", v }' "$2"; }

declare -A R
for conc in 1 10; do
  for who in "${whos[@]}"; do
    pid=${PID[$who]}; port=${PORT[$who]}
    # Warm up (first scrapes allocate), then measure.
    wrk -t1 -c1 -d1s "http://127.0.0.1:$port/metrics" >/dev/null
    t0=$(ticks $pid)
    threads_wrk=$(( conc < 2 ? 1 : 2 ))
    wrk -t$threads_wrk -c$conc -d${secs}s --latency "http://127.0.0.1:$port/metrics" >"$out/wrk.$who.$conc"
    t1=$(ticks $pid)
    reqs=$(awk '/requests in/ {print $1}' "$out/wrk.$who.$conc")
    R[$who,$conc,cpu]=$(awk -v d=$((t1 - t0)) -v n="$reqs" -v c="$clk" 'BEGIN { printf "%.3f", d / c / n * 1000 }')
    R[$who,$conc,p50]=$(pct 50% "$out/wrk.$who.$conc")
    R[$who,$conc,p99]=$(pct 99% "$out/wrk.$who.$conc")
    R[$who,$conc,rps]=$(awk '/^Requests\/sec/ {printf "%.0f", $2}' "$out/wrk.$who.$conc")
    R[$who,$conc,rss]=$(awk -v k="$(rss_kib $pid)" 'BEGIN { printf "%.1f", k / 1024 }')
    R[$who,$conc,thr]=$(threads $pid)
  done
done
samples() { curl -s "http://127.0.0.1:$1/metrics" | grep -vc '^#'; }
echo "Host: $(nproc) CPUs, kernel $(uname -r); node_exporter $(prometheus-node-exporter --version 2>&1 | awk 'NR==1 {print $3}') ($(samples $ne_port) samples) vs obwatch-exporter $("$ours" --version | head -1 | awk '{print $2}') ($(samples $ob_port) samples); ${secs}s per run."
echo
echo "| scrapers | exporter | CPU ms/scrape | p50 ms | p99 ms | scrapes/s | RSS MB | threads |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
for conc in 1 10; do
  for who in "${whos[@]}"; do
    echo "| $conc | ${NAME[$who]} | ${R[$who,$conc,cpu]} | ${R[$who,$conc,p50]} | ${R[$who,$conc,p99]} | ${R[$who,$conc,rps]} | ${R[$who,$conc,rss]} | ${R[$who,$conc,thr]} |"
  done
  awk -v a="${R[ob,$conc,cpu]}" -v b="${R[ne,$conc,cpu]}" -v c="${R[ob,$conc,p99]}" -v d="${R[ne,$conc,p99]}" -v conc=$conc \
    'BEGIN { printf "| %s | **ratio obwatch/node_exporter** | **%.3fx** | | **%.3fx** (p99) | | | |\n", conc, a / b, c / d }'
  if [ -n "${old217:-}" ]; then
    awk -v a="${R[g217,$conc,cpu]}" -v b="${R[ob,$conc,cpu]}" -v c="${R[g217,$conc,p99]}" -v d="${R[ob,$conc,p99]}" -v conc=$conc \
      'BEGIN { printf "| %s | **ratio glibc 2.17 build/native** | **%.3fx** | | **%.3fx** (p99) | | | |\n", conc, a / b, c / d }'
  fi
done
if [ -n "${old217:-}" ]; then
  echo
  echo "Binary size: native $(stat -c %s "$ours") bytes, glibc 2.17 build (stripped) $(stat -c %s "$old217") bytes."
fi
