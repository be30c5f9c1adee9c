#!/bin/sh
# obwatch preinstall (deb preinst and rpm %pre): the system user obwatch-exporter and
# obwatch-logtailer run as, before the files it owns are unpacked. Kept on removal (Debian
# policy and Fedora's guidelines: a uid is never reused for another user's files).
set -e
if ! getent group obwatch >/dev/null; then
    groupadd --system obwatch
fi
if ! getent passwd obwatch >/dev/null; then
    nologin=$(command -v nologin 2>/dev/null || echo /sbin/nologin)
    useradd --system --gid obwatch --home-dir /var/lib/obwatch --no-create-home \
        --shell "$nologin" --comment "obwatch monitoring agents" obwatch
fi
exit 0
