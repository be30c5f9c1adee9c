//! `node_nf_conntrack_entries`, `_entries_limit` from `/proc/sys/net/netfilter/nf_conntrack_
//! {count,max}` (Documentation/networking/nf_conntrack-sysctl.rst) and the
//! `node_nf_conntrack_stat_*` counters from `/proc/net/stat/nf_conntrack` (per-CPU rows of
//! hex counters written by `ct_cpu_seq_show` in net/netfilter/nf_conntrack_standalone.c).
//!
//! No nf_conntrack module means no sysctl files: `NoData`, as node_exporter.

use std::path::PathBuf;

use obwatch_common::metrics::MetricSet;

use super::{BuildContext, BuildError, CollectError, Collector, CollectorSpec, with_file};

/// Registry entry.
pub const SPEC: CollectorSpec = CollectorSpec { name: "conntrack", default_enabled: true, build };

fn build(cx: &BuildContext) -> Result<Box<dyn Collector>, BuildError> {
    Ok(Box::new(Conntrack {
        count: cx.root.proc("sys/net/netfilter/nf_conntrack_count"),
        max: cx.root.proc("sys/net/netfilter/nf_conntrack_max"),
        stat: cx.root.proc("net/stat/nf_conntrack"),
    }))
}

/// Reads the connection-tracking table size and statistics.
#[derive(Debug)]
pub struct Conntrack {
    count: PathBuf,
    max: PathBuf,
    stat: PathBuf,
}

/// The statistics node_exporter exports: column, metric, HELP. All are gauges there although
/// they only grow; kept so for compatibility.
const STATS: [(&str, &str, &str); 8] = [
    ("found", "node_nf_conntrack_stat_found", "Number of searched entries which were successful."),
    (
        "invalid",
        "node_nf_conntrack_stat_invalid",
        "Number of packets seen which can not be tracked.",
    ),
    (
        "ignore",
        "node_nf_conntrack_stat_ignore",
        "Number of packets seen which are already connected to a conntrack entry.",
    ),
    ("insert", "node_nf_conntrack_stat_insert", "Number of entries inserted into the list."),
    (
        "insert_failed",
        "node_nf_conntrack_stat_insert_failed",
        "Number of entries for which list insertion was attempted but failed.",
    ),
    ("drop", "node_nf_conntrack_stat_drop", "Number of packets dropped due to conntrack failure."),
    (
        "early_drop",
        "node_nf_conntrack_stat_early_drop",
        "Number of dropped conntrack entries to make room for new ones, if maximum table size was reached.",
    ),
    (
        "search_restart",
        "node_nf_conntrack_stat_search_restart",
        "Number of conntrack table lookups which had to be restarted due to hashtable resizes.",
    ),
];

impl Collector for Conntrack {
    fn collect(&self, out: &mut MetricSet) -> Result<(), CollectError> {
        let count = with_file(&self.count, parse_uint)?;
        out.gauge(
            "node_nf_conntrack_entries",
            "Number of currently allocated flow entries for connection tracking.",
            count,
        );
        let max = with_file(&self.max, parse_uint)?;
        out.gauge(
            "node_nf_conntrack_entries_limit",
            "Maximum size of connection tracking table.",
            max,
        );
        // Absent without CONFIG_NF_CONNTRACK_PROCFS; the table size above is still worth
        // reporting (node_exporter 1.5 fails the whole collector here instead).
        match with_file(&self.stat, parse_stat) {
            Ok(stats) => {
                for ((_, name, help), v) in STATS.iter().zip(stats) {
                    if let Some(v) = v {
                        out.gauge(name, help, v as f64);
                    }
                }
                Ok(())
            }
            Err(CollectError::NoData(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// Parses a sysctl holding one unsigned integer.
pub fn parse_uint(text: &str) -> Result<f64, String> {
    let t = text.trim();
    t.parse::<u64>().map(|v| v as f64).map_err(|_| format!("{t:?} is not an unsigned integer"))
}

/// Sums the per-CPU rows of /proc/net/stat/nf_conntrack for each column of `STATS`, found by
/// header name (columns were renamed and added over time: 3.10 has `searched` and
/// `delete_list` where 5.13+ has `clashres` and `chainlength`). A missing column is `None`.
pub fn parse_stat(text: &str) -> Result<[Option<u64>; 8], String> {
    let mut lines = text.lines();
    let header = lines.next().ok_or("empty file")?;
    let mut index = [None; 8];
    for (col, name) in header.split_ascii_whitespace().enumerate() {
        if let Some(i) = STATS.iter().position(|s| s.0 == name) {
            index[i] = Some(col);
        }
    }
    let mut sums = index.map(|i| i.map(|_| 0u64));
    for line in lines.filter(|l| !l.trim().is_empty()) {
        for (col, v) in line.split_ascii_whitespace().enumerate() {
            let Some(i) = index.iter().position(|&c| c == Some(col)) else { continue };
            let v =
                u64::from_str_radix(v, 16).map_err(|_| format!("{v:?} is not a hex counter"))?;
            if let Some(s) = &mut sums[i] {
                *s = s.wrapping_add(v);
            }
        }
    }
    Ok(sums)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn firecracker_host_fixture() {
        // Captured from a Firecracker VM, kernel 6.18 (2 CPUs, idle table).
        let d = tempfile::tempdir().unwrap();
        crate::fixture::build(d.path(), include_str!("../../tests/fixtures/conntrack.tree"))
            .unwrap();
        let c = Conntrack {
            count: d.path().join("proc/sys/net/netfilter/nf_conntrack_count"),
            max: d.path().join("proc/sys/net/netfilter/nf_conntrack_max"),
            stat: d.path().join("proc/net/stat/nf_conntrack"),
        };
        let mut out = MetricSet::new();
        c.collect(&mut out).unwrap();
        assert_eq!(out.get("node_nf_conntrack_entries", &[]), Some(0.0));
        assert_eq!(out.get("node_nf_conntrack_entries_limit", &[]), Some(262144.0));
        assert_eq!(out.get("node_nf_conntrack_stat_search_restart", &[]), Some(0.0));
        assert_eq!(out.families().len(), 10);
    }

    #[test]
    fn sums_rhel7_rows_by_header() {
        // RHEL 7 (3.10) layout: `searched` and `delete_list` columns, 4 CPUs; values of a
        // NAT gateway written in the kernel's %08x format.
        let text = "entries  searched found new invalid ignore delete delete_list insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart\n\
            0000a1b2  00000000 0120f3a1 0009e2c4 000001f4 00b1c2d3 0009e1a0 0009e1a0 0009e2c4 00000002 00000003 00000000 00000010  00000000 00000000 00000000 00000007\n\
            0000a1b2  00000000 0100f3a1 0008e2c4 000001f4 00a1c2d3 0008e1a0 0008e1a0 0008e2c4 00000000 00000001 00000000 00000011  00000000 00000000 00000000 00000001\n\
            0000a1b2  00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000  00000000 00000000 00000000 00000000\n\
            0000a1b2  00000000 00000001 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000  00000000 00000000 00000000 00000000\n";
        let s = parse_stat(text).unwrap();
        assert_eq!(s[0], Some(0x0120f3a1 + 0x0100f3a1 + 1)); // found
        assert_eq!(s[1], Some(0x3e8)); // invalid
        assert_eq!(s[3], Some(0x0009e2c4 + 0x0008e2c4)); // insert
        assert_eq!(s[4], Some(2)); // insert_failed
        assert_eq!(s[5], Some(4)); // drop
        assert_eq!(s[7], Some(8)); // search_restart
    }

    #[test]
    fn tolerates_missing_columns_rejects_garbage() {
        let s = parse_stat("entries found brand_new\n00000001 0000000a 00000005\n").unwrap();
        assert_eq!(s[0], Some(10));
        assert_eq!(s[7], None);
        assert!(parse_stat("entries found\n1 zz\n").unwrap_err().contains("\"zz\""));
        assert!(parse_uint("-3\n").is_err());
        assert_eq!(parse_uint("65536\n").unwrap(), 65536.0);
    }

    #[test]
    fn no_module_is_no_data_and_no_stat_file_is_fine() {
        let d = tempfile::tempdir().unwrap();
        let p = |s: &str| d.path().join(s);
        let c = Conntrack { count: p("count"), max: p("max"), stat: p("stat") };
        assert!(matches!(c.collect(&mut MetricSet::new()), Err(CollectError::NoData(_))));
        std::fs::write(p("count"), "12\n").unwrap();
        std::fs::write(p("max"), "65536\n").unwrap();
        let mut out = MetricSet::new();
        c.collect(&mut out).unwrap();
        assert_eq!(out.get("node_nf_conntrack_entries", &[]), Some(12.0));
        assert_eq!(out.families().len(), 2);
    }
}
