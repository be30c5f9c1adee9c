//! The I/O half of a run before any decision: opens each policy root once (no symlink), walks
//! below it with `openat` relative to directory handles, never following a link or crossing
//! into another filesystem, and records each matching regular file with its identity, size and
//! mtime. Then scans `/proc/*/fd` for files held open (and deleted-but-open files under the
//! roots), and reads the usage of each filesystem involved.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{CWD, Dir, FileType};
use rustix::io::Errno;

use crate::config::Policy;
use crate::meta::{Meta, open_dir_at, stat_at};
use crate::pattern::{Part, matches};
use crate::plan::{FileInfo, FsUsage};
use crate::procfd::{self, DeletedOpen};

/// Directories deeper than this below a root are not walked (a loop guard; bind mounts can't
/// create loops here because the walk stays on one filesystem, but a deep tree can).
const MAX_DEPTH: usize = 64;

/// An opened policy root.
#[derive(Debug)]
pub struct Root {
    /// As configured (the literal prefix of a glob).
    pub path: PathBuf,
    /// Opened once with `O_DIRECTORY | O_NOFOLLOW`; every later access is relative to it.
    pub fd: OwnedFd,
    /// Its filesystem; the walk never leaves it.
    pub dev: u64,
}

/// A directory below a root that holds matched files.
#[derive(Clone, Debug)]
pub struct DirInfo {
    /// Index into [`Scan::roots`].
    pub root: usize,
    /// Path relative to the root (empty for the root itself); re-walked component by component.
    pub rel: PathBuf,
    /// `root.path/rel`, for messages and ordering.
    pub path: PathBuf,
    /// Identity at scan time, re-checked before acting inside it.
    pub dev: u64,
    /// Identity at scan time.
    pub ino: u64,
}

/// Everything a plan needs, plus the handles `apply` acts through.
#[derive(Debug, Default)]
pub struct Scan {
    /// Opened roots.
    pub roots: Vec<Root>,
    /// Directories holding matched files.
    pub dirs: Vec<DirInfo>,
    /// Matched regular files.
    pub files: Vec<FileInfo>,
    /// Deleted-but-open files under the roots.
    pub deleted_open: Vec<DeletedOpen>,
    /// Usage of each filesystem (by device) holding a root.
    pub usage: HashMap<u64, FsUsage>,
    /// Non-fatal problems (a root that can't be opened, a directory without permission).
    pub errors: Vec<String>,
    /// Roots that do not exist (not an error: the software may not be installed).
    pub missing_roots: Vec<PathBuf>,
    /// Processes whose open files could not be read (permission); held checks are incomplete.
    pub uninspected_pids: usize,
}

impl FileInfo {
    /// The scanned file `name` of policy `policy` in directory `dir`, as `lstat` saw it (not
    /// active, not held: those are learned later).
    pub fn from_meta(policy: u32, dir: u32, name: &OsStr, m: &Meta) -> FileInfo {
        FileInfo { policy, dir, name: name.into(), meta: *m, active: false, held_by: None }
    }
}

/// Walk state: (policy, glob, component) triples still alive in a directory.
type States = Vec<(usize, usize, usize)>;

/// Walks every policy's globs and inspects `procfs` for open files.
pub fn scan(policies: &[Policy], procfs: &Path) -> Scan {
    let mut scan = Scan::default();
    // Globs sharing a root are walked together, so each directory is read once.
    let mut by_root: Vec<(PathBuf, States)> = Vec::new();
    for (p, policy) in policies.iter().enumerate() {
        for (g, glob) in policy.globs.iter().enumerate() {
            match by_root.iter_mut().find(|(r, _)| *r == glob.root) {
                Some((_, states)) => states.push((p, g, 0)),
                None => by_root.push((glob.root.clone(), vec![(p, g, 0)])),
            }
        }
    }
    let mut seen: HashMap<(u64, u64), usize> = HashMap::new();
    for (root_path, states) in by_root {
        let fd = match open_dir_at(CWD, &root_path) {
            Ok(fd) => fd,
            Err(Errno::NOENT) => {
                scan.missing_roots.push(root_path);
                continue;
            }
            Err(Errno::LOOP | Errno::NOTDIR) => {
                scan.errors.push(format!(
                    "{}: not a directory or a symlink (symlinks are never followed; configure \
                     the real directory)",
                    root_path.display()
                ));
                continue;
            }
            Err(e) => {
                scan.errors.push(format!("{}: cannot open: {e}", root_path.display()));
                continue;
            }
        };
        let Ok(st) = rustix::fs::fstat(&fd).map(|s| Meta::from_stat(&s)) else { continue };
        if let Ok(vfs) = rustix::fs::fstatvfs(&fd) {
            let frsize = vfs.f_frsize;
            let used = vfs.f_blocks.saturating_sub(vfs.f_bfree).saturating_mul(frsize);
            let avail = vfs.f_bavail.saturating_mul(frsize);
            scan.usage.insert(st.dev, FsUsage { size_bytes: used + avail, used_bytes: used });
        }
        let root = scan.roots.len();
        scan.roots.push(Root { path: root_path.clone(), fd, dev: st.dev });
        let mut walk = Walk { policies, scan: &mut scan, seen: &mut seen, root, root_dev: st.dev };
        let fd = match rustix::io::dup(&walk.scan.roots[root].fd) {
            Ok(fd) => fd,
            Err(e) => {
                walk.scan.errors.push(format!("{}: {e}", root_path.display()));
                continue;
            }
        };
        walk.dir(fd, PathBuf::new(), &states, st, 0);
    }
    mark_active(policies, &mut scan);
    let roots: Vec<(u64, &Path)> = scan.roots.iter().map(|r| (r.dev, r.path.as_path())).collect();
    let found = procfd::inspect(procfs, &roots, &mut scan.files, &seen);
    scan.deleted_open = found.deleted_open;
    scan.uninspected_pids = found.uninspected_pids;
    scan.errors.extend(found.error);
    scan
}

struct Walk<'a> {
    policies: &'a [Policy],
    scan: &'a mut Scan,
    seen: &'a mut HashMap<(u64, u64), usize>,
    root: usize,
    root_dev: u64,
}

impl Walk<'_> {
    fn dir(
        &mut self,
        fd: OwnedFd,
        rel: PathBuf,
        states: &[(usize, usize, usize)],
        me: Meta,
        depth: usize,
    ) {
        let path = self.scan.roots[self.root].path.join(&rel);
        // `**` may match zero directories: add the states after it (epsilon closure).
        let mut here: States = Vec::with_capacity(states.len() * 2);
        for &s in states {
            push_closure(self.policies, &mut here, s);
        }
        let mut dir = match Dir::new(fd) {
            Ok(d) => d,
            Err(e) => {
                self.scan.errors.push(format!("{}: cannot read: {e}", path.display()));
                return;
            }
        };
        let mut subdirs: Vec<(OsString, States)> = Vec::new();
        let mut dir_index: Option<usize> = None;
        while let Some(entry) = dir.read() {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    self.scan.errors.push(format!("{}: cannot read: {e}", path.display()));
                    break;
                }
            };
            let name = entry.file_name().to_bytes();
            if name == b"." || name == b".." {
                continue;
            }
            let kind = entry.file_type();
            if kind == FileType::Symlink {
                continue; // never followed, never acted on
            }
            let (mut child, mut file_policy) = (States::new(), None);
            for &(p, g, c) in &here {
                let parts = &self.policies[p].globs[g].components;
                let last = c + 1 == parts.len();
                match &parts[c] {
                    Part::AnyDirs => {
                        if name.first() != Some(&b'.') {
                            child.push((p, g, c));
                        }
                    }
                    Part::Name(pat) => {
                        let compress = self.policies[p].compress.is_some();
                        if last && file_policy.is_none() && name_matches(pat, name, compress) {
                            file_policy = Some(p);
                        } else if !last && matches(pat, name) {
                            child.push((p, g, c + 1));
                        }
                    }
                }
            }
            let is_dir_candidate =
                !child.is_empty() && matches!(kind, FileType::Directory | FileType::Unknown);
            let is_file_candidate =
                file_policy.is_some() && matches!(kind, FileType::RegularFile | FileType::Unknown);
            if !is_dir_candidate && !is_file_candidate {
                continue;
            }
            let os_name = OsStr::from_bytes(name);
            let meta = match stat_at(dir.fd().expect("Dir always has its fd"), os_name) {
                Ok(m) => m,
                Err(Errno::NOENT) => continue, // vanished since readdir
                Err(e) => {
                    self.scan.errors.push(format!("{}: {e}", path.join(os_name).display()));
                    continue;
                }
            };
            if meta.kind == FileType::Directory && is_dir_candidate {
                if meta.dev == self.root_dev && depth < MAX_DEPTH {
                    subdirs.push((os_name.to_os_string(), child));
                }
            } else if meta.kind == FileType::RegularFile
                && let Some(policy) = file_policy
            {
                let d = *dir_index.get_or_insert_with(|| {
                    self.scan.dirs.push(DirInfo {
                        root: self.root,
                        rel: rel.clone(),
                        path: path.clone(),
                        dev: me.dev,
                        ino: me.ino,
                    });
                    self.scan.dirs.len() - 1
                });
                self.add_file(policy, d, os_name, meta);
            }
        }
        for (name, child) in subdirs {
            let Ok(fd) = dir.fd() else { continue };
            match open_dir_at(fd, name.as_os_str()) {
                Ok(sub) => {
                    let Ok(st) = rustix::fs::fstat(&sub).map(|s| Meta::from_stat(&s)) else {
                        continue;
                    };
                    if st.dev == self.root_dev {
                        self.dir(sub, rel.join(&name), &child, st, depth + 1);
                    }
                }
                // Swapped for a symlink or removed since readdir: not ours to follow.
                Err(Errno::LOOP | Errno::NOTDIR | Errno::NOENT) => {}
                Err(e) => self
                    .scan
                    .errors
                    .push(format!("{}: cannot open: {e}", path.join(&name).display())),
            }
        }
    }

    fn add_file(&mut self, policy: usize, dir: usize, name: &OsStr, m: Meta) {
        let info = FileInfo::from_meta(policy as u32, dir as u32, name, &m);
        match self.seen.get(&(m.dev, m.ino)) {
            // Reached twice (overlapping roots, hard links): the first policy in config order wins.
            Some(&i) => {
                if self.scan.files[i].policy > info.policy {
                    self.scan.files[i] = info;
                }
            }
            None => {
                self.seen.insert((m.dev, m.ino), self.scan.files.len());
                self.scan.files.push(info);
            }
        }
    }
}

fn push_closure(policies: &[Policy], out: &mut States, s: (usize, usize, usize)) {
    if out.contains(&s) {
        return;
    }
    out.push(s);
    let parts = &policies[s.0].globs[s.1].components;
    if parts[s.2] == Part::AnyDirs && s.2 + 1 < parts.len() {
        push_closure(policies, out, (s.0, s.1, s.2 + 1));
    }
}

/// A policy that compresses also owns the `.gz`/`.zst` archives it made.
fn name_matches(pattern: &str, name: &[u8], compress: bool) -> bool {
    matches(pattern, name)
        || (compress
            && [&b".gz"[..], b".zst"]
                .iter()
                .any(|s| name.strip_suffix(*s).is_some_and(|n| matches(pattern, n))))
}

/// Flags files matched by any policy's `active` globs.
fn mark_active(policies: &[Policy], scan: &mut Scan) {
    let active: Vec<_> = policies.iter().flat_map(|p| p.active.iter()).collect();
    if active.is_empty() {
        return;
    }
    for f in &mut scan.files {
        let path = scan.dirs[f.dir as usize].path.join(&f.name);
        f.active = active.iter().any(|g| g.matches_path(&path));
    }
}
