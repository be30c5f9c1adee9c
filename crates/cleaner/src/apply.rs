//! The effects of a plan: unlink and compress through directory handles. Each directory is
//! reached from its root's handle one component at a time with `O_NOFOLLOW`, and must still be
//! the directory the scan saw (device and inode). Each file is `lstat`ed right before it is
//! touched and must still be the same regular file with the same size and mtime; otherwise it
//! is skipped. Nothing here follows a symlink or resolves a path from `/`.
//!
//! One window remains, inherent to POSIX: between the final `fstatat` and `unlinkat` another
//! process could replace the name inside the same directory. The directory is still ours, so
//! nothing outside the roots can be reached through it.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;

use flate2::Compression as Level;
use flate2::write::GzEncoder;
use rustix::fs::{AtFlags, FileType, Mode, OFlags, RenameFlags, Timestamps};
use rustix::io::Errno;

use crate::config::{Compression, Policy};
use crate::meta::{Meta, open_dir_at, stat_at};
use crate::outcome::Outcome;
use crate::plan::{ActionKind, FileInfo, Plan};
use crate::scan::Scan;

impl Outcome {
    /// The `result` field of the audit log and the JSON output.
    pub fn describe(&self) -> String {
        match self {
            Outcome::Done { .. } => "done".into(),
            Outcome::Held => "held".into(),
            Outcome::Skipped(why) => format!("skipped: {why}"),
            Outcome::Failed(why) => format!("failed: {why}"),
            Outcome::Rotated { to } => format!("done: rotated to {}", to.to_string_lossy()),
            Outcome::RotatedPostrotateFailed { to, error } => {
                format!(
                    "failed: rotated to {}, but postrotate failed: {error}",
                    to.to_string_lossy()
                )
            }
        }
    }
}

/// Performs the plan's actions in order, calling `record` after each with its outcome.
/// `before` is called first for every action that changes a file; when it fails (the audit
/// log cannot be written), the action is not taken and fails with that reason.
pub fn apply(
    scan: &Scan,
    plan: &Plan,
    policies: &[Policy],
    mut before: impl FnMut(usize) -> Result<(), String>,
    mut record: impl FnMut(usize, &Outcome),
) {
    // One suffix per run, in local time as OBServer names its own rotated logs.
    let stamp = jiff::Zoned::now().strftime("%Y%m%d%H%M%S").to_string();
    let mut current: Option<(u32, Result<OwnedFd, String>)> = None;
    for (n, action) in plan.actions.iter().enumerate() {
        let f = &scan.files[action.file];
        let outcome = if action.kind == ActionKind::Held {
            Outcome::Held
        } else if let Err(why) = before(n) {
            Outcome::Failed(format!("not done: {why}"))
        } else {
            if current.as_ref().is_none_or(|(d, _)| *d != f.dir) {
                current = Some((f.dir, open_dir(scan, f.dir as usize)));
            }
            match current.as_ref().map(|(_, fd)| fd) {
                Some(Ok(dir)) => match action.kind {
                    ActionKind::Delete => delete(dir, f),
                    ActionKind::Rotate => {
                        match policies.get(f.policy as usize).and_then(|p| p.rotate.as_ref()) {
                            Some(r) => crate::rotate::rotate(dir, f, r, &stamp),
                            None => {
                                Outcome::Failed("internal: rotation without a rotate policy".into())
                            }
                        }
                    }
                    _ => {
                        let c = policies.get(f.policy as usize).and_then(|p| p.compress);
                        compress(dir, f, c.unwrap_or(Compression::Gzip), &mut || Ok(()))
                    }
                },
                Some(Err(why)) => Outcome::Skipped(why.clone()),
                None => Outcome::Failed("internal: no directory".into()),
            }
        };
        record(n, &outcome);
    }
}

/// Opens directory `d` of the scan from its root, component by component, never following a
/// symlink, and checks it is still the directory that was scanned.
pub fn open_dir(scan: &Scan, d: usize) -> Result<OwnedFd, String> {
    let info = &scan.dirs[d];
    let root = &scan.roots[info.root];
    let mut fd = open_dir_at(&root.fd, ".").map_err(|e| format!("{}: {e}", root.path.display()))?;
    for c in info.rel.components() {
        fd = open_dir_at(&fd, c.as_os_str()).map_err(|e| match e {
            Errno::LOOP | Errno::NOTDIR => {
                format!(
                    "{}: replaced by a non-directory or symlink since the scan",
                    info.path.display()
                )
            }
            e => format!("{}: {e}", info.path.display()),
        })?;
    }
    let st = rustix::fs::fstat(&fd).map(|s| Meta::from_stat(&s)).map_err(|e| e.to_string())?;
    if (st.dev, st.ino) != (info.dev, info.ino) {
        return Err(format!("{}: directory replaced since the scan", info.path.display()));
    }
    Ok(fd)
}

/// Why `m` is not the file the scan saw, if it is not.
fn changed(f: &FileInfo, m: &Meta) -> Option<&'static str> {
    if m.kind != FileType::RegularFile {
        Some("no longer a regular file")
    } else if (m.dev, m.ino) != (f.meta.dev, f.meta.ino) {
        Some("replaced since the scan")
    } else if (m.size_bytes, m.mtime_ns) != (f.meta.size_bytes, f.meta.mtime_ns) {
        Some("modified since the scan")
    } else {
        None
    }
}

fn fail(e: Errno) -> Outcome {
    match e {
        Errno::NOENT => Outcome::Skipped("vanished since the scan".into()),
        e => Outcome::Failed(io::Error::from(e).to_string()),
    }
}

fn delete(dir: &OwnedFd, f: &FileInfo) -> Outcome {
    let m = match stat_at(dir, &f.name) {
        Ok(m) => m,
        Err(e) => return fail(e),
    };
    if let Some(why) = changed(f, &m) {
        return Outcome::Skipped(why.into());
    }
    match rustix::fs::unlinkat(dir, f.name.as_os_str(), AtFlags::empty()) {
        Ok(()) if m.nlink <= 1 => {
            Outcome::Done { freed_bytes: m.size_bytes, freed_disk_bytes: m.disk_bytes }
        }
        Ok(()) => Outcome::Done { freed_bytes: 0, freed_disk_bytes: 0 },
        Err(e) => fail(e),
    }
}

/// Name of the archive of `name`, and of the temp file it is written to.
fn archive_names(name: &OsStr, c: Compression) -> (OsString, OsString) {
    let mut gz = name.to_os_string();
    gz.push(c.suffix());
    let mut tmp = OsString::from(".");
    tmp.push(&gz);
    tmp.push(".obwatch-tmp");
    (gz, tmp)
}

/// Compresses `f` to `name.gz` (or `.zst`) beside it: writes a hidden temp file, fsyncs it, gives it the
/// original's mtime, mode and owner, checks the original did not change meanwhile, renames
/// the archive into place (never over an existing file) and unlinks the original. On any
/// failure the temp file is removed and the original kept. `hook` runs after the archive is
/// written and before the re-check (tests use it to append or to fail).
pub fn compress(
    dir: &OwnedFd,
    f: &FileInfo,
    c: Compression,
    hook: &mut dyn FnMut() -> io::Result<()>,
) -> Outcome {
    let src = match rustix::fs::openat(
        dir,
        f.name.as_os_str(),
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(Errno::LOOP) => return Outcome::Skipped("replaced by a symlink since the scan".into()),
        Err(e) => return fail(e),
    };
    let before = match rustix::fs::fstat(&src) {
        Ok(s) => Meta::from_stat(&s),
        Err(e) => return fail(e),
    };
    if let Some(why) = changed(f, &before) {
        return Outcome::Skipped(why.into());
    }
    let (gz, tmp) = archive_names(&f.name, c);
    match stat_at(dir, &gz) {
        Err(Errno::NOENT) => {}
        Ok(_) => return Outcome::Failed(format!("{} already exists", gz.to_string_lossy())),
        Err(e) => return fail(e),
    }
    let out = match rustix::fs::openat(
        dir,
        tmp.as_os_str(),
        OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_raw_mode(before.mode & 0o666),
    ) {
        Ok(fd) => fd,
        Err(e) => return fail(e),
    };
    let written = write_archive(src, out, &before, c).and_then(|archive| {
        hook()?;
        Ok(archive)
    });
    let result = written.map_err(|e| e.to_string()).and_then(|archive| {
        // The writer appended or rewrote it meanwhile: keep the original, drop the archive.
        let now = stat_at(dir, &f.name).map_err(|e| io::Error::from(e).to_string())?;
        if let Some(why) = changed(f, &now) {
            return Err(format!("skip:{why} while compressing"));
        }
        rustix::fs::renameat_with(
            dir,
            tmp.as_os_str(),
            dir,
            gz.as_os_str(),
            RenameFlags::NOREPLACE,
        )
        .map_err(|e| io::Error::from(e).to_string())?;
        Ok(archive)
    });
    let archive = match result {
        Ok(a) => a,
        Err(why) => {
            let _ = rustix::fs::unlinkat(dir, tmp.as_os_str(), AtFlags::empty());
            return match why.strip_prefix("skip:") {
                Some(w) => Outcome::Skipped(w.to_string()),
                None => Outcome::Failed(why),
            };
        }
    };
    // Make the archive durable under its final name before the original goes.
    let _ = rustix::fs::fsync(dir);
    if let Err(e) = rustix::fs::unlinkat(dir, f.name.as_os_str(), AtFlags::empty()) {
        return fail(e);
    }
    Outcome::Done {
        freed_bytes: before.size_bytes.saturating_sub(archive.size_bytes),
        freed_disk_bytes: before.disk_bytes.saturating_sub(archive.disk_bytes),
    }
}

/// Streams `src` through gzip or zstd into `out`, fsyncs, copies mtime/owner; returns the
/// archive's metadata.
fn write_archive(src: OwnedFd, out: OwnedFd, before: &Meta, c: Compression) -> io::Result<Meta> {
    let mut input = File::from(src);
    let buffered = io::BufWriter::with_capacity(1 << 16, File::from(out));
    let buffered = match c {
        Compression::Gzip => {
            let mut enc = GzEncoder::new(buffered, Level::new(6));
            io::copy(&mut input, &mut enc)?;
            enc.finish()?
        }
        Compression::Zstd => {
            let mut enc = zstd::stream::Encoder::new(buffered, zstd::DEFAULT_COMPRESSION_LEVEL)?;
            io::copy(&mut input, &mut enc)?;
            enc.finish()?
        }
    };
    let file = buffered.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    // Keep the original's mtime: age rules must see the archive as old as its content.
    let mtime = rustix::fs::Timespec {
        tv_sec: before.mtime_ns.div_euclid(1_000_000_000),
        tv_nsec: before.mtime_ns.rem_euclid(1_000_000_000) as _,
    };
    rustix::fs::futimens(&file, &Timestamps { last_access: mtime, last_modification: mtime })?;
    // Owner: only root may give files away; as another user the archive is simply ours.
    let _ = rustix::fs::fchown(
        &file,
        Some(rustix::fs::Uid::from_raw(before.uid)),
        Some(rustix::fs::Gid::from_raw(before.gid)),
    );
    Ok(Meta::from_stat(&rustix::fs::fstat(&file)?))
}

/// Tests that need the apply internals: compression races and failures.
#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use super::*;

    fn setup(content: &[u8]) -> (tempfile::TempDir, OwnedFd, FileInfo) {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("app.log.1"), content).unwrap();
        let dir = open_dir_at(rustix::fs::CWD, d.path()).unwrap();
        let m = stat_at(&dir, OsStr::new("app.log.1")).unwrap();
        let f = FileInfo::from_meta(0, 0, OsStr::new("app.log.1"), &m);
        (d, dir, f)
    }

    fn listing(d: &tempfile::TempDir) -> Vec<String> {
        let mut v: Vec<_> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn compress_roundtrips_and_keeps_mtime() {
        let content = b"line one\n".repeat(10_000);
        let (d, dir, f) = setup(&content);
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000);
        File::options()
            .write(true)
            .open(d.path().join("app.log.1"))
            .unwrap()
            .set_modified(old)
            .unwrap();
        let f = FileInfo { meta: Meta { mtime_ns: 1_600_000_000 * 1_000_000_000, ..f.meta }, ..f };
        let out = compress(&dir, &f, Compression::Gzip, &mut || Ok(()));
        assert!(matches!(out, Outcome::Done { .. }), "{out:?}");
        assert_eq!(listing(&d), ["app.log.1.gz"]);
        let gz = File::open(d.path().join("app.log.1.gz")).unwrap();
        assert_eq!(gz.metadata().unwrap().modified().unwrap(), old);
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(gz).read_to_end(&mut back).unwrap();
        assert_eq!(back, content);
    }

    #[test]
    fn zstd_roundtrips_with_its_decoder() {
        let content = b"2026-11-23 12:00:00.000 [INFO] a routine line\n".repeat(5_000);
        let (d, dir, f) = setup(&content);
        let out = compress(&dir, &f, Compression::Zstd, &mut || Ok(()));
        assert!(matches!(out, Outcome::Done { .. }), "{out:?}");
        assert_eq!(listing(&d), ["app.log.1.zst"]);
        let z = std::fs::read(d.path().join("app.log.1.zst")).unwrap();
        assert!(z.len() * 20 < content.len(), "{} bytes from {}", z.len(), content.len());
        assert_eq!(zstd::stream::decode_all(&z[..]).unwrap(), content);
    }

    #[test]
    fn append_during_compression_keeps_the_original_and_loses_nothing() {
        let (d, dir, f) = setup(b"first\n");
        let path = d.path().join("app.log.1");
        let mut hook = || {
            let mut w = File::options().append(true).open(&path)?;
            w.write_all(b"late line\n")
        };
        let out = compress(&dir, &f, Compression::Gzip, &mut hook);
        assert_eq!(out, Outcome::Skipped("modified since the scan while compressing".into()));
        assert_eq!(listing(&d), ["app.log.1"], "no archive, no temp file left");
        assert_eq!(std::fs::read(&path).unwrap(), b"first\nlate line\n");
    }

    #[test]
    fn failure_while_compressing_removes_the_partial_archive() {
        let (d, dir, f) = setup(b"data\n");
        let out =
            compress(&dir, &f, Compression::Gzip, &mut || Err(io::Error::from_raw_os_error(28)));
        match out {
            Outcome::Failed(why) => assert!(why.contains("No space left"), "{why}"),
            o => panic!("{o:?}"),
        }
        assert_eq!(listing(&d), ["app.log.1"]);
        assert_eq!(std::fs::read(d.path().join("app.log.1")).unwrap(), b"data\n");
    }

    #[test]
    fn existing_archive_is_never_overwritten() {
        let (d, dir, f) = setup(b"data\n");
        std::fs::write(d.path().join("app.log.1.gz"), b"precious").unwrap();
        assert!(
            matches!(compress(&dir, &f, Compression::Gzip, &mut || Ok(())), Outcome::Failed(w) if w.contains("already exists"))
        );
        assert_eq!(std::fs::read(d.path().join("app.log.1.gz")).unwrap(), b"precious");
        assert_eq!(listing(&d), ["app.log.1", "app.log.1.gz"]);
    }

    #[test]
    fn delete_skips_a_replaced_or_modified_file() {
        let (d, dir, f) = setup(b"data\n");
        std::fs::write(d.path().join("app.log.1"), b"data, and more\n").unwrap();
        assert_eq!(delete(&dir, &f), Outcome::Skipped("modified since the scan".into()));
        std::fs::remove_file(d.path().join("app.log.1")).unwrap();
        std::os::unix::fs::symlink("/etc/hostname", d.path().join("app.log.1")).unwrap();
        assert_eq!(delete(&dir, &f), Outcome::Skipped("no longer a regular file".into()));
        std::fs::remove_file(d.path().join("app.log.1")).unwrap();
        assert_eq!(delete(&dir, &f), Outcome::Skipped("vanished since the scan".into()));
    }
}
