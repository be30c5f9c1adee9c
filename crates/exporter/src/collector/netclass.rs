//! `node_network_*` link properties (`node_network_info`, `_up`, `_mtu_bytes`, `_speed_bytes`,
//! `_carrier*`, ...) from `/sys/class/net/<iface>/` (Documentation/ABI/testing/sysfs-class-net),
//! plus `read_attr`, the small-attribute reader netdev and bonding share.
//!
//! node_exporter reads every file of every interface directory (3.6 ms on a busy host); this
//! reads only the 22 attributes it exports, each with one `openat` relative to the interface's
//! directory fd (the kernel resolves the `class/net/<iface>` symlink once per interface, not
//! once per attribute) into a stack buffer. The attributes the kernel fixes when a netdev
//! registers (`STATIC`) are read once per netdev instance: sysfs opens are most of this
//! collector's cost, which was a quarter of a whole scrape's CPU.

use std::collections::HashMap;
use std::ops::Range;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use obwatch_common::metrics::{MetricSet, MetricType};
use regex::Regex;
use rustix::fs::{CWD, Dir, FileType, Mode, OFlags, openat};
use rustix::io::Errno;

use super::open_files::{on_kernel_fs, read_attr_in};
use super::{BuildContext, BuildError, CollectError, Collector, CollectorSpec};
use crate::collector::option_parts::regex_option;

/// Registry entry.
pub const SPEC: CollectorSpec = CollectorSpec { name: "netclass", default_enabled: true, build };

/// Interfaces netclass skips by default: none.
pub const IGNORED_DEVICES: &str = "^$";

regex_option! {
    /// Regexp of net devices to ignore for netclass.
    flag: "collector.netclass.ignored-devices",
    key: netclass_ignored_devices,
    default: IGNORED_DEVICES,
}

fn build(cx: &BuildContext) -> Result<Box<dyn Collector>, BuildError> {
    Ok(Box::new(Netclass {
        dir: cx.root.sys("class/net"),
        ignored: cx.options.netclass.pattern.clone(),
        fixed: Mutex::new(HashMap::new()),
    }))
}

/// Reads the link properties of every interface not matching `ignored`.
#[derive(Debug)]
pub struct Netclass {
    dir: PathBuf,
    ignored: Regex,
    /// The `STATIC` attributes of each netdev seen, keyed by the inode of its sysfs directory:
    /// a netdev deleted and re-created under the same name gets a new kernfs node, so a new
    /// inode (kernfs allocates them cyclically, fs/kernfs/dir.c), and is read afresh. Entries
    /// of netdevs gone are dropped each scrape.
    fixed: Mutex<HashMap<u64, Fixed>>,
}

/// Attributes set when a netdev registers and not changed afterwards (net/core/net-sysfs.c:
/// read-only, from `dev->type`, `dev->ifindex`, `dev->name_assign_type`, `dev->dev_id`,
/// `dev_get_iflink()`, `dev->broadcast`).
const STATIC: [&str; 6] = ["broadcast", "dev_id", "ifindex", "iflink", "name_assign_type", "type"];

/// The cached `STATIC` values of one netdev.
#[derive(Clone, Debug)]
struct Fixed {
    nums: [Option<f64>; 17],
    broadcast: String,
}

/// Numeric attributes: file, metric, HELP, type. node_exporter's HELP names the metric suffix.
const NUMERIC: [(&str, &str, &str, MetricType); 17] = {
    use MetricType::{Counter as C, Gauge as G};
    [
        (
            "addr_assign_type",
            "node_network_address_assign_type",
            "Network device property: address_assign_type",
            G,
        ),
        ("carrier", "node_network_carrier", "Network device property: carrier", G),
        (
            "carrier_changes",
            "node_network_carrier_changes_total",
            "Network device property: carrier_changes_total",
            C,
        ),
        (
            "carrier_up_count",
            "node_network_carrier_up_changes_total",
            "Network device property: carrier_up_changes_total",
            C,
        ),
        (
            "carrier_down_count",
            "node_network_carrier_down_changes_total",
            "Network device property: carrier_down_changes_total",
            C,
        ),
        ("dev_id", "node_network_device_id", "Network device property: device_id", G),
        ("dormant", "node_network_dormant", "Network device property: dormant", G),
        ("flags", "node_network_flags", "Network device property: flags", G),
        ("ifindex", "node_network_iface_id", "Network device property: iface_id", G),
        ("iflink", "node_network_iface_link", "Network device property: iface_link", G),
        (
            "link_mode",
            "node_network_iface_link_mode",
            "Network device property: iface_link_mode",
            G,
        ),
        ("mtu", "node_network_mtu_bytes", "Network device property: mtu_bytes", G),
        (
            "name_assign_type",
            "node_network_name_assign_type",
            "Network device property: name_assign_type",
            G,
        ),
        ("netdev_group", "node_network_net_dev_group", "Network device property: net_dev_group", G),
        // Mbit/s in sysfs; node_exporter multiplies by 1000*1000/8 and keeps -1 (unknown, e.g.
        // virtio) as -125000 unless --collector.netclass.ignore-invalid-speed.
        ("speed", "node_network_speed_bytes", "Network device property: speed_bytes", G),
        (
            "tx_queue_len",
            "node_network_transmit_queue_length",
            "Network device property: transmit_queue_length",
            G,
        ),
        ("type", "node_network_protocol_type", "Network device property: protocol_type", G),
    ]
};
const SPEED: usize = 14;

/// Text attributes, in `node_network_info` label order (labels sorted by name).
const TEXT: [(&str, &str); 5] = [
    ("address", "address"),
    ("broadcast", "broadcast"),
    ("duplex", "duplex"),
    ("ifalias", "ifalias"),
    ("operstate", "operstate"),
];
const OPERSTATE: usize = 4;

/// One interface; text lives in a shared buffer so a scrape allocates per scrape, not per
/// attribute.
#[derive(Debug)]
struct Iface {
    name: Range<usize>,
    text: [Range<usize>; 5],
    nums: [Option<f64>; 17],
}

impl Collector for Netclass {
    fn collect(&self, out: &mut MetricSet) -> Result<(), CollectError> {
        let io = |e: Errno, p: &Path| CollectError::io(p, e.into());
        let root = openat(
            CWD,
            &self.dir,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| io(e, &self.dir))?;
        let kernel_fs = on_kernel_fs(&root);
        let mut strings = String::with_capacity(1024);
        let mut ifaces = Vec::new();
        let mut fixed = self.fixed.lock().unwrap_or_else(|p| p.into_inner());
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        for entry in Dir::read_from(&root).map_err(|e| io(e, &self.dir))? {
            let entry = entry.map_err(|e| io(e, &self.dir))?;
            // bonding_masters is a regular file; interfaces are symlinks to /sys/devices.
            if entry.file_type() == FileType::RegularFile {
                continue;
            }
            let Ok(name) = entry.file_name().to_str() else { continue };
            if name.starts_with('.') || self.ignored.is_match(name) {
                continue;
            }
            let dir = match openat(
                &root,
                name,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            ) {
                Ok(fd) => fd,
                // Removed between readdir and open, or not a directory: nothing to report.
                Err(Errno::NOENT | Errno::NOTDIR | Errno::NODEV) => continue,
                Err(e) => return Err(io(e, &self.dir.join(name))),
            };
            let mut iface = Iface {
                name: push(&mut strings, name),
                text: Default::default(),
                nums: [None; 17],
            };
            let ino = rustix::fs::fstat(&dir).ok().map(|st| st.st_ino);
            let mut path = self.dir.join(name);
            seen.push(ino);
            let known = ino.and_then(|i| fixed.get(&i));
            for (i, (file, ..)) in NUMERIC.iter().enumerate() {
                if let Some(k) = known.filter(|_| STATIC.contains(file)) {
                    iface.nums[i] = k.nums[i];
                    continue;
                }
                path.push(file);
                let text = read_attr_in((dir.as_fd(), file, &path), kernel_fs, &mut buf)
                    .map_err(|e| io(e, &path))?;
                iface.nums[i] = text.and_then(parse_value);
                path.pop();
            }
            if let Some(speed) = &mut iface.nums[SPEED] {
                *speed *= 125_000.0;
            }
            for (i, (file, _)) in TEXT.iter().enumerate() {
                if let Some(k) = known.filter(|_| STATIC.contains(file)) {
                    iface.text[i] = push(&mut strings, &k.broadcast);
                    continue;
                }
                path.push(file);
                let text = read_attr_in((dir.as_fd(), file, &path), kernel_fs, &mut buf)
                    .map_err(|e| io(e, &path))?;
                iface.text[i] = push(&mut strings, text.unwrap_or(""));
                path.pop();
            }
            if let (Some(i), None) = (ino, known) {
                let mut nums = [None; 17];
                for (k, (file, ..)) in NUMERIC.iter().enumerate() {
                    if STATIC.contains(file) {
                        nums[k] = iface.nums[k];
                    }
                }
                fixed.insert(
                    i,
                    Fixed { nums, broadcast: strings[iface.text[1].clone()].to_string() },
                );
            }
            ifaces.push(iface);
        }
        fixed.retain(|ino, _| seen.contains(&Some(*ino)));
        ifaces.sort_unstable_by(|a, b| strings[a.name.clone()].cmp(&strings[b.name.clone()]));
        emit(&ifaces, &strings, out);
        Ok(())
    }
}

fn push(strings: &mut String, s: &str) -> Range<usize> {
    let start = strings.len();
    strings.push_str(s);
    start..strings.len()
}

fn emit(ifaces: &[Iface], s: &str, out: &mut MetricSet) {
    let up = out.family(
        "node_network_up",
        "Value is 1 if operstate is 'up', 0 otherwise.",
        MetricType::Gauge,
    );
    for i in ifaces {
        up.sample(
            &[("device", &s[i.name.clone()])],
            f64::from(u8::from(&s[i.text[OPERSTATE].clone()] == "up")),
        );
    }
    let info = out.family(
        "node_network_info",
        "Non-numeric data from /sys/class/net/<iface>, value is always 1.",
        MetricType::Gauge,
    );
    for i in ifaces {
        let t = |k: usize| &s[i.text[k].clone()];
        info.sample(
            &[
                ("address", t(0)),
                ("broadcast", t(1)),
                ("device", &s[i.name.clone()]),
                ("duplex", t(2)),
                ("ifalias", t(3)),
                ("operstate", t(4)),
            ],
            1.0,
        );
    }
    for (k, (_, metric, help, kind)) in NUMERIC.iter().enumerate() {
        let f = out.family(*metric, *help, *kind);
        for i in ifaces {
            if let Some(v) = i.nums[k] {
                f.sample(&[("device", &s[i.name.clone()])], v);
            }
        }
    }
}

/// Parses an attribute the way node_exporter does (Go `ParseInt(s, 0, 64)`): `0x` hex for
/// `flags`/`dev_id`, signed decimal otherwise. Anything else is skipped, not an error.
pub fn parse_value(s: &str) -> Option<f64> {
    let v = match s.strip_prefix("0x") {
        Some(hex) => i64::from_str_radix(hex, 16).ok()?,
        None => s.parse::<i64>().ok()?,
    };
    Some(v as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(tree: &str, ignored: &str) -> MetricSet {
        let d = tempfile::tempdir().unwrap();
        crate::fixture::build(d.path(), tree).unwrap();
        let c = Netclass {
            dir: d.path().join("sys/class/net"),
            ignored: Regex::new(ignored).unwrap(),
            fixed: Mutex::new(HashMap::new()),
        };
        let mut out = MetricSet::new();
        c.collect(&mut out).unwrap();
        out
    }

    #[test]
    fn fixed_attributes_are_read_once_per_netdev_instance() {
        let d = tempfile::tempdir().unwrap();
        let tree = "=== net/eth9/type\n1\n=== net/eth9/mtu\n1500\n=== net/eth9/operstate\nup\n";
        crate::fixture::build(d.path(), tree).unwrap();
        let c = Netclass {
            dir: d.path().join("net"),
            ignored: Regex::new("^$").unwrap(),
            fixed: Mutex::new(HashMap::new()),
        };
        let scrape = || {
            let mut out = MetricSet::new();
            c.collect(&mut out).unwrap();
            let get = |m| out.get(m, &[("device", "eth9")]);
            (get("node_network_protocol_type"), get("node_network_mtu_bytes"))
        };
        assert_eq!(scrape(), (Some(1.0), Some(1500.0)));
        // mtu is re-read every scrape; type is fixed for the life of the netdev.
        std::fs::write(d.path().join("net/eth9/mtu"), "9000\n").unwrap();
        std::fs::write(d.path().join("net/eth9/type"), "772\n").unwrap();
        assert_eq!(scrape(), (Some(1.0), Some(9000.0)));
        // Deleted and re-created: a new directory inode, so everything is read again. (The old
        // one is removed only after, so a test filesystem cannot hand out the same inode;
        // kernfs allocates its ids cyclically.)
        std::fs::rename(d.path().join("net/eth9"), d.path().join("old")).unwrap();
        crate::fixture::build(d.path(), "=== net/eth9/type\n772\n=== net/eth9/mtu\n65536\n")
            .unwrap();
        std::fs::remove_dir_all(d.path().join("old")).unwrap();
        assert_eq!(scrape(), (Some(772.0), Some(65536.0)));
        assert_eq!(c.fixed.lock().unwrap().len(), 1, "entries of vanished netdevs are dropped");
    }

    #[test]
    fn parses_values_like_go_parseint_base0() {
        assert_eq!(parse_value("0x1003"), Some(4099.0));
        assert_eq!(parse_value("-1"), Some(-1.0));
        assert_eq!(parse_value("65536"), Some(65536.0));
        assert_eq!(parse_value("unknown"), None);
        assert_eq!(parse_value(""), None);
    }

    #[test]
    fn real_firecracker_host() {
        // This repository's fixture: captured from a Firecracker VM, kernel 6.18 (virtio eth0
        // with speed -1, two down ifb devices whose carrier/speed/duplex read EINVAL, lo).
        let out = collect(include_str!("../../tests/fixtures/netclass.tree"), "^$");
        let dev = |d| [("device", d)];
        assert_eq!(out.get("node_network_up", &dev("eth0")), Some(1.0));
        assert_eq!(out.get("node_network_up", &dev("lo")), Some(0.0));
        assert_eq!(out.get("node_network_speed_bytes", &dev("eth0")), Some(-125000.0));
        assert_eq!(out.get("node_network_speed_bytes", &dev("ifb0")), None);
        assert_eq!(out.get("node_network_carrier", &dev("ifb0")), None);
        assert_eq!(out.get("node_network_flags", &dev("eth0")), Some(4099.0));
        assert_eq!(out.get("node_network_mtu_bytes", &dev("lo")), Some(65536.0));
        assert_eq!(out.get("node_network_protocol_type", &dev("lo")), Some(772.0));
        assert_eq!(out.get("node_network_carrier_changes_total", &dev("eth0")), Some(2.0));
        assert_eq!(out.get("node_network_iface_id", &dev("ifb1")), Some(3.0));
        let info = [
            ("address", "02:fc:00:00:00:01"),
            ("broadcast", "ff:ff:ff:ff:ff:ff"),
            ("device", "eth0"),
            ("duplex", "unknown"),
            ("ifalias", ""),
            ("operstate", "up"),
        ];
        assert_eq!(out.get("node_network_info", &info), Some(1.0));
        let names: Vec<_> =
            out.find("node_network_up").unwrap().samples().map(|(l, _)| l.to_string()).collect();
        assert_eq!(
            names,
            ["device=\"eth0\"", "device=\"ifb0\"", "device=\"ifb1\"", "device=\"lo\""]
        );
    }

    #[test]
    fn rhel7_bond_layout_and_ignored_devices() {
        // RHEL 7.9 (3.10): no carrier_up/down_count (4.16) and no name_assign_type (3.17);
        // a 10G bond with an alias, as in sysfs-class-net. Regular file bonding_masters must be
        // skipped, and em1 is ignored by the regex.
        let tree = "=== sys/class/net/bonding_masters\nbond0\n\
            === sys/class/net/bond0 -> ../../devices/virtual/net/bond0\n\
            === sys/class/net/em1 -> ../../devices/pci0000:00/0000:00:01.0/net/em1\n\
            === sys/devices/pci0000:00/0000:00:01.0/net/em1/mtu\n1500\n\
            === sys/devices/virtual/net/bond0/address\n3c:fd:fe:a1:b2:c3\n\
            === sys/devices/virtual/net/bond0/broadcast\nff:ff:ff:ff:ff:ff\n\
            === sys/devices/virtual/net/bond0/duplex\nfull\n\
            === sys/devices/virtual/net/bond0/ifalias\nuplink to tor-1\n\
            === sys/devices/virtual/net/bond0/operstate\nup\n\
            === sys/devices/virtual/net/bond0/speed\n20000\n\
            === sys/devices/virtual/net/bond0/carrier_changes\n5\n\
            === sys/devices/virtual/net/bond0/mtu\n9000\n";
        let out = collect(tree, "^em");
        let dev = [("device", "bond0")];
        assert_eq!(out.get("node_network_speed_bytes", &dev), Some(2.5e9));
        assert_eq!(out.get("node_network_mtu_bytes", &dev), Some(9000.0));
        assert_eq!(out.get("node_network_carrier_changes_total", &dev), Some(5.0));
        assert_eq!(out.get("node_network_carrier_up_changes_total", &dev), None);
        assert_eq!(out.get("node_network_mtu_bytes", &[("device", "em1")]), None);
        let info = [
            ("address", "3c:fd:fe:a1:b2:c3"),
            ("broadcast", "ff:ff:ff:ff:ff:ff"),
            ("device", "bond0"),
            ("duplex", "full"),
            ("ifalias", "uplink to tor-1"),
            ("operstate", "up"),
        ];
        assert_eq!(out.get("node_network_info", &info), Some(1.0));
        assert_eq!(out.find("node_network_up").unwrap().len(), 1);
    }

    #[test]
    fn missing_class_dir_is_no_data() {
        let c = Netclass {
            dir: "/nonexistent/class/net".into(),
            ignored: Regex::new("^$").unwrap(),
            fixed: Mutex::new(HashMap::new()),
        };
        assert!(matches!(c.collect(&mut MetricSet::new()), Err(CollectError::NoData(_))));
    }
}
