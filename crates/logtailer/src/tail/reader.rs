//! One tracked file: an open fd read to EOF with `pread` at our own offset, its head (for the
//! fingerprint and in-place truncation checks), the line splitter, and where the consumer has
//! committed.
//!
//! The fd is the file: after a rename or an unlink the fd still reads the same inode, which is
//! how the lines a writer adds to a renamed file before it reopens are kept (reference A.6:
//! linemux drops its reader on `Create` and loses them).

use std::fs::File;
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::identity::{FileKey, Fingerprint, read_head};
use super::lines::{LineSink, Splitter};

/// What a poll of one file found, besides the lines it put in the sink.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct PollOutcome {
    /// Bytes read from the file.
    pub(crate) bytes: u64,
    /// The file was truncated or refilled in place; reading restarted at 0. Holds the offset
    /// we had reached.
    pub(crate) truncated_at: Option<u64>,
    /// The read budget ran out before EOF: poll again soon.
    pub(crate) more: bool,
}

/// Limits for one poll.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PollLimits {
    pub(crate) budget_bytes: u64,
    pub(crate) partial_timeout: Duration,
    pub(crate) now: Instant,
    /// Emit a pending partial line now (the file is being left).
    pub(crate) flush_partial: bool,
}

/// A tracked file.
#[derive(Debug)]
pub(crate) struct FileReader {
    /// Last path this file was seen under (for events and the checkpoint's hint).
    pub(crate) path: PathBuf,
    pub(crate) key: FileKey,
    file: File,
    /// Next byte to read.
    read_offset: u64,
    splitter: Splitter,
    /// The file's first bytes, up to `fingerprint_bytes`, as read through this fd.
    head: Vec<u8>,
    fingerprint_bytes: usize,
    /// Bumped at each in-place truncation, so a position handed out before it is not
    /// committed against the new content.
    pub(crate) generation: u64,
    /// Offset the consumer has committed in this generation.
    pub(crate) committed: u64,
    /// The content before the last truncation: its head, committed offset and end. Recorded
    /// so a copytruncate copy found at a restart resumes where that content was committed
    /// instead of being re-read whole.
    pub(crate) before_truncation: Option<(Fingerprint, u64, u64)>,
    /// `(size, mtime ns)` at the last truncation check: the head is re-checked only when
    /// this changes.
    last_stat: (u64, i128),
    /// When the pending partial line began waiting, and at which line start.
    pending_since: Option<(Instant, u64)>,
    /// When data was last read (drives how long a rotated file is kept).
    pub(crate) last_data: Instant,
    /// Set when the path no longer names this file (rotated or deleted): it is drained and
    /// dropped after `rotate_wait` without new data.
    pub(crate) retired: bool,
}

const CHUNK_BYTES: usize = 64 * 1024;

impl FileReader {
    /// Starts tracking `file` (already open) at `offset`.
    pub(crate) fn new(
        path: PathBuf,
        file: File,
        offset: u64,
        fingerprint_bytes: usize,
        max_line_bytes: usize,
        now: Instant,
    ) -> io::Result<Self> {
        let meta = file.metadata()?;
        let mut head = Vec::new();
        read_head(&file, fingerprint_bytes as u64, &mut head)?;
        let mut splitter = Splitter::new(max_line_bytes);
        splitter.reset(offset);
        Ok(FileReader {
            path,
            key: FileKey::of(&meta),
            file,
            read_offset: offset,
            splitter,
            head,
            fingerprint_bytes,
            generation: 0,
            committed: offset,
            before_truncation: None,
            last_stat: stat_sig(&meta),
            pending_since: None,
            last_data: now,
            retired: false,
        })
    }

    /// The fingerprint of what this fd has seen of the file's head.
    pub(crate) fn fingerprint(&self) -> Fingerprint {
        Fingerprint::of(&self.head)
    }

    /// Offset after the last line handed out (what a commit of everything would store).
    pub(crate) fn emitted_offset(&self) -> u64 {
        self.splitter.line_start()
    }

    /// Commits `offset` of the current content. Commits are cumulative per file: positions
    /// are handed out in file order, so this also covers the content before a truncation.
    pub(crate) fn commit(&mut self, offset: u64) {
        self.committed = self.committed.max(offset);
        // Kept, not cleared: a copy made before the truncate may still turn up at a restart,
        // and must then resume at the old content's end, not at 0.
        if let Some((_, committed, end)) = self.before_truncation.as_mut() {
            *committed = *end;
        }
    }

    /// Bytes read but not yet committed, plus a held partial line: nothing to lose if zero.
    pub(crate) fn fully_committed(&self) -> bool {
        self.committed >= self.read_offset && !self.splitter.has_pending()
    }

    /// True when the file has no name left (unlinked; the fd keeps it readable).
    pub(crate) fn is_unlinked(&self) -> bool {
        self.file.metadata().is_ok_and(|m| m.nlink() == 0)
    }

    /// Reads what is new, within the budget, and splits it into lines.
    pub(crate) fn poll(
        &mut self,
        limits: PollLimits,
        out: &mut LineSink,
    ) -> io::Result<PollOutcome> {
        let mut outcome = PollOutcome::default();
        let meta = self.file.metadata()?;
        let sig = stat_sig(&meta);
        if sig != self.last_stat {
            self.last_stat = sig;
            if meta.size() < self.read_offset || !self.head_unchanged()? {
                outcome.truncated_at = Some(self.read_offset);
                self.restart_at_zero(out);
            }
        }
        let mut buf = vec![0u8; CHUNK_BYTES];
        while outcome.bytes < limits.budget_bytes {
            let n = match self.file.read_at(&mut buf, self.read_offset) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                break;
            }
            self.extend_head(&buf[..n]);
            self.splitter.feed(&buf[..n], self.read_offset, out);
            self.read_offset += n as u64;
            outcome.bytes += n as u64;
        }
        outcome.more = outcome.bytes >= limits.budget_bytes;
        if outcome.bytes > 0 {
            self.last_data = limits.now;
        }
        self.check_partial(limits, out);
        Ok(outcome)
    }

    /// Emits the pending partial line if it waited `partial_timeout` (or `flush_partial`).
    fn check_partial(&mut self, limits: PollLimits, out: &mut LineSink) {
        if !self.splitter.has_pending() {
            self.pending_since = None;
            return;
        }
        let start = self.splitter.line_start();
        let since = match self.pending_since {
            Some((t, at)) if at == start => t,
            _ => {
                self.pending_since = Some((limits.now, start));
                limits.now
            }
        };
        if limits.flush_partial || limits.now.duration_since(since) >= limits.partial_timeout {
            self.splitter.flush(self.read_offset, out);
            self.pending_since = None;
        }
    }

    /// In-place truncation (copytruncate, `> file`): hand out the held partial line, then read
    /// the new content from 0. Bytes written after our last read and before the truncation are
    /// gone from the file; no reader can get them (reference A.1, fluent-bit#375).
    fn restart_at_zero(&mut self, out: &mut LineSink) {
        self.splitter.flush(self.read_offset, out);
        self.before_truncation =
            Some((Fingerprint::of(&self.head), self.committed, self.read_offset));
        self.splitter.reset(0);
        self.read_offset = 0;
        self.head.clear();
        self.generation += 1;
        self.committed = 0;
        self.pending_since = None;
    }

    /// True when the file still starts with the bytes we read there.
    fn head_unchanged(&self) -> io::Result<bool> {
        let mut now = Vec::with_capacity(self.head.len());
        read_head(&self.file, self.head.len() as u64, &mut now)?;
        Ok(now == self.head)
    }

    /// Keeps the first `fingerprint_bytes` of the file as they stream past.
    fn extend_head(&mut self, chunk: &[u8]) {
        let have = self.head.len() as u64;
        if self.head.len() >= self.fingerprint_bytes || have < self.read_offset {
            return;
        }
        let skip = usize::try_from(have - self.read_offset).unwrap_or(usize::MAX);
        if skip < chunk.len() {
            let take = (chunk.len() - skip).min(self.fingerprint_bytes - self.head.len());
            self.head.extend_from_slice(&chunk[skip..skip + take]);
        }
    }
}

fn stat_sig(meta: &std::fs::Metadata) -> (u64, i128) {
    (meta.size(), i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()))
}
