//! `node_vmstat_<field>` from `/proc/vmstat` (proc(5); the fields are the kernel's
//! `vmstat_text[]` in mm/vmstat.c), kept to the fields matching `--collector.vmstat.fields`.
//! Untyped, as node_exporter exports them: some are counters (`pgfault`), some gauges
//! (`nr_free_pages`), and the kernel does not say which.

use std::path::PathBuf;

use obwatch_common::metrics::{MetricSet, MetricType};
use regex::Regex;

use super::names::NameTable;
use super::{BuildContext, BuildError, CollectError, Collector, CollectorSpec, with_file};
use crate::collector::option_parts::regex_option;

/// Registry entry.
pub const SPEC: CollectorSpec = CollectorSpec { name: "vmstat", default_enabled: true, build };

/// node_exporter 1.x `--collector.vmstat.fields` default.
pub const FIELDS: &str = r"^(oom_kill|pgpg|pswp|pg.*fault).*";

regex_option! {
    /// Regexp of /proc/vmstat fields to report.
    flag: "collector.vmstat.fields",
    key: vmstat_fields,
    default: FIELDS,
}

fn build(cx: &BuildContext) -> Result<Box<dyn Collector>, BuildError> {
    Ok(Box::new(Vmstat {
        path: cx.root.proc("vmstat"),
        fields: cx.options.vmstat.pattern.clone(),
        names: NameTable::default(),
    }))
}

/// Reads the virtual memory counters.
#[derive(Debug)]
pub struct Vmstat {
    path: PathBuf,
    fields: Regex,
    /// Names and filter verdicts by line: ~200 lines, ~10 exported, matched once, not per scrape.
    names: NameTable,
}

impl Collector for Vmstat {
    fn collect(&self, out: &mut MetricSet) -> Result<(), CollectError> {
        let mut names = self.names.lock();
        with_file(&self.path, |text| {
            parse(text, |pos, field, value| {
                let made = names.get(pos, field, false, || {
                    self.fields.is_match(field).then(|| {
                        (
                            format!("node_vmstat_{field}"),
                            format!("/proc/vmstat information field {field}."),
                        )
                    })
                });
                if let Some((name, help)) = made {
                    out.family(name, help, MetricType::Untyped).sample(&[], value);
                }
            })
        })
    }
}

/// Parses `name value` lines, calling `f(line index, name, value)` for each. A line without a
/// value is an error; a name the kernel adds later is just another field.
pub fn parse(text: &str, mut f: impl FnMut(usize, &str, f64)) -> Result<(), String> {
    for (pos, line) in text.lines().enumerate() {
        let mut fields = line.split_ascii_whitespace();
        let Some(name) = fields.next() else { continue };
        let value = fields.next().ok_or_else(|| format!("field {name:?} has no value"))?;
        // Counters are u64, but a few (e.g. nr_* on some kernels) can be printed signed.
        let v = match value.parse::<u64>() {
            Ok(v) => v as f64,
            Err(_) => value
                .parse::<i64>()
                .map_err(|_| format!("{name} value {value:?} is not an integer"))?
                as f64,
        };
        f(pos, name, v);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This host (kernel 6.18), head and tail of `cat /proc/vmstat` plus the default fields.
    const LINUX_6_18: &str = "nr_free_pages 805453
nr_free_pages_blocks 793088
nr_zone_inactive_anon 160087
pgpgin 4904593
pgpgout 5535936
pswpin 0
pswpout 0
pgfault 20573151
pgmajfault 6528
oom_kill 0
direct_map_level3_collapses 0
nr_unstable 0
";

    /// RHEL 7 (3.10) layout per mm/vmstat.c of that era (values illustrative): no oom_kill
    /// (added in 4.13), no nr_zone_* (4.8).
    const LINUX_3_10: &str = "nr_free_pages 1203212
nr_inactive_anon 8123
pgpgin 40331188
pgpgout 120731224
pswpin 0
pswpout 0
pgfault 3390271232
pgmajfault 31337
";

    fn collect(text: &str) -> MetricSet {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("vmstat"), text).unwrap();
        let v = Vmstat {
            path: d.path().join("vmstat"),
            fields: Options::default().pattern,
            names: NameTable::default(),
        };
        let mut out = MetricSet::new();
        v.collect(&mut out).unwrap();
        // A second scrape gives the same, from the memo.
        let mut again = MetricSet::new();
        v.collect(&mut again).unwrap();
        assert_eq!(out.sample_count(), again.sample_count());
        out
    }

    #[test]
    fn exports_default_fields_of_real_hosts() {
        let out = collect(LINUX_6_18);
        assert_eq!(out.get("node_vmstat_pgfault", &[]), Some(20573151.0));
        assert_eq!(out.get("node_vmstat_oom_kill", &[]), Some(0.0));
        assert_eq!(out.find("node_vmstat_pgpgin").unwrap().kind(), MetricType::Untyped);
        assert!(out.find("node_vmstat_nr_free_pages").is_none());
        assert_eq!(out.sample_count(), 7);
        let out = collect(LINUX_3_10);
        assert_eq!(out.get("node_vmstat_pgfault", &[]), Some(3390271232.0));
        assert_eq!(out.sample_count(), 6);
    }

    #[test]
    fn rejects_odd_input() {
        let mut n = 0;
        assert!(
            parse("pgfault\n", |_, _, _| n += 1).unwrap_err().contains("\"pgfault\" has no value")
        );
        assert!(
            parse("a 1\npgfault x\n", |_, _, _| n += 1)
                .unwrap_err()
                .contains("pgfault value \"x\"")
        );
        assert_eq!(n, 1);
        let mut seen = Vec::new();
        parse("\nnr_x -3\nfuture_field 9 extra\n", |p, k, v| seen.push((p, k.to_string(), v)))
            .unwrap();
        assert_eq!(seen, [(1, "nr_x".to_string(), -3.0), (2, "future_field".to_string(), 9.0)]);
    }
}
