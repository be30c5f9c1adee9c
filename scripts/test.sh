#!/usr/bin/env bash
# The README's test command: installs the real peers the tests run against (Debian packages),
# then runs every test of the workspace. Servers are started by the tests themselves on
# loopback in temp dirs and stopped when each test ends.
set -euo pipefail
cd "$(dirname "$0")/.."

# command -> Debian package
declare -A peers=(
  [prometheus]=prometheus
  [promtool]=prometheus
  [prometheus-node-exporter]=prometheus-node-exporter
  [prometheus-alertmanager]=prometheus-alertmanager
  [curl]=curl
  [openssl]=openssl
  [flock]=util-linux
  [logrotate]=logrotate
  # Checks the shipped units offline (systemd does not run as PID 1 here).
  [systemd-analyze]=systemd
  # MariaDB stands in for OceanBase's MySQL protocol (fixture views, OceanBase version()).
  [mariadbd]=mariadb-server
  [mariadb-install-db]=mariadb-server
  [mariadb]=mariadb-server
  [mariadb-admin]=mariadb-server
)
missing=()
for cmd in "${!peers[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${peers[$cmd]}")
done
if ((${#missing[@]})); then
  pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
  echo "scripts/test.sh: installing $pkgs"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # The packages' own services are not wanted: tests start their peers themselves.
  apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
fi
# Debian starts packaged daemons on install where it can; our tests use their own ports, so
# these would only cost CPU during benchmarks.
pkill -f '^/usr/bin/prometheus-node-exporter( |$)' 2>/dev/null || true
pkill -f '^/usr/bin/prometheus-alertmanager( |$)' 2>/dev/null || true

# --all-targets also builds the criterion benches and runs each once in test mode, so they keep
# working; timing them is scripts/bench-exporter.sh's job, never a test's.
cargo test --workspace --all-targets --no-fail-fast

# The shipped rule files must pass `check` and their own inline tests.
cargo run -q -p obwatch-logtailer -- check rules/
cargo run -q -p obwatch-logtailer -- test rules/

# The Prometheus alerting and recording rules must load, and pass their promtool unit tests
# (series in, alerts that must and must not fire out).
promtool check rules rules/prometheus/*.rules.yml
promtool test rules rules/prometheus/tests/*.test.yml
