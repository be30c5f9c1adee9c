//! `node_filesystem_*` from the mount table (`/proc/1/mounts`, proc(5)) and statfs(2), with
//! node_exporter's stuck-mount handling: a statfs that does not answer within the mount
//! timeout (a dead NFS server) marks that mount stuck; it is reported with
//! `node_filesystem_device_error 1` and not stat'ed again until the stuck call returns.

mod options;

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use obwatch_common::fs::Root;
use obwatch_common::metrics::{MetricSet, MetricType};

use super::{BuildContext, BuildError, CollectError, Collector, CollectorSpec, with_file};
use crate::collector::option_parts::Filter;
pub use options::{FS_TYPES_EXCLUDE, MOUNT_POINTS_EXCLUDE, Options};
pub(crate) use options::{Flags, Yaml, compile};

/// Registry entry.
pub const SPEC: CollectorSpec = CollectorSpec { name: "filesystem", default_enabled: true, build };

fn build(cx: &BuildContext) -> Result<Box<dyn Collector>, BuildError> {
    Ok(Box::new(Filesystem::new(
        cx.root,
        cx.options.filesystem.mount_points.clone(),
        cx.options.filesystem.fs_types.clone(),
        cx.options.filesystem.mount_timeout,
        Arc::new(statfs),
    )))
}

/// What statfs says about one filesystem, in bytes and inodes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FsStats {
    /// Total size.
    pub size_bytes: f64,
    /// Free, including blocks reserved for root.
    pub free_bytes: f64,
    /// Free for unprivileged users.
    pub avail_bytes: f64,
    /// Total inodes.
    pub files: f64,
    /// Free inodes.
    pub files_free: f64,
}

/// A statfs implementation; a closure in tests to simulate a hung NFS server.
pub type StatFn = Arc<dyn Fn(&Path) -> io::Result<FsStats> + Send + Sync>;

fn statfs(path: &Path) -> io::Result<FsStats> {
    let s = rustix::fs::statfs(path)?;
    // node_exporter multiplies by f_bsize (Statfs_t.Bsize); on Linux it equals f_frsize for
    // the filesystems that matter.
    let bsize = s.f_bsize as f64;
    Ok(FsStats {
        size_bytes: s.f_blocks as f64 * bsize,
        free_bytes: s.f_bfree as f64 * bsize,
        avail_bytes: s.f_bavail as f64 * bsize,
        files: s.f_files as f64,
        files_free: s.f_ffree as f64,
    })
}

/// One line of the mount table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    /// First field, e.g. `/dev/vda`.
    pub device: String,
    /// Where it is mounted, unescaped (`\040` is a space).
    pub mountpoint: String,
    /// Filesystem type.
    pub fstype: String,
    /// Mounted read-only (`ro` in the options).
    pub readonly: bool,
}

/// Parses /proc/PID/mounts (fstab format: device, mountpoint, type, options, dump, pass).
/// Short lines are skipped; duplicates (same device, mountpoint and type) are kept once, as
/// node_exporter does.
pub fn parse(text: &str) -> Vec<Mount> {
    let mut out: Vec<Mount> = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_ascii_whitespace().collect();
        if f.len() < 4 {
            continue;
        }
        let m = Mount {
            device: unescape(f[0]),
            mountpoint: unescape(f[1]),
            fstype: f[2].to_string(),
            readonly: f[3].split(',').any(|o| o == "ro"),
        };
        if !out
            .iter()
            .any(|o| o.device == m.device && o.mountpoint == m.mountpoint && o.fstype == m.fstype)
        {
            out.push(m);
        }
    }
    out
}

/// The kernel escapes space, tab, newline and backslash in mount fields as octal (`\040`).
fn unescape(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 4 <= b.len() {
            let oct = std::str::from_utf8(&b[i + 1..i + 4]).ok();
            if let Some(v) = oct.and_then(|o| u8::from_str_radix(o, 8).ok()) {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reports every mounted filesystem that passes the filters.
pub struct Filesystem {
    mounts_path: PathBuf,
    fallback_mounts_path: PathBuf,
    root: Root,
    mount_points: Filter,
    fs_types: Filter,
    timeout: Duration,
    pool: StatPool,
    /// Mount points whose statfs did not return in time, with the channel its answer will
    /// arrive on. While the answer is pending the mount is not stat'ed again, so a dead NFS
    /// mount holds at most one thread, however many scrapes come.
    stuck: Mutex<HashMap<String, Receiver<io::Result<FsStats>>>>,
}

impl std::fmt::Debug for Filesystem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Filesystem").field("mounts_path", &self.mounts_path).finish()
    }
}

impl Filesystem {
    /// A collector reading `root`'s mount table and stat'ing through `stat`.
    pub fn new(
        root: &Root,
        mount_points: Filter,
        fs_types: Filter,
        timeout: Duration,
        stat: StatFn,
    ) -> Self {
        Filesystem {
            // pid 1's table is the host's even when we run in our own mount namespace.
            mounts_path: root.proc("1/mounts"),
            fallback_mounts_path: root.proc("mounts"),
            root: root.clone(),
            mount_points,
            fs_types,
            timeout,
            pool: StatPool { stat, worker: Mutex::new(None) },
            stuck: Mutex::new(HashMap::new()),
        }
    }

    fn stat_mount(&self, mountpoint: &str) -> Result<FsStats, &'static str> {
        let mut stuck = self.stuck.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(rx) = stuck.get(mountpoint) {
            match rx.try_recv() {
                Err(TryRecvError::Empty) => return Err("mountpoint timeout"),
                // The stuck call came back: forget it and stat afresh.
                Ok(_) | Err(TryRecvError::Disconnected) => {
                    stuck.remove(mountpoint);
                }
            }
        }
        let path = self.root.rootfs_path(mountpoint);
        match self.pool.stat(path, self.timeout) {
            Ok(Ok(s)) => Ok(s),
            Ok(Err(_)) => Err("statfs failed"),
            Err(rx) => {
                stuck.insert(mountpoint.to_string(), rx);
                Err("mountpoint timeout")
            }
        }
    }
}

impl Collector for Filesystem {
    fn collect(&self, out: &mut MetricSet) -> Result<(), CollectError> {
        let mounts = match with_file(&self.mounts_path, |t| Ok(parse(t))) {
            Err(CollectError::NoData(_)) => {
                with_file(&self.fallback_mounts_path, |t| Ok(parse(t)))?
            }
            other => other?,
        };
        let mut rows: Vec<(&Mount, Option<FsStats>)> = Vec::with_capacity(mounts.len());
        for m in &mounts {
            if !self.mount_points.allows(&m.mountpoint) || !self.fs_types.allows(&m.fstype) {
                continue;
            }
            rows.push((m, self.stat_mount(&m.mountpoint).ok()));
        }
        type Field = fn(&FsStats) -> f64;
        let gauges: [(&'static str, &'static str, Field); 5] = [
            (
                "node_filesystem_avail_bytes",
                "Filesystem space available to non-root users in bytes.",
                |s| s.avail_bytes,
            ),
            ("node_filesystem_files", "Filesystem total file nodes.", |s| s.files),
            ("node_filesystem_files_free", "Filesystem total free file nodes.", |s| s.files_free),
            ("node_filesystem_free_bytes", "Filesystem free space in bytes.", |s| s.free_bytes),
            ("node_filesystem_size_bytes", "Filesystem size in bytes.", |s| s.size_bytes),
        ];
        for (name, help, get) in gauges {
            let f = out.family(name, help, MetricType::Gauge);
            for (m, s) in &rows {
                if let Some(s) = s {
                    f.sample(&labels(m), get(s));
                }
            }
        }
        let f = out.family(
            "node_filesystem_device_error",
            "Whether an error occurred while getting statistics for the given device.",
            MetricType::Gauge,
        );
        for (m, s) in &rows {
            f.sample(&labels(m), if s.is_some() { 0.0 } else { 1.0 });
        }
        let f = out.family(
            "node_filesystem_readonly",
            "Filesystem read-only status.",
            MetricType::Gauge,
        );
        for (m, _) in &rows {
            f.sample(&labels(m), if m.readonly { 1.0 } else { 0.0 });
        }
        Ok(())
    }
}

fn labels(m: &Mount) -> [(&'static str, &str); 3] {
    [("device", &m.device), ("fstype", &m.fstype), ("mountpoint", &m.mountpoint)]
}

type Job = (PathBuf, SyncSender<io::Result<FsStats>>);

/// One long-lived statfs thread, replaced when it gets stuck (the stuck one exits once its
/// call returns, since its job channel is dropped). No thread is spawned per scrape.
struct StatPool {
    stat: StatFn,
    worker: Mutex<Option<mpsc::Sender<Job>>>,
}

impl StatPool {
    /// `Ok(result)` when statfs answered in time; `Err(receiver)` where the late answer will
    /// arrive otherwise.
    fn stat(
        &self,
        path: PathBuf,
        timeout: Duration,
    ) -> Result<io::Result<FsStats>, Receiver<io::Result<FsStats>>> {
        let (reply_tx, reply_rx) = mpsc::sync_channel(1);
        let mut worker = self.worker.lock().unwrap_or_else(|p| p.into_inner());
        let mut job = (path, reply_tx);
        // Two tries: the first may hit a worker that died (thread spawn failure, not expected).
        for _ in 0..2 {
            let tx = match worker.as_ref() {
                Some(tx) => tx.clone(),
                None => match self.spawn() {
                    Ok(tx) => {
                        *worker = Some(tx.clone());
                        tx
                    }
                    Err(e) => return Ok(Err(e)),
                },
            };
            match tx.send(job) {
                Ok(()) => break,
                Err(mpsc::SendError(j)) => {
                    *worker = None;
                    job = j;
                }
            }
        }
        match reply_rx.recv_timeout(timeout) {
            Ok(r) => Ok(r),
            Err(RecvTimeoutError::Timeout) => {
                // Retire the stuck worker; the next statfs gets a fresh one.
                *worker = None;
                Err(reply_rx)
            }
            Err(RecvTimeoutError::Disconnected) => {
                Ok(Err(io::Error::other("statfs worker exited")))
            }
        }
    }

    fn spawn(&self) -> io::Result<mpsc::Sender<Job>> {
        let (tx, rx) = mpsc::channel::<Job>();
        let stat = self.stat.clone();
        std::thread::Builder::new().name("statfs".into()).spawn(move || {
            for (path, reply) in rx {
                // The collector may have given up on this answer; that is fine.
                let _ = reply.send(stat(&path));
            }
        })?;
        Ok(tx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    // Captured from this project's CI host (Firecracker VM, kernel 6.18), trimmed, plus an NFS
    // line and an escaped mount point as the kernel writes them (fs/proc_namespace.c).
    const MOUNTS: &str = "proc /proc proc rw,relatime 0 0\n\
        devtmpfs /dev devtmpfs rw,relatime,size=12334432k,nr_inodes=3083608,mode=755 0 0\n\
        tmpfs /dev/shm tmpfs rw,relatime,size=24683656k 0 0\n\
        /dev/vda / ext4 rw,relatime,discard,resv_strict,resuid=65534,resgid=65534 0 0\n\
        tmpfs /dev/shm tmpfs rw,relatime,size=24683656k 0 0\n\
        10.0.0.5:/export/backup /backup nfs4 ro,relatime,vers=4.1,hard,proto=tcp 0 0\n\
        /dev/sdb1 /home/admin/ob\\040data xfs rw,noatime 0 0\n\
        cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0\n";

    #[test]
    fn parses_mounts() {
        let m = parse(MOUNTS);
        assert_eq!(m.len(), 7, "duplicate /dev/shm kept once");
        assert_eq!(
            m[3],
            Mount {
                device: "/dev/vda".into(),
                mountpoint: "/".into(),
                fstype: "ext4".into(),
                readonly: false
            }
        );
        assert!(m[4].readonly && m[4].fstype == "nfs4");
        assert_eq!(m[5].mountpoint, "/home/admin/ob data");
        assert!(parse("short line\n\n").is_empty());
        assert_eq!(parse("/dev/x /mnt/é\\040x\\1 ext4 rw 0 0\n")[0].mountpoint, "/mnt/é x\\1");
    }

    fn tree(mounts: &str) -> (tempfile::TempDir, Root) {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("proc/1")).unwrap();
        std::fs::write(d.path().join("proc/1/mounts"), mounts).unwrap();
        let root = Root { procfs: d.path().join("proc"), ..Root::default() };
        (d, root)
    }

    #[test]
    fn reports_default_filtered_mounts() {
        let (_d, root) = tree(MOUNTS);
        let o = Options::default();
        let fake: StatFn = Arc::new(|p: &Path| {
            if p == Path::new("/backup") {
                return Err(io::Error::other("ESTALE"));
            }
            Ok(FsStats {
                size_bytes: 100.0,
                free_bytes: 40.0,
                avail_bytes: 30.0,
                files: 10.0,
                files_free: 5.0,
            })
        });
        let c = Filesystem::new(&root, o.mount_points, o.fs_types, Duration::from_secs(1), fake);
        let mut set = MetricSet::new();
        c.collect(&mut set).unwrap();
        let l = |dev, fs, mp| [("device", dev), ("fstype", fs), ("mountpoint", mp)];
        assert_eq!(set.get("node_filesystem_avail_bytes", &l("/dev/vda", "ext4", "/")), Some(30.0));
        assert_eq!(set.get("node_filesystem_device_error", &l("/dev/vda", "ext4", "/")), Some(0.0));
        let nfs = l("10.0.0.5:/export/backup", "nfs4", "/backup");
        assert_eq!(set.get("node_filesystem_device_error", &nfs), Some(1.0));
        assert_eq!(set.get("node_filesystem_readonly", &nfs), Some(1.0));
        assert_eq!(set.get("node_filesystem_size_bytes", &nfs), None);
        // /dev, /proc and cgroup2 are excluded by default.
        assert_eq!(set.find("node_filesystem_readonly").unwrap().len(), 3);
    }

    #[test]
    fn stuck_mount_is_reported_and_not_stat_ed_again() {
        let (_d, root) = tree("/dev/vda / ext4 rw 0 0\nnfs:/x /nfs nfs4 rw 0 0\n");
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let release_rx = Mutex::new(release_rx);
        let nfs_calls = Arc::new(AtomicUsize::new(0));
        let calls = nfs_calls.clone();
        let fake: StatFn = Arc::new(move |p: &Path| {
            if p == Path::new("/nfs") {
                calls.fetch_add(1, Ordering::SeqCst);
                let _ = release_rx.lock().unwrap().recv(); // hangs like a dead NFS server
            }
            Ok(FsStats {
                size_bytes: 1.0,
                free_bytes: 1.0,
                avail_bytes: 1.0,
                files: 1.0,
                files_free: 1.0,
            })
        });
        let c = Filesystem::new(
            &root,
            Filter::default(),
            Filter::default(),
            // Long enough for "/" on a loaded machine; /nfs never answers.
            Duration::from_secs(1),
            fake,
        );
        let err = |set: &MetricSet| {
            set.get(
                "node_filesystem_device_error",
                &[("device", "nfs:/x"), ("fstype", "nfs4"), ("mountpoint", "/nfs")],
            )
        };
        for _ in 0..3 {
            let mut set = MetricSet::new();
            c.collect(&mut set).unwrap();
            assert_eq!(err(&set), Some(1.0));
            assert_eq!(
                set.get(
                    "node_filesystem_size_bytes",
                    &[("device", "/dev/vda"), ("fstype", "ext4"), ("mountpoint", "/")]
                ),
                Some(1.0)
            );
        }
        assert_eq!(nfs_calls.load(Ordering::SeqCst), 1, "a stuck mount is stat'ed once");
        drop(release_tx); // the server comes back
        obwatch_testkit::net::wait_for("the mount to recover", Duration::from_secs(10), || {
            let mut set = MetricSet::new();
            c.collect(&mut set).unwrap();
            (err(&set) == Some(0.0)).then_some(())
        });
    }
}
