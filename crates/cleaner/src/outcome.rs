//! What became of one action, shared by the steps that act (apply, rotate) and those that count
//! and report the results.

use std::ffi::OsString;

/// What became of one action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Done: what went (net of the archive when compressing; nothing for one link of several).
    Done {
        /// Apparent bytes removed.
        freed_bytes: u64,
        /// Disk space (allocated blocks) the filesystem got back.
        freed_disk_bytes: u64,
    },
    /// A process holds the file open; left alone.
    Held,
    /// Not acted on because the file changed or vanished since the scan (not an error).
    Skipped(String),
    /// Failed (permission, read-only filesystem, full disk, ...): counted as an error.
    Failed(String),
    /// An active file was rotated to this name (in the same directory).
    Rotated {
        /// The rotated file's name.
        to: OsString,
    },
    /// Rotated, but `postrotate` failed: the file moved, the writer may not know. Counted as
    /// a rotation and as an error.
    RotatedPostrotateFailed {
        /// The rotated file's name.
        to: OsString,
        /// What went wrong with `postrotate`.
        error: String,
    },
}
