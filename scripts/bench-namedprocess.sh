#!/usr/bin/env bash
# Named process groups on a busy host: N idle processes (`sleep`), 20 of them database daemons
# of 4 groups (observer, obproxy, ocssd.bin, crsd.bin: symlinks to sleep under those names),
# scraped by obwatch-exporter with only its `namedprocess` collector and by Debian's
# prometheus-process-exporter configured for the same 4 groups, side by side in one run, every
# second for SCRAPES scrapes (Prometheus' cadence; a pause between scrapes, so the exporter's
# per-process caches are as warm as under Prometheus; the processes are over 10 s old, as on a
# real host). Reports CPU per scrape (utime+stime from
# /proc/PID/stat over the scrapes) and checks both report the same process and thread counts.
# In the same loop two more obwatch-exporters show what the collector adds to a whole scrape:
# one with the host collectors (the defaults without namedprocess and timer), one with the
# host collectors plus namedprocess; the difference is the collector's cost, compared with the
# host collectors' (target: at most half).
# Usage: scripts/bench-namedprocess.sh [SCRAPES] [N ...]   (default 30 200 2000 10000)
set -euo pipefail
cd "$(dirname "$0")/.."
scrapes=${1:-30}
shift || true
sizes=("$@")
((${#sizes[@]})) || sizes=(200 2000 10000)

command -v prometheus-process-exporter >/dev/null ||
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus-process-exporter >/dev/null
cargo build --release -q -p obwatch-exporter
ours=$PWD/target/release/obwatch-exporter
out=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  pkill -f "^$out/" 2>/dev/null || true
  rm -rf "$out"
}
trap cleanup EXIT

groups=(observer obproxy ocssd.bin crsd.bin)
for g in "${groups[@]}" idle; do ln -s "$(command -v sleep)" "$out/$g"; done
cat >"$out/pe.yml" <<EOF
process_names:
$(for g in "${groups[@]}"; do printf '  - name: "{{.ExeBase}}"\n    exe: [%s]\n' "$g"; done)
EOF
# Ours with the same four groups only (not the built-in set), so both do the same work.
cat >"$out/ours.yml" <<EOF
collectors:
  process_names_builtin: false
  process_names:
$(for g in "${groups[@]}"; do printf '    - name: "{{.ExeBase}}"\n      exe: [%s]\n' "$g"; done)
EOF

clk=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# Sum of a family's samples for group $3 in a scrape of port $2 ($1: family).
value() { curl -s "http://127.0.0.1:$2/metrics" | awk -v f="$1" -v g="groupname=\"$3\"" 'index($0, f "{") == 1 && index($0, g) { s += $NF } END { print s + 0 }'; }

echo "Host: $(nproc) CPUs, kernel $(uname -r); process-exporter $(prometheus-process-exporter -version 2>&1 | awk 'NR==1 {print $NF}' | tr -d ')') vs obwatch-exporter $("$ours" --version | head -1 | awk '{print $2}'); $scrapes scrapes 1 s apart per size."
echo
echo "| processes on the host | in groups | exporter | CPU ms/scrape | same counts |"
echo "| --- | --- | --- | --- | --- |"
host_rows=()
spawned=()
for n in "${sizes[@]}"; do
  # Grow the population to n: 20 daemons (5 per group), the rest idle.
  while ((${#spawned[@]} < 20)); do
    g=${groups[$((${#spawned[@]} % 4))]}
    "$out/$g" 100000 & spawned+=($!)
  done
  while ((${#spawned[@]} < n)); do "$out/idle" 100000 & spawned+=($!); done
  # A host's processes are mostly old: obwatch reads a process younger than 10 s on every
  # scrape (it may be a fork about to exec a daemon), so let this population age first.
  sleep 11
  prometheus-process-exporter -config.path "$out/pe.yml" -web.listen-address 127.0.0.1:19121 \
    >"$out/pe.log" 2>&1 & pe=$!
  "$ours" --config.file "$out/ours.yml" --collector.disable-defaults --collector.namedprocess \
    --web.listen-address 127.0.0.1:19122 >"$out/ours.log" 2>&1 & ob=$!
  "$ours" --no-collector.namedprocess --no-collector.timer \
    --web.listen-address 127.0.0.1:19123 >"$out/host.log" 2>&1 & host=$!
  "$ours" --config.file "$out/ours.yml" --no-collector.timer \
    --web.listen-address 127.0.0.1:19124 >"$out/hostnp.log" 2>&1 & hostnp=$!
  pids=("$pe" "$ob" "$host" "$hostnp")
  for port in 19121 19122 19123 19124; do
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/metrics" >/dev/null && break; sleep 0.1; done
  done
  # The first scrapes classify every process; measure from the third.
  for _ in 1 2; do
    for port in 19121 19122 19123 19124; do curl -s http://127.0.0.1:$port/metrics >/dev/null; done
    sleep 1
  done
  pe0=$(ticks $pe) ob0=$(ticks $ob) host0=$(ticks $host) hostnp0=$(ticks $hostnp)
  for _ in $(seq "$scrapes"); do
    for port in 19121 19122 19123 19124; do
      curl -s -H 'Accept-Encoding: gzip' http://127.0.0.1:$port/metrics >/dev/null
    done
    sleep 1
  done
  pe_ms=$(awk -v d=$(($(ticks $pe) - pe0)) -v n="$scrapes" -v c="$clk" 'BEGIN { printf "%.2f", d / c / n * 1000 }')
  ms() { awk -v d="$1" -v n="$scrapes" -v c="$clk" 'BEGIN { printf "%.2f", d / c / n * 1000 }'; }
  ob_ms=$(ms $(($(ticks $ob) - ob0)))
  host_ms=$(ms $(($(ticks $host) - host0)))
  hostnp_ms=$(ms $(($(ticks $hostnp) - hostnp0)))
  host_rows+=("$(awk -v n="$n" -v h="$host_ms" -v hn="$hostnp_ms" 'BEGIN { printf "| %s | %.2f | %.2f | %.2f | **%.2fx** |", n, h, hn, hn - h, (hn - h) / h }')")
  same=yes
  for g in "${groups[@]}"; do
    for f in namedprocess_namegroup_num_procs namedprocess_namegroup_num_threads; do
      a=$(value $f 19121 "$g") b=$(value $f 19122 "$g")
      [ "$a" = "$b" ] || same="no: $g $f $a vs $b"
    done
  done
  echo "| $n | 20 | process-exporter | $pe_ms | |"
  echo "| $n | 20 | obwatch-exporter | $ob_ms | $same |"
  awk -v a="$ob_ms" -v b="$pe_ms" -v n="$n" 'BEGIN { printf "| %s | 20 | **ratio obwatch/process-exporter** | **%.3fx** | |\n", n, a / b }'
  kill "$pe" "$ob" "$host" "$hostnp"; wait "$pe" "$ob" "$host" "$hostnp" 2>/dev/null || true
  pids=()
done
for p in "${spawned[@]}"; do kill "$p" 2>/dev/null || true; done
echo
echo "What the collector adds to a whole scrape, same run (obwatch-exporter, CPU ms/scrape):"
echo
echo "| processes on the host | host collectors | host + namedprocess | namedprocess | namedprocess / host |"
echo "| --- | --- | --- | --- | --- |"
printf '%s\n' "${host_rows[@]}"
