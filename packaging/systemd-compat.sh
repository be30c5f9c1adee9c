#!/bin/sh
# obwatch systemd-compat: run by the packages' install scripts (installed as
# /usr/lib/obwatch/systemd-compat). systemd before 239 does not know the @system-service
# system call group; it ignores the group with a warning but keeps an allow-list holding only
# execve and exit, so obwatch-logtailer and obwatch-cleaner would be killed (or refused every
# call) at their first system call (seen with other services on Ubuntu 18.04's systemd 237 and
# CentOS 7's 219). On such a systemd this writes a drop-in that empties the filter; the other
# hardening keys older systemd does not know are ignored harmlessly (docs/packaging.md, "systemd
# versions"). `remove` deletes the drop-ins again.
#
# usage: systemd-compat install|remove [--systemd-version N] [--root DIR]
set -e
action=$1
shift || true
version=
root=
while [ $# -gt 0 ]; do
    case $1 in
    --systemd-version) version=$2; shift 2 ;;
    --root) root=$2; shift 2 ;;
    *) echo "systemd-compat: unknown argument $1" >&2; exit 2 ;;
    esac
done
if [ -z "$version" ]; then
    version=$(systemctl --version 2>/dev/null | awk 'NR == 1 {print $2}')
fi
UNITS="obwatch-logtailer.service obwatch-cleaner.service"
NAME=obwatch-systemd-before-239.conf
case $action in
install)
    # No systemd at all (a container, a chroot): nothing to adapt.
    case $version in '' | *[!0-9]*) exit 0 ;; esac
    [ "$version" -lt 239 ] || exit 0
    for u in $UNITS; do
        dir="$root/etc/systemd/system/$u.d"
        mkdir -p "$dir"
        cat >"$dir/$NAME" <<CONF
# Written by the obwatch package: systemd $version predates the @system-service group (239)
# and would kill $u at its first system call. Removed with the package.
[Service]
SystemCallFilter=
SystemCallErrorNumber=
CONF
    done
    ;;
remove)
    for u in $UNITS; do
        rm -f "$root/etc/systemd/system/$u.d/$NAME"
        rmdir "$root/etc/systemd/system/$u.d" 2>/dev/null || true
    done
    ;;
*)
    echo "usage: systemd-compat install|remove [--systemd-version N] [--root DIR]" >&2
    exit 2
    ;;
esac
