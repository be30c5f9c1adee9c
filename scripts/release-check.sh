#!/usr/bin/env bash
# scripts/release-check.sh: builds the release (scripts/release.sh) and checks its artifacts as
# a DBA would use them. Run by .ci/run after the test suite; needs root (it installs the .deb on
# this machine and removes it again). Exit 0 when every check passes, 1 on the first failure.
#
#  1. every binary: no GLIBC_ symbol version above 2.17, and `--version` runs here;
#  2. the tarball unpacks to one directory whose exporter serves /metrics with no other file;
#  3. the .deb: `dpkg -i` puts every file where listed, makes the obwatch user and its
#     directories, its configs pass `check` / start with no edit, the exporter started from the
#     installed unit's ExecStart= line (as the unit's User=) serves /metrics on :62889, the
#     logtailer starts on its installed config; `dpkg -r` keeps /etc/obwatch, `dpkg -P` removes
#     it;
#     systemd-compat writes its drop-ins for systemd < 239 only;
#  4. the .rpm: the same files as the .deb (`rpm -qpl`), configs marked %config(noreplace),
#     requires nothing above glibc 2.17 nor an rpm feature CentOS 7's rpm 4.11 lacks, and it
#     installs into a scratch root (`rpm --root DIR -i --nodeps --noscripts`: the scripts need
#     a shell and useradd, which the empty root has not) with the same layout.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() {
  echo "release-check: FAIL: $*" >&2
  exit 1
}
ok() { echo "release-check: ok: $*"; }

# Debian packages this check runs (rpm for the .rpm checks; curl to scrape).
need=()
command -v rpm >/dev/null 2>&1 || need+=(rpm)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v man >/dev/null 2>&1 || need+=(man-db)
if ((${#need[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

bash scripts/release.sh >/dev/null

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
deb="dist/obwatch_${version}_amd64.deb"
rpm="dist/obwatch-$version-1.x86_64.rpm"
tgz="dist/obwatch-$version-linux-x86_64.tar.gz"
for f in "$deb" "$rpm" "$tgz" dist/SHA256SUMS; do [ -s "$f" ] || fail "$f missing"; done
(cd dist && sha256sum --quiet -c SHA256SUMS) || fail "SHA256SUMS does not match"

work=$(mktemp -d)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if dpkg -s obwatch >/dev/null 2>&1; then dpkg -P obwatch >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Waits up to 20 s for `$1` to print a line matching `$2`; prints the match.
wait_log() {
  local i
  for i in $(seq 200); do
    if grep -m1 -o "$2" "$1" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  fail "no '$2' in $1: $(tail -5 "$1")"
}

# The highest GLIBC_x.y version named in the text on stdin (empty when none).
glibc_max() {
  { grep -o 'GLIBC_[0-9][0-9.]*' || true; } | sed 's/GLIBC_//' | sort -uV | tail -1
}

# True when version $1 (empty: none) is at most 2.17.
at_most_2_17() {
  [ -z "$1" ] || [ "$(printf '%s\n2.17\n' "$1" | sort -V | tail -1)" = 2.17 ]
}

# Scrapes $1 (a base URL) and checks it is the exporter's metrics page.
scrape() {
  local body
  body=$(curl -fsS --max-time 10 "$1/metrics") || fail "cannot scrape $1/metrics"
  grep -q '^node_load1 ' <<<"$body" || fail "$1/metrics has no node_load1"
  grep -q '^node_timex_sync_status ' <<<"$body" || fail "$1/metrics has no node_timex_sync_status"
}

# 1 + 2: the tarball.
tar -C "$work" -xzf "$tgz"
top="$work/obwatch-$version-linux-x86_64"
for b in obwatch-exporter obwatch-logtailer obwatch-cleaner; do
  [ -x "$top/$b" ] || fail "$b not in the tarball's top directory"
  max=$(objdump -T "$top/$b" | glibc_max)
  at_most_2_17 "$max" || fail "$b needs GLIBC_$max"
  "$top/$b" --version | grep -Eq "^$b $version \(branch: .*, revision: [0-9a-f]{12}\)$" ||
    fail "$b --version does not name $version and the revision: $("$top/$b" --version)"
done
ok "binaries need at most GLIBC_2.17 and run --version"
for d in rules dashboards packaging/systemd packaging/examples; do
  [ -d "$top/$d" ] || fail "tarball lacks $d/"
done
[ -s "$top/LICENSE" ] && [ -s "$top/README.md" ] || fail "tarball lacks LICENSE or README.md"
# Man pages and completions, generated from the clap definitions: they render, name every
# flag --help names, and the bash script parses.
for b in obwatch-exporter obwatch-logtailer obwatch-cleaner; do
  page=$(MANWIDTH=200 man -l "$top/man/$b.1.gz" 2>&1) || fail "man -l $b.1.gz: $page"
  grep -q "^NAME" <<<"$page" || fail "$b.1.gz has no NAME section"
  for flag in $("$top/$b" --help | grep -o -- '--[a-z][a-z.-]*' | sort -u); do
    grep -qF -- "$flag" <<<"$page" || fail "$b.1.gz lacks $flag, which --help has"
  done
  bash -n "$top/completions/bash/$b" || fail "completions/bash/$b does not parse"
  [ -s "$top/completions/zsh/_$b" ] && [ -s "$top/completions/fish/$b.fish" ] ||
    fail "zsh or fish completion of $b missing"
done
ok "man pages render with every flag of --help; completion scripts for bash, zsh, fish"
# One convention: the flags the binaries share read the same in every --help (text, value
# name, default, possible values), and each takes its config as -c/--config.file FILE.
flag_help() { # FLAG COMMAND...: the --help block of FLAG, up to the next option
  local flag=$1
  shift
  "$@" --help | awk -v f="$flag" '
    index($0, f " ") && $0 ~ /^ +(-[a-zA-Z], )?--/ { p = 1; print; next }
    p && /^ +-/ { exit }
    p { print }'
}
for flag in --log.level --log.format; do
  want=$(flag_help "$flag" "$top/obwatch-exporter")
  [ -n "$want" ] || fail "obwatch-exporter --help has no $flag"
  for cmd in "obwatch-logtailer run" "obwatch-logtailer scan" "obwatch-cleaner once" "obwatch-cleaner check"; do
    # shellcheck disable=SC2086 # the subcommand after the binary
    got=$(flag_help "$flag" "$top/${cmd%% *}" ${cmd#* })
    [ "$got" = "$want" ] || fail "$cmd --help says $flag differently:
$(diff <(echo "$want") <(echo "$got"))"
  done
done
for cmd in obwatch-exporter "obwatch-logtailer run" "obwatch-cleaner run" "obwatch-cleaner once"; do
  # shellcheck disable=SC2086
  "$top/${cmd%% *}" ${cmd#"${cmd%% *}"} --help | grep -q -- '-c, --config.file <FILE>' ||
    fail "$cmd takes no -c, --config.file FILE"
done
for b in obwatch-exporter obwatch-logtailer obwatch-cleaner; do
  "$top/$b" --help | grep -q '^EXAMPLES:' || fail "$b --help has no EXAMPLES"
done
ok "--log.level, --log.format and -c/--config.file read the same in every binary's --help, which has EXAMPLES"
# Run from the unpacked directory alone: a copy of it with nothing else around.
(cd "$top" && exec env -i ./obwatch-exporter --web.listen-address 127.0.0.1:0 \
  >"$work/tar-exporter.log" 2>&1) &
pids+=($!)
addr=$(wait_log "$work/tar-exporter.log" 'msg=Listening. address=[^ ]*' | sed 's/.*address=//')
scrape "http://$addr"
ok "the tarball's exporter serves /metrics from the unpacked directory"

# 3: the .deb on this machine.
if dpkg -s obwatch >/dev/null 2>&1; then dpkg -P obwatch >/dev/null; fi
dpkg -i "$deb" >"$work/dpkg.log" 2>&1 || fail "dpkg -i: $(cat "$work/dpkg.log")"
for f in /usr/bin/obwatch-exporter /usr/bin/obwatch-logtailer /usr/bin/obwatch-cleaner \
  /etc/obwatch/exporter.yml /etc/obwatch/logtailer.yml /etc/obwatch/cleaner.yml \
  /lib/systemd/system/obwatch-exporter.service /lib/systemd/system/obwatch-logtailer.service \
  /lib/systemd/system/obwatch-cleaner.service /lib/systemd/system/obwatch-cleaner.timer \
  /usr/lib/tmpfiles.d/obwatch.conf /usr/lib/sysusers.d/obwatch.conf \
  /usr/share/obwatch/rules/observer.yaml /usr/share/obwatch/dashboards/obwatch.json \
  /usr/share/obwatch/prometheus/obwatch.rules.yml /usr/share/obwatch/prometheus/tests/obwatch.test.yml \
  /usr/share/doc/obwatch/LICENSE; do
  [ -e "$f" ] || fail "dpkg -i did not install $f"
done
# Listed from the package, not the disk: minimal images tell dpkg to skip /usr/share/man.
deb_list=$(dpkg-deb -c "$deb")
for f in ./usr/share/man/man1/obwatch-exporter.1.gz ./usr/share/bash-completion/completions/obwatch-logtailer \
  ./usr/share/zsh/vendor-completions/_obwatch-cleaner ./usr/share/fish/vendor_completions.d/obwatch-exporter.fish; do
  grep -q " $f\$" <<<"$deb_list" || fail "the .deb lacks $f"
done
getent passwd obwatch >/dev/null || fail "dpkg -i did not create the obwatch user"
[ "$(stat -c %U:%a /var/lib/obwatch/logtailer)" = obwatch:700 ] ||
  fail "/var/lib/obwatch/logtailer is $(stat -c %U:%a /var/lib/obwatch/logtailer)"
[ -d /var/log/obwatch ] && [ -d /var/lib/obwatch/textfile ] || fail "state directories missing"
grep -qx /etc/obwatch/exporter.yml /var/lib/dpkg/info/obwatch.conffiles ||
  fail "configs are not conffiles"
# Debian's convention: enabled on install.
for u in multi-user.target.wants/obwatch-exporter.service \
  multi-user.target.wants/obwatch-logtailer.service timers.target.wants/obwatch-cleaner.timer; do
  [ -L "/etc/systemd/system/$u" ] || fail "dpkg -i did not enable $u"
done
ok "dpkg -i: files, user, directories, conffiles, units enabled"

# systemd < 239 gets a drop-in emptying the @system-service filter; 239 and later none.
compat=/usr/lib/obwatch/systemd-compat
[ -x $compat ] || fail "$compat not installed"
$compat install --systemd-version 219 --root "$work/sd219"
$compat install --systemd-version 239 --root "$work/sd239"
for u in obwatch-logtailer obwatch-cleaner; do
  grep -qx 'SystemCallFilter=' "$work/sd219/etc/systemd/system/$u.service.d/"*.conf ||
    fail "systemd-compat wrote no filter reset for $u on systemd 219"
done
[ ! -e "$work/sd239/etc" ] || fail "systemd-compat changed units on systemd 239"
$compat remove --root "$work/sd219"
[ -z "$(ls -A "$work/sd219/etc/systemd/system")" ] || fail "systemd-compat remove left files"
ok "systemd-compat resets the filter on systemd 219 only, and removes it again"

obwatch-exporter check -c /etc/obwatch/exporter.yml >/dev/null ||
  fail "installed exporter.yml fails check"
obwatch-logtailer check /usr/share/obwatch/rules >/dev/null || fail "shipped rules fail check"
obwatch-logtailer check -c /etc/obwatch/logtailer.yml >/dev/null ||
  fail "installed logtailer.yml (and the rules it names) fails check"
obwatch-cleaner check --config.file /etc/obwatch/cleaner.yml >/dev/null ||
  fail "installed cleaner.yml fails check"
obwatch-cleaner once --config.file /etc/obwatch/cleaner.yml --dry-run >/dev/null ||
  fail "installed cleaner.yml fails a dry run"
ok "installed configs pass check"

# The exporter as its unit starts it: the ExecStart= line, as User=obwatch.
exec_start=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/obwatch-exporter.service)
if curl -s --max-time 2 -o /dev/null http://127.0.0.1:62889/; then
  fail ":62889 is already taken on this machine; cannot start the installed exporter"
fi
# shellcheck disable=SC2086 # the unit's command line, split as systemd splits it
runuser -u obwatch -- $exec_start >"$work/unit-exporter.log" 2>&1 &
pids+=($!)
wait_log "$work/unit-exporter.log" 'msg=Listening.' >/dev/null
scrape http://127.0.0.1:62889
ok "the installed unit's ExecStart ($exec_start) serves :62889 as obwatch"

# The logtailer on its installed config, with no edit (as its unit's user; its own port).
exec_start=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/obwatch-logtailer.service)
# shellcheck disable=SC2086
runuser -u obwatch -- $exec_start --web.listen-address 127.0.0.1:0 \
  >"$work/unit-logtailer.log" 2>&1 &
pids+=($!)
wait_log "$work/unit-logtailer.log" 'msg=Started.' >/dev/null
ok "the installed logtailer starts on its installed config"
for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
pids=()

echo "# edited" >>/etc/obwatch/cleaner.yml
dpkg -r obwatch >/dev/null 2>&1 || fail "dpkg -r failed"
[ ! -e /usr/bin/obwatch-exporter ] || fail "dpkg -r left /usr/bin/obwatch-exporter"
grep -q "# edited" /etc/obwatch/cleaner.yml || fail "dpkg -r did not keep the edited config"
dpkg -P obwatch >/dev/null 2>&1 || fail "dpkg -P failed"
[ ! -e /etc/obwatch ] || fail "dpkg -P left /etc/obwatch: $(ls -A /etc/obwatch)"
[ ! -e /var/lib/obwatch ] || fail "dpkg -P left /var/lib/obwatch"
ok "dpkg -r keeps /etc/obwatch, dpkg -P removes it"

# 4: the .rpm.
deb_files=$(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {print substr($6, 2)}' |
  sed 's|^/lib/systemd/system/|/usr/lib/systemd/system/|; s|^/usr/share/zsh/vendor-completions/|/usr/share/zsh/site-functions/|' | sort)
rpm_files=$(rpm -qp --qf '[%{FILENAMES} %{FILEMODES:perms}\n]' "$rpm" | awk '$2 !~ /^d/ {print $1}' |
  sort)
[ "$deb_files" = "$rpm_files" ] ||
  fail "the .rpm and the .deb hold different files: $(diff <(echo "$deb_files") <(echo "$rpm_files"))"
rpm -qpc "$rpm" | grep -qx /etc/obwatch/logtailer.yml || fail "rpm configs not %config"
rpm -qp --qf '[%{FILENAMES} %{FILEFLAGS:fflags}\n]' "$rpm" | grep -q '^/etc/obwatch/cleaner.yml cn' ||
  fail "rpm configs not %config(noreplace)"
requires=$(rpm -qp --requires "$rpm")
glibc=$(glibc_max <<<"$requires")
at_most_2_17 "$glibc" || fail "rpm requires GLIBC_$glibc"
grep -q 'glibc >= 2.17' <<<"$requires" || fail "rpm does not require glibc >= 2.17: $requires"
if grep -Eq 'rpmlib\((PayloadIsZstd|PayloadIsLzma|LargeFiles|FileCaps)' <<<"$requires"; then
  fail "rpm needs a feature CentOS 7's rpm 4.11 lacks: $requires"
fi
root="$work/rpmroot"
mkdir -p "$root"
rpm --root "$root" --dbpath /var/lib/rpm --initdb
rpm --root "$root" --dbpath /var/lib/rpm -i --nodeps --noscripts "$rpm" 2>"$work/rpm.log" ||
  fail "rpm -i into a scratch root: $(cat "$work/rpm.log")"
for f in $rpm_files; do [ -e "$root$f" ] || fail "rpm did not install $f"; done
[ -d "$root/var/lib/obwatch/logtailer" ] || fail "rpm did not create /var/lib/obwatch/logtailer"
ok "rpm: same files as the .deb, %config(noreplace), glibc >= 2.17 only, installs into a root"

echo "release-check: all checks passed"
