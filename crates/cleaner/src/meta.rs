//! What every step of a pass needs from the filesystem: the stat fields the cleaner uses
//! ([`Meta`]) and the two `*at` calls every access goes through, relative to a directory opened
//! earlier and never following a symlink. A leaf module: scan, procfd, apply and rotate use it.

use std::ffi::OsStr;
use std::os::fd::{AsFd, OwnedFd};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, Stat};
use rustix::io::Errno;

/// Stat fields the cleaner uses, in fixed-width types on every architecture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Meta {
    /// Device.
    pub dev: u64,
    /// Inode.
    pub ino: u64,
    /// Apparent size.
    pub size_bytes: u64,
    /// Allocated size (what deleting frees).
    pub disk_bytes: u64,
    /// Modification time, nanoseconds since the epoch.
    pub mtime_ns: i64,
    /// Hard links.
    pub nlink: u64,
    /// Permission bits.
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Regular file, directory, link, ...
    pub kind: FileType,
}

impl Meta {
    /// Converts a `stat`. The field types differ between architectures (x86_64's `nlink` is
    /// a `c_ulong`, aarch64's a `u32`), hence conversions that are no-ops on some.
    #[allow(clippy::useless_conversion)]
    pub fn from_stat(st: &Stat) -> Meta {
        let mtime_ns = i64::from(st.st_mtime)
            .saturating_mul(1_000_000_000)
            .saturating_add(i64::try_from(st.st_mtime_nsec).unwrap_or(0));
        Meta {
            dev: u64::from(st.st_dev),
            ino: u64::from(st.st_ino),
            size_bytes: u64::try_from(st.st_size).unwrap_or(0),
            disk_bytes: u64::try_from(st.st_blocks).unwrap_or(0).saturating_mul(512),
            mtime_ns,
            nlink: u64::from(st.st_nlink),
            mode: st.st_mode & 0o7777,
            uid: st.st_uid,
            gid: st.st_gid,
            kind: FileType::from_raw_mode(st.st_mode),
        }
    }
}

/// `lstat` of `name` in `dir`.
pub fn stat_at(dir: impl AsFd, name: &OsStr) -> Result<Meta, Errno> {
    rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW).map(|s| Meta::from_stat(&s))
}

/// Opens the directory `name` in `dir` without following a symlink.
pub fn open_dir_at(dir: impl AsFd, name: impl rustix::path::Arg) -> Result<OwnedFd, Errno> {
    rustix::fs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
}
