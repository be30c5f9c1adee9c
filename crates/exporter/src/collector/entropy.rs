//! `node_entropy_available_bits`, `node_entropy_pool_size_bits` from
//! `/proc/sys/kernel/random/{entropy_avail,poolsize}` (random(4), proc(5)).
//! Since 5.18 (random.c rewrite) both read a constant 256; the metrics are kept for
//! compatibility with dashboards and older kernels, where a starved pool stalls `getrandom`.

use std::path::PathBuf;

use obwatch_common::metrics::MetricSet;

use super::{BuildContext, BuildError, CollectError, Collector, CollectorSpec, with_file};

/// Registry entry.
pub const SPEC: CollectorSpec = CollectorSpec { name: "entropy", default_enabled: true, build };

fn build(cx: &BuildContext) -> Result<Box<dyn Collector>, BuildError> {
    Ok(Box::new(Entropy {
        avail: cx.root.proc("sys/kernel/random/entropy_avail"),
        poolsize: cx.root.proc("sys/kernel/random/poolsize"),
    }))
}

/// Reads the kernel entropy pool's fill level and size.
#[derive(Debug)]
pub struct Entropy {
    avail: PathBuf,
    poolsize: PathBuf,
}

impl Collector for Entropy {
    fn collect(&self, out: &mut MetricSet) -> Result<(), CollectError> {
        let avail = with_file(&self.avail, parse)?;
        out.gauge("node_entropy_available_bits", "Bits of available entropy.", avail);
        let size = with_file(&self.poolsize, parse)?;
        out.gauge("node_entropy_pool_size_bits", "Bits of entropy pool.", size);
        Ok(())
    }
}

/// Parses a file holding one integer (bits) and a newline.
pub fn parse(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let v: u64 = t.parse().map_err(|_| format!("{t:?} is not an integer"))?;
    Ok(v as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_real_hosts() {
        // This host (6.18): entropy_avail and poolsize both "256\n".
        assert_eq!(parse("256\n").unwrap(), 256.0);
        // RHEL 7 (3.10): poolsize 4096, entropy_avail varies (here a fairly idle VM).
        assert_eq!(parse("4096\n").unwrap(), 4096.0);
        assert_eq!(parse("183\n").unwrap(), 183.0);
    }

    #[test]
    fn rejects_odd_input() {
        assert!(parse("").unwrap_err().contains("\"\" is not an integer"));
        assert!(parse("12 bits\n").is_err());
    }

    #[test]
    fn collects_both_files() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("a"), "183\n").unwrap();
        std::fs::write(d.path().join("p"), "4096\n").unwrap();
        let e = Entropy { avail: d.path().join("a"), poolsize: d.path().join("p") };
        let mut out = MetricSet::new();
        e.collect(&mut out).unwrap();
        assert_eq!(out.get("node_entropy_available_bits", &[]), Some(183.0));
        assert_eq!(out.get("node_entropy_pool_size_bits", &[]), Some(4096.0));
        let gone = Entropy { avail: d.path().join("nope"), poolsize: d.path().join("p") };
        assert!(matches!(gone.collect(&mut out), Err(CollectError::NoData(_))));
    }
}
