//! File identity: device + inode, plus a fingerprint of the file's first bytes.
//!
//! Neither half is enough alone. Inodes are reused after a delete, so an offset keyed by inode
//! alone is applied to a new file (vector#5902, fluent-bit#1875/#8025); a content checksum
//! alone collides for files that start alike (vector#5833, all-empty files vector#643). The
//! composite is what vector#25079 asks for and what reference Part C.1 prescribes.
//!
//! The fingerprint covers the first `min(size, fingerprint_bytes)` bytes and records that
//! length, so a file shorter than the window still has one; it is extended as the file grows.
//! Matching re-hashes the same number of bytes of the candidate file.

use std::fs::{File, Metadata};
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Device and inode: which file an fd or a path refers to right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FileKey {
    /// `st_dev`.
    pub dev: u64,
    /// `st_ino`.
    pub ino: u64,
}

impl FileKey {
    /// The key of a `stat`/`fstat` result.
    pub fn of(meta: &Metadata) -> Self {
        FileKey { dev: meta.dev(), ino: meta.ino() }
    }
}

/// Hash of a file's first `len` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// How many leading bytes were hashed.
    pub len: u64,
    /// First 8 bytes of their SHA-256, as an integer.
    pub hash: u64,
}

impl Fingerprint {
    /// The fingerprint of `head` (the file's first bytes).
    pub fn of(head: &[u8]) -> Self {
        let digest = Sha256::digest(head);
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        Fingerprint { len: head.len() as u64, hash: u64::from_be_bytes(first) }
    }

    /// True when `file` still starts with the bytes this fingerprint was taken from. A file
    /// now shorter than the hashed window does not match (it was truncated).
    pub fn matches(&self, file: &File) -> io::Result<bool> {
        let mut head = Vec::new();
        read_head(file, self.len, &mut head)?;
        Ok(head.len() as u64 == self.len && Fingerprint::of(&head) == *self)
    }
}

/// Reads up to `len` bytes from the start of `file` into `buf` (cleared first), with `pread`
/// so the fd's read position is untouched.
pub(crate) fn read_head(file: &File, len: u64, buf: &mut Vec<u8>) -> io::Result<()> {
    buf.clear();
    buf.resize(usize::try_from(len).unwrap_or(usize::MAX), 0);
    let mut got = 0;
    while got < buf.len() {
        match file.read_at(&mut buf[got..], got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(got);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn fingerprint_matches_until_content_or_length_changes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        std::fs::write(&p, b"hello\nworld\n").unwrap();
        let f = File::open(&p).unwrap();
        let fp = Fingerprint::of(b"hello\n");
        assert!(fp.matches(&f).unwrap());
        // Growing the file keeps the match: only the hashed window counts.
        std::fs::OpenOptions::new().append(true).open(&p).unwrap().write_all(b"more\n").unwrap();
        assert!(fp.matches(&f).unwrap());
        // Same length, other bytes: a refilled file.
        std::fs::write(&p, b"HELLO\nworld\n").unwrap();
        assert!(!fp.matches(&f).unwrap());
        // Shorter than the window: truncated.
        std::fs::write(&p, b"hel").unwrap();
        assert!(!fp.matches(&f).unwrap());
        assert!(Fingerprint::of(b"").matches(&f).unwrap());
    }
}
