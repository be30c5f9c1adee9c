//! `node_memory_<Field>[_bytes]` from `/proc/meminfo` (proc(5),
//! Documentation/filesystems/proc.rst "meminfo"): one gauge per line, in bytes for `kB`
//! lines. Names follow node_exporter: `Active(anon)` becomes `Active_anon`, and lines
//! without a unit (`HugePages_Total`, page counts) keep their bare name.

use std::path::PathBuf;

use obwatch_common::metrics::{MetricSet, MetricType};

use super::names::NameTable;
use super::{BuildContext, BuildError, CollectError, Collector, CollectorSpec, with_file};

/// Registry entry.
pub const SPEC: CollectorSpec = CollectorSpec { name: "meminfo", default_enabled: true, build };

fn build(cx: &BuildContext) -> Result<Box<dyn Collector>, BuildError> {
    Ok(Box::new(Meminfo { path: cx.root.proc("meminfo"), names: NameTable::default() }))
}

/// Reads the memory usage summary.
#[derive(Debug)]
pub struct Meminfo {
    path: PathBuf,
    names: NameTable,
}

impl Collector for Meminfo {
    fn collect(&self, out: &mut MetricSet) -> Result<(), CollectError> {
        let mut names = self.names.lock();
        with_file(&self.path, |text| {
            parse(text, |pos, field, bytes, value| {
                let made = names.get(pos, field, bytes, || {
                    let name = metric_name(field, bytes);
                    let help = format!("Memory information field {name}.");
                    Some((format!("node_memory_{name}"), help))
                });
                if let Some((name, help)) = made {
                    // node_exporter types a field ending in `_total` as a counter; none does
                    // today (HugePages_Total is capitalised), kept for equal behaviour.
                    let kind = if name.ends_with("_total") {
                        MetricType::Counter
                    } else {
                        MetricType::Gauge
                    };
                    out.family(name, help, kind).sample(&[], value);
                }
            })
        })
    }
}

/// node_exporter's name for a field: `Active(anon)` -> `Active_anon` (its regex `\((.*)\)`
/// -> `_$1`), plus `_bytes` for fields with a unit.
pub fn metric_name(field: &str, bytes: bool) -> String {
    let mut name = String::with_capacity(field.len() + 6);
    match (field.find('('), field.rfind(')')) {
        (Some(open), Some(close)) if open < close => {
            name.push_str(&field[..open]);
            name.push('_');
            name.push_str(&field[open + 1..close]);
            name.push_str(&field[close + 1..]);
        }
        _ => name.push_str(field),
    }
    if bytes {
        name.push_str("_bytes");
    }
    name
}

/// Parses `Name:   123 kB` lines, calling `f(line index, name, has unit, value)` with `kB`
/// values converted to bytes. Blank lines are skipped (seen on some 3.10 CentOS kernels, per
/// node_exporter); a line with another unit or shape is an error.
pub fn parse(text: &str, mut f: impl FnMut(usize, &str, bool, f64)) -> Result<(), String> {
    for (pos, line) in text.lines().enumerate() {
        let mut fields = line.split_ascii_whitespace();
        let Some(key) = fields.next() else { continue };
        let name = key.strip_suffix(':').unwrap_or(key);
        let value = fields.next().ok_or_else(|| format!("field {name:?} has no value"))?;
        let v: u64 =
            value.parse().map_err(|_| format!("{name} value {value:?} is not an integer"))?;
        let bytes = match (fields.next(), fields.next()) {
            (None, _) => false,
            // The kernel prints kB (KiB) for every sized field.
            (Some("kB"), None) => true,
            _ => return Err(format!("line {line:?} is not `Name: value [kB]`")),
        };
        f(pos, name, bytes, if bytes { v as f64 * 1024.0 } else { v as f64 });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This host (kernel 6.18, 24 GiB VM), excerpt of `cat /proc/meminfo`.
    const LINUX_6_18: &str = "MemTotal:       24683656 kB
MemFree:        21371084 kB
Active(anon):       1588 kB
Inactive(file):  1277204 kB
SecPageTables:         0 kB
VmallocTotal:   34359738367 kB
HugePages_Total:       0
HugePages_Free:        0
Hugepagesize:       2048 kB
DirectMap1G:    25165824 kB
";

    /// RHEL 7 (3.10) layout per proc.rst of that era (values illustrative): no MemAvailable
    /// before 3.14 (backported to 3.10.0-123), no KReclaimable (4.20); a blank line as seen
    /// on some CentOS 3.10 kernels.
    const LINUX_3_10: &str = "MemTotal:       65808908 kB
MemFree:         1432068 kB
Buffers:          210584 kB
Cached:         40203520 kB
Active(file):   20166620 kB

HugePages_Total:   10240
HugePages_Rsvd:        0
Hugepagesize:       2048 kB
";

    fn collect(text: &str) -> MetricSet {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("meminfo"), text).unwrap();
        let m = Meminfo { path: d.path().join("meminfo"), names: NameTable::default() };
        let mut out = MetricSet::new();
        m.collect(&mut out).unwrap();
        // A second scrape, served from the name memo, adds the same samples again.
        m.collect(&mut out).unwrap();
        out
    }

    #[test]
    fn exports_real_hosts() {
        let out = collect(LINUX_6_18);
        assert_eq!(out.get("node_memory_MemTotal_bytes", &[]), Some(24683656.0 * 1024.0));
        assert_eq!(out.get("node_memory_Active_anon_bytes", &[]), Some(1588.0 * 1024.0));
        assert_eq!(out.get("node_memory_Inactive_file_bytes", &[]), Some(1277204.0 * 1024.0));
        assert_eq!(out.get("node_memory_VmallocTotal_bytes", &[]), Some(35184372087808.0));
        assert_eq!(out.get("node_memory_HugePages_Total", &[]), Some(0.0));
        assert_eq!(out.find("node_memory_HugePages_Total_bytes").map(|f| f.len()), None);
        assert_eq!(out.find("node_memory_MemFree_bytes").unwrap().kind(), MetricType::Gauge);
        assert_eq!(out.sample_count(), 2 * 10);
        let out = collect(LINUX_3_10);
        assert_eq!(out.get("node_memory_HugePages_Total", &[]), Some(10240.0));
        assert_eq!(out.get("node_memory_Active_file_bytes", &[]), Some(20166620.0 * 1024.0));
        assert_eq!(out.sample_count(), 2 * 8);
    }

    #[test]
    fn names_like_node_exporter() {
        assert_eq!(metric_name("Active(anon)", true), "Active_anon_bytes");
        assert_eq!(metric_name("HugePages_Total", false), "HugePages_Total");
        assert_eq!(metric_name("Odd)(", true), "Odd)(_bytes");
    }

    #[test]
    fn rejects_odd_input() {
        let mut n = 0;
        assert!(
            parse("MemTotal:\n", |_, _, _, _| n += 1)
                .unwrap_err()
                .contains("\"MemTotal\" has no value")
        );
        assert!(
            parse("MemFree: 1 MB\n", |_, _, _, _| n += 1).unwrap_err().contains("not `Name: value")
        );
        assert!(parse("MemFree: x kB\n", |_, _, _, _| n += 1).unwrap_err().contains("value \"x\""));
        assert_eq!(n, 0);
    }
}
