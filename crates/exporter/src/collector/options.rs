//! Collector options, composed. Each collector with options owns them in its own file (or its
//! folder's `options.rs`): its flags (a clap `Args` struct), its keys of the YAML `collectors:`
//! section (`yaml_keys!`), its validated `Options` with node_exporter's defaults, and the step
//! that checks and compiles them once at start-up (built from `option_parts`). This module
//! only lists them: [`Flags`], [`YamlKeys`], [`CollectorOptions`], [`compile_host`].

use obwatch_common::config::ConfigError;
use serde::de::MapAccess;

use crate::collector::oceanbase::{self, ObOptions};
use crate::collector::option_parts::{CollectorKeys, Origin};
use crate::collector::{
    clusterware, diskstats, filesystem, namedprocess, netclass, netdev, netstat, obproxy, textfile,
    timer, vmstat,
};

/// The flags of the collectors that have options (`--collector.NAME.OPTION`, `--ob.*`,
/// `--obproxy.*`), each collector's own struct.
#[derive(Debug, Default, clap::Args)]
#[group(skip)]
pub(crate) struct Flags {
    #[command(flatten)]
    pub(crate) clusterware: clusterware::Flags,
    #[command(flatten)]
    pub(crate) oceanbase: oceanbase::options::Flags,
    #[command(flatten)]
    pub(crate) obproxy: obproxy::Flags,
    #[command(flatten)]
    pub(crate) host: HostFlags,
}

/// The flags of the collectors configured in the YAML `collectors:` section.
#[derive(Debug, Default, clap::Args)]
#[group(skip)]
pub(crate) struct HostFlags {
    #[command(flatten)]
    diskstats: diskstats::Flags,
    #[command(flatten)]
    filesystem: filesystem::Flags,
    #[command(flatten)]
    netclass: netclass::Flags,
    #[command(flatten)]
    netdev: netdev::Flags,
    #[command(flatten)]
    netstat: netstat::Flags,
    #[command(flatten)]
    textfile: textfile::Flags,
    #[command(flatten)]
    timer: timer::Flags,
    #[command(flatten)]
    vmstat: vmstat::Flags,
}

/// The collectors' keys of the YAML `collectors:` section.
#[derive(Debug, Default)]
pub(crate) struct YamlKeys {
    diskstats: diskstats::Yaml,
    filesystem: filesystem::Yaml,
    namedprocess: namedprocess::Yaml,
    netclass: netclass::Yaml,
    netdev: netdev::Yaml,
    netstat: netstat::Yaml,
    textfile: textfile::Yaml,
    timer: timer::Yaml,
    vmstat: vmstat::Yaml,
}

impl YamlKeys {
    /// Every key, for the "unknown field" message.
    pub(crate) fn keys() -> Vec<&'static str> {
        [
            diskstats::Yaml::KEYS,
            filesystem::Yaml::KEYS,
            namedprocess::Yaml::KEYS,
            netclass::Yaml::KEYS,
            netdev::Yaml::KEYS,
            netstat::Yaml::KEYS,
            textfile::Yaml::KEYS,
            timer::Yaml::KEYS,
            vmstat::Yaml::KEYS,
        ]
        .concat()
    }

    /// Hands `key` to the collector that owns it; false when none does.
    pub(crate) fn read_key<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
    ) -> Result<bool, A::Error> {
        Ok(self.diskstats.read_key(key, map)?
            || self.filesystem.read_key(key, map)?
            || self.namedprocess.read_key(key, map)?
            || self.netclass.read_key(key, map)?
            || self.netdev.read_key(key, map)?
            || self.netstat.read_key(key, map)?
            || self.textfile.read_key(key, map)?
            || self.timer.read_key(key, map)?
            || self.vmstat.read_key(key, map)?)
    }
}

/// Options of every collector that has any.
#[derive(Clone, Debug, Default)]
pub struct CollectorOptions {
    /// The CRS home (else found), interval and tool timeout.
    pub clusterware: clusterware::Options,
    /// Which block devices to report.
    pub diskstats: diskstats::Options,
    /// Which mounts to report, and when a statfs counts as stuck.
    pub filesystem: filesystem::Options,
    /// The process groups.
    pub namedprocess: namedprocess::Options,
    /// Interfaces to skip.
    pub netclass: netclass::Options,
    /// Which interfaces to report.
    pub netdev: netdev::Options,
    /// Which `Proto_Field` counters to report.
    pub netstat: netstat::Options,
    /// Where and how to connect; `None` keeps the collector off.
    pub oceanbase: Option<ObOptions>,
    /// OBProxy's metrics endpoint; `None` keeps the collector off.
    pub obproxy: Option<obproxy::Options>,
    /// The directories of `*.prom` files.
    pub textfile: textfile::Options,
    /// The probe's tick and lateness margin.
    pub timer: timer::Options,
    /// Which /proc/vmstat fields to report.
    pub vmstat: vmstat::Options,
}

/// The options of the collectors configured in the YAML `collectors:` section, from their
/// flags over their keys. (The clusterware, OceanBase and OBProxy collectors have sections of
/// their own; the configuration compiles those.)
pub(crate) fn compile_host(
    flags: HostFlags,
    yaml: YamlKeys,
    at: &Origin,
    into: &mut CollectorOptions,
) -> Result<(), ConfigError> {
    into.diskstats = diskstats::compile(flags.diskstats, yaml.diskstats, at)?;
    into.filesystem = filesystem::compile(flags.filesystem, yaml.filesystem, at)?;
    into.namedprocess = namedprocess::compile(yaml.namedprocess, at)?;
    into.netclass = netclass::compile(flags.netclass, yaml.netclass, at)?;
    into.netdev = netdev::compile(flags.netdev, yaml.netdev, at)?;
    into.netstat = netstat::compile(flags.netstat, yaml.netstat, at)?;
    into.textfile = textfile::compile(flags.textfile, yaml.textfile, at);
    into.timer = timer::compile(flags.timer, yaml.timer, at)?;
    into.vmstat = vmstat::compile(flags.vmstat, yaml.vmstat, at)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_filters_match_node_exporter() {
        let o = CollectorOptions::default();
        let fs = &o.filesystem;
        assert!(!fs.mount_points.allows("/proc/sys/fs/binfmt_misc"));
        assert!(!fs.mount_points.allows("/var/lib/docker/overlay2/x"));
        assert!(fs.mount_points.allows("/var/lib/docker"));
        assert!(fs.mount_points.allows("/home/admin/oceanbase"));
        assert!(fs.fs_types.allows("tmpfs") && !fs.fs_types.allows("proc"));
        assert!(!fs.fs_types.allows("cgroup2"));
        let disks = &o.diskstats.devices;
        assert!(!disks.allows("sda1") && disks.allows("sda"));
        assert!(!disks.allows("nvme0n1p2") && disks.allows("nvme0n1"));
        assert!(o.netdev.devices.allows("eth0") && !o.netclass.pattern.is_match("eth0"));
        let netstat = &o.netstat.pattern;
        assert!(netstat.is_match("Tcp_RetransSegs") && !netstat.is_match("Tcp_MaxConn"));
        let vmstat = &o.vmstat.pattern;
        assert!(vmstat.is_match("pgmajfault") && !vmstat.is_match("nr_free_pages"));
    }

    #[test]
    fn every_yaml_key_has_one_owner() {
        let mut keys = YamlKeys::keys();
        let n = keys.len();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), n, "a key of `collectors:` claimed by two collectors");
    }
}
