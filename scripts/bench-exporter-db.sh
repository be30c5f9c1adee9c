#!/usr/bin/env bash
# What the database and process collectors cost a scrape, measured side by side in one run:
#   host      obwatch-exporter with the host collectors only (node_exporter's default set)
#   all-db    host + namedprocess + timer + oceanbase against a MariaDB loaded with the
#             OceanBase 4.x fixture (crates/testkit/fixtures/oceanbase/ob4.sql)
#   slow-db   the same, against a second MariaDB where every view takes 5 s to answer
# Per exporter: CPU ms per scrape (utime+stime of the whole process over the run, so the
# background OceanBase rounds are included, / requests), p50/p99 latency (wrk, 1 scraper).
# Targets (issue 4): all-db within 1.5x of host; slow-db latency no worse than all-db.
# Usage: scripts/bench-exporter-db.sh [SECONDS_PER_RUN]   (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}

command -v wrk >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
command -v mariadbd >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server >/dev/null
cargo build --release -q -p obwatch-exporter
ours=target/release/obwatch-exporter
out=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$out"; }
trap cleanup EXIT

# start_db NAME PORT: a MariaDB answering version() like OceanBase 4.2, with the 4.x fixture.
start_db() {
  local d=$out/$1
  mkdir -p "$d/tmp"
  mariadb-install-db --no-defaults --auth-root-authentication-method=normal --skip-test-db \
    --user=root --lower-case-table-names=1 --datadir="$d/data" --tmpdir="$d/tmp" >/dev/null 2>&1
  mariadbd --no-defaults --datadir="$d/data" --tmpdir="$d/tmp" --socket="$d/sock" --port="$2" \
    --bind-address=127.0.0.1 --user=root --lower-case-table-names=1 --skip-log-bin \
    --innodb-buffer-pool-size=16M --version=5.7.25-OceanBase_CE-v4.2.1.0 >"$d/log" 2>&1 &
  pids+=($!)
  for _ in $(seq 300); do mariadb-admin --no-defaults -uroot -S "$d/sock" ping >/dev/null 2>&1 && break; sleep 0.1; done
  mariadb --no-defaults -uroot -S "$d/sock" <crates/testkit/fixtures/oceanbase/ob4.sql
  mariadb --no-defaults -uroot -S "$d/sock" -e \
    "CREATE USER ocp_monitor@'%' IDENTIFIED BY 'pw'; GRANT SELECT, EXECUTE ON oceanbase.* TO ocp_monitor@'%';"
}
start_db fast 19210
start_db slow 19211
# Slow: every table behind a view whose derived table sleeps 5 s once per query.
for t in $(mariadb --no-defaults -uroot -S "$out/slow/sock" -N -B oceanbase -e "SHOW FULL TABLES WHERE Table_type = 'BASE TABLE'" | awk '{print $1}'); do
  mariadb --no-defaults -uroot -S "$out/slow/sock" oceanbase -e \
    "RENAME TABLE \`$t\` TO \`${t}_real\`; CREATE VIEW \`$t\` AS SELECT r.* FROM \`${t}_real\` r JOIN (SELECT SLEEP(5) AS s) d;"
done

cfg() {
  printf 'oceanbase:\n  address: 127.0.0.1:%s\n  username: ocp_monitor\n  password_file: %s\n  interval: 15s\n  query_timeout: 10s\n' "$1" "$out/pw" >"$out/$2.yml"
}
echo pw >"$out/pw"
cfg 19210 fast
cfg 19211 slow
declare -A port=([host]=19201 [all-db]=19202 [slow-db]=19203)
declare -A pid
"$ours" --web.listen-address=127.0.0.1:19201 --no-collector.namedprocess --no-collector.timer >"$out/host.log" 2>&1 & pids+=($!); pid[host]=$!
"$ours" --web.listen-address=127.0.0.1:19202 --config.file "$out/fast.yml" >"$out/all.log" 2>&1 & pids+=($!); pid[all-db]=$!
"$ours" --web.listen-address=127.0.0.1:19203 --config.file "$out/slow.yml" >"$out/slow.log" 2>&1 & pids+=($!); pid[slow-db]=$!
for w in host all-db slow-db; do
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:${port[$w]}/metrics" >/dev/null && break; sleep 0.1; done
done
# The fast exporter must have finished a round before measuring.
for _ in $(seq 100); do curl -s "http://127.0.0.1:19202/metrics" | grep -q '^ob_up 1' && break; sleep 0.1; done

clk=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
pct() { awk -v p="$1" '$1 == p { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } printf "%.3f", v }' "$2"; }
declare -A R
for w in host all-db slow-db; do
  url="http://127.0.0.1:${port[$w]}/metrics"
  wrk -t1 -c1 -d1s "$url" >/dev/null
  t0=$(ticks "${pid[$w]}")
  wrk -t1 -c1 -d"${secs}s" --latency "$url" >"$out/wrk.$w"
  t1=$(ticks "${pid[$w]}")
  reqs=$(awk '/requests in/ {print $1}' "$out/wrk.$w")
  R[$w,cpu]=$(awk -v d=$((t1 - t0)) -v n="$reqs" -v c="$clk" 'BEGIN { printf "%.3f", d / c / n * 1000 }')
  R[$w,p50]=$(pct 50% "$out/wrk.$w")
  R[$w,p99]=$(pct 99% "$out/wrk.$w")
  R[$w,n]=$(curl -s "$url" | grep -vc '^#')
  R[$w,ob]=$(curl -s "$url" | grep -c '^ob_' || true)
done
echo "Host: $(nproc) CPUs, kernel $(uname -r); ${secs}s per run, 1 scraper (wrk); OceanBase rounds every 15 s."
echo
echo "| exporter | samples | ob_* samples | CPU ms/scrape | p50 ms | p99 ms |"
echo "| --- | --- | --- | --- | --- | --- |"
for w in host all-db slow-db; do
  echo "| $w | ${R[$w,n]} | ${R[$w,ob]} | ${R[$w,cpu]} | ${R[$w,p50]} | ${R[$w,p99]} |"
done
awk -v a="${R[all-db,cpu]}" -v b="${R[host,cpu]}" -v c="${R[all-db,p99]}" -v d="${R[host,p99]}" -v e="${R[slow-db,p99]}" \
  'BEGIN { printf "| **ratio all-db/host** | | | **%.2fx** | | **%.2fx** (p99) |\n| **ratio slow-db/all-db** | | | | | **%.2fx** (p99) |\n", a / b, c / d, e / c }'
