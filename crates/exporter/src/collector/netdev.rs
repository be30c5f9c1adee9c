//! `node_network_{receive,transmit}_*_total{device}` from `/proc/net/dev` (proc(5), "net/dev";
//! the columns are the kernel's `dev_seq_printf_stats`), plus `receive_nohandler` from
//! `/sys/class/net/<iface>/statistics/rx_nohandler` (Documentation/ABI/testing/sysfs-class-net-statistics).
//!
//! node_exporter 1.5 reads the same counters over rtnetlink by default, which also yields
//! `receive_nohandler`; /proc/net/dev lacks that column, so it comes from sysfs, one small
//! read per device, to keep the family set of 1.5.

use std::borrow::Cow;
use std::path::PathBuf;

use obwatch_common::metrics::{MetricSet, MetricType};

use super::open_files::read_attr_kept;
use super::{BuildContext, BuildError, CollectError, Collector, CollectorSpec, with_file};
use crate::collector::option_parts::{Filter, IncludeExclude, Origin, yaml_keys};
use obwatch_common::config::ConfigError;

/// Registry entry.
pub const SPEC: CollectorSpec = CollectorSpec { name: "netdev", default_enabled: true, build };

fn build(cx: &BuildContext) -> Result<Box<dyn Collector>, BuildError> {
    Ok(Box::new(Netdev {
        path: cx.root.proc("net/dev"),
        class_net: cx.root.sys("class/net"),
        devices: cx.options.netdev.devices.clone(),
    }))
}

/// The netdev collector's options.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Which interfaces to report (all by default).
    pub devices: Filter,
}

/// Its flags.
#[derive(Debug, Default, clap::Args)]
#[group(skip)]
pub(crate) struct Flags {
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
}

yaml_keys! {
    /// Its key of the YAML `collectors:` section.
    Yaml { netdev_devices: IncludeExclude, }
}

/// Its options from the flags over the YAML key.
pub(crate) fn compile(flags: Flags, yaml: Yaml, at: &Origin) -> Result<Options, ConfigError> {
    let flag =
        ("--collector.netdev.device", [flags.netdev_device_include, flags.netdev_device_exclude]);
    let devices =
        Filter::compile(Filter::default(), at, flag, ("netdev_devices", yaml.netdev_devices))?;
    Ok(Options { devices })
}

/// Reads per-interface traffic counters.
#[derive(Debug)]
pub struct Netdev {
    path: PathBuf,
    class_net: PathBuf,
    devices: Filter,
}

/// The parsed table: metric name and HELP per column, then one row of values per device.
#[derive(Debug, Default)]
pub struct Table<'a> {
    /// `(metric, help)` per column, receive columns first.
    pub columns: Vec<(Cow<'static, str>, Cow<'static, str>)>,
    /// Device names, in file order.
    pub devices: Vec<&'a str>,
    /// Row-major values: `values[d * columns.len() + c]`.
    pub values: Vec<u64>,
}

impl Collector for Netdev {
    fn collect(&self, out: &mut MetricSet) -> Result<(), CollectError> {
        with_file(&self.path, |text| {
            let table = parse(text, |d| self.devices.allows(d))?;
            emit(&table, out);
            self.nohandler(&table.devices, out);
            Ok(())
        })
    }
}

impl Netdev {
    /// `receive_nohandler` per device, where sysfs has it (kernel 4.6+). A missing class dir
    /// or attribute just leaves the family out.
    fn nohandler(&self, devices: &[&str], out: &mut MetricSet) {
        let f = out.family(
            "node_network_receive_nohandler_total",
            "Network device statistic receive_nohandler.",
            MetricType::Counter,
        );
        let mut buf = [0u8; 32];
        for dev in devices {
            let path = self.class_net.join(dev).join("statistics/rx_nohandler");
            if let Ok(Some(v)) = read_attr_kept(&path, &mut buf)
                && let Ok(v) = v.parse::<u64>()
            {
                f.sample(&[("device", dev)], v as f64);
            }
        }
    }
}

/// Adds one counter family per column, one sample per device.
pub fn emit(table: &Table<'_>, out: &mut MetricSet) {
    let n = table.columns.len();
    for (c, (name, help)) in table.columns.iter().enumerate() {
        let f = out.family(name.clone(), help.clone(), MetricType::Counter);
        for (d, dev) in table.devices.iter().enumerate() {
            f.sample(&[("device", dev)], table.values[d * n + c] as f64);
        }
    }
}

/// Parses /proc/net/dev: two header lines (the second names the columns of the `Receive` and
/// `Transmit` groups, split by `|`), then `  name: v1 v2 ...` per device. Columns come from
/// the header, as node_exporter does, so a new kernel column becomes a new family.
pub fn parse<'a>(text: &'a str, allows: impl Fn(&str) -> bool) -> Result<Table<'a>, String> {
    let mut lines = text.lines();
    lines.next();
    let header = lines.next().ok_or("missing the column header line")?;
    let mut groups = header.split('|');
    let (Some(_), Some(rx), Some(tx), None) =
        (groups.next(), groups.next(), groups.next(), groups.next())
    else {
        return Err(format!("invalid header line {header:?}"));
    };
    let mut table = Table::default();
    for (dir, group) in [("receive", rx), ("transmit", tx)] {
        table.columns.extend(group.split_ascii_whitespace().map(|col| column(dir, col)));
    }
    let n = table.columns.len();
    for line in lines {
        let Some((dev, rest)) = line.split_once(':') else {
            return Err(format!("no interface name in line {line:?}"));
        };
        let dev = dev.trim();
        if !allows(dev) {
            continue;
        }
        let start = table.values.len();
        for v in rest.split_ascii_whitespace() {
            table
                .values
                .push(v.parse().map_err(|_| format!("{dev}: value {v:?} is not a counter"))?);
        }
        if table.values.len() - start != n {
            return Err(format!("{dev}: {} values for {n} columns", table.values.len() - start));
        }
        table.devices.push(dev);
    }
    Ok(table)
}

/// Metric name and HELP of a column; the known ones without allocating.
fn column(dir: &str, col: &str) -> (Cow<'static, str>, Cow<'static, str>) {
    macro_rules! known {
        ($($d:literal $c:literal),* $(,)?) => {
            match (dir, col) {
                $(($d, $c) => (
                    Cow::Borrowed(concat!("node_network_", $d, "_", $c, "_total")),
                    Cow::Borrowed(concat!("Network device statistic ", $d, "_", $c, ".")),
                ),)*
                _ => (
                    Cow::Owned(format!("node_network_{dir}_{col}_total")),
                    Cow::Owned(format!("Network device statistic {dir}_{col}.")),
                ),
            }
        };
    }
    known!(
        "receive" "bytes", "receive" "packets", "receive" "errs", "receive" "drop", "receive" "fifo",
        "receive" "frame", "receive" "compressed", "receive" "multicast",
        "transmit" "bytes", "transmit" "packets", "transmit" "errs", "transmit" "drop",
        "transmit" "fifo", "transmit" "colls", "transmit" "carrier", "transmit" "compressed",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // This host: Firecracker VM, kernel 6.18 (the layout is unchanged since 2.6).
    const FIRECRACKER: &str = "\
Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:  669859    2313    0    0    0     0          0         0   669859    2313    0    0    0     0       0          0
  ifb0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
  ifb1:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
  eth0: 94105340    4576    0    0    0     0          0         0   340723    3452    0    0    0     0       0          0
";

    // A bonded RHEL 7 (3.10) host, written from 3.10's format string in net/core/dev.c
    // (`"%6s: %7llu %7llu %4llu %4llu %4llu %5llu %10llu %9llu %8llu ..."`); the em2 line uses
    // the 2.6-era `"%6s:%8llu"` shape where a wide counter touches the colon.
    const RHEL7: &str = "\
Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
 bond0: 9213771826421 6386254305    0 1187    0     0          0    114578 4427614123012 4797622637    0    0    0     0       0          0
   em1: 4616977843215 3194286101    0  591    0     0          0     57289 2213807061506 2398811318    0    0    0     0       0          0
   em2:4596793983206 3191968204    0  596    0     0          0     57289 2213807061506 2398811319    0    0    0     0       0          0
    lo: 1283442938 4013717    0    0    0     0          0         0 1283442938 4013717    0    0    0     0       0          0
";

    #[test]
    fn parses_firecracker_host() {
        let t = parse(FIRECRACKER, |_| true).unwrap();
        assert_eq!(t.devices, ["lo", "ifb0", "ifb1", "eth0"]);
        assert_eq!(t.columns.len(), 16);
        assert_eq!(t.columns[0].0, "node_network_receive_bytes_total");
        assert_eq!(t.columns[13].0, "node_network_transmit_colls_total");
        assert_eq!(t.columns[13].1, "Network device statistic transmit_colls.");
        let mut out = MetricSet::new();
        emit(&t, &mut out);
        let eth0 = [("device", "eth0")];
        assert_eq!(out.get("node_network_receive_bytes_total", &eth0), Some(94105340.0));
        assert_eq!(out.get("node_network_transmit_packets_total", &eth0), Some(3452.0));
        assert_eq!(
            out.get("node_network_receive_packets_total", &[("device", "lo")]),
            Some(2313.0)
        );
        assert_eq!(out.find("node_network_transmit_carrier_total").unwrap().len(), 4);
    }

    #[test]
    fn parses_rhel7_bond_with_filter() {
        let t = parse(RHEL7, |d| d != "lo").unwrap();
        assert_eq!(t.devices, ["bond0", "em1", "em2"]);
        let mut out = MetricSet::new();
        emit(&t, &mut out);
        let bond = [("device", "bond0")];
        assert_eq!(out.get("node_network_receive_bytes_total", &bond), Some(9213771826421.0));
        assert_eq!(out.get("node_network_receive_drop_total", &bond), Some(1187.0));
        assert_eq!(out.get("node_network_receive_multicast_total", &bond), Some(114578.0));
        assert_eq!(
            out.get("node_network_transmit_bytes_total", &[("device", "em1")]),
            Some(2213807061506.0)
        );
        assert_eq!(
            out.get("node_network_receive_bytes_total", &[("device", "em2")]),
            Some(4596793983206.0)
        );
    }

    #[test]
    fn new_columns_become_families_and_odd_lines_are_errors() {
        let text = "x\n face |bytes rx_new|bytes\n  eth0: 1 2 3\n";
        let t = parse(text, |_| true).unwrap();
        assert_eq!(t.columns[1].0, "node_network_receive_rx_new_total");
        assert_eq!(t.values, [1, 2, 3]);
        assert!(
            parse("x\n face |bytes|bytes\n  eth0: 1\n", |_| true)
                .unwrap_err()
                .contains("eth0: 1 values for 2")
        );
        assert!(
            parse("x\n face |bytes|bytes\n  eth0 1 2\n", |_| true)
                .unwrap_err()
                .contains("no interface")
        );
        assert!(parse("x\n face bytes bytes\n", |_| true).unwrap_err().contains("invalid header"));
        assert!(parse("", |_| true).is_err());
    }

    #[test]
    fn collects_fixture_with_nohandler_from_sysfs() {
        let d = tempfile::tempdir().unwrap();
        crate::fixture::build(d.path(), include_str!("../../tests/fixtures/netclass.tree"))
            .unwrap();
        crate::fixture::build(d.path(), include_str!("../../tests/fixtures/netdev.tree")).unwrap();
        let c = Netdev {
            path: d.path().join("proc/net/dev"),
            class_net: d.path().join("sys/class/net"),
            devices: Filter::default(),
        };
        let mut out = MetricSet::new();
        c.collect(&mut out).unwrap();
        let eth0 = [("device", "eth0")];
        assert_eq!(out.get("node_network_receive_bytes_total", &eth0), Some(112174034.0));
        assert_eq!(out.get("node_network_receive_nohandler_total", &eth0), Some(0.0));
        assert_eq!(out.find("node_network_receive_nohandler_total").unwrap().len(), 4);
    }
}
