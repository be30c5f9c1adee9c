//! The state file: per file identity the offset up to which the consumer has committed, plus
//! when the engine last had a full view of its inputs.
//!
//! Written with `common::fs::atomic_write` (temp file, fsync, rename, fsync of the directory),
//! so a crash leaves the old or the new state, never a torn or all-NUL one (promtail's
//! positions file crash-looped on exactly that: loki#1457/#1460, #6268). JSON, one object,
//! versioned. Keyed by identity, not by path: a path is only a hint where to look for a file
//! that was rotated while we were down (Promtail keys by path and so cannot tell a rotated
//! file from a new one, reference A.5).
//!
//! Two generations: before each save the current file becomes `checkpoints.prev.json`, so when
//! the current one is damaged (a disk error, an operator's edit) the previous one is used: its
//! offsets are a little older, which means a few lines read twice (Alertmanager deduplicates
//! the alerts), never lost. With both unusable the engine reads every file from its start.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::identity::{FileKey, Fingerprint};

/// Name of the state file inside the state dir.
pub const STATE_FILE_NAME: &str = "checkpoints.json";
/// The generation before it.
pub const PREVIOUS_FILE_NAME: &str = "checkpoints.prev.json";
const VERSION: u32 = 1;

/// Why the state could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// The state file exists but cannot be read.
    #[error("{path}: cannot read state: {source}")]
    Read {
        /// The state file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The state file is not what this version writes.
    #[error("{path}: corrupt state: {reason}")]
    Corrupt {
        /// The state file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// The state could not be written.
    #[error("{path}: cannot write state: {source}")]
    Write {
        /// The state file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// The committed position of one file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Device and inode when the checkpoint was written.
    #[serde(flatten)]
    pub key: FileKey,
    /// The file's head, to tell the same inode from a reused or refilled one.
    pub fingerprint: Fingerprint,
    /// Bytes before this offset have been handed on durably; reading resumes here.
    pub offset: u64,
    /// Where the file was last seen (lossy for non-UTF-8 paths): where to look for it after a
    /// rotation while we were down.
    pub path: String,
    /// The content before the last in-place truncation: a copytruncate copy found at a
    /// restart with this head resumes at this offset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_truncation: Option<Generation>,
}

/// Head fingerprint and committed offset of a file's content before a truncation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Generation {
    /// The old content's head.
    pub fingerprint: Fingerprint,
    /// Committed offset in the old content.
    pub offset: u64,
}

/// Everything in the state file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    /// Format version, for a future migration.
    pub version: u32,
    /// Unix time (ms) of the last input scan whose files are all in `files`. A file not in
    /// `files` but created after this was created while we were down: it is read from 0.
    pub scanned_at_unix_ms: u64,
    /// One entry per tracked file.
    pub files: Vec<Checkpoint>,
}

/// What [`load`] found.
#[derive(Debug)]
pub enum Loaded {
    /// No state: a first start.
    Nothing,
    /// The current state.
    Current(State),
    /// The current state was unusable (the error); the previous generation is used.
    Previous(State, CheckpointError),
    /// Neither generation is usable (the current one's error).
    Unusable(CheckpointError),
}

/// Reads the state in `dir`, falling back to the previous generation.
pub fn load(dir: &Path) -> Loaded {
    match load_file(&dir.join(STATE_FILE_NAME)) {
        Ok(Some(state)) => Loaded::Current(state),
        // No current file but a previous one: a crash between the two renames of a save.
        Ok(None) => match load_file(&dir.join(PREVIOUS_FILE_NAME)) {
            Ok(Some(state)) => Loaded::Current(state),
            Ok(None) => Loaded::Nothing,
            Err(e) => Loaded::Unusable(e),
        },
        Err(e) => match load_file(&dir.join(PREVIOUS_FILE_NAME)) {
            Ok(Some(state)) => Loaded::Previous(state, e),
            Ok(None) | Err(_) => Loaded::Unusable(e),
        },
    }
}

/// Reads one state file. `Ok(None)` when it does not exist.
fn load_file(path: &Path) -> Result<Option<State>, CheckpointError> {
    let path = path.to_path_buf();
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(CheckpointError::Read { path, source }),
    };
    let state: State = serde_json::from_slice(&text)
        .map_err(|e| CheckpointError::Corrupt { path: path.clone(), reason: e.to_string() })?;
    if state.version != VERSION {
        return Err(CheckpointError::Corrupt {
            path,
            reason: format!("version {} (expected {VERSION})", state.version),
        });
    }
    Ok(Some(state))
}

/// Replaces the state in `dir` atomically.
pub fn save(
    dir: &Path,
    files: Vec<Checkpoint>,
    scanned_at_unix_ms: u64,
) -> Result<(), CheckpointError> {
    let path = dir.join(STATE_FILE_NAME);
    let state = State { version: VERSION, scanned_at_unix_ms, files };
    let text = serde_json::to_vec(&state).map_err(|e| CheckpointError::Write {
        path: path.clone(),
        source: std::io::Error::other(e),
    })?;
    // The current generation becomes the previous one (a missing one is a first save).
    match std::fs::rename(&path, dir.join(PREVIOUS_FILE_NAME)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(CheckpointError::Write { path, source: e });
        }
        _ => {}
    }
    obwatch_common::fs::atomic_write(&path, &text)
        .map_err(|source| CheckpointError::Write { path, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_reports_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let cp = Checkpoint {
            key: FileKey { dev: 1, ino: 2 },
            fingerprint: Fingerprint::of(b"x\n"),
            offset: 2,
            path: "/var/log/a.log".into(),
            before_truncation: None,
        };
        assert!(matches!(load(dir.path()), Loaded::Nothing));
        save(dir.path(), vec![cp.clone()], 7).unwrap();
        let Loaded::Current(state) = load(dir.path()) else { panic!("current state") };
        assert_eq!(state.files, vec![cp.clone()]);
        assert_eq!(state.scanned_at_unix_ms, 7);
        // A second save keeps the first as the previous generation.
        let newer = Checkpoint { offset: 9, ..cp.clone() };
        save(dir.path(), vec![newer.clone()], 8).unwrap();
        std::fs::write(dir.path().join(STATE_FILE_NAME), b"\0\0\0").unwrap();
        let Loaded::Previous(state, err) = load(dir.path()) else { panic!("previous state") };
        assert_eq!(state.files, vec![cp], "the generation before the damaged one");
        assert!(err.to_string().contains("corrupt state"), "{err}");
        // Both damaged: unusable. Only the previous one there: used as current.
        std::fs::write(dir.path().join(PREVIOUS_FILE_NAME), b"{").unwrap();
        assert!(matches!(load(dir.path()), Loaded::Unusable(_)));
        std::fs::remove_file(dir.path().join(STATE_FILE_NAME)).unwrap();
        save(dir.path(), vec![newer.clone()], 9).unwrap();
        std::fs::rename(dir.path().join(STATE_FILE_NAME), dir.path().join(PREVIOUS_FILE_NAME))
            .unwrap();
        let Loaded::Current(state) = load(dir.path()) else { panic!("previous as current") };
        assert_eq!(state.files, vec![newer]);
    }
}
