//! `node_sockstat_*` socket counts from `/proc/net/sockstat` and `/proc/net/sockstat6`
//! (proc(5); written by `sockstat_seq_show` in net/ipv4/proc.c and net/ipv6/proc.c).
//!
//! Lines are `PROTO: key value key value ...`. `mem` is in pages (the unit of the
//! `net.ipv4.tcp_mem`/`udp_mem` limits it is compared with), so node_exporter adds
//! `<PROTO>_mem_bytes` = pages x page size; `FRAG: memory` is already in bytes.

use std::path::PathBuf;

use obwatch_common::metrics::{MetricSet, MetricType};

use super::{BuildContext, BuildError, CollectError, Collector, CollectorSpec, with_file};

/// Registry entry.
pub const SPEC: CollectorSpec = CollectorSpec { name: "sockstat", default_enabled: true, build };

fn build(cx: &BuildContext) -> Result<Box<dyn Collector>, BuildError> {
    Ok(Box::new(Sockstat {
        v4: cx.root.proc("net/sockstat"),
        v6: cx.root.proc("net/sockstat6"),
        // 64 KiB on some arm64/ppc64le distributions, so not a constant.
        page_size: rustix::param::page_size() as f64,
    }))
}

/// Reads IPv4 and IPv6 socket counts.
#[derive(Debug)]
pub struct Sockstat {
    v4: PathBuf,
    v6: PathBuf,
    page_size: f64,
}

/// The per-protocol keys node_exporter exports; others (none today) are ignored, as it does.
const KEYS: [&str; 6] = ["inuse", "orphan", "tw", "alloc", "mem", "memory"];

impl Collector for Sockstat {
    fn collect(&self, out: &mut MetricSet) -> Result<(), CollectError> {
        // Either file may be missing (IPv6 disabled, or a stripped-down procfs); node_exporter
        // skips a missing one. With neither there is nothing to report.
        let mut missing = 0;
        for (path, v4) in [(&self.v4, true), (&self.v6, false)] {
            match with_file(path, |text| {
                emit(&parse(text)?, v4, self.page_size, out);
                Ok(())
            }) {
                Err(CollectError::NoData(_)) => missing += 1,
                r => r?,
            }
        }
        if missing == 2 {
            return Err(CollectError::NoData("no /proc/net/sockstat or sockstat6".into()));
        }
        Ok(())
    }
}

/// Adds one gauge family per known `(protocol, key)`, plus `_mem_bytes` for `mem`.
pub fn emit(entries: &[(&str, &str, i64)], v4: bool, page_size: f64, out: &mut MetricSet) {
    for &(proto, key, v) in entries {
        if proto == "sockets" {
            if v4 && key == "used" {
                out.gauge("node_sockstat_sockets_used", "Number of IPv4 sockets in use.", v as f64);
            }
            continue;
        }
        if !KEYS.contains(&key) {
            continue;
        }
        let gauge = |out: &mut MetricSet, key: &str, v: f64| {
            out.family(
                format!("node_sockstat_{proto}_{key}"),
                format!("Number of {proto} sockets in state {key}."),
                MetricType::Gauge,
            )
            .sample(&[], v);
        };
        gauge(out, key, v as f64);
        if key == "mem" {
            gauge(out, "mem_bytes", v as f64 * page_size);
        }
    }
}

/// Parses `PROTO: key value ...` lines into `(PROTO, key, value)`; the `sockets: used N`
/// line comes out as `("sockets", "used", N)`. A line with a dangling key or a non-integer
/// value is an error; blank lines are skipped.
pub fn parse(text: &str) -> Result<Vec<(&str, &str, i64)>, String> {
    let mut out = Vec::with_capacity(24);
    for line in text.lines() {
        let mut f = line.split_ascii_whitespace();
        let Some(proto) = f.next() else { continue };
        let proto = proto.strip_suffix(':').ok_or_else(|| format!("malformed line {line:?}"))?;
        while let Some(key) = f.next() {
            let v = f.next().ok_or_else(|| format!("{proto}: {key} has no value"))?;
            let v =
                v.parse().map_err(|_| format!("{proto}: {key} value {v:?} is not an integer"))?;
            out.push((proto, key, v));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn firecracker_host_fixture() {
        // Captured from a Firecracker VM, kernel 6.18.
        let d = tempfile::tempdir().unwrap();
        crate::fixture::build(d.path(), include_str!("../../tests/fixtures/sockstat.tree"))
            .unwrap();
        let c = Sockstat {
            v4: d.path().join("proc/net/sockstat"),
            v6: d.path().join("proc/net/sockstat6"),
            page_size: 4096.0,
        };
        let mut out = MetricSet::new();
        c.collect(&mut out).unwrap();
        assert_eq!(out.get("node_sockstat_sockets_used", &[]), Some(17.0));
        assert_eq!(out.get("node_sockstat_TCP_tw", &[]), Some(12.0));
        assert_eq!(out.get("node_sockstat_TCP_mem", &[]), Some(158.0));
        assert_eq!(out.get("node_sockstat_TCP_mem_bytes", &[]), Some(158.0 * 4096.0));
        assert_eq!(out.get("node_sockstat_UDP_mem_bytes", &[]), Some(0.0));
        assert_eq!(out.get("node_sockstat_FRAG6_memory", &[]), Some(0.0));
        assert_eq!(out.get("node_sockstat_RAW6_inuse", &[]), Some(0.0));
        assert_eq!(out.get("node_sockstat_FRAG_memory_bytes", &[]), None);
        assert_eq!(out.families().len(), 20);
        let f = out.find("node_sockstat_TCP_inuse").unwrap();
        assert_eq!(f.kind(), MetricType::Gauge);
    }

    #[test]
    fn rhel7_sockstat_with_64k_pages() {
        // A busy RHEL 7 (3.10) database host; the layout is sockstat_seq_show's since 2.6.
        // 64 KiB pages as on RHEL's aarch64 kernels.
        let text = "sockets: used 2387\n\
                    TCP: inuse 1261 orphan 3 tw 5711 alloc 1312 mem 8877\n\
                    UDP: inuse 14 mem 9\n\
                    UDPLITE: inuse 0\n\
                    RAW: inuse 1\n\
                    FRAG: inuse 0 memory 0\n";
        let entries = parse(text).unwrap();
        assert_eq!(entries[0], ("sockets", "used", 2387));
        assert_eq!(entries[4], ("TCP", "alloc", 1312));
        let mut out = MetricSet::new();
        emit(&entries, true, 65536.0, &mut out);
        assert_eq!(out.get("node_sockstat_TCP_mem_bytes", &[]), Some(8877.0 * 65536.0));
        assert_eq!(out.get("node_sockstat_TCP_orphan", &[]), Some(3.0));
        assert_eq!(out.get("node_sockstat_UDP_mem", &[]), Some(9.0));
        // IPv6 files never export sockets_used (and have no sockets line anyway).
        let mut out6 = MetricSet::new();
        emit(&entries, false, 4096.0, &mut out6);
        assert_eq!(out6.get("node_sockstat_sockets_used", &[]), None);
    }

    #[test]
    fn tolerates_new_keys_rejects_odd_lines() {
        let e = parse("TCP: inuse 1 newkey 5\n\n").unwrap();
        let mut out = MetricSet::new();
        emit(&e, true, 4096.0, &mut out);
        assert_eq!(out.families().len(), 1);
        assert!(parse("TCP: inuse\n").unwrap_err().contains("inuse has no value"));
        assert!(parse("TCP: inuse x\n").unwrap_err().contains("\"x\" is not"));
        assert!(parse("TCP inuse 1\n").unwrap_err().contains("malformed"));
    }

    #[test]
    fn missing_both_files_is_no_data() {
        let c = Sockstat {
            v4: "/nonexistent/a".into(),
            v6: "/nonexistent/b".into(),
            page_size: 4096.0,
        };
        assert!(matches!(c.collect(&mut MetricSet::new()), Err(CollectError::NoData(_))));
    }
}
