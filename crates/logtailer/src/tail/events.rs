//! Telemetry from the engine, as a trait the daemon implements (Vector's
//! `FileSourceInternalEvents` pattern, style anchors §2): the engine neither logs through a
//! metrics stack nor depends on one. Every method has a default that logs, so a consumer
//! overrides only what it counts.

use std::path::Path;

use tracing::{debug, info, warn};

/// Why a file starts where it starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartReason {
    /// Its checkpoint matched: resumed at the committed offset.
    Checkpoint,
    /// Found at the first start (or after a lost state) without `from_beginning`: at its end.
    End,
    /// Appeared while running or while we were down, or `from_beginning`: at offset 0.
    Beginning,
}

/// Every internal event of the tailing engine has a method here.
pub trait TailEvents {
    /// A file is now tracked, starting at `offset`.
    fn file_added(&self, path: &Path, offset: u64, reason: StartReason) {
        info!(path = %path.display(), offset, reason = ?reason, "Tailing file.");
    }

    /// The path now names another file; the old one is drained before it is left.
    fn file_rotated(&self, path: &Path) {
        info!(path = %path.display(), "File rotated; draining the old one.");
    }

    /// The path of a tracked file is gone; its fd is drained before it is dropped.
    fn file_deleted(&self, path: &Path) {
        info!(path = %path.display(), "File deleted; draining it.");
    }

    /// A file was truncated or refilled in place (copytruncate): reading restarts at 0.
    fn file_truncated(&self, path: &Path, old_offset: u64) {
        warn!(path = %path.display(), old_offset, "File truncated; reading from 0.");
    }

    /// A rotated or deleted file was drained and quiet long enough: its fd is closed.
    fn file_dropped(&self, path: &Path) {
        debug!(path = %path.display(), "File left.");
    }

    /// A line longer than `max_line_bytes` was cut.
    fn line_cut(&self, path: &Path, offset: u64) {
        debug!(path = %path.display(), offset, "Line cut at the maximum length.");
    }

    /// The state file could not be used: the previous generation is (`fell_back`), or else
    /// every file is read from its start.
    fn state_unusable(&self, error: &dyn std::error::Error, fell_back: bool) {
        if fell_back {
            warn!(error = %error, "Checkpoint state unusable; using the previous generation (some lines may be read twice).");
        } else {
            warn!(error = %error, "Checkpoint state and its previous generation unusable; reading every file from its start (lines may be read twice, none lost).");
        }
    }

    /// A symlink among the matched paths is not followed (`follow_symlinks: safe`).
    fn symlink_refused(&self, path: &Path, why: &str) {
        warn!(path = %path.display(), reason = why, "Symlink not followed (follow_symlinks: safe).");
    }

    /// A checkpointed file that no input reads any more (its input's globs changed, or the
    /// input was removed): its checkpoint is dropped and the file is not read.
    fn checkpoint_dropped(&self, path: &Path) {
        warn!(path = %path.display(), "Checkpointed file matches no input any more; its checkpoint is dropped and it is not read.");
    }

    /// A checkpoint write failed (the previous state stays; retried on the next commit).
    fn checkpoint_failed(&self, error: &dyn std::error::Error) {
        warn!(error = %error, "Checkpoint write failed.");
    }

    /// A file could not be opened, stat'ed or read; it is retried on the next scan.
    fn file_error(&self, path: &Path, error: &std::io::Error) {
        warn!(path = %path.display(), error = %error, "File error.");
    }

    /// A glob pattern or a watch could not be set up; the periodic scan still covers it.
    fn watch_error(&self, pattern: &str, error: &dyn std::error::Error) {
        warn!(pattern, error = %error, "Watch or glob error; relying on the periodic scan.");
    }
}

/// Events that only log (the defaults).
#[derive(Clone, Copy, Debug, Default)]
pub struct LogEvents;

impl TailEvents for LogEvents {}
