//! Rotation of an active file that grew past `rotate.max_size`, through the directory handle
//! the scan checked: rename to `NAME.YYYYMMDDHHMMSS` (the suffix OBServer gives its own rotated
//! logs, so the policy's `*.log.*` globs then purge and compress them), signal the writer named
//! by `pid_file` and run `postrotate`, or with `copytruncate` copy the file and truncate it in
//! place for writers that never reopen.
//!
//! copytruncate has logrotate's two known limits, documented in docs/cleaner.md: lines written
//! between the last copy and the truncation are lost (the copy is repeated until the size
//! stops growing, which narrows the window to microseconds), and a writer without `O_APPEND`
//! keeps writing at its old offset, leaving a sparse file.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::fd::OwnedFd;
use std::path::Path;

use rustix::fs::{FileType, Mode, OFlags, RenameFlags};
use rustix::io::Errno;

use crate::config::{ReopenSignal, Rotation};
use crate::meta::{Meta, stat_at};
use crate::outcome::Outcome;
use crate::plan::FileInfo;

/// How many times copytruncate copies what was appended meanwhile before it truncates.
const CATCH_UP_PASSES: usize = 5;

/// Rotates `f` in `dir` as `r` says; `stamp` is the suffix (local time, `%Y%m%d%H%M%S`).
pub fn rotate(dir: &OwnedFd, f: &FileInfo, r: &Rotation, stamp: &str) -> Outcome {
    let m = match stat_at(dir, &f.name) {
        Ok(m) => m,
        Err(Errno::NOENT) => return Outcome::Skipped("vanished since the scan".into()),
        Err(e) => return Outcome::Failed(io::Error::from(e).to_string()),
    };
    if m.kind != FileType::RegularFile || (m.dev, m.ino) != (f.meta.dev, f.meta.ino) {
        return Outcome::Skipped("replaced since the scan".into());
    }
    if m.size_bytes < f.meta.size_bytes {
        return Outcome::Skipped("shrank since the scan (rotated by someone else?)".into());
    }
    let Some(to) = free_name(dir, &f.name, stamp) else {
        return Outcome::Failed("no free name for the rotated file".into());
    };
    let result = if r.copytruncate {
        copy_truncate(dir, &f.name, &to, &m)
    } else {
        rustix::fs::renameat_with(dir, &f.name, dir, &to, RenameFlags::NOREPLACE)
            .map_err(io::Error::from)
    };
    if let Err(e) = result {
        return Outcome::Failed(e.to_string());
    }
    if let Some((sig, pid_file)) = &r.signal
        && let Err(error) = signal_writer(*sig, pid_file)
    {
        return Outcome::RotatedPostrotateFailed { to, error };
    }
    if let Some((program, args)) = r.postrotate.split_first() {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let ran = obwatch_common::exec::run(Path::new(program), &args, r.postrotate_timeout);
        let problem = match ran {
            Ok(o) if o.status.success() => None,
            Ok(o) => Some(format!("{program} exited with {}: {}", o.status, o.stderr.trim())),
            Err(e) => Some(e.to_string()),
        };
        if let Some(error) = problem {
            return Outcome::RotatedPostrotateFailed { to, error };
        }
    }
    Outcome::Rotated { to }
}

/// Sends `sig` to the pid written in `pid_file` (a decimal number, as daemons write it).
fn signal_writer(sig: ReopenSignal, pid_file: &Path) -> Result<(), String> {
    use rustix::process::{Pid, Signal, kill_process};
    let (signal, name) = match sig {
        ReopenSignal::Hup => (Signal::HUP, "HUP"),
        ReopenSignal::Usr1 => (Signal::USR1, "USR1"),
        ReopenSignal::Usr2 => (Signal::USR2, "USR2"),
    };
    let text = std::fs::read_to_string(pid_file)
        .map_err(|e| format!("signal {name}: cannot read {}: {e}", pid_file.display()))?;
    // Pid 1 and below are refused: a wrong pid file must not signal init or a process group.
    let pid =
        text.trim().parse::<i32>().ok().filter(|p| *p > 1).and_then(Pid::from_raw).ok_or_else(
            || {
                format!(
                    "signal {name}: {}: expected a pid above 1, got {:?}",
                    pid_file.display(),
                    text.trim()
                )
            },
        )?;
    kill_process(pid, signal).map_err(|e| {
        format!(
            "signal {name} to pid {} from {}: {}",
            pid.as_raw_nonzero(),
            pid_file.display(),
            io::Error::from(e)
        )
    })
}

/// `NAME.STAMP`, or `NAME.STAMP-N` when a file of that name exists (two rotations a second).
fn free_name(dir: &OwnedFd, name: &OsStr, stamp: &str) -> Option<OsString> {
    (0..100)
        .map(|n| {
            let mut to = name.to_os_string();
            to.push(if n == 0 { format!(".{stamp}") } else { format!(".{stamp}-{n}") });
            to
        })
        .find(|to| matches!(stat_at(dir, to), Err(Errno::NOENT)))
}

/// Copies `name` to `to` (via a hidden temp file, fsynced, renamed without replacing), then
/// truncates `name` to zero.
fn copy_truncate(dir: &OwnedFd, name: &OsStr, to: &OsStr, m: &Meta) -> io::Result<()> {
    let flags = OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let mut src = File::from(rustix::fs::openat(dir, name, OFlags::RDWR | flags, Mode::empty())?);
    let mut tmp_name = OsString::from(".");
    tmp_name.push(to);
    tmp_name.push(".obwatch-tmp");
    let out = rustix::fs::openat(
        dir,
        &tmp_name,
        OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | flags,
        Mode::from_raw_mode(m.mode & 0o7777),
    )?;
    // The copy is the log's: same owner and mode as logrotate gives it, whatever our umask.
    let owned = rustix::fs::fchown(
        &out,
        Some(rustix::fs::Uid::from_raw(m.uid)),
        Some(rustix::fs::Gid::from_raw(m.gid)),
    )
    .and_then(|()| rustix::fs::fchmod(&out, Mode::from_raw_mode(m.mode & 0o7777)));
    if let Err(e) = owned {
        let _ = rustix::fs::unlinkat(dir, &tmp_name, rustix::fs::AtFlags::empty());
        return Err(e.into());
    }
    let mut out = File::from(out);
    let copied = (|| -> io::Result<()> {
        let mut done = io::copy(&mut src, &mut out)?;
        // Catch up with what the writer appended during the copy.
        for _ in 0..CATCH_UP_PASSES {
            let size = src.metadata()?.len();
            if size <= done {
                break;
            }
            done += io::copy(&mut (&src).take(size - done), &mut out)?;
        }
        out.flush()?;
        out.sync_all()?;
        rustix::fs::renameat_with(dir, &tmp_name, dir, to, RenameFlags::NOREPLACE)?;
        Ok(())
    })();
    if let Err(e) = copied {
        let _ = rustix::fs::unlinkat(dir, &tmp_name, rustix::fs::AtFlags::empty());
        return Err(e);
    }
    src.set_len(0)?;
    src.seek(SeekFrom::Start(0))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::meta::open_dir_at;
    use std::time::Duration;

    fn setup(content: &[u8]) -> (tempfile::TempDir, OwnedFd, FileInfo) {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("app.log"), content).unwrap();
        let dir = open_dir_at(rustix::fs::CWD, d.path()).unwrap();
        let m: Meta = stat_at(&dir, OsStr::new("app.log")).unwrap();
        let f = FileInfo { active: true, ..FileInfo::from_meta(0, 0, OsStr::new("app.log"), &m) };
        (d, dir, f)
    }

    fn rotation(copytruncate: bool, postrotate: Vec<String>) -> Rotation {
        Rotation {
            max_size_bytes: 1,
            copytruncate,
            postrotate,
            postrotate_timeout: Duration::from_secs(10),
            signal: None,
        }
    }

    #[test]
    fn rename_then_postrotate_and_collisions_get_a_counter() {
        let (d, dir, f) = setup(b"line 1\nline 2\n");
        let marker = d.path().join("reopened");
        let post = vec!["/bin/sh".into(), "-c".into(), format!("touch {}", marker.display())];
        let o = rotate(&dir, &f, &rotation(false, post), "20261123120000");
        assert_eq!(o, Outcome::Rotated { to: "app.log.20261123120000".into() });
        assert_eq!(
            std::fs::read(d.path().join("app.log.20261123120000")).unwrap(),
            b"line 1\nline 2\n"
        );
        assert!(!d.path().join("app.log").exists());
        assert!(marker.exists(), "postrotate ran");
        // The writer reopened: a new app.log, rotated in the same second.
        std::fs::write(d.path().join("app.log"), b"line 3\n").unwrap();
        let m = stat_at(&dir, OsStr::new("app.log")).unwrap();
        let f2 =
            FileInfo { meta: Meta { ino: m.ino, size_bytes: m.size_bytes, ..f.meta }, ..f.clone() };
        let o = rotate(&dir, &f2, &rotation(false, vec![]), "20261123120000");
        assert_eq!(o, Outcome::Rotated { to: "app.log.20261123120000-1".into() });
    }

    #[test]
    #[allow(clippy::disallowed_methods)] // a real writer to signal
    fn a_rename_signals_the_writer_named_by_its_pid_file() {
        let (d, dir, f) = setup(b"line\n");
        let (hup, ready) = (d.path().join("hup"), d.path().join("ready"));
        let mut writer = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(format!(
                "trap 'touch {}; exit 0' HUP; touch {}; while :; do sleep 0.05; done",
                hup.display(),
                ready.display()
            ))
            .spawn()
            .unwrap();
        obwatch_testkit::net::wait_for("the writer to start", Duration::from_secs(10), || {
            ready.exists().then_some(())
        });
        let pid_file = d.path().join("app.pid");
        std::fs::write(&pid_file, format!("{}\n", writer.id())).unwrap();
        let mut r = rotation(false, vec![]);
        r.signal = Some((ReopenSignal::Hup, pid_file.clone()));
        assert_eq!(rotate(&dir, &f, &r, "t"), Outcome::Rotated { to: "app.log.t".into() });
        assert!(writer.wait().unwrap().success(), "the writer got its HUP");
        assert!(hup.exists());

        // A pid file naming init, or gone: rotated all the same, and the failure is named.
        for (text, want) in [("1\n", "expected a pid above 1, got \"1\""), ("", "got \"\"")] {
            std::fs::write(d.path().join("app.log"), b"again\n").unwrap();
            let m = stat_at(&dir, OsStr::new("app.log")).unwrap();
            let f2 = FileInfo {
                meta: Meta { ino: m.ino, size_bytes: m.size_bytes, ..f.meta },
                ..f.clone()
            };
            std::fs::write(&pid_file, text).unwrap();
            let o = rotate(&dir, &f2, &r, &format!("u{}", text.len()));
            assert!(
                matches!(&o, Outcome::RotatedPostrotateFailed { error, .. } if error.contains(want)),
                "{o:?}"
            );
        }
    }

    #[test]
    fn copytruncate_keeps_the_inode_and_every_byte() {
        let (d, dir, f) = setup(b"a\nb\nc\n");
        let o = rotate(&dir, &f, &rotation(true, vec![]), "20261123120000");
        assert_eq!(o, Outcome::Rotated { to: "app.log.20261123120000".into() });
        assert_eq!(std::fs::read(d.path().join("app.log.20261123120000")).unwrap(), b"a\nb\nc\n");
        let m = stat_at(&dir, OsStr::new("app.log")).unwrap();
        assert_eq!((m.ino, m.size_bytes), (f.meta.ino, 0), "same file, emptied");
        let names: Vec<_> =
            std::fs::read_dir(d.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 2, "no temp file left: {names:?}");
    }

    #[test]
    fn copytruncate_keeps_owner_and_mode() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let (d, dir, f) = setup(b"x\n");
        let p = d.path().join("app.log");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
        if rustix::process::geteuid().is_root() {
            std::os::unix::fs::chown(&p, Some(65534), Some(65534)).unwrap();
        }
        let want = std::fs::metadata(&p).unwrap();
        let o = rotate(&dir, &f, &rotation(true, vec![]), "t");
        assert_eq!(o, Outcome::Rotated { to: "app.log.t".into() });
        let got = std::fs::metadata(d.path().join("app.log.t")).unwrap();
        assert_eq!((got.uid(), got.gid(), got.mode() & 0o7777), (want.uid(), want.gid(), 0o640));
    }

    #[test]
    fn a_replaced_or_shrunk_file_is_skipped_and_postrotate_failure_is_named() {
        let (d, dir, f) = setup(b"0123456789");
        std::fs::write(d.path().join("app.log"), b"01").unwrap();
        let shrunk = rotate(&dir, &f, &rotation(false, vec![]), "x");
        assert!(matches!(shrunk, Outcome::Skipped(ref w) if w.contains("shrank")), "{shrunk:?}");
        let m = stat_at(&dir, OsStr::new("app.log")).unwrap();
        let f = FileInfo { meta: Meta { size_bytes: m.size_bytes, ..f.meta }, ..f };
        let o = rotate(&dir, &f, &rotation(false, vec!["/bin/false".into()]), "y");
        assert!(
            matches!(o, Outcome::RotatedPostrotateFailed { ref to, ref error } if to == "app.log.y" && error.starts_with("/bin/false exited")),
            "{o:?}"
        );
    }
}
