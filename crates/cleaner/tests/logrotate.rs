//! Rotation by size side by side with Debian's real `logrotate` on the same case: a log that
//! grows past 1 KiB between runs, `rotate 3` / `max_files: 3`, by rename and by copytruncate.
//! After each round both trees must hold the same lines: the same number of rotated files, the
//! same content in each (newest first), and the same active file.
#![allow(clippy::disallowed_methods, clippy::unwrap_used)] // test code

use std::io::Write;
use std::path::Path;
use std::process::Command;

/// Appends `lines` numbered lines starting at `first`, opening the file each time like a
/// writer that reopens (the rename case) or keeps appending with O_APPEND (copytruncate).
fn append(path: &Path, first: usize, lines: usize) {
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap();
    for n in first..first + lines {
        writeln!(f, "line {n:06} of the test log, padded to make it longer").unwrap();
    }
}

/// The contents of the rotated files of `dir` (every `app.log.*`), newest first (by the
/// number of their first line, so names and mtimes do not matter), then the active file's.
fn contents(dir: &Path) -> (Vec<String>, Option<String>) {
    let mut rotated: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with("app.log."))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    rotated.sort_by(|x, y| y.cmp(x)); // "line 000123 ..." sorts by number
    (rotated, std::fs::read_to_string(dir.join("app.log")).ok())
}

fn ours(dir: &Path, state: &Path, copytruncate: bool) {
    let cfg = state.join("cleaner.yml");
    std::fs::write(
        &cfg,
        format!(
            "lock_file: {s}/lock\npolicies:\n  - name: app\n    paths: [{d}/app.log.*]\n    active: [{d}/app.log]\n    max_files: 3\n    rotate: {{max_size: 1KiB, copytruncate: {copytruncate}}}\n",
            s = state.display(),
            d = dir.display()
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_obwatch-cleaner"))
        .args(["once", "--config", cfg.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "obwatch-cleaner: {}", String::from_utf8_lossy(&out.stderr));
}

fn logrotate(dir: &Path, state: &Path, copytruncate: bool) {
    let conf = state.join("logrotate.conf");
    std::fs::write(
        &conf,
        format!(
            "{}/app.log {{\n  size 1k\n  rotate 3\n  missingok\n  nocompress\n{}}}\n",
            dir.display(),
            if copytruncate { "  copytruncate\n" } else { "" }
        ),
    )
    .unwrap();
    let status = state.join("logrotate.status");
    let out = Command::new("logrotate")
        .args(["-s", status.to_str().unwrap(), conf.to_str().unwrap()])
        .output()
        .unwrap_or_else(|e| panic!("logrotate not runnable ({e}); scripts/test.sh installs it"));
    assert!(out.status.success(), "logrotate: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn same_result_as_logrotate_by_rename_and_by_copytruncate() {
    for copytruncate in [false, true] {
        let t = tempfile::tempdir().unwrap();
        let (a, b) = (t.path().join("ours"), t.path().join("logrotate"));
        let (sa, sb) = (t.path().join("state-ours"), t.path().join("state-lr"));
        for d in [&a, &b, &sa, &sb] {
            std::fs::create_dir(d).unwrap();
        }
        let mut next = 0;
        for round in 0..12 {
            // Mostly growing past 1 KiB (so `rotate 3` is exceeded many times over), with a
            // round under it now and then.
            let lines = if round % 4 == 3 { 5 } else { 40 };
            for d in [&a, &b] {
                append(&d.join("app.log"), next, lines);
            }
            next += lines;
            ours(&a, &sa, copytruncate);
            logrotate(&b, &sb, copytruncate);
            let (ca, cb) = (contents(&a), contents(&b));
            assert_eq!(
                ca, cb,
                "copytruncate={copytruncate}, round {round}: ours (left) vs logrotate (right)"
            );
        }
        let (rotated, _) = contents(&a);
        assert_eq!(rotated.len(), 3, "copytruncate={copytruncate}: rotate 3 / max_files 3");
    }
}
