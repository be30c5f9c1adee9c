//! Open-file checks through `/proc/<pid>/fd`: which scanned files a process holds open (they are
//! kept and reported as held, as `tmpwatch --fuser` does), and which files under the roots are
//! deleted but still open (their space comes back only when the holder closes them).
//!
//! One `stat` per descriptor (it follows the magic link to the open file) gives device and
//! inode; only descriptors on a root's filesystem are looked at further.

use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, CWD, Dir, FileType};
use rustix::io::Errno;

use crate::meta::{Meta, open_dir_at};
use crate::plan::FileInfo;

/// A file held open after its last name was removed: its space is not free until it is closed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeletedOpen {
    /// The holder.
    pub pid: u32,
    /// The path it had, from `/proc/<pid>/fd/<n>` without " (deleted)".
    pub path: PathBuf,
    /// Its size.
    pub bytes: u64,
}

/// What the walk of `/proc` found besides the held marks.
#[derive(Debug, Default)]
pub struct Found {
    /// Deleted-but-open files under the roots, by path and pid.
    pub deleted_open: Vec<DeletedOpen>,
    /// Processes whose descriptors could not be read (permission): held checks are incomplete.
    pub uninspected_pids: usize,
    /// `procfs` itself could not be opened.
    pub error: Option<String>,
}

/// Marks held files in `files` (indexed by `(dev, ino)` in `seen`) and finds deleted-but-open
/// files on the roots' filesystems under the `roots` (`(dev, path)` each).
pub fn inspect(
    procfs: &Path,
    roots: &[(u64, &Path)],
    files: &mut [FileInfo],
    seen: &HashMap<(u64, u64), usize>,
) -> Found {
    let mut found = Found::default();
    let devs: HashSet<u64> = roots.iter().map(|(dev, _)| *dev).collect();
    if devs.is_empty() {
        return found;
    }
    let Ok(proc_fd) = open_dir_at(CWD, procfs) else {
        found.error =
            Some(format!("{}: cannot open; held files cannot be detected", procfs.display()));
        return found;
    };
    let Ok(mut procs) = Dir::read_from(&proc_fd) else { return found };
    let mut deleted: HashSet<(u32, u64, u64)> = HashSet::new();
    while let Some(Ok(entry)) = procs.read() {
        let name = entry.file_name().to_bytes();
        let Some(pid) = std::str::from_utf8(name).ok().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let fd_dir = match open_dir_at(&proc_fd, format!("{pid}/fd")) {
            Ok(d) => d,
            Err(Errno::NOENT | Errno::SRCH) => continue, // exited
            Err(_) => {
                found.uninspected_pids += 1;
                continue;
            }
        };
        let Ok(mut fds) = Dir::read_from(&fd_dir) else {
            found.uninspected_pids += 1;
            continue;
        };
        while let Some(Ok(fd_entry)) = fds.read() {
            let fd_name = fd_entry.file_name().to_bytes();
            if fd_name.first() == Some(&b'.') {
                continue;
            }
            let fd_name = OsStr::from_bytes(fd_name);
            // Follows the magic link: the open file itself, even when it has no name any more.
            let Ok(st) = rustix::fs::statat(&fd_dir, fd_name, AtFlags::empty()) else { continue };
            let m = Meta::from_stat(&st);
            if m.kind != FileType::RegularFile || !devs.contains(&m.dev) {
                continue;
            }
            if let Some(&i) = seen.get(&(m.dev, m.ino))
                && let Some(f) = files.get_mut(i)
            {
                f.held_by.get_or_insert(pid);
            }
            if m.nlink == 0 && deleted.insert((pid, m.dev, m.ino)) {
                let Ok(target) = rustix::fs::readlinkat(&fd_dir, fd_name, Vec::new()) else {
                    continue;
                };
                let bytes = target.as_bytes();
                let bytes = bytes.strip_suffix(b" (deleted)").unwrap_or(bytes);
                let path = PathBuf::from(OsStr::from_bytes(bytes));
                if roots.iter().any(|(_, root)| path.starts_with(root)) {
                    found.deleted_open.push(DeletedOpen { pid, path, bytes: m.size_bytes });
                }
            }
        }
    }
    found.deleted_open.sort_by(|a, b| (&a.path, a.pid).cmp(&(&b.path, b.pid)));
    found
}
