//! The binary's contract: subcommands, `--format json`, exit codes (0 ok, 1 runtime failure,
//! 2 bad usage or config) with messages naming the file and field, and `run` stopping on
//! SIGTERM.
#![allow(clippy::disallowed_methods, clippy::unwrap_used)] // test code

mod util;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use util::*;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_obwatch-cleaner")
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(bin()).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn write_config(dir: &Path, body: &str) -> String {
    let p = dir.join("cleaner.yml");
    let text = format!("lock_file: {0}/lock\naudit_log: {0}/audit.jsonl\n{body}", dir.display());
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn help_version_and_bad_usage() {
    let (code, out, _) = run(&["--help"]);
    assert_eq!(code, 0);
    for sub in ["run", "once", "check"] {
        assert!(out.contains(sub), "{out}");
    }
    let (code, out, _) = run(&["once", "--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("--dry-run") && out.contains("--format"), "{out}");
    let (code, out, _) = run(&["--version"]);
    assert_eq!((code, out.contains(env!("CARGO_PKG_VERSION"))), (0, true));
    let (code, _, err) = run(&["purge"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run(&["once"]);
    assert_eq!(code, 2);
    assert!(err.contains("--config"), "{err}");
    let (code, _, err) = run(&["once", "--config", "x.yml", "--format", "xml"]);
    assert_eq!(code, 2);
    assert!(err.contains("xml"), "{err}");
}

#[test]
fn bad_config_exits_2_naming_file_and_field() {
    let d = tempfile::tempdir().unwrap();
    let (code, _, err) = run(&["check", "--config", "/nonexistent/cleaner.yml"]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/cleaner.yml: cannot read"), "{err}");
    let cfg =
        write_config(d.path(), "policies:\n  - name: a\n    paths: [/l/*]\n    max_age: 8x\n");
    let (code, _, err) = run(&["once", "--config", &cfg]);
    assert_eq!(code, 2);
    assert!(
        err.contains("cleaner.yml:6:14:") && err.contains("units ms, s, m, h, d, w, y"),
        "{err}"
    );
    let cfg = write_config(
        d.path(),
        "policies:\n  - name: a\n    paths: [/l/*]\n    max_age: 1d\ndisk: {high_watermark: 60%, low_watermark: 70%}\n",
    );
    let (code, _, err) = run(&["check", "--config", &cfg]);
    assert_eq!(code, 2);
    assert!(
        err.contains(
            "cleaner.yml: field `disk.low_watermark`: expected below high_watermark (60%)"
        ),
        "{err}"
    );
}

#[test]
fn once_json_and_exit_codes() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("log");
    old_file(&log.join("a.log.1"), b"0123456789", 10);
    old_file(&log.join("a.log.2"), b"new", 0);
    let cfg = write_config(
        d.path(),
        &format!(
            "policies:\n  - name: a\n    paths: [\"{}/*.log.*\"]\n    max_age: 1d\n",
            log.display()
        ),
    );
    let (code, out, err) = run(&["once", "--config", &cfg, "--dry-run", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["action"], "delete");
    assert_eq!(v["path"], log.join("a.log.1").display().to_string());
    assert_eq!(v["bytes"], 10);
    assert!(v["reason"].as_str().unwrap().contains("over max_age 1d0h"), "{v}");
    assert_eq!(files(&log), ["a.log.1", "a.log.2"]);

    // Another run holds the lock: exit 1, nothing done. The lock is taken by a child process
    // (util-linux flock): taken in this process, a parallel test's fork could keep a copy of
    // the descriptor, and so the lock, for a moment after it is dropped here.
    let lock_path = d.path().join("lock");
    let ready = d.path().join("locked");
    // The holder lives until its stdin closes (flock's command inherits the locked fd, so both
    // must be gone for the lock to be free).
    let mut holder = std::process::Command::new("flock")
        .arg(&lock_path)
        .args(["sh", "-c", &format!("touch {} && exec cat", ready.display())])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    obwatch_testkit::net::wait_for("flock to take the lock", Duration::from_secs(10), || {
        ready.exists().then_some(())
    });
    let (code, _, err) = run(&["once", "--config", &cfg]);
    assert_eq!(code, 1);
    assert!(err.contains("another obwatch-cleaner run holds the lock"), "{err}");
    assert_eq!(files(&log).len(), 2);
    drop(holder.stdin.take());
    assert!(holder.wait().unwrap().success());

    let (code, out, err) = run(&["once", "--config", &cfg]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("delete"), "{out}");
    assert_eq!(files(&log), ["a.log.2"]);

    // A root that exists but cannot be opened as a directory is a runtime failure: exit 1.
    let cfg = write_config(
        d.path(),
        &format!(
            "policies:\n  - name: a\n    paths: [\"{}/a.log.2/*\"]\n    max_age: 1d\n",
            log.display()
        ),
    );
    let (code, _, err) = run(&["once", "--config", &cfg]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("1 errors"), "{err}");
}

#[test]
fn run_repeats_and_stops_on_sigterm() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("log");
    old_file(&log.join("a.log.1"), b"x", 10);
    let cfg = write_config(
        d.path(),
        &format!(
            "interval: 1h\npolicies:\n  - name: a\n    paths: [\"{}/*.log.*\"]\n    max_age: 1d\n",
            log.display()
        ),
    );
    let mut child =
        Command::new(bin()).args(["run", "--config", &cfg]).stderr(Stdio::piped()).spawn().unwrap();
    // Wait for the first run's log line rather than sleeping.
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let finished = lines.by_ref().map_while(Result::ok).find(|l| l.contains("Run finished."));
    assert!(finished.unwrap().contains("deleted=1"));
    assert!(files(&log).is_empty());
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    // One action: its `started` record (written before the delete) and its outcome.
    let audit = std::fs::read_to_string(d.path().join("audit.jsonl")).unwrap();
    let results: Vec<serde_json::Value> =
        audit.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(
        results.iter().map(|r| r["result"].as_str().unwrap()).collect::<Vec<_>>(),
        ["started", "done"]
    );
}

#[test]
fn names_that_are_not_text_and_an_unwritable_audit_log() {
    use std::os::unix::ffi::OsStrExt;
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("log");
    // A name with invalid UTF-8 and one with a newline that would forge a line.
    let bad = log.join(std::ffi::OsStr::from_bytes(b"a.log.\xff1"));
    let nl = log.join("b.log.1\ndelete 1B \"passwd\" (forged) done");
    old_file(&bad, b"x", 10);
    old_file(&nl, b"y", 10);
    let body = format!(
        "policies:\n  - name: a\n    paths: [\"{}/*.log.*\"]\n    max_age: 1d\n",
        log.display()
    );
    let cfg = write_config(d.path(), &body);
    // Dry run, JSON and text: whole records, the exact name recoverable, nothing forged.
    let (code, out, err) = run(&["once", "--config", &cfg, "--dry-run", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let recs: Vec<serde_json::Value> =
        out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(recs.len(), 2, "{out}");
    assert!(
        recs.iter()
            .any(|r| r["path_hex"].as_str().is_some_and(|h| h.ends_with("612e6c6f672eff31"))),
        "{out}"
    );
    let (_, out, _) = run(&["once", "--config", &cfg, "--dry-run"]);
    // Two action lines and the summary: a newline in a name must not print a line.
    assert_eq!(out.lines().count(), 3, "{out}");
    assert!(out.contains("2 files seen: 2 deleted"), "{out}");
    assert!(out.ends_with(" of disk blocks)\n"), "{out}");
    assert!(out.contains("\\n") && out.contains("\\xFF"), "{out}");
    // The audit log on a device that fails every write: nothing is deleted, exit 1.
    let full = format!("audit_log: /dev/full\n{body}");
    let cfg_full = d.path().join("full.yml");
    std::fs::write(&cfg_full, format!("lock_file: {}/lock\n{full}", d.path().display())).unwrap();
    let (code, out, err) = run(&["once", "--config", cfg_full.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("not done: the audit log /dev/full cannot be written"), "{out}");
    assert_eq!(files(&log).len(), 2, "no file may be deleted without its record");
    // Then with a working audit log: both deleted, each with its records, names exact.
    let (code, _, err) = run(&["once", "--config", &cfg]);
    assert_eq!(code, 0, "{err}");
    assert!(files(&log).is_empty());
    let audit = std::fs::read_to_string(d.path().join("audit.jsonl")).unwrap();
    let recs: Vec<serde_json::Value> =
        audit.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(recs.len(), 4, "{audit}");
    assert!(recs.iter().any(|r| r["path"].as_str().unwrap().contains("1\ndelete")), "{audit}");
}

#[test]
fn a_lock_others_control_is_refused_not_waited_on() {
    let d = tempfile::tempdir().unwrap();
    let cfg = |lock: &Path| {
        let p = d.path().join("cleaner.yml");
        std::fs::write(
            &p,
            format!("lock_file: {}\npolicies:\n  - name: a\n    paths: [/nonexistent/*.log]\n    max_age: 7d\n", lock.display()),
        )
        .unwrap();
        p.display().to_string()
    };
    // A world-writable directory (/run/lock's mode): any user could create the file first.
    let open = d.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::os::unix::fs::PermissionsExt::from_mode(0o1777)).unwrap();
    let (code, _, err) = run(&["once", "--config", &cfg(&open.join("cleaner.lock"))]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("writable by every user") && err.contains("/run/obwatch"), "{err}");
    assert!(!open.join("cleaner.lock").exists(), "nothing created in the unsafe directory");

    // A missing directory is created (the default /run/obwatch after a reboot).
    let fresh = d.path().join("run/obwatch/cleaner.lock");
    std::fs::create_dir(d.path().join("run")).unwrap();
    let (code, _, err) = run(&["once", "--config", &cfg(&fresh)]);
    assert_eq!(code, 0, "{err}");
    assert!(fresh.exists());

    // A lock file another user owns (made before the first run): refused, naming the owner.
    if !rustix::process::geteuid().is_root() {
        eprintln!("SKIPPED (owner case): needs root to hand the lock file to nobody");
        return;
    }
    let theirs = d.path().join("theirs.lock");
    std::fs::write(&theirs, "").unwrap();
    std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
    let (code, _, err) = run(&["once", "--config", &cfg(&theirs)]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("owned by uid 65534"), "{err}");
}

#[test]
fn config_file_spellings_one_convention_and_the_old_one_warns() {
    let d = tempfile::tempdir().unwrap();
    let cfg = write_config(
        d.path(),
        "policies:\n  - name: a\n    paths: [/nonexistent/*.log]\n    max_age: 7d\n",
    );
    for flag in ["--config.file", "-c"] {
        let (code, out, err) = run(&["check", flag, &cfg]);
        assert_eq!(code, 0, "{flag}: {err}");
        assert!(out.contains(": ok, 1 policies"), "{out}");
        assert!(!err.contains("Deprecated"), "{err}");
    }
    let (code, _, err) = run(&["check", "--config", &cfg]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("Deprecated flag") && err.contains("instead=--config.file"), "{err}");
    let (code, out, err) = run(&["once", "-c", &cfg, "-n"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "0 files seen: 0 deleted, 0 compressed, 0 rotated, 0 held open, 0 errors; would free 0B \
         (0B of disk blocks)\n"
    );
    // A policy that matches nothing is said on every run, unless missing_ok.
    assert!(err.contains("Policy matches no file") && err.contains("policy=a"), "{err}");
    let quiet = write_config(
        d.path(),
        "policies:\n  - name: a\n    paths: [/nonexistent/*.log]\n    max_age: 7d\n    missing_ok: true\n",
    );
    let (code, _, err) = run(&["once", "-c", &quiet, "-n"]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("Policy matches no file"), "{err}");
}

#[test]
fn every_flag_and_example_key_is_documented() {
    let flags = obwatch_testkit::docs::help_flags(
        env!("CARGO_BIN_EXE_obwatch-cleaner"),
        &["run", "once", "check"],
    );
    let keys = obwatch_testkit::docs::example_keys("packaging/examples/cleaner.yml");
    let missing = obwatch_testkit::docs::undocumented(&flags, &keys);
    assert!(missing.is_empty(), "not in docs/: {missing:?}");
}

#[test]
fn verbose_says_why_each_file_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    for (name, days) in [("app.log.1", 1), ("app.log.2", 3), ("app.log.3", 9)] {
        old_file(&logs.join(name), b"x\n", days);
    }
    old_file(&logs.join("app.log"), b"live\n", 0);
    let cfg = write_config(
        dir.path(),
        &format!(
            "policies:\n  - name: app\n    paths: [\"{0}/app.log*\"]\n    active: [\"{0}/app.log\"]\n    max_age: 7d\n    keep_newest: 1\n",
            logs.display()
        ),
    );
    let (code, out, err) = run(&["once", "-c", &cfg, "-n", "-v"]);
    assert_eq!(code, 0, "{err}");
    let line = |name: &str| out.lines().find(|l| l.contains(&format!("/{name}\""))).unwrap_or("");
    assert!(line("app.log.3").starts_with("delete "), "{out}");
    assert!(line("app.log.1").ends_with("(among the newest keep_newest 1) kept"), "{out}");
    assert!(
        line("app.log.2")
            .ends_with("(within the policy's max_age, max_files and max_total_size) kept"),
        "{out}"
    );
    assert!(
        line("app.log")
            .contains("(active (never deleted; rotated only past rotate.max_size)) kept"),
        "{out}"
    );
    // Without -v, only actions.
    let (_, quiet, _) = run(&["once", "-c", &cfg, "-n"]);
    assert!(!quiet.contains(" kept"), "{quiet}");
    // JSON: one object per kept file too.
    let (_, json, _) = run(&["once", "-c", &cfg, "-n", "-v", "--format", "json"]);
    assert_eq!(json.lines().filter(|l| l.contains("\"action\":\"kept\"")).count(), 3, "{json}");
}

/// One meaning of bytes: `bytes` is the apparent size in the action lines, the JSON and audit
/// records, `freed_bytes_total` and the summary; allocated blocks are `disk_bytes`,
/// `freed_disk_bytes_total` and "of disk blocks". 50 files of 2 bytes free 100 bytes and
/// (on a block filesystem) 50 blocks.
#[test]
fn bytes_mean_apparent_size_and_disk_bytes_the_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    for i in 0..50 {
        old_file(&logs.join(format!("app.log.{i}")), b"x\n", 30);
    }
    let prom = dir.path().join("cleaner.prom");
    let cfg = write_config(
        dir.path(),
        &format!(
            "textfile: {}\npolicies:\n  - name: app\n    paths: [\"{}/app.log.*\"]\n    max_age: 7d\n",
            prom.display(),
            logs.display()
        ),
    );
    let (code, out, err) = run(&["once", "-c", &cfg, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let recs: Vec<serde_json::Value> =
        out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(recs.len(), 50, "{out}");
    let disk = recs[0]["disk_bytes"].as_u64().unwrap();
    assert!(recs.iter().all(|r| r["bytes"] == 2 && r["disk_bytes"] == disk), "{out}");
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    assert!(
        audit.lines().all(|l| l.contains("\"bytes\":2,") && l.contains("\"disk_bytes\":")),
        "{audit}"
    );
    let metrics = std::fs::read_to_string(&prom).unwrap();
    assert!(
        metrics.contains("obwatch_cleaner_freed_bytes_total{policy=\"app\"} 100\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!(
            "obwatch_cleaner_freed_disk_bytes_total{{policy=\"app\"}} {}\n",
            50 * disk
        )),
        "{metrics}"
    );
}
