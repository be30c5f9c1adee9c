//! Per-collector options (node_exporter's `--collector.<name>.<option>` flags and the YAML
//! `collectors:` section), validated and compiled once at start-up.

use std::path::PathBuf;
use std::time::Duration;

use regex::Regex;

use crate::collector::clusterware::ClusterwareOptions;
use crate::collector::namedprocess::{NameMatcher, builtin};
use crate::collector::obproxy::ObproxyOptions;
use crate::collector::oceanbase::ObOptions;

/// An include/exclude pair of anchored regexes, as node_exporter's `*-include`/`*-exclude`
/// flags (mutually exclusive per collector; checked at config time).
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// When set, only names matching it pass.
    pub include: Option<Regex>,
    /// When set, names matching it are dropped.
    pub exclude: Option<Regex>,
}

impl Filter {
    /// An exclude-only filter from a pattern known to be valid.
    pub fn exclude(pattern: &str) -> Self {
        Filter { include: None, exclude: Some(Regex::new(pattern).expect("built-in pattern")) }
    }

    /// True when `name` should be reported.
    pub fn allows(&self, name: &str) -> bool {
        self.include.as_ref().is_none_or(|r| r.is_match(name))
            && self.exclude.as_ref().is_none_or(|r| !r.is_match(name))
    }
}

/// node_exporter 1.x `--collector.filesystem.mount-points-exclude` default.
pub const FILESYSTEM_MOUNT_POINTS_EXCLUDE: &str =
    "^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)";
/// node_exporter 1.x `--collector.filesystem.fs-types-exclude` default.
pub const FILESYSTEM_FS_TYPES_EXCLUDE: &str = "^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|erofs|sysfs|tracefs)$";
/// node_exporter 1.x `--collector.diskstats.device-exclude` default: partitions and virtual
/// devices.
pub const DISKSTATS_DEVICE_EXCLUDE: &str = r"^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$";
/// node_exporter 1.x `--collector.netstat.fields` default.
pub const NETSTAT_FIELDS: &str = r"^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)|TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts|TCPOFOQueue|TCPRcvQDrop)|Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|CurrEstab)|Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$";
/// node_exporter 1.x `--collector.vmstat.fields` default.
pub const VMSTAT_FIELDS: &str = r"^(oom_kill|pgpg|pswp|pg.*fault).*";

/// Options of every collector that has any.
#[derive(Clone, Debug)]
pub struct CollectorOptions {
    /// filesystem: which mount points to report.
    pub filesystem_mount_points: Filter,
    /// filesystem: which filesystem types to report.
    pub filesystem_fs_types: Filter,
    /// filesystem: how long one statfs may take before its mount is marked stuck.
    pub filesystem_mount_timeout: Duration,
    /// diskstats: which block devices to report.
    pub diskstats_devices: Filter,
    /// netdev: which interfaces to report.
    pub netdev_devices: Filter,
    /// netclass: interfaces to skip (`--collector.netclass.ignored-devices`).
    pub netclass_ignored_devices: Regex,
    /// netstat: which `Proto_Field` counters to report.
    pub netstat_fields: Regex,
    /// vmstat: which /proc/vmstat fields to report.
    pub vmstat_fields: Regex,
    /// textfile: directories (globs allowed) holding `*.prom` files.
    pub textfile_directories: Vec<PathBuf>,
    /// namedprocess: the user's `process_names` entries, then (unless turned off) the
    /// built-in set; the first that matches a process names its group.
    pub process_names: Vec<NameMatcher>,
    /// timer: how long the probe thread sleeps each time.
    pub timer_tick: Duration,
    /// timer: a wake-up later than this counts in `obwatch_timer_wakeups_late_total`.
    pub timer_margin: Duration,
    /// oceanbase: where and how to connect; `None` keeps the collector off.
    pub oceanbase: Option<ObOptions>,
    /// clusterware: the CRS home (else found), interval and tool timeout.
    pub clusterware: ClusterwareOptions,
    /// obproxy: OBProxy's metrics endpoint; `None` keeps the collector off.
    pub obproxy: Option<ObproxyOptions>,
}

impl Default for CollectorOptions {
    fn default() -> Self {
        CollectorOptions {
            filesystem_mount_points: Filter::exclude(FILESYSTEM_MOUNT_POINTS_EXCLUDE),
            filesystem_fs_types: Filter::exclude(FILESYSTEM_FS_TYPES_EXCLUDE),
            filesystem_mount_timeout: Duration::from_secs(5),
            diskstats_devices: Filter::exclude(DISKSTATS_DEVICE_EXCLUDE),
            netdev_devices: Filter::default(),
            netclass_ignored_devices: Regex::new("^$").expect("built-in pattern"),
            netstat_fields: Regex::new(NETSTAT_FIELDS).expect("built-in pattern"),
            vmstat_fields: Regex::new(VMSTAT_FIELDS).expect("built-in pattern"),
            textfile_directories: Vec::new(),
            process_names: builtin_process_names(),
            // oprocd's defaults (`oprocd run -t 1000 -m 500`).
            timer_tick: Duration::from_secs(1),
            timer_margin: Duration::from_millis(500),
            oceanbase: None,
            clusterware: ClusterwareOptions::default(),
            obproxy: None,
        }
    }
}

/// The built-in `process_names` set, compiled.
pub fn builtin_process_names() -> Vec<NameMatcher> {
    builtin().iter().map(|c| NameMatcher::compile(c).expect("built-in pattern")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_filters_match_node_exporter() {
        let o = CollectorOptions::default();
        assert!(!o.filesystem_mount_points.allows("/proc/sys/fs/binfmt_misc"));
        assert!(!o.filesystem_mount_points.allows("/var/lib/docker/overlay2/x"));
        assert!(o.filesystem_mount_points.allows("/var/lib/docker"));
        assert!(o.filesystem_mount_points.allows("/home/admin/oceanbase"));
        assert!(o.filesystem_fs_types.allows("tmpfs") && !o.filesystem_fs_types.allows("proc"));
        assert!(!o.filesystem_fs_types.allows("cgroup2"));
        assert!(!o.diskstats_devices.allows("sda1") && o.diskstats_devices.allows("sda"));
        assert!(!o.diskstats_devices.allows("nvme0n1p2") && o.diskstats_devices.allows("nvme0n1"));
        assert!(
            o.netstat_fields.is_match("Tcp_RetransSegs")
                && !o.netstat_fields.is_match("Tcp_MaxConn")
        );
        assert!(
            o.vmstat_fields.is_match("pgmajfault") && !o.vmstat_fields.is_match("nr_free_pages")
        );
    }
}
