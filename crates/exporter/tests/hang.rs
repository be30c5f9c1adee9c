//! A collector that hangs must not hang the scrape: a FIFO stands in for a stuck procfs/sysfs
//! read (open(2) on a FIFO blocks until a writer appears). The real binary must answer within
//! its deadline, report the collector failed, answer later scrapes at once without piling up
//! threads, and recover when the read returns.
#![allow(clippy::disallowed_methods, clippy::unwrap_used)] // test code

mod util;

use std::io::Write;
use std::os::unix::fs::FileTypeExt;
use std::time::{Duration, Instant};

use rustix::fs::{CWD, FileType, Mode, mknodat};
use util::*;

fn threads(pid: u32) -> u32 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status.lines().find_map(|l| l.strip_prefix("Threads:")).unwrap().trim().parse().unwrap()
}

fn success(body: &str, collector: &str) -> Option<f64> {
    let f = families(body);
    f.get("node_scrape_collector_success")?
        .samples
        .iter()
        .find(|s| s.labels.iter().any(|(k, v)| k == "collector" && v == collector))
        .map(|s| s.value)
}

/// The fixture tree with `proc/loadavg` replaced by a FIFO nobody writes: the loadavg
/// collector's open(2) blocks for good. Returns the tree, the FIFO and the `--path.*` flags.
fn tree_with_a_stuck_loadavg() -> (tempfile::TempDir, std::path::PathBuf, [String; 2]) {
    let tree = fixture_tree();
    let fifo = tree.path().join("proc/loadavg");
    std::fs::remove_file(&fifo).unwrap();
    mknodat(CWD, &fifo, FileType::Fifo, Mode::from_raw_mode(0o600), 0).unwrap();
    let procfs = format!("--path.procfs={}", tree.path().join("proc").display());
    let sysfs = format!("--path.sysfs={}", tree.path().join("sys").display());
    (tree, fifo, [procfs, sysfs])
}

#[test]
fn hanging_read_does_not_hang_the_scrape() {
    let (_tree, fifo, [procfs, sysfs]) = tree_with_a_stuck_loadavg();
    let logs = tempfile::tempdir().unwrap().keep();
    // Our own deadline is long; Prometheus' header (0.75 s minus a margin) must cut it short.
    let (proc, base) =
        start_ours(&[&procfs, &sysfs, "--scrape.timeout=20s"], &logs.join("exporter.log"));
    let url = format!("{base}/metrics");

    let t = Instant::now();
    let (status, body) =
        get_with(&url, &[("X-Prometheus-Scrape-Timeout-Seconds", "0.75")]).unwrap();
    let first = t.elapsed();
    assert_eq!(status, 200);
    // Well under our own 20 s deadline, which a scrape ignoring the header would wait for.
    assert!(first < Duration::from_secs(3), "first scrape took {first:?}");
    assert_eq!(success(&body, "loadavg"), Some(0.0));
    assert_eq!(success(&body, "filesystem"), Some(1.0), "other collectors still report");

    // The stuck read is still in flight: later scrapes skip it at once, and no thread piles up.
    let baseline = threads(proc.pid());
    for _ in 0..10 {
        let t = Instant::now();
        let (status, body) = get(&url).unwrap();
        assert_eq!(status, 200);
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "scrape took {:?} with a stuck collector",
            t.elapsed()
        );
        assert_eq!(success(&body, "loadavg"), Some(0.0));
    }
    let after = threads(proc.pid());
    assert!(after <= baseline + 1, "threads grew from {baseline} to {after} over 10 scrapes");
    assert!(after <= 16, "{after} threads");

    // The read returns: the collector recovers.
    let mut w = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    // The unblocked reader may fail (pread on a FIFO is ESPIPE) and close before this write:
    // EPIPE then. Either way the stuck read has returned, which is what this step needs.
    if let Err(e) = w.write_all(b"0.25 0.50 0.75 1/100 42\n") {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    drop(w);
    // Later reads find a regular file again.
    std::fs::remove_file(&fifo).unwrap();
    std::fs::write(&fifo, "0.25 0.50 0.75 1/100 42\n").unwrap();
    let body = wait_for("loadavg to recover", Duration::from_secs(10), || {
        let (_, body) = get(&url).unwrap();
        (success(&body, "loadavg") == Some(1.0)).then_some(body)
    });
    assert!(body.contains("node_load5 0.5\n"));
}

#[test]
fn sigterm_with_a_stuck_collector_exits_within_the_grace_period() {
    let (_tree, fifo, [procfs, sysfs]) = tree_with_a_stuck_loadavg();
    let log = tempfile::tempdir().unwrap().keep().join("exporter.log");
    let (mut proc, base) = start_ours(&[&procfs, &sysfs, "--scrape.timeout=1s"], &log);
    // One scrape leaves a blocking thread stuck in open(2) on the FIFO for good.
    let (status, body) = get(&format!("{base}/metrics")).unwrap();
    assert_eq!(status, 200);
    assert_eq!(success(&body, "loadavg"), Some(0.0));

    let pid = rustix::process::Pid::from_raw(proc.pid() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    let t = Instant::now();
    // 10 s of HTTP drain at most (nothing is in flight here) plus the 2 s blocking grace.
    let status = wait_for("the exporter to exit after SIGTERM", Duration::from_secs(12), || {
        proc.0.try_wait().unwrap()
    });
    assert_eq!(status.code(), Some(0), "exit status {status:?}; log in {}", log.display());
    assert!(t.elapsed() < Duration::from_secs(5), "exit took {:?}", t.elapsed());
    // The FIFO is still without a writer: the thread was abandoned, not released.
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
}
