//! The clusterware collector with fake `crsctl`/`olsnodes` scripts (Oracle Clusterware cannot
//! run here) that print the documented formats: found through `etc/oracle/olr.loc` under
//! `--path.rootfs`; a stack that is up, a listener OFFLINE against its ONLINE target, a
//! voting disk offline, a node down; then CRS down, a hung crsctl (killed at the timeout with
//! its children, its series dropped, scrapes still fast) and garbage output.
#![allow(clippy::disallowed_methods, clippy::unwrap_used)] // test code

mod util;

use std::path::Path;
use std::time::{Duration, Instant};

use util::*;

/// A `crsctl` that answers per the word in `../mode`: up, down, hang or garbage.
const CRSCTL: &str = r#"#!/bin/sh
mode=$(cat "$(dirname "$0")/../mode")
case "$mode" in
  hang) echo $$ >> "$(dirname "$0")/../hung.pids"; exec sleep 86401 ;;
  garbage) echo "Segmentation fault"; exit 139 ;;
esac
case "$*" in
  "check crs")
    echo "CRS-4638: Oracle High Availability Services is online"
    if [ "$mode" = down ]; then
      echo "CRS-4535: Cannot communicate with Cluster Ready Services"
    else
      echo "CRS-4537: Cluster Ready Services is online"
    fi
    echo "CRS-4529: Cluster Synchronization Services is online"
    echo "CRS-4533: Event Manager is online" ;;
  "stat res -v")
    if [ "$mode" = down ]; then
      echo "CRS-4535: Cannot communicate with Cluster Ready Services"
      echo "CRS-4000: Command Status failed, or completed with errors."
      exit 1
    fi
    cat <<'EOF'
NAME=ora.LISTENER.lsnr
TYPE=ora.listener.type
LAST_SERVER=rac1
STATE=ONLINE on rac1
TARGET=ONLINE
CARDINALITY_ID=rac1
RESTART_COUNT=0
FAILURE_COUNT=0
INTERNAL_STATE=STABLE

LAST_SERVER=rac2
STATE=OFFLINE
TARGET=ONLINE
CARDINALITY_ID=rac2
RESTART_COUNT=3
FAILURE_COUNT=1
INTERNAL_STATE=STABLE

NAME=ora.orcl.db
TYPE=ora.database.type
LAST_SERVER=rac1
STATE=ONLINE on rac1
TARGET=ONLINE
CARDINALITY_ID=1
RESTART_COUNT=0
FAILURE_COUNT=0
STATE_DETAILS=Open
INTERNAL_STATE=STABLE
EOF
    ;;
  "query css votedisk")
    cat <<'EOF'
##  STATE    File Universal Id                File Name Disk group
--  -----    -----------------                --------- ---------
 1. ONLINE   4f7d2d1c1a2b4f6fbf0a3b8f6d2e1c0a (/dev/oracleasm/disks/OCR1) [OCR]
 2. ONLINE   9a8b7c6d5e4f40312a1b2c3d4e5f6a7b (/dev/oracleasm/disks/OCR2) [OCR]
 3. OFFLINE  0123456789abcdef0123456789abcdef (/dev/oracleasm/disks/OCR3) [OCR]
Located 3 voting disk(s).
EOF
    ;;
  *) echo "CRS-4002: unknown command $*"; exit 1 ;;
esac
"#;

const OLSNODES: &str = "#!/bin/sh\nprintf 'rac1\\tActive\\nrac2\\tInactive\\n'\n";

fn success(body: &str, command: &str) -> Option<f64> {
    value(body, "obwatch_command_success", &[("command", command)])
}

fn crs_families(body: &str) -> Vec<String> {
    families(body).into_keys().filter(|n| n.starts_with("crs_")).collect()
}

/// The hung fakes this test started (their pids in `hung.pids`) that still run: gone or a
/// zombie counts as killed. Only ours: a run that died earlier may have left others.
fn hung_sleeps(pids: &Path) -> usize {
    let text = std::fs::read_to_string(pids).unwrap_or_default();
    text.split_whitespace()
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
                !s.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z'))
            })
        })
        .count()
}

/// Kills the hung fakes whatever happens to the test (the exporter's SIGKILL does not reach
/// them: each tool runs in its own process group).
struct KillHung(std::path::PathBuf);

impl Drop for KillHung {
    fn drop(&mut self) {
        for pid in std::fs::read_to_string(&self.0).unwrap_or_default().split_whitespace() {
            let _ = std::process::Command::new("kill").args(["-9", pid]).status();
        }
    }
}

/// Replaces the mode file whole, so the fake never reads it half-written.
fn set_mode(mode: &Path, word: &str) {
    let tmp = mode.with_extension("tmp");
    std::fs::write(&tmp, word).unwrap();
    std::fs::rename(&tmp, mode).unwrap();
}

#[test]
fn fake_crsctl_up_down_hung_and_garbage() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    let home = obwatch_testkit::clusterware::fake_grid_home(r, CRSCTL, OLSNODES);
    let mode = home.join("mode");
    set_mode(&mode, "up");
    let pids = home.join("hung.pids");
    let _kill_hung = KillHung(pids.clone());
    let cfg = r.join("exporter.yml");
    // A round a second (the timeout may not exceed the interval), each tool killed after 1 s.
    std::fs::write(&cfg, "clusterware:\n  interval: 1s\n  timeout: 1s\n").unwrap();
    let rootfs = format!("--path.rootfs={}", r.display());
    let (_ex, base) = start_ours(
        &[
            "--collector.disable-defaults",
            "--collector.clusterware",
            &rootfs,
            "--config.file",
            cfg.to_str().unwrap(),
        ],
        &r.join("exporter.log"),
    );
    let url = format!("{base}/metrics");

    let body = scrape_until(&url, "all tools to answer", |b| {
        ["crsctl check crs", "crsctl stat res -v", "crsctl query css votedisk", "olsnodes -s"]
            .iter()
            .all(|c| success(b, c) == Some(1.0))
    });
    for c in ["ohas", "crs", "css", "evm"] {
        assert_eq!(value(&body, "crs_stack_component_up", &[("component", c)]), Some(1.0), "{c}");
    }
    let lsnr = |server| {
        [("resource", "ora.LISTENER.lsnr"), ("server", server), ("type", "ora.listener.type")]
    };
    assert_eq!(value(&body, "crs_resource_up", &lsnr("rac1")), Some(1.0));
    assert_eq!(value(&body, "crs_resource_up", &lsnr("rac2")), Some(0.0));
    assert_eq!(value(&body, "crs_resource_target_up", &lsnr("rac2")), Some(1.0));
    assert_eq!(value(&body, "crs_resource_restarts", &lsnr("rac2")), Some(3.0));
    assert_eq!(
        value(
            &body,
            "crs_resource_state",
            &[
                ("resource", "ora.LISTENER.lsnr"),
                ("server", "rac2"),
                ("state", "OFFLINE"),
                ("type", "ora.listener.type")
            ]
        ),
        Some(1.0)
    );
    let disk = |n| [("diskgroup", "OCR"), ("path", n)];
    assert_eq!(value(&body, "crs_votedisk_online", &disk("/dev/oracleasm/disks/OCR1")), Some(1.0));
    assert_eq!(value(&body, "crs_votedisk_online", &disk("/dev/oracleasm/disks/OCR3")), Some(0.0));
    assert_eq!(value(&body, "crs_votedisks", &[]), Some(3.0));
    assert_eq!(value(&body, "crs_node_active", &[("node", "rac1")]), Some(1.0));
    assert_eq!(value(&body, "crs_node_active", &[("node", "rac2")]), Some(0.0));
    let lint = promtool_lint(&body);
    assert!(lint.is_empty(), "promtool: {lint:?}");

    // CRS down: check crs says so; stat res prints CRS-4535 and fails; no resource series.
    set_mode(&mode, "down");
    let body = scrape_until(&url, "crs down", |b| {
        value(b, "crs_stack_component_up", &[("component", "crs")]) == Some(0.0)
    });
    assert_eq!(success(&body, "crsctl stat res -v"), Some(0.0));
    assert!(!crs_families(&body).contains(&"crs_resource_up".to_string()), "no stale resources");

    // crsctl hangs: killed at the timeout with its children; its series go; olsnodes stays.
    set_mode(&mode, "hang");
    let body =
        scrape_until(&url, "crsctl timed out", |b| success(b, "crsctl check crs") == Some(0.0));
    assert!(std::fs::read_to_string(&pids).is_ok_and(|p| !p.trim().is_empty()), "it hung");
    assert_eq!(crs_families(&body), ["crs_node_active"]);
    let t = Instant::now();
    get(&url).unwrap();
    assert!(
        t.elapsed() < Duration::from_millis(750), // waiting would take the 1 s timeout
        "a scrape waited {:?} on a hung tool",
        t.elapsed()
    );
    set_mode(&mode, "garbage");
    // A hung round fails too; garbage is told apart by failing fast (well under the 1 s timeout).
    let votedisk = [("command", "crsctl query css votedisk")];
    let body = scrape_until(&url, "garbage rejected", |b| {
        value(b, "obwatch_command_success", &votedisk) == Some(0.0)
            && value(b, "obwatch_command_duration_seconds", &votedisk).is_some_and(|d| d < 0.5)
            && value(b, "crs_node_active", &[("node", "rac1")]).is_some()
            && hung_sleeps(&pids) == 0
    });
    assert_eq!(crs_families(&body), ["crs_node_active"]);
    let log = wait_for("the garbage logged", Duration::from_secs(5), || {
        let log = std::fs::read_to_string(r.join("exporter.log")).unwrap();
        log.contains("Segmentation fault").then_some(log)
    });
    assert!(log.contains("no result within 1s; killed"), "{log}");
}

#[test]
fn no_clusterware_home_means_no_series_and_no_error() {
    let root = tempfile::tempdir().unwrap();
    let rootfs = format!("--path.rootfs={}", root.path().display());
    let (_ex, base) = start_ours(
        &["--collector.disable-defaults", "--collector.clusterware", &rootfs],
        &root.path().join("exporter.log"),
    );
    let (_, body) = get(&format!("{base}/metrics")).unwrap();
    assert_eq!(
        value(&body, "node_scrape_collector_success", &[("collector", "clusterware")]),
        Some(1.0)
    );
    assert!(crs_families(&body).is_empty());
    assert!(value(&body, "obwatch_command_success", &[("command", "crsctl check crs")]).is_none());
}
