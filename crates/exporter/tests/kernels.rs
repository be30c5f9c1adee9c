//! Old-kernel formats: `run()` in-process over the procfs/sysfs trees of a CentOS 7.9 host
//! (kernel 3.10.0-1160.el7, `tests/fixtures/el7/`) and a RHEL 8.9 host (4.18.0-513.el8,
//! `tests/fixtures/el8/`; sources of every file in each directory's SOURCES.md). Each scrape
//! passes `promtool check metrics`, equals its golden file (`tests/golden/el7.prom`,
//! `el8.prom`; `UPDATE_GOLDEN=1` rewrites them), and every collector either succeeds with
//! samples of its main family or reports no data, the latter only when listed below with the
//! reason. A parser that starts failing on an old kernel's format fails this test.
#![allow(clippy::disallowed_methods, clippy::unwrap_used)] // test code

mod util;

use std::path::Path;

use obwatch_exporter::collector::ALL;
use util::*;

/// The family each working collector must have at least one sample of.
const MAIN_FAMILY: &[(&str, &str)] = &[
    ("bonding", "node_bonding_slaves"),
    ("conntrack", "node_nf_conntrack_entries"),
    ("cpu", "node_cpu_seconds_total"),
    ("cpufreq", "node_cpu_scaling_frequency_hertz"),
    ("diskstats", "node_disk_reads_completed_total"),
    ("edac", "node_edac_correctable_errors_total"),
    ("entropy", "node_entropy_available_bits"),
    ("filefd", "node_filefd_allocated"),
    ("hwmon", "node_hwmon_temp_celsius"),
    ("loadavg", "node_load1"),
    ("mdadm", "node_md_state"),
    ("meminfo", "node_memory_MemTotal_bytes"),
    ("namedprocess", "namedprocess_namegroup_num_procs"),
    ("netclass", "node_network_up"),
    ("netdev", "node_network_receive_bytes_total"),
    ("netstat", "node_netstat_Tcp_CurrEstab"),
    ("nvme", "node_nvme_info"),
    ("pressure", "node_pressure_cpu_waiting_seconds_total"),
    ("schedstat", "node_schedstat_running_seconds_total"),
    ("sockstat", "node_sockstat_sockets_used"),
    ("stat", "node_boot_time_seconds"),
    // el7 has no thermal zone (see el7/thermal_zone.tree), only cooling devices.
    ("thermal_zone", "node_cooling_device_max_state"),
    ("timer", "obwatch_timer_wakeup_delay_seconds"),
    ("vmstat", "node_vmstat_pgfault"),
];

/// One old kernel's fixture tree and the collectors with nothing to report there.
struct Kernel {
    name: &'static str,
    /// `(collector, why)`: success 0 with `obwatch_exporter_collector_no_data 1` expected.
    no_data: &'static [(&'static str, &'static str)],
    /// Families this kernel's tree must not have (formats it lacks).
    absent: &'static [&'static str],
}

const EL7: Kernel = Kernel {
    name: "el7",
    no_data: &[("pressure", "PSI is 4.20+: 3.10 has no /proc/pressure")],
    absent: &[
        "node_vmstat_oom_kill",                  // oom_kill counter is 4.13+
        "node_disk_discards_completed_total",    // discard columns are 4.18+
        "node_network_receive_nohandler_total",  // statistics/rx_nohandler is 4.6+
        "node_network_carrier_up_changes_total", // carrier_up_count is 4.16+
        "node_network_name_assign_type",         // name_assign_type is 3.17+
        "node_thermal_zone_temp",                // no zones on this host (no x86_pkg_temp)
        "node_memory_KReclaimable_bytes",        // 4.20 (RHEL 8 backport only)
    ],
};

const EL8: Kernel = Kernel {
    name: "el8",
    no_data: &[(
        "pressure",
        "RHEL 8 builds PSI disabled by default (CONFIG_PSI_DEFAULT_DISABLED): without psi=1 \
         on the kernel command line 4.18.0-el8 creates no /proc/pressure",
    )],
    absent: &["node_disk_flush_requests_total"], // flush columns are 5.5+
};

/// Builds `tests/fixtures/<name>/*.tree` into a temporary directory.
fn build_tree(kernel: &Kernel) -> tempfile::TempDir {
    let tree = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(kernel.name);
    obwatch_exporter::fixture::build_all(tree.path(), &fixtures).unwrap();
    tree
}

/// `--path.*` flags pointing into `tree`.
fn path_args(tree: &Path) -> Vec<String> {
    vec![
        format!("--path.procfs={}", tree.join("proc").display()),
        format!("--path.sysfs={}", tree.join("sys").display()),
        // udev's database (diskstats' node_disk_info) comes from the tree, not this host.
        format!("--path.rootfs={}", tree.display()),
    ]
}

/// Scrapes the kernel's tree with every non-host-bound collector.
async fn scrape(kernel: &Kernel) -> String {
    let tree = build_tree(kernel);
    let mut args = path_args(tree.path());
    args.push("--collector.disable-defaults".to_string());
    for s in ALL.iter().filter(|s| !HOST_BOUND.contains(&s.name)) {
        args.push(format!("--collector.{}", s.name));
    }
    let (base, _stop) = serve_in_process(&args).await;
    let url = format!("{base}/metrics");
    let (status, body) = tokio::task::spawn_blocking(move || get(&url).unwrap()).await.unwrap();
    assert_eq!(status, 200);
    body
}

/// Every collector succeeded with samples of its main family, or reported no data and is
/// listed in `kernel.no_data`; nothing else.
fn check_collectors(kernel: &Kernel, body: &str) {
    let fams = families(body);
    let per_collector = |family: &str, collector: &str| {
        fams[family]
            .samples
            .iter()
            .find(|s| label_map(s).get("collector").map(String::as_str) == Some(collector))
            .map(|s| s.value)
    };
    let mut problems = Vec::new();
    for s in ALL.iter().filter(|s| !HOST_BOUND.contains(&s.name)) {
        let success = per_collector("node_scrape_collector_success", s.name);
        let no_data = per_collector("obwatch_exporter_collector_no_data", s.name);
        let why = kernel.no_data.iter().find(|(c, _)| *c == s.name).map(|(_, why)| *why);
        match (success, no_data, why.is_some()) {
            (Some(1.0), _, false) => {
                let main = MAIN_FAMILY.iter().find(|(c, _)| *c == s.name).map(|(_, f)| *f);
                let main = main.unwrap_or_else(|| panic!("add {} to MAIN_FAMILY", s.name));
                if fams.get(main).is_none_or(|f| f.samples.is_empty()) {
                    problems.push(format!("{}: succeeded without samples of {main}", s.name));
                }
            }
            (Some(0.0), Some(1.0), true) => {}
            (Some(0.0), Some(1.0), false) => {
                problems.push(format!("{}: no data, but not in the no-data list", s.name));
            }
            (Some(1.0), _, true) => problems.push(format!(
                "{}: succeeded; drop it from the no-data list ({})",
                s.name,
                why.unwrap_or_default()
            )),
            other => problems.push(format!("{}: (success, no_data) = {other:?}", s.name)),
        }
    }
    for family in kernel.absent {
        if fams.contains_key(*family) && !fams[*family].samples.is_empty() {
            problems.push(format!("{family}: present, but {} lacks it", kernel.name));
        }
    }
    assert!(problems.is_empty(), "{}:\n{}\n\n{body}", kernel.name, problems.join("\n"));
}

async fn check(kernel: &Kernel) {
    let body = scrape(kernel).await;
    promtool_check_own(&body);
    assert_golden(kernel.name, &body);
    check_collectors(kernel, &body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn el7_centos_7_9_kernel_3_10() {
    check(&EL7).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn el8_rhel_8_9_kernel_4_18() {
    check(&EL8).await;
}

#[test]
fn every_collector_has_a_main_family() {
    for s in ALL.iter().filter(|s| !HOST_BOUND.contains(&s.name)) {
        assert!(MAIN_FAMILY.iter().any(|(c, _)| *c == s.name), "add {} to MAIN_FAMILY", s.name);
    }
}

/// A collector failing on every scrape logs its error once a minute with a count of the
/// suppressed ones, not once per scrape (the registry's rate limit), checked end to end.
#[test]
fn failing_collector_logs_once_not_per_scrape() {
    let tree = build_tree(&EL7);
    std::fs::write(tree.path().join("proc/loadavg"), "7.42 x 6.55 11/2873 48213\n").unwrap();
    let mut args = path_args(tree.path());
    args.extend(["--collector.disable-defaults", "--collector.loadavg"].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let log = tree.path().join("exporter.log");
    let (_exporter, base) = start_ours(&args, &log);
    for _ in 0..3 {
        let (status, body) = get(&format!("{base}/metrics")).unwrap();
        assert_eq!(status, 200);
        assert_eq!(
            value(&body, "node_scrape_collector_success", &[("collector", "loadavg")]),
            Some(0.0)
        );
        let no_data =
            value(&body, "obwatch_exporter_collector_no_data", &[("collector", "loadavg")]);
        assert_eq!(no_data, Some(0.0), "a parse error is a failure, not missing data");
    }
    let text = std::fs::read_to_string(&log).unwrap();
    let failed: Vec<&str> =
        text.lines().filter(|l| l.contains("Collector failed.") && l.contains("loadavg")).collect();
    assert_eq!(failed.len(), 1, "one line for three failing scrapes:\n{text}");
    assert!(failed[0].contains("level=error") && failed[0].contains("suppressed=0"), "{text}");
}
