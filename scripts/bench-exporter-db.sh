#!/usr/bin/env bash
# What the database and process collectors cost a scrape, measured side by side in one run:
#   host      obwatch-exporter with the host collectors only (node_exporter's default set)
#   all-db    host + namedprocess + timer + oceanbase against a MariaDB loaded with the
#             OceanBase 4.x fixture (crates/testkit/fixtures/oceanbase/ob4.sql) + clusterware
#             (fake crsctl/olsnodes printing the documented formats: Clusterware cannot run
#             here) + obproxy (a static copy of an OBProxy metrics page served over HTTP)
#   slow-db   the same, against a second MariaDB where every view takes 5 s to answer;
#             measured once it has finished a whole round (a few minutes of 5 s queries),
#             while the next round's slow queries are running
# Per exporter: CPU ms per scrape (utime+stime of the whole process over the run, so the
# background rounds are included, / requests), p50/p99 latency (wrk, 1 scraper).
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

# A Clusterware home whose tools answer like an 11.2+ stack that is up.
crs=$out/grid
mkdir -p "$crs/bin"
cat >"$crs/bin/crsctl" <<'EOF'
#!/bin/sh
case "$*" in
  "check crs") printf '%s\n' "CRS-4638: Oracle High Availability Services is online" \
    "CRS-4537: Cluster Ready Services is online" "CRS-4529: Cluster Synchronization Services is online" \
    "CRS-4533: Event Manager is online" ;;
  "stat res -v") for r in ora.LISTENER.lsnr ora.orcl.db ora.asm ora.DATA.dg ora.scan1.vip; do
      printf '%s\n' "NAME=$r" "TYPE=$r.type" "LAST_SERVER=rac1" "STATE=ONLINE on rac1" "TARGET=ONLINE" \
        "CARDINALITY_ID=1" "RESTART_COUNT=0" "FAILURE_COUNT=0" ""; done ;;
  "query css votedisk") printf '%s\n' " 1. ONLINE   4f7d2d1c1a2b4f6fbf0a3b8f6d2e1c0a (/dev/sdb1) [OCR]" \
    " 2. ONLINE   9a8b7c6d5e4f40312a1b2c3d4e5f6a7b (/dev/sdc1) [OCR]" \
    " 3. ONLINE   0123456789abcdef0123456789abcdef (/dev/sdd1) [OCR]" "Located 3 voting disk(s)." ;;
  *) exit 1 ;;
esac
EOF
printf '#!/bin/sh\nprintf "rac1\\tActive\\nrac2\\tActive\\n"\n' >"$crs/bin/olsnodes"
printf '#!/bin/sh\n' >"$crs/bin/ohasd"
chmod +x "$crs/bin/"*
# An OBProxy metrics page (a few odp_* samples) served by a static HTTP server.
mkdir -p "$out/odp"
for i in $(seq 40); do
  printf 'odp_requests_total{cluster="obcluster",tenant="t%s",type="select"} %s\n' "$i" "$((i * 1000))"
done | { echo '# TYPE odp_requests_total counter'; cat; } >"$out/odp/metrics"
(cd "$out/odp" && exec python3 -m http.server 19212 --bind 127.0.0.1 >/dev/null 2>&1) & pids+=($!)

cfg() {
  printf 'oceanbase:\n  address: 127.0.0.1:%s\n  username: ocp_monitor\n  password_file: %s\n  interval: %s\n  query_timeout: %s\nclusterware:\n  crs_home: %s\nobproxy:\n  metrics_url: http://127.0.0.1:19212/metrics\n' "$1" "$out/pw" "$3" "$3" "$crs" >"$out/$2.yml"
}
echo pw >"$out/pw"
# Slow: a query over two or three views takes 10-15 s; 30 s lets every one answer.
cfg 19210 fast 15s
cfg 19211 slow 30s
declare -A port=([host]=19201 [all-db]=19202 [slow-db]=19203)
declare -A pid
"$ours" --web.listen-address=127.0.0.1:19201 --no-collector.namedprocess --no-collector.timer >"$out/host.log" 2>&1 & pids+=($!); pid[host]=$!
"$ours" --web.listen-address=127.0.0.1:19202 --config.file "$out/fast.yml" >"$out/all.log" 2>&1 & pids+=($!); pid[all-db]=$!
"$ours" --web.listen-address=127.0.0.1:19203 --config.file "$out/slow.yml" >"$out/slow.log" 2>&1 & pids+=($!); pid[slow-db]=$!
for w in host all-db slow-db; do
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:${port[$w]}/metrics" >/dev/null && break; sleep 0.1; done
done
# Both DB exporters must have finished a round (and the other background collectors answered)
# before measuring: the slow one takes a few minutes of 5 s queries.
for w in all-db slow-db; do
  for _ in $(seq 6000); do
    curl -s "http://127.0.0.1:${port[$w]}/metrics" >"$out/probe"
    grep -q '^obwatch_ob_rounds_total [1-9]' "$out/probe" && grep -q '^obwatch_obproxy_up 1' "$out/probe" \
      && grep -q '^crs_node_active' "$out/probe" && break
    sleep 0.1
  done
  grep -q '^obwatch_ob_rounds_total [1-9]' "$out/probe" || { echo "$w: no OceanBase round finished" >&2; exit 1; }
done

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
  R[$w,other]=$(curl -s "$url" | grep -Ec '^(crs_|odp_|obwatch_obproxy_up)' || true)
done
echo "Host: $(nproc) CPUs, kernel $(uname -r); ${secs}s per run, 1 scraper (wrk); OceanBase rounds every 15 s (slow-db: 30 s)."
echo
echo "| exporter | samples | ob_* samples | crs_/odp_/obproxy_ samples | CPU ms/scrape | p50 ms | p99 ms |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for w in host all-db slow-db; do
  echo "| $w | ${R[$w,n]} | ${R[$w,ob]} | ${R[$w,other]} | ${R[$w,cpu]} | ${R[$w,p50]} | ${R[$w,p99]} |"
done
awk -v a="${R[all-db,cpu]}" -v b="${R[host,cpu]}" -v c="${R[all-db,p99]}" -v d="${R[host,p99]}" -v e="${R[slow-db,p99]}" \
  'BEGIN { printf "| **ratio all-db/host** | | | | **%.2fx** | | **%.2fx** (p99) |\n| **ratio slow-db/all-db** | | | | | | **%.2fx** (p99) |\n", a / b, c / d, e / c }'
