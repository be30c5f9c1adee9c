//! `node_pressure_*_seconds_total` from `/proc/pressure/{cpu,io,memory,irq}`, pressure stall
//! information (Documentation/accounting/psi.rst). Needs 4.20+ with CONFIG_PSI (RHEL 7's
//! 3.10 has no /proc/pressure: that is `NoData`, not an error); `irq` needs 6.1+ with
//! CONFIG_IRQ_TIME_ACCOUNTING.

use std::path::PathBuf;

use obwatch_common::metrics::{MetricSet, MetricType};

use super::{BuildContext, BuildError, CollectError, Collector, CollectorSpec, with_file};

/// Registry entry.
pub const SPEC: CollectorSpec = CollectorSpec { name: "pressure", default_enabled: true, build };

/// Per resource: file name, then the `some` and `full` families (name, help) node_exporter
/// exports. cpu `full` (5.13+) is not exported by node_exporter; irq has only `full`.
type Resource =
    (&'static str, Option<(&'static str, &'static str)>, Option<(&'static str, &'static str)>);

const RESOURCES: [Resource; 4] = [
    (
        "cpu",
        Some((
            "node_pressure_cpu_waiting_seconds_total",
            "Total time in seconds that processes have waited for CPU time",
        )),
        None,
    ),
    (
        "io",
        Some((
            "node_pressure_io_waiting_seconds_total",
            "Total time in seconds that processes have waited due to IO congestion",
        )),
        Some((
            "node_pressure_io_stalled_seconds_total",
            "Total time in seconds no process could make progress due to IO congestion",
        )),
    ),
    (
        "memory",
        Some((
            "node_pressure_memory_waiting_seconds_total",
            "Total time in seconds that processes have waited for memory",
        )),
        Some((
            "node_pressure_memory_stalled_seconds_total",
            "Total time in seconds no process could make progress due to memory congestion",
        )),
    ),
    (
        "irq",
        None,
        Some((
            "node_pressure_irq_stalled_seconds_total",
            "Total time in seconds no process could make progress due to IRQ congestion",
        )),
    ),
];

fn build(cx: &BuildContext) -> Result<Box<dyn Collector>, BuildError> {
    let paths = RESOURCES.map(|(file, _, _)| cx.root.proc("pressure").join(file));
    Ok(Box::new(Pressure { paths }))
}

/// Reads the cumulative stall times of each PSI resource.
#[derive(Debug)]
pub struct Pressure {
    paths: [PathBuf; 4],
}

impl Collector for Pressure {
    fn collect(&self, out: &mut MetricSet) -> Result<(), CollectError> {
        let mut found = 0;
        for ((_, some_desc, full_desc), path) in RESOURCES.iter().zip(&self.paths) {
            let psi = match with_file(path, parse) {
                Ok(psi) => psi,
                // A resource this kernel does not have (irq before 6.1, or no PSI at all).
                Err(CollectError::NoData(_)) => continue,
                // Built with CONFIG_PSI but booted with psi=0: reads fail with EOPNOTSUPP.
                Err(CollectError::Io { source, .. })
                    if source.raw_os_error()
                        == Some(rustix::io::Errno::OPNOTSUPP.raw_os_error()) =>
                {
                    return Err(CollectError::NoData(
                        "PSI is disabled (psi=0 on the kernel command line)".into(),
                    ));
                }
                Err(e) => return Err(e),
            };
            for (desc, value, line) in
                [(some_desc, psi.some, "some"), (full_desc, psi.full, "full")]
            {
                let Some((name, help)) = desc else { continue };
                let v =
                    value.ok_or_else(|| CollectError::parse(path, format!("no {line:?} line")))?;
                out.family(*name, *help, MetricType::Counter).sample(&[], v);
            }
            found += 1;
        }
        if found == 0 {
            return Err(CollectError::NoData(
                "no /proc/pressure (needs Linux 4.20+ with CONFIG_PSI)".into(),
            ));
        }
        Ok(())
    }
}

/// The `total=` of a resource's `some` and `full` lines, in seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Psi {
    /// Time at least one task was stalled on the resource.
    pub some: Option<f64>,
    /// Time all non-idle tasks were stalled at once.
    pub full: Option<f64>,
}

/// Parses `some avg10=0.00 avg60=0.00 avg300=0.00 total=123` lines (`full` likewise).
/// `total` is in microseconds; other and unknown keys are skipped.
pub fn parse(text: &str) -> Result<Psi, String> {
    let mut psi = Psi::default();
    for line in text.lines() {
        let mut fields = line.split_ascii_whitespace();
        let slot = match fields.next() {
            Some("some") => &mut psi.some,
            Some("full") => &mut psi.full,
            _ => continue,
        };
        let total = fields
            .find_map(|f| f.strip_prefix("total="))
            .ok_or_else(|| format!("line {line:?} has no total="))?;
        let us: u64 = total.parse().map_err(|_| format!("total={total:?} is not an integer"))?;
        // Same arithmetic as node_exporter, so the floats compare equal.
        *slot = Some(us as f64 / 1000.0 / 1000.0);
    }
    Ok(psi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_real_hosts() {
        // This host (6.18): /proc/pressure/io.
        let io = "some avg10=0.06 avg60=0.13 avg300=0.27 total=8667535\n\
                  full avg10=0.05 avg60=0.08 avg300=0.21 total=7530607\n";
        // µs / 1000 / 1000 as node_exporter computes it, not the nearest double to 8.667535.
        assert_eq!(parse(io).unwrap(), Psi { some: Some(8.667534999999999), full: Some(7.530607) });
        // 4.20-5.12 (psi.rst): /proc/pressure/cpu has no full line.
        let cpu = "some avg10=0.00 avg60=0.00 avg300=0.00 total=38392404\n";
        assert_eq!(parse(cpu).unwrap(), Psi { some: Some(38.392404), full: None });
        // Matches node_exporter 1.5's printed value bit for bit.
        assert_eq!(parse("full total=7472712").unwrap().full, Some(7.4727120000000005));
    }

    #[test]
    fn rejects_odd_input() {
        assert!(parse("some avg10=0.00\n").unwrap_err().contains("has no total="));
        assert!(parse("some total=x\n").unwrap_err().contains("total=\"x\""));
    }

    #[test]
    fn missing_pressure_dir_is_no_data() {
        // RHEL 7 / 3.10: /proc/pressure does not exist.
        let d = tempfile::tempdir().unwrap();
        let root = obwatch_common::fs::Root { procfs: d.path().into(), ..Default::default() };
        let options = crate::collector::options::CollectorOptions::default();
        let c = build(&BuildContext { root: &root, options: &options }).unwrap();
        assert!(matches!(c.collect(&mut MetricSet::new()), Err(CollectError::NoData(_))));
    }

    #[test]
    fn collects_present_resources() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("pressure");
        std::fs::create_dir(&p).unwrap();
        std::fs::write(p.join("cpu"), "some avg10=1 avg60=1 avg300=1 total=2500000\n").unwrap();
        std::fs::write(p.join("irq"), "full avg10=0.00 avg60=0.00 avg300=0.00 total=125\n")
            .unwrap();
        std::fs::write(p.join("io"), "some total=1\n").unwrap();
        let root = obwatch_common::fs::Root { procfs: d.path().into(), ..Default::default() };
        let options = crate::collector::options::CollectorOptions::default();
        let c = build(&BuildContext { root: &root, options: &options }).unwrap();
        let mut out = MetricSet::new();
        // io without its full line is malformed; cpu before it was still collected.
        assert!(matches!(c.collect(&mut out), Err(CollectError::Parse { .. })));
        assert_eq!(out.get("node_pressure_cpu_waiting_seconds_total", &[]), Some(2.5));
        std::fs::write(p.join("io"), "some total=1\nfull total=2\n").unwrap();
        let mut out = MetricSet::new();
        c.collect(&mut out).unwrap();
        assert_eq!(out.get("node_pressure_irq_stalled_seconds_total", &[]), Some(0.000125));
        assert_eq!(out.get("node_pressure_io_stalled_seconds_total", &[]), Some(0.000002));
        assert_eq!(out.sample_count(), 4);
    }
}
