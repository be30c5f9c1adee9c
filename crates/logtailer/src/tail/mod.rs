//! The lossless tailing engine: follows files named by glob patterns across rename rotation,
//! copytruncate, delete + recreate, restarts and crashes, and hands out lines as bytes in
//! batches whose position the consumer commits once it has handed them on durably.
//!
//! # Guarantees
//! - Rename rotation (logrotate `create`, OBServer, clusterware): no loss, even when the writer
//!   keeps writing to the renamed file before it reopens (the fd is drained until the file has
//!   been quiet for `rotate_wait`). Across a crash too, if the rotated file keeps a name that
//!   starts with the old name (`app.log.1`, `app.log-20240301`) or matches an input.
//! - Delete + recreate: no loss while the engine runs (the fd keeps the deleted file readable).
//!   What was not committed when the engine died with the file deleted is gone with the file.
//! - copytruncate: lines written between the copy and the truncate, or not yet read when the
//!   truncate happens, are not in the file any more: this rotation is lossy by its own design
//!   (reference A.1; fluent-bit#375). The engine detects the truncation (size below offset, or
//!   the file's head changed, also when it was refilled past the old offset) and rereads from 0.
//! - Restart: resumes at the last commit for every file whose identity (dev + inode + head
//!   fingerprint) matches; what was handed out after the last commit is handed out again (at
//!   least once, never lost, never duplicated before the commit).
//!
//! # Layout
//! - [`engine`]: [`Tailer`]: scan, read, batch, commit.
//! - `reader`: one tracked file: fd, offsets, truncation checks.
//! - `lines`: the byte line splitter (partial lines, cut long lines).
//! - [`identity`]: dev + inode + fingerprint.
//! - [`checkpoint`]: the state file.
//! - `discover`: glob expansion and notify wake-ups.
//! - [`events`]: [`TailEvents`], telemetry as a trait.

pub mod checkpoint;
pub mod discover;
pub mod engine;
pub mod events;
pub mod identity;
mod lines;
mod reader;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use checkpoint::CheckpointError;
pub use engine::{TailStats, Tailer};
pub use events::{LogEvents, StartReason, TailEvents};
pub use identity::{FileKey, Fingerprint};
pub use lines::Line;

use lines::LineMeta;

/// What to tail and how. Build with [`TailConfig::new`] and adjust fields.
#[derive(Clone, Debug)]
pub struct TailConfig {
    /// Glob patterns (`/var/log/*.log`); files that start matching later are picked up at the
    /// next scan.
    pub paths: Vec<String>,
    /// Where `checkpoints.json` lives (created if missing).
    pub state_dir: PathBuf,
    /// Read files never seen before from offset 0 instead of their end (first start only:
    /// files that appear later are always read from 0).
    pub from_beginning: bool,
    /// Longer lines are cut to this many bytes; the rest of the line is skipped and counted.
    pub max_line_bytes: usize,
    /// A last line without its newline is emitted after waiting this long.
    pub partial_line_timeout: Duration,
    /// A rotated or deleted file is kept open until it has had no new data for this long (the
    /// writer may still be writing to it before it reopens). Fluent Bit's `Rotate_Wait`.
    pub rotate_wait: Duration,
    /// Full rescan and stat of every file at least this often, whatever notify says.
    pub scan_interval: Duration,
    /// Bytes of a file's head in its fingerprint.
    pub fingerprint_bytes: usize,
    /// At most this many bytes from one file per batch, so one busy file cannot starve the
    /// others (Vector's `max_read_bytes`, reference A.4).
    pub read_budget_bytes: u64,
    /// Which symlinks among the matched paths are followed (`discover`).
    pub follow_symlinks: FollowSymlinks,
}

/// `follow_symlinks`: a user who can write into a watched log directory must not be able to
/// make the logtailer (which may read every log on the host) read any file it can, such as
/// `/etc/shadow`, and send its lines to Alertmanager.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FollowSymlinks {
    /// Only a link whose target the inputs' globs match themselves or that stays in the link's
    /// own directory, and whose target belongs to the owner of the link's directory.
    #[default]
    Safe,
    /// Every link (the behaviour of `tail -F`, fluent-bit and promtail).
    Any,
}

impl TailConfig {
    /// Defaults: 64 KiB lines, 5 s partial-line timeout, 30 s rotate wait, 1 s scan, 1 KiB
    /// fingerprint, 256 KiB per file per batch.
    pub fn new(paths: Vec<String>, state_dir: impl Into<PathBuf>) -> Self {
        TailConfig {
            paths,
            state_dir: state_dir.into(),
            from_beginning: false,
            max_line_bytes: 64 * 1024,
            partial_line_timeout: Duration::from_secs(5),
            rotate_wait: Duration::from_secs(30),
            scan_interval: Duration::from_secs(1),
            fingerprint_bytes: 1024,
            read_budget_bytes: 256 * 1024,
            follow_symlinks: FollowSymlinks::Safe,
        }
    }
}

/// Why the engine could not start or commit.
#[derive(Debug, thiserror::Error)]
pub enum TailError {
    /// The state dir cannot be created.
    #[error("{path}: cannot create state dir: {source}")]
    StateDir {
        /// The state dir.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A checkpoint could not be written.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
}

/// Where a batch ends in its file: commit it once the batch's lines are handed on durably.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    key: FileKey,
    /// Truncation count of the file when the batch was read: a position from before an
    /// in-place truncation is not applied to the new content.
    generation: u64,
    offset: u64,
}

impl Position {
    /// The file the position is in.
    pub fn key(&self) -> FileKey {
        self.key
    }

    /// Byte offset just after the batch's last line.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The same file position moved back to `offset` (never forward): what a consumer
    /// commits when it still holds the lines from `offset` on (an unfinished multiline
    /// record), so a restart reads them again.
    pub fn back_to(self, offset: u64) -> Position {
        Position { offset: offset.min(self.offset), ..self }
    }
}

/// Lines read from one file in one go, packed in one buffer.
#[derive(Debug)]
pub struct Batch {
    path: PathBuf,
    buf: Vec<u8>,
    lines: Vec<LineMeta>,
    position: Position,
}

impl Batch {
    /// The path the file had when the batch was read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What to commit after handing these lines on.
    pub fn position(&self) -> Position {
        self.position
    }

    /// The lines, in file order.
    pub fn lines(&self) -> impl Iterator<Item = Line<'_>> {
        self.lines.iter().map(|m| Line {
            bytes: self.buf.get(m.range.clone()).unwrap_or_default(),
            offset: m.offset,
            cut: m.cut,
            partial: m.partial,
        })
    }

    /// Number of lines.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// True when the batch has no lines.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}
