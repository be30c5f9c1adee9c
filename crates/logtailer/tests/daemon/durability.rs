//! Nothing is lost: corrupt state, garbage and huge lines, a vanished log directory, SIGKILL at any moment, a full outbox disk, a multi-line record across a copytruncate and a crash.

use super::*;

#[test]
fn corrupt_state_garbage_huge_lines_and_a_vanished_log_dir_lose_no_alert() {
    let dir = tempfile::tempdir().unwrap();
    let (_am, am_port) = alertmanager(dir.path());
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let log = logs.join("app.log");
    std::fs::write(&log, "").unwrap();
    std::fs::write(dir.path().join("rules.yaml"), RULES_A).unwrap();
    // A state file that is not JSON: warn, start as on a first start.
    std::fs::create_dir(dir.path().join("state")).unwrap();
    std::fs::write(dir.path().join("state/checkpoints.json"), b"\x00{not json").unwrap();
    let url = format!("http://127.0.0.1:{am_port}");
    let config = app_config(dir.path(), &[&logs.join("*.log")], &url, "max_line_bytes: 1MiB\n");
    let (mut lt, port) = start_quiet(&config, "logtailer");

    // Binary garbage and a 10 MB line, then a matching line: the line is cut and counted,
    // the alert still comes.
    let mut garbage: Vec<u8> =
        (0..10u32 << 20).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    garbage.retain(|&b| b != b'\n');
    garbage.push(b'\n');
    std::fs::OpenOptions::new().append(true).open(&log).unwrap().write_all(&garbage).unwrap();
    append(&log, "AAA 1");
    wait_alert(am_port, "after garbage", |a| a["labels"]["n"] == "1");
    wait_metric(port, "obwatch_logtailer_lines_cut_total 1");

    // The log directory vanishes (its inotify watch with it) and comes back with a new file:
    // found by the periodic rescan.
    std::fs::remove_dir_all(&logs).unwrap();
    std::fs::create_dir(&logs).unwrap();
    std::fs::write(&log, "AAA 2\n").unwrap();
    wait_alert(am_port, "after the directory came back", |a| a["labels"]["n"] == "2");
    assert!(lt.0.try_wait().unwrap().is_none(), "the daemon must survive all of it");
}

#[test]
fn sigkill_at_any_moment_loses_no_alert() {
    let dir = tempfile::tempdir().unwrap();
    let (_am, am_port) = alertmanager(dir.path());
    let log = dir.path().join("app.log");
    std::fs::write(&log, "").unwrap();
    std::fs::write(dir.path().join("rules.yaml"), RULES_A).unwrap();
    let config = app_config(dir.path(), &[&log], &format!("http://127.0.0.1:{am_port}"), "");
    // Each round appends a matching line and kills the daemon a little later each time:
    // before it read the line, while matching, after queueing, after posting. Whatever the
    // moment, the restarted daemon delivers the alert (from the uncommitted line or from
    // the outbox).
    for (n, delay_ms) in [0u64, 1, 3, 10, 30, 100].into_iter().enumerate() {
        let (mut lt, _) = start_quiet(&config, "logtailer");
        append(&log, &format!("AAA {n}"));
        std::thread::sleep(Duration::from_millis(delay_ms)); // the moment of the kill, not a wait
        lt.0.kill().unwrap();
        lt.0.wait().unwrap();
        let (_again, _) = start_quiet(&config, "logtailer after SIGKILL");
        let want = n.to_string();
        wait_alert(am_port, &format!("round {n} (kill after {delay_ms} ms)"), |a| {
            a["labels"]["n"] == want.as_str()
        });
    }
}

/// The committed offset of `log` in the daemon's checkpoint file.
fn committed(state_dir: &Path, log: &Path) -> u64 {
    let text = std::fs::read_to_string(state_dir.join("checkpoints.json")).unwrap();
    let state: Value = serde_json::from_str(&text).unwrap();
    let file =
        state["files"].as_array().unwrap().iter().find(|f| f["path"] == log.to_str().unwrap());
    file.map_or(0, |f| f["offset"].as_u64().unwrap())
}

#[test]
fn a_full_outbox_disk_is_logged_and_counted_holds_the_checkpoint_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (_am, am_port) = alertmanager(dir.path());
    let log = dir.path().join("app.log");
    std::fs::write(&log, "").unwrap();
    std::fs::write(dir.path().join("rules.yaml"), RULES_A).unwrap();
    let state = dir.path().join("state");
    let outbox = state.join("outbox");
    std::fs::create_dir_all(&outbox).unwrap();
    // Declared after `dir` and before the daemon: the daemon dies first, then the unmount,
    // then the temp dir goes.
    let Some(_tmpfs) = Tmpfs::mount(&outbox, "256k") else { return };
    let url = format!("http://127.0.0.1:{am_port}");
    let config = app_config(dir.path(), &[&log], &url, "");
    let stderr = dir.path().join("lt.log");
    let (mut lt, port) = start_logged(&config, &stderr, "logtailer");
    let lag = |n: u64| format!("obwatch_logtailer_lag_bytes{{path=\"{}\"}} {n}", log.display());

    // The outbox on the tmpfs works: an alert goes through and everything is committed.
    append(&log, "AAA 0");
    wait_alert(am_port, "AAA 0", |a| a["labels"]["n"] == "0");
    wait_metric(port, &lag(0));
    let before = std::fs::metadata(&log).unwrap().len();
    assert_eq!(committed(&state, &log), before);
    // Its outbox entry is gone (acknowledged) before the disk fills, so no page frees up later.
    wait_metric(port, &format!("obwatch_logtailer_outbox_entries{{url=\"{url}\"}} 0"));

    // Fill the tmpfs.
    let filler = outbox.join("filler");
    let mut f = std::fs::File::create(&filler).unwrap();
    let chunk = vec![b'x'; 4096];
    let full = loop {
        if let Err(e) = f.write_all(&chunk) {
            break e;
        }
    };
    drop(f);
    assert_eq!(full.raw_os_error(), Some(28), "expected ENOSPC, got {full}");

    // Matching lines while the outbox cannot take their alerts.
    for n in 1..=5 {
        append(&log, &format!("AAA {n}"));
        append(&log, "noise");
    }
    let end = std::fs::metadata(&log).unwrap().len();
    // Counted, and retried.
    wait_metric_at_least(
        port,
        &format!("obwatch_logtailer_outbox_write_failures_total{{url=\"{url}\"}}"),
        3.0,
    );
    assert!(lt.0.try_wait().unwrap().is_none(), "a full disk must not stop the daemon");
    let logged = std::fs::read_to_string(&stderr).unwrap();
    assert!(logged.contains("No space left on device"), "{logged}");
    assert_eq!(
        logged.matches("Cannot queue alerts in the outbox").count(),
        1,
        "logged once per outage: {logged}"
    );
    // Nothing past the lines whose alerts are not queued is committed.
    assert_eq!(committed(&state, &log), before, "checkpoint moved while the outbox was full");
    wait_metric(port, &lag(end - before));
    let text = get(&format!("{url}/api/v2/alerts")).unwrap();
    let alerts: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert!(!alerts.iter().any(|a| a["labels"]["n"] == "1"), "{alerts:?}");

    // Space again: every alert arrives and the checkpoint reaches the end.
    std::fs::remove_file(&filler).unwrap();
    for n in 1..=5 {
        let want = n.to_string();
        wait_alert(am_port, &format!("AAA {n} after space came back"), |a| {
            a["labels"]["n"] == want.as_str()
        });
    }
    wait_metric(port, &lag(0));
    assert_eq!(committed(&state, &log), end);
    let logged = std::fs::read_to_string(&stderr).unwrap();
    assert!(logged.contains("The outbox takes alerts again"), "{logged}");
}

#[test]
fn a_multiline_record_carried_across_a_copytruncate_and_a_crash_loses_no_line() {
    let dir = tempfile::tempdir().unwrap();
    let (_am, am_port) = alertmanager(dir.path());
    let (log, other) = (dir.path().join("app.log"), dir.path().join("other.log"));
    std::fs::write(&log, "").unwrap();
    std::fs::write(&other, "").unwrap();
    // One rule per line of the record, so each line read shows as an alert; records start at
    // `[` lines.
    std::fs::write(
        dir.path().join("rules.yaml"),
        "groups:\n  - name: g\n    multiline: { start: '^\\[' }\n    rules:\n      - alert: Start\n        match: 'FATAL (?P<n>\\d+)'\n        severity: critical\n      - alert: Code\n        match: 'code=(?P<code>\\d+)'\n        severity: critical\n",
    )
    .unwrap();
    let url = format!("http://127.0.0.1:{am_port}");
    let config = app_config(dir.path(), &[&log, &other], &url, "");
    let (mut lt, port) = start_quiet(&config, "logtailer");
    // A record starts and is held: its end has not come yet.
    append(&log, "[t1] FATAL 1");
    wait_metric(port, "obwatch_logtailer_lines_total{input=\"app\"} 1");
    // copytruncate in the middle of the record; its next line goes to the new content.
    std::fs::copy(&log, dir.path().join("app.log.1")).unwrap();
    std::fs::OpenOptions::new().write(true).open(&log).unwrap().set_len(0).unwrap();
    wait_metric(port, "obwatch_logtailer_truncations_total 1");
    append(&log, "  code=7");
    wait_metric(port, "obwatch_logtailer_lines_total{input=\"app\"} 2");
    // Two more full scans (1 s apart): the last one started well after the copy was made, so
    // the checkpoint the next line writes says the copy is older than the last scan, and a
    // restart does not take it for a file rotated while down.
    let before = wait_metric_at_least(port, "obwatch_logtailer_scans_total", 0.0);
    wait_metric_at_least(port, "obwatch_logtailer_scans_total", before + 2.0);
    append(&other, "noise");
    wait_metric(port, "obwatch_logtailer_lines_total{input=\"app\"} 3");
    // Crash before the record ended (nothing of it was evaluated).
    lt.0.kill().unwrap();
    lt.0.wait().unwrap();
    let (_again, port) = start_quiet(&config, "logtailer after SIGKILL");
    // Every line of the record is read again and alerts (the record's start from the copy).
    wait_alert(am_port, "the record's first line", |a| a["labels"]["n"] == "1");
    wait_alert(am_port, "the record's line after the truncation", |a| a["labels"]["code"] == "7");
    // Duplicates: lines read again after the crash (the two record lines, in the copy and in
    // the file), counted by the restarted daemon.
    let metrics = get(&format!("http://127.0.0.1:{port}/metrics")).unwrap();
    let reread = sample(&metrics, "obwatch_logtailer_lines_total{input=\"app\"}").unwrap_or(0.0);
    eprintln!("lines read again after the crash: {reread}");
    assert!((2.0..=3.0).contains(&reread), "re-read {reread} lines:\n{metrics}");
}
