//! `node_time_seconds`, `node_time_zone_offset_seconds` and the clocksource info families from
//! sysfs `devices/system/clocksource/clocksource*/` (kernel/time/clocksource.c, described in
//! Documentation/timers/timekeeping.rst).

use std::path::PathBuf;

use obwatch_common::metrics::{MetricSet, MetricType};

use super::{BuildContext, BuildError, CollectError, Collector, CollectorSpec, with_file};

/// Registry entry.
pub const SPEC: CollectorSpec = CollectorSpec { name: "time", default_enabled: true, build };

fn build(cx: &BuildContext) -> Result<Box<dyn Collector>, BuildError> {
    Ok(Box::new(Time { clocksource_dir: cx.root.sys("devices/system/clocksource") }))
}

/// Reads the wall clock, the local zone and the clocksources.
#[derive(Debug)]
pub struct Time {
    clocksource_dir: PathBuf,
}

impl Collector for Time {
    fn collect(&self, out: &mut MetricSet) -> Result<(), CollectError> {
        let now = jiff::Timestamp::now();
        out.gauge(
            "node_time_seconds",
            "System time in seconds since epoch (1970).",
            now.as_nanosecond() as f64 / 1e9,
        );
        // node_exporter labels the offset with Go's `time.Now().Zone()` name: the zone's
        // abbreviation at this instant ("UTC", "CEST"), from TZ or /etc/localtime. Getting
        // that right needs a TZif reader with POSIX-TZ rules for dates past the table; jiff
        // (BurntSushi, widely used) does exactly this and caches the parsed zone, re-checking
        // /etc/localtime only periodically, so a scrape costs no file read. A hand-rolled
        // reader would be a few hundred lines for the same result.
        let tz = jiff::tz::TimeZone::system();
        let info = tz.to_offset_info(now);
        out.family(
            "node_time_zone_offset_seconds",
            "System time zone offset in seconds.",
            MetricType::Gauge,
        )
        .sample(&[("time_zone", info.abbreviation())], f64::from(info.offset().seconds()));
        self.clocksources(out)
    }
}

impl Time {
    fn clocksources(&self, out: &mut MetricSet) -> Result<(), CollectError> {
        let entries = match std::fs::read_dir(&self.clocksource_dir) {
            Ok(e) => e,
            // Like node_exporter, a host (or container) without the clocksource dir still
            // reports the time families and counts as a success.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(CollectError::io(&self.clocksource_dir, e)),
        };
        let mut devices: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| device_number(n).is_some())
            .collect();
        devices.sort();
        let f = out.family(
            "node_time_clocksource_available_info",
            "Available clocksources read from '/sys/devices/system/clocksource'.",
            MetricType::Gauge,
        );
        for d in &devices {
            let dev = device_number(d).unwrap_or_default();
            with_file(&self.clocksource_dir.join(d).join("available_clocksource"), |text| {
                for cs in parse_available(text) {
                    f.sample(&[("clocksource", cs), ("device", dev)], 1.0);
                }
                Ok(())
            })?;
        }
        let f = out.family(
            "node_time_clocksource_current_info",
            "Current clocksource read from '/sys/devices/system/clocksource'.",
            MetricType::Gauge,
        );
        for d in &devices {
            let dev = device_number(d).unwrap_or_default();
            with_file(&self.clocksource_dir.join(d).join("current_clocksource"), |text| {
                let cs = text.trim();
                if !cs.is_empty() {
                    f.sample(&[("clocksource", cs), ("device", dev)], 1.0);
                }
                Ok(())
            })?;
        }
        Ok(())
    }
}

/// `clocksource0` -> `0`; anything else (e.g. `power`, `uevent`) -> None.
fn device_number(name: &str) -> Option<&str> {
    name.strip_prefix("clocksource")
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// `available_clocksource` is a space-separated list with a trailing space and newline.
pub fn parse_available(text: &str) -> impl Iterator<Item = &str> {
    text.split_ascii_whitespace()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_this_vms_clocksources() {
        // /sys/devices/system/clocksource/clocksource0/available_clocksource on this
        // Firecracker VM (kernel 6.18) and a bare-metal Xeon (kernel 5.15).
        assert_eq!(parse_available("tsc kvm-clock \n").collect::<Vec<_>>(), ["tsc", "kvm-clock"]);
        assert_eq!(
            parse_available("tsc hpet acpi_pm \n").collect::<Vec<_>>(),
            ["tsc", "hpet", "acpi_pm"]
        );
        assert_eq!(device_number("clocksource0"), Some("0"));
        assert_eq!(device_number("power"), None);
        assert_eq!(device_number("clocksource"), None);
    }

    #[test]
    fn collects_time_zone_and_clocksources() {
        let dir = tempfile::tempdir().unwrap();
        let cs = dir.path().join("clocksource0");
        std::fs::create_dir_all(&cs).unwrap();
        std::fs::create_dir_all(dir.path().join("power")).unwrap();
        std::fs::write(cs.join("available_clocksource"), "tsc kvm-clock \n").unwrap();
        std::fs::write(cs.join("current_clocksource"), "tsc\n").unwrap();
        let mut out = MetricSet::new();
        Time { clocksource_dir: dir.path().into() }.collect(&mut out).unwrap();
        let now = out.get("node_time_seconds", &[]).unwrap();
        assert!(now > 1.7e9, "{now}");
        let l = |c| [("clocksource", c), ("device", "0")];
        assert_eq!(out.get("node_time_clocksource_available_info", &l("kvm-clock")), Some(1.0));
        assert_eq!(out.get("node_time_clocksource_available_info", &l("tsc")), Some(1.0));
        assert_eq!(out.get("node_time_clocksource_current_info", &l("tsc")), Some(1.0));
        assert_eq!(out.find("node_time_zone_offset_seconds").unwrap().len(), 1);
    }

    #[test]
    fn zone_matches_etc_localtime_here() {
        // This VM's /etc/localtime is Etc/UTC, which node_exporter 1.5 reports as
        // node_time_zone_offset_seconds{time_zone="UTC"} 0.
        if std::env::var_os("TZ").is_some()
            || std::fs::read_link("/etc/localtime").map(|p| !p.ends_with("Etc/UTC")).unwrap_or(true)
        {
            return;
        }
        let mut out = MetricSet::new();
        Time { clocksource_dir: "/nonexistent".into() }.collect(&mut out).unwrap();
        assert_eq!(out.get("node_time_zone_offset_seconds", &[("time_zone", "UTC")]), Some(0.0));
    }
}
