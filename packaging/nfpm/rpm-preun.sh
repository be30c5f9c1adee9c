#!/bin/sh
# obwatch rpm %preun (%systemd_preun): on erase (not upgrade) drop the old-systemd drop-ins,
# disable and stop the units.
if [ "$1" -eq 0 ]; then
    /usr/lib/obwatch/systemd-compat remove || true
fi
if [ "$1" -eq 0 ] && [ -d /run/systemd/system ]; then
    systemctl --no-reload disable --now obwatch-cleaner.timer obwatch-logtailer.service \
        obwatch-exporter.service >/dev/null 2>&1 || true
fi
exit 0
