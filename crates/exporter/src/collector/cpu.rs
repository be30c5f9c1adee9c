//! `node_cpu_seconds_total{cpu,mode}` and `node_cpu_guest_seconds_total{cpu,mode}` from the
//! `cpuN` lines of `/proc/stat` (proc(5), Documentation/filesystems/proc.rst 1.7), plus
//! `node_cpu_isolated` and `node_cpu_{core,package}_throttles_total` from
//! /sys/devices/system/cpu (Documentation/ABI/testing/sysfs-devices-system-cpu,
//! Documentation/arch/x86/topology.rst). The other lines of /proc/stat are the stat collector's.

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use obwatch_common::metrics::{MetricSet, MetricType};

use super::{BuildContext, BuildError, CollectError, Collector, CollectorSpec, with_file};

/// Registry entry.
pub const SPEC: CollectorSpec = CollectorSpec { name: "cpu", default_enabled: true, build };

/// /proc/stat counts in USER_HZ, which is 100 on every Linux ABI (sysconf(_SC_CLK_TCK)).
const USER_HZ: f64 = 100.0;

/// node_exporter's threshold: idle going back this much means the CPU was hot-plugged.
const JUMP_BACK_SECONDS: f64 = 3.0;

/// Column order of a cpu line: user nice system idle iowait irq softirq steal guest
/// guest_nice (steal since 2.6.11, guest 2.6.24, guest_nice 2.6.33; missing ones read 0).
const COLUMNS: usize = 10;

/// `mode` label per column, in label order (as client_golang sorts samples); guest columns
/// (8, 9) go to the guest family. Guest time is also counted in user/nice.
const MODES: [(&str, usize); 8] = [
    ("idle", 3),
    ("iowait", 4),
    ("irq", 5),
    ("nice", 1),
    ("softirq", 6),
    ("steal", 7),
    ("system", 2),
    ("user", 0),
];
const GUEST_MODES: [(&str, usize); 2] = [("nice", 9), ("user", 8)];

fn build(cx: &BuildContext) -> Result<Box<dyn Collector>, BuildError> {
    let sys = cx.root.sys("devices/system/cpu");
    // Read once, as node_exporter does: isolcpus= is a boot parameter.
    let isolated = std::fs::read_to_string(sys.join("isolated"))
        .ok()
        .and_then(|s| parse_cpu_list(&s))
        .map(|ids| ids.iter().map(u32::to_string).collect())
        .unwrap_or_default();
    Ok(Box::new(Cpu {
        path: cx.root.proc("stat"),
        isolated,
        throttles: Throttles::find(&sys),
        state: Mutex::default(),
    }))
}

/// Reads per-CPU time counters, keeping them monotonic across scrapes.
#[derive(Debug)]
pub struct Cpu {
    path: PathBuf,
    isolated: Vec<String>,
    throttles: Throttles,
    state: Mutex<State>,
}

/// One CPU's seconds per column.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CpuTimes {
    /// N of `cpuN`.
    pub id: u32,
    /// Seconds per column (see [`COLUMNS`]).
    pub secs: [f64; COLUMNS],
}

#[derive(Debug, Default)]
struct State {
    /// Last reported values and the `cpu` label, sorted by label as node_exporter's output.
    cpus: Vec<(String, CpuTimes)>,
    /// This scrape's parse, reused.
    fresh: Vec<CpuTimes>,
}

impl Collector for Cpu {
    fn collect(&self, out: &mut MetricSet) -> Result<(), CollectError> {
        let mut guard = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let state = &mut *guard;
        with_file(&self.path, |text| parse(text, &mut state.fresh))?;
        merge(&mut state.cpus, &state.fresh);

        let f = out.family(
            "node_cpu_seconds_total",
            "Seconds the CPUs spent in each mode.",
            MetricType::Counter,
        );
        for (label, t) in &state.cpus {
            for (mode, col) in MODES {
                f.sample(&[("cpu", label), ("mode", mode)], t.secs[col]);
            }
        }
        let f = out.family(
            "node_cpu_guest_seconds_total",
            "Seconds the CPUs spent in guests (VMs) for each mode.",
            MetricType::Counter,
        );
        for (label, t) in &state.cpus {
            for (mode, col) in GUEST_MODES {
                f.sample(&[("cpu", label), ("mode", mode)], t.secs[col]);
            }
        }
        let f = out.family(
            "node_cpu_isolated",
            "Whether each core is isolated, information from /sys/devices/system/cpu/isolated.",
            MetricType::Gauge,
        );
        for cpu in &self.isolated {
            f.sample(&[("cpu", cpu)], 1.0);
        }
        self.throttles.collect(out);
        Ok(())
    }
}

/// Folds this scrape's values into the reported ones like node_exporter: a counter that goes
/// down (iowait does, kernel accounting quirk) keeps its last value; idle falling by 3 s or
/// more means a hot-plugged CPU, whose counters restart. CPUs gone offline are dropped.
fn merge(cpus: &mut Vec<(String, CpuTimes)>, fresh: &[CpuTimes]) {
    cpus.retain(|(_, old)| fresh.iter().any(|n| n.id == old.id));
    for n in fresh {
        let Some(i) = cpus.iter().position(|(_, old)| old.id == n.id) else {
            cpus.push((n.id.to_string(), *n));
            cpus.sort_by(|a, b| a.0.cmp(&b.0));
            continue;
        };
        let old = &mut cpus[i].1;
        if old.secs[3] - n.secs[3] >= JUMP_BACK_SECONDS {
            *old = *n;
            continue;
        }
        for (o, v) in old.secs.iter_mut().zip(n.secs) {
            if v >= *o {
                *o = v;
            }
        }
    }
}

/// Parses the `cpuN` lines of /proc/stat into `out` (cleared first), in seconds. The `cpu`
/// total line and all other lines are skipped; columns past the tenth (none yet) are ignored.
pub fn parse(text: &str, out: &mut Vec<CpuTimes>) -> Result<(), String> {
    out.clear();
    for line in text.lines() {
        let mut fields = line.split_ascii_whitespace();
        let Some(id) = fields.next().and_then(|f| f.strip_prefix("cpu")).filter(|n| !n.is_empty())
        else {
            continue;
        };
        let id: u32 = id.parse().map_err(|_| format!("cpu line {line:?} has a bad cpu number"))?;
        let mut secs = [0.0; COLUMNS];
        for (slot, f) in secs.iter_mut().zip(fields) {
            let ticks: u64 =
                f.parse().map_err(|_| format!("cpu{id} value {f:?} is not an integer"))?;
            *slot = ticks as f64 / USER_HZ;
        }
        out.push(CpuTimes { id, secs });
    }
    Ok(())
}

/// Parses a sysfs CPU list (`0-3,8,10-11`, maybe empty); `None` when malformed.
pub fn parse_cpu_list(text: &str) -> Option<Vec<u32>> {
    let mut ids = Vec::new();
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        let (lo, hi) = part.split_once('-').unwrap_or((part, part));
        let (lo, hi): (u32, u32) = (lo.parse().ok()?, hi.parse().ok()?);
        // A bound keeps a corrupt range from allocating gigabytes.
        if hi < lo || hi - lo > 65536 {
            return None;
        }
        ids.extend(lo..=hi);
    }
    Some(ids)
}

/// Thermal throttle counters (x86 with thermal_throttle; absent in VMs). Topology is static,
/// so CPUs and their package/core ids are found once at start-up and only counts are read
/// per scrape; node_exporter reads the first CPU of each core and of each package.
#[derive(Debug, Default)]
struct Throttles {
    /// `(package, core, core_throttle_count path)`.
    cores: Vec<(String, String, PathBuf)>,
    /// `(package, package_throttle_count path)`.
    packages: Vec<(String, PathBuf)>,
}

impl Throttles {
    fn find(sys: &std::path::Path) -> Self {
        let mut t = Throttles::default();
        let Ok(dir) = std::fs::read_dir(sys) else { return t };
        let mut cpus: Vec<PathBuf> = dir
            .filter_map(Result::ok)
            .filter(|e| {
                e.file_name()
                    .to_str()
                    .and_then(|n| n.strip_prefix("cpu"))
                    .is_some_and(|n| n.starts_with(|c: char| c.is_ascii_digit()))
            })
            .map(|e| e.path())
            .collect();
        // Glob order, as node_exporter (cpu10 sorts before cpu2).
        cpus.sort();
        for cpu in cpus {
            let read = |rel: &str| {
                std::fs::read_to_string(cpu.join(rel))
                    .ok()
                    .and_then(|s| s.trim().parse::<u64>().ok())
            };
            let (Some(pkg), Some(core)) =
                (read("topology/physical_package_id"), read("topology/core_id"))
            else {
                continue;
            };
            let (pkg, core) = (pkg.to_string(), core.to_string());
            let core_path = cpu.join("thermal_throttle/core_throttle_count");
            if core_path.exists() && !t.cores.iter().any(|(p, c, _)| *p == pkg && *c == core) {
                t.cores.push((pkg.clone(), core, core_path));
            }
            let pkg_path = cpu.join("thermal_throttle/package_throttle_count");
            if pkg_path.exists() && !t.packages.iter().any(|(p, _)| *p == pkg) {
                t.packages.push((pkg, pkg_path));
            }
        }
        t
    }

    fn collect(&self, out: &mut MetricSet) {
        let count = |path: &PathBuf| {
            with_file(path, |s| {
                s.trim().parse::<u64>().map_err(|_| format!("{s:?} is not an integer"))
            })
            .ok()
        };
        let f = out.family(
            "node_cpu_package_throttles_total",
            "Number of times this CPU package has been throttled.",
            MetricType::Counter,
        );
        for (pkg, path) in &self.packages {
            // A count that vanished (CPU offlined) is skipped, as node_exporter does.
            if let Some(v) = count(path) {
                f.sample(&[("package", pkg)], v as f64);
            }
        }
        let f = out.family(
            "node_cpu_core_throttles_total",
            "Number of times this CPU core has been throttled.",
            MetricType::Counter,
        );
        for (pkg, core, path) in &self.cores {
            if let Some(v) = count(path) {
                f.sample(&[("core", core), ("package", pkg)], v as f64);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This host (kernel 6.18, 2 vCPUs, KVM), `cat /proc/stat`, intr line shortened.
    const LINUX_6_18: &str = "cpu  68546 0 13217 1119894 1046 0 165 276 0 0
cpu0 32856 0 6202 561936 227 0 60 139 0 0
cpu1 35690 0 7014 557957 819 0 104 136 0 0
intr 706542 0 0 0 0 1205 165
ctxt 734822
btime 1795413937
";

    /// 2.6.18 (RHEL 5) layout per proc(5): 8 columns, no guest/guest_nice (values
    /// illustrative). RHEL 7's 3.10 prints all 10, like LINUX_6_18.
    const LINUX_2_6_18: &str = "cpu  2255 34 2290 22625563 6290 127 456 0
cpu0 1132 34 1441 11311718 3675 127 438 0
cpu1 1123 0 849 11313845 2614 0 18 0
intr 114930548 113199788 3 0 5 263 0 4 [...]
";

    fn times(id: u32, secs: [f64; COLUMNS]) -> CpuTimes {
        CpuTimes { id, secs }
    }

    #[test]
    fn parses_real_hosts() {
        let mut v = Vec::new();
        parse(LINUX_6_18, &mut v).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].secs, [328.56, 0.0, 62.02, 5619.36, 2.27, 0.0, 0.6, 1.39, 0.0, 0.0]);
        assert_eq!((v[1].id, v[1].secs[0]), (1, 356.9));
        parse(LINUX_2_6_18, &mut v).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[1].secs, [11.23, 0.0, 8.49, 113138.45, 26.14, 0.0, 0.18, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn rejects_odd_input() {
        let mut v = Vec::new();
        assert!(parse("cpuX 1 2\n", &mut v).unwrap_err().contains("bad cpu number"));
        assert!(parse("cpu0 1 -2\n", &mut v).unwrap_err().contains("cpu0 value \"-2\""));
        // More columns than known (a future kernel) are ignored.
        parse("cpu3 1 2 3 4 5 6 7 8 9 10 11 12\n", &mut v).unwrap();
        assert_eq!(v[0].secs[9], 0.1);
    }

    #[test]
    fn merge_keeps_counters_monotonic() {
        let mut cpus = Vec::new();
        let mut a = [1.0; COLUMNS];
        merge(&mut cpus, &[times(2, a), times(10, a), times(0, a)]);
        let labels: Vec<&str> = cpus.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(labels, ["0", "10", "2"]);
        // iowait went back: the old value stays; user went forward.
        a[4] = 0.5;
        a[0] = 7.0;
        merge(&mut cpus, &[times(2, a), times(10, a)]);
        assert_eq!(cpus.len(), 2, "cpu0 went offline");
        assert_eq!(cpus[1].1.secs[4], 1.0);
        assert_eq!(cpus[1].1.secs[0], 7.0);
        // Idle fell by 3 s or more: hot-plug, start over from the new values.
        let mut b = [100.0; COLUMNS];
        merge(&mut cpus, &[times(10, b)]);
        b[3] = 96.5;
        b[4] = 0.25;
        merge(&mut cpus, &[times(10, b)]);
        assert_eq!(cpus[0].1.secs[4], 0.25);
    }

    #[test]
    fn cpu_lists() {
        assert_eq!(parse_cpu_list("\n"), Some(vec![]));
        assert_eq!(parse_cpu_list("0-2,8\n"), Some(vec![0, 1, 2, 8]));
        assert_eq!(parse_cpu_list("3-1"), None);
        assert_eq!(parse_cpu_list("a"), None);
    }

    #[test]
    fn collects_stat_isolated_and_throttles() {
        let d = tempfile::tempdir().unwrap();
        crate::fixture::build(
            d.path(),
            &format!(
                "=== proc/stat\n{LINUX_6_18}=== sys/devices/system/cpu/isolated\n1\n\
                 === sys/devices/system/cpu/cpu0/topology/physical_package_id\n0\n\
                 === sys/devices/system/cpu/cpu0/topology/core_id\n0\n\
                 === sys/devices/system/cpu/cpu0/thermal_throttle/core_throttle_count\n5\n\
                 === sys/devices/system/cpu/cpu0/thermal_throttle/package_throttle_count\n9\n\
                 === sys/devices/system/cpu/cpu1/topology/physical_package_id\n0\n\
                 === sys/devices/system/cpu/cpu1/topology/core_id\n0\n\
                 === sys/devices/system/cpu/cpu1/thermal_throttle/core_throttle_count\n6\n"
            ),
        )
        .unwrap();
        let root = obwatch_common::fs::Root {
            procfs: d.path().join("proc"),
            sysfs: d.path().join("sys"),
            ..Default::default()
        };
        let options = crate::collector::options::CollectorOptions::default();
        let c = build(&BuildContext { root: &root, options: &options }).unwrap();
        let mut out = MetricSet::new();
        c.collect(&mut out).unwrap();
        assert_eq!(
            out.get("node_cpu_seconds_total", &[("cpu", "1"), ("mode", "user")]),
            Some(356.9)
        );
        assert_eq!(
            out.get("node_cpu_seconds_total", &[("cpu", "0"), ("mode", "steal")]),
            Some(1.39)
        );
        assert_eq!(
            out.get("node_cpu_guest_seconds_total", &[("cpu", "0"), ("mode", "nice")]),
            Some(0.0)
        );
        assert_eq!(out.get("node_cpu_isolated", &[("cpu", "1")]), Some(1.0));
        // cpu1 shares cpu0's core: read once, from cpu0.
        assert_eq!(
            out.get("node_cpu_core_throttles_total", &[("package", "0"), ("core", "0")]),
            Some(5.0)
        );
        assert_eq!(out.get("node_cpu_package_throttles_total", &[("package", "0")]), Some(9.0));
        assert_eq!(out.sample_count(), 16 + 4 + 1 + 2);
    }
}
