#!/bin/sh
# obwatch deb postrm: on remove, mask the units as dh_installsystemd does (their files are
# gone, the admin's enablement is remembered); on purge, forget them and delete the state
# (checkpoints, outboxes, metrics, audit log). dpkg itself deletes /etc/obwatch's conffiles
# on purge. The obwatch user stays (Debian policy: a uid is not reused).
set -e
UNITS="obwatch-exporter.service obwatch-logtailer.service obwatch-cleaner.timer"
if [ "$1" = remove ] && command -v deb-systemd-helper >/dev/null 2>&1; then
    for u in $UNITS; do deb-systemd-helper mask "$u" >/dev/null || true; done
fi
if [ "$1" = purge ]; then
    if command -v deb-systemd-helper >/dev/null 2>&1; then
        for u in $UNITS; do
            deb-systemd-helper purge "$u" >/dev/null || true
            deb-systemd-helper unmask "$u" >/dev/null || true
        done
    fi
    rm -rf /var/lib/obwatch /var/log/obwatch /run/obwatch
fi
if [ -d /run/systemd/system ]; then
    systemctl --system daemon-reload >/dev/null || true
fi
exit 0
