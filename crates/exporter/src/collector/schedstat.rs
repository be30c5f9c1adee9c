//! `node_schedstat_*`: per-CPU scheduler time and timeslices from `/proc/schedstat`
//! (Documentation/scheduler/sched-stats.rst; needs CONFIG_SCHEDSTATS, absent on some VMs).

use std::path::PathBuf;

use obwatch_common::metrics::{MetricSet, MetricType};

use super::{BuildContext, BuildError, CollectError, Collector, CollectorSpec, with_file};

/// Registry entry.
pub const SPEC: CollectorSpec = CollectorSpec { name: "schedstat", default_enabled: true, build };

fn build(cx: &BuildContext) -> Result<Box<dyn Collector>, BuildError> {
    Ok(Box::new(Schedstat { path: cx.root.proc("schedstat") }))
}

/// Reads `/proc/schedstat` once per scrape.
#[derive(Debug)]
pub struct Schedstat {
    path: PathBuf,
}

/// One `cpuN` line: the last three of its nine counters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CpuSched<'a> {
    /// The CPU number as written by the kernel (`"0"`), used as the `cpu` label.
    pub cpu: &'a str,
    /// Time spent running tasks, in nanoseconds.
    pub running_ns: u64,
    /// Time tasks spent runnable but waiting for this CPU, in nanoseconds.
    pub waiting_ns: u64,
    /// Number of timeslices run on this CPU.
    pub timeslices: u64,
}

impl Collector for Schedstat {
    fn collect(&self, out: &mut MetricSet) -> Result<(), CollectError> {
        with_file(&self.path, |text| {
            let cpus = parse(text)?;
            let f = out.family(
                "node_schedstat_running_seconds_total",
                "Number of seconds CPU spent running a process.",
                MetricType::Counter,
            );
            for c in &cpus {
                f.sample(&[("cpu", c.cpu)], c.running_ns as f64 / 1e9);
            }
            let f = out.family(
                "node_schedstat_waiting_seconds_total",
                "Number of seconds spent by processing waiting for this CPU.",
                MetricType::Counter,
            );
            for c in &cpus {
                f.sample(&[("cpu", c.cpu)], c.waiting_ns as f64 / 1e9);
            }
            let f = out.family(
                "node_schedstat_timeslices_total",
                "Number of timeslices executed by CPU.",
                MetricType::Counter,
            );
            for c in &cpus {
                f.sample(&[("cpu", c.cpu)], c.timeslices as f64);
            }
            Ok(())
        })
    }
}

/// Parses the `cpuN` lines. Since schedstat version 15 (kernel 4.x, unchanged through v17 in
/// 6.x) they hold nine counters; fields 7-9 are run time, wait time and timeslice count, which
/// are all node_exporter reports. `version`, `timestamp` and `domainN` lines are skipped, and
/// extra trailing fields a future kernel may add are ignored.
pub fn parse(text: &str) -> Result<Vec<CpuSched<'_>>, String> {
    let mut cpus = Vec::new();
    for line in text.lines() {
        let mut fields = line.split_ascii_whitespace();
        let Some(cpu) = fields.next().and_then(|f| f.strip_prefix("cpu")) else { continue };
        if cpu.is_empty() || !cpu.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let mut nums = [0u64; 9];
        for (i, n) in nums.iter_mut().enumerate() {
            let f = fields.next().ok_or_else(|| format!("cpu{cpu}: only {i} of 9 counters"))?;
            *n = f.parse().map_err(|_| format!("cpu{cpu}: counter {f:?} is not an integer"))?;
        }
        cpus.push(CpuSched { cpu, running_ns: nums[6], waiting_ns: nums[7], timeslices: nums[8] });
    }
    Ok(cpus)
}

#[cfg(test)]
mod tests {
    use super::*;

    // node_exporter's public fixture collector/fixtures/proc/schedstat (a real 2-CPU host,
    // schedstat version 15). This VM's kernel is built without CONFIG_SCHEDSTATS.
    const REAL: &str = "version 15\ntimestamp 15819019232\n\
        cpu0 498494191 0 3533438552 2553969831 3853684107 2465731542 2045936778163039 343796328169361 4767485306\n\
        domain0 00000000,00000003 212499247 210112015 1861015 1860405436 536440 369895 32599 210079416 25368550 24241256 384652 927363878 807233 6366 1647 24239609 2122447165 1886868564 121112060 2848625533 125678146 241025 1032026 1885836538 2545 12 2533 0 0 0 0 0 0 1387952561 21076581 0\n\
        cpu1 518377256 0 4155211005 2778589869 10466382 2867629021 1904686152592476 364107263788241 5145567945\n";

    #[test]
    fn parses_real_capture() {
        let cpus = parse(REAL).unwrap();
        assert_eq!(cpus.len(), 2);
        assert_eq!(
            cpus[0],
            CpuSched {
                cpu: "0",
                running_ns: 2045936778163039,
                waiting_ns: 343796328169361,
                timeslices: 4767485306
            }
        );
        assert_eq!(cpus[1].cpu, "1");
        assert_eq!(cpus[1].timeslices, 5145567945);
    }

    #[test]
    fn collects_seconds() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("schedstat"), REAL).unwrap();
        let mut out = MetricSet::new();
        Schedstat { path: dir.path().join("schedstat") }.collect(&mut out).unwrap();
        let v = out.get("node_schedstat_running_seconds_total", &[("cpu", "0")]).unwrap();
        assert!((v - 2045936.778163039).abs() < 1e-6);
        let v = out.get("node_schedstat_waiting_seconds_total", &[("cpu", "1")]).unwrap();
        assert!((v - 364107.263788241).abs() < 1e-6);
        assert_eq!(out.get("node_schedstat_timeslices_total", &[("cpu", "1")]), Some(5145567945.0));
    }

    #[test]
    fn tolerates_new_fields_and_rejects_garbage() {
        let cpus = parse("version 17\ncpu0 1 2 3 4 5 6 7 8 9 10 11\n").unwrap();
        assert_eq!((cpus[0].running_ns, cpus[0].waiting_ns, cpus[0].timeslices), (7, 8, 9));
        assert!(parse("cpu0 1 2 3\n").unwrap_err().contains("only 3 of 9"));
        assert!(parse("cpu0 1 2 3 4 5 6 x 8 9\n").unwrap_err().contains("\"x\""));
        assert!(parse("").unwrap().is_empty());
    }

    #[test]
    fn missing_file_is_no_data() {
        let err =
            Schedstat { path: "/nonexistent/schedstat".into() }.collect(&mut MetricSet::new());
        assert!(matches!(err, Err(CollectError::NoData(_))));
    }
}
