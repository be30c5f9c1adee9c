//! [`Tailer`]: the loop that scans inputs, polls every tracked file, hands out batches and
//! writes checkpoints when the consumer commits.
//!
//! Blocking and single-threaded on purpose: reads are page-cache copies and the daemon runs
//! this on a dedicated thread, so there is no async state machine to get wrong. Correctness
//! rests on `stat`/`fstat` at every scan (`scan_interval`) and on every wake-up; notify only
//! shortens the wait (reference A.7).

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::checkpoint::{self, Checkpoint, Generation};
use super::discover::Discovery;
use super::events::{StartReason, TailEvents};
use super::identity::FileKey;
use super::lines::LineSink;
use super::reader::{FileReader, PollLimits};
use super::{Batch, Position, TailConfig, TailError};

mod start;

/// Counters since the engine started (the daemon turns them into metrics).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TailStats {
    /// Lines handed out.
    pub lines: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Lines cut at `max_line_bytes`.
    pub lines_cut: u64,
    /// Partial lines emitted without their newline.
    pub partial_lines: u64,
    /// Paths that came to name another file.
    pub rotations: u64,
    /// In-place truncations (copytruncate) seen.
    pub truncations: u64,
    /// Paths that disappeared while their file was tracked.
    pub deletions: u64,
    /// Symlinks not followed (`follow_symlinks: safe`).
    pub symlinks_refused: u64,
    /// Full scans of the inputs' globs done.
    pub scans: u64,
}

/// The tailing engine. See the [module docs](super) for what it guarantees.
pub struct Tailer<E: TailEvents> {
    cfg: TailConfig,
    events: E,
    discovery: Discovery,
    /// Tracked files by identity; ordered, for a stable round-robin.
    readers: BTreeMap<FileKey, FileReader>,
    /// The file polled last, so the next poll starts after it (fairness).
    cursor: Option<FileKey>,
    next_scan: Instant,
    /// Start of the last scan whose new files are all in the saved state.
    scanned_at_unix_ms: u64,
    /// The state on disk is behind (a file added, dropped or truncated).
    dirty: bool,
    stats: TailStats,
}

impl<E: TailEvents> std::fmt::Debug for Tailer<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tailer")
            .field("files", &self.readers.len())
            .field("stats", &self.stats)
            .finish()
    }
}

impl<E: TailEvents> Tailer<E> {
    /// Loads the state, finds the inputs and decides where each file starts. A corrupt or
    /// unreadable state is reported through `events`; the previous generation is used, and
    /// without one every file is read from its start (lines read twice rather than lost).
    pub fn open(mut cfg: TailConfig, events: E) -> Result<Self, TailError> {
        std::fs::create_dir_all(&cfg.state_dir)
            .map_err(|source| TailError::StateDir { path: cfg.state_dir.clone(), source })?;
        let from_beginning = cfg.from_beginning;
        let state = match checkpoint::load(&cfg.state_dir) {
            checkpoint::Loaded::Nothing => None,
            checkpoint::Loaded::Current(s) => Some(s),
            checkpoint::Loaded::Previous(s, e) => {
                events.state_unusable(&e, true);
                Some(s)
            }
            checkpoint::Loaded::Unusable(e) => {
                events.state_unusable(&e, false);
                cfg.from_beginning = true;
                None
            }
        };
        let discovery = Discovery::new(cfg.paths.clone(), cfg.follow_symlinks, &events);
        let mut tailer = Tailer {
            cfg,
            events,
            discovery,
            readers: BTreeMap::new(),
            cursor: None,
            next_scan: Instant::now(),
            scanned_at_unix_ms: 0,
            dirty: true,
            stats: TailStats::default(),
        };
        tailer.start(state.as_ref());
        // Reading everything after a lost state is for the files found now only.
        tailer.cfg.from_beginning = from_beginning;
        tailer.save_state()?;
        Ok(tailer)
    }

    /// Counters so far.
    pub fn stats(&self) -> TailStats {
        TailStats { symlinks_refused: self.discovery.refused_total, ..self.stats }
    }

    /// Tracked files: path, committed offset, and whether it is being left (rotated/deleted).
    pub fn files(&self) -> Vec<(PathBuf, u64, bool)> {
        self.readers.values().map(|r| (r.path.clone(), r.committed, r.retired)).collect()
    }

    /// The next batch of lines, waiting up to `wait` for one. `Ok(None)` when none came.
    pub fn next_batch(&mut self, wait: Duration) -> Result<Option<Batch>, TailError> {
        let deadline = Instant::now() + wait;
        loop {
            let now = Instant::now();
            if now >= self.next_scan || self.discovery.rescan_needed() {
                self.rescan();
                self.next_scan = now + self.cfg.scan_interval;
            }
            let (batch, unread) = self.read_round();
            if self.dirty {
                // Before any line of a new or truncated file leaves, the state must know the
                // file, or a crash could resume it at its end.
                self.save_state()?;
            }
            if batch.is_some() {
                return Ok(batch);
            }
            // A file read to its budget without completing a line (one very long line) has
            // more waiting: read on at once. Waiting for the next change here made a 50 MB line
            // take 200 waits to skip.
            if unread {
                continue;
            }
            self.drop_drained();
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            let mut until = deadline.min(self.next_scan);
            if self.readers.values().any(|r| r.retired) {
                until = until.min(now + Duration::from_millis(100));
            }
            self.discovery.wait(until.saturating_duration_since(now));
        }
    }

    /// Records that everything up to each position has been handed on, and writes the state.
    /// Positions of files no longer tracked, or from before a truncation, are ignored.
    pub fn commit(&mut self, positions: &[Position]) -> Result<(), TailError> {
        for pos in positions {
            if let Some(r) = self.readers.get_mut(&pos.key)
                && r.generation == pos.generation
            {
                r.commit(pos.offset);
            }
        }
        self.drop_drained();
        self.save_state()
    }

    fn open_file(&self, path: &Path) -> Option<(File, FileKey)> {
        match File::open(path).and_then(|f| f.metadata().map(|m| (f, m))) {
            Ok((f, m)) if m.is_file() => Some((f, FileKey::of(&m))),
            Ok(_) => None,
            Err(e) => {
                // Gone between glob and open is normal during rotation.
                if e.kind() != std::io::ErrorKind::NotFound {
                    self.events.file_error(path, &e);
                }
                None
            }
        }
    }

    fn add_reader(
        &mut self,
        path: PathBuf,
        file: File,
        offset: u64,
        reason: StartReason,
        now: Instant,
    ) {
        let r = FileReader::new(
            path.clone(),
            file,
            offset,
            self.cfg.fingerprint_bytes,
            self.cfg.max_line_bytes,
            now,
        );
        match r {
            Ok(r) => {
                self.events.file_added(&path, offset, reason);
                self.readers.insert(r.key, r);
                self.dirty = true;
            }
            Err(e) => self.events.file_error(&path, &e),
        }
    }

    /// Picks up new files and notices tracked ones whose path now names another file or
    /// nothing. A file seen for the first time while running is read from 0.
    fn rescan(&mut self) {
        let started = unix_ms_now();
        let found = self.discovery.scan(&self.events);
        let now = Instant::now();
        let mut seen = BTreeSet::new();
        let mut added = false;
        for path in &found {
            let Ok(meta) = std::fs::metadata(path) else { continue };
            let key = FileKey::of(&meta);
            if let Some(r) = self.readers.get_mut(&key) {
                // Renamed to another matching name, or found again: keep following it.
                if r.path != *path {
                    r.path.clone_from(path);
                    self.dirty = true;
                }
                r.retired = false;
                seen.insert(key);
            } else if let Some((file, key)) = self.open_file(path) {
                self.add_reader(path.clone(), file, 0, StartReason::Beginning, now);
                added |= self.readers.contains_key(&key);
                seen.insert(key);
            }
        }
        for r in self.readers.values_mut() {
            if r.retired || seen.contains(&r.key) {
                continue;
            }
            r.retired = true;
            r.last_data = now; // rotate_wait counts from when we noticed
            if r.is_unlinked() {
                self.stats.deletions += 1;
                self.events.file_deleted(&r.path);
            } else {
                self.stats.rotations += 1;
                self.events.file_rotated(&r.path);
            }
        }
        // Every file that existed when this scan started is tracked now; saved with the next
        // state write (at once if files were added).
        self.scanned_at_unix_ms = started;
        self.dirty |= added;
        self.stats.scans += 1;
    }

    /// Polls files round-robin from after the cursor; returns the first non-empty batch, and
    /// whether a file stopped at its read budget with bytes left unread.
    fn read_round(&mut self) -> (Option<Batch>, bool) {
        let mut unread = false;
        let start = self.cursor.map_or(Bound::Unbounded, Bound::Excluded);
        let keys: Vec<FileKey> = self
            .readers
            .range((start, Bound::Unbounded))
            .chain(self.readers.range(..))
            .map(|(k, _)| *k)
            .take(self.readers.len())
            .collect();
        let now = Instant::now();
        for key in keys {
            let Some(r) = self.readers.get_mut(&key) else { continue };
            let quiet = now.saturating_duration_since(r.last_data) >= self.cfg.rotate_wait;
            let limits = PollLimits {
                budget_bytes: self.cfg.read_budget_bytes,
                partial_timeout: self.cfg.partial_line_timeout,
                now,
                flush_partial: r.retired && quiet,
            };
            let mut sink = LineSink::default();
            let outcome = match r.poll(limits, &mut sink) {
                Ok(o) => o,
                Err(e) => {
                    self.events.file_error(&r.path, &e);
                    continue;
                }
            };
            self.stats.bytes += outcome.bytes;
            if let Some(old) = outcome.truncated_at {
                self.stats.truncations += 1;
                self.events.file_truncated(&r.path, old);
                self.dirty = true;
            }
            if sink.lines.is_empty() {
                unread |= outcome.more;
                continue;
            }
            self.cursor = Some(key);
            self.stats.lines += sink.lines.len() as u64;
            self.stats.lines_cut += sink.cut_lines;
            for m in &sink.lines {
                if m.partial {
                    self.stats.partial_lines += 1;
                }
                if m.cut {
                    self.events.line_cut(&r.path, m.offset);
                }
            }
            let position = Position { key, generation: r.generation, offset: r.emitted_offset() };
            let batch = Batch { path: r.path.clone(), buf: sink.buf, lines: sink.lines, position };
            return (Some(batch), unread);
        }
        (None, unread)
    }

    /// Closes rotated/deleted files that have been quiet for `rotate_wait` and whose every
    /// line is committed; until then their checkpoint stays, so a crash resumes them.
    fn drop_drained(&mut self) {
        let now = Instant::now();
        let wait = self.cfg.rotate_wait;
        let events = &self.events;
        let before = self.readers.len();
        self.readers.retain(|_, r| {
            let done = r.retired
                && now.saturating_duration_since(r.last_data) >= wait
                && r.fully_committed();
            if done {
                events.file_dropped(&r.path);
            }
            !done
        });
        self.dirty |= self.readers.len() != before;
    }

    fn save_state(&mut self) -> Result<(), TailError> {
        let files = self
            .readers
            .values()
            .map(|r| Checkpoint {
                key: r.key,
                fingerprint: r.fingerprint(),
                offset: r.committed,
                path: r.path.to_string_lossy().into_owned(),
                before_truncation: r
                    .before_truncation
                    .map(|(fingerprint, offset, _)| Generation { fingerprint, offset }),
            })
            .collect();
        match checkpoint::save(&self.cfg.state_dir, files, self.scanned_at_unix_ms) {
            Ok(()) => {
                self.dirty = false;
                Ok(())
            }
            Err(e) => {
                self.events.checkpoint_failed(&e);
                Err(e.into())
            }
        }
    }
}

pub(super) fn unix_ms_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}
