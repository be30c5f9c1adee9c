//! node_exporter compatibility: Debian's `prometheus-node-exporter` and obwatch-exporter run side
//! by side over the same fixture tree and over this host, with the same collectors. Every
//! family node_exporter exports must be ours too, with the same type, help and label sets;
//! values must agree (exactly on the fixture tree; counters bracketed by two of our scrapes on
//! the live host).
#![allow(clippy::disallowed_methods, clippy::unwrap_used)] // test code

mod util;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use obwatch_common::exposition::Family;
use obwatch_exporter::collector::ALL;
use obwatch_exporter::collector::{diskstats, filesystem, netstat};
use util::*;

/// Collectors whose values depend on the live host even over a fixture tree (statfs of real
/// mounts, the clock, adjtimex, uname), so only their shape is compared there.
const HOST_BOUND: &[&str] = &["filesystem", "time", "timex", "uname"];

/// Our own collectors, which node_exporter does not have (its flags would reject them).
const OURS_ONLY: &[&str] = &["clusterware", "namedprocess", "obproxy", "oceanbase", "timer"];

/// Families that legitimately differ: build info and per-run durations.
fn ignored(name: &str) -> bool {
    name == "node_exporter_build_info"
        || name == "node_scrape_collector_duration_seconds"
        || !name.starts_with("node_")
}

struct Pair {
    /// promtool's findings on each raw scrape.
    lint_node_exporter: BTreeSet<String>,
    lint_ours: BTreeSet<String>,
    node_exporter: BTreeMap<String, Family>,
    ours_before: BTreeMap<String, Family>,
    ours_after: BTreeMap<String, Family>,
}

fn scrape_pair(tree: Option<&Path>, textfile_dir: &Path, logs: &Path) -> Pair {
    let mut args: Vec<String> = vec!["--collector.disable-defaults".into()];
    args.extend(
        ALL.iter()
            .filter(|s| !OURS_ONLY.contains(&s.name))
            .map(|s| format!("--collector.{}", s.name)),
    );
    // Debian patches node_exporter's default mount-point exclude; pin upstream's on both.
    let (mount_points, fs_types) = (filesystem::MOUNT_POINTS_EXCLUDE, filesystem::FS_TYPES_EXCLUDE);
    args.push(format!("--collector.filesystem.mount-points-exclude={mount_points}"));
    args.push(format!("--collector.filesystem.fs-types-exclude={fs_types}"));
    // node_exporter 1.5's diskstats default misses zram (`^(ram|...`); newer 1.x and we use
    // `^(z?ram|...`. Pin ours on both.
    args.push(format!("--collector.diskstats.device-exclude={}", diskstats::DEVICE_EXCLUDE));
    // Debian's node_exporter excludes lo from netdev by default; upstream (and we) report it.
    args.push("--collector.netdev.device-exclude=^$".into());
    // Debian's 1.5 netstat default lacks TcpExt_TCPOFOQueue|TCPRcvQDrop, which newer 1.x has.
    args.push(format!("--collector.netstat.fields={}", netstat::FIELDS));
    args.push(format!("--collector.textfile.directory={}", textfile_dir.display()));
    if let Some(t) = tree {
        args.push(format!("--path.procfs={}", t.join("proc").display()));
        args.push(format!("--path.sysfs={}", t.join("sys").display()));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();

    // node_exporter 1.5 reads netdev over netlink by default, which ignores --path.procfs;
    // /proc/net/dev is what we read.
    let mut ne_args = vec!["--web.listen-address=127.0.0.1:0", "--no-collector.netdev.netlink"];
    ne_args.extend_from_slice(&args);
    let ne_log = logs.join("node_exporter.log");
    let (_ne, ne) = Proc::start_listening(&peer("prometheus-node-exporter"), &ne_args, &ne_log);
    let ne_url = format!("http://{ne}/metrics");
    wait_ready(&ne_url, std::time::Duration::from_secs(10));
    let (_ours, base) = start_ours(&args, &logs.join("obwatch.log"));
    let url = format!("{base}/metrics");

    let ours_text = get(&url).unwrap().1;
    let ne_text = get(&ne_url).unwrap().1;
    let ours_after = families(&get(&url).unwrap().1);
    Pair {
        lint_node_exporter: promtool_lint(&ne_text),
        lint_ours: promtool_lint(&ours_text),
        node_exporter: families(&ne_text),
        ours_before: families(&ours_text),
        ours_after,
    }
}

fn samples_by_labels(f: &Family) -> BTreeMap<BTreeMap<String, String>, f64> {
    f.samples.iter().map(|s| (label_map(s), s.value)).collect()
}

/// True for families of the HOST_BOUND collectors (recognised by their prefix; the text format
/// does not say which collector produced a family).
fn host_bound(name: &str) -> bool {
    HOST_BOUND.iter().any(|c| name.starts_with(&format!("node_{c}_")))
}

/// Returns a list of human-readable mismatches.
fn compare(p: &Pair, exact_values: bool) -> Vec<String> {
    let mut problems: Vec<String> = p
        .lint_ours
        .difference(&p.lint_node_exporter)
        .map(|l| format!("promtool finding node_exporter does not have: {l}"))
        .collect();
    for (name, ne) in p.node_exporter.iter().filter(|(n, _)| !ignored(n)) {
        let Some(ours) = p.ours_before.get(name) else {
            problems.push(format!(
                "missing family {name} ({} samples in node_exporter)",
                ne.samples.len()
            ));
            continue;
        };
        if ours.kind != ne.kind {
            problems.push(format!("{name}: type {} here, {} in node_exporter", ours.kind, ne.kind));
        }
        if ours.help != ne.help {
            problems
                .push(format!("{name}: help {:?} here, {:?} in node_exporter", ours.help, ne.help));
        }
        let (theirs, mine, after) = (
            samples_by_labels(ne),
            samples_by_labels(ours),
            p.ours_after.get(name).map(samples_by_labels).unwrap_or_default(),
        );
        let (tk, mk): (BTreeSet<_>, BTreeSet<_>) = (theirs.keys().collect(), mine.keys().collect());
        for missing in tk.difference(&mk) {
            problems.push(format!("{name}: missing sample {missing:?}"));
        }
        for extra in mk.difference(&tk) {
            problems.push(format!("{name}: extra sample {extra:?}"));
        }
        let host_bound = host_bound(name);
        for (labels, v) in &theirs {
            let Some(m) = mine.get(labels) else { continue };
            let same = |a: f64, b: f64| {
                a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs()) || (a.is_nan() && b.is_nan())
            };
            if name == "node_scrape_collector_success" || (exact_values && !host_bound) {
                if !same(*m, *v) {
                    problems.push(format!("{name}{labels:?}: {m} here, {v} in node_exporter"));
                }
            } else if ne.kind == "counter" || TIMEX_MOVING.contains(&name.as_str()) {
                // Counters, and the clock discipline's gauges that move between scrapes, must
                // lie between our two scrapes taken around node_exporter's.
                let a = after.get(labels).copied().unwrap_or(*m);
                let (m, a) = (&m.min(a), &m.max(a));
                if !(*m <= *v + 1e-9 * v.abs() && *v <= a + 1e-9 * a.abs()) {
                    problems.push(format!(
                        "{name}{labels:?}: {v} in node_exporter is outside our [{m}, {a}]"
                    ));
                }
            } else if name.starts_with("node_timex_") && !same(*m, *v) {
                // adjtimex's steady fields (status, tick, sync state, TAI, PPS) must agree.
                problems.push(format!("{name}{labels:?}: {m} here, {v} in node_exporter"));
            }
        }
    }
    problems
}

/// adjtimex(2) fields that the kernel's clock discipline changes from one call to the next.
const TIMEX_MOVING: &[&str] = &[
    "node_timex_offset_seconds",
    "node_timex_frequency_adjustment_ratio",
    "node_timex_maxerror_seconds",
    "node_timex_estimated_error_seconds",
];
/// node_exporter 1.5 rejects the kernel's tab-indented `resync=DELAYED` mdstat lines and drops
/// the whole file (fixed in later node_exporter); we parse them. The fixture has such lines.
const MDADM_15_BUG: (&str, &str) =
    ("{\"collector\": \"mdadm\"}: 1 here, 0 in node_exporter", "node_exporter 1.5 mdstat bug");

/// Fails on any difference not listed in `known` (pattern, reason), and on a listed one that
/// no longer happens, so the list stays true.
fn report(what: &str, problems: &[String], known: &[(&str, &str)], logs: &Path) {
    let unexpected: Vec<&String> =
        problems.iter().filter(|p| !known.iter().any(|(pat, _)| p.contains(pat))).collect();
    assert!(
        unexpected.is_empty(),
        "{what}: {} differences from node_exporter (logs in {}):\n{}",
        unexpected.len(),
        logs.display(),
        unexpected.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n")
    );
    for (pat, why) in known {
        assert!(
            problems.iter().any(|p| p.contains(pat)),
            "{what}: known difference {pat:?} ({why}) no longer occurs; remove it from the list"
        );
    }
}

fn textfile_dir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("job.prom"),
        "# HELP backup_last_success_seconds Last good backup.\n\
        # TYPE backup_last_success_seconds gauge\nbackup_last_success_seconds{db=\"ob1\"} 1.7e9\n",
    )
    .unwrap();
    d
}

#[test]
fn same_families_as_node_exporter_on_fixture_tree() {
    let tree = fixture_tree();
    let logs = tempfile::tempdir().unwrap().keep();
    let tf = textfile_dir();
    let pair = scrape_pair(Some(tree.path()), tf.path(), &logs);
    report("fixture tree", &compare(&pair, true), &[MDADM_15_BUG], &logs);
    // The comparison must have had something to compare.
    assert!(
        pair.node_exporter.len() > 20,
        "node_exporter exported only {} families",
        pair.node_exporter.len()
    );
}

#[test]
fn same_families_as_node_exporter_on_this_host() {
    let logs = tempfile::tempdir().unwrap().keep();
    let tf = textfile_dir();
    let pair = scrape_pair(None, tf.path(), &logs);
    report("this host", &compare(&pair, false), &[], &logs);
    assert!(pair.ours_before.contains_key("node_load1"));
    assert_eq!(
        pair.ours_before.keys().filter(|n| n.starts_with("node_timex_")).count(),
        17,
        "node_timex_* families"
    );
}

/// The metric names node_exporter's own node-mixin queries (its alerts, recording rules and
/// the Linux and USE dashboards), read from `docs/node-mixin` at node_exporter v1.8.2
/// (commit f1e0e8360aa6, 2024-07-14; the directory is identical in v1.8.0 and v1.8.1) with
/// comments removed. Left out: the MacOS dashboard's Darwin-only `node_memory_{compressed,
/// internal,purgeable,total,wired}_bytes`, and the recording rules' own outputs
/// (`instance:node_cpu_utilisation:rate5m`, ...), which Prometheus computes from these.
const NODE_MIXIN_1_8_2: &[&str] = &[
    "node_bonding_active",
    "node_bonding_slaves",
    "node_cpu_seconds_total",
    "node_disk_io_time_seconds_total",
    "node_disk_io_time_weighted_seconds_total",
    "node_disk_read_bytes_total",
    "node_disk_written_bytes_total",
    "node_exporter_build_info",
    "node_filefd_allocated",
    "node_filefd_maximum",
    "node_filesystem_avail_bytes",
    "node_filesystem_files",
    "node_filesystem_files_free",
    "node_filesystem_readonly",
    "node_filesystem_size_bytes",
    "node_load1",
    "node_load15",
    "node_load5",
    "node_md_disks",
    "node_md_disks_required",
    "node_memory_Buffers_bytes",
    "node_memory_Cached_bytes",
    "node_memory_MemAvailable_bytes",
    "node_memory_MemFree_bytes",
    "node_memory_MemTotal_bytes",
    "node_memory_Slab_bytes",
    "node_network_receive_bytes_total",
    "node_network_receive_drop_total",
    "node_network_receive_errs_total",
    "node_network_receive_packets_total",
    "node_network_transmit_bytes_total",
    "node_network_transmit_drop_total",
    "node_network_transmit_errs_total",
    "node_network_transmit_packets_total",
    "node_nf_conntrack_entries",
    "node_nf_conntrack_entries_limit",
    "node_systemd_unit_state",
    "node_textfile_scrape_error",
    "node_time_seconds",
    "node_timex_maxerror_seconds",
    "node_timex_offset_seconds",
    "node_timex_sync_status",
    "node_uname_info",
    "node_vmstat_pgmajfault",
];

/// Both exporters as a user starts them (default collectors, nothing pinned): every name the
/// mixin queries that node_exporter exports on this host, obwatch exports too, so the mixin's
/// alerts and dashboards work unchanged.
#[test]
fn node_mixin_metrics_node_exporter_has_are_ours_too() {
    let logs = tempfile::tempdir().unwrap().keep();
    let (_ne, ne) = Proc::start_listening(
        &peer("prometheus-node-exporter"),
        &["--web.listen-address=127.0.0.1:0"],
        &logs.join("node_exporter.log"),
    );
    let ne_url = format!("http://{ne}/metrics");
    wait_ready(&ne_url, std::time::Duration::from_secs(10));
    let (_ours, base) = start_ours(&[], &logs.join("obwatch.log"));
    let theirs = families(&get(&ne_url).unwrap().1);
    let ours = families(&get(&format!("{base}/metrics")).unwrap().1);
    let exported: Vec<&str> =
        NODE_MIXIN_1_8_2.iter().copied().filter(|n| theirs.contains_key(*n)).collect();
    // The comparison must cover the families that matter here: load, CPU, memory, disks, the
    // clock (what node-mixin's NodeClockSkewDetected/NotSynchronising alerts read) and the
    // build info its USE dashboards list instances by.
    for must in ["node_load1", "node_timex_offset_seconds", "node_exporter_build_info"] {
        assert!(exported.contains(&must), "node_exporter does not export {must} here");
    }
    let missing: Vec<&str> = exported.iter().copied().filter(|n| !ours.contains_key(*n)).collect();
    assert!(
        missing.is_empty(),
        "node-mixin queries these, node_exporter exports them, obwatch does not: {missing:?} \
         (logs in {})",
        logs.display()
    );
    let info = &ours["node_exporter_build_info"].samples[0];
    assert_eq!(label_map(info)["implementation"], "obwatch-exporter");
    assert!(!label_map(info)["version"].is_empty());
}
