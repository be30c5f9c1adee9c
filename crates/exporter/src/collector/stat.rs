//! `node_boot_time_seconds`, `node_context_switches_total`, `node_forks_total`,
//! `node_intr_total`, `node_procs_running`, `node_procs_blocked` from `/proc/stat` (proc(5),
//! Documentation/filesystems/proc.rst "1.7 Miscellaneous kernel statistics in /proc/stat").
//! The `cpu` lines of the same file belong to the cpu collector.

use std::path::PathBuf;

use obwatch_common::metrics::MetricSet;

use super::{BuildContext, BuildError, CollectError, Collector, CollectorSpec, with_file};

/// Registry entry.
pub const SPEC: CollectorSpec = CollectorSpec { name: "stat", default_enabled: true, build };

fn build(cx: &BuildContext) -> Result<Box<dyn Collector>, BuildError> {
    Ok(Box::new(Stat { path: cx.root.proc("stat") }))
}

/// Reads the kernel-wide counters of /proc/stat.
#[derive(Debug)]
pub struct Stat {
    path: PathBuf,
}

/// The counters node_exporter exports; a line the kernel does not print stays 0, as in
/// node_exporter (procfs leaves the field zero).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Counters {
    /// `btime`: boot time, seconds since the epoch.
    pub boot_time: f64,
    /// `ctxt`: context switches since boot.
    pub context_switches: f64,
    /// `processes`: forks since boot.
    pub forks: f64,
    /// First number of `intr`: all interrupts serviced since boot.
    pub interrupts: f64,
    /// `procs_running`: runnable tasks now.
    pub procs_running: f64,
    /// `procs_blocked`: tasks blocked on I/O now.
    pub procs_blocked: f64,
}

impl Collector for Stat {
    fn collect(&self, out: &mut MetricSet) -> Result<(), CollectError> {
        let c = with_file(&self.path, parse)?;
        out.gauge("node_boot_time_seconds", "Node boot time, in unixtime.", c.boot_time);
        out.counter(
            "node_context_switches_total",
            "Total number of context switches.",
            c.context_switches,
        );
        out.counter("node_forks_total", "Total number of forks.", c.forks);
        out.counter("node_intr_total", "Total number of interrupts serviced.", c.interrupts);
        out.gauge("node_procs_running", "Number of processes in runnable state.", c.procs_running);
        out.gauge(
            "node_procs_blocked",
            "Number of processes blocked waiting for I/O to complete.",
            c.procs_blocked,
        );
        Ok(())
    }
}

/// Parses /proc/stat. Only the first number of each interesting line matters (`intr` is
/// followed by one count per IRQ, which is why the line can be kilobytes long); other lines,
/// including ones a future kernel adds, are skipped.
pub fn parse(text: &str) -> Result<Counters, String> {
    let mut c = Counters::default();
    for line in text.lines() {
        let mut fields = line.split_ascii_whitespace();
        let Some(name) = fields.next() else { continue };
        let slot = match name {
            "btime" => &mut c.boot_time,
            "ctxt" => &mut c.context_switches,
            "processes" => &mut c.forks,
            "intr" => &mut c.interrupts,
            "procs_running" => &mut c.procs_running,
            "procs_blocked" => &mut c.procs_blocked,
            _ => continue,
        };
        let value = fields.next().ok_or_else(|| format!("line {name:?} has no value"))?;
        // Integers: u64 parsing is exact where f64 parsing of a 20-digit counter would be too.
        let v: u64 =
            value.parse().map_err(|_| format!("{name} value {value:?} is not an integer"))?;
        *slot = v as f64;
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This host (kernel 6.18, 2 vCPUs), `cat /proc/stat`, intr line shortened.
    const LINUX_6_18: &str = "cpu  68546 0 13217 1119894 1046 0 165 276 0 0
cpu0 32856 0 6202 561936 227 0 60 139 0 0
cpu1 35690 0 7014 557957 819 0 104 136 0 0
intr 706542 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 1 6 0 0 0 0 1205 165 0 110
ctxt 734822
btime 1795413937
processes 23877
procs_running 6
procs_blocked 0
softirq 380092 0 81084 4 7665 58801 0 146 142205 0 90187
";

    /// RHEL 7 (3.10) layout, written from proc(5) (values illustrative): the same lines as
    /// today, but an older kernel may lack `softirq` (added in 2.6.31), which must not matter.
    const LINUX_3_10: &str = "cpu  10132153 290696 3084719 46828483 16683 0 25195 0 0 0
cpu0 1393280 32966 572056 13343292 6130 0 17875 0 0 0
intr 1462898 29 8 0 0 0 0 3 0 1 0 0 0 7 0 0 0
ctxt 4217829
btime 1494341720
processes 74412
procs_running 3
procs_blocked 1
";

    #[test]
    fn parses_real_hosts() {
        let c = parse(LINUX_6_18).unwrap();
        assert_eq!(c.boot_time, 1795413937.0);
        assert_eq!(c.context_switches, 734822.0);
        assert_eq!(c.forks, 23877.0);
        assert_eq!(c.interrupts, 706542.0);
        assert_eq!((c.procs_running, c.procs_blocked), (6.0, 0.0));
        let c = parse(LINUX_3_10).unwrap();
        assert_eq!(c.interrupts, 1462898.0);
        assert_eq!(c.procs_blocked, 1.0);
    }

    #[test]
    fn exports_node_exporter_families() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("stat"), LINUX_6_18).unwrap();
        let s = Stat { path: d.path().join("stat") };
        let mut out = MetricSet::new();
        s.collect(&mut out).unwrap();
        assert_eq!(out.get("node_boot_time_seconds", &[]), Some(1795413937.0));
        assert_eq!(out.get("node_forks_total", &[]), Some(23877.0));
        assert_eq!(out.sample_count(), 6);
    }

    #[test]
    fn rejects_odd_input() {
        assert!(parse("ctxt\n").unwrap_err().contains("\"ctxt\" has no value"));
        assert!(parse("btime x\n").unwrap_err().contains("btime value \"x\""));
        // Unknown and new lines are skipped.
        assert_eq!(parse("future 1 2\nctxt 5\n").unwrap().context_switches, 5.0);
    }
}
