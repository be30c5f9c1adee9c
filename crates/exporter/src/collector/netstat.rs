//! `node_netstat_<Proto>_<Field>` (untyped) from `/proc/net/netstat`, `/proc/net/snmp` and
//! `/proc/net/snmp6` (proc(5); the field names are the kernel's `snmp4_*_list`/`snmp6_*_list`
//! in net/ipv4/proc.c and net/ipv6/proc.c, i.e. RFC 1213/4293 MIB objects and Linux extensions).
//!
//! The three files hold ~450 counters, of which the `fields` regex keeps ~40. Matching the
//! regex is the expensive part, so the chosen columns are remembered per header line and the
//! regex runs again only when a header changes (a new kernel, a module adding a section).

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use obwatch_common::metrics::{MetricSet, MetricType};
use regex::Regex;

use super::{BuildContext, BuildError, CollectError, Collector, CollectorSpec, with_file};
use crate::collector::option_parts::regex_option;

/// Registry entry.
pub const SPEC: CollectorSpec = CollectorSpec { name: "netstat", default_enabled: true, build };

/// node_exporter 1.x `--collector.netstat.fields` default.
pub const FIELDS: &str = r"^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)|TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts|TCPOFOQueue|TCPRcvQDrop)|Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|CurrEstab)|Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$";

regex_option! {
    /// Regexp of Proto_Field counters to report from /proc/net/{netstat,snmp,snmp6}.
    flag: "collector.netstat.fields",
    key: netstat_fields,
    default: FIELDS,
}

fn build(cx: &BuildContext) -> Result<Box<dyn Collector>, BuildError> {
    Ok(Box::new(Netstat {
        netstat: cx.root.proc("net/netstat"),
        snmp: cx.root.proc("net/snmp"),
        snmp6: cx.root.proc("net/snmp6"),
        fields: cx.options.netstat.pattern.clone(),
        picks: Mutex::new(Vec::new()),
    }))
}

/// Reads the protocol counters selected by `--collector.netstat.fields`.
#[derive(Debug)]
pub struct Netstat {
    netstat: PathBuf,
    snmp: PathBuf,
    snmp6: PathBuf,
    fields: Regex,
    /// Per section (in read order): its header and the columns the regex keeps.
    picks: Mutex<Vec<Picks>>,
}

#[derive(Debug, Default)]
struct Picks {
    header: String,
    /// Column index, metric name, HELP.
    columns: Vec<(usize, String, String)>,
}

/// One `Proto: names...` / `Proto: values...` line pair of /proc/net/netstat or /proc/net/snmp.
#[derive(Debug, PartialEq)]
pub struct Pair<'a> {
    /// `TcpExt`, `Ip`, ... (without the colon).
    pub proto: &'a str,
    /// The field names, space separated.
    pub names: &'a str,
    /// The values, in the same order.
    pub values: &'a str,
}

impl Collector for Netstat {
    fn collect(&self, out: &mut MetricSet) -> Result<(), CollectError> {
        let mut picks = self.picks.lock().unwrap_or_else(PoisonError::into_inner);
        let mut slot = 0;
        for path in [&self.netstat, &self.snmp] {
            with_file(path, |text| {
                for pair in pairs(text)? {
                    let fields = pair.names.split_ascii_whitespace().map(|n| (pair.proto, n));
                    let p = self.picks_for(&mut picks, slot, pair.names, fields);
                    emit(p, pair.values.split_ascii_whitespace(), out)?;
                    slot += 1;
                }
                Ok(())
            })?;
        }
        // Absent when IPv6 is disabled; node_exporter skips it silently too.
        let snmp6 = with_file(&self.snmp6, |text| {
            // The key is the names column; building it costs a copy, not ~90 regex runs.
            let mut key = String::with_capacity(text.len() / 2);
            for (proto, field, _) in snmp6(text) {
                key.push_str(proto);
                key.push_str(field);
                key.push(' ');
            }
            let p = self.picks_for(&mut picks, slot, &key, snmp6(text).map(|(p, f, _)| (p, f)));
            emit(p, snmp6(text).map(|(_, _, v)| v), out)
        });
        match snmp6 {
            Err(CollectError::NoData(_)) => Ok(()),
            r => r,
        }
    }
}

impl Netstat {
    /// The kept columns of section `slot`, recomputed when its header differs from last time.
    fn picks_for<'p, 'a>(
        &self,
        picks: &'p mut Vec<Picks>,
        slot: usize,
        header: &str,
        fields: impl Iterator<Item = (&'a str, &'a str)>,
    ) -> &'p Picks {
        if picks.len() <= slot {
            picks.resize_with(slot + 1, Picks::default);
        }
        let p = &mut picks[slot];
        if p.header != header {
            p.header.clear();
            p.header.push_str(header);
            p.columns.clear();
            let mut key = String::new();
            for (i, (proto, field)) in fields.enumerate() {
                key.clear();
                key.push_str(proto);
                key.push('_');
                key.push_str(field);
                if self.fields.is_match(&key) {
                    p.columns.push((
                        i,
                        format!("node_netstat_{key}"),
                        format!("Statistic {proto}{field}."),
                    ));
                }
            }
        }
        p
    }
}

/// Adds one untyped family per kept column.
fn emit<'a>(
    p: &Picks,
    values: impl Iterator<Item = &'a str>,
    out: &mut MetricSet,
) -> Result<(), String> {
    let mut want = p.columns.iter().peekable();
    for (i, v) in values.enumerate() {
        let Some((_, name, help)) = want.next_if(|c| c.0 == i) else { continue };
        let v: f64 = v.parse().map_err(|_| format!("{name}: value {v:?} is not a number"))?;
        out.family(Cow::Owned(name.clone()), Cow::Owned(help.clone()), MetricType::Untyped)
            .sample(&[], v);
    }
    if let Some((_, name, _)) = want.next() {
        return Err(format!("{name}: missing value"));
    }
    Ok(())
}

/// Splits /proc/net/netstat or /proc/net/snmp into header/value pairs. Both lines of a pair
/// must name the same protocol and have as many fields, or the file is not what we think.
pub fn pairs(text: &str) -> Result<Vec<Pair<'_>>, String> {
    let mut out = Vec::with_capacity(8);
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    while let Some(header) = lines.next() {
        let values =
            lines.next().ok_or_else(|| format!("header {:.20}... has no value line", header))?;
        let (Some((proto, names)), Some((vproto, vals))) =
            (header.split_once(':'), values.split_once(':'))
        else {
            return Err(format!("no protocol prefix in {:.30}...", header));
        };
        if proto != vproto {
            return Err(format!("header {proto} is followed by values of {vproto}"));
        }
        let (n, m) =
            (names.split_ascii_whitespace().count(), vals.split_ascii_whitespace().count());
        if n != m {
            return Err(format!("{proto}: {n} names but {m} values"));
        }
        out.push(Pair { proto, names, values: vals });
    }
    Ok(out)
}

/// Iterates /proc/net/snmp6's `Ip6InReceives   123` lines as `("Ip6", "InReceives", "123")`,
/// splitting at the first `6` as node_exporter does; lines without one are skipped.
pub fn snmp6(text: &str) -> impl Iterator<Item = (&str, &str, &str)> {
    text.lines().filter_map(|line| {
        let mut f = line.split_ascii_whitespace();
        let (name, value) = (f.next()?, f.next()?);
        let six = name.find('6')?;
        Some((&name[..=six], &name[six + 1..], value))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collector(dir: &std::path::Path, fields: &str) -> Netstat {
        Netstat {
            netstat: dir.join("proc/net/netstat"),
            snmp: dir.join("proc/net/snmp"),
            snmp6: dir.join("proc/net/snmp6"),
            fields: Regex::new(fields).unwrap(),
            picks: Mutex::new(Vec::new()),
        }
    }

    #[test]
    fn firecracker_host_fixture() {
        // Captured from a Firecracker VM, kernel 6.18 (TcpExt has the TCP-AO fields, MPTcpExt).
        let d = tempfile::tempdir().unwrap();
        crate::fixture::build(d.path(), include_str!("../../tests/fixtures/netstat.tree")).unwrap();
        let c = collector(d.path(), FIELDS);
        for _ in 0..2 {
            // The second round runs from the cached picks.
            let mut out = MetricSet::new();
            c.collect(&mut out).unwrap();
            assert_eq!(out.get("node_netstat_Tcp_ActiveOpens", &[]), Some(622.0));
            assert_eq!(out.get("node_netstat_TcpExt_TCPTimeouts", &[]), Some(2.0));
            assert_eq!(out.get("node_netstat_IpExt_InOctets", &[]), Some(515010520.0));
            assert_eq!(out.get("node_netstat_Ip_Forwarding", &[]), Some(2.0));
            assert_eq!(out.get("node_netstat_Ip6_OutOctets", &[]), Some(880.0));
            assert_eq!(out.get("node_netstat_Icmp6_InErrors", &[]), Some(1.0));
            assert_eq!(out.get("node_netstat_UdpLite6_InErrors", &[]), Some(0.0));
            assert_eq!(out.get("node_netstat_Tcp_MaxConn", &[]), None);
            let f = out.find("node_netstat_Udp_InDatagrams").unwrap();
            assert_eq!((f.kind(), f.len()), (MetricType::Untyped, 1));
            assert_eq!(out.families().len(), 42);
        }
    }

    #[test]
    fn rhel7_snmp_and_regex_change() {
        // RHEL 7 (3.10) /proc/net/snmp, written from 3.10's snmp4_*_list in net/ipv4/proc.c:
        // Udp has no IgnoredMulti/MemErrors yet (3.19, 4.6), Ip no OutTransmits (6.3).
        // MaxConn is -1 (dynamic). Icmp and UdpLite lines left out for brevity.
        let snmp = "Ip: Forwarding DefaultTTL InReceives InHdrErrors InAddrErrors ForwDatagrams InUnknownProtos InDiscards InDelivers OutRequests OutDiscards OutNoRoutes ReasmTimeout ReasmReqds ReasmOKs ReasmFails FragOKs FragFails FragCreates\n\
                    Ip: 1 64 2870125493 12 0 0 0 0 2870125481 3067003416 5 22 0 0 0 0 0 0 0\n\
                    Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors\n\
                    Tcp: 1 200 120000 -1 101858396 4127380 1337011 4291 1066 2809713812 3053606637 3204951 412 3957036 0\n\
                    Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors\n\
                    Udp: 70338421 2513 5 70352418 5 0 0\n";
        let p = pairs(snmp).unwrap();
        assert_eq!(p.len(), 3);
        assert_eq!(p[1].proto, "Tcp");
        let d = tempfile::tempdir().unwrap();
        let tree = format!("=== proc/net/netstat\n=== proc/net/snmp\n{snmp}");
        crate::fixture::build(d.path(), &tree).unwrap();
        let c = collector(d.path(), "^(Tcp_MaxConn|Tcp_RetransSegs|Udp_.*Errors)$");
        let mut out = MetricSet::new();
        c.collect(&mut out).unwrap();
        assert_eq!(out.get("node_netstat_Tcp_MaxConn", &[]), Some(-1.0));
        assert_eq!(out.get("node_netstat_Tcp_RetransSegs", &[]), Some(3204951.0));
        assert_eq!(out.get("node_netstat_Udp_RcvbufErrors", &[]), Some(5.0));
        assert_eq!(out.families().len(), 6, "no snmp6 (IPv6 disabled) is fine");
        assert_eq!(out.get("node_netstat_Udp_InCsumErrors", &[]), Some(0.0));
    }

    #[test]
    fn snmp6_splits_at_first_six() {
        let t =
            "Ip6InReceives                   \t1\nIcmp6InType1 4\nUdpLite6InErrors 0\nbogus 3\n\n";
        let v: Vec<_> = snmp6(t).collect();
        assert_eq!(
            v,
            [("Ip6", "InReceives", "1"), ("Icmp6", "InType1", "4"), ("UdpLite6", "InErrors", "0")]
        );
    }

    #[test]
    fn odd_files_are_errors() {
        assert!(pairs("Tcp: A B\n").unwrap_err().contains("no value line"));
        assert!(pairs("Tcp: A B\nTcp: 1\n").unwrap_err().contains("2 names but 1 values"));
        assert!(pairs("Tcp: A\nUdp: 1\n").unwrap_err().contains("followed by values of Udp"));
        assert!(pairs("garbage\nmore\n").unwrap_err().contains("no protocol prefix"));
        let p = Picks {
            header: String::new(),
            columns: vec![(0, "node_netstat_Tcp_A".into(), "h".into())],
        };
        assert!(
            emit(&p, ["x"].into_iter(), &mut MetricSet::new())
                .unwrap_err()
                .contains("\"x\" is not")
        );
    }
}
