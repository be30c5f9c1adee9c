//! No panic on input: every procfs/sysfs parser gets the fixture tree's real files with random
//! byte edits and cuts, and arbitrary text. A parser may reject the text (an error is the
//! collector's `success 0`), never panic. `FUZZ_CASES=100000 cargo test --test fuzz_parsers`
//! runs longer by hand; CI runs the default bounded count.
#![allow(clippy::disallowed_methods, clippy::unwrap_used)] // test code

mod util;

use std::sync::OnceLock;

use obwatch_exporter::collector::{
    conntrack, cpu, cpufreq, diskstats, edac, entropy, filefd, filesystem, loadavg, mdadm, meminfo,
    netclass, netdev, pressure, schedstat, sockstat, stat, thermal_zone, time, vmstat,
};
use obwatch_testkit::fuzz::{Edit, cases, mutate};
use proptest::prelude::*;

/// The fixture tree's procfs files the parsers read, as text.
fn samples() -> &'static Vec<String> {
    static SAMPLES: OnceLock<Vec<String>> = OnceLock::new();
    SAMPLES.get_or_init(|| {
        let tree = util::fixture_tree();
        let files = [
            "proc/stat",
            "proc/diskstats",
            "proc/meminfo",
            "proc/vmstat",
            "proc/net/dev",
            "proc/loadavg",
            "proc/mdstat",
            "proc/schedstat",
            "proc/net/sockstat",
            "proc/pressure/cpu",
            "proc/sys/fs/file-nr",
            "proc/1/mounts",
            "proc/net/stat/nf_conntrack",
        ];
        let texts: Vec<String> = files
            .iter()
            .filter_map(|f| std::fs::read_to_string(tree.path().join(f)).ok())
            .collect();
        assert!(texts.len() >= 10, "fixture files missing: {}", texts.len());
        texts
    })
}

/// Every parser on `text`; results are ignored, only a panic fails.
fn run_all(text: &str) {
    let mut cpus = Vec::new();
    let _ = cpu::parse(text, &mut cpus);
    let _ = cpu::parse_cpu_list(text);
    let mut disks = Vec::new();
    let _ = diskstats::parse(text, &mut disks);
    let _ = meminfo::parse(text, |_, _, _, _| {});
    let _ = vmstat::parse(text, |_, _, _| {});
    let _ = netdev::parse(text, |_| true);
    let _ = loadavg::parse(text);
    let _ = mdadm::parse(text);
    let _ = schedstat::parse(text);
    let _ = sockstat::parse(text);
    let _ = pressure::parse(text);
    let _ = stat::parse(text);
    let _ = filefd::parse(text);
    let _ = filesystem::parse(text);
    let _ = entropy::parse(text);
    let _ = conntrack::parse_uint(text);
    let _ = conntrack::parse_stat(text);
    let _ = cpufreq::parse_khz(text);
    let _ = edac::parse_count(text);
    let _ = netclass::parse_value(text);
    let _ = thermal_zone::parse_int(text);
    let _ = time::parse_available(text).count();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(512), ..ProptestConfig::default() })]

    #[test]
    fn parsers_survive_edited_procfs_files(
        file in 0usize..13,
        edits in proptest::collection::vec(any::<Edit>(), 0..8),
        keep in any::<u16>(),
    ) {
        let samples = samples();
        run_all(&mutate(&samples[file % samples.len()], &edits, keep));
    }

    #[test]
    fn parsers_survive_arbitrary_text(text in "(?s).{0,400}") {
        run_all(&text);
    }

    #[test]
    fn parsers_survive_procfs_like_text(text in "[a-z0-9 :_./()=\\n\\t-]{0,600}") {
        run_all(&text);
    }
}
