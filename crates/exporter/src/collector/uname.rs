//! `node_uname_info` from the uname(2) system call (the same strings as
//! /proc/sys/kernel/{ostype,hostname,osrelease,version,domainname}; see uname(2)).

use obwatch_common::metrics::{MetricSet, MetricType};

use super::{BuildContext, BuildError, CollectError, Collector, CollectorSpec};

/// Registry entry.
pub const SPEC: CollectorSpec = CollectorSpec { name: "uname", default_enabled: true, build };

fn build(_cx: &BuildContext) -> Result<Box<dyn Collector>, BuildError> {
    Ok(Box::new(Uname))
}

/// Calls uname(2) each scrape: the host name can change at run time.
#[derive(Debug)]
pub struct Uname;

/// The six uname fields, as lossily decoded UTF-8.
#[derive(Debug, PartialEq, Eq)]
pub struct Info {
    /// `sysname`, e.g. `Linux`.
    pub sysname: String,
    /// `nodename`, the host name.
    pub nodename: String,
    /// `release`, e.g. `6.1.0-18-amd64`.
    pub release: String,
    /// `version`, the build string.
    pub version: String,
    /// `machine`, e.g. `x86_64`.
    pub machine: String,
    /// `domainname` (NIS), usually `(none)`.
    pub domainname: String,
}

impl Collector for Uname {
    fn collect(&self, out: &mut MetricSet) -> Result<(), CollectError> {
        // rustix's uname is a safe wrapper; it cannot fail on Linux.
        let u = rustix::system::uname();
        let s = |c: &std::ffi::CStr| c.to_string_lossy().into_owned();
        let info = Info {
            sysname: s(u.sysname()),
            nodename: s(u.nodename()),
            release: s(u.release()),
            version: s(u.version()),
            machine: s(u.machine()),
            domainname: s(u.domainname()),
        };
        emit(&info, out);
        Ok(())
    }
}

/// Adds the info sample; label names as node_exporter 1.x.
pub fn emit(info: &Info, out: &mut MetricSet) {
    out.family(
        "node_uname_info",
        "Labeled system information as provided by the uname system call.",
        MetricType::Gauge,
    )
    .sample(
        &[
            ("domainname", &info.domainname),
            ("machine", &info.machine),
            ("nodename", &info.nodename),
            ("release", &info.release),
            ("sysname", &info.sysname),
            ("version", &info.version),
        ],
        1.0,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emits_this_hosts_uname() {
        let mut out = MetricSet::new();
        Uname.collect(&mut out).unwrap();
        let f = out.find("node_uname_info").unwrap();
        assert_eq!(f.len(), 1);
        let (labels, v) = f.samples().next().unwrap();
        assert_eq!(v, 1.0);
        assert!(labels.contains("sysname=\"Linux\""), "{labels}");
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
        assert!(labels.contains(&format!("release=\"{}\"", release.trim())), "{labels}");
    }

    #[test]
    fn label_set_matches_node_exporter() {
        // Values from this Firecracker VM as node_exporter 1.5 reported them.
        let info = Info {
            sysname: "Linux".into(),
            nodename: "vm".into(),
            release: "6.18.44-fc-v782".into(),
            version: "#1 SMP PREEMPT_DYNAMIC @0".into(),
            machine: "x86_64".into(),
            domainname: "(none)".into(),
        };
        let mut out = MetricSet::new();
        emit(&info, &mut out);
        let labels = [
            ("domainname", "(none)"),
            ("machine", "x86_64"),
            ("nodename", "vm"),
            ("release", "6.18.44-fc-v782"),
            ("sysname", "Linux"),
            ("version", "#1 SMP PREEMPT_DYNAMIC @0"),
        ];
        assert_eq!(out.get("node_uname_info", &labels), Some(1.0));
    }
}
