#!/bin/sh
# obwatch rpm %post: the directories the services write (systemd 219 ignores StateDirectory=),
# then what %systemd_post does: on a first install, apply the system's presets, which on
# RHEL, CentOS, Anolis and Kylin leave the services disabled until the admin runs
#   systemctl enable --now obwatch-exporter obwatch-logtailer obwatch-cleaner.timer
install -d -m 0755 -o obwatch -g obwatch /var/lib/obwatch
install -d -m 0700 -o obwatch -g obwatch /var/lib/obwatch/logtailer
install -d -m 0755 -o root -g root /var/lib/obwatch/textfile /run/obwatch
install -d -m 0750 -o root -g root /var/log/obwatch
# CentOS 7's systemd 219 would kill services whose filter names @system-service.
/usr/lib/obwatch/systemd-compat install || true
if [ "$1" -eq 1 ] && [ -d /run/systemd/system ]; then
    systemctl --no-reload preset obwatch-exporter.service obwatch-logtailer.service \
        obwatch-cleaner.timer >/dev/null 2>&1 || true
fi
exit 0
