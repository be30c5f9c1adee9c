//! `node_nvme_info`: controller identity and state from sysfs `class/nvme/nvme*/`
//! (Documentation/ABI/testing/sysfs-class-nvme; attributes from drivers/nvme/host/sysfs.c).

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use obwatch_common::metrics::{MetricSet, MetricType};
use rustix::fs::{CWD, Dir, Mode, OFlags, openat};
use rustix::io::Errno;

use super::open_files::read_at;
use super::{BuildContext, BuildError, CollectError, Collector, CollectorSpec};

/// Registry entry.
pub const SPEC: CollectorSpec = CollectorSpec { name: "nvme", default_enabled: true, build };

fn build(cx: &BuildContext) -> Result<Box<dyn Collector>, BuildError> {
    Ok(Box::new(Nvme { class_dir: cx.root.sys("class/nvme") }))
}

/// Reads four attributes per controller.
#[derive(Debug)]
pub struct Nvme {
    class_dir: PathBuf,
}

/// The labels of one controller's info sample.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Controller {
    /// `nvme0`.
    pub device: String,
    /// `firmware_rev`.
    pub firmware_revision: String,
    /// `model`.
    pub model: String,
    /// `serial`.
    pub serial: String,
    /// `state`: live, resetting, connecting, deleting, dead, ...
    pub state: String,
}

impl Collector for Nvme {
    fn collect(&self, out: &mut MetricSet) -> Result<(), CollectError> {
        let io = |p: &Path, e: Errno| CollectError::io(p, e.into());
        let dir_flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let root = openat(CWD, &self.class_dir, dir_flags, Mode::empty())
            .map_err(|e| io(&self.class_dir, e))?;
        let mut names = Vec::new();
        for entry in Dir::read_from(&root).map_err(|e| io(&self.class_dir, e))? {
            let entry = entry.map_err(|e| io(&self.class_dir, e))?;
            match entry.file_name().to_str() {
                Ok("." | "..") | Err(_) => {}
                Ok(name) => names.push(name.to_string()),
            }
        }
        names.sort();
        let f = out.family(
            "node_nvme_info",
            "Non-numeric data from /sys/class/nvme/<device>, value is always 1.",
            MetricType::Gauge,
        );
        let mut buf = [0u8; 256];
        for name in names {
            let dir = match openat(&root, &name, dir_flags, Mode::empty()) {
                Ok(fd) => fd,
                // Removed between readdir and open (a controller going away).
                Err(Errno::NOENT | Errno::NODEV) => continue,
                Err(e) => return Err(io(&self.class_dir.join(&name), e)),
            };
            // One openat per attribute relative to the controller's directory; a missing
            // attribute fails the collector, as node_exporter's does.
            let mut attr = |a: &str| match read_at(dir.as_fd(), a, &mut buf) {
                Ok(text) => Ok(clean(text).to_string()),
                Err(e) => Err(io(&self.class_dir.join(&name).join(a), e)),
            };
            let c = Controller {
                firmware_revision: attr("firmware_rev")?,
                model: attr("model")?,
                serial: attr("serial")?,
                state: attr("state")?,
                device: name.clone(),
            };
            f.sample(
                &[
                    ("device", &c.device),
                    ("firmware_revision", &c.firmware_revision),
                    ("model", &c.model),
                    ("serial", &c.serial),
                    ("state", &c.state),
                ],
                1.0,
            );
        }
        Ok(())
    }
}

/// The kernel prints the identify strings as fixed-width, space-padded fields (`model` is 40
/// bytes, `serial` 20); node_exporter trims both ends, and so do we.
pub fn clean(text: &str) -> &str {
    text.trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_padded_identify_strings() {
        // `model` and `serial` as read from a Samsung 970 PRO (padding kept by the kernel).
        assert_eq!(
            clean("Samsung SSD 970 PRO 512GB               \n"),
            "Samsung SSD 970 PRO 512GB"
        );
        assert_eq!(clean("S680HF8N190894I     \n"), "S680HF8N190894I");
        assert_eq!(clean("live\n"), "live");
    }

    #[test]
    fn collects_fixture_tree() {
        // tests/fixtures/nvme.tree: two PCIe controllers linked from class/nvme as on real
        // hosts, one resetting.
        let dir = tempfile::tempdir().unwrap();
        crate::fixture::build(dir.path(), include_str!("../../tests/fixtures/nvme.tree")).unwrap();
        let mut out = MetricSet::new();
        Nvme { class_dir: dir.path().join("sys/class/nvme") }.collect(&mut out).unwrap();
        let labels = [
            ("device", "nvme0"),
            ("firmware_revision", "1B2QEXM7"),
            ("model", "Samsung SSD 970 PRO 512GB"),
            ("serial", "S680HF8N190894I"),
            ("state", "live"),
        ];
        assert_eq!(out.get("node_nvme_info", &labels), Some(1.0));
        let labels = [
            ("device", "nvme1"),
            ("firmware_revision", "GDC5602Q"),
            ("model", "INTEL SSDPE2KX040T8"),
            ("serial", "PHLJ9123004N4P0DGN"),
            ("state", "resetting"),
        ];
        assert_eq!(out.get("node_nvme_info", &labels), Some(1.0));
        assert_eq!(out.sample_count(), 2);
    }

    #[test]
    fn no_nvme_is_no_data() {
        let err = Nvme { class_dir: "/nonexistent/nvme".into() }.collect(&mut MetricSet::new());
        assert!(matches!(err, Err(CollectError::NoData(_))));
    }
}
