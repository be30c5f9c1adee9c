//! Where the tailer starts each file when it starts: from its checkpoint (or a renamed sibling
//! with the checkpoint's inode), the files a rotation created while it was down, or the end of
//! files never seen.

use std::collections::BTreeSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, UNIX_EPOCH};

use super::{Tailer, unix_ms_now};
use crate::tail::checkpoint::{Checkpoint, Generation, State};
use crate::tail::events::{StartReason, TailEvents};
use crate::tail::identity::FileKey;

impl<E: TailEvents> Tailer<E> {
    /// Opens every file the inputs match and sets where each is read from, then catches up
    /// on the siblings a rotation created while the daemon was down.
    pub(super) fn start(&mut self, state: Option<&State>) {
        let started = unix_ms_now();
        let found = self.discovery.scan(&self.events);
        let now = Instant::now();
        let mut unmatched: Vec<&Checkpoint> =
            state.map(|s| s.files.iter().collect()).unwrap_or_default();
        for path in found {
            let Some((file, key)) = self.open_file(&path) else { continue };
            if self.readers.contains_key(&key) {
                continue; // the same file under two matching names (hard link)
            }
            let cp =
                unmatched.iter().position(|cp| cp.key == key).map(|i| unmatched.swap_remove(i));
            let (offset, reason) = self.start_offset(&path, &file, cp, state);
            self.add_reader(path, file, offset, reason, now);
        }
        // Rotated while we were down: look for each remaining checkpointed file beside its
        // old path (app.log -> app.log.1, app.log-20240301) and drain it from its offset.
        // A sibling with the checkpoint's inode but another head was rewritten in place
        // (copytruncate before we saved the truncation, then renamed) or is a new file that got
        // the inode after ours was deleted: either way nothing in it was committed, so it is read
        // from 0. It must be taken here: it is older than the last scan, so the birth-time
        // catch-up below skips it.
        for cp in unmatched {
            if !self.discovery.owns(Path::new(&cp.path)) {
                self.events.checkpoint_dropped(Path::new(&cp.path));
                continue;
            }
            if let Some((path, file)) = find_sibling(cp)
                && !self.readers.contains_key(&cp.key)
            {
                let (offset, reason) = self.start_offset(&path, &file, Some(cp), state);
                self.add_reader(path, file, offset, reason, now);
                if let Some(r) = self.readers.get_mut(&cp.key) {
                    r.retired = true;
                }
            }
        }
        if let Some(state) = state {
            self.catch_up_siblings(state, now);
        }
        self.scanned_at_unix_ms = started;
        self.next_scan = now + self.cfg.scan_interval;
    }

    /// Files beside the inputs (`app.log.1`, `app.log-20240301`) created after our last
    /// complete scan: a rotation created them and renamed them away while we were down (or
    /// before we recorded them), so no checkpoint names them and no input matches them. Read
    /// from 0, except a copytruncate copy (its head is a checkpointed file's head): that
    /// resumes where the copied content was committed. Also an older copy of content from
    /// before a truncation that was not committed to its end, from where it was committed.
    fn catch_up_siblings(&mut self, state: &State, now: Instant) {
        let mut names: BTreeSet<PathBuf> = self.readers.values().map(|r| r.path.clone()).collect();
        names.extend(
            state.files.iter().map(|cp| PathBuf::from(&cp.path)).filter(|p| self.discovery.owns(p)),
        );
        let mut candidates = BTreeSet::new();
        for base in &names {
            let (Some(dir), Some(name)) = (base.parent(), base.file_name()) else { continue };
            let name = name.to_string_lossy();
            let Ok(entries) = std::fs::read_dir(dir) else { continue };
            for entry in entries.flatten() {
                let other = entry.file_name().to_string_lossy().into_owned();
                if other.len() > name.len() && other.starts_with(name.as_ref()) {
                    candidates.insert(entry.path());
                }
            }
        }
        for path in candidates {
            let born_late = born_after(&path, state.scanned_at_unix_ms);
            // An older sibling is taken only when it is a copy of content truncated while we
            // ran whose lines were not all committed (a multiline record held across a
            // copytruncate when we died): the copy is the only place left with those lines.
            let uncommitted_copy = || {
                let Ok(size) = std::fs::metadata(&path).map(|m| m.len()) else { return false };
                state.files.iter().filter_map(|cp| cp.before_truncation).any(|g| {
                    g.offset < size
                        && g.fingerprint.len > 0
                        && File::open(&path)
                            .is_ok_and(|f| g.fingerprint.matches(&f).unwrap_or(false))
                })
            };
            if !born_late && !uncommitted_copy() {
                continue;
            }
            let Some((file, key)) = self.open_file(&path) else { continue };
            if self.readers.contains_key(&key) {
                continue;
            }
            let copied_from = state.files.iter().find_map(|cp| {
                let gens =
                    std::iter::once(Generation { fingerprint: cp.fingerprint, offset: cp.offset })
                        .chain(cp.before_truncation);
                gens.into_iter().find(|g| {
                    g.fingerprint.len > 0 && g.fingerprint.matches(&file).unwrap_or(false)
                })
            });
            let offset = copied_from.map_or(0, |g| g.offset);
            let reason = if copied_from.is_some() {
                StartReason::Checkpoint
            } else {
                StartReason::Beginning
            };
            self.add_reader(path, file, offset, reason, now);
            if let Some(r) = self.readers.get_mut(&key) {
                r.retired = true;
            }
        }
    }

    fn start_offset(
        &self,
        path: &Path,
        file: &File,
        cp: Option<&Checkpoint>,
        state: Option<&State>,
    ) -> (u64, StartReason) {
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        if let Some(cp) = cp {
            // Same inode: the same file only if its head is unchanged and it is still long
            // enough; otherwise truncated or replaced while we were down: all of it is new.
            return match cp.fingerprint.matches(file) {
                Ok(true) if cp.offset <= size => (cp.offset, StartReason::Checkpoint),
                _ => (0, StartReason::Beginning),
            };
        }
        if self.cfg.from_beginning {
            return (0, StartReason::Beginning);
        }
        // Not a first start and the file was created after our last complete scan: it
        // appeared while we were down (or before we saved it), so none of it was read.
        if let Some(state) = state {
            let since =
                UNIX_EPOCH + Duration::from_millis(state.scanned_at_unix_ms.saturating_sub(1000));
            if std::fs::metadata(path).and_then(|m| m.created()).is_ok_and(|born| born >= since) {
                return (0, StartReason::Beginning);
            }
        }
        (size, StartReason::End)
    }
}

/// A file in the checkpoint's directory whose name is or extends the checkpoint's file name and
/// whose dev + inode are the checkpoint's. The fingerprint is not required here: the caller
/// decides from it where to start (a mismatch means new content, read from 0).
fn find_sibling(cp: &Checkpoint) -> Option<(PathBuf, File)> {
    let old = Path::new(&cp.path);
    let dir = old.parent()?;
    let name = old.file_name()?.to_string_lossy().into_owned();
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let candidate = entry.file_name().to_string_lossy().into_owned();
        // The checkpoint's own name counts too: a file found rotated at a restart is
        // checkpointed under its rotated name, and may still be there after another crash.
        if !candidate.starts_with(&name) {
            continue;
        }
        let path = entry.path();
        let Ok(file) = File::open(&path) else { continue };
        let Ok(meta) = file.metadata() else { continue };
        if FileKey::of(&meta) == cp.key {
            return Some((path, file));
        }
    }
    None
}

/// Slack for file timestamps, which the kernel takes from a coarse clock (up to a tick behind
/// `SystemTime::now()`).
const BIRTH_SLACK_MS: u64 = 100;

/// True when `path` was created after `unix_ms` (less the slack). False when the file system
/// keeps no birth time: then a file is assumed old (started at its end), as on a first start.
fn born_after(path: &Path, unix_ms: u64) -> bool {
    let since = UNIX_EPOCH + Duration::from_millis(unix_ms.saturating_sub(BIRTH_SLACK_MS));
    std::fs::metadata(path).and_then(|m| m.created()).is_ok_and(|born| born >= since)
}
