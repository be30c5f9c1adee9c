//! `node_disk_*` from `/proc/diskstats` (Documentation/admin-guide/iostats.rst), plus
//! `node_disk_info`, `node_disk_filesystem_info`, `node_disk_device_mapper_info` and
//! `node_disk_ata_*` from udev's database, `<rootfs>/run/udev/data/b<major>:<minor>`
//! (udevadm(8)), as node_exporter 1.5 does. Without udev data (containers, no rootfs mount)
//! the info labels are empty, as in node_exporter.

use std::io::Read;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use obwatch_common::metrics::{MetricSet, MetricType};

use super::{BuildContext, BuildError, CollectError, Collector, CollectorSpec, with_file};
use crate::collector::option_parts::{Filter, IncludeExclude, Origin, yaml_keys};
use obwatch_common::config::ConfigError;

/// Registry entry.
pub const SPEC: CollectorSpec = CollectorSpec { name: "diskstats", default_enabled: true, build };

/// node_exporter 1.x `--collector.diskstats.device-exclude` default: partitions and virtual
/// devices.
pub const DEVICE_EXCLUDE: &str = r"^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$";

/// The diskstats collector's options.
#[derive(Clone, Debug)]
pub struct Options {
    /// Which block devices to report.
    pub devices: Filter,
}

impl Default for Options {
    fn default() -> Self {
        Options { devices: Filter::exclude(DEVICE_EXCLUDE) }
    }
}

/// Its flags.
#[derive(Debug, Default, clap::Args)]
#[group(skip)]
pub(crate) struct Flags {
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
}

yaml_keys! {
    /// Its key of the YAML `collectors:` section.
    Yaml { diskstats_devices: IncludeExclude, }
}

/// Its options from the flags over the YAML key.
pub(crate) fn compile(flags: Flags, yaml: Yaml, at: &Origin) -> Result<Options, ConfigError> {
    let flag = (
        "--collector.diskstats.device",
        [flags.diskstats_device_include, flags.diskstats_device_exclude],
    );
    let devices = Filter::compile(
        Options::default().devices,
        at,
        flag,
        ("diskstats_devices", yaml.diskstats_devices),
    )?;
    Ok(Options { devices })
}

/// Sectors in /proc/diskstats are always 512 bytes, whatever the device's block size.
const SECTOR: f64 = 512.0;
/// Times are in milliseconds; node_exporter multiplies by 1/1000 (kept for equal floats).
const MS: f64 = 1.0 / 1000.0;

/// Per stat column after `major minor name`: metric, help, type, factor. 11 columns before
/// 4.18, 15 with discards (4.18+), 17 with flushes (5.5+); a line exports what it has.
#[rustfmt::skip]
const STATS: [(&str, &str, MetricType, f64); 17] = {
    use MetricType::{Counter as C, Gauge as G};
    [
        ("node_disk_reads_completed_total", "The total number of reads completed successfully.", C, 1.0),
        ("node_disk_reads_merged_total", "The total number of reads merged.", C, 1.0),
        ("node_disk_read_bytes_total", "The total number of bytes read successfully.", C, SECTOR),
        ("node_disk_read_time_seconds_total", "The total number of seconds spent by all reads.", C, MS),
        ("node_disk_writes_completed_total", "The total number of writes completed successfully.", C, 1.0),
        ("node_disk_writes_merged_total", "The number of writes merged.", C, 1.0),
        ("node_disk_written_bytes_total", "The total number of bytes written successfully.", C, SECTOR),
        ("node_disk_write_time_seconds_total", "This is the total number of seconds spent by all writes.", C, MS),
        ("node_disk_io_now", "The number of I/Os currently in progress.", G, 1.0),
        ("node_disk_io_time_seconds_total", "Total seconds spent doing I/Os.", C, MS),
        ("node_disk_io_time_weighted_seconds_total", "The weighted # of seconds spent doing I/Os.", C, MS),
        ("node_disk_discards_completed_total", "The total number of discards completed successfully.", C, 1.0),
        ("node_disk_discards_merged_total", "The total number of discards merged.", C, 1.0),
        // node_exporter exports discarded sectors as sectors, not bytes.
        ("node_disk_discarded_sectors_total", "The total number of sectors discarded successfully.", C, 1.0),
        ("node_disk_discard_time_seconds_total", "This is the total number of seconds spent by all discards.", C, MS),
        ("node_disk_flush_requests_total", "The total number of flush requests completed successfully", C, 1.0),
        ("node_disk_flush_requests_time_seconds_total", "This is the total number of seconds spent by all flush requests.", C, MS),
    ]
};

/// udev ATA properties exported as gauges when `ID_ATA` is set.
#[rustfmt::skip]
const ATA: [(&str, &str, &str); 3] = [
    ("ID_ATA_WRITE_CACHE", "node_disk_ata_write_cache", "ATA disk has a write cache."),
    ("ID_ATA_WRITE_CACHE_ENABLED", "node_disk_ata_write_cache_enabled", "ATA disk has its write cache enabled."),
    ("ID_ATA_ROTATION_RATE_RPM", "node_disk_ata_rotation_rate_rpm", "ATA disk rotation rate in RPMs (0 for SSDs)."),
];

/// Info families from udev, exported when their first property is set: metric, help, then
/// (label, property) sorted by label. At most 5 pairs (see `emit`).
type UdevInfo = (&'static str, &'static str, &'static str, &'static [(&'static str, &'static str)]);
#[rustfmt::skip]
const UDEV_INFO: [UdevInfo; 2] = [
    ("node_disk_filesystem_info", "Info about disk filesystem.", "ID_FS_TYPE",
     &[("type", "ID_FS_TYPE"), ("usage", "ID_FS_USAGE"), ("uuid", "ID_FS_UUID"), ("version", "ID_FS_VERSION")]),
    ("node_disk_device_mapper_info", "Info about disk device mapper.", "DM_NAME",
     &[("lv_layer", "DM_LV_LAYER"), ("lv_name", "DM_LV_NAME"), ("name", "DM_NAME"), ("uuid", "DM_UUID"), ("vg_name", "DM_VG_NAME")]),
];

fn build(cx: &BuildContext) -> Result<Box<dyn Collector>, BuildError> {
    let udev = cx.root.rootfs_path("/run/udev/data");
    Ok(Box::new(Diskstats {
        path: cx.root.proc("diskstats"),
        devices: cx.options.diskstats.devices.clone(),
        // Checked once: without udev, skip one failing open per device per scrape.
        udev: udev.is_dir().then_some(udev),
        state: Mutex::default(),
    }))
}

/// Reads block device I/O counters.
#[derive(Debug)]
pub struct Diskstats {
    path: PathBuf,
    devices: Filter,
    udev: Option<PathBuf>,
    state: Mutex<State>,
}

/// Buffers reused across scrapes.
#[derive(Debug, Default)]
struct State {
    disks: Vec<Disk>,
    /// The udev files of all reported disks, back to back (`Disk::udev` indexes it).
    udev_text: String,
    udev_path: PathBuf,
}

/// One /proc/diskstats line; ranges index the text it was parsed from.
#[derive(Clone, Debug, PartialEq)]
pub struct Disk {
    /// Device name, e.g. `sda`.
    pub name: Range<usize>,
    /// Major number (text).
    pub major: Range<usize>,
    /// Minor number (text).
    pub minor: Range<usize>,
    /// The stat columns present (11, 15 or 17).
    pub count: usize,
    /// Raw column values; those past `count` are 0.
    pub stats: [u64; 17],
    /// This disk's udev properties in `State::udev_text`.
    udev: Range<usize>,
}

impl Collector for Diskstats {
    fn collect(&self, out: &mut MetricSet) -> Result<(), CollectError> {
        let mut guard = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let st = &mut *guard;
        with_file(&self.path, |text| {
            parse(text, &mut st.disks)?;
            st.disks.retain(|d| self.devices.allows(&text[d.name.clone()]));
            // client_golang's order, so output diffs cleanly against node_exporter.
            st.disks.sort_by(|a, b| text[a.name.clone()].cmp(&text[b.name.clone()]));
            st.udev_text.clear();
            if let Some(dir) = &self.udev {
                for d in &mut st.disks {
                    let (major, minor) = (&text[d.major.clone()], &text[d.minor.clone()]);
                    d.udev = read_udev(dir, major, minor, &mut st.udev_path, &mut st.udev_text);
                }
            }
            self.emit(text, st, out);
            Ok(())
        })
    }
}

/// Appends `dir/b<major>:<minor>` to `buf`, returning its range (empty when missing). The
/// path is built in `path`, reused, so this allocates nothing in steady state.
fn read_udev(
    dir: &Path,
    major: &str,
    minor: &str,
    path: &mut PathBuf,
    buf: &mut String,
) -> Range<usize> {
    let start = buf.len();
    let p = path.as_mut_os_string();
    p.clear();
    p.push(dir);
    for part in ["/b", major, ":", minor] {
        p.push(part);
    }
    if let Ok(mut f) = std::fs::File::open(&*path) {
        // A file being rewritten by udevd may fail to read; its labels are then empty.
        if f.read_to_string(buf).is_err() {
            buf.truncate(start);
        }
    }
    start..buf.len()
}

/// The value of udev property `key` (`E:KEY=value` lines), or "".
pub fn udev_property<'a>(db: &'a str, key: &str) -> &'a str {
    db.lines()
        .filter_map(|l| l.strip_prefix("E:")?.strip_prefix(key)?.strip_prefix('='))
        .next()
        .unwrap_or("")
}

impl Diskstats {
    fn emit(&self, text: &str, st: &State, out: &mut MetricSet) {
        let name = |d: &Disk| &text[d.name.clone()];
        let udev = |d: &Disk| &st.udev_text[d.udev.clone()];
        let f =
            out.family("node_disk_info", "Info of /sys/block/<block_device>.", MetricType::Gauge);
        for d in &st.disks {
            let u = udev(d);
            // The serial on the disk label, else the short one (node_exporter 1.5's order).
            let serial = Some(udev_property(u, "SCSI_IDENT_SERIAL"))
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| udev_property(u, "ID_SERIAL_SHORT"));
            f.sample(
                &[
                    ("device", name(d)),
                    ("major", &text[d.major.clone()]),
                    ("minor", &text[d.minor.clone()]),
                    ("model", udev_property(u, "ID_MODEL")),
                    ("path", udev_property(u, "ID_PATH")),
                    ("revision", udev_property(u, "ID_REVISION")),
                    ("serial", serial),
                    ("wwn", udev_property(u, "ID_WWN")),
                ],
                1.0,
            );
        }
        for (i, (metric, help, kind, factor)) in STATS.iter().enumerate() {
            let f = out.family(*metric, *help, *kind);
            for d in st.disks.iter().filter(|d| i < d.count) {
                f.sample(&[("device", name(d))], d.stats[i] as f64 * factor);
            }
        }
        for (metric, help, required, props) in UDEV_INFO {
            let f = out.family(metric, help, MetricType::Gauge);
            for d in st.disks.iter().filter(|d| !udev_property(udev(d), required).is_empty()) {
                let mut labels = [("device", name(d)); 6];
                for (slot, (label, prop)) in labels[1..].iter_mut().zip(props) {
                    *slot = (label, udev_property(udev(d), prop));
                }
                f.sample(&labels[..=props.len()], 1.0);
            }
        }
        for (key, metric, help) in ATA {
            let f = out.family(metric, help, MetricType::Gauge);
            for d in st.disks.iter().filter(|d| !udev_property(udev(d), "ID_ATA").is_empty()) {
                // Absent or non-numeric: skipped, as node_exporter does.
                if let Ok(v) = udev_property(udev(d), key).parse::<f64>() {
                    f.sample(&[("device", name(d))], v);
                }
            }
        }
    }
}

/// Parses /proc/diskstats into `out` (cleared first). Columns past the 17 known (a future
/// kernel's) are ignored. Lines with 4 to 10 stats are the pre-2.6.25 partition format, whose
/// columns mean something else, and are skipped; fewer is an error.
pub fn parse(text: &str, out: &mut Vec<Disk>) -> Result<(), String> {
    out.clear();
    let range = |part: &str| {
        let start = part.as_ptr() as usize - text.as_ptr() as usize;
        start..start + part.len()
    };
    for line in text.lines() {
        let mut fields = line.split_ascii_whitespace();
        let (Some(major), Some(minor), Some(name)) = (fields.next(), fields.next(), fields.next())
        else {
            if line.trim().is_empty() {
                continue;
            }
            return Err(format!("line {line:?} has no major, minor and name"));
        };
        let mut stats = [0u64; 17];
        let mut count = 0;
        for f in fields {
            let v: u64 = f.parse().map_err(|_| format!("{name} value {f:?} is not an integer"))?;
            if let Some(slot) = stats.get_mut(count) {
                *slot = v;
                count += 1;
            }
        }
        if count < 4 {
            return Err(format!("{name} has {count} stats, want at least 11"));
        }
        if count < 11 {
            continue;
        }
        out.push(Disk {
            name: range(name),
            major: range(major),
            minor: range(minor),
            count,
            stats,
            udev: 0..0,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This host (kernel 6.18, KVM): 20 fields (flush columns, 5.5+).
    const LINUX_6_18: &str = "   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
 254       0 vda 107328 9102 9837554 72007 14003 32211 11455792 64046 0 16924 140439 7861 53 2466448 3415 1072 968
 253       0 zram0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
";

    /// RHEL 7 (3.10) layout per Documentation/iostats.txt of that era: 14 fields, with
    /// partitions and device-mapper volumes (values illustrative).
    const LINUX_3_10: &str = "   8       0 sda 2891201 18322 270130418 5340155 21690341 16498214 1053553936 92751330 0 10262510 98096030
   8       1 sda1 1843 0 14728 371 2 0 4 0 0 371 371
 253       0 dm-0 2900540 0 269952186 5462350 38186453 0 1053553936 219516484 3 10294025 224982290
";

    /// 4.18 (RHEL 8) layout: 18 fields, discards but no flushes (values illustrative).
    const LINUX_4_18: &str =
        " 259       0 nvme0n1 5303 1 414714 1285 27 4 248 8 0 1409 1237 2 0 16 1\n";

    /// systemd's udev database entry for a SATA SSD (udevadm info --export-db layout).
    const UDEV_SDA: &str = "S:disk/by-id/ata-Samsung_SSD_860_EVO_500GB_S3Z1NB0K123456A
W:4
I:1234567
E:ID_ATA=1
E:ID_TYPE=disk
E:ID_MODEL=Samsung_SSD_860_EVO_500GB
E:ID_REVISION=RVT02B6Q
E:ID_SERIAL=Samsung_SSD_860_EVO_500GB_S3Z1NB0K123456A
E:ID_SERIAL_SHORT=S3Z1NB0K123456A
E:ID_ATA_WRITE_CACHE=1
E:ID_ATA_WRITE_CACHE_ENABLED=1
E:ID_ATA_ROTATION_RATE_RPM=0
E:ID_WWN=0x5002538e40a1b2c3
E:ID_PATH=pci-0000:00:17.0-ata-1
E:ID_FS_TYPE=LVM2_member
E:ID_FS_USAGE=raid
E:ID_FS_UUID=c3b5e4f1-a2b3-4c5d-8e9f-0a1b2c3d4e5f
E:ID_FS_VERSION=LVM2 001
G:systemd
";

    /// The same for an LVM volume.
    const UDEV_DM0: &str = "E:DM_NAME=vg0-data
E:DM_UUID=LVM-abc
E:DM_VG_NAME=vg0
E:DM_LV_NAME=data
E:ID_FS_TYPE=xfs
E:ID_FS_USAGE=filesystem
E:ID_FS_UUID=f00
";

    #[test]
    fn parses_all_three_layouts() {
        let mut v = Vec::new();
        parse(LINUX_6_18, &mut v).unwrap();
        assert_eq!(v.len(), 3);
        assert_eq!(&LINUX_6_18[v[1].name.clone()], "vda");
        assert_eq!(&LINUX_6_18[v[1].major.clone()], "254");
        assert_eq!((v[1].count, v[1].stats[0], v[1].stats[16]), (17, 107328, 968));
        parse(LINUX_3_10, &mut v).unwrap();
        assert_eq!((v.len(), v[0].count, v[0].stats[10], v[0].stats[11]), (3, 11, 98096030, 0));
        parse(LINUX_4_18, &mut v).unwrap();
        assert_eq!((v[0].count, v[0].stats[13]), (15, 16));
    }

    #[test]
    fn rejects_or_skips_odd_lines() {
        let mut v = Vec::new();
        assert!(parse("8 0\n", &mut v).unwrap_err().contains("no major, minor and name"));
        assert!(parse("8 0 sda 1 x 3\n", &mut v).unwrap_err().contains("sda value \"x\""));
        assert!(parse("8 0 sda 1 2\n", &mut v).unwrap_err().contains("sda has 2 stats"));
        // 2.6.18 partition line (4 stats), and a future kernel with 21 stats.
        let more =
            format!("\n8 1 sda1 1 2 3 4\n{} 99 99 99 99\n", LINUX_6_18.lines().nth(1).unwrap());
        parse(&more, &mut v).unwrap();
        assert_eq!((v.len(), v[0].count, v[0].stats[16]), (1, 17, 968));
    }

    fn collect(diskstats: &str, udev: &[(&str, &str)]) -> MetricSet {
        let d = tempfile::tempdir().unwrap();
        let mut tree = format!("=== proc/diskstats\n{diskstats}");
        for (file, text) in udev {
            tree.push_str(&format!("=== run/udev/data/{file}\n{text}"));
        }
        crate::fixture::build(d.path(), &tree).unwrap();
        let root = obwatch_common::fs::Root {
            procfs: d.path().join("proc"),
            rootfs: d.path().into(),
            ..Default::default()
        };
        let options = crate::collector::options::CollectorOptions::default();
        let c = build(&BuildContext { root: &root, options: &options }).unwrap();
        let mut out = MetricSet::new();
        c.collect(&mut out).unwrap();
        out
    }

    #[test]
    fn exports_node_exporter_families() {
        let out = collect(LINUX_6_18, &[]);
        // loop0 and zram0 are excluded by the default filter.
        assert_eq!(out.find("node_disk_reads_completed_total").unwrap().len(), 1);
        let vda = [("device", "vda")];
        assert_eq!(out.get("node_disk_read_bytes_total", &vda), Some(9837554.0 * 512.0));
        assert_eq!(out.get("node_disk_discard_time_seconds_total", &vda), Some(3.415));
        assert_eq!(out.get("node_disk_discarded_sectors_total", &vda), Some(2466448.0));
        assert_eq!(out.get("node_disk_flush_requests_total", &vda), Some(1072.0));
        let info =
            [("device", "vda"), ("major", "254"), ("minor", "0"), ("model", ""), ("path", "")];
        let info = [&info[..], &[("revision", ""), ("serial", ""), ("wwn", "")]].concat();
        assert_eq!(out.get("node_disk_info", &info), Some(1.0));
        assert_eq!(out.sample_count(), 18);
    }

    #[test]
    fn exports_udev_properties() {
        let out = collect(LINUX_3_10, &[("b8:0", UDEV_SDA), ("b253:0", UDEV_DM0)]);
        assert!(out.find("node_disk_discards_completed_total").unwrap().is_empty());
        let sda = [("device", "sda")];
        assert_eq!(out.get("node_disk_io_time_weighted_seconds_total", &sda), Some(98096.03));
        assert_eq!(out.get("node_disk_ata_rotation_rate_rpm", &sda), Some(0.0));
        assert_eq!(out.get("node_disk_ata_write_cache_enabled", &sda), Some(1.0));
        let info = [("device", "sda"), ("major", "8"), ("minor", "0")];
        let model = [("model", "Samsung_SSD_860_EVO_500GB"), ("path", "pci-0000:00:17.0-ata-1")];
        let rest = [
            ("revision", "RVT02B6Q"),
            ("serial", "S3Z1NB0K123456A"),
            ("wwn", "0x5002538e40a1b2c3"),
        ];
        assert_eq!(out.get("node_disk_info", &[&info[..], &model, &rest].concat()), Some(1.0));
        let fs = [("device", "sda"), ("type", "LVM2_member"), ("usage", "raid")];
        let fs =
            [&fs[..], &[("uuid", "c3b5e4f1-a2b3-4c5d-8e9f-0a1b2c3d4e5f"), ("version", "LVM2 001")]]
                .concat();
        assert_eq!(out.get("node_disk_filesystem_info", &fs), Some(1.0));
        let dm =
            [("device", "dm-0"), ("name", "vg0-data"), ("uuid", "LVM-abc"), ("vg_name", "vg0")];
        let dm = [&dm[..], &[("lv_name", "data"), ("lv_layer", "")]].concat();
        assert_eq!(out.get("node_disk_device_mapper_info", &dm), Some(1.0));
        // dm-0 is not ATA; sda1 is a partition, filtered out.
        assert!(out.get("node_disk_ata_write_cache", &[("device", "dm-0")]).is_none());
        assert_eq!(out.find("node_disk_info").unwrap().len(), 2);
    }

    #[test]
    fn reads_udev_properties() {
        assert_eq!(
            udev_property(UDEV_SDA, "ID_SERIAL"),
            "Samsung_SSD_860_EVO_500GB_S3Z1NB0K123456A"
        );
        assert_eq!(udev_property(UDEV_SDA, "ID_FS_VERSION"), "LVM2 001");
        assert_eq!(udev_property(UDEV_SDA, "ID_BUS"), "");
    }
}
