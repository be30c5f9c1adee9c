//! `node_filefd_allocated`, `node_filefd_maximum` from `/proc/sys/fs/file-nr` (proc(5),
//! Documentation/admin-guide/sysctl/fs.rst "file-max & file-nr").

use std::path::PathBuf;

use obwatch_common::metrics::MetricSet;

use super::{BuildContext, BuildError, CollectError, Collector, CollectorSpec, with_file};

/// Registry entry.
pub const SPEC: CollectorSpec = CollectorSpec { name: "filefd", default_enabled: true, build };

fn build(cx: &BuildContext) -> Result<Box<dyn Collector>, BuildError> {
    Ok(Box::new(Filefd { path: cx.root.proc("sys/fs/file-nr") }))
}

/// Reads the system-wide file handle counts.
#[derive(Debug)]
pub struct Filefd {
    path: PathBuf,
}

impl Collector for Filefd {
    fn collect(&self, out: &mut MetricSet) -> Result<(), CollectError> {
        let [allocated, maximum] = with_file(&self.path, parse)?;
        out.gauge("node_filefd_allocated", "File descriptor statistics: allocated.", allocated);
        out.gauge("node_filefd_maximum", "File descriptor statistics: maximum.", maximum);
        Ok(())
    }
}

/// Parses `437\t0\t2466174`: allocated handles, free allocated handles, maximum. The middle
/// one is always 0 since 2.6 (handles are freed at once), so node_exporter skips it.
pub fn parse(text: &str) -> Result<[f64; 2], String> {
    let mut fields = text.split_ascii_whitespace();
    let mut next = |what: &str| -> Result<f64, String> {
        let f = fields.next().ok_or_else(|| format!("missing the {what} count"))?;
        let v: u64 = f.parse().map_err(|_| format!("{what} count {f:?} is not an integer"))?;
        Ok(v as f64)
    };
    let allocated = next("allocated")?;
    next("free")?;
    Ok([allocated, next("maximum")?])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_real_hosts() {
        // This host (6.18, 24 GiB): tab separated.
        assert_eq!(parse("437\t0\t2466174\n").unwrap(), [437.0, 2466174.0]);
        // RHEL 7 (3.10), a busy OceanBase host with fs.file-max raised.
        assert_eq!(parse("38944\t0\t6553600\n").unwrap(), [38944.0, 6553600.0]);
        // 64-bit file-max (sysctl fs.file-max = LONG_MAX on 5.x+ systemd hosts).
        assert_eq!(parse("1\t0\t9223372036854775807\n").unwrap()[1], 9223372036854775807.0);
    }

    #[test]
    fn rejects_odd_input() {
        assert!(parse("437\t0\n").unwrap_err().contains("missing the maximum"));
        assert!(parse("x 0 1").unwrap_err().contains("allocated count \"x\""));
    }
}
