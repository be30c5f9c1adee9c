#!/usr/bin/env bash
# Benchmark of `obwatch-cleaner once` against `find DIR -type f -mtime +7 -delete` on two
# identical copies of a tree of 100,000 files in 1,000 directories, half of them 10 days old
# (older than the 7-day limit), in the same run. Checks that both leave the same survivors and
# prints wall time, the ratio, and peak RSS (/usr/bin/time -v, else /proc polling).
# The host's disk is shared and noisy, so it runs ROUNDS rounds on fresh copies, alternating
# which tool goes first, and reports the median of each.
# Usage: scripts/bench-cleaner.sh [DIRS] [FILES_PER_DIR] [ROUNDS]   (default 1000 100 3)
# Env: BENCH_DIR (default a temp dir), CARGO_TARGET_DIR (where the release build goes).
set -euo pipefail
cd "$(dirname "$0")/.."
dirs=${1:-1000}
per=${2:-100}
rounds=${3:-3}
half=$((per / 2))

target=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p obwatch-cleaner
bin=$target/release/obwatch-cleaner

work=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$work"
cleanup() { rm -rf "$work/tree" "$work/a" "$work/b" "$work/state"; }
trap cleanup EXIT
cleanup
mkdir -p "$work/tree" "$work/state"

echo "generating $((dirs * per)) files in $dirs directories under $work ..." >&2
old=$(date -d '10 days ago' '+%Y%m%d%H%M.%S')
for ((d = 0; d < dirs; d++)); do
  dir=$(printf '%s/tree/d%04d' "$work" "$d")
  mkdir "$dir"
  (
    cd "$dir"
    new_files=() old_files=()
    for ((f = 0; f < half; f++)); do new_files+=("app.log.$f"); done
    for ((f = half; f < per; f++)); do old_files+=("app.log.$f"); done
    printf 'log line\n' | tee "${new_files[@]}" "${old_files[@]}" >/dev/null
    touch -t "$old" "${old_files[@]}"
  )
done
cat >"$work/state/cleaner.yml" <<EOF
lock_file: $work/state/lock
audit_log: $work/state/audit.jsonl
textfile: $work/state/cleaner.prom
policies:
  - name: bench
    paths: ["$work/a/*/app.log.*"]
    max_age: 7d
EOF

# Runs "$@" and prints "WALL_SECONDS PEAK_RSS_KIB".
measure() {
  if [ -x /usr/bin/time ]; then
    local t
    t=$(mktemp)
    /usr/bin/time -v -o "$t" "$@" >/dev/null
    awk -F': ' '
      /Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; w = s }
      /Maximum resident set size/ { r = $2 }
      END { printf "%.3f %d\n", w, r }' "$t"
    rm -f "$t"
  else
    local start peak=0 pid rss
    start=$(date +%s.%N)
    "$@" >/dev/null &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
      rss=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
      [ "${rss:-0}" -gt "$peak" ] && peak=$rss
      sleep 0.01
    done
    wait "$pid"
    echo "$(echo "$(date +%s.%N) - $start" | bc) $peak"
  fi
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ob_walls=() ob_rsss=() find_walls=() find_rsss=() same=yes
for ((r = 1; r <= rounds; r++)); do
  rm -rf "$work/a" "$work/b" "$work/state/audit.jsonl"
  cp -a "$work/tree" "$work/a"
  cp -a "$work/tree" "$work/b"
  sync
  if ((r % 2)); then
    read -r ow orss < <(measure "$bin" once --config.file "$work/state/cleaner.yml")
    read -r fw frss < <(measure find "$work/b" -type f -mtime +7 -delete)
  else
    read -r fw frss < <(measure find "$work/b" -type f -mtime +7 -delete)
    read -r ow orss < <(measure "$bin" once --config.file "$work/state/cleaner.yml")
  fi
  ob_walls+=("$ow") ob_rsss+=("$orss") find_walls+=("$fw") find_rsss+=("$frss")
  (cd "$work/a" && find . -type f | sort) >"$work/state/a.txt"
  (cd "$work/b" && find . -type f | sort) >"$work/state/b.txt"
  cmp -s "$work/state/a.txt" "$work/state/b.txt" || same=NO
  echo "round $r: obwatch-cleaner ${ow}s ${orss}KiB, find ${fw}s ${frss}KiB" >&2
done
ob_wall=$(printf '%s\n' "${ob_walls[@]}" | median)
ob_rss=$(printf '%s\n' "${ob_rsss[@]}" | sort -n | tail -1)
find_wall=$(printf '%s\n' "${find_walls[@]}" | median)
find_rss=$(printf '%s\n' "${find_rsss[@]}" | sort -n | tail -1)
survivors=$(wc -l <"$work/state/a.txt")
deleted=$(grep -c '"result":"done"' "$work/state/audit.jsonl" || true)

ratio=$(awk -v a="$ob_wall" -v b="$find_wall" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
echo "| tool | median wall s | max peak RSS MiB |"
echo "| --- | --- | --- |"
awk -v w="$ob_wall" -v r="$ob_rss" 'BEGIN { printf "| obwatch-cleaner once | %.3f | %.1f |\n", w, r / 1024 }'
awk -v w="$find_wall" -v r="$find_rss" 'BEGIN { printf "| find -mtime +7 -delete | %.3f | %.1f |\n", w, r / 1024 }'
echo
echo "files: $((dirs * per)), deleted by obwatch-cleaner per round: $deleted, survivors: $survivors, same survivors in every round: $same, rounds: $rounds, wall ratio of medians: ${ratio}x"
[ "$same" = yes ]
