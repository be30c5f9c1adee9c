//! `node_thermal_zone_temp` and `node_cooling_device_*` from sysfs `class/thermal/`
//! (`thermal_zone*/{type,temp}`, `cooling_device*/{type,cur_state,max_state}`;
//! Documentation/driver-api/thermal/sysfs-api.rst).

use std::path::{Path, PathBuf};

use obwatch_common::metrics::{MetricSet, MetricType};

use super::{BuildContext, BuildError, CollectError, Collector, CollectorSpec, with_file};

/// Registry entry.
pub const SPEC: CollectorSpec =
    CollectorSpec { name: "thermal_zone", default_enabled: true, build };

fn build(cx: &BuildContext) -> Result<Box<dyn Collector>, BuildError> {
    Ok(Box::new(ThermalZone { class_dir: cx.root.sys("class/thermal") }))
}

/// Reads thermal zones and cooling devices.
#[derive(Debug)]
pub struct ThermalZone {
    class_dir: PathBuf,
}

impl Collector for ThermalZone {
    fn collect(&self, out: &mut MetricSet) -> Result<(), CollectError> {
        let entries =
            std::fs::read_dir(&self.class_dir).map_err(|e| CollectError::io(&self.class_dir, e))?;
        let mut zones = Vec::new();
        let mut coolers = Vec::new();
        for e in entries.filter_map(Result::ok) {
            let Ok(name) = e.file_name().into_string() else { continue };
            if let Some(n) = number_after(&name, "thermal_zone") {
                zones.push(n.to_string());
            } else if let Some(n) = number_after(&name, "cooling_device") {
                coolers.push(n.to_string());
            }
        }
        zones.sort_by_key(|n| n.parse::<u64>().unwrap_or(u64::MAX));
        coolers.sort_by_key(|n| n.parse::<u64>().unwrap_or(u64::MAX));

        let f =
            out.family("node_thermal_zone_temp", "Zone temperature in Celsius", MetricType::Gauge);
        for zone in &zones {
            let dir = self.class_dir.join(format!("thermal_zone{zone}"));
            let kind = read_string(&dir.join("type"))?;
            // A zone whose sensor is not ready fails the read with ENODATA (e.g. iwlwifi with
            // the interface down); node_exporter skips such zones, so do we.
            let temp = match with_file(&dir.join("temp"), parse_int) {
                Err(CollectError::Io { source, .. })
                    if source.raw_os_error() == Some(rustix::io::Errno::NODATA.raw_os_error()) =>
                {
                    continue;
                }
                r => r?,
            };
            // millidegree Celsius
            f.sample(&[("type", &kind), ("zone", zone)], temp as f64 / 1000.0);
        }

        let mut states = Vec::with_capacity(coolers.len());
        for dev in &coolers {
            let dir = self.class_dir.join(format!("cooling_device{dev}"));
            let kind = read_string(&dir.join("type"))?;
            // cur_state is signed: intel_powerclamp reports -1 while idle.
            let cur = with_file(&dir.join("cur_state"), parse_int)?;
            let max = with_file(&dir.join("max_state"), parse_int)?;
            states.push((dev, kind, cur, max));
        }
        let f = out.family(
            "node_cooling_device_cur_state",
            "Current throttle state of the cooling device",
            MetricType::Gauge,
        );
        for (dev, kind, cur, _) in &states {
            f.sample(&[("name", dev), ("type", kind)], *cur as f64);
        }
        let f = out.family(
            "node_cooling_device_max_state",
            "Maximum throttle state of the cooling device",
            MetricType::Gauge,
        );
        for (dev, kind, _, max) in &states {
            f.sample(&[("name", dev), ("type", kind)], *max as f64);
        }
        Ok(())
    }
}

/// `thermal_zone3` with prefix `thermal_zone` -> `3`.
fn number_after<'a>(name: &'a str, prefix: &str) -> Option<&'a str> {
    name.strip_prefix(prefix).filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Parses a signed integer attribute (`temp` in m°C, `cur_state`, `max_state`).
pub fn parse_int(text: &str) -> Result<i64, String> {
    let t = text.trim();
    t.parse().map_err(|_| format!("{t:?} is not an integer"))
}

fn read_string(path: &Path) -> Result<String, CollectError> {
    with_file(path, |t| Ok(t.trim().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_attributes() {
        // Values read on a ThinkPad T480 (acpitz zone) and a Xeon host (intel_powerclamp).
        assert_eq!(parse_int("27800\n"), Ok(27800));
        assert_eq!(parse_int("-1\n"), Ok(-1));
        assert!(parse_int("\n").unwrap_err().contains("not an integer"));
        assert_eq!(number_after("thermal_zone10", "thermal_zone"), Some("10"));
        assert_eq!(number_after("cooling_device", "cooling_device"), None);
    }

    #[test]
    fn collects_fixture_tree() {
        // tests/fixtures/thermal_zone.tree: class/thermal symlinks into devices/virtual/thermal.
        let dir = tempfile::tempdir().unwrap();
        crate::fixture::build(dir.path(), include_str!("../../tests/fixtures/thermal_zone.tree"))
            .unwrap();
        let mut out = MetricSet::new();
        ThermalZone { class_dir: dir.path().join("sys/class/thermal") }.collect(&mut out).unwrap();
        let t = "node_thermal_zone_temp";
        assert_eq!(out.get(t, &[("type", "acpitz"), ("zone", "0")]), Some(27.8));
        assert_eq!(out.get(t, &[("type", "x86_pkg_temp"), ("zone", "1")]), Some(49.0));
        let c = |n, k| [("name", n), ("type", k)];
        assert_eq!(
            out.get("node_cooling_device_cur_state", &c("1", "intel_powerclamp")),
            Some(-1.0)
        );
        assert_eq!(out.get("node_cooling_device_max_state", &c("0", "Processor")), Some(3.0));
        assert_eq!(out.sample_count(), 6);
    }

    #[test]
    fn empty_class_dir_is_success_missing_is_no_data() {
        // This VM has an empty /sys/class/thermal: node_exporter succeeds with no samples.
        let dir = tempfile::tempdir().unwrap();
        let mut out = MetricSet::new();
        ThermalZone { class_dir: dir.path().into() }.collect(&mut out).unwrap();
        assert_eq!(out.sample_count(), 0);
        let err = ThermalZone { class_dir: dir.path().join("x") }.collect(&mut out);
        assert!(matches!(err, Err(CollectError::NoData(_))));
    }
}
