//! The YAML file (`--config.file`): every key optional, unknown keys are errors (with the
//! file, line and column), relative paths relative to the file.

use std::path::PathBuf;

use obwatch_common::config::HumanDuration;
use obwatch_common::logging::{LogFormat, LogLevel};
use serde::Deserialize;

use crate::collector::namedprocess::NameConfig;
use crate::collector::oceanbase::options::RawObSection;

/// The YAML file: every key optional, unknown keys are errors.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileConfig {
    #[serde(default)]
    pub(super) web: WebSection,
    #[serde(default)]
    pub(super) paths: PathsSection,
    pub(super) scrape_timeout: Option<HumanDuration>,
    #[serde(default)]
    pub(super) log: LogSection,
    #[serde(default)]
    pub(super) collectors: CollectorsSection,
    #[serde(default)]
    pub(super) oceanbase: RawObSection,
    #[serde(default)]
    pub(super) clusterware: ClusterwareSection,
    #[serde(default)]
    pub(super) obproxy: ObproxySection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ObproxySection {
    pub(super) metrics_url: Option<String>,
    pub(super) interval: Option<HumanDuration>,
    pub(super) timeout: Option<HumanDuration>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ClusterwareSection {
    pub(super) crs_home: Option<PathBuf>,
    pub(super) interval: Option<HumanDuration>,
    pub(super) timeout: Option<HumanDuration>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WebSection {
    #[serde(default)]
    pub(super) listen_addresses: Vec<String>,
    pub(super) telemetry_path: Option<String>,
    pub(super) config_file: Option<PathBuf>,
    pub(super) max_requests: Option<usize>,
    pub(super) max_connections: Option<usize>,
    pub(super) read_header_timeout: Option<HumanDuration>,
    pub(super) idle_timeout: Option<HumanDuration>,
    #[serde(default)]
    pub(super) disable_exporter_metrics: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PathsSection {
    pub(super) procfs: Option<PathBuf>,
    pub(super) sysfs: Option<PathBuf>,
    pub(super) rootfs: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LogSection {
    pub(super) level: Option<LogLevel>,
    pub(super) format: Option<LogFormat>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct IncludeExclude {
    pub(super) include: Option<String>,
    pub(super) exclude: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CollectorsSection {
    #[serde(default)]
    pub(super) disable_defaults: bool,
    #[serde(default)]
    pub(super) enable: Vec<String>,
    #[serde(default)]
    pub(super) disable: Vec<String>,
    #[serde(default)]
    pub(super) textfile_directories: Vec<PathBuf>,
    #[serde(default)]
    pub(super) filesystem_mount_points: IncludeExclude,
    #[serde(default)]
    pub(super) filesystem_fs_types: IncludeExclude,
    pub(super) filesystem_mount_timeout: Option<HumanDuration>,
    #[serde(default)]
    pub(super) diskstats_devices: IncludeExclude,
    #[serde(default)]
    pub(super) netdev_devices: IncludeExclude,
    pub(super) netclass_ignored_devices: Option<String>,
    pub(super) netstat_fields: Option<String>,
    pub(super) vmstat_fields: Option<String>,
    #[serde(default)]
    pub(super) process_names: Vec<NameConfig>,
    pub(super) process_names_builtin: Option<bool>,
    pub(super) timer_tick: Option<HumanDuration>,
    pub(super) timer_margin: Option<HumanDuration>,
}
