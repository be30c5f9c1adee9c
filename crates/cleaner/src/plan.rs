//! The pure middle of a run: given the scanned files, the policies, the filesystems' usage and
//! the time, decides what to delete, compress or report as held, each with its reason. No I/O;
//! tested exhaustively in `plan_tests.rs`.
//!
//! Rules, in order (age before pressure, as Part B.5 of the reference study recommends):
//! 1. A policy's `active` files are never acted on; they are not even counted.
//! 2. Per policy, files are ranked newest first (mtime, then path: a later name is newer). The
//!    first `keep_newest` are protected from every rule, disk pressure included.
//! 3. `max_age`, then `max_files`, then `max_total_size` (running total, newest first) mark
//!    files for deletion.
//! 4. Disk watermarks: on a filesystem at or above `high_watermark`, further files go (lowest
//!    `priority` first, then oldest, then path) until the planned frees bring it to
//!    `low_watermark`.
//! 5. Survivors of a compressing policy that are not yet compressed are compressed.
//! 6. Active files of a rotating policy larger than `rotate.max_size` are rotated.
//!
//! A file a process holds open is never deleted or compressed: the plan says `held` instead.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use obwatch_common::config::Percent;

use crate::config::{Compression, Policy, Watermarks};
use crate::meta::Meta;

/// A scanned regular file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileInfo {
    /// Index of the owning policy.
    pub policy: u32,
    /// Index of its directory (a path table the caller keeps).
    pub dir: u32,
    /// File name within the directory.
    pub name: OsString,
    /// What `lstat` said at scan time: device and inode (for watermarks and the re-check
    /// before acting), sizes, mtime, links (deleting one of several frees nothing).
    pub meta: Meta,
    /// Matches an `active` glob: never touched.
    pub active: bool,
    /// A process holding it open, if any.
    pub held_by: Option<u32>,
}

/// Usage of one filesystem, as df(1) computes Use%: used / (used + available to users).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FsUsage {
    /// used + available.
    pub size_bytes: u64,
    /// Used bytes.
    pub used_bytes: u64,
}

impl FsUsage {
    /// Percent used (0 for an empty filesystem).
    pub fn used_percent(self) -> f64 {
        if self.size_bytes == 0 {
            0.0
        } else {
            self.used_bytes as f64 * 100.0 / self.size_bytes as f64
        }
    }
}

/// Where the plan learns how full each filesystem is (a `HashMap` in production and tests).
pub trait UsageSource {
    /// Usage of the filesystem with this device number, if known.
    fn usage(&self, dev: u64) -> Option<FsUsage>;
}

impl UsageSource for HashMap<u64, FsUsage> {
    fn usage(&self, dev: u64) -> Option<FsUsage> {
        self.get(&dev).copied()
    }
}

/// What to do with a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ActionKind {
    /// Unlink it.
    Delete,
    /// Report only: a rule wanted it but a process holds it open.
    Held,
    /// Compress to `name.gz` or `name.zst` and unlink the original.
    Compress,
    /// Rotate an active file that grew past `rotate.max_size`.
    Rotate,
}

impl ActionKind {
    /// The `action` field of the JSON output and the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Delete => "delete",
            ActionKind::Held => "held",
            ActionKind::Compress => "compress",
            ActionKind::Rotate => "rotate",
        }
    }
}

/// Why an action was planned.
#[derive(Clone, Debug, PartialEq)]
pub enum Reason {
    /// Older than the policy's `max_age`.
    MaxAge {
        /// The policy's limit.
        max_age: Duration,
        /// The file's age at the scan.
        age: Duration,
    },
    /// Beyond the newest `max_files`.
    MaxFiles {
        /// The policy's limit.
        max_files: usize,
    },
    /// The policy's newer files already fill `max_total_size`.
    MaxTotalSize {
        /// The policy's limit.
        max_total_size_bytes: u64,
    },
    /// The filesystem was at or above the high watermark.
    Watermark {
        /// Usage at the scan.
        used_percent: f64,
        /// Purging starts here.
        high: Percent,
        /// ... and stops here.
        low: Percent,
    },
    /// The policy compresses what it keeps.
    Compress(Compression),
    /// An active file grew past `rotate.max_size`.
    MaxSize {
        /// The policy's limit.
        max_size_bytes: u64,
        /// The file's size at the scan.
        size_bytes: u64,
        /// Copy and truncate rather than rename.
        copytruncate: bool,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::MaxAge { max_age, age } => {
                write!(f, "age {} over max_age {}", human_duration(*age), human_duration(*max_age))
            }
            Reason::MaxFiles { max_files } => write!(f, "beyond the newest max_files {max_files}"),
            Reason::MaxTotalSize { max_total_size_bytes } => {
                write!(f, "newer files fill max_total_size {}", human_bytes(*max_total_size_bytes))
            }
            Reason::Watermark { used_percent, high, low } => write!(
                f,
                "filesystem {used_percent:.1}% used, at or above high_watermark {high}; purging to {low}"
            ),
            Reason::Compress(c) => write!(f, "compress ({c:?})"),
            Reason::MaxSize { max_size_bytes, size_bytes, copytruncate } => write!(
                f,
                "size {} over rotate.max_size {}{}",
                human_bytes(*size_bytes),
                human_bytes(*max_size_bytes),
                if *copytruncate { "; copytruncate" } else { "" }
            ),
        }
    }
}

/// Why a file was left alone (for `once -v`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kept {
    /// Among the policy's newest `keep_newest`.
    Newest {
        /// The policy's `keep_newest`.
        keep_newest: usize,
    },
    /// Within `max_age`, `max_files` and `max_total_size`.
    WithinLimits,
    /// Matches an `active` glob.
    Active,
}

impl fmt::Display for Kept {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kept::Newest { keep_newest } => write!(f, "among the newest keep_newest {keep_newest}"),
            Kept::WithinLimits => {
                f.write_str("within the policy's max_age, max_files and max_total_size")
            }
            Kept::Active => {
                f.write_str("active (never deleted; rotated only past rotate.max_size)")
            }
        }
    }
}

/// One planned action.
#[derive(Clone, Debug, PartialEq)]
pub struct Action {
    /// Delete, held or compress.
    pub kind: ActionKind,
    /// Index into the scanned files.
    pub file: usize,
    /// Why.
    pub reason: Reason,
}

/// A filesystem that was at or above its high watermark.
#[derive(Clone, Debug, PartialEq)]
pub struct Pressure {
    /// Device.
    pub dev: u64,
    /// Usage before the run.
    pub usage: FsUsage,
    /// Bytes to free to reach the low watermark.
    pub needed_bytes: u64,
    /// Bytes the planned deletions free on it (all rules).
    pub planned_bytes: u64,
}

/// The decisions of one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    /// Sorted by directory path, name and kind.
    pub actions: Vec<Action>,
    /// Filesystems above their high watermark; `planned_bytes < needed_bytes` means the
    /// eligible files were not enough.
    pub pressure: Vec<Pressure>,
    /// The files no action touches, with why, in scan order.
    pub kept: Vec<(usize, Kept)>,
}

/// Decides. `dirs[f.dir]` is the directory path of file `f`; `now_ns` is nanoseconds since the
/// epoch.
pub fn plan(
    files: &[FileInfo],
    dirs: &[&Path],
    policies: &[Policy],
    disk: Option<Watermarks>,
    usage: &dyn UsageSource,
    now_ns: i64,
) -> Plan {
    let newer = |a: usize, b: usize| newest_first(files, dirs, a, b);
    let mut by_policy: Vec<Vec<usize>> = vec![Vec::new(); policies.len()];
    for (i, f) in files.iter().enumerate() {
        if !f.active && (f.policy as usize) < policies.len() {
            by_policy[f.policy as usize].push(i);
        }
    }
    // Active files rotated this run become the policy's newest rotated files: they count
    // toward `keep_newest`, `max_files` and `max_total_size` now, as logrotate's `rotate N`
    // counts the file it is rotating (else one file too many survives each rotation).
    let mut rotating: Vec<(usize, u64)> = vec![(0, 0); policies.len()];
    for f in files.iter().filter(|f| f.active) {
        let p = f.policy as usize;
        if policies
            .get(p)
            .and_then(|p| p.rotate.as_ref())
            .is_some_and(|r| f.meta.size_bytes > r.max_size_bytes)
        {
            rotating[p].0 += 1;
            rotating[p].1 = rotating[p].1.saturating_add(f.meta.size_bytes);
        }
    }
    let mut doomed: HashMap<usize, Reason> = HashMap::new();
    let mut protected = vec![false; files.len()];
    let mut kept: Vec<Option<Kept>> =
        files.iter().map(|f| f.active.then_some(Kept::Active)).collect();
    for (p, policy) in policies.iter().enumerate() {
        let idx = &mut by_policy[p];
        idx.sort_by(|&a, &b| newer(a, b));
        let (offset, mut total) = rotating[p];
        for (rank, &i) in idx.iter().enumerate() {
            let rank = rank + offset;
            let f = &files[i];
            let age = Duration::from_nanos(
                u64::try_from(now_ns.saturating_sub(f.meta.mtime_ns)).unwrap_or(0),
            );
            kept[i] = Some(Kept::WithinLimits);
            let reason = if rank < policy.keep_newest {
                protected[i] = true;
                kept[i] = Some(Kept::Newest { keep_newest: policy.keep_newest });
                None
            } else if let Some(max_age) = policy.max_age.filter(|m| age > *m) {
                Some(Reason::MaxAge { max_age, age })
            } else if let Some(max_files) = policy.max_files.filter(|m| rank >= *m) {
                Some(Reason::MaxFiles { max_files })
            } else {
                policy
                    .max_total_size_bytes
                    .filter(|l| total.saturating_add(f.meta.size_bytes) > *l)
                    .map(|limit| Reason::MaxTotalSize { max_total_size_bytes: limit })
            };
            // What stays counts toward the total: kept files, and held ones (they can't go).
            if reason.is_none() || f.held_by.is_some() {
                total = total.saturating_add(f.meta.size_bytes);
            }
            if let Some(r) = reason {
                doomed.insert(i, r);
            }
        }
    }
    let pressure = disk.map_or_else(Vec::new, |wm| {
        watermarks(files, dirs, policies, wm, usage, &protected, &by_policy, &mut doomed)
    });
    let mut actions: Vec<Action> = doomed
        .into_iter()
        .map(|(file, reason)| {
            let kind =
                if files[file].held_by.is_some() { ActionKind::Held } else { ActionKind::Delete };
            Action { kind, file, reason }
        })
        .collect();
    let planned: std::collections::HashSet<usize> = actions.iter().map(|a| a.file).collect();
    for (p, policy) in policies.iter().enumerate() {
        let Some(c) = policy.compress else { continue };
        for &i in &by_policy[p] {
            let f = &files[i];
            if planned.contains(&i)
                || is_compressed(&f.name)
                || f.meta.size_bytes == 0
                || f.meta.nlink > 1
            {
                continue;
            }
            let kind = if f.held_by.is_some() { ActionKind::Held } else { ActionKind::Compress };
            actions.push(Action { kind, file: i, reason: Reason::Compress(c) });
        }
    }
    // Active files past their policy's size are rotated (held or not: they are being
    // written, that is why they are active).
    for (i, f) in files.iter().enumerate() {
        let Some(r) = policies.get(f.policy as usize).and_then(|p| p.rotate.as_ref()) else {
            continue;
        };
        if f.active && f.meta.size_bytes > r.max_size_bytes {
            let reason = Reason::MaxSize {
                max_size_bytes: r.max_size_bytes,
                size_bytes: f.meta.size_bytes,
                copytruncate: r.copytruncate,
            };
            actions.push(Action { kind: ActionKind::Rotate, file: i, reason });
        }
    }
    actions.sort_by(|a, b| {
        let (fa, fb) = (&files[a.file], &files[b.file]);
        (dirs[fa.dir as usize], &fa.name, a.kind).cmp(&(dirs[fb.dir as usize], &fb.name, b.kind))
    });
    let touched: std::collections::HashSet<usize> = actions.iter().map(|a| a.file).collect();
    let kept = kept
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !touched.contains(i))
        .filter_map(|(i, k)| k.map(|k| (i, k)))
        .collect();
    Plan { actions, pressure, kept }
}

#[allow(clippy::too_many_arguments)]
fn watermarks(
    files: &[FileInfo],
    dirs: &[&Path],
    policies: &[Policy],
    wm: Watermarks,
    usage: &dyn UsageSource,
    protected: &[bool],
    by_policy: &[Vec<usize>],
    doomed: &mut HashMap<usize, Reason>,
) -> Vec<Pressure> {
    let frees =
        |f: &FileInfo| if f.meta.nlink <= 1 && f.held_by.is_none() { f.meta.disk_bytes } else { 0 };
    let mut devs: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for idx in by_policy {
        for &i in idx {
            devs.entry(files[i].meta.dev).or_default().push(i);
        }
    }
    let mut out = Vec::new();
    for (dev, mut idx) in devs {
        let Some(u) = usage.usage(dev) else { continue };
        let used_percent = u.used_percent();
        if used_percent < wm.high.value() {
            continue;
        }
        let target = (u.size_bytes as f64 * wm.low.ratio()) as u64;
        let needed_bytes = u.used_bytes.saturating_sub(target);
        let mut planned: u64 =
            idx.iter().filter(|i| doomed.contains_key(i)).map(|&i| frees(&files[i])).sum();
        idx.retain(|&i| !protected[i] && !doomed.contains_key(&i) && files[i].meta.nlink <= 1);
        idx.sort_by(|&a, &b| {
            let (fa, fb) = (&files[a], &files[b]);
            policies[fa.policy as usize]
                .priority
                .cmp(&policies[fb.policy as usize].priority)
                .then_with(|| newest_first(files, dirs, b, a))
        });
        for i in idx {
            if planned >= needed_bytes {
                break;
            }
            planned += frees(&files[i]);
            doomed.insert(i, Reason::Watermark { used_percent, high: wm.high, low: wm.low });
        }
        out.push(Pressure { dev, usage: u, needed_bytes, planned_bytes: planned });
    }
    out
}

/// Newest first: later mtime first; equal mtimes are ordered by path, greater first (OceanBase's
/// timestamped names sort newer higher), so the order never depends on readdir's.
fn newest_first(files: &[FileInfo], dirs: &[&Path], a: usize, b: usize) -> Ordering {
    let (fa, fb) = (&files[a], &files[b]);
    fb.meta
        .mtime_ns
        .cmp(&fa.meta.mtime_ns)
        .then_with(|| (dirs[fb.dir as usize], &fb.name).cmp(&(dirs[fa.dir as usize], &fa.name)))
}

/// Already compressed by us or by the writer (OceanBase 4.3 zstd-compresses rotated syslogs).
pub fn is_compressed(name: &std::ffi::OsStr) -> bool {
    let n = name.as_encoded_bytes();
    [".gz", ".zst", ".xz", ".bz2", ".lz4", ".zip"].iter().any(|e| n.ends_with(e.as_bytes()))
}

/// `9d4h`, `3h20m`, `45s`.
pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    let (days, h, m) = (s / 86400, s % 86400 / 3600, s % 3600 / 60);
    match (days, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, m) => format!("{m}m{}s", s % 60),
        (0, h, m) => format!("{h}h{m}m"),
        (d, h, _) => format!("{d}d{h}h"),
    }
}

/// `20GiB`, `1.5MiB`, `512B`.
pub fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if v.fract() == 0.0 { format!("{v}{}", UNITS[u]) } else { format!("{v:.1}{}", UNITS[u]) }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
