//! The clusterware collector's settings: the `clusterware:` YAML section and
//! `--collector.clusterware.crs-home`, validated into [`Options`].

use std::path::PathBuf;
use std::time::Duration;

use obwatch_common::config::{ConfigError, HumanDuration, Polling};
use serde::Deserialize;

use crate::collector::option_parts::Origin;

/// Validated settings of the clusterware collector.
#[derive(Clone, Debug)]
pub struct Options {
    /// The Grid/CRS home; found from olr.loc/ocr.loc when `None`.
    pub crs_home: Option<PathBuf>,
    /// How often the tools run.
    pub interval: Duration,
    /// How long one tool may run before it is killed.
    pub timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            crs_home: None,
            interval: Duration::from_secs(30),
            timeout: Duration::from_secs(10),
        }
    }
}

/// Its flag.
#[derive(Debug, Default, clap::Args)]
#[group(skip)]
pub(crate) struct Flags {
    /// Oracle Clusterware (Grid) home; found from /etc/oracle/olr.loc when not given.
    #[arg(long = "collector.clusterware.crs-home", value_name = "DIR")]
    pub(crate) crs_home: Option<PathBuf>,
}

/// The `clusterware:` section of the YAML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Section {
    crs_home: Option<PathBuf>,
    interval: Option<HumanDuration>,
    timeout: Option<HumanDuration>,
}

/// The flag over the section's `crs_home` (relative to the file), and the section's polling
/// settings.
pub(crate) fn compile(flags: Flags, raw: Section, at: &Origin) -> Result<Options, ConfigError> {
    let defaults = Options::default();
    let polling = Polling::from_yaml(
        at.file,
        ("clusterware", "timeout"),
        (raw.interval, raw.timeout),
        Polling { interval: defaults.interval, timeout: defaults.timeout },
    )?;
    Ok(Options {
        crs_home: flags.crs_home.or_else(|| raw.crs_home.map(|p| at.base.join(p))),
        interval: polling.interval,
        timeout: polling.timeout,
    })
}
