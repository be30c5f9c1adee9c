//! The command line: node_exporter's flag names, one `--[no-]collector.NAME` pair per collector
//! (and per node_exporter collector obwatch lacks, accepted so existing units keep working).

use std::collections::BTreeSet;
use std::path::PathBuf;

use clap::{Arg, ArgAction, ArgMatches, CommandFactory, Parser};
use obwatch_common::cli::LogFlags;
use obwatch_common::config::HumanDuration;

use crate::collector::ALL;
use crate::collector::options::Flags;

/// node_exporter 1.x collectors that obwatch does not implement. Their `--[no-]collector.X`
/// flags are accepted so existing systemd units keep working; enabling one logs a warning.
pub(super) const NOT_IMPLEMENTED: &[&str] = &[
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
pub(super) struct Cli {
    /// YAML configuration file; flags override its values.
    #[arg(short = 'c', long = "config.file", value_name = "FILE")]
    pub(super) config_file: Option<PathBuf>,
    /// Address to listen on (repeatable); ":PORT" listens on all interfaces. [default: :62889]
    #[arg(long = "web.listen-address", value_name = "ADDR")]
    pub(super) listen_addresses: Vec<String>,
    /// Path under which to expose metrics. [default: /metrics]
    #[arg(long = "web.telemetry-path", value_name = "PATH")]
    pub(super) telemetry_path: Option<String>,
    /// exporter-toolkit web config file (TLS, basic auth).
    #[arg(long = "web.config.file", value_name = "FILE")]
    pub(super) web_config_file: Option<PathBuf>,
    /// Leave out the exporter's own process_* and obwatch_build_info metrics.
    #[arg(long = "web.disable-exporter-metrics")]
    pub(super) disable_exporter_metrics: bool,
    /// Maximum concurrent scrape requests; more get 503. 0 means no limit. [default: 40]
    #[arg(long = "web.max-requests", value_name = "N")]
    pub(super) max_requests: Option<usize>,
    /// Maximum open connections; at the limit the longest-idle one is closed. [default: 512]
    #[arg(long = "web.max-connections", value_name = "N")]
    pub(super) max_connections: Option<usize>,
    /// A new connection must send a whole request within this. [default: 10s]
    #[arg(long = "web.read-header-timeout", value_name = "DURATION")]
    pub(super) read_header_timeout: Option<HumanDuration>,
    /// A kept-alive connection is closed after this long without a request. [default: 2m]
    #[arg(long = "web.idle-timeout", value_name = "DURATION")]
    pub(super) idle_timeout: Option<HumanDuration>,
    /// procfs mountpoint. [default: /proc]
    #[arg(long = "path.procfs", value_name = "DIR")]
    pub(super) procfs: Option<PathBuf>,
    /// sysfs mountpoint. [default: /sys]
    #[arg(long = "path.sysfs", value_name = "DIR")]
    pub(super) sysfs: Option<PathBuf>,
    /// Host root filesystem mountpoint. [default: /]
    #[arg(long = "path.rootfs", value_name = "DIR")]
    pub(super) rootfs: Option<PathBuf>,
    /// Disable all collectors by default; enable with --collector.NAME.
    #[arg(long = "collector.disable-defaults")]
    pub(super) disable_defaults: bool,
    /// The flags of the collectors that have options, each collector's own.
    #[command(flatten)]
    pub(super) collectors: Flags,
    /// Longest a scrape waits for collectors; capped by Prometheus' scrape timeout header.
    /// [default: 5s]
    #[arg(long = "scrape.timeout", value_name = "DURATION")]
    pub(super) scrape_timeout: Option<HumanDuration>,
    /// `--log.level`, `--log.format`.
    #[command(flatten)]
    pub(super) log: LogFlags,
}

/// The whole command line (fixed flags and one per collector), for `--help`, the man page and
/// the completion scripts.
pub fn command() -> clap::Command {
    collector_flags()
}

pub(super) fn collector_flags() -> clap::Command {
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

/// `--collector.NAME` and `--no-collector.NAME` over the set (the flags win over the YAML).
pub(super) fn flag_enabled(
    enabled: &mut BTreeSet<&'static str>,
    m: &ArgMatches,
    warnings: &mut Vec<String>,
) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_collector_is_either_implemented_or_only_accepted() {
        for spec in ALL {
            assert!(
                !NOT_IMPLEMENTED.contains(&spec.name),
                "{} is in ALL and in NOT_IMPLEMENTED",
                spec.name
            );
        }
        let mut sorted = NOT_IMPLEMENTED.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, NOT_IMPLEMENTED, "NOT_IMPLEMENTED: sorted, each name once");
    }

    /// docs/exporter.md's collector table lists exactly the collectors of `ALL`.
    #[test]
    fn the_docs_collector_table_matches_all() {
        let docs = include_str!("../../../../docs/exporter.md");
        let table = docs.split("| collector | source |").nth(1).expect("the collector table");
        let documented: BTreeSet<&str> = table
            .lines()
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .filter_map(|l| l.split('|').nth(1))
            .map(str::trim)
            .collect();
        let implemented: BTreeSet<&str> = ALL.iter().map(|s| s.name).collect();
        assert_eq!(documented, implemented, "docs/exporter.md's table against collector::ALL");
    }
}
