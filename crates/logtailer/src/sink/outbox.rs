//! The on-disk outbox of one Alertmanager: alert posts are written here, durably, before the
//! tail checkpoint may move past the lines that raised them, and deleted only once that
//! Alertmanager accepted them. So an Alertmanager outage or a logtailer crash delays alerts
//! and never loses them, within a bound: past `max_entries` or `max_bytes` the oldest entries
//! are dropped and counted (a dead Alertmanager for a week must not fill the disk).
//!
//! Layout: `DIR/<seq>.json`, one post body (a JSON array of postable alerts) a file, `seq` a
//! zero-padded increasing number, each written with temp + fsync + rename. Reposting an entry
//! is harmless: Alertmanager identifies alerts by their labels.

use std::collections::VecDeque;
use std::io;
use std::path::{Path, PathBuf};

use obwatch_common::fs::atomic_write;

/// Why the outbox could not keep or read an entry.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    /// The directory or an entry could not be created, read or removed.
    #[error("outbox {path}: {source}")]
    Io {
        /// The directory or entry.
        path: PathBuf,
        /// The OS error (ENOSPC for a full disk).
        source: io::Error,
    },
}

/// A bounded queue of post bodies on disk, oldest first.
#[derive(Debug)]
pub struct Outbox {
    dir: PathBuf,
    /// (seq, size in bytes), oldest first.
    entries: VecDeque<(u64, u64)>,
    bytes: u64,
    next_seq: u64,
    max_entries: usize,
    max_bytes: u64,
    /// Entries dropped because the outbox was full, since it was opened.
    pub dropped: u64,
    /// Pushes that failed (a full disk), since it was opened.
    pub write_failures: u64,
}

impl Outbox {
    /// Opens (creating) `dir` and finds the entries a previous run left. Files that are not
    /// entries (temp files of a crashed write) are removed.
    pub fn open(dir: &Path, max_entries: usize, max_bytes: u64) -> Result<Outbox, OutboxError> {
        let io_err = |source| OutboxError::Io { path: dir.to_path_buf(), source };
        std::fs::create_dir_all(dir).map_err(io_err)?;
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io_err)? {
            let entry = entry.map_err(io_err)?;
            let name = entry.file_name();
            let seq =
                name.to_str().and_then(|n| n.strip_suffix(".json")).and_then(|n| n.parse().ok());
            match (seq, entry.metadata()) {
                (Some(seq), Ok(meta)) if meta.is_file() => entries.push((seq, meta.len())),
                _ => {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        entries.sort_unstable();
        let next_seq = entries.last().map_or(1, |(s, _)| s + 1);
        let bytes = entries.iter().map(|(_, b)| b).sum();
        Ok(Outbox {
            dir: dir.to_path_buf(),
            entries: entries.into(),
            bytes,
            next_seq,
            max_entries: max_entries.max(1),
            max_bytes,
            dropped: 0,
            write_failures: 0,
        })
    }

    fn path(&self, seq: u64) -> PathBuf {
        self.dir.join(format!("{seq:020}.json"))
    }

    /// Adds `body`; durable when this returns `Ok`. Drops the oldest entries while over a
    /// limit. On error (a full disk) nothing was added and the caller must not commit.
    pub fn push(&mut self, body: &[u8]) -> Result<(), OutboxError> {
        let seq = self.next_seq;
        let path = self.path(seq);
        if let Err(source) = atomic_write(&path, body) {
            self.write_failures += 1;
            return Err(OutboxError::Io { path, source });
        }
        self.next_seq += 1;
        self.entries.push_back((seq, body.len() as u64));
        self.bytes += body.len() as u64;
        while self.entries.len() > self.max_entries
            || (self.bytes > self.max_bytes && self.entries.len() > 1)
        {
            if let Some((old, size)) = self.entries.pop_front() {
                self.remove(old)?;
                self.bytes -= size;
                self.dropped += 1;
            }
        }
        Ok(())
    }

    /// Up to `max` oldest entries merged into one post body, with the seq of the last one
    /// (pass it to [`ack`](Self::ack) once the post succeeded). `None` when empty.
    pub fn peek(&self, max: usize) -> Result<Option<(u64, Vec<u8>)>, OutboxError> {
        let mut body = vec![b'['];
        let mut last = None;
        for &(seq, _) in self.entries.iter().take(max.max(1)) {
            let path = self.path(seq);
            let data = std::fs::read(&path).map_err(|source| OutboxError::Io { path, source })?;
            // Each entry is a JSON array: splice its elements into one array.
            let inner = data.trim_ascii();
            let inner = inner.strip_prefix(b"[").and_then(|i| i.strip_suffix(b"]")).unwrap_or(b"");
            if !inner.trim_ascii().is_empty() {
                if body.len() > 1 {
                    body.push(b',');
                }
                body.extend_from_slice(inner);
            }
            last = Some(seq);
        }
        body.push(b']');
        Ok(last.map(|seq| (seq, body)))
    }

    /// Removes every entry up to and including `seq`.
    pub fn ack(&mut self, seq: u64) -> Result<(), OutboxError> {
        while let Some(&(s, size)) = self.entries.front() {
            if s > seq {
                break;
            }
            self.remove(s)?;
            self.entries.pop_front();
            self.bytes -= size;
        }
        Ok(())
    }

    fn remove(&self, seq: u64) -> Result<(), OutboxError> {
        let path = self.path(seq);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                Err(OutboxError::Io { path, source: e })
            }
            _ => Ok(()),
        }
    }

    /// Entries waiting.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes waiting.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn survives_reopen_merges_and_acks_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut o = Outbox::open(dir.path(), 100, 1 << 20).unwrap();
        o.push(br#"[{"labels":{"a":"1"}}]"#).unwrap();
        o.push(b"[]").unwrap();
        o.push(br#"[{"labels":{"a":"2"}},{"labels":{"a":"3"}}]"#).unwrap();
        std::fs::write(dir.path().join(".x.tmp1"), b"torn").unwrap();
        drop(o);
        let mut o = Outbox::open(dir.path(), 100, 1 << 20).unwrap();
        assert_eq!(o.len(), 3);
        assert!(!dir.path().join(".x.tmp1").exists());
        let (seq, body) = o.peek(10).unwrap().unwrap();
        assert_eq!(
            std::str::from_utf8(&body).unwrap(),
            r#"[{"labels":{"a":"1"}},{"labels":{"a":"2"}},{"labels":{"a":"3"}}]"#
        );
        let parsed: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(parsed.as_array().unwrap().len(), 3);
        let (first, _) = o.peek(1).unwrap().unwrap();
        o.ack(first).unwrap();
        assert_eq!(o.len(), 2);
        o.ack(seq).unwrap();
        assert!(o.is_empty());
        assert_eq!(o.bytes(), 0);
        assert!(o.peek(5).unwrap().is_none());
        // Sequence numbers keep increasing across reopen, so order is kept.
        o.push(b"[1]").unwrap();
        drop(o);
        let o = Outbox::open(dir.path(), 100, 1 << 20).unwrap();
        assert_eq!(o.peek(5).unwrap().unwrap().0, seq + 1);
    }

    #[test]
    fn drops_the_oldest_when_full_and_counts_them() {
        let dir = tempfile::tempdir().unwrap();
        let mut o = Outbox::open(dir.path(), 3, 1 << 20).unwrap();
        for i in 0..5 {
            o.push(format!("[{i}]").as_bytes()).unwrap();
        }
        assert_eq!((o.len(), o.dropped), (3, 2));
        assert_eq!(o.peek(10).unwrap().unwrap().1, b"[2,3,4]");
        let mut o = Outbox::open(dir.path(), 100, 9).unwrap();
        o.push(b"[55555]").unwrap();
        assert_eq!(
            o.peek(10).unwrap().unwrap().1,
            b"[55555]",
            "over max_bytes: only the newest is kept"
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_failed_write_adds_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut o = Outbox::open(&dir.path().join("box"), 10, 1 << 20).unwrap();
        // The directory vanishes (or the disk is full): the push fails and says where.
        std::fs::remove_dir_all(dir.path().join("box")).unwrap();
        let e = o.push(b"[1]").unwrap_err().to_string();
        assert!(e.contains("box"), "{e}");
        assert!(o.is_empty());
        assert_eq!(o.write_failures, 1);
    }
}
