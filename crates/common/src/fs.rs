//! Filesystem helpers: `Root` (where procfs/sysfs/rootfs are, so tests and containers can point
//! elsewhere), buffered reads that reuse a caller's buffer, and `atomic_write`.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// Where the host's pseudo-filesystems are mounted: node_exporter's `--path.procfs`,
/// `--path.sysfs` and `--path.rootfs`.
#[derive(Clone, Debug)]
pub struct Root {
    /// `/proc` on a normal host.
    pub procfs: PathBuf,
    /// `/sys` on a normal host.
    pub sysfs: PathBuf,
    /// `/` on a normal host; `/host` when the host's root is bind-mounted into a container.
    pub rootfs: PathBuf,
}

impl Default for Root {
    fn default() -> Self {
        Root { procfs: "/proc".into(), sysfs: "/sys".into(), rootfs: "/".into() }
    }
}

impl Root {
    /// A path under procfs, e.g. `root.proc("loadavg")`.
    pub fn proc(&self, rel: &str) -> PathBuf {
        self.procfs.join(rel)
    }

    /// A path under sysfs, e.g. `root.sys("class/net")`.
    pub fn sys(&self, rel: &str) -> PathBuf {
        self.sysfs.join(rel)
    }

    /// Maps an absolute host path (a mount point) to where it is seen from here, by
    /// prefixing `rootfs`.
    pub fn rootfs_path(&self, host_path: &str) -> PathBuf {
        self.rootfs.join(host_path.trim_start_matches('/'))
    }
}

/// Reads a whole file into `buf` (cleared first). /proc files report size 0, so this reads
/// until EOF rather than trusting metadata.
pub fn read_into(path: &Path, buf: &mut String) -> io::Result<()> {
    buf.clear();
    File::open(path)?.read_to_string(buf)?;
    Ok(())
}

/// Reads a small sysfs attribute and trims the trailing newline.
pub fn read_trimmed(path: &Path) -> io::Result<String> {
    let mut s = std::fs::read_to_string(path)?;
    let len = s.trim_end().len();
    s.truncate(len);
    Ok(s)
}

/// Reads a sysfs attribute holding one unsigned integer.
pub fn read_u64(path: &Path) -> io::Result<u64> {
    let s = read_trimmed(path)?;
    s.parse().map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: not an integer: {s:?}", path.display()),
        )
    })
}

/// Replaces `path` atomically: write a temp file beside it, fsync, rename over, fsync the
/// directory. A reader sees the old or the new content, never a torn file (what the textfile
/// collector requires of its writers).
pub fn atomic_write(path: &Path, contents: &[u8]) -> io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("{}: no file name", path.display()))
    })?;
    let tmp = dir.join(format!(".{}.tmp{}", name.to_string_lossy(), std::process::id()));
    let result = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.prom");
        atomic_write(&p, b"a 1\n").unwrap();
        atomic_write(&p, b"a 2\n").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "a 2\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn reads_and_rootfs_paths() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v");
        std::fs::write(&p, "42\n").unwrap();
        assert_eq!(read_u64(&p).unwrap(), 42);
        std::fs::write(&p, "x\n").unwrap();
        assert!(read_u64(&p).unwrap_err().to_string().contains("not an integer"));
        let root = Root { rootfs: "/host".into(), ..Root::default() };
        assert_eq!(root.rootfs_path("/var/log"), PathBuf::from("/host/var/log"));
        assert_eq!(root.rootfs_path("/"), PathBuf::from("/host/"));
    }
}
