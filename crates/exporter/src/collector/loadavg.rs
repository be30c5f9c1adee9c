//! `node_load1`, `node_load5`, `node_load15` from `/proc/loadavg` (proc(5)).

use std::path::PathBuf;

use obwatch_common::metrics::MetricSet;

use super::{BuildContext, BuildError, CollectError, Collector, CollectorSpec, with_file};

/// Registry entry.
pub const SPEC: CollectorSpec = CollectorSpec { name: "loadavg", default_enabled: true, build };

fn build(cx: &BuildContext) -> Result<Box<dyn Collector>, BuildError> {
    Ok(Box::new(Loadavg { path: cx.root.proc("loadavg") }))
}

/// Reads the 1, 5 and 15 minute load averages.
#[derive(Debug)]
pub struct Loadavg {
    path: PathBuf,
}

impl Collector for Loadavg {
    fn collect(&self, out: &mut MetricSet) -> Result<(), CollectError> {
        let [l1, l5, l15] = with_file(&self.path, parse)?;
        out.gauge("node_load1", "1m load average.", l1);
        out.gauge("node_load5", "5m load average.", l5);
        out.gauge("node_load15", "15m load average.", l15);
        Ok(())
    }
}

/// Parses `0.52 0.58 0.59 1/493 12345`: the first three fields are the averages.
pub fn parse(text: &str) -> Result<[f64; 3], String> {
    let mut fields = text.split_ascii_whitespace();
    let mut next = |what: &str| -> Result<f64, String> {
        let f = fields.next().ok_or_else(|| format!("missing the {what} load average"))?;
        f.parse().map_err(|_| format!("{what} load average {f:?} is not a number"))
    };
    Ok([next("1m")?, next("5m")?, next("15m")?])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_real_hosts() {
        // Debian 12, 6.1 kernel; RHEL 7, 3.10 kernel (same format since 2.6).
        assert_eq!(parse("0.06 0.11 0.09 1/212 48123\n").unwrap(), [0.06, 0.11, 0.09]);
        assert_eq!(parse("12.40 10.02 9.87 14/2210 99871\n").unwrap(), [12.4, 10.02, 9.87]);
    }

    #[test]
    fn rejects_odd_input() {
        assert!(parse("").unwrap_err().contains("missing the 1m"));
        assert!(parse("0.1 x 0.3").unwrap_err().contains("5m load average \"x\""));
    }
}
