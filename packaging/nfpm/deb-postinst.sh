#!/bin/sh
# obwatch deb postinst: the directories the services write (also in tmpfiles.d for /run at
# boot), then Debian's convention as dh_installsystemd writes it: services enabled on first
# install (kept as the admin left them on upgrades) and started or restarted if systemd runs.
set -e
UNITS="obwatch-exporter.service obwatch-logtailer.service obwatch-cleaner.timer"
case "$1" in
configure|abort-upgrade|abort-deconfigure|abort-remove)
    install -d -m 0755 -o obwatch -g obwatch /var/lib/obwatch
    install -d -m 0700 -o obwatch -g obwatch /var/lib/obwatch/logtailer
    install -d -m 0755 -o root -g root /var/lib/obwatch/textfile /run/obwatch
    install -d -m 0750 -o root -g root /var/log/obwatch
    # systemd < 239 would kill services whose filter names @system-service (systemd-compat).
    /usr/lib/obwatch/systemd-compat install || true
    for u in $UNITS; do
        if command -v deb-systemd-helper >/dev/null 2>&1; then
            deb-systemd-helper unmask "$u" >/dev/null || true
            # was-enabled is true on a first install, so new installations are enabled.
            if deb-systemd-helper --quiet was-enabled "$u"; then
                deb-systemd-helper enable "$u" >/dev/null || true
            else
                deb-systemd-helper update-state "$u" >/dev/null || true
            fi
        fi
    done
    if [ -d /run/systemd/system ]; then
        systemctl --system daemon-reload >/dev/null || true
        if [ -n "$2" ]; then action=restart; else action=start; fi
        for u in $UNITS; do
            deb-systemd-invoke "$action" "$u" >/dev/null || true
        done
    fi
    ;;
esac
exit 0
