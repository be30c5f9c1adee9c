//! The exporter's configuration: node_exporter's flags plus an optional YAML file
//! (`--config.file`), merged (flags win) and validated into [`Config`] once at start-up.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Arg, ArgAction, ArgMatches, CommandFactory, FromArgMatches, Parser};
use obwatch_common::config::{ConfigError, HumanDuration, load_yaml, set_at_least};
use obwatch_common::conns::ConnLimits;
use obwatch_common::fs::Root;
use obwatch_common::logging::{LogFormat, LogLevel};
use regex::Regex;
use serde::Deserialize;

use crate::collector::ALL;
use crate::collector::namedprocess::{NameConfig, NameMatcher};
use crate::collector::obproxy::ObproxyOptions;
use crate::collector::oceanbase::options::{
    self as ob_options, ObFlags, PASSWORD_ENV, RawObSection,
};
use crate::options::{CollectorOptions, Filter, builtin_process_names};

/// The default listen address: this project's port (ARCHITECTURE.md), not node_exporter's 9100.
pub const DEFAULT_LISTEN: &str = ":62889";

/// node_exporter 1.x collectors that obwatch does not implement. Their `--[no-]collector.X`
/// flags are accepted so existing systemd units keep working; enabling one logs a warning.
const NOT_IMPLEMENTED: &[&str] = &[
    "arp",
    "bcache",
    "btrfs",
    "buddyinfo",
    "cgroups",
    "cpu_vulnerabilities",
    "dmi",
    "drbd",
    "drm",
    "ethtool",
    "fibrechannel",
    "infiniband",
    "interrupts",
    "ipvs",
    "ksmd",
    "lnstat",
    "logind",
    "meminfo_numa",
    "mountstats",
    "netstat_linux",
    "network_route",
    "nfs",
    "nfsd",
    "ntp",
    "os",
    "perf",
    "powersupplyclass",
    "processes",
    "qdisc",
    "rapl",
    "runit",
    "selinux",
    "slabinfo",
    "softirqs",
    "softnet",
    "supervisord",
    "sysctl",
    "systemd",
    "tapestats",
    "tcpstat",
    "thermal",
    "udp_queues",
    "watchdog",
    "wifi",
    "xfs",
    "zfs",
    "zoneinfo",
];

/// Command-line flags, named as node_exporter's. `--[no-]collector.NAME` are added at run
/// time from [`ALL`].
#[derive(Debug, Parser)]
#[command(
    name = "obwatch-exporter",
    version,
    long_version = obwatch_common::build::LONG_VERSION,
    about = "Prometheus exporter for database hosts: \
    node_exporter-compatible host metrics on :62889.",
    after_help = "Validate without serving: obwatch-exporter check [FLAGS] (flags, --config.file \
    and --web.config.file; exit 0 or 2).\n\nEXAMPLES:\n  obwatch-exporter\n  obwatch-exporter \
    -c /etc/obwatch/exporter.yml\n  obwatch-exporter check -c /etc/obwatch/exporter.yml\n  \
    obwatch-exporter --collector.disable-defaults --collector.cpu --collector.meminfo"
)]
struct Cli {
    /// YAML configuration file; flags override its values.
    #[arg(short = 'c', long = "config.file", value_name = "FILE")]
    config_file: Option<PathBuf>,
    /// Address to listen on (repeatable); ":PORT" listens on all interfaces. [default: :62889]
    #[arg(long = "web.listen-address", value_name = "ADDR")]
    listen_addresses: Vec<String>,
    /// Path under which to expose metrics. [default: /metrics]
    #[arg(long = "web.telemetry-path", value_name = "PATH")]
    telemetry_path: Option<String>,
    /// exporter-toolkit web config file (TLS, basic auth).
    #[arg(long = "web.config.file", value_name = "FILE")]
    web_config_file: Option<PathBuf>,
    /// Leave out the exporter's own process_* and obwatch_build_info metrics.
    #[arg(long = "web.disable-exporter-metrics")]
    disable_exporter_metrics: bool,
    /// Maximum concurrent scrape requests; more get 503. 0 means no limit. [default: 40]
    #[arg(long = "web.max-requests", value_name = "N")]
    max_requests: Option<usize>,
    /// Maximum open connections; at the limit the longest-idle one is closed. [default: 512]
    #[arg(long = "web.max-connections", value_name = "N")]
    max_connections: Option<usize>,
    /// A new connection must send a whole request within this. [default: 10s]
    #[arg(long = "web.read-header-timeout", value_name = "DURATION")]
    read_header_timeout: Option<HumanDuration>,
    /// A kept-alive connection is closed after this long without a request. [default: 2m]
    #[arg(long = "web.idle-timeout", value_name = "DURATION")]
    idle_timeout: Option<HumanDuration>,
    /// procfs mountpoint. [default: /proc]
    #[arg(long = "path.procfs", value_name = "DIR")]
    procfs: Option<PathBuf>,
    /// sysfs mountpoint. [default: /sys]
    #[arg(long = "path.sysfs", value_name = "DIR")]
    sysfs: Option<PathBuf>,
    /// Host root filesystem mountpoint. [default: /]
    #[arg(long = "path.rootfs", value_name = "DIR")]
    rootfs: Option<PathBuf>,
    /// Disable all collectors by default; enable with --collector.NAME.
    #[arg(long = "collector.disable-defaults")]
    disable_defaults: bool,
    /// Directory (glob allowed) of *.prom files for the textfile collector (repeatable).
    #[arg(long = "collector.textfile.directory", value_name = "DIR")]
    textfile_directories: Vec<PathBuf>,
    /// Regexp of mount points to ignore.
    #[arg(
        long = "collector.filesystem.mount-points-exclude",
        value_name = "RE",
        alias = "collector.filesystem.ignored-mount-points"
    )]
    fs_mount_points_exclude: Option<String>,
    /// Regexp of mount points to report (exclusive with -exclude).
    #[arg(long = "collector.filesystem.mount-points-include", value_name = "RE")]
    fs_mount_points_include: Option<String>,
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
    fs_mount_timeout: Option<HumanDuration>,
    /// Regexp of block devices to ignore.
    #[arg(
        long = "collector.diskstats.device-exclude",
        value_name = "RE",
        alias = "collector.diskstats.ignored-devices"
    )]
    diskstats_device_exclude: Option<String>,
    /// Regexp of block devices to report (exclusive with -exclude).
    #[arg(long = "collector.diskstats.device-include", value_name = "RE")]
    diskstats_device_include: Option<String>,
    /// Regexp of network devices to ignore.
    #[arg(
        long = "collector.netdev.device-exclude",
        value_name = "RE",
        alias = "collector.netdev.device-blacklist"
    )]
    netdev_device_exclude: Option<String>,
    /// Regexp of network devices to report (exclusive with -exclude).
    #[arg(
        long = "collector.netdev.device-include",
        value_name = "RE",
        alias = "collector.netdev.device-whitelist"
    )]
    netdev_device_include: Option<String>,
    /// Regexp of net devices to ignore for netclass.
    #[arg(long = "collector.netclass.ignored-devices", value_name = "RE")]
    netclass_ignored_devices: Option<String>,
    /// Regexp of Proto_Field counters to report from /proc/net/{netstat,snmp,snmp6}.
    #[arg(long = "collector.netstat.fields", value_name = "RE")]
    netstat_fields: Option<String>,
    /// Regexp of /proc/vmstat fields to report.
    #[arg(long = "collector.vmstat.fields", value_name = "RE")]
    vmstat_fields: Option<String>,
    /// How long the timer probe thread sleeps each time. [default: 1s]
    #[arg(long = "collector.timer.tick", value_name = "DURATION")]
    timer_tick: Option<HumanDuration>,
    /// A timer probe wake-up later than this counts as late. [default: 500ms]
    #[arg(long = "collector.timer.margin", value_name = "DURATION")]
    timer_margin: Option<HumanDuration>,
    /// Oracle Clusterware (Grid) home; found from /etc/oracle/olr.loc when not given.
    #[arg(long = "collector.clusterware.crs-home", value_name = "DIR")]
    crs_home: Option<PathBuf>,
    /// OBProxy's Prometheus endpoint (http://HOST:2884/metrics) to relay; the obproxy
    /// collector is off without it.
    #[arg(long = "obproxy.metrics-url", value_name = "URL")]
    obproxy_metrics_url: Option<String>,
    /// OceanBase SQL port (HOST:PORT) to read ob_* metrics from; the oceanbase collector is
    /// off without it.
    #[arg(long = "ob.address", value_name = "HOST:PORT")]
    ob_address: Option<String>,
    /// OceanBase user (sys tenant). [default: ocp_monitor]
    #[arg(long = "ob.username", value_name = "USER")]
    ob_username: Option<String>,
    /// File holding the OceanBase password (else $OBWATCH_OB_PASSWORD).
    #[arg(long = "ob.password-file", value_name = "FILE")]
    ob_password_file: Option<PathBuf>,
    /// Longest a scrape waits for collectors; capped by Prometheus' scrape timeout header.
    /// [default: 5s]
    #[arg(long = "scrape.timeout", value_name = "DURATION")]
    scrape_timeout: Option<HumanDuration>,
    /// Only log messages with the given severity or above. [default: info]
    #[arg(long = "log.level", value_enum)]
    log_level: Option<LogLevel>,
    /// Output format of log messages. [default: logfmt]
    #[arg(long = "log.format", value_enum)]
    log_format: Option<LogFormat>,
}

/// The YAML file: every key optional, unknown keys are errors.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    #[serde(default)]
    web: WebSection,
    #[serde(default)]
    paths: PathsSection,
    scrape_timeout: Option<HumanDuration>,
    #[serde(default)]
    log: LogSection,
    #[serde(default)]
    collectors: CollectorsSection,
    #[serde(default)]
    oceanbase: RawObSection,
    #[serde(default)]
    clusterware: ClusterwareSection,
    #[serde(default)]
    obproxy: ObproxySection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ObproxySection {
    metrics_url: Option<String>,
    interval: Option<HumanDuration>,
    timeout: Option<HumanDuration>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClusterwareSection {
    crs_home: Option<PathBuf>,
    interval: Option<HumanDuration>,
    timeout: Option<HumanDuration>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct WebSection {
    #[serde(default)]
    listen_addresses: Vec<String>,
    telemetry_path: Option<String>,
    config_file: Option<PathBuf>,
    max_requests: Option<usize>,
    max_connections: Option<usize>,
    read_header_timeout: Option<HumanDuration>,
    idle_timeout: Option<HumanDuration>,
    #[serde(default)]
    disable_exporter_metrics: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PathsSection {
    procfs: Option<PathBuf>,
    sysfs: Option<PathBuf>,
    rootfs: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LogSection {
    level: Option<LogLevel>,
    format: Option<LogFormat>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct IncludeExclude {
    include: Option<String>,
    exclude: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CollectorsSection {
    #[serde(default)]
    disable_defaults: bool,
    #[serde(default)]
    enable: Vec<String>,
    #[serde(default)]
    disable: Vec<String>,
    #[serde(default)]
    textfile_directories: Vec<PathBuf>,
    #[serde(default)]
    filesystem_mount_points: IncludeExclude,
    #[serde(default)]
    filesystem_fs_types: IncludeExclude,
    filesystem_mount_timeout: Option<HumanDuration>,
    #[serde(default)]
    diskstats_devices: IncludeExclude,
    #[serde(default)]
    netdev_devices: IncludeExclude,
    netclass_ignored_devices: Option<String>,
    netstat_fields: Option<String>,
    vmstat_fields: Option<String>,
    #[serde(default)]
    process_names: Vec<NameConfig>,
    process_names_builtin: Option<bool>,
    timer_tick: Option<HumanDuration>,
    timer_margin: Option<HumanDuration>,
}

/// The validated configuration `run` works from.
#[derive(Debug, Clone)]
pub struct Config {
    /// Addresses to listen on.
    pub listen_addresses: Vec<String>,
    /// Where metrics are served, e.g. `/metrics`.
    pub telemetry_path: String,
    /// The exporter-toolkit web config file, if any.
    pub web_config_file: Option<PathBuf>,
    /// Leave out process_* and obwatch_build_info.
    pub disable_exporter_metrics: bool,
    /// Concurrent scrape limit (0 = none).
    pub max_requests: usize,
    /// Connection count and timeouts.
    pub conn_limits: ConnLimits,
    /// procfs/sysfs/rootfs.
    pub root: Root,
    /// Enabled collectors, sorted.
    pub enabled: Vec<&'static str>,
    /// Per-collector options.
    pub options: CollectorOptions,
    /// Longest a scrape waits for its collectors.
    pub scrape_timeout: Duration,
    /// Log level.
    pub log_level: LogLevel,
    /// Log format.
    pub log_format: LogFormat,
    /// Warnings found while loading (unimplemented collectors enabled); logged once logging
    /// is up.
    pub warnings: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen_addresses: vec![DEFAULT_LISTEN.to_string()],
            telemetry_path: "/metrics".into(),
            web_config_file: None,
            disable_exporter_metrics: false,
            max_requests: 40,
            conn_limits: ConnLimits::default(),
            root: Root::default(),
            enabled: ALL.iter().filter(|s| s.default_enabled).map(|s| s.name).collect(),
            options: CollectorOptions::default(),
            scrape_timeout: Duration::from_secs(5),
            log_level: LogLevel::Info,
            log_format: LogFormat::Logfmt,
            warnings: Vec::new(),
        }
    }
}

/// Why the command line could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Bad flags, `--help` or `--version` (clap renders all three; exit codes 2, 0, 0).
    #[error(transparent)]
    Usage(#[from] clap::Error),
    /// A bad YAML file or a bad value.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// The whole command line (fixed flags and one per collector), for `--help`, the man page and
/// the completion scripts.
pub fn command() -> clap::Command {
    collector_flags()
}

fn collector_flags() -> clap::Command {
    let mut cmd = Cli::command();
    let names = ALL
        .iter()
        .map(|s| (s.name, s.default_enabled))
        .chain(NOT_IMPLEMENTED.iter().map(|n| (*n, false)));
    for (name, default) in names {
        let implemented = !NOT_IMPLEMENTED.contains(&name);
        let help = if implemented {
            format!(
                "Enable the {name} collector (default: {}).",
                if default { "enabled" } else { "disabled" }
            )
        } else {
            format!("Accepted for node_exporter compatibility; obwatch has no {name} collector.")
        };
        cmd = cmd
            .arg(
                Arg::new(format!("collector.{name}"))
                    .long(format!("collector.{name}"))
                    .help(help)
                    .action(ArgAction::SetTrue)
                    .hide(!implemented),
            )
            .arg(
                Arg::new(format!("no-collector.{name}"))
                    .long(format!("no-collector.{name}"))
                    .action(ArgAction::SetTrue)
                    .hide(true),
            );
    }
    cmd
}

impl Config {
    /// Parses `args` (argv including the program name), loads `--config.file` if given, and
    /// validates everything.
    pub fn load(
        args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
    ) -> Result<Config, LoadError> {
        let matches = collector_flags().try_get_matches_from(args)?;
        let cli = Cli::from_arg_matches(&matches)?;
        let file = match &cli.config_file {
            Some(p) => Some((p.clone(), load_yaml::<FileConfig>(p)?)),
            None => None,
        };
        Ok(merge(cli, &matches, file)?)
    }
}

fn merge(
    cli: Cli,
    m: &ArgMatches,
    file: Option<(PathBuf, FileConfig)>,
) -> Result<Config, ConfigError> {
    let (path, f) = file.unwrap_or_else(|| (PathBuf::from("command line"), FileConfig::default()));
    let cl = Path::new("command line");
    let mut c = Config::default();
    c.listen_addresses = match (cli.listen_addresses.is_empty(), f.web.listen_addresses.is_empty())
    {
        (false, _) => cli.listen_addresses,
        (true, false) => f.web.listen_addresses,
        (true, true) => c.listen_addresses,
    };
    c.telemetry_path = cli.telemetry_path.or(f.web.telemetry_path).unwrap_or(c.telemetry_path);
    if !c.telemetry_path.starts_with('/') {
        return Err(ConfigError::invalid(
            &path,
            "web.telemetry_path",
            "expected a path starting with '/'",
        ));
    }
    // A relative web config path in the YAML is relative to the YAML file.
    let base = path.parent().unwrap_or(Path::new("."));
    c.web_config_file = cli.web_config_file.or(f.web.config_file.map(|p| base.join(p)));
    c.disable_exporter_metrics = cli.disable_exporter_metrics || f.web.disable_exporter_metrics;
    c.max_requests = cli.max_requests.or(f.web.max_requests).unwrap_or(c.max_requests);
    // A flag's error names the flag, a YAML key's the file and key.
    let from_flag = cli.max_connections.is_some()
        || cli.read_header_timeout.is_some()
        || cli.idle_timeout.is_some();
    c.conn_limits = ConnLimits::from_parts(
        cli.max_connections.or(f.web.max_connections),
        cli.read_header_timeout.or(f.web.read_header_timeout).map(|d| d.0),
        cli.idle_timeout.or(f.web.idle_timeout).map(|d| d.0),
    )
    .map_err(|(key, msg)| {
        if from_flag {
            ConfigError::invalid(
                Path::new("command line"),
                format!("--web.{}", key.replace('_', "-")),
                msg,
            )
        } else {
            ConfigError::invalid(&path, format!("web.{key}"), msg)
        }
    })?;
    c.root = Root {
        procfs: cli.procfs.or(f.paths.procfs).unwrap_or(c.root.procfs),
        sysfs: cli.sysfs.or(f.paths.sysfs).unwrap_or(c.root.sysfs),
        rootfs: cli.rootfs.or(f.paths.rootfs).unwrap_or(c.root.rootfs),
    };
    c.scrape_timeout = cli.scrape_timeout.or(f.scrape_timeout).map_or(c.scrape_timeout, |d| d.0);
    if c.scrape_timeout.is_zero() {
        return Err(ConfigError::invalid(&path, "scrape_timeout", "expected a duration above 0"));
    }
    c.log_level = cli.log_level.or(f.log.level).unwrap_or(c.log_level);
    c.log_format = cli.log_format.or(f.log.format).unwrap_or(c.log_format);

    // Enabled set: defaults (unless disabled), then YAML enable/disable, then flags.
    let fc = f.collectors;
    let mut enabled = yaml_enabled(
        &c.enabled,
        cli.disable_defaults || fc.disable_defaults,
        &fc,
        &path,
        &mut c.warnings,
    )?;
    // The OceanBase collector is on when an address is given, unless turned off by name.
    c.options.oceanbase = ob_options::compile(
        &path,
        f.oceanbase,
        ObFlags {
            address: cli.ob_address,
            username: cli.ob_username,
            password_file: cli.ob_password_file,
        },
        std::env::var(PASSWORD_ENV).ok(),
    )?;
    if c.options.oceanbase.is_some() && !fc.disable.iter().any(|n| n == "oceanbase") {
        enabled.insert("oceanbase");
    }
    c.options.obproxy = obproxy(&path, cli.obproxy_metrics_url, f.obproxy)?;
    if c.options.obproxy.is_some() && !fc.disable.iter().any(|n| n == "obproxy") {
        enabled.insert("obproxy");
    }
    flag_enabled(&mut enabled, m, &mut c.warnings);
    c.enabled = enabled.into_iter().collect();

    // Per-collector options.
    let o = &mut c.options;
    o.filesystem_mount_points = filter(
        &o.filesystem_mount_points,
        (cli.fs_mount_points_include, cli.fs_mount_points_exclude),
        fc.filesystem_mount_points,
        "--collector.filesystem.mount-points",
        ("collectors.filesystem_mount_points", &path),
    )?;
    o.filesystem_fs_types = filter(
        &o.filesystem_fs_types,
        (cli.fs_types_include, cli.fs_types_exclude),
        fc.filesystem_fs_types,
        "--collector.filesystem.fs-types",
        ("collectors.filesystem_fs_types", &path),
    )?;
    o.diskstats_devices = filter(
        &o.diskstats_devices,
        (cli.diskstats_device_include, cli.diskstats_device_exclude),
        fc.diskstats_devices,
        "--collector.diskstats.device",
        ("collectors.diskstats_devices", &path),
    )?;
    o.netdev_devices = filter(
        &o.netdev_devices,
        (cli.netdev_device_include, cli.netdev_device_exclude),
        fc.netdev_devices,
        "--collector.netdev.device",
        ("collectors.netdev_devices", &path),
    )?;
    if let Some(t) = cli.fs_mount_timeout.or(fc.filesystem_mount_timeout) {
        o.filesystem_mount_timeout = t.0;
    }
    for (flag, yaml, field, slot) in [
        (
            cli.netclass_ignored_devices,
            fc.netclass_ignored_devices,
            "collectors.netclass_ignored_devices",
            &mut o.netclass_ignored_devices,
        ),
        (cli.netstat_fields, fc.netstat_fields, "collectors.netstat_fields", &mut o.netstat_fields),
        (cli.vmstat_fields, fc.vmstat_fields, "collectors.vmstat_fields", &mut o.vmstat_fields),
    ] {
        if let Some((re, from_flag)) = pick(flag, yaml) {
            *slot = regex(if from_flag { cl } else { &path }, field, &re)?;
        }
    }
    o.process_names =
        process_names(&path, &fc.process_names, fc.process_names_builtin.unwrap_or(true))?;
    for (flag, yaml, field, slot, min) in [
        (cli.timer_tick, fc.timer_tick, "collectors.timer_tick", &mut o.timer_tick, 10),
        (cli.timer_margin, fc.timer_margin, "collectors.timer_margin", &mut o.timer_margin, 1),
    ] {
        let src = if flag.is_some() { cl } else { path.as_path() };
        set_at_least(src, field, flag.or(yaml), Duration::from_millis(min), slot)?;
    }
    let cw = &mut o.clusterware;
    cw.crs_home = cli.crs_home.or(f.clusterware.crs_home.map(|p| base.join(p)));
    for (value, field, slot) in [
        (f.clusterware.interval, "clusterware.interval", &mut cw.interval),
        (f.clusterware.timeout, "clusterware.timeout", &mut cw.timeout),
    ] {
        set_at_least(&path, field, value, Duration::from_millis(100), slot)?;
    }
    o.textfile_directories = if cli.textfile_directories.is_empty() {
        fc.textfile_directories.into_iter().map(|d| base.join(d)).collect()
    } else {
        cli.textfile_directories
    };
    Ok(c)
}

/// The enabled set before the flags: the defaults (unless disabled), then the YAML
/// `collectors.enable`/`disable` lists; node_exporter names obwatch lacks are warned about.
fn yaml_enabled(
    defaults: &[&'static str],
    disable_defaults: bool,
    fc: &CollectorsSection,
    path: &Path,
    warnings: &mut Vec<String>,
) -> Result<BTreeSet<&'static str>, ConfigError> {
    let mut enabled: BTreeSet<&'static str> =
        if disable_defaults { BTreeSet::new() } else { defaults.iter().copied().collect() };
    for (list, on, field) in
        [(&fc.enable, true, "collectors.enable"), (&fc.disable, false, "collectors.disable")]
    {
        for name in list {
            if let Some(spec) = ALL.iter().find(|s| s.name == name) {
                if on {
                    enabled.insert(spec.name)
                } else {
                    enabled.remove(spec.name)
                };
            } else if NOT_IMPLEMENTED.contains(&name.as_str()) {
                if on {
                    warnings
                        .push(format!("obwatch has no {name} collector; {field} entry ignored"));
                }
            } else {
                let known: Vec<_> = ALL.iter().map(|s| s.name).collect();
                return Err(ConfigError::invalid(
                    path,
                    field,
                    format!("unknown collector {name:?}; expected one of {}", known.join(", ")),
                ));
            }
        }
    }
    Ok(enabled)
}

/// `--collector.NAME` and `--no-collector.NAME` over the set (the flags win over the YAML).
fn flag_enabled(enabled: &mut BTreeSet<&'static str>, m: &ArgMatches, warnings: &mut Vec<String>) {
    for spec in ALL {
        if m.get_flag(&format!("collector.{}", spec.name)) {
            enabled.insert(spec.name);
        }
        if m.get_flag(&format!("no-collector.{}", spec.name)) {
            enabled.remove(spec.name);
        }
    }
    for name in NOT_IMPLEMENTED {
        if m.get_flag(&format!("collector.{name}")) {
            warnings.push(format!("obwatch has no {name} collector; --collector.{name} ignored"));
        }
    }
}

/// A flag value (which wins, `true`) or else the YAML one.
fn pick(flag: Option<String>, yaml: Option<String>) -> Option<(String, bool)> {
    flag.map(|v| (v, true)).or(yaml.map(|v| (v, false)))
}

/// A device or mount filter: `(include, exclude)` flags over the YAML `{include, exclude}`,
/// `default` when neither is given. Include and exclude are mutually exclusive; errors name
/// the flag (from the command line) or the file and `field`.
fn filter(
    default: &Filter,
    flags: (Option<String>, Option<String>),
    yaml: IncludeExclude,
    flag: &str,
    (field, path): (&str, &Path),
) -> Result<Filter, ConfigError> {
    let src = |from_flag: bool| if from_flag { Path::new("command line") } else { path };
    match (pick(flags.0, yaml.include), pick(flags.1, yaml.exclude)) {
        (Some(_), Some(_)) => Err(ConfigError::invalid(
            path,
            field,
            format!("include and exclude are mutually exclusive ({flag}-include/-exclude)"),
        )),
        (Some((re, ff)), None) => Ok(Filter {
            include: Some(regex(src(ff), &format!("{field}.include"), &re)?),
            exclude: None,
        }),
        (None, Some((re, ff))) => Ok(Filter {
            include: None,
            exclude: Some(regex(src(ff), &format!("{field}.exclude"), &re)?),
        }),
        (None, None) => Ok(default.clone()),
    }
}

/// The `obproxy:` section with `--obproxy.metrics-url` over its `metrics_url`.
fn obproxy(
    path: &Path,
    flag: Option<String>,
    raw: ObproxySection,
) -> Result<Option<ObproxyOptions>, ConfigError> {
    let (url, src) = match (flag, raw.metrics_url) {
        (Some(u), _) => (u, Path::new("command line")),
        (None, Some(u)) => (u, path),
        (None, None) => return Ok(None),
    };
    let field = "obproxy.metrics_url";
    let uri: hyper::Uri = url.parse().map_err(|e| {
        ConfigError::invalid(
            src,
            field,
            format!("expected http://HOST:PORT/metrics, got {url:?}: {e}"),
        )
    })?;
    if uri.scheme_str() != Some("http") || uri.host().is_none() {
        return Err(ConfigError::invalid(
            src,
            field,
            format!("expected an http:// URL with a host (https is not supported), got {url:?}"),
        ));
    }
    let mut o = ObproxyOptions {
        metrics_url: uri,
        interval: Duration::from_secs(15),
        timeout: Duration::from_secs(5),
    };
    for (value, field, slot) in [
        (raw.interval, "obproxy.interval", &mut o.interval),
        (raw.timeout, "obproxy.timeout", &mut o.timeout),
    ] {
        set_at_least(path, field, value, Duration::from_millis(100), slot)?;
    }
    if o.timeout > o.interval {
        return Err(ConfigError::invalid(
            path,
            "obproxy.timeout",
            format!(
                "expected at most obproxy.interval ({}), got {}",
                HumanDuration(o.interval),
                HumanDuration(o.timeout)
            ),
        ));
    }
    Ok(Some(o))
}

/// The user's entries (tried first, in order), then the built-in set unless `builtin` is
/// false.
fn process_names(
    path: &Path,
    entries: &[NameConfig],
    builtin: bool,
) -> Result<Vec<NameMatcher>, ConfigError> {
    let mut names = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        names.push(NameMatcher::compile(entry).map_err(|e| {
            let field = format!("collectors.process_names[{i}].{}", e.field);
            ConfigError::invalid(path, field, e.message)
        })?);
    }
    if builtin {
        names.extend(builtin_process_names());
    }
    Ok(names)
}

fn regex(path: &Path, field: &str, re: &str) -> Result<Regex, ConfigError> {
    Regex::new(re).map_err(|e| {
        ConfigError::invalid(path, field, format!("expected a regular expression: {e}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(args: &[&str]) -> Result<Config, LoadError> {
        Config::load(std::iter::once("obwatch-exporter").chain(args.iter().copied()))
    }

    #[test]
    fn defaults_need_no_config() {
        let c = load(&[]).unwrap();
        assert_eq!(c.listen_addresses, [":62889"]);
        assert_eq!(c.telemetry_path, "/metrics");
        assert!(c.enabled.contains(&"loadavg"));
    }

    #[test]
    fn collector_flags_like_node_exporter() {
        let c = load(&["--collector.disable-defaults", "--collector.loadavg", "--collector.arp"])
            .unwrap();
        assert_eq!(c.enabled, ["loadavg"]);
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        let c = load(&["--no-collector.loadavg", "--no-collector.wifi"]).unwrap();
        assert!(!c.enabled.contains(&"loadavg"));
        let e = load(&["--collector.nosuch"]).unwrap_err();
        assert!(matches!(&e, LoadError::Usage(u) if u.exit_code() == 2), "{e}");
    }

    #[test]
    fn yaml_is_merged_and_flags_win() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("exporter.yml");
        std::fs::write(
            &p,
            "web:\n  listen_addresses: ['127.0.0.1:1']\n  telemetry_path: /m\n\
            collectors:\n  disable: [loadavg]\n  netstat_fields: '^Tcp_.*'\nscrape_timeout: 2s\n",
        )
        .unwrap();
        let ps = p.to_str().unwrap();
        let c = load(&["--config.file", ps, "--web.telemetry-path", "/x"]).unwrap();
        assert_eq!(c.listen_addresses, ["127.0.0.1:1"]);
        assert_eq!(c.telemetry_path, "/x");
        assert!(!c.enabled.contains(&"loadavg"));
        assert!(
            c.options.netstat_fields.is_match("Tcp_InSegs")
                && !c.options.netstat_fields.is_match("Udp_X")
        );
        assert_eq!(c.scrape_timeout, Duration::from_secs(2));
        std::fs::write(&p, "collectors:\n  timer_tick: 2s\n  timer_margin: 750ms\n").unwrap();
        let c = load(&["--config.file", ps, "--collector.timer.margin=1s"]).unwrap();
        assert_eq!(c.options.timer_tick, Duration::from_secs(2));
        assert_eq!(c.options.timer_margin, Duration::from_secs(1));
    }

    #[test]
    fn an_oceanbase_address_turns_the_collector_on() {
        assert!(!load(&[]).unwrap().enabled.contains(&"oceanbase"), "off without an address");
        let c = load(&["--ob.address", "127.0.0.1:2881", "--ob.username", "mon"]).unwrap();
        assert!(c.enabled.contains(&"oceanbase"));
        assert_eq!(c.options.oceanbase.as_ref().unwrap().username, "mon");
        let c = load(&["--ob.address", "127.0.0.1:2881", "--no-collector.oceanbase"]).unwrap();
        assert!(!c.enabled.contains(&"oceanbase"), "turned off by name");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("exporter.yml");
        std::fs::write(&p, "oceanbase:\n  address: 127.0.0.1:2881\n").unwrap();
        let c = load(&["--config.file", p.to_str().unwrap()]).unwrap();
        assert_eq!(c.options.oceanbase.unwrap().address, "127.0.0.1:2881");
        let e = load(&["--ob.address", "nohostport"]).unwrap_err().to_string();
        assert!(e.contains("command line: field `oceanbase.address`: expected HOST:PORT"), "{e}");
    }

    #[test]
    fn process_names_extend_or_replace_the_builtin_set() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("exporter.yml");
        let yaml = "collectors:\n  process_names:\n    - { name: pg, exe: [postgres] }\n";
        std::fs::write(&p, yaml).unwrap();
        let builtin = CollectorOptions::default().process_names.len();
        let c = load(&["--config.file", p.to_str().unwrap()]).unwrap();
        assert_eq!(c.options.process_names.len(), builtin + 1);
        std::fs::write(&p, format!("{yaml}  process_names_builtin: false\n")).unwrap();
        let c = load(&["--config.file", p.to_str().unwrap()]).unwrap();
        assert_eq!(c.options.process_names.len(), 1);
    }

    #[test]
    fn bad_values_name_file_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("e.yml");
        std::fs::write(&p, "collectors:\n  enable: [cpuu]\n").unwrap();
        let e = load(&["--config.file", p.to_str().unwrap()]).unwrap_err().to_string();
        assert!(e.contains("e.yml: field `collectors.enable`: unknown collector \"cpuu\""), "{e}");
        let e = load(&["--collector.vmstat.fields", "("]).unwrap_err().to_string();
        assert!(
            e.contains(
                "command line: field `collectors.vmstat_fields`: expected a regular expression"
            ),
            "{e}"
        );
        let e = load(&[
            "--collector.netdev.device-include",
            "a",
            "--collector.netdev.device-exclude",
            "b",
        ])
        .unwrap_err()
        .to_string();
        assert!(e.contains("mutually exclusive"), "{e}");
        std::fs::write(
            &p,
            "collectors:\n  process_names:\n    - name: x\n      cmdline: ['ok', '(']\n",
        )
        .unwrap();
        let e = load(&["--config.file", p.to_str().unwrap()]).unwrap_err().to_string();
        assert!(
            e.contains("e.yml: field `collectors.process_names[0].cmdline[1]`: expected a regular"),
            "{e}"
        );
        std::fs::write(&p, "collectors:\n  process_names:\n    - name: x\n      exee: [a]\n")
            .unwrap();
        let e = load(&["--config.file", p.to_str().unwrap()]).unwrap_err().to_string();
        assert!(e.contains("e.yml:4:7") && e.contains("exee"), "{e}");
        let e = load(&["--collector.timer.tick", "5ms"]).unwrap_err().to_string();
        assert!(
            e.contains("command line: field `collectors.timer_tick`: expected a duration of at least 10ms, got 5ms"),
            "{e}"
        );
        let e = load(&["--web.max-connections", "0"]).unwrap_err().to_string();
        assert!(
            e.contains("command line: field `--web.max-connections`: expected at least 1"),
            "{e}"
        );
        std::fs::write(&p, "web:\n  idle_timeout: 0s\n").unwrap();
        let e = load(&["--config.file", p.to_str().unwrap()]).unwrap_err().to_string();
        assert!(e.contains("e.yml: field `web.idle_timeout`: expected a duration above 0"), "{e}");
        std::fs::write(&p, "web:\n  listen_adresses: []\n").unwrap();
        let e = load(&["--config.file", p.to_str().unwrap()]).unwrap_err().to_string();
        assert!(e.contains("e.yml:2:3") && e.contains("listen_adresses"), "{e}");
    }
}
