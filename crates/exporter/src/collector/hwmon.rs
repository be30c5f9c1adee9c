//! `node_hwmon_*`: sensor chips under sysfs `class/hwmon/hwmon*/` (and their `device/`
//! directory, where older drivers put the attributes), named and converted like node_exporter
//! 1.5 (Documentation/ABI/testing/sysfs-class-hwmon, Documentation/hwmon/sysfs-interface.rst).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use obwatch_common::metrics::{MetricSet, MetricType};

use super::{BuildContext, BuildError, CollectError, Collector, CollectorSpec};

/// Registry entry.
pub const SPEC: CollectorSpec = CollectorSpec { name: "hwmon", default_enabled: true, build };

fn build(cx: &BuildContext) -> Result<Box<dyn Collector>, BuildError> {
    Ok(Box::new(Hwmon { class_dir: cx.root.sys("class/hwmon") }))
}

/// Walks every hwmon chip each scrape (sensors come and go with hotplug and modules).
#[derive(Debug)]
pub struct Hwmon {
    class_dir: PathBuf,
}

/// The sensor types node_exporter reads; other files (`name`, `uevent`, ...) are skipped.
const SENSOR_TYPES: [&str; 13] = [
    "vrm",
    "beep_enable",
    "update_interval",
    "in",
    "cpu",
    "fan",
    "pwm",
    "temp",
    "curr",
    "power",
    "energy",
    "humidity",
    "intrusion",
];

/// sensor (`temp1`) -> property (`input`, `label`, `""` for a bare `pwm1`) -> raw value.
type SensorData = BTreeMap<String, BTreeMap<String, String>>;

/// One sample's labels, in sorted order, and value.
type Sample = (Vec<(&'static str, String)>, f64);

/// Samples grouped by family name, so each name is one family however many chips have it.
#[derive(Default)]
struct Acc {
    families: BTreeMap<String, (String, MetricType, Vec<Sample>)>,
}

impl Acc {
    fn add(
        &mut self,
        name: &str,
        help: impl FnOnce() -> String,
        kind: MetricType,
        labels: Vec<(&'static str, String)>,
        v: f64,
    ) {
        if !self.families.contains_key(name) {
            self.families.insert(name.to_string(), (help(), kind, Vec::new()));
        }
        if let Some(f) = self.families.get_mut(name) {
            f.2.push((labels, v));
        }
    }
}

impl Collector for Hwmon {
    fn collect(&self, out: &mut MetricSet) -> Result<(), CollectError> {
        let entries =
            std::fs::read_dir(&self.class_dir).map_err(|e| CollectError::io(&self.class_dir, e))?;
        let mut dirs: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
        dirs.sort();
        let mut acc = Acc::default();
        let mut last_err = None;
        for dir in dirs.iter().filter(|d| d.is_dir()) {
            // One broken chip must not hide the others; its error is still reported.
            if let Err(e) = chip(dir, &mut acc) {
                last_err = Some(e);
            }
        }
        for (name, (help, kind, samples)) in acc.families {
            let f = out.family(name, help, kind);
            for (labels, v) in &samples {
                let l: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
                f.sample(&l, *v);
            }
        }
        last_err.map_or(Ok(()), Err)
    }
}

fn chip(dir: &Path, acc: &mut Acc) -> Result<(), CollectError> {
    let mut buf = String::new();
    let raw_name =
        obwatch_common::fs::read_into(&dir.join("name"), &mut buf).ok().map(|()| clean_name(&buf));
    let chip = chip_label(dir, raw_name.as_deref())?;
    let mut data = SensorData::new();
    read_sensors(dir, &mut data, &mut buf);
    let device = dir.join("device");
    if device.exists() {
        read_sensors(&device, &mut data, &mut buf);
    }
    if let Some(n) = raw_name.filter(|n| !n.is_empty()) {
        acc.add(
            "node_hwmon_chip_names",
            || "Annotation metric for human-readable chip names".into(),
            MetricType::Gauge,
            vec![("chip", chip.clone()), ("chip_name", n)],
            1.0,
        );
    }
    for (sensor, props) in &data {
        sensor_samples(&chip, sensor, props, acc);
    }
    Ok(())
}

/// node_exporter's stable chip id: `<bus dir>_<device dir>` of the resolved `device` link
/// (`platform_coretemp_0`), else the `name` file, else the `hwmonN` directory name.
fn chip_label(dir: &Path, name: Option<&str>) -> Result<String, CollectError> {
    if let Ok(dev) = std::fs::canonicalize(dir.join("device")) {
        let dev_name =
            dev.file_name().map(|n| clean_name(&n.to_string_lossy())).unwrap_or_default();
        let dev_type = dev
            .parent()
            .and_then(Path::file_name)
            .map(|n| clean_name(&n.to_string_lossy()))
            .unwrap_or_default();
        match (dev_type.is_empty(), dev_name.is_empty()) {
            (false, false) => return Ok(format!("{dev_type}_{dev_name}")),
            (true, false) => return Ok(dev_name),
            _ => {}
        }
    }
    if let Some(n) = name.filter(|n| !n.is_empty()) {
        return Ok(n.to_string());
    }
    let real = std::fs::canonicalize(dir).map_err(|e| CollectError::io(dir, e))?;
    let n = real.file_name().map(|n| clean_name(&n.to_string_lossy())).unwrap_or_default();
    if n.is_empty() {
        return Err(CollectError::parse(dir, "cannot derive a chip name"));
    }
    Ok(n)
}

fn read_sensors(dir: &Path, data: &mut SensorData, buf: &mut String) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.filter_map(Result::ok) {
        let Ok(file) = e.file_name().into_string() else { continue };
        let Some((kind, num, prop)) = split_sensor_file(&file) else { continue };
        if !SENSOR_TYPES.contains(&kind) {
            continue;
        }
        // Unreadable attributes (directories, write-only files, drivers that return EAGAIN
        // or EIO) are skipped, as node_exporter does.
        if obwatch_common::fs::read_into(&e.path(), buf).is_err() {
            continue;
        }
        let value = buf.trim_matches('\n').to_string();
        data.entry(format!("{kind}{num}")).or_default().insert(prop.to_string(), value);
    }
}

/// Splits `temp1_crit_alarm` into (`temp`, 1, `crit_alarm`) like node_exporter's
/// `^([^0-9]+)([0-9]*)?(_(.+))?$`; a missing number is 0 (`beep_enable` -> `beep_enable0`).
pub fn split_sensor_file(file: &str) -> Option<(&str, u64, &str)> {
    let digits_at = file.find(|c: char| c.is_ascii_digit()).unwrap_or(file.len());
    let (kind, rest) = file.split_at(digits_at);
    if kind.is_empty() {
        return None;
    }
    let num_len = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    let (num, rest) = rest.split_at(num_len);
    let num = if num.is_empty() { 0 } else { num.parse().ok()? };
    match rest.strip_prefix('_') {
        None if rest.is_empty() => Some((kind, num, "")),
        Some(prop) if !prop.is_empty() => Some((kind, num, prop)),
        _ => None,
    }
}

/// Lower-cases and maps everything outside `[a-z0-9:_]` to `_`, then trims `_`.
pub fn clean_name(s: &str) -> String {
    let mapped: String = s
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == ':' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    mapped.trim_matches('_').to_string()
}

fn sensor_samples(chip: &str, sensor: &str, props: &BTreeMap<String, String>, acc: &mut Acc) {
    let kind = split_sensor_file(sensor).map_or("", |(k, _, _)| k);
    let labels = || vec![("chip", chip.to_string()), ("sensor", sensor.to_string())];
    let g = MetricType::Gauge;
    if let Some(label) = props.get("label") {
        let l = vec![
            ("chip", chip.to_string()),
            ("label", label.clone()),
            ("sensor", sensor.to_string()),
        ];
        acc.add("node_hwmon_sensor_label", || "Label for given chip and sensor".into(), g, l, 1.0);
    }
    let bare = props.get("").map(|v| v.parse::<f64>());
    match kind {
        "beep_enable" => {
            let v = if props.get("").is_some_and(|v| v == "1") { 1.0 } else { 0.0 };
            acc.add("node_hwmon_beep_enabled", || "Hardware beep enabled".into(), g, labels(), v);
            return;
        }
        "vrm" => {
            if let Some(Ok(v)) = bare {
                acc.add(
                    "node_hwmon_voltage_regulator_version",
                    || "Hardware voltage regulator".into(),
                    g,
                    labels(),
                    v,
                );
            }
            return;
        }
        "update_interval" => {
            if let Some(Ok(v)) = bare {
                let help = || "Hardware monitor update interval".into();
                acc.add("node_hwmon_update_interval_seconds", help, g, labels(), v * 0.001);
            }
            return;
        }
        _ => {}
    }
    let prefix = format!("node_hwmon_{kind}");
    for (element, value) in props {
        if element == "label" {
            continue;
        }
        let mut name = prefix.clone();
        if element == "input" {
            // `temp1` and `temp1_input` both present: keep them apart.
            if props.contains_key("") {
                name.push_str("_input");
            }
        } else if !element.is_empty() {
            name.push('_');
            name.push_str(&clean_name(element));
        }
        let Ok(v) = value.parse::<f64>() else { continue };
        let e = element.as_str();
        let (suffix, help, kind_, v): (&str, String, MetricType, f64) = match (kind, e) {
            (_, "fault" | "alarm") => ("", format!("Hardware sensor {e} status ({kind})"), g, v),
            (_, "beep") => ("_enabled", "Hardware monitor sensor has beeping enabled".into(), g, v),
            ("in" | "cpu", _) => {
                ("_volts", format!("Hardware monitor for voltage ({e})"), g, v * 0.001)
            }
            ("temp", t) if t != "type" => {
                let shown = if e.is_empty() { "input" } else { e };
                ("_celsius", format!("Hardware monitor for temperature ({shown})"), g, v * 0.001)
            }
            ("curr", _) => ("_amps", format!("Hardware monitor for current ({e})"), g, v * 0.001),
            ("energy", _) => (
                "_joule_total",
                format!("Hardware monitor for joules used so far ({e})"),
                MetricType::Counter,
                v / 1_000_000.0,
            ),
            ("power", "accuracy") => {
                ("", "Hardware monitor power meter accuracy, as a ratio".into(), g, v / 1_000_000.0)
            }
            ("power", "average_interval" | "average_interval_min" | "average_interval_max") => (
                "_seconds",
                format!("Hardware monitor power usage update interval ({e})"),
                g,
                v * 0.001,
            ),
            ("power", _) => (
                "_watt",
                format!("Hardware monitor for power usage in watts ({e})"),
                g,
                v / 1_000_000.0,
            ),
            ("humidity", _) => (
                "",
                format!(
                    "Hardware monitor for humidity, as a ratio (multiply with 100.0 to get the humidity as a percentage) ({e})"
                ),
                g,
                v / 1_000_000.0,
            ),
            ("fan", "input" | "min" | "max" | "target") => {
                ("_rpm", format!("Hardware monitor for fan revolutions per minute ({e})"), g, v)
            }
            _ => ("", format!("Hardware monitor {kind} element {e}"), g, v),
        };
        name.push_str(suffix);
        acc.add(&name, || help, kind_, labels(), v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_cleans_like_node_exporter() {
        assert_eq!(split_sensor_file("temp1_crit_alarm"), Some(("temp", 1, "crit_alarm")));
        assert_eq!(split_sensor_file("pwm1"), Some(("pwm", 1, "")));
        assert_eq!(split_sensor_file("beep_enable"), Some(("beep_enable", 0, "")));
        assert_eq!(split_sensor_file("in01_input"), Some(("in", 1, "input")));
        assert_eq!(split_sensor_file("pwm1_auto_point1_pwm"), Some(("pwm", 1, "auto_point1_pwm")));
        assert_eq!(split_sensor_file("temp1x"), None);
        assert_eq!(split_sensor_file("1_input"), None);
        assert_eq!(clean_name("Package id 0\n"), "package_id_0");
        assert_eq!(clean_name("coretemp.0"), "coretemp_0");
        assert_eq!(clean_name("0000:00:18.3"), "0000:00:18_3");
    }

    #[test]
    fn collects_fixture_tree_like_node_exporter_1_5() {
        // tests/fixtures/hwmon.tree: coretemp, nct6798 Super-I/O, NVMe, acpitz and an ACPI
        // power meter laid out per sysfs-class-hwmon; expected values are what node_exporter
        // 1.5 printed for the same tree.
        let dir = tempfile::tempdir().unwrap();
        crate::fixture::build(dir.path(), include_str!("../../tests/fixtures/hwmon.tree")).unwrap();
        let mut out = MetricSet::new();
        Hwmon { class_dir: dir.path().join("sys/class/hwmon") }.collect(&mut out).unwrap();
        let l = |c, s| [("chip", c), ("sensor", s)];
        let core = "platform_coretemp_0";
        assert_eq!(out.get("node_hwmon_temp_celsius", &l(core, "temp1")), Some(55.0));
        assert_eq!(out.get("node_hwmon_temp_crit_alarm_celsius", &l(core, "temp2")), Some(0.0));
        assert_eq!(
            out.get("node_hwmon_temp_crit_celsius", &l("nvme_nvme0", "temp1")),
            Some(84.85000000000001)
        );
        assert_eq!(out.get("node_hwmon_temp_celsius", &l("acpitz", "temp1")), Some(27.8));
        let nct = "platform_nct6775_656";
        assert_eq!(out.get("node_hwmon_in_volts", &l(nct, "in0")), Some(1.032));
        assert_eq!(out.get("node_hwmon_fan_rpm", &l(nct, "fan1")), Some(1098.0));
        assert_eq!(out.get("node_hwmon_pwm", &l(nct, "pwm1")), Some(153.0));
        assert_eq!(out.get("node_hwmon_beep_enabled", &l(nct, "beep_enable0")), Some(0.0));
        assert_eq!(out.get("node_hwmon_intrusion_alarm", &l(nct, "intrusion0")), Some(1.0));
        let pm = "lnxsybus:00_acpi000d:00";
        assert_eq!(out.get("node_hwmon_power_average_watt", &l(pm, "power1")), Some(345.0));
        assert_eq!(out.get("node_hwmon_power_accuracy", &l(pm, "power1")), Some(0.095));
        assert_eq!(
            out.get("node_hwmon_power_average_interval_seconds", &l(pm, "power1")),
            Some(300.0)
        );
        let smc = "platform_applesmc_768";
        assert_eq!(out.get("node_hwmon_energy_joule_total", &l(smc, "energy1")), Some(123.456789));
        assert_eq!(out.get("node_hwmon_humidity", &l(smc, "humidity1")), Some(0.0453));
        assert_eq!(
            out.get("node_hwmon_update_interval_seconds", &l(smc, "update_interval0")),
            Some(1.0)
        );
        assert_eq!(out.get("node_hwmon_voltage_regulator_version", &l(smc, "vrm0")), Some(90.0));
        let names = [("chip", core), ("chip_name", "coretemp")];
        assert_eq!(out.get("node_hwmon_chip_names", &names), Some(1.0));
        let label = [("chip", smc), ("label", "Exhaust  "), ("sensor", "fan1")];
        assert_eq!(out.get("node_hwmon_sensor_label", &label), Some(1.0));
        assert_eq!(out.find("node_hwmon_pwm").map(|f| f.kind()), Some(MetricType::Gauge));
        assert_eq!(
            out.find("node_hwmon_energy_joule_total").map(|f| f.kind()),
            Some(MetricType::Counter)
        );
        // node_exporter 1.5 printed 43 families and 84 samples for this tree.
        assert_eq!(out.families().len(), 43);
        assert_eq!(out.sample_count(), 84);
    }

    #[test]
    fn no_hwmon_is_no_data() {
        let err = Hwmon { class_dir: "/nonexistent/hwmon".into() }.collect(&mut MetricSet::new());
        assert!(matches!(err, Err(CollectError::NoData(_))));
    }
}
