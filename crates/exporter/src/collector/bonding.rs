//! `node_bonding_slaves{master}` and `node_bonding_active{master}` from
//! `/sys/class/net/bonding_masters`, `<master>/bonding/slaves` and each slave's
//! `bonding_slave/mii_status` (Documentation/networking/bonding.rst, "Configuring Bonding
//! Manually via Sysfs"; Documentation/ABI/testing/sysfs-class-net).
//!
//! No bonding driver means no `bonding_masters`: `NoData`, as node_exporter.

use std::os::fd::AsFd;
use std::path::PathBuf;

use obwatch_common::metrics::{MetricSet, MetricType};
use rustix::fs::{CWD, Mode, OFlags, openat};
use rustix::io::Errno;

use super::open_files::read_attr;
use super::{BuildContext, BuildError, CollectError, Collector, CollectorSpec, with_file};

/// Registry entry.
pub const SPEC: CollectorSpec = CollectorSpec { name: "bonding", default_enabled: true, build };

fn build(cx: &BuildContext) -> Result<Box<dyn Collector>, BuildError> {
    Ok(Box::new(Bonding { dir: cx.root.sys("class/net") }))
}

/// Counts configured and MII-up slaves of each bond.
#[derive(Debug)]
pub struct Bonding {
    dir: PathBuf,
}

impl Collector for Bonding {
    fn collect(&self, out: &mut MetricSet) -> Result<(), CollectError> {
        let masters_path = self.dir.join("bonding_masters");
        with_file(&masters_path, |masters| {
            let dir = openat(
                CWD,
                &self.dir,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| format!("opening {}: {e}", self.dir.display()))?;
            let mut counts = Vec::new();
            let mut slaves_buf = [0u8; 4096];
            let mut status_buf = [0u8; 16];
            let mut path = String::with_capacity(64);
            for master in masters.split_ascii_whitespace() {
                path.clear();
                path.push_str(master);
                path.push_str("/bonding/slaves");
                // A bond deleted since bonding_masters was read: skip it.
                let Some(slaves) =
                    read_attr(dir.as_fd(), &path, &mut slaves_buf).map_err(|e| err(&path, e))?
                else {
                    continue;
                };
                let (n, active) = tally(slaves, |slave| {
                    // lower_<slave> since 3.13; slave_<slave> before (RHEL 7's 3.10).
                    for prefix in ["/lower_", "/slave_"] {
                        path.clear();
                        path.push_str(master);
                        path.push_str(prefix);
                        path.push_str(slave);
                        path.push_str("/bonding_slave/mii_status");
                        match read_attr(dir.as_fd(), &path, &mut status_buf) {
                            Ok(Some(s)) => return Ok(Some(s == "up")),
                            Ok(None) => {}
                            Err(e) => return Err(err(&path, e)),
                        }
                    }
                    Ok(None)
                })?;
                counts.push((master, n, active));
            }
            let slaves = out.family(
                "node_bonding_slaves",
                "Number of configured slaves per bonding interface.",
                MetricType::Gauge,
            );
            for &(master, n, _) in &counts {
                slaves.sample(&[("master", master)], n as f64);
            }
            let active = out.family(
                "node_bonding_active",
                "Number of active slaves per bonding interface.",
                MetricType::Gauge,
            );
            for &(master, _, n) in &counts {
                active.sample(&[("master", master)], n as f64);
            }
            Ok(())
        })
    }
}

fn err(path: &str, e: Errno) -> String {
    format!("reading {path}: {e}")
}

/// Counts the slaves in a `bonding/slaves` list (`"eth0 eth1"`) and those whose MII status,
/// as given by `up`, is up. A slave without a status (removed mid-scrape) is not counted;
/// node_exporter fails the scrape there instead.
pub fn tally<E>(
    slaves: &str,
    mut up: impl FnMut(&str) -> Result<Option<bool>, E>,
) -> Result<(u32, u32), E> {
    let (mut n, mut active) = (0, 0);
    for slave in slaves.split_ascii_whitespace() {
        if let Some(is_up) = up(slave)? {
            n += 1;
            active += u32::from(is_up);
        }
    }
    Ok((n, active))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(tree: &str) -> Result<MetricSet, CollectError> {
        let d = tempfile::tempdir().unwrap();
        crate::fixture::build(d.path(), tree).unwrap();
        let mut out = MetricSet::new();
        Bonding { dir: d.path().join("sys/class/net") }.collect(&mut out).map(|()| out)
    }

    #[test]
    fn active_backup_bond_fixture() {
        // Crafted from bonding.rst's sysfs layout (this CI host has no bond): bond0 with
        // ens1f0 up and ens1f1 down, reached through lower_* links as on 3.13+ kernels.
        let out = collect(include_str!("../../tests/fixtures/bonding.tree")).unwrap();
        assert_eq!(out.get("node_bonding_slaves", &[("master", "bond0")]), Some(2.0));
        assert_eq!(out.get("node_bonding_active", &[("master", "bond0")]), Some(1.0));
        assert_eq!(out.sample_count(), 2);
    }

    #[test]
    fn rhel7_slave_links_and_two_bonds() {
        // RHEL 7 (3.10) names the links slave_<if>; bond1 has no slaves yet.
        let tree = "=== sys/class/net/bonding_masters\nbond0 bond1\n\
            === sys/class/net/bond0/bonding/slaves\nem1 em2\n\
            === sys/class/net/bond0/slave_em1/bonding_slave/mii_status\nup\n\
            === sys/class/net/bond0/slave_em2/bonding_slave/mii_status\nup\n\
            === sys/class/net/bond1/bonding/slaves\n\n";
        let out = collect(tree).unwrap();
        assert_eq!(out.get("node_bonding_slaves", &[("master", "bond0")]), Some(2.0));
        assert_eq!(out.get("node_bonding_active", &[("master", "bond0")]), Some(2.0));
        assert_eq!(out.get("node_bonding_slaves", &[("master", "bond1")]), Some(0.0));
        assert_eq!(out.get("node_bonding_active", &[("master", "bond1")]), Some(0.0));
    }

    #[test]
    fn no_bonding_driver_is_no_data() {
        assert!(matches!(
            collect("=== sys/class/net/lo/mtu\n65536\n"),
            Err(CollectError::NoData(_))
        ));
    }

    #[test]
    fn tally_counts_up_and_skips_vanished() {
        let status = |s: &str| -> Result<Option<bool>, ()> {
            Ok(match s {
                "a" => Some(true),
                "b" => Some(false),
                _ => None,
            })
        };
        assert_eq!(tally("a b gone\n", status), Ok((2, 1)));
        assert_eq!(tally("", status), Ok((0, 0)));
    }
}
