//! The collector contract (`Collector`, `CollectorSpec`, `CollectError`) and `ALL`, the sorted
//! list of every host collector. One file per collector: `SPEC`, a struct, `collect` (I/O) and
//! a pure `parse` tested on text captured from real hosts.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use obwatch_common::fs::Root;
use obwatch_common::metrics::MetricSet;

use crate::collector::options::CollectorOptions;

pub mod background;
pub mod bonding;
pub mod clusterware;
pub mod conntrack;
pub mod cpu;
pub mod cpufreq;
pub mod diskstats;
pub mod edac;
pub mod entropy;
pub mod filefd;
pub mod filesystem;
pub mod hwmon;
pub mod loadavg;
pub mod mdadm;
pub mod meminfo;
pub mod namedprocess;
mod names;
pub mod netclass;
pub mod netdev;
pub mod netstat;
pub mod nvme;
pub mod obproxy;
pub mod oceanbase;
pub mod open_files;
pub mod option_parts;
pub mod options;
pub mod pressure;
pub mod schedstat;
pub mod sockstat;
pub mod stat;
pub mod textfile;
pub mod thermal_zone;
pub mod time;
pub mod timer;
pub mod timex;
pub mod uname;
pub mod vmstat;

/// A source of host metrics, e.g. `/proc/loadavg`.
pub trait Collector: Send + Sync + 'static {
    /// Reads the host and appends samples to `out`. Runs on a blocking thread, at most once
    /// at a time, under the registry's deadline. Samples added before an error are kept.
    fn collect(&self, out: &mut MetricSet) -> Result<(), CollectError>;
}

/// What the registry needs to know to offer a collector: flags, default, constructor.
#[derive(Debug)]
pub struct CollectorSpec {
    /// `--collector.<name>`, `collect[]=<name>`, label `collector="<name>"`.
    pub name: &'static str,
    /// On unless `--no-collector.<name>`; matches node_exporter 1.x.
    pub default_enabled: bool,
    /// Builds the collector once at start-up (compiling regexes, resolving paths).
    pub build: fn(&BuildContext) -> Result<Box<dyn Collector>, BuildError>,
}

/// What a collector may look at when it is built.
#[derive(Debug)]
pub struct BuildContext<'a> {
    /// Where procfs, sysfs and the host root are.
    pub root: &'a Root,
    /// Per-collector options from flags and YAML.
    pub options: &'a CollectorOptions,
}

/// Why a collector could not be built; the exporter exits with code 2.
#[derive(Debug, thiserror::Error)]
#[error("collector {collector}: {reason}")]
pub struct BuildError {
    /// The collector's name.
    pub collector: &'static str,
    /// What is wrong with its options.
    pub reason: String,
}

/// Why a collection failed: the registry reports `node_scrape_collector_success 0` and logs
/// (rate-limited). Collectors neither log nor swallow failures.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// The host has nothing to report (module not loaded, feature absent); logged at debug,
    /// like node_exporter's `ErrNoData`.
    #[error("no data: {0}")]
    NoData(String),
    /// A file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A file had an unexpected format.
    #[error("{}: {reason}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// What was unexpected.
        reason: String,
    },
}

impl CollectError {
    /// An I/O error on `path`; a missing file becomes `NoData` (the feature is absent).
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        if source.kind() == std::io::ErrorKind::NotFound {
            CollectError::NoData(format!("{} does not exist", path.display()))
        } else {
            CollectError::Io { path: path.to_path_buf(), source }
        }
    }

    /// A format error in `path`.
    pub fn parse(path: &Path, reason: impl Into<String>) -> Self {
        CollectError::Parse { path: path.to_path_buf(), reason: reason.into() }
    }
}

thread_local! {
    /// One read buffer per collector thread, reused across scrapes: reading /proc files
    /// allocates nothing in steady state.
    static BUF: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(64 * 1024));
}

/// Reads `path` (through [`open_files`], so procfs/sysfs files are not re-opened every
/// scrape) into a reused buffer and hands the text to `f`; bytes that are not UTF-8 are
/// replaced, not an error. A parse error returned by `f` as `Err(reason)` is reported against
/// `path`.
pub fn with_file<T>(
    path: &Path,
    f: impl FnOnce(&str) -> Result<T, String>,
) -> Result<T, CollectError> {
    BUF.with(|cell| {
        let (mut guard, mut own);
        // A nested call (a collector reading a second file inside the closure) gets its own
        // buffer instead of a RefCell panic.
        let buf: &mut Vec<u8> = match cell.try_borrow_mut() {
            Ok(g) => {
                guard = g;
                &mut guard
            }
            Err(_) => {
                own = Vec::new();
                &mut own
            }
        };
        open_files::read(path, buf).map_err(|e| CollectError::io(path, e))?;
        f(&String::from_utf8_lossy(buf)).map_err(|r| CollectError::parse(path, r))
    })
}

/// Every host collector, sorted by name (a test checks). Add a collector as one file plus one
/// line here.
pub const ALL: &[CollectorSpec] = &[
    bonding::SPEC,
    clusterware::SPEC,
    conntrack::SPEC,
    cpu::SPEC,
    cpufreq::SPEC,
    diskstats::SPEC,
    edac::SPEC,
    entropy::SPEC,
    filefd::SPEC,
    filesystem::SPEC,
    hwmon::SPEC,
    loadavg::SPEC,
    mdadm::SPEC,
    meminfo::SPEC,
    namedprocess::SPEC,
    netclass::SPEC,
    netdev::SPEC,
    netstat::SPEC,
    nvme::SPEC,
    obproxy::SPEC,
    oceanbase::SPEC,
    pressure::SPEC,
    schedstat::SPEC,
    sockstat::SPEC,
    stat::SPEC,
    textfile::SPEC,
    thermal_zone::SPEC,
    time::SPEC,
    timer::SPEC,
    timex::SPEC,
    uname::SPEC,
    vmstat::SPEC,
];

/// The spec with this name.
pub fn spec(name: &str) -> Option<&'static CollectorSpec> {
    ALL.iter().find(|s| s.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_is_sorted_unique_snake_case() {
        for w in ALL.windows(2) {
            assert!(w[0].name < w[1].name, "{} must sort before {}", w[0].name, w[1].name);
        }
        for s in ALL {
            assert!(
                s.name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit())
            );
        }
    }

    #[test]
    fn every_collector_builds_with_defaults() {
        let root = Root::default();
        let options = CollectorOptions::default();
        for s in ALL {
            let built = (s.build)(&BuildContext { root: &root, options: &options });
            if s.name == "oceanbase" || s.name == "obproxy" {
                // Off by default: they need an address, and say so.
                let e = built.err().map(|e| e.to_string()).unwrap_or_default();
                assert!(e.contains("--ob.address") || e.contains("--obproxy.metrics-url"), "{e}");
            } else {
                built.unwrap_or_else(|e| panic!("{e}"));
            }
        }
    }
}
