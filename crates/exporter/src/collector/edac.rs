//! `node_edac_*`: memory-controller error counters from sysfs `devices/system/edac/mc/mc*/`
//! and their `csrow*/` subdirectories (Documentation/ABI/testing/sysfs-devices-edac,
//! Documentation/driver-api/edac.rst).

use std::path::{Path, PathBuf};

use obwatch_common::metrics::{MetricSet, MetricType};

use super::{BuildContext, BuildError, CollectError, Collector, CollectorSpec, with_file};

/// Registry entry.
pub const SPEC: CollectorSpec = CollectorSpec { name: "edac", default_enabled: true, build };

fn build(cx: &BuildContext) -> Result<Box<dyn Collector>, BuildError> {
    Ok(Box::new(Edac { mc_dir: cx.root.sys("devices/system/edac/mc") }))
}

/// Reads every memory controller's counters.
#[derive(Debug)]
pub struct Edac {
    mc_dir: PathBuf,
}

/// One controller's counters.
#[derive(Debug, Default, PartialEq)]
struct Controller {
    number: String,
    ce: u64,
    ce_noinfo: u64,
    ue: u64,
    ue_noinfo: u64,
    /// `(csrow number, ce_count, ue_count)`.
    csrows: Vec<(String, u64, u64)>,
}

impl Collector for Edac {
    fn collect(&self, out: &mut MetricSet) -> Result<(), CollectError> {
        let mut controllers = Vec::new();
        for (number, dir) in numbered_entries(&self.mc_dir, "mc")? {
            let mut c = Controller {
                ce: read_u64(&dir.join("ce_count"))?,
                ce_noinfo: read_u64(&dir.join("ce_noinfo_count"))?,
                ue: read_u64(&dir.join("ue_count"))?,
                ue_noinfo: read_u64(&dir.join("ue_noinfo_count"))?,
                number,
                csrows: Vec::new(),
            };
            // Newer drivers expose dimm*/ instead of csrow*/ (sysfs-devices-edac); like
            // node_exporter, only csrows are reported per row.
            for (row, rdir) in numbered_entries(&dir, "csrow")? {
                c.csrows.push((
                    row,
                    read_u64(&rdir.join("ce_count"))?,
                    read_u64(&rdir.join("ue_count"))?,
                ));
            }
            controllers.push(c);
        }
        emit(&controllers, out);
        Ok(())
    }
}

fn emit(controllers: &[Controller], out: &mut MetricSet) {
    let f = out.family(
        "node_edac_correctable_errors_total",
        "Total correctable memory errors.",
        MetricType::Counter,
    );
    for c in controllers {
        f.sample(&[("controller", &c.number)], c.ce as f64);
    }
    let f = out.family(
        "node_edac_uncorrectable_errors_total",
        "Total uncorrectable memory errors.",
        MetricType::Counter,
    );
    for c in controllers {
        f.sample(&[("controller", &c.number)], c.ue as f64);
    }
    // Errors the driver could not attribute to a row are reported as csrow="unknown".
    let f = out.family(
        "node_edac_csrow_correctable_errors_total",
        "Total correctable memory errors for this csrow.",
        MetricType::Counter,
    );
    for c in controllers {
        f.sample(&[("controller", &c.number), ("csrow", "unknown")], c.ce_noinfo as f64);
        for (row, ce, _) in &c.csrows {
            f.sample(&[("controller", &c.number), ("csrow", row)], *ce as f64);
        }
    }
    let f = out.family(
        "node_edac_csrow_uncorrectable_errors_total",
        "Total uncorrectable memory errors for this csrow.",
        MetricType::Counter,
    );
    for c in controllers {
        f.sample(&[("controller", &c.number), ("csrow", "unknown")], c.ue_noinfo as f64);
        for (row, _, ue) in &c.csrows {
            f.sample(&[("controller", &c.number), ("csrow", row)], *ue as f64);
        }
    }
}

/// The `<prefix><N>` entries of `dir` as `(N, path)`, sorted by N. A missing `dir` (no EDAC
/// driver loaded, as on VMs) has none: node_exporter globs `mc[0-9]*` and reports success with
/// no samples, and users alert on node_scrape_collector_success == 0.
fn numbered_entries(dir: &Path, prefix: &str) -> Result<Vec<(String, PathBuf)>, CollectError> {
    let entries = match std::fs::read_dir(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        other => other.map_err(|e| CollectError::io(dir, e))?,
    };
    let mut v: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let n = parse_number(&name, prefix)?.to_string();
            Some((n, e.path()))
        })
        .collect();
    v.sort_by_key(|(n, _)| n.parse::<u64>().unwrap_or(u64::MAX));
    Ok(v)
}

/// `mc12` with prefix `mc` -> `12`.
pub fn parse_number<'a>(name: &'a str, prefix: &str) -> Option<&'a str> {
    name.strip_prefix(prefix).filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Parses a counter attribute such as `ce_count` (`"3\n"`).
pub fn parse_count(text: &str) -> Result<u64, String> {
    let t = text.trim();
    t.parse().map_err(|_| format!("counter {t:?} is not an integer"))
}

fn read_u64(path: &Path) -> Result<u64, CollectError> {
    with_file(path, parse_count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_counts() {
        assert_eq!(parse_number("mc0", "mc"), Some("0"));
        assert_eq!(parse_number("csrow12", "csrow"), Some("12"));
        assert_eq!(parse_number("mc", "mc"), None);
        assert_eq!(parse_number("power", "mc"), None);
        assert_eq!(parse_count("3\n"), Ok(3));
        assert!(parse_count("x\n").unwrap_err().contains("\"x\""));
    }

    #[test]
    fn collects_fixture_tree() {
        // tests/fixtures/edac.tree: an skx_edac (Skylake-SP) layout per sysfs-devices-edac,
        // mc0 with csrow dirs, mc1 with only the newer dimm* dirs.
        let dir = tempfile::tempdir().unwrap();
        crate::fixture::build(dir.path(), include_str!("../../tests/fixtures/edac.tree")).unwrap();
        let mut out = MetricSet::new();
        Edac { mc_dir: dir.path().join("sys/devices/system/edac/mc") }.collect(&mut out).unwrap();
        let c = |n| [("controller", n)];
        assert_eq!(out.get("node_edac_correctable_errors_total", &c("0")), Some(3.0));
        assert_eq!(out.get("node_edac_uncorrectable_errors_total", &c("1")), Some(1.0));
        let r = |n, r| [("controller", n), ("csrow", r)];
        let ce = "node_edac_csrow_correctable_errors_total";
        assert_eq!(out.get(ce, &r("0", "0")), Some(2.0));
        assert_eq!(out.get(ce, &r("0", "1")), Some(0.0));
        assert_eq!(out.get(ce, &r("0", "unknown")), Some(1.0));
        assert_eq!(
            out.get("node_edac_csrow_uncorrectable_errors_total", &r("1", "unknown")),
            Some(1.0)
        );
        assert_eq!(out.sample_count(), 12);
    }

    #[test]
    fn no_edac_is_success_without_samples_and_bad_counter_is_parse_error() {
        let mut set = MetricSet::new();
        Edac { mc_dir: "/nonexistent/mc".into() }.collect(&mut set).unwrap();
        assert_eq!(set.sample_count(), 0);
        let dir = tempfile::tempdir().unwrap();
        crate::fixture::build(dir.path(), "=== mc0/ce_count\nbogus\n").unwrap();
        let err = Edac { mc_dir: dir.path().into() }.collect(&mut MetricSet::new()).unwrap_err();
        assert!(matches!(err, CollectError::Parse { .. }), "{err}");
    }
}
