//! The tailing engine against real files in temp dirs: each rotation kind in isolation,
//! partial and odd lines, and restarts from the checkpoint. The engine only reads inside
//! `next_batch`, so a test arranges the files first and then waits for the lines it expects
//! (a condition with a deadline, not a sleep).
#![allow(clippy::unwrap_used)] // test code

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use obwatch_logtailer::tail::{LogEvents, TailConfig, Tailer};

mod restarts;

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        Fixture { dir: tempfile::tempdir().unwrap() }
    }
    fn log(&self) -> PathBuf {
        self.dir.path().join("app.log")
    }
    fn config(&self) -> TailConfig {
        let mut cfg =
            TailConfig::new(vec![self.log().display().to_string()], self.dir.path().join("state"));
        cfg.rotate_wait = Duration::from_secs(2);
        cfg.scan_interval = Duration::from_millis(50);
        cfg
    }
    fn open(&self, cfg: TailConfig) -> Tailer<LogEvents> {
        Tailer::open(cfg, LogEvents).unwrap()
    }
}

fn append(path: &Path) -> File {
    OpenOptions::new().create(true).append(true).open(path).unwrap()
}

/// One delivered line: text (lossy, for readable asserts), cut, partial.
type Got = (String, bool, bool);

/// Reads batches until `n` lines arrived (or 10 s passed); commits when `commit`.
fn take(t: &mut Tailer<LogEvents>, n: usize, commit: bool) -> Vec<Got> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut got = Vec::new();
    while got.len() < n && Instant::now() < deadline {
        if let Some(b) = t.next_batch(Duration::from_millis(200)).unwrap() {
            got.extend(
                b.lines()
                    .map(|l| (String::from_utf8_lossy(l.bytes).into_owned(), l.cut, l.partial)),
            );
            if commit {
                t.commit(&[b.position()]).unwrap();
            }
        }
    }
    got
}

fn texts(got: &[Got]) -> Vec<&str> {
    got.iter().map(|g| g.0.as_str()).collect()
}

/// Asserts that nothing more arrives within `wait` (used only after the expected lines).
fn assert_quiet(t: &mut Tailer<LogEvents>, wait: Duration) {
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        if let Some(b) = t.next_batch(Duration::from_millis(50)).unwrap() {
            let extra: Vec<_> =
                b.lines().map(|l| String::from_utf8_lossy(l.bytes).into_owned()).collect();
            panic!("unexpected lines: {extra:?}");
        }
    }
}

#[test]
fn rename_rotation_keeps_what_the_writer_adds_to_the_old_fd() {
    // The case linemux loses in every run (reference A.6): rename, the writer keeps its fd and
    // writes three lines, then a new file appears with a line of its own.
    let fx = Fixture::new();
    let mut w = append(&fx.log());
    let mut cfg = fx.config();
    cfg.rotate_wait = Duration::from_secs(30); // x4 below comes "within" it even on a stall
    let mut t = fx.open(cfg);
    writeln!(w, "a1").unwrap();
    assert_eq!(texts(&take(&mut t, 1, true)), ["a1"]);
    std::fs::rename(fx.log(), fx.dir.path().join("app.log.1")).unwrap();
    writeln!(w, "x1\nx2\nx3").unwrap();
    let mut w2 = append(&fx.log());
    writeln!(w2, "b1").unwrap();
    let got = take(&mut t, 4, true);
    let mut sorted = texts(&got);
    sorted.sort_unstable();
    assert_eq!(sorted, ["b1", "x1", "x2", "x3"]);
    // Still within rotate_wait, the old writer adds one more: it is not lost either.
    writeln!(w, "x4").unwrap();
    assert_eq!(texts(&take(&mut t, 1, true)), ["x4"]);
    assert_eq!(t.stats().rotations, 1);
}

#[test]
fn copytruncate_restarts_at_zero() {
    let fx = Fixture::new();
    let mut w = append(&fx.log());
    let mut t = fx.open(fx.config());
    writeln!(w, "a1\na2\na3").unwrap();
    assert_eq!(texts(&take(&mut t, 3, true)), ["a1", "a2", "a3"]);
    std::fs::copy(fx.log(), fx.dir.path().join("app.log.1")).unwrap();
    w.set_len(0).unwrap();
    writeln!(w, "b1").unwrap();
    assert_eq!(texts(&take(&mut t, 1, true)), ["b1"]);
    assert_eq!(t.stats().truncations, 1);
}

#[test]
fn truncate_then_a_line_longer_than_the_old_size_is_read_whole() {
    // linemux resumed at the stale offset and lost the line's first 12 bytes (reference A.6).
    let fx = Fixture::new();
    let mut w = append(&fx.log());
    let mut t = fx.open(fx.config());
    writeln!(w, "short-line!").unwrap();
    assert_eq!(texts(&take(&mut t, 1, true)), ["short-line!"]);
    w.set_len(0).unwrap();
    let long = "L".repeat(60);
    writeln!(w, "{long}").unwrap();
    assert_eq!(texts(&take(&mut t, 1, true)), [long.as_str()]);
    assert_eq!(t.stats().truncations, 1);
}

#[test]
fn refilled_past_the_old_offset_is_read_from_zero() {
    // Size never drops below our offset between two polls: only the head shows the change.
    let fx = Fixture::new();
    let mut w = append(&fx.log());
    let mut t = fx.open(fx.config());
    writeln!(w, "a1").unwrap();
    assert_eq!(texts(&take(&mut t, 1, true)), ["a1"]);
    w.set_len(0).unwrap();
    writeln!(w, "b1-longer-than-before\nb2").unwrap();
    assert_eq!(texts(&take(&mut t, 2, true)), ["b1-longer-than-before", "b2"]);
    assert_eq!(t.stats().truncations, 1);
}

#[test]
fn delete_and_recreate_drains_the_deleted_file_then_reads_the_new_one() {
    let fx = Fixture::new();
    let mut w = append(&fx.log());
    let mut t = fx.open(fx.config());
    writeln!(w, "a1").unwrap();
    assert_eq!(texts(&take(&mut t, 1, true)), ["a1"]);
    std::fs::remove_file(fx.log()).unwrap();
    writeln!(w, "a2").unwrap();
    let mut w2 = append(&fx.log());
    writeln!(w2, "b1").unwrap();
    let got = take(&mut t, 2, true);
    let mut sorted = texts(&got);
    sorted.sort_unstable();
    assert_eq!(sorted, ["a2", "b1"]);
    assert_eq!(t.stats().deletions, 1);
    // The deleted file is dropped once quiet for rotate_wait and committed.
    let deadline = Instant::now() + Duration::from_secs(10);
    while t.files().len() > 1 && Instant::now() < deadline {
        t.next_batch(Duration::from_millis(100)).unwrap();
    }
    assert_eq!(t.files().len(), 1);
}

#[test]
fn partial_line_is_held_until_its_newline() {
    let fx = Fixture::new();
    let mut w = append(&fx.log());
    let mut t = fx.open(fx.config());
    write!(w, "part-").unwrap();
    assert_quiet(&mut t, Duration::from_millis(300));
    writeln!(w, "two").unwrap();
    assert_eq!(take(&mut t, 1, true), [("part-two".to_string(), false, false)]);
}

#[test]
fn partial_line_is_emitted_after_the_timeout() {
    let fx = Fixture::new();
    let mut cfg = fx.config();
    cfg.partial_line_timeout = Duration::from_millis(200);
    let mut w = append(&fx.log());
    let mut t = fx.open(cfg);
    write!(w, "no-newline").unwrap();
    assert_eq!(take(&mut t, 1, true), [("no-newline".to_string(), false, true)]);
    assert_eq!(t.stats().partial_lines, 1);
}

#[test]
fn invalid_utf8_is_kept_as_bytes() {
    let fx = Fixture::new();
    let mut w = append(&fx.log());
    let mut t = fx.open(fx.config());
    w.write_all(b"\xff\xfe latin-1 \xe9\nok\n").unwrap();
    let b = loop {
        if let Some(b) = t.next_batch(Duration::from_secs(5)).unwrap() {
            break b;
        }
    };
    let lines: Vec<&[u8]> = b.lines().map(|l| l.bytes).collect();
    assert_eq!(lines, [&b"\xff\xfe latin-1 \xe9"[..], b"ok"]);
}

#[test]
fn over_long_line_is_cut_and_counted() {
    let fx = Fixture::new();
    let mut cfg = fx.config();
    cfg.max_line_bytes = 16;
    let mut w = append(&fx.log());
    let mut t = fx.open(cfg);
    writeln!(w, "{}\nnext", "y".repeat(100)).unwrap();
    let got = take(&mut t, 2, true);
    assert_eq!(got, [("y".repeat(16), true, false), ("next".to_string(), false, false)]);
    assert_eq!(t.stats().lines_cut, 1);
}

/// Reads a file from the start until its line `last` arrives; returns the time it took and the
/// lines that were cut.
fn time_until(f: &Fixture, last: &str) -> (Duration, u64) {
    let mut cfg = f.config();
    cfg.from_beginning = true;
    // Long enough that a slow machine does not hand the long line on as a partial one first.
    cfg.partial_line_timeout = Duration::from_secs(60);
    let mut t = f.open(cfg);
    let start = Instant::now();
    let deadline = start + Duration::from_secs(60);
    let mut cut = 0;
    loop {
        assert!(Instant::now() < deadline, "{last} never arrived");
        let Some(b) = t.next_batch(Duration::from_millis(200)).unwrap() else { continue };
        cut += b.lines().filter(|l| l.cut).count() as u64;
        let done = b.lines().any(|l| l.bytes == last.as_bytes());
        t.commit(&[b.position()]).unwrap();
        if done {
            return (start.elapsed(), cut);
        }
    }
}

#[test]
fn a_50mb_line_is_skipped_as_fast_as_50mb_of_lines() {
    // 50 MB of ordinary lines, then the same bytes as one line without a newline (cut at
    // max_line_bytes, the rest skipped): reading on without waiting between read budgets.
    let lines = Fixture::new();
    let mut w = append(&lines.log());
    for _ in 0..500_000 {
        w.write_all(&[b'y'; 99]).unwrap();
        w.write_all(b"\n").unwrap();
    }
    w.write_all(b"after\n").unwrap();
    drop(w);
    let (normal, _) = time_until(&lines, "after");

    let long = Fixture::new();
    let mut w = append(&long.log());
    w.write_all(&vec![b'x'; 50_000_000]).unwrap();
    w.write_all(b"\nafter\n").unwrap();
    drop(w);
    let (skipped, cut) = time_until(&long, "after");
    assert_eq!(cut, 1, "the long line is handed on once, cut");
    assert!(
        skipped < normal * 2 + Duration::from_millis(500),
        "50 MB line: {skipped:?}, 50 MB of lines: {normal:?}"
    );
}

#[test]
fn a_corrupt_checkpoint_falls_back_without_losing_lines() {
    let f = Fixture::new();
    let mut w = append(&f.log());
    w.write_all(b"a\nb\n").unwrap();
    let mut cfg = f.config();
    cfg.from_beginning = true;
    let mut t = f.open(cfg);
    assert_eq!(texts(&take(&mut t, 2, true)), ["a", "b"]);
    w.write_all(b"c\n").unwrap();
    assert_eq!(texts(&take(&mut t, 1, true)), ["c"]);
    drop(t);
    // Written while we were down, then the current state is damaged.
    w.write_all(b"d\n").unwrap();
    let state = f.dir.path().join("state");
    std::fs::write(state.join("checkpoints.json"), b"\0\0garbage").unwrap();
    let mut t = f.open(f.config());
    // The previous generation is at most one commit older: c may come again, d must come.
    let mut got = texts(&take(&mut t, 1, true)).into_iter().map(String::from).collect::<Vec<_>>();
    if got == ["c"] {
        got.extend(texts(&take(&mut t, 1, true)).into_iter().map(String::from));
    }
    assert!(got == ["d"] || got == ["c", "d"], "{got:?}");
    drop(t);
    // Both generations damaged: every file from its start (duplicates, no loss).
    w.write_all(b"e\n").unwrap();
    std::fs::write(state.join("checkpoints.json"), b"{").unwrap();
    std::fs::write(state.join("checkpoints.prev.json"), b"{").unwrap();
    let mut t = f.open(f.config());
    assert_eq!(texts(&take(&mut t, 5, true)), ["a", "b", "c", "d", "e"]);
}

#[test]
fn symlinks_to_files_outside_the_inputs_are_not_followed() {
    use obwatch_logtailer::tail::FollowSymlinks;
    let fx = Fixture::new();
    let logs = fx.dir.path().join("logs");
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::create_dir(&logs).unwrap();
    // /etc/shadow stand-in: outside every glob, and a link to it in the watched directory.
    let secret = elsewhere.path().join("shadow");
    std::fs::write(&secret, "root:$6$secret:19000::::::\n").unwrap();
    std::os::unix::fs::symlink(&secret, logs.join("evil.log")).unwrap();
    // A link to a file of the same directory (`current.log -> app.log.1`) is fine.
    std::fs::write(logs.join("app.log.1"), "rotated line\n").unwrap();
    std::os::unix::fs::symlink("app.log.1", logs.join("current.log")).unwrap();
    let mut cfg = fx.config();
    cfg.paths = vec![logs.join("*.log").display().to_string()];
    cfg.from_beginning = true;
    let mut t = fx.open(cfg.clone());
    let got = take(&mut t, 1, true);
    assert_eq!(texts(&got), ["rotated line"]);
    assert_quiet(&mut t, Duration::from_millis(500));
    assert_eq!(t.stats().symlinks_refused, 1, "refused once, not once per scan");
    drop(t);

    // A target owned by someone else than the directory's owner is refused too (as root).
    if rustix::process::geteuid().is_root() {
        let theirs = logs.join("theirs.1");
        std::fs::write(&theirs, "not ours\n").unwrap();
        std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
        std::os::unix::fs::symlink("theirs.1", logs.join("theirs.log")).unwrap();
    }

    // `follow_symlinks: any` follows every link (the old behaviour, opt-in).
    let fx2 = Fixture::new();
    cfg.state_dir = fx2.dir.path().join("state");
    cfg.follow_symlinks = FollowSymlinks::Any;
    let mut t = fx2.open(cfg.clone());
    let mut all = texts(&take(&mut t, 3, true)).into_iter().map(String::from).collect::<Vec<_>>();
    all.sort();
    let mut want = vec!["root:$6$secret:19000::::::", "rotated line"];
    if rustix::process::geteuid().is_root() {
        want.push("not ours");
    }
    want.sort();
    assert_eq!(all, want);
    drop(t);
    if rustix::process::geteuid().is_root() {
        let fx3 = Fixture::new();
        cfg.state_dir = fx3.dir.path().join("state");
        cfg.follow_symlinks = FollowSymlinks::Safe;
        let mut t = fx3.open(cfg);
        assert_eq!(texts(&take(&mut t, 1, true)), ["rotated line"]);
        assert_quiet(&mut t, Duration::from_millis(300));
        assert_eq!(t.stats().symlinks_refused, 2, "evil.log and theirs.log");
    }
}

/// Records the checkpoints the engine drops.
#[derive(Clone, Default)]
struct Dropped(std::sync::Arc<std::sync::Mutex<Vec<PathBuf>>>);

impl obwatch_logtailer::tail::TailEvents for Dropped {
    fn checkpoint_dropped(&self, path: &Path) {
        self.0.lock().unwrap().push(path.to_path_buf());
    }
}

#[test]
fn a_checkpoint_of_a_file_no_input_reads_any_more_is_dropped_not_read() {
    let fx = Fixture::new();
    let mut w = append(&fx.log());
    {
        let mut t = fx.open(fx.config());
        writeln!(w, "1\n2").unwrap();
        assert_eq!(texts(&take(&mut t, 2, true)), ["1", "2"]);
    }
    writeln!(w, "3, written after the input's glob changed").unwrap();
    // The input now reads other.log (nothing yet): app.log is no input's file any more.
    let mut cfg = TailConfig::new(
        vec![fx.dir.path().join("other.log").display().to_string()],
        fx.dir.path().join("state"),
    );
    cfg.scan_interval = Duration::from_millis(50);
    let events = Dropped::default();
    let mut t = Tailer::open(cfg, events.clone()).unwrap();
    let deadline = Instant::now() + Duration::from_millis(500);
    while Instant::now() < deadline {
        if let Some(b) = t.next_batch(Duration::from_millis(50)).unwrap() {
            panic!("read {:?} from a file no input reads", b.path());
        }
    }
    assert_eq!(*events.0.lock().unwrap(), [fx.log()], "the drop is said");
    // The new glob's file is read as usual.
    let mut o = append(&fx.dir.path().join("other.log"));
    writeln!(o, "other").unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let batch = loop {
        if let Some(b) = t.next_batch(Duration::from_millis(100)).unwrap() {
            break b;
        }
        assert!(Instant::now() < deadline, "other.log was not read");
    };
    assert_eq!(batch.path(), fx.dir.path().join("other.log"));
}
