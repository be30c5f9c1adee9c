#!/bin/sh
# obwatch rpm %postun (%systemd_postun_with_restart): systemd forgets removed units; on upgrade
# the running services restart with the new binaries. Config files and state are kept
# (%config(noreplace); rpm saves an edited config as .rpmsave on erase).
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || true
    if [ "$1" -ge 1 ]; then
        systemctl try-restart obwatch-exporter.service obwatch-logtailer.service \
            >/dev/null 2>&1 || true
    fi
fi
exit 0
