//! Temp trees against the library: symlinks are never followed, a directory swapped for a
//! symlink between scan and apply leads nowhere, held files are kept and reported, dry runs
//! change nothing, compression and the audit log and metrics work end to end.
#![allow(clippy::disallowed_methods, clippy::unwrap_used)] // test code

mod util;

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::symlink;
use std::path::Path;

use obwatch_cleaner::apply::apply;
use obwatch_cleaner::outcome::Outcome;
use obwatch_cleaner::plan::plan;
use obwatch_cleaner::scan::scan;
use obwatch_cleaner::{Format, RunOptions, run_once};
use util::*;

fn once(
    config: &obwatch_cleaner::Config,
    dry_run: bool,
) -> (obwatch_cleaner::Summary, Vec<serde_json::Value>) {
    let opts = RunOptions { dry_run, format: Format::Json, ..RunOptions::default() };
    let mut out = Vec::new();
    let s = run_once(config, &opts, &mut out).unwrap();
    let lines = String::from_utf8(out).unwrap();
    (s, lines.lines().map(|l| serde_json::from_str(l).unwrap()).collect())
}

#[test]
fn symlinks_in_log_dirs_are_never_followed() {
    let t = tempfile::tempdir().unwrap();
    let (log, outside, state) =
        (t.path().join("log"), t.path().join("outside"), t.path().join("state"));
    std::fs::create_dir_all(&state).unwrap();
    old_file(&outside.join("secret.log.1"), b"not ours", 30);
    old_file(&outside.join("sub/deep.log.1"), b"not ours either", 30);
    old_file(&log.join("app.log.1"), b"old", 30);
    old_file(&log.join("app.log.2"), b"new", 0);
    symlink(outside.join("secret.log.1"), log.join("link.log.1")).unwrap();
    symlink(outside.join("sub"), log.join("sub")).unwrap();
    let before_outside = fingerprint(&outside);
    let c = config(
        &state,
        &format!(
            "policies:\n  - name: app\n    paths: [\"{0}/*.log.*\", \"{0}/**/*.log.*\"]\n    max_age: 1d\n",
            log.display()
        ),
    );
    let (s, lines) = once(&c, false);
    assert_eq!(s.deleted, 1, "{lines:?}");
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["path"], log.join("app.log.1").display().to_string());
    assert_eq!(fingerprint(&outside), before_outside, "nothing outside the root changed");
    assert!(std::fs::symlink_metadata(log.join("link.log.1")).unwrap().file_type().is_symlink());
    assert_eq!(files(&log), ["app.log.2"]);
}

#[test]
fn a_root_that_is_a_symlink_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let (real, state) = (t.path().join("real"), t.path().join("state"));
    std::fs::create_dir_all(&state).unwrap();
    old_file(&real.join("a.log.1"), b"x", 30);
    symlink(&real, t.path().join("log")).unwrap();
    let c = config(
        &state,
        &format!(
            "policies:\n  - name: app\n    paths: [\"{}/log/*.log.*\"]\n    max_age: 1d\n",
            t.path().display()
        ),
    );
    let (s, lines) = once(&c, false);
    assert_eq!((s.deleted, s.errors), (0, 1), "{lines:?}");
    assert_eq!(files(&real), ["a.log.1"]);
}

#[test]
fn a_directory_swapped_for_a_symlink_after_the_scan_leads_nowhere() {
    let t = tempfile::tempdir().unwrap();
    let (log, outside, state) =
        (t.path().join("log"), t.path().join("outside"), t.path().join("state"));
    std::fs::create_dir_all(&state).unwrap();
    for n in ["a.trc", "b.trc"] {
        old_file(&log.join("trace").join(n), b"trace", 30);
        old_file(&outside.join(n), b"precious", 30);
    }
    let c = config(
        &state,
        &format!(
            "policies:\n  - name: t\n    paths: [\"{}/*/*.trc\"]\n    max_age: 1d\n",
            log.display()
        ),
    );
    let s = scan(&c.policies, Path::new("/proc"));
    assert_eq!(s.files.len(), 2);
    let dirs: Vec<&Path> = s.dirs.iter().map(|d| d.path.as_path()).collect();
    let p = plan(&s.files, &dirs, &c.policies, None, &HashMap::new(), i64::MAX / 2);
    assert_eq!(p.actions.len(), 2);
    // The attack: between scan and apply, trace/ becomes a symlink to a directory outside.
    std::fs::rename(log.join("trace"), log.join("trace.moved")).unwrap();
    symlink(&outside, log.join("trace")).unwrap();
    let before = fingerprint(&outside);
    let mut outcomes = Vec::new();
    apply(&s, &p, &c.policies, |_| Ok(()), |_, o| outcomes.push(o.clone()));
    assert_eq!(outcomes.len(), 2);
    for o in &outcomes {
        assert!(matches!(o, Outcome::Skipped(w) if w.contains("replaced")), "{o:?}");
    }
    assert_eq!(fingerprint(&outside), before);
    assert_eq!(files(&log.join("trace.moved")).len(), 2, "the moved directory is not ours either");

    // A real directory put in its place (same name, other inode) is refused too.
    std::fs::remove_file(log.join("trace")).unwrap();
    std::fs::create_dir(log.join("trace")).unwrap();
    for n in ["a.trc", "b.trc"] {
        old_file(&log.join("trace").join(n), b"new content", 30);
    }
    let mut outcomes = Vec::new();
    apply(&s, &p, &c.policies, |_| Ok(()), |_, o| outcomes.push(o.clone()));
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, Outcome::Skipped(w) if w.contains("directory replaced"))),
        "{outcomes:?}"
    );
    assert_eq!(files(&log.join("trace")).len(), 2);
}

#[test]
fn a_file_held_open_by_a_child_is_kept_and_reported() {
    let t = tempfile::tempdir().unwrap();
    let (log, state) = (t.path().join("log"), t.path().join("state"));
    std::fs::create_dir_all(&state).unwrap();
    old_file(&log.join("held.log.1"), b"busy", 30);
    old_file(&log.join("free.log.1"), b"idle", 30);
    old_file(&log.join("gone.log.1"), b"deleted but open", 30);
    let held = File::options().append(true).open(log.join("held.log.1")).unwrap();
    let gone = File::open(log.join("gone.log.1")).unwrap();
    // The child holds held.log.1 as stdout and gone.log.1 as stdin; spawn() returns after
    // exec, so both descriptors are installed by then.
    let mut child =
        std::process::Command::new("sleep").arg("60").stdout(held).stdin(gone).spawn().unwrap();
    std::fs::remove_file(log.join("gone.log.1")).unwrap();
    let c = config(
        &state,
        &format!(
            "policies:\n  - name: app\n    paths: [\"{}/*.log.*\"]\n    max_age: 1d\n",
            log.display()
        ),
    );
    let (s, lines) = once(&c, false);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!((s.deleted, s.held, s.errors), (1, 1, 0), "{lines:?}");
    assert_eq!(files(&log), ["held.log.1"]);
    let held = lines.iter().find(|l| l["action"] == "held").unwrap();
    assert_eq!(held["path"], log.join("held.log.1").display().to_string());
    assert!(held["reason"].as_str().unwrap().contains(&format!("pid {}", child.id())), "{held}");
    let gone = lines.iter().find(|l| l["action"] == "deleted_open").unwrap();
    assert_eq!(gone["path"], log.join("gone.log.1").display().to_string());
    assert_eq!(gone["bytes"], 16);
    let prom = std::fs::read_to_string(state.join("cleaner.prom")).unwrap();
    assert!(prom.contains("obwatch_cleaner_files_held{policy=\"app\"} 1\n"), "{prom}");
    assert!(prom.contains("obwatch_cleaner_deleted_open_bytes 16\n"), "{prom}");
}

#[test]
fn dry_run_changes_nothing_and_prints_the_plan() {
    let t = tempfile::tempdir().unwrap();
    let (log, state) = (t.path().join("log"), t.path().join("state"));
    std::fs::create_dir_all(&state).unwrap();
    for i in 0..20 {
        old_file(
            &log.join(format!("d{}/app.log.{i}", i % 3)),
            format!("line {i}\n").repeat(50).as_bytes(),
            i,
        );
    }
    old_file(&log.join("d0/app.log"), b"active", 40);
    let c = config(
        &state,
        &format!(
            "policies:\n  - name: app\n    paths: [\"{0}/*/app.log*\"]\n    active: [\"{0}/*/app.log\"]\n    \
         max_age: 228h\n    max_files: 8\n    rotate: {{compress: gzip}}\n",
            log.display()
        ),
    );
    let before = fingerprint(t.path());
    let (s, lines) = once(&c, true);
    assert_eq!(fingerprint(t.path()), before, "the whole tree, state dir included, is unchanged");
    assert_eq!((s.deleted, s.compressed), (12, 8), "{lines:?}");
    assert!(lines.iter().all(|l| l["result"] == "dry-run"));
    assert!(lines.iter().all(|l| l["path"] != log.join("d0/app.log").display().to_string()));
    for key in ["action", "path", "bytes", "reason"] {
        assert!(lines.iter().all(|l| l.get(key).is_some()), "{key} missing");
    }
    // The real run does what the dry run said.
    let (real, real_lines) = once(&c, false);
    assert_eq!((real.deleted, real.compressed, real.errors), (12, 8, 0));
    let planned: Vec<_> = lines.iter().map(|l| (&l["action"], &l["path"])).collect();
    let done: Vec<_> = real_lines.iter().map(|l| (&l["action"], &l["path"])).collect();
    assert_eq!(planned, done);
    let left = files(&log);
    assert_eq!(left.len(), 9, "{left:?}");
    assert!(left.contains(&"d0/app.log".to_string()));
    assert_eq!(left.iter().filter(|f| f.ends_with(".gz")).count(), 8);
    let audit = std::fs::read_to_string(state.join("audit.jsonl")).unwrap();
    // Each of the 20 actions: `started` before it, `done` after.
    assert_eq!(audit.lines().count(), 40);
    let results: Vec<&str> = audit
        .lines()
        .map(|l| if l.contains("\"result\":\"started\"") { "started" } else { "done" })
        .collect();
    assert_eq!(results, ["started", "done"].repeat(20));
    assert!(audit.lines().all(|l| l.contains("\"time\":\"")));
    assert_eq!(audit.lines().filter(|l| l.contains("\"result\":\"done\"")).count(), 20);
}
