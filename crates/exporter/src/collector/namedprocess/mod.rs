//! `namedprocess_namegroup_*` (process-exporter's names, labels and help texts) plus
//! `obwatch_process_restarts_total` and `obwatch_process_deleted_open_file_bytes` for named
//! groups of processes: OceanBase, OBProxy, Oracle Clusterware daemons and RAC background
//! processes by default (`matcher`), more from `collectors.process_names`.
//!
//! One pass over `--path.procfs` per scrape: `PID/stat` for every process except outsiders
//! already classified (a pid is classified once, from its cmdline, and an outsider is not read
//! again until its recheck, see `tracker`), then `PID/status` and `PID/fd` for group members
//! only. A process that exits mid-read is skipped; that race is normal, not an error.
//! Groups are reported from the first scrape that saw one of their processes until the exporter
//! stops, so a group whose processes all died reports `num_procs 0`, the alert a DBA wants,
//! while the built-in Clusterware names stay silent on hosts that never ran them.

mod matcher;
mod parse;
mod tracker;

use std::collections::HashSet;
use std::fmt::Write as _;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use obwatch_common::metrics::{MetricSet, MetricType};
use rustix::fs::{AtFlags, CWD, FileType, Mode, OFlags, RawDir, openat, readlinkat_raw, statat};
use rustix::io::Errno;

pub use matcher::{CompileError, NameConfig, NameMatcher, ProcView, builtin};
use tracker::Tracker;

use super::{BuildContext, BuildError, CollectError, Collector, CollectorSpec, with_file};
use crate::collector::option_parts::{Origin, yaml_keys};
use obwatch_common::config::ConfigError;

/// Registry entry. On by default: on a host without database processes a scrape costs one
/// read of `PID/stat` per process (docs/benchmarks.md has the figure).
pub const SPEC: CollectorSpec =
    CollectorSpec { name: "namedprocess", default_enabled: true, build };

/// The namedprocess collector's options.
#[derive(Clone, Debug)]
pub struct Options {
    /// The user's `process_names` entries, then (unless turned off) the built-in set; the
    /// first that matches a process names its group.
    pub process_names: Vec<NameMatcher>,
}

impl Default for Options {
    fn default() -> Self {
        Options { process_names: builtin_matchers() }
    }
}

/// The built-in `process_names` set, compiled.
fn builtin_matchers() -> Vec<NameMatcher> {
    builtin().iter().map(|c| NameMatcher::compile(c).expect("built-in pattern")).collect()
}

yaml_keys! {
    /// Its keys of the YAML `collectors:` section (it has no flags, as process-exporter has
    /// none for its names).
    Yaml { process_names: Vec<NameConfig>, process_names_builtin: bool, }
}

/// The user's entries (tried first, in order), then the built-in set unless
/// `process_names_builtin` is false.
pub(crate) fn compile(yaml: Yaml, at: &Origin) -> Result<Options, ConfigError> {
    let entries = yaml.process_names.unwrap_or_default();
    let mut names = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        names.push(NameMatcher::compile(entry).map_err(|e| {
            let field = format!("collectors.process_names[{i}].{}", e.field);
            ConfigError::invalid(at.file, field, e.message)
        })?);
    }
    if yaml.process_names_builtin.unwrap_or(true) {
        names.extend(builtin_matchers());
    }
    Ok(Options { process_names: names })
}

fn build(cx: &BuildContext) -> Result<Box<dyn Collector>, BuildError> {
    Ok(Box::new(NamedProcess {
        procfs: cx.root.procfs.clone(),
        stat_path: cx.root.proc("stat"),
        matchers: cx.options.namedprocess.process_names.clone(),
        ticks: rustix::param::clock_ticks_per_second() as f64,
        page_size: rustix::param::page_size() as u64,
        state: Mutex::new(State::default()),
    }))
}

/// Reads every process once per scrape and reports the named groups.
#[derive(Debug)]
pub struct NamedProcess {
    procfs: PathBuf,
    /// `/proc/stat`, for `btime` (read once: the kernel recomputes it from the clock, so it
    /// jitters by a second, which would make start times jitter).
    stat_path: PathBuf,
    /// User entries first, then the built-in set; the first match wins.
    matchers: Vec<NameMatcher>,
    /// `sysconf(_SC_CLK_TCK)`: the unit of utime, stime and starttime.
    ticks: f64,
    /// The unit of stat's `rss`.
    page_size: u64,
    /// State across scrapes; the registry runs a collector at most once at a time.
    state: Mutex<State>,
}

/// One scrape's idea of now: for the tracker's trust in outsiders, and process ages.
#[derive(Debug)]
struct Clock {
    instant: std::time::Instant,
    epoch_secs: f64,
    /// Boot time, seconds since the epoch.
    boot_time: f64,
}

/// Buffers reused across scrapes, and the tracker.
#[derive(Debug, Default)]
struct State {
    tracker: Tracker,
    boot_time: Option<f64>,
    path: String,
    file: Vec<u8>,
    dirents: Vec<u8>,
    fd_dirents: Vec<u8>,
    link: Vec<u8>,
    cmdline_raw: Vec<u8>,
    cmdline: String,
    name: String,
    /// (group, dev, inode) of deleted files counted this scrape.
    deleted: HashSet<(u32, u64, u64)>,
}

impl Collector for NamedProcess {
    fn collect(&self, out: &mut MetricSet) -> Result<(), CollectError> {
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let st = &mut *guard;
        let boot_time = match st.boot_time {
            Some(b) => b,
            None => *st.boot_time.insert(with_file(&self.stat_path, super::stat::parse)?.boot_time),
        };
        let proc_dir = openat(
            CWD,
            &self.procfs,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| CollectError::io(&self.procfs, e.into()))?;
        st.tracker.begin();
        st.deleted.clear();
        let now = Clock {
            instant: std::time::Instant::now(),
            epoch_secs: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64()),
            boot_time,
        };
        if st.dirents.capacity() < 32 * 1024 {
            st.dirents.reserve(32 * 1024);
        }
        let mut dirents = std::mem::take(&mut st.dirents);
        let mut dir = RawDir::new(&proc_dir, dirents.spare_capacity_mut());
        while let Some(entry) = dir.next() {
            let entry = entry.map_err(|e| CollectError::io(&self.procfs, e.into()))?;
            let Some(pid) = std::str::from_utf8(entry.file_name().to_bytes())
                .ok()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            if st.tracker.still_outside(pid, entry.ino(), now.instant) {
                continue;
            }
            self.process(&proc_dir, pid, entry.ino(), &now, st);
        }
        st.dirents = dirents;
        st.tracker.finish();
        self.emit(&st.tracker, boot_time, out);
        Ok(())
    }
}

impl NamedProcess {
    /// Reads one process; an error means it exited (or is unreadable) and it is skipped.
    fn process(&self, proc_dir: &OwnedFd, pid: u32, ino: u64, now: &Clock, st: &mut State) {
        let State { tracker, path, file, cmdline_raw, cmdline, name, .. } = st;
        if read_at(proc_dir, path, format_args!("{pid}/stat"), file).is_err() {
            return;
        }
        let text = String::from_utf8_lossy(file);
        let Ok(stat) = parse::stat(&text) else { return };
        let started = now.boot_time + stat.starttime as f64 / self.ticks;
        let age = Duration::from_secs_f64((now.epoch_secs - started).max(0.0));
        let group = tracker.record(pid, (ino, age, now.instant), &stat, || {
            read_at(proc_dir, path, format_args!("{pid}/cmdline"), cmdline_raw).ok()?;
            let argv0 = String::from_utf8_lossy(parse::argv0(cmdline_raw));
            // Kernel threads and zombies have an empty cmdline: comm stands in for argv[0].
            let exe_full: &str = if argv0.is_empty() { stat.comm } else { &argv0 };
            let exe_base = exe_full.rsplit('/').next().unwrap_or(exe_full);
            parse::join_cmdline(cmdline_raw, cmdline);
            let view = ProcView { comm: stat.comm, exe_full, exe_base, cmdline };
            self.matchers.iter().any(|m| m.group_name(&view, name)).then(|| name.clone())
        });
        let Some(g) = group else { return };
        let resident = stat.rss_pages.saturating_mul(self.page_size);
        drop(text);
        let swapped = match read_at(proc_dir, path, format_args!("{pid}/status"), file) {
            Ok(()) => parse::status_swap_bytes(&String::from_utf8_lossy(file)),
            Err(_) => 0,
        };
        let (fds, deleted) = scan_fds(proc_dir, pid, g, st);
        let t = st.tracker.totals(g);
        t.resident += resident;
        t.swapped += swapped;
        t.fds += fds;
        t.deleted_bytes += deleted;
    }

    fn emit(&self, tracker: &Tracker, boot_time: f64, out: &mut MetricSet) {
        let gauge = MetricType::Gauge;
        let f = out.family(
            "namedprocess_namegroup_num_procs",
            "number of processes in this group",
            gauge,
        );
        for (name, g) in tracker.groups() {
            f.sample(&[("groupname", name)], g.now.procs as f64);
        }
        let f = out.family(
            "namedprocess_namegroup_cpu_seconds_total",
            "Cpu user usage in seconds",
            MetricType::Counter,
        );
        for (name, g) in tracker.groups() {
            f.sample(&[("groupname", name), ("mode", "user")], g.user_ticks as f64 / self.ticks);
            f.sample(
                &[("groupname", name), ("mode", "system")],
                g.system_ticks as f64 / self.ticks,
            );
        }
        let f = out.family(
            "namedprocess_namegroup_memory_bytes",
            "number of bytes of memory in use",
            gauge,
        );
        for (name, g) in tracker.groups() {
            for (memtype, v) in [
                ("resident", g.now.resident),
                ("virtual", g.now.virtual_bytes),
                ("swapped", g.now.swapped),
            ] {
                f.sample(&[("groupname", name), ("memtype", memtype)], v as f64);
            }
        }
        let f = out.family(
            "namedprocess_namegroup_open_filedesc",
            "number of open file descriptors for this group",
            gauge,
        );
        for (name, g) in tracker.groups() {
            f.sample(&[("groupname", name)], g.now.fds as f64);
        }
        let f = out.family("namedprocess_namegroup_num_threads", "Number of threads", gauge);
        for (name, g) in tracker.groups() {
            f.sample(&[("groupname", name)], g.now.threads as f64);
        }
        // Left out for a group with no process (process-exporter reports year 1 there). Whole
        // seconds, as process-exporter reports it (`OldestStartTime.Unix()`), so the two agree.
        let f = out.family(
            "namedprocess_namegroup_oldest_start_time_seconds",
            "start time in seconds since 1970/01/01 of oldest process in group",
            gauge,
        );
        for (name, g) in tracker.groups() {
            if let Some(start) = g.now.oldest_start {
                f.sample(&[("groupname", name)], (boot_time + start as f64 / self.ticks).floor());
            }
        }
        let f = out.family(
            "obwatch_process_restarts_total",
            "Processes of the group that exited and were replaced by a new one.",
            MetricType::Counter,
        );
        for (name, g) in tracker.groups() {
            f.sample(&[("groupname", name)], g.restarts as f64);
        }
        let f = out.family(
            "obwatch_process_deleted_open_file_bytes",
            "Size of deleted files the group's processes still hold open (each file once).",
            gauge,
        );
        for (name, g) in tracker.groups() {
            f.sample(&[("groupname", name)], g.now.deleted_bytes as f64);
        }
    }
}

/// Reads `procfs/<rel>` into `file` (cleared first); `path` is a reused buffer for `rel`.
fn read_at(
    dir: &OwnedFd,
    path: &mut String,
    rel: std::fmt::Arguments,
    file: &mut Vec<u8>,
) -> Result<(), Errno> {
    path.clear();
    let _ = path.write_fmt(rel);
    let fd = openat(dir, path.as_str(), OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;
    file.clear();
    loop {
        if file.capacity() - file.len() < 4096 {
            file.reserve(4096);
        }
        let room = file.capacity() - file.len();
        match rustix::io::read(&fd, rustix::buffer::spare_capacity(file)) {
            // These files are produced whole by one show() call: a read that did not fill
            // the buffer got everything, so the extra read for EOF is skipped (a quarter of
            // the syscalls of a scrape).
            Ok(n) if n < room => return Ok(()),
            Ok(_) | Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
}

/// Counts the descriptors in `PID/fd` and sums the sizes of deleted regular files among their
/// targets (readlink says `/path (deleted)`; stat through the magic link still reaches the
/// file), each (dev, inode) once per group. `/memfd:` targets always read "(deleted)"; they
/// are anonymous memory, not disk space, and are skipped. An unreadable `fd` directory (a
/// root daemon while the exporter is not root) counts 0.
fn scan_fds(proc_dir: &OwnedFd, pid: u32, group: u32, st: &mut State) -> (u64, u64) {
    st.path.clear();
    let _ = write!(st.path, "{pid}/fd");
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let Ok(dir) = openat(proc_dir, st.path.as_str(), flags, Mode::empty()) else { return (0, 0) };
    if st.fd_dirents.capacity() < 16 * 1024 {
        st.fd_dirents.reserve(16 * 1024);
    }
    // PATH_MAX plus " (deleted)": a longer target is cut and not recognised.
    st.link.resize(4096 + 16, 0);
    let (mut fds, mut bytes) = (0, 0);
    let mut entries = RawDir::new(&dir, st.fd_dirents.spare_capacity_mut());
    while let Some(Ok(entry)) = entries.next() {
        let name = entry.file_name();
        if name.to_bytes().first() == Some(&b'.') {
            continue;
        }
        fds += 1;
        let Ok(n) = readlinkat_raw(&dir, name, &mut st.link[..]) else { continue };
        let target = &st.link[..n];
        if n == st.link.len() || !target.ends_with(b" (deleted)") || target.starts_with(b"/memfd:")
        {
            continue;
        }
        let Ok(meta) = statat(&dir, name, AtFlags::empty()) else { continue };
        if FileType::from_raw_mode(meta.st_mode) != FileType::RegularFile {
            continue;
        }
        if st.deleted.insert((group, meta.st_dev, meta.st_ino)) {
            bytes += u64::try_from(meta.st_size).unwrap_or(0);
        }
    }
    (fds, bytes)
}
