//! The filesystem collector's options: node_exporter's mount-point and filesystem-type
//! filters (`--collector.filesystem.{mount-points,fs-types}-{include,exclude}`, YAML
//! `collectors.filesystem_{mount_points,fs_types}`) and the stuck-mount timeout.

use std::time::Duration;

use obwatch_common::config::{ConfigError, HumanDuration};

use crate::collector::option_parts::{Filter, IncludeExclude, Origin, yaml_keys};

/// node_exporter 1.x `--collector.filesystem.mount-points-exclude` default.
pub const MOUNT_POINTS_EXCLUDE: &str =
    "^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)";
/// node_exporter 1.x `--collector.filesystem.fs-types-exclude` default.
pub const FS_TYPES_EXCLUDE: &str = "^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|erofs|sysfs|tracefs)$";

/// The filesystem collector's options.
#[derive(Clone, Debug)]
pub struct Options {
    /// Which mount points to report.
    pub mount_points: Filter,
    /// Which filesystem types to report.
    pub fs_types: Filter,
    /// How long one statfs may take before its mount is marked stuck.
    pub mount_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            mount_points: Filter::exclude(MOUNT_POINTS_EXCLUDE),
            fs_types: Filter::exclude(FS_TYPES_EXCLUDE),
            mount_timeout: Duration::from_secs(5),
        }
    }
}

/// Its flags (with node_exporter's old names as aliases).
#[derive(Debug, Default, clap::Args)]
#[group(skip)]
pub(crate) struct Flags {
    /// Regexp of mount points to ignore.
    #[arg(
        long = "collector.filesystem.mount-points-exclude",
        value_name = "RE",
        alias = "collector.filesystem.ignored-mount-points"
    )]
    mount_points_exclude: Option<String>,
    /// Regexp of mount points to report (exclusive with -exclude).
    #[arg(long = "collector.filesystem.mount-points-include", value_name = "RE")]
    mount_points_include: Option<String>,
    /// Regexp of filesystem types to ignore.
    #[arg(
        long = "collector.filesystem.fs-types-exclude",
        value_name = "RE",
        alias = "collector.filesystem.ignored-fs-types"
    )]
    fs_types_exclude: Option<String>,
    /// Regexp of filesystem types to report (exclusive with -exclude).
    #[arg(long = "collector.filesystem.fs-types-include", value_name = "RE")]
    fs_types_include: Option<String>,
    /// How long a statfs may take before the mount is reported as stuck. [default: 5s]
    #[arg(long = "collector.filesystem.mount-timeout", value_name = "DURATION")]
    mount_timeout: Option<HumanDuration>,
}

yaml_keys! {
    /// Its keys of the YAML `collectors:` section.
    Yaml {
        filesystem_mount_points: IncludeExclude,
        filesystem_fs_types: IncludeExclude,
        filesystem_mount_timeout: HumanDuration,
    }
}

/// Its options from the flags over the YAML keys.
pub(crate) fn compile(flags: Flags, yaml: Yaml, at: &Origin) -> Result<Options, ConfigError> {
    let default = Options::default();
    let mount_points = Filter::compile(
        default.mount_points,
        at,
        (
            "--collector.filesystem.mount-points",
            [flags.mount_points_include, flags.mount_points_exclude],
        ),
        ("filesystem_mount_points", yaml.filesystem_mount_points),
    )?;
    let fs_types = Filter::compile(
        default.fs_types,
        at,
        ("--collector.filesystem.fs-types", [flags.fs_types_include, flags.fs_types_exclude]),
        ("filesystem_fs_types", yaml.filesystem_fs_types),
    )?;
    let mount_timeout = flags
        .mount_timeout
        .or(yaml.filesystem_mount_timeout)
        .map_or(default.mount_timeout, |t| t.0);
    Ok(Options { mount_points, fs_types, mount_timeout })
}
