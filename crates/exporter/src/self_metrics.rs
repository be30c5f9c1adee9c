//! The exporter's own `process_*` metrics (client_golang's process collector names, so the
//! usual "exporter resource use" dashboards work) and `obwatch_build_info`. Always read from
//! the real `/proc/self`, not `--path.procfs`: they describe this process, not the host.

use obwatch_common::metrics::{MetricSet, MetricType};

/// Appends `node_exporter_build_info`, which node-mixin's USE dashboards (node_exporter
/// v1.8.2, `docs/node-mixin/dashboards/use.libsonnet`) query with `label_values()` to list the
/// instances. Served under node_exporter's name so those dashboards find obwatch hosts, but
/// honestly: the labels are this build's (obwatch's version, revision, rustc, target) plus
/// `implementation="obwatch-exporter"`, not a node_exporter or Go version that is not there.
/// Like node_exporter, every scrape carries it, `--web.disable-exporter-metrics` or not.
pub fn node_exporter_build_info(out: &mut MetricSet) {
    let mut labels = obwatch_common::build::labels().to_vec();
    labels.push(("implementation", "obwatch-exporter"));
    out.family(
        "node_exporter_build_info",
        "A metric with a constant '1' value labeled by version, revision, branch, rustc_version \
         and target from which obwatch-exporter was built; node_exporter's name, for the \
         dashboards that list instances by it.",
        MetricType::Gauge,
    )
    .sample(&labels, 1.0);
}

/// Appends `obwatch_build_info` and the `process_*` families. Failures to read /proc/self
/// (not expected) leave the affected families out.
pub fn collect(out: &mut MetricSet, boot_time_seconds: Option<f64>) {
    out.family(
        "obwatch_build_info",
        "A metric with a constant '1' value labeled by version, revision, branch, rustc_version \
         and target from which obwatch-exporter was built.",
        MetricType::Gauge,
    )
    .sample(&obwatch_common::build::labels(), 1.0);

    if let Ok(stat) = std::fs::read_to_string("/proc/self/stat")
        && let Some(s) = parse_stat(&stat)
    {
        let ticks = rustix::param::clock_ticks_per_second() as f64;
        out.counter(
            "process_cpu_seconds_total",
            "Total user and system CPU time spent in seconds.",
            (s.utime + s.stime) as f64 / ticks,
        );
        out.gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", s.vsize as f64);
        out.gauge(
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
            (s.rss_pages * rustix::param::page_size() as u64) as f64,
        );
        out.gauge("process_threads", "Number of OS threads in the process.", s.threads as f64);
        if let Some(boot) = boot_time_seconds {
            out.gauge(
                "process_start_time_seconds",
                "Start time of the process since unix epoch in seconds.",
                boot + s.starttime as f64 / ticks,
            );
        }
    }
    if let Ok(dir) = std::fs::read_dir("/proc/self/fd") {
        out.gauge("process_open_fds", "Number of open file descriptors.", dir.count() as f64);
    }
    if let Ok(limits) = std::fs::read_to_string("/proc/self/limits")
        && let Some(max) = parse_max_fds(&limits)
    {
        out.gauge("process_max_fds", "Maximum number of open file descriptors.", max);
    }
}

/// The fields of /proc/self/stat used here (proc(5)).
#[derive(Debug, PartialEq)]
pub struct Stat {
    utime: u64,
    stime: u64,
    threads: u64,
    starttime: u64,
    vsize: u64,
    rss_pages: u64,
}

/// Parses /proc/PID/stat. The command name (field 2) may hold spaces and parentheses, so
/// fields are counted from the last `)`.
pub fn parse_stat(text: &str) -> Option<Stat> {
    let rest = &text[text.rfind(')')? + 1..];
    // After ')': field 3 (state) is index 0 here.
    let f: Vec<&str> = rest.split_ascii_whitespace().collect();
    let n = |field: usize| f.get(field - 3)?.parse::<u64>().ok();
    Some(Stat {
        utime: n(14)?,
        stime: n(15)?,
        threads: n(20)?,
        starttime: n(22)?,
        vsize: n(23)?,
        rss_pages: n(24)?,
    })
}

/// The soft limit of "Max open files" in /proc/PID/limits.
pub fn parse_max_fds(text: &str) -> Option<f64> {
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line["Max open files".len()..].split_ascii_whitespace().next()?;
    if soft == "unlimited" { Some(f64::INFINITY) } else { soft.parse().ok() }
}

/// `btime` from /proc/stat, needed to turn a process start time in ticks since boot into a
/// Unix time.
pub fn boot_time_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    stat.lines().find_map(|l| l.strip_prefix("btime ")).and_then(|v| v.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_odd_comm() {
        // Captured from a Debian 12 host, comm changed to contain ") (" to test the parsing.
        let text = "4242 (obwatch) (x) S 1 4242 4242 0 -1 4194560 1260 0 0 0 17 9 0 0 20 0 3 0 \
                    108812 24313856 1488 18446744073709551615 1 1 0 0 0 0 0 4096 1260 0 0 0 17 1 0 0 0 0 0\n";
        let s = parse_stat(text).unwrap();
        assert_eq!((s.utime, s.stime, s.threads), (17, 9, 3));
        assert_eq!((s.starttime, s.vsize, s.rss_pages), (108812, 24313856, 1488));
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn parses_limits() {
        let text = "Limit                     Soft Limit           Hard Limit           Units     \n\
                    Max processes             95952                95952                processes \n\
                    Max open files            1024                 524288               files     \n";
        assert_eq!(parse_max_fds(text), Some(1024.0));
    }

    #[test]
    fn collects_own_process() {
        let mut set = MetricSet::new();
        collect(&mut set, boot_time_seconds());
        assert!(set.get("process_resident_memory_bytes", &[]).unwrap() > 0.0);
        assert!(set.get("process_open_fds", &[]).unwrap() >= 3.0);
        assert!(set.get("process_start_time_seconds", &[]).unwrap() > 1.6e9);
        assert!(set.find("obwatch_build_info").is_some());
    }
}
