//! Long-lived descriptors for procfs and sysfs files, re-read with `pread(fd, buf, 0)` each
//! scrape instead of open/read/close.
//!
//! Why: path lookup in procfs and kernfs (per-pid dentries, `net -> self/net`, class symlinks)
//! made `openat` and `close` a third of a whole scrape's CPU (perf, docs/benchmarks.md). Both filesystems
//! regenerate a file's content when it is read at offset 0: seq_file resets its iterator
//! (fs/seq_file.c, `seq_read_iter` when `ki_pos == 0`; older kernels re-traverse when the
//! position differs from `read_pos`), and sysfs attributes call `show()` again
//! (fs/sysfs/file.c, `sysfs_kf_read`/`sysfs_kf_seq_show`). `top` keeps /proc/stat open the
//! same way.
//!
//! Only files that fstatfs(2) says live on procfs or sysfs are kept; anything else (fixture
//! trees, textfiles) is opened per read, so a replaced regular file is always seen. At most
//! [`MAX_OPEN`] descriptors are kept; past that, files are opened per read as before.

use std::collections::HashMap;
use std::io;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};

use rustix::buffer::spare_capacity;
use rustix::fs::{Mode, OFlags, fstatfs, open};
use rustix::io::{Errno, pread};

/// Descriptors kept at most (a host with many interfaces must not approach its fd limit).
pub const MAX_OPEN: usize = 256;
/// `SYSFS_MAGIC` from include/uapi/linux/magic.h (rustix names only procfs').
const SYSFS_MAGIC: rustix::fs::FsWord = 0x6265_6572;

static OPEN: LazyLock<Mutex<HashMap<PathBuf, Arc<OwnedFd>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn keepable(fd: &OwnedFd) -> bool {
    fstatfs(fd).is_ok_and(|s| s.f_type == rustix::fs::PROC_SUPER_MAGIC || s.f_type == SYSFS_MAGIC)
}

/// The descriptor for `path`: kept from an earlier read, or opened now (and kept if it is on
/// procfs/sysfs and there is room). The flag says whether it came from the cache.
fn get(path: &Path) -> Result<(Arc<OwnedFd>, bool), Errno> {
    if let Some(fd) = OPEN.lock().unwrap_or_else(|p| p.into_inner()).get(path) {
        return Ok((fd.clone(), true));
    }
    // Opened outside the lock: a FIFO or a stuck mount may block here, and must not block
    // other collectors' reads.
    let fd = Arc::new(open(path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?);
    if keepable(&fd) {
        let mut open = OPEN.lock().unwrap_or_else(|p| p.into_inner());
        if open.len() < MAX_OPEN {
            open.insert(path.to_path_buf(), fd.clone());
        }
    }
    Ok((fd, false))
}

fn forget(path: &Path) {
    OPEN.lock().unwrap_or_else(|p| p.into_inner()).remove(path);
}

/// Reads all of `path` from offset 0 into `buf` (cleared first).
pub fn read(path: &Path, buf: &mut Vec<u8>) -> io::Result<()> {
    let (fd, cached) = get(path)?;
    match read_fd(&fd, buf) {
        Ok(()) => Ok(()),
        // The file went away behind a kept descriptor (an interface removed, a process
        // gone): forget it and try a fresh open, which reports the real state.
        Err(_) if cached => {
            forget(path);
            let (fd, _) = get(path)?;
            read_fd(&fd, buf).map_err(io::Error::from)
        }
        Err(e) => Err(e.into()),
    }
}

fn read_fd(fd: &OwnedFd, buf: &mut Vec<u8>) -> Result<(), Errno> {
    buf.clear();
    loop {
        if buf.capacity() - buf.len() < 4096 {
            buf.reserve(buf.capacity().max(4096));
        }
        let offset = buf.len() as u64;
        // `spare_capacity` appends what pread filled and grows the Vec's length safely.
        match pread(fd, spare_capacity(buf), offset) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
}

/// Reads a small attribute (sysfs) into `buf` from offset 0, whitespace-trimmed; a short read
/// is the whole attribute. Errors are the raw errno so callers can tell "absent" kinds apart.
pub fn read_small<'b>(path: &Path, buf: &'b mut [u8]) -> Result<&'b [u8], Errno> {
    let (fd, cached) = get(path)?;
    match pread_all(&fd, buf) {
        Err(e) if cached && e != Errno::INVAL && e != Errno::OPNOTSUPP => {
            // EINVAL/EOPNOTSUPP are the driver saying "no value now" (speed of a down link);
            // anything else may be a stale descriptor: retry once with a fresh open.
            forget(path);
            let (fd, _) = get(path)?;
            let n = pread_all(&fd, buf)?;
            Ok(&buf[..n])
        }
        r => r.map(|n| &buf[..n]),
    }
}

/// Reads a small file from offset 0 into `buf`; returns the length read.
pub(crate) fn pread_all(fd: &OwnedFd, buf: &mut [u8]) -> Result<usize, Errno> {
    let mut len = 0;
    while len < buf.len() {
        match pread(fd, &mut buf[len..], len as u64) {
            Ok(0) => break,
            Ok(n) => {
                len += n;
                // sysfs and small regular files give everything at once: a short read is
                // the end, no extra read for EOF.
                if len < buf.len() {
                    break;
                }
            }
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn read_string(path: &Path) -> io::Result<String> {
        let mut buf = Vec::new();
        read(path, &mut buf)?;
        Ok(String::from_utf8(buf).unwrap())
    }

    fn kept(path: &Path) -> bool {
        OPEN.lock().unwrap().contains_key(path)
    }

    #[test]
    fn procfs_file_is_kept_and_regenerated() {
        let p = Path::new("/proc/uptime");
        let first = read_string(p).unwrap();
        assert!(kept(p), "a procfs file is kept open");
        let start = Instant::now();
        // uptime has 10 ms resolution: a re-read through the kept descriptor must move on.
        while read_string(p).unwrap() == first {
            assert!(start.elapsed() < Duration::from_secs(5), "re-read returned stale content");
            std::thread::sleep(Duration::from_millis(5)); // poll interval
        }
    }

    #[test]
    fn sysfs_attribute_is_regenerated() {
        let p = Path::new("/sys/class/net/lo/statistics/tx_packets");
        let mut buf = [0u8; 32];
        let before: u64 =
            std::str::from_utf8(read_small(p, &mut buf).unwrap()).unwrap().trim().parse().unwrap();
        assert!(kept(p));
        // Send packets over loopback: a TCP handshake is several.
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let _c = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let _s = l.accept().unwrap();
        let after: u64 =
            std::str::from_utf8(read_small(p, &mut buf).unwrap()).unwrap().trim().parse().unwrap();
        assert!(after > before, "tx_packets {before} -> {after}: stale re-read");
    }

    #[test]
    fn regular_files_are_never_kept() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("loadavg");
        std::fs::write(&p, "1 2 3\n").unwrap();
        assert_eq!(read_string(&p).unwrap(), "1 2 3\n");
        assert!(!kept(&p));
        let tmp = d.path().join("new");
        std::fs::write(&tmp, "4 5 6\n").unwrap();
        std::fs::rename(&tmp, &p).unwrap();
        assert_eq!(read_string(&p).unwrap(), "4 5 6\n", "a replaced file is read afresh");
    }

    #[test]
    #[allow(clippy::disallowed_methods)] // a real child process, on purpose
    fn vanished_process_file_is_an_error_not_stale_data() {
        let mut child = std::process::Command::new("sleep").arg("30").spawn().unwrap();
        let p = PathBuf::from(format!("/proc/{}/stat", child.id()));
        assert!(read_string(&p).unwrap().contains("(sleep)"));
        assert!(kept(&p));
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(read_string(&p).is_err(), "a dead pid's stat must not be served from a kept fd");
        assert!(!kept(&p), "the dead descriptor is dropped");
    }
}
