//! Filesystems that refuse writes, on real tmpfs mounts. A full disk while compressing: a 1 MiB
//! tmpfs holds a 600 KiB log of random bytes (gzip cannot shrink it), so the archive cannot be
//! written; the half-written archive is removed, the original kept byte for byte, the failure
//! logged, counted and audited, and the run exits 1. A read-only filesystem: its deletions fail
//! and are counted, the other policy's deletions still happen. Needs root to mount; it says so
//! and passes only if mounting is refused for lack of permission. Permission denied: the
//! cleaner run as nobody cannot unlink in root's directory nor list a 0700 one; both are
//! reported and counted, its own directory is still cleaned.
#![allow(clippy::disallowed_methods, clippy::unwrap_used)] // test code

use std::io::Read;
use std::process::Command;

use obwatch_testkit::tmpfs::Tmpfs;

fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0; n];
    std::fs::File::open("/dev/urandom").unwrap().read_exact(&mut buf).unwrap();
    buf
}

#[test]
fn full_disk_while_compressing_keeps_the_original() {
    let t = tempfile::tempdir().unwrap();
    let log = t.path().join("log");
    std::fs::create_dir(&log).unwrap();
    let Some(_mount) = Tmpfs::mount(&log, "1m") else {
        eprintln!("skipped: mounting a tmpfs needs root");
        return;
    };
    let content = random_bytes(600 << 10);
    std::fs::write(log.join("app.log.1"), &content).unwrap();
    let cfg = t.path().join("cleaner.yml");
    std::fs::write(
        &cfg,
        format!(
            "lock_file: {s}/lock\naudit_log: {s}/audit.jsonl\ntextfile: {s}/cleaner.prom\npolicies:\n  - name: app\n    paths: [{d}/app.log.*]\n    rotate: {{compress: gzip}}\n",
            s = t.path().display(),
            d = log.display()
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_obwatch-cleaner"))
        .args(["once", "--config", cfg.to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    let (stdout, stderr) =
        (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "a failed action exits 1: {stdout}{stderr}");
    assert!(stdout.contains(r#""action":"compress""#), "{stdout}");
    assert!(stdout.contains("No space left on device"), "{stdout}");
    assert!(stderr.contains("Action failed"), "{stderr}");
    // The original is intact and alone: no archive, no temp file.
    let names: Vec<String> = std::fs::read_dir(&log)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["app.log.1"]);
    assert_eq!(std::fs::read(log.join("app.log.1")).unwrap(), content);
    let audit = std::fs::read_to_string(t.path().join("audit.jsonl")).unwrap();
    assert!(audit.contains("No space left on device"), "{audit}");
    let prom = std::fs::read_to_string(t.path().join("cleaner.prom")).unwrap();
    assert!(prom.contains(r#"obwatch_cleaner_errors_total{policy="app"} 1"#), "{prom}");
}

#[test]
fn a_read_only_filesystem_fails_its_deletions_and_the_rest_goes_on() {
    let t = tempfile::tempdir().unwrap();
    let (ro, rw) = (t.path().join("ro"), t.path().join("rw"));
    std::fs::create_dir(&ro).unwrap();
    std::fs::create_dir(&rw).unwrap();
    let Some(mount) = Tmpfs::mount(&ro, "1m") else {
        eprintln!("skipped: mounting a tmpfs needs root");
        return;
    };
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(30 * 86400);
    for d in [&ro, &rw] {
        let p = d.join("app.log.1");
        std::fs::write(&p, b"old\n").unwrap();
        std::fs::File::options().write(true).open(&p).unwrap().set_modified(old).unwrap();
    }
    mount.remount_read_only();
    let cfg = t.path().join("cleaner.yml");
    std::fs::write(
        &cfg,
        format!(
            "lock_file: {s}/lock\ntextfile: {s}/cleaner.prom\npolicies:\n  - name: ro\n    paths: [{ro}/*.log.*]\n    max_age: 7d\n  - name: rw\n    paths: [{rw}/*.log.*]\n    max_age: 7d\n",
            s = t.path().display(),
            ro = ro.display(),
            rw = rw.display()
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_obwatch-cleaner"))
        .args(["once", "--config", cfg.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("Read-only file system"), "{stdout}");
    assert!(ro.join("app.log.1").exists(), "nothing can go on a read-only filesystem");
    assert!(!rw.join("app.log.1").exists(), "the other policy's file went");
    let prom = std::fs::read_to_string(t.path().join("cleaner.prom")).unwrap();
    assert!(prom.contains(r#"obwatch_cleaner_errors_total{policy="ro"} 1"#), "{prom}");
    assert!(prom.contains(r#"obwatch_cleaner_files_deleted_total{policy="rw"} 1"#), "{prom}");
}

#[test]
fn permission_denied_is_counted_and_the_rest_goes_on() {
    use std::os::unix::fs::{PermissionsExt, chown};
    const NOBODY: u32 = 65534;
    if !rustix::process::geteuid().is_root() {
        eprintln!("SKIPPED: needs root to hand files to nobody");
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    let mode = |p: &std::path::Path, m: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap()
    };
    mode(root, 0o755);
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(30 * 86400);
    let aged = |p: &std::path::Path| {
        std::fs::write(p, b"old\n").unwrap();
        std::fs::File::options().write(true).open(p).unwrap().set_modified(old).unwrap();
    };
    // root's directory: nobody may read the file's name but not unlink it.
    let theirs = root.join("theirs");
    std::fs::create_dir(&theirs).unwrap();
    aged(&theirs.join("app.log.1"));
    // nobody's own directory and file: deletable.
    let mine = root.join("mine");
    std::fs::create_dir(&mine).unwrap();
    aged(&mine.join("app.log.1"));
    chown(&mine, Some(NOBODY), Some(NOBODY)).unwrap();
    chown(mine.join("app.log.1"), Some(NOBODY), Some(NOBODY)).unwrap();
    // A directory nobody cannot even list.
    let secret = root.join("secret");
    std::fs::create_dir(&secret).unwrap();
    mode(&secret, 0o700);
    let state = root.join("state");
    std::fs::create_dir(&state).unwrap();
    chown(&state, Some(NOBODY), Some(NOBODY)).unwrap();
    let cfg = state.join("cleaner.yml");
    std::fs::write(
        &cfg,
        format!(
            "lock_file: {s}/lock\ntextfile: {s}/cleaner.prom\npolicies:\n  - name: theirs\n    paths: [{r}/theirs/*.log.*]\n    max_age: 7d\n  - name: mine\n    paths: [{r}/mine/*.log.*]\n    max_age: 7d\n  - name: secret\n    paths: [{r}/secret/*.log.*]\n    max_age: 7d\n",
            s = state.display(),
            r = root.display()
        ),
    )
    .unwrap();
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_obwatch-cleaner"))
        .args(["once", "--config", cfg.to_str().unwrap()])
        .output()
        .unwrap();
    let (stdout, stderr) =
        (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("Permission denied"), "the refused unlink is reported: {stdout}");
    assert!(theirs.join("app.log.1").exists());
    assert!(!mine.join("app.log.1").exists(), "the rest goes on: {stdout}{stderr}");
    let prom = std::fs::read_to_string(state.join("cleaner.prom")).unwrap();
    assert!(prom.contains(r#"obwatch_cleaner_errors_total{policy="theirs"} 1"#), "{prom}");
    assert!(prom.contains(r#"obwatch_cleaner_files_deleted_total{policy="mine"} 1"#), "{prom}");
    // The unreadable root is a scan error, counted without a policy.
    assert!(stderr.contains("secret"), "{stderr}");
    assert!(prom.contains(r#"obwatch_cleaner_errors_total{policy=""} 1"#), "{prom}");
}
