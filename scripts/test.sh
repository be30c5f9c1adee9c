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
  [prometheus-process-exporter]=prometheus-process-exporter
  [prometheus-alertmanager]=prometheus-alertmanager
  [curl]=curl
  [openssl]=openssl
  [flock]=util-linux
  [prlimit]=util-linux
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
  # The packages' own services are not wanted (tests start their peers themselves on their own
  # ports; a stray node_exporter would only cost CPU in benchmarks): Debian's policy-rc.d
  # convention keeps the install from starting them. One the host already has is left alone.
  policy=/usr/sbin/policy-rc.d
  made_policy=
  if [ ! -e $policy ]; then
    printf '#!/bin/sh\nexit 101\n' >$policy && chmod 755 $policy && made_policy=1
    trap 'rm -f $policy' EXIT
  fi
  apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
  if [ -n "$made_policy" ]; then rm -f $policy; trap - EXIT; fi
fi

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
