#!/bin/sh
# obwatch deb prerm: on removal (not upgrade) drop the old-systemd drop-ins and stop the
# services.
set -e
if [ "$1" = remove ]; then
    /usr/lib/obwatch/systemd-compat remove || true
fi
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
    for u in obwatch-cleaner.timer obwatch-cleaner.service obwatch-logtailer.service \
        obwatch-exporter.service; do
        deb-systemd-invoke stop "$u" >/dev/null 2>&1 || true
    done
fi
exit 0
