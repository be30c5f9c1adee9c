//! Rotation torture: a writer appends numbered lines at a high rate and rotates the log by
//! rename, copytruncate and delete + recreate at random, while the tailer runs in a child
//! process that is killed with SIGKILL and restarted several times. Every number must be
//! delivered; a number may be delivered twice only if the run that first delivered it was
//! killed before committing it (it came after that run's last commit marker).
//!
//! The child is this test binary re-executed with `TORTURE_CHILD=<dir>:<run>`: it runs
//! [`torture_child`], which tails `<dir>/app.log`, appends each batch's lines to
//! `<dir>/out.<run>`, commits, then appends a `#c` marker. The writer is a thread of the
//! harness, so it can see what was delivered. For a post-mortem, each child logs its start
//! state, events and batches to `<dir>/child.<run>.log` and the writer its rotations to
//! `<dir>/writer.log`; `TORTURE_KEEP=1` keeps the dir.
//!
//! What is guaranteed, and so what the writer does:
//! - rename: lossless by the engine alone, also across a kill (the rotated `app.log.<k>` is
//!   found by identity beside the old path). The writer keeps writing to the renamed file for
//!   a while before it reopens, the case linemux loses.
//! - copytruncate and delete + recreate: lines the tailer has not delivered when the file is
//!   truncated or deleted (and the tailer is down or dies before reading them) are gone from
//!   the file system, so no tailer can guarantee them. The writer makes these rotations
//!   lossless on its side: it pauses and waits until everything written so far was
//!   delivered, then rotates (with copytruncate, this is also the only way not to lose the
//!   lines written between the copy and the truncate).
//!
//! Each down period gets one forced rename on top of the random rotations, so a restart always
//! has a renamed file to find; with two renames in one period, the middle file was created and
//! renamed away while the tailer was down and is found by its birth time.
#![allow(clippy::disallowed_methods, clippy::unwrap_used, clippy::print_stderr)] // test code

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use obwatch_logtailer::tail::{StartReason, TailConfig, TailEvents, Tailer};
use obwatch_testkit::net::{poll, wait_for};

fn ts() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()
}

/// The child's events, with wall-clock ms to line them up with `writer.log`; the child's
/// stderr goes to `child.<run>.log` in the test dir (it installs no tracing subscriber).
struct DiagEvents;
impl TailEvents for DiagEvents {
    fn file_added(&self, path: &Path, offset: u64, reason: StartReason) {
        let ino =
            std::fs::metadata(path).map(|m| std::os::unix::fs::MetadataExt::ino(&m)).unwrap_or(0);
        eprintln!("{} added {} ino={ino} offset={offset} {reason:?}", ts(), path.display());
    }
    fn file_rotated(&self, path: &Path) {
        eprintln!("{} rotated {}", ts(), path.display());
    }
    fn file_deleted(&self, path: &Path) {
        eprintln!("{} deleted {}", ts(), path.display());
    }
    fn file_truncated(&self, path: &Path, old_offset: u64) {
        eprintln!("{} truncated {} old_offset={old_offset}", ts(), path.display());
    }
    fn file_dropped(&self, path: &Path) {
        eprintln!("{} dropped {}", ts(), path.display());
    }
    fn file_error(&self, path: &Path, error: &std::io::Error) {
        eprintln!("{} file_error {} {error}", ts(), path.display());
    }
    fn state_unusable(&self, error: &dyn std::error::Error, fell_back: bool) {
        eprintln!("{} state_unusable {error} fell_back={fell_back}", ts());
    }
    fn watch_error(&self, pattern: &str, error: &dyn std::error::Error) {
        eprintln!("{} watch_error {pattern} {error}", ts());
    }
}

const CHILD_ENV: &str = "TORTURE_CHILD";
const KILLS: usize = 6;
const LINES_PER_BURST: u64 = 25;

/// The tailer process. A no-op when run as a normal test.
#[test]
fn torture_child() {
    let Ok(spec) = std::env::var(CHILD_ENV) else { return };
    let (dir, run) = spec.rsplit_once(':').unwrap();
    let dir = PathBuf::from(dir);
    let mut cfg =
        TailConfig::new(vec![dir.join("app.log").display().to_string()], dir.join("state"));
    cfg.rotate_wait = Duration::from_millis(500);
    cfg.scan_interval = Duration::from_millis(100);
    cfg.partial_line_timeout = Duration::from_secs(60); // a torn line would fail the parse
    let mut out =
        OpenOptions::new().create(true).append(true).open(dir.join(format!("out.{run}"))).unwrap();
    eprintln!(
        "{} start state={}",
        ts(),
        std::fs::read_to_string(dir.join("state/checkpoints.json")).unwrap_or_default()
    );
    let mut tailer = Tailer::open(cfg, DiagEvents).unwrap();
    eprintln!("{} files {:?}", ts(), tailer.files());
    let mut buf = Vec::new();
    loop {
        let Some(batch) = tailer.next_batch(Duration::from_millis(500)).unwrap() else { continue };
        {
            let number = |l: obwatch_logtailer::tail::Line<'_>| {
                String::from_utf8_lossy(l.bytes.get(..9).unwrap_or(l.bytes)).into_owned()
            };
            let (first, last) =
                (batch.lines().next().map(number), batch.lines().last().map(number));
            eprintln!(
                "{} batch {} {:?} {first:?}..{last:?} n={} end={}",
                ts(),
                batch.path().display(),
                batch.position().key(),
                batch.len(),
                batch.position().offset()
            );
        }
        buf.clear();
        for line in batch.lines() {
            buf.extend_from_slice(line.bytes);
            buf.push(b'\n');
        }
        out.write_all(&buf).unwrap();
        tailer.commit(&[batch.position()]).unwrap();
        out.write_all(b"#c\n").unwrap();
    }
}

/// Deterministic pseudo-random numbers (xorshift64), so a failing run can be replayed.
struct Rng(u64);
impl Rng {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

/// What the harness has seen in the children's output files so far.
struct Delivered {
    dir: PathBuf,
    /// Per run: bytes of `out.<run>` already parsed.
    parsed: Vec<u64>,
    seen: Vec<bool>,
    /// Smallest number not delivered yet.
    low: u64,
}

impl Delivered {
    fn refresh(&mut self) {
        for (run, parsed) in self.parsed.iter_mut().enumerate() {
            let Ok(mut f) = File::open(self.dir.join(format!("out.{run}"))) else { continue };
            use std::io::{Read, Seek, SeekFrom};
            f.seek(SeekFrom::Start(*parsed)).unwrap();
            let mut text = String::new();
            f.read_to_string(&mut text).unwrap();
            let complete = text.rfind('\n').map_or(0, |i| i + 1);
            for line in text[..complete].lines().filter(|l| *l != "#c") {
                let n = parse_number(line) as usize;
                if n >= self.seen.len() {
                    self.seen.resize(n + 1, false);
                }
                self.seen[n] = true;
            }
            *parsed += complete as u64;
        }
        while self.seen.get(self.low as usize).copied().unwrap_or(false) {
            self.low += 1;
        }
    }

    /// Waits until every number below `n` was delivered.
    fn wait_for(this: &Mutex<Delivered>, n: u64) {
        let mut low = 0;
        let delivered = poll(Duration::from_secs(20), || {
            let mut d = this.lock().unwrap();
            d.refresh();
            low = d.low;
            (low >= n).then_some(())
        });
        assert!(delivered.is_some(), "lines {low}..{n} not delivered within 20 s");
    }
}

fn parse_number(line: &str) -> u64 {
    line.split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("torn or foreign line {line:?}"))
}

/// Kills the tailer child if the harness panics, so no orphan keeps running.
struct ChildGuard(Child);

impl ChildGuard {
    fn sigkill(&mut self) {
        self.0.kill().unwrap(); // SIGKILL on Unix
        self.0.wait().unwrap();
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_child(dir: &Path, run: usize) -> ChildGuard {
    let child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "torture_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, format!("{}:{run}", dir.display()))
        .env("RUST_LOG", "off")
        .stdout(std::process::Stdio::null())
        .stderr(File::create(dir.join(format!("child.{run}.log"))).unwrap())
        .spawn()
        .unwrap();
    ChildGuard(child)
}

#[derive(Debug, Default)]
struct Rotations {
    rename: u64,
    /// Renames done while the tailer was down (one forced per kill): the restart must find
    /// the renamed file beside the old path by its identity.
    rename_while_down: u64,
    copytruncate: u64,
    delete: u64,
}

/// Shared between the harness and the writer thread.
struct Shared {
    delivered: Mutex<Delivered>,
    stop: AtomicBool,
    written: AtomicU64,
    /// Odd while the tailer is down (bumped at each kill and each restart).
    down_epoch: AtomicU64,
}

fn writer(dir: PathBuf, shared: Arc<Shared>) -> Rotations {
    let (delivered, stop, written) = (&shared.delivered, &shared.stop, &shared.written);
    let log = dir.join("app.log");
    let open = |p: &Path| OpenOptions::new().create(true).append(true).open(p).unwrap();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut fd = open(&log);
    let mut n = 0u64;
    let mut rotations = Rotations::default();
    let mut next_rotation = Instant::now() + Duration::from_millis(100 + rng.next(200));
    let mut k = 0;
    let mut handled_epoch = 0;
    let mut wlog = File::create(dir.join("writer.log")).unwrap();
    let ino = |p: &Path| {
        std::fs::metadata(p).map(|m| std::os::unix::fs::MetadataExt::ino(&m)).unwrap_or(0)
    };
    let mut burst = String::new();
    let mut write_burst = |fd: &mut File, n: &mut u64| {
        burst.clear();
        for _ in 0..LINES_PER_BURST {
            burst.push_str(&format!("{n:09} the quick brown fox jumps over the lazy dog\n"));
            *n += 1;
        }
        fd.write_all(burst.as_bytes()).unwrap();
        written.store(*n, Ordering::SeqCst);
    };
    while !stop.load(Ordering::SeqCst) {
        write_burst(&mut fd, &mut n);
        std::thread::sleep(Duration::from_millis(1)); // pacing, not synchronisation
        let epoch = shared.down_epoch.load(Ordering::SeqCst);
        let forced = epoch % 2 == 1 && epoch != handled_epoch;
        if Instant::now() < next_rotation && !forced {
            continue;
        }
        handled_epoch = epoch;
        k += 1;
        let rotated = dir.join(format!("app.log.{k}"));
        let kind = if forced { 0 } else { rng.next(3) };
        rotations.rename_while_down += u64::from(forced);
        writeln!(
            wlog,
            "{} rotate kind={kind} k={k} forced={forced} n={n} ino={} epoch={epoch}",
            ts(),
            ino(&log)
        )
        .unwrap();
        match kind {
            0 => {
                std::fs::rename(&log, &rotated).unwrap();
                // The writer has not reopened yet: these land in the renamed file.
                for _ in 0..1 + rng.next(5) {
                    write_burst(&mut fd, &mut n);
                }
                fd = open(&log);
                rotations.rename += 1;
            }
            1 => {
                Delivered::wait_for(delivered, n);
                std::fs::copy(&log, &rotated).unwrap();
                fd.set_len(0).unwrap();
                rotations.copytruncate += 1;
            }
            _ => {
                Delivered::wait_for(delivered, n);
                std::fs::remove_file(&log).unwrap();
                fd = open(&log);
                rotations.delete += 1;
            }
        }
        writeln!(wlog, "{} rotated k={k} n={n} new ino={}", ts(), ino(&log)).unwrap();
        next_rotation = Instant::now() + Duration::from_millis(100 + rng.next(200));
    }
    rotations
}

#[test]
fn rotation_torture() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let started = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    // TORTURE_KEEP=1 keeps the dir (files, child.<run>.log, writer.log) for a post-mortem.
    eprintln!("torture dir {}", dir.display());
    let _tmp = if std::env::var_os("TORTURE_KEEP").is_some() {
        let _kept = tmp.keep();
        None
    } else {
        Some(tmp)
    };
    File::create(dir.join("app.log")).unwrap();
    let shared = Arc::new(Shared {
        delivered: Mutex::new(Delivered {
            dir: dir.clone(),
            parsed: vec![0; KILLS + 1],
            seen: Vec::new(),
            low: 0,
        }),
        stop: AtomicBool::new(false),
        written: AtomicU64::new(0),
        down_epoch: AtomicU64::new(0),
    });
    let mut child = spawn_child(&dir, 0);
    // The first run starts at the end of app.log: let it record the empty file first.
    wait_for("the tailer's first checkpoint", Duration::from_secs(20), || {
        dir.join("state/checkpoints.json").exists().then_some(())
    });
    let w = {
        let (dir, shared) = (dir.clone(), shared.clone());
        std::thread::spawn(move || writer(dir, shared))
    };
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    for run in 1..=KILLS {
        std::thread::sleep(Duration::from_millis(800 + rng.next(1200))); // chaos timing
        child.sigkill();
        eprintln!("{} kill {}", ts(), run - 1);
        shared.down_epoch.fetch_add(1, Ordering::SeqCst);
        // Down long enough for rotations to happen meanwhile (the writer rotates every
        // 100-300 ms): the restart must find renamed files by identity.
        std::thread::sleep(Duration::from_millis(200 + rng.next(300)));
        child = spawn_child(&dir, run);
        eprintln!("{} spawn {run}", ts());
        shared.down_epoch.fetch_add(1, Ordering::SeqCst);
    }
    std::thread::sleep(Duration::from_millis(500)); // the last run's share of the chaos
    shared.stop.store(true, Ordering::SeqCst);
    let rotations = w.join().unwrap();
    let total = shared.written.load(Ordering::SeqCst);
    Delivered::wait_for(&shared.delivered, total);
    child.sigkill();

    let duplicates = check_runs(&dir, total);
    eprintln!(
        "torture: {total} lines, rotations {rotations:?}, {KILLS} kills, {duplicates} duplicates, {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(
        rotations.rename > 0 && rotations.copytruncate > 0 && rotations.delete > 0,
        "{rotations:?}"
    );
}

/// Checks every run's output against the rules in the module docs; returns the duplicates.
fn check_runs(dir: &Path, total: u64) -> u64 {
    // For each number: the runs that delivered it, and whether each was before that run's
    // last commit marker (then a later run must not deliver it again).
    let mut by_number: Vec<Vec<(usize, bool)>> = vec![Vec::new(); total as usize];
    for run in 0..=KILLS {
        let Ok(text) = std::fs::read_to_string(dir.join(format!("out.{run}"))) else { continue };
        // A run killed in the middle of a write leaves a torn last line: not delivered.
        let complete = text.rfind('\n').map_or(0, |i| i + 1);
        let lines: Vec<&str> = text[..complete].lines().collect();
        let last_commit = lines.iter().rposition(|l| *l == "#c").unwrap_or(0);
        for (i, line) in lines.iter().enumerate().filter(|(_, l)| **l != "#c") {
            let n = parse_number(line) as usize;
            assert!(n < by_number.len(), "number {n} was never written");
            by_number[n].push((run, i < last_commit));
        }
    }
    let mut duplicates = 0;
    for (n, runs) in by_number.iter().enumerate() {
        assert!(!runs.is_empty(), "line {n} lost");
        for pair in runs.windows(2) {
            let ((first, committed), (again, _)) = (pair[0], pair[1]);
            assert!(first != again, "line {n} delivered twice by run {first}");
            assert!(
                !committed,
                "line {n} committed by run {first} and delivered again by run {again}"
            );
        }
        duplicates += runs.len() as u64 - 1;
    }
    duplicates
}
