#!/usr/bin/env bash
# Benchmark of `obwatch-logtailer scan` with the shipped OBServer rules against ripgrep with
# the same patterns and mtail --one_shot with an equivalent program (one counter per rule), on
# one generated OBServer-style log, in the same run. Checks that all three count the same
# matches per rule, and prints wall time, CPU time, lines/s, MB/s, peak RSS and the ratios.
# scan and rg run ROUNDS times (median); mtail, ~60x slower, once. Then scan again with every
# shipped rule file loaded (rules/), ROUNDS times.
# Usage: scripts/bench-logtailer.sh [SIZE_MB] [ROUNDS]   (default 1024 3)
# Env: BENCH_DIR (default a temp dir), CARGO_TARGET_DIR. Needs ripgrep and mtail (Debian).
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1024}
rounds=${2:-3}
for tool in rg mtail; do
  command -v "$tool" >/dev/null || { echo "bench-logtailer: $tool not found (apt-get install ripgrep mtail)" >&2; exit 2; }
done
target=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p obwatch-logtailer
bin=$target/release/obwatch-logtailer
rules=rules/observer.yaml

work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
log=$work/observer.log
if [ ! -s "$log" ] || [ "$(($(stat -c %s "$log") / 1048576))" -lt "$size" ]; then
  echo "generating ${size} MB of OBServer log in $log ..." >&2
  python3 scripts/gen-observer-log.py "$log" "$size"
fi
lines=$(wc -l <"$log")
bytes=$(stat -c %s "$log")
cat "$log" >/dev/null # page cache: every tool reads from memory

# The observer group's rules, as (alert, pattern) with named groups unnamed (rg and RE2 reject
# a name used twice in one alternation; mtail has no use for them).
group=$(sed -n '/^  - name: observer$/,/^  - name: observer-alert-log/p' "$rules")
paste -d'\t' <(sed -n "s/^ *- alert: \(.*\)$/\1/p" <<<"$group") \
  <(sed -n "s/^ *match: '\(.*\)'$/\1/p" <<<"$group" | sed "s/''/'/g; s/(?P<[a-z_]*>/(/g") >"$work/pairs.tsv"
rg_args=()
{
  echo 'counter log_rule_matches_total by alertname'
  while IFS=$'\t' read -r name pat; do
    rg_args+=(-e "$pat")
    printf '/%s/ {\n  log_rule_matches_total["%s"]++\n}\n' "${pat//\//\\/}" "$name"
  done <"$work/pairs.tsv"
} >"$work/rules.mtail"

# Runs "$@" with stdout to $out; prints "WALL USER+SYS PEAK_RSS_KIB".
measure() {
  local t
  t=$(mktemp)
  /usr/bin/time -f '%e %U %S %M' -o "$t" "$@" >"$out"
  awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }' "$t"
  rm -f "$t"
}

out=$work/scan.out
scan_runs=() rg_runs=()
for ((r = 0; r < rounds; r++)); do
  scan_runs+=("$(measure "$bin" scan --rules "$rules" --format json "$log")")
  out=$work/rg.out
  rg_runs+=("$(measure rg --no-filename -c "${rg_args[@]}" "$log")")
  out=$work/scan.out
done
# The same log with every shipped rule loaded (all four files: most groups select other file
# names, so this measures the rule set's compile and per-record cost as a user runs it).
out=$work/scan-all.out
all_runs=()
for ((r = 0; r < rounds; r++)); do
  all_runs+=("$(measure "$bin" scan --rules rules/ --format json "$log")")
done
n_rules=$("$bin" check rules/ | sed -n 's/.* \([0-9]*\) rule(s).*/\1/p')
out=$work/mtail.out
mtail_run=$(measure mtail --one_shot --one_shot_format prometheus --progs "$work/rules.mtail" --logs "$log")

# Same matches: scan's per-rule counts equal mtail's; scan's matching lines equal rg's count.
scan_counts=$(grep -o '^{"alertname":"[A-Za-z]*"' "$work/scan.out" | cut -d'"' -f4 | sort | uniq -c | awk '{ print $2, $1 }')
mtail_counts=$(sed -n 's/^log_rule_matches_total{alertname="\([A-Za-z]*\)",.*} \([0-9]*\)$/\1 \2/p' "$work/mtail.out" | sort)
scan_lines=$(grep -o '"line":[0-9]*' "$work/scan.out" | sort -u | wc -l)
rg_lines=$(cat "$work/rg.out")
if [ "$scan_counts" != "$mtail_counts" ] || [ "$scan_lines" != "$rg_lines" ]; then
  echo "bench-logtailer: the tools disagree" >&2
  echo "scan: $scan_counts ($scan_lines lines)" >&2
  echo "mtail: $mtail_counts" >&2
  echo "rg: $rg_lines lines" >&2
  exit 1
fi

read -r s_wall s_cpu s_rss <<<"$(printf '%s\n' "${scan_runs[@]}" | sort -n | sed -n "$(((rounds + 1) / 2))p")"
read -r g_wall g_cpu g_rss <<<"$(printf '%s\n' "${rg_runs[@]}" | sort -n | sed -n "$(((rounds + 1) / 2))p")"
read -r m_wall m_cpu m_rss <<<"$mtail_run"
read -r a_wall a_cpu a_rss <<<"$(printf '%s\n' "${all_runs[@]}" | sort -n | sed -n "$(((rounds + 1) / 2))p")"
awk -v lines="$lines" -v bytes="$bytes" -v sw="$s_wall" -v sc="$s_cpu" -v sr="$s_rss" \
  -v gw="$g_wall" -v gc="$g_cpu" -v gr="$g_rss" -v mw="$m_wall" -v mc="$m_cpu" -v mr="$m_rss" \
  -v aw="$a_wall" -v ac="$a_cpu" -v ar="$a_rss" -v nr="$n_rules" \
  -v matches="$(wc -l <"$work/scan.out")" 'BEGIN {
  printf "input: %d lines, %.0f MB, %d matches\n", lines, bytes / 1e6, matches
  printf "%-22s %8s %8s %12s %9s %9s\n", "tool", "wall s", "cpu s", "lines/s", "MB/s", "RSS MiB"
  printf "%-22s %8.2f %8.2f %12.0f %9.0f %9.1f\n", "obwatch-logtailer scan", sw, sc, lines / sw, bytes / 1e6 / sw, sr / 1024
  printf "%-22s %8.2f %8.2f %12.0f %9.0f %9.1f\n", "rg -c", gw, gc, lines / gw, bytes / 1e6 / gw, gr / 1024
  printf "%-22s %8.2f %8.2f %12.0f %9.0f %9.1f\n", "mtail --one_shot", mw, mc, lines / mw, bytes / 1e6 / mw, mr / 1024
  printf "%-22s %8.2f %8.2f %12.0f %9.0f %9.1f\n", "scan, all " nr " rules", aw, ac, lines / aw, bytes / 1e6 / aw, ar / 1024
  printf "scan speed vs rg: %.2fx (target >= 0.5x); vs mtail: %.1fx (target >= 10x)\n", gw / sw, mw / sw
  printf "all shipped rules vs rg: %.2fx; vs mtail: %.1fx\n", gw / aw, mw / aw
}'
