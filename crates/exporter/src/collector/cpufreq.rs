//! `node_cpu_frequency_*` and `node_cpu_scaling_frequency_*` from sysfs
//! `devices/system/cpu/cpu*/cpufreq/` (Documentation/admin-guide/pm/cpufreq.rst,
//! Documentation/ABI/testing/sysfs-devices-system-cpu).
//!
//! Cost: on x86 kernels since 4.15 a read of `scaling_cur_freq` (and `cpuinfo_cur_freq`)
//! may sample APERF/MPERF on the target CPU and sleep ~10-20 ms, the known node_exporter
//! problem on many-core hosts. So each attribute is read at most once, only the six node_exporter
//! 1.5 reports are read at all (not the governor files), and CPUs are spread over a few scoped
//! threads so a scrape waits about (CPUs / threads) slow reads rather than one per CPU.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use obwatch_common::metrics::{MetricSet, MetricType};

use super::{BuildContext, BuildError, CollectError, Collector, CollectorSpec};

/// Registry entry.
pub const SPEC: CollectorSpec = CollectorSpec { name: "cpufreq", default_enabled: true, build };

fn build(cx: &BuildContext) -> Result<Box<dyn Collector>, BuildError> {
    Ok(Box::new(Cpufreq { cpu_dir: cx.root.sys("devices/system/cpu") }))
}

/// Reads every CPU's cpufreq attributes.
#[derive(Debug)]
pub struct Cpufreq {
    cpu_dir: PathBuf,
}

/// The attributes read, in kHz as the kernel writes them, and the families they feed.
const ATTRS: [(&str, &str, &str); 6] = [
    ("cpuinfo_cur_freq", "node_cpu_frequency_hertz", "Current cpu thread frequency in hertz."),
    ("cpuinfo_max_freq", "node_cpu_frequency_max_hertz", "Maximum cpu thread frequency in hertz."),
    ("cpuinfo_min_freq", "node_cpu_frequency_min_hertz", "Minimum cpu thread frequency in hertz."),
    (
        "scaling_cur_freq",
        "node_cpu_scaling_frequency_hertz",
        "Current scaled CPU thread frequency in hertz.",
    ),
    (
        "scaling_max_freq",
        "node_cpu_scaling_frequency_max_hertz",
        "Maximum scaled CPU thread frequency in hertz.",
    ),
    (
        "scaling_min_freq",
        "node_cpu_scaling_frequency_min_hertz",
        "Minimum scaled CPU thread frequency in hertz.",
    ),
];

/// CPUs per reading thread; below this a scrape reads sequentially (no thread spawn).
const CPUS_PER_THREAD: usize = 4;
/// Upper bound on reading threads per scrape.
const MAX_THREADS: usize = 16;

/// One CPU's values in kHz; `None` when the attribute is absent or root-only
/// (`cpuinfo_cur_freq` is mode 0400).
type Khz = [Option<u64>; 6];

impl Collector for Cpufreq {
    fn collect(&self, out: &mut MetricSet) -> Result<(), CollectError> {
        let entries =
            std::fs::read_dir(&self.cpu_dir).map_err(|e| CollectError::io(&self.cpu_dir, e))?;
        let mut cpus: Vec<(u32, PathBuf)> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let n = cpu_number(e.file_name().to_str()?)?;
                let dir = e.path().join("cpufreq");
                // `cpufreq` is a symlink to ../cpufreq/policyN; CPUs without a driver have none.
                dir.is_dir().then_some((n, dir))
            })
            .collect();
        // No cpufreq driver (most VMs): node_exporter reports success with no samples, and
        // users alert on node_scrape_collector_success == 0, so do the same.
        if cpus.is_empty() {
            return Ok(());
        }
        cpus.sort_by_key(|(n, _)| *n);

        let threads = cpus.len().div_ceil(CPUS_PER_THREAD).min(MAX_THREADS);
        let values: Vec<Result<Khz, CollectError>> = if threads <= 1 {
            let mut buf = String::new();
            cpus.iter().map(|(_, dir)| read_cpu(dir, &mut buf)).collect()
        } else {
            // Thread t reads CPUs t, t+threads, ...; results are put back in CPU order.
            let per_thread: Vec<Vec<Result<Khz, CollectError>>> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..threads)
                    .map(|t| {
                        let cpus = &cpus;
                        s.spawn(move || {
                            let mut buf = String::new();
                            cpus.iter()
                                .skip(t)
                                .step_by(threads)
                                .map(|(_, d)| read_cpu(d, &mut buf))
                                .collect()
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
            });
            let mut iters: Vec<_> = per_thread.into_iter().map(Vec::into_iter).collect();
            (0..cpus.len())
                .map(|i| {
                    iters[i % threads].next().unwrap_or_else(|| {
                        Err(CollectError::NoData(format!("cpufreq reader {} failed", i % threads)))
                    })
                })
                .collect()
        };

        let mut rows = Vec::with_capacity(cpus.len());
        for ((n, _), v) in cpus.iter().zip(values) {
            rows.push((n.to_string(), v?));
        }
        for (i, (_, name, help)) in ATTRS.iter().enumerate() {
            let f = out.family(*name, *help, MetricType::Gauge);
            for (cpu, khz) in &rows {
                if let Some(v) = khz[i] {
                    f.sample(&[("cpu", cpu)], v as f64 * 1000.0);
                }
            }
        }
        Ok(())
    }
}

/// Reads the six attributes of one `cpufreq` dir, each exactly once.
fn read_cpu(dir: &Path, buf: &mut String) -> Result<Khz, CollectError> {
    let mut out = [None; 6];
    for (slot, (attr, _, _)) in out.iter_mut().zip(ATTRS) {
        let path = dir.join(attr);
        match obwatch_common::fs::read_into(&path, buf) {
            Ok(()) => *slot = Some(parse_khz(buf).map_err(|r| CollectError::parse(&path, r))?),
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::PermissionDenied) => {}
            Err(e) => return Err(CollectError::io(&path, e)),
        }
    }
    Ok(out)
}

/// `cpu12` -> 12; `cpufreq`, `cpuidle`, `cpu` -> None.
fn cpu_number(name: &str) -> Option<u32> {
    name.strip_prefix("cpu")?.parse().ok()
}

/// Parses a frequency attribute (`"1699981\n"`, kHz).
pub fn parse_khz(text: &str) -> Result<u64, String> {
    let t = text.trim();
    t.parse().map_err(|_| format!("frequency {t:?} is not an integer"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_attributes_and_names() {
        // intel_pstate on an i7-8650U: scaling_cur_freq "1699981", cpuinfo_max_freq "4700000".
        assert_eq!(parse_khz("1699981\n"), Ok(1699981));
        assert_eq!(parse_khz("4700000\n"), Ok(4700000));
        assert!(parse_khz("<unknown>\n").unwrap_err().contains("<unknown>"));
        assert_eq!(cpu_number("cpu12"), Some(12));
        assert_eq!(cpu_number("cpufreq"), None);
        assert_eq!(cpu_number("cpuidle"), None);
    }

    fn fixture() -> tempfile::TempDir {
        // tests/fixtures/cpufreq.tree: an intel_pstate policy (cpu0, cpuinfo_cur_freq not
        // readable), an acpi-cpufreq one (cpu1) and a CPU without cpufreq (cpu2).
        let dir = tempfile::tempdir().unwrap();
        crate::fixture::build(dir.path(), include_str!("../../tests/fixtures/cpufreq.tree"))
            .unwrap();
        dir
    }

    #[test]
    fn collects_fixture_tree() {
        let dir = fixture();
        let mut out = MetricSet::new();
        Cpufreq { cpu_dir: dir.path().join("sys/devices/system/cpu") }.collect(&mut out).unwrap();
        let c = |n| [("cpu", n)];
        assert_eq!(out.get("node_cpu_frequency_hertz", &c("0")), None);
        assert_eq!(out.get("node_cpu_frequency_hertz", &c("1")), Some(1_200_195_000.0));
        assert_eq!(out.get("node_cpu_frequency_max_hertz", &c("0")), Some(4.7e9));
        assert_eq!(out.get("node_cpu_frequency_min_hertz", &c("1")), Some(1.2e9));
        assert_eq!(out.get("node_cpu_scaling_frequency_hertz", &c("0")), Some(1_699_981_000.0));
        assert_eq!(out.get("node_cpu_scaling_frequency_max_hertz", &c("1")), Some(3.3e9));
        assert_eq!(out.get("node_cpu_scaling_frequency_min_hertz", &c("0")), Some(8e8));
        assert_eq!(out.sample_count(), 11);
    }

    #[test]
    fn many_cpus_use_threads_and_keep_order() {
        let dir = tempfile::tempdir().unwrap();
        for n in 0..37 {
            let d = dir.path().join(format!("cpu{n}/cpufreq"));
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("scaling_cur_freq"), format!("{}\n", 1000 + n)).unwrap();
        }
        let mut out = MetricSet::new();
        Cpufreq { cpu_dir: dir.path().into() }.collect(&mut out).unwrap();
        let f = out.find("node_cpu_scaling_frequency_hertz").unwrap();
        assert_eq!(f.len(), 37);
        for (i, (labels, v)) in f.samples().enumerate() {
            assert_eq!(labels, format!("cpu=\"{i}\""));
            assert_eq!(v, (1000 + i) as f64 * 1000.0);
        }
    }

    #[test]
    fn no_cpufreq_is_success_without_samples() {
        // This Firecracker VM: cpu0/cpu1 exist but have no cpufreq directory.
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("cpu0/topology")).unwrap();
        let mut set = MetricSet::new();
        Cpufreq { cpu_dir: dir.path().into() }.collect(&mut set).unwrap();
        assert_eq!(set.sample_count(), 0);
    }
}
