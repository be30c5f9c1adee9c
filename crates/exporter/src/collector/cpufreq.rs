//! `node_cpu_frequency_*` and `node_cpu_scaling_frequency_*` from sysfs
//! `devices/system/cpu/cpu*/cpufreq/` (Documentation/admin-guide/pm/cpufreq.rst,
//! Documentation/ABI/testing/sysfs-devices-system-cpu).
//!
//! Cost: on x86 kernels since 4.15 a read of `scaling_cur_freq` (and `cpuinfo_cur_freq`)
//! may sample APERF/MPERF on the target CPU and sleep ~10-20 ms, the known node_exporter
//! problem on many-core hosts. So each attribute is read at most once, only the six node_exporter
//! 1.5 reports are read at all (not the governor files), each with one `openat` relative to its
//! policy directory (not a walk of the whole path, which on a 128-CPU host was most of the
//! collector's CPU), and when the reads are slow the remaining CPUs are spread over a few
//! scoped threads, so a scrape waits about (CPUs / threads) slow reads rather than one per CPU.
//! Where reads are fast (newer kernels, VMs) no thread is started: creating 16 threads a scrape
//! cost more than the reads.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use obwatch_common::metrics::{MetricSet, MetricType};
use rustix::fs::{CWD, Dir, Mode, OFlags, openat};
use rustix::io::Errno;

use super::open_files::read_attr;
use super::{BuildContext, BuildError, CollectError, Collector, CollectorSpec};

/// Registry entry.
pub const SPEC: CollectorSpec = CollectorSpec { name: "cpufreq", default_enabled: true, build };

fn build(cx: &BuildContext) -> Result<Box<dyn Collector>, BuildError> {
    Ok(Box::new(Cpufreq { cpu_dir: cx.root.sys("devices/system/cpu"), slow_after: SLOW_AFTER }))
}

/// Reads the cpufreq policy of every CPU.
#[derive(Debug)]
pub struct Cpufreq {
    cpu_dir: PathBuf,
    /// A serial pass that has taken this long reads the remaining CPUs on threads.
    slow_after: Duration,
}

/// sysfs attribute, metric name, help (node_exporter 1.5's).
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

/// One slow read is 10-20 ms; a fast pass over 128 CPUs' 768 attributes takes about 2 ms.
const SLOW_AFTER: Duration = Duration::from_millis(5);
const CPUS_PER_THREAD: usize = 4;
const MAX_THREADS: usize = 16;

/// The six attributes of one CPU, kHz (`None`: absent or not readable).
type Khz = [Option<u64>; 6];

impl Collector for Cpufreq {
    fn collect(&self, out: &mut MetricSet) -> Result<(), CollectError> {
        let cpus = self.policies()?;
        // No cpufreq driver (most VMs): node_exporter reports success with no samples, and
        // users alert on node_scrape_collector_success == 0, so do the same.
        if cpus.is_empty() {
            return Ok(());
        }
        let mut values = Vec::with_capacity(cpus.len());
        let start = Instant::now();
        for (n, dir) in &cpus {
            if !values.is_empty() && start.elapsed() >= self.slow_after {
                break;
            }
            values.push(self.read_cpu(*n, dir.as_fd()));
        }
        if values.len() < cpus.len() {
            values.extend(self.read_on_threads(&cpus[values.len()..]));
        }

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

impl Cpufreq {
    /// Each CPU with a `cpufreq` directory (a symlink to `../cpufreq/policyN`), sorted.
    fn policies(&self) -> Result<Vec<(u32, OwnedFd)>, CollectError> {
        let io = |e: Errno| CollectError::io(&self.cpu_dir, e.into());
        let dir_flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let root = openat(CWD, &self.cpu_dir, dir_flags, Mode::empty()).map_err(io)?;
        let mut cpus = Vec::new();
        for entry in Dir::read_from(&root).map_err(io)? {
            let entry = entry.map_err(io)?;
            let Some(name) = entry.file_name().to_str().ok() else { continue };
            let Some(n) = cpu_number(name) else { continue };
            match openat(&root, format!("{name}/cpufreq"), dir_flags, Mode::empty()) {
                Ok(fd) => cpus.push((n, fd)),
                // CPUs without a driver have no cpufreq directory; an offlined one may vanish.
                Err(Errno::NOENT | Errno::NOTDIR | Errno::NODEV) => {}
                Err(e) => return Err(CollectError::io(&self.cpu_dir.join(name), e.into())),
            }
        }
        cpus.sort_by_key(|(n, _)| *n);
        Ok(cpus)
    }

    fn read_cpu(&self, cpu: u32, dir: BorrowedFd<'_>) -> Result<Khz, CollectError> {
        let mut out = [None; 6];
        let mut buf = [0u8; 64];
        let path = |attr: &str| self.cpu_dir.join(format!("cpu{cpu}/cpufreq/{attr}"));
        for (slot, (attr, _, _)) in out.iter_mut().zip(ATTRS) {
            match read_attr(dir, attr, &mut buf) {
                Ok(Some(text)) => {
                    *slot = Some(parse_khz(text).map_err(|r| CollectError::parse(&path(attr), r))?);
                }
                Ok(None) => {}
                Err(e) => return Err(CollectError::io(&path(attr), e.into())),
            }
        }
        Ok(out)
    }

    /// Reads `cpus` on scoped threads (thread t takes CPUs t, t+threads, ...), in CPU order.
    fn read_on_threads(&self, cpus: &[(u32, OwnedFd)]) -> Vec<Result<Khz, CollectError>> {
        let threads = cpus.len().div_ceil(CPUS_PER_THREAD).min(MAX_THREADS);
        let per_thread: Vec<Vec<Result<Khz, CollectError>>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    s.spawn(move || {
                        cpus.iter()
                            .skip(t)
                            .step_by(threads)
                            .map(|(n, d)| self.read_cpu(*n, d.as_fd()))
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
    }
}

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
        Cpufreq { cpu_dir: dir.path().join("sys/devices/system/cpu"), slow_after: SLOW_AFTER }
            .collect(&mut out)
            .unwrap();
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
        // Fast reads stay on this thread; `slow_after` zero sends all but the first CPU to
        // threads, as a kernel whose reads sleep would. Both give every CPU in order.
        for slow_after in [SLOW_AFTER, Duration::ZERO] {
            let mut out = MetricSet::new();
            Cpufreq { cpu_dir: dir.path().into(), slow_after }.collect(&mut out).unwrap();
            let f = out.find("node_cpu_scaling_frequency_hertz").unwrap();
            assert_eq!(f.len(), 37);
            for (i, (labels, v)) in f.samples().enumerate() {
                assert_eq!(labels, format!("cpu=\"{i}\""));
                assert_eq!(v, (1000 + i) as f64 * 1000.0);
            }
        }
    }

    #[test]
    fn no_cpufreq_is_success_without_samples() {
        // This Firecracker VM: cpu0/cpu1 exist but have no cpufreq directory.
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("cpu0/topology")).unwrap();
        let mut set = MetricSet::new();
        Cpufreq { cpu_dir: dir.path().into(), slow_after: SLOW_AFTER }.collect(&mut set).unwrap();
        assert_eq!(set.sample_count(), 0);
    }
}
