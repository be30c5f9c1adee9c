//! obwatch-cleaner: keeps log disks in bounds by purging and compressing files by age, count,
//! total size and disk watermark, without ever touching a file it must not.
//!
//! # Layout
//! - [`config`]: YAML -> validated [`Config`].
//! - [`pattern`]: path globs (pure).
//! - [`scan`]: opens the roots, walks with directory handles, finds files (I/O); [`procfd`]:
//!   held and deleted-but-open files from `/proc/*/fd`.
//! - [`plan`]: decides what to delete, compress or report, and why (pure).
//! - [`apply`]: performs the plan through directory handles, re-checking each file.
//! - [`audit`]: the append-only JSON lines audit log; [`metrics`]: the textfile `.prom`.
//! - [`check`]: what `check` reports of each policy's matches today; [`safety`]: the policies
//!   refused outright (system paths, limits that delete everything).
//! - this file: one run (`run_once`), the daemon loop (`run`), the lock.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod apply;
pub mod audit;
pub mod check;
pub mod cli;
pub mod config;
pub mod meta;
pub mod metrics;
pub mod outcome;
pub mod pattern;
pub mod plan;
pub mod procfd;
pub mod rotate;
pub mod safety;
pub mod scan;
mod steps;

use std::future::Future;
use std::io::{self, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use config::Config;
use rustix::fs::{FlockOperation, Mode, OFlags};
use rustix::io::Errno;

use crate::audit::{AuditLog, Record};
use crate::metrics::RunMetrics;
use crate::outcome::Outcome;
use crate::plan::{ActionKind, human_bytes};

/// How `once` prints its actions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `ACTION BYTES PATH (REASON) RESULT`, one line per action.
    Text,
    /// One JSON object a line: `{"action","path","bytes","reason","result"}`.
    Json,
}

/// Options of one run that are not configuration.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Plan and print, change nothing (no lock, audit log or metrics file either).
    pub dry_run: bool,
    /// Output format of the action lines.
    pub format: Format,
    /// Also print a `kept` line for every file left alone, with why (`once -v`).
    pub verbose: bool,
    /// Where procfs is (tests may point elsewhere).
    pub procfs: PathBuf,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions { dry_run: false, format: Format::Text, verbose: false, procfs: "/proc".into() }
    }
}

/// A run that could not happen at all (exit code 1).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Another run holds the lock.
    #[error("{0}: another obwatch-cleaner run holds the lock")]
    Locked(PathBuf),
    /// The lock file, or the directory it is in, is not safe from other users: anyone who can
    /// create or hold it could stop every run.
    #[error(
        "{path}: {reason} (lock_file must be in a directory only root or this user can write, e.g. /run/obwatch)"
    )]
    UnsafeLock {
        /// The lock file.
        path: PathBuf,
        /// Who else controls it.
        reason: String,
    },
    /// The lock file or audit log could not be opened.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
}

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Files the policies' paths matched.
    pub files_seen: u64,
    /// Files deleted (or planned, in a dry run).
    pub deleted: u64,
    /// Files compressed (or planned).
    pub compressed: u64,
    /// Active files rotated by size (or planned).
    pub rotated: u64,
    /// Files a rule wanted that a process held open.
    pub held: u64,
    /// Apparent bytes removed (planned: sizes at the scan).
    pub freed_bytes: u64,
    /// Disk space (allocated blocks) freed (planned: at the scan).
    pub freed_disk_bytes: u64,
    /// Failed actions plus scan errors; non-zero means exit code 1.
    pub errors: u64,
}

/// An exclusive, non-blocking flock(2) on the lock file, released on drop.
///
/// The lock is refused, not taken, when another user could have made or could hold it: a lock
/// file owned by someone else, or one in a directory others can write (`/run/lock` is
/// world-writable, so any local user could create the file first and `flock` it forever).
#[derive(Debug)]
pub struct Lock(#[allow(dead_code)] OwnedFd);

impl Lock {
    /// Takes the lock or fails at once. A missing parent directory is created (0755): the
    /// default `/run/obwatch` is on a tmpfs that a cron-started run may find empty after boot.
    pub fn acquire(path: &Path) -> Result<Lock, RunError> {
        let io_err = |e: Errno| RunError::Io { path: path.to_path_buf(), source: e.into() };
        let unsafe_lock =
            |reason: String| RunError::UnsafeLock { path: path.to_path_buf(), reason };
        let me = rustix::process::geteuid();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if let Err(e) = rustix::fs::mkdir(dir, Mode::from_raw_mode(0o755))
                && e != Errno::EXIST
            {
                return Err(RunError::Io { path: dir.to_path_buf(), source: e.into() });
            }
            let st = rustix::fs::stat(dir)
                .map_err(|e| RunError::Io { path: dir.to_path_buf(), source: e.into() })?;
            if st.st_mode & 0o002 != 0 {
                return Err(unsafe_lock(format!("{} is writable by every user", dir.display())));
            }
            if st.st_uid != 0 && st.st_uid != me.as_raw() {
                return Err(unsafe_lock(format!("{} belongs to uid {}", dir.display(), st.st_uid)));
            }
        }
        let fd = rustix::fs::open(
            path,
            OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o644),
        )
        .map_err(io_err)?;
        let owner = rustix::fs::fstat(&fd).map_err(io_err)?.st_uid;
        if owner != me.as_raw() {
            return Err(unsafe_lock(format!(
                "owned by uid {owner}, not this user (uid {})",
                me.as_raw()
            )));
        }
        match rustix::fs::flock(&fd, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => Ok(Lock(fd)),
            Err(Errno::WOULDBLOCK) => Err(RunError::Locked(path.to_path_buf())),
            Err(e) => Err(io_err(e)),
        }
    }
}

/// One pass: scan, plan, apply (unless dry run), audit, metrics. Action lines go to `out`.
pub fn run_once(
    config: &Config,
    opts: &RunOptions,
    out: &mut dyn Write,
) -> Result<Summary, RunError> {
    let _lock = if opts.dry_run { None } else { Some(Lock::acquire(&config.lock_file)?) };
    let started = Instant::now();
    let now = SystemTime::now();
    let now_ns = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as i64);
    let scan = scan::scan(&config.policies, &opts.procfs);
    let policy_files = steps::report_scan(config, &scan);
    let dirs: Vec<&Path> = scan.dirs.iter().map(|d| d.path.as_path()).collect();
    let plan = plan::plan(&scan.files, &dirs, &config.policies, config.disk, &scan.usage, now_ns);
    steps::report_pressure(&plan);
    let audit_path =
        config.audit_log.as_deref().map(Path::display).map(|d| d.to_string()).unwrap_or_default();
    // Shared by the `started` records written before each action and the outcome records.
    let audit = match (&config.audit_log, opts.dry_run) {
        (Some(path), false) => Some(std::cell::RefCell::new(
            AuditLog::open(path).map_err(|source| RunError::Io { path: path.clone(), source })?,
        )),
        _ => None,
    };
    let mut summary = Summary {
        errors: scan.errors.len() as u64,
        files_seen: scan.files.len() as u64,
        ..Summary::default()
    };
    let policy_files = config.policies.iter().map(|p| p.name.clone()).zip(policy_files).collect();
    let mut run = RunMetrics { policy_files, ..RunMetrics::default() };
    // Every policy's counters exist from the first run, at 0: a counter that first appears
    // already incremented hides that increase from Prometheus' increase() and rate().
    for p in &config.policies {
        run.counts.entry(p.name.clone()).or_default();
    }
    if !scan.errors.is_empty() {
        run.counts.entry(String::new()).or_default().errors += scan.errors.len() as f64;
    }
    // Action `n`, its file, the file's path and the owning policy's name: for the `started`
    // record before the action and the outcome record after it.
    let target = |n: usize| {
        let action = &plan.actions[n];
        let f = &scan.files[action.file];
        let policy = config.policies.get(f.policy as usize).map_or("", |p| p.name.as_str());
        (action, f, scan.dirs[f.dir as usize].path.join(&f.name), policy)
    };
    let mut emit = |n: usize, outcome: Option<&Outcome>| {
        let (action, f, path, policy) = target(n);
        let reason = match (action.kind, f.held_by) {
            (ActionKind::Held, Some(pid)) => {
                format!("held open by pid {pid}; wanted: {}", action.reason)
            }
            _ => action.reason.to_string(),
        };
        let result = outcome.map_or_else(|| "dry-run".to_string(), Outcome::describe);
        steps::tally(&mut summary, &mut run, action.kind, outcome, f, policy, &path);
        let mut rec =
            Record::new(action.kind.as_str(), &path, f.meta.size_bytes, &reason, &result, policy)
                .with_disk_bytes(f.meta.disk_bytes);
        let _ = print_line(out, opts.format, &rec);
        let written = audit.as_ref().map(|a| a.borrow_mut().write(&mut rec));
        if let Some(Err(e)) = written {
            tracing::error!(path = %audit_path, error = %e, "Cannot write the audit log.");
            summary.errors += 1;
        }
    };
    if opts.dry_run {
        (0..plan.actions.len()).for_each(|n| emit(n, None));
    } else {
        // Before a file is touched its `started` record must be in the audit log.
        let before = |n: usize| -> Result<(), String> {
            let Some(a) = audit.as_ref() else { return Ok(()) };
            let (action, f, path, policy) = target(n);
            let reason = action.reason.to_string();
            let mut rec = Record::new(
                action.kind.as_str(),
                &path,
                f.meta.size_bytes,
                &reason,
                "started",
                policy,
            )
            .with_disk_bytes(f.meta.disk_bytes);
            let written = a.borrow_mut().write(&mut rec);
            written.map_err(|e| format!("the audit log {} cannot be written: {e}", audit_path))
        };
        apply::apply(&scan, &plan, &config.policies, before, |n, o| emit(n, Some(o)));
    }
    if opts.verbose {
        steps::print_kept(out, opts.format, config, &scan, &plan);
    }
    for d in &scan.deleted_open {
        run.deleted_open_bytes += d.bytes;
        let reason =
            format!("deleted but held open by pid {}; space returns when it closes", d.pid);
        let result = if opts.dry_run { "dry-run" } else { "reported" };
        let mut rec = Record::new("deleted_open", &d.path, d.bytes, &reason, result, "");
        let _ = print_line(out, opts.format, &rec);
        let written = audit.as_ref().map(|a| a.borrow_mut().write(&mut rec));
        if let Some(Err(e)) = written {
            tracing::error!(path = %audit_path, error = %e, "Cannot write the audit log.");
            summary.errors += 1;
        }
    }
    if let Some(a) = audit
        && let Err(e) = a.into_inner().finish()
    {
        tracing::error!(error = %e, "Cannot sync the audit log.");
        summary.errors += 1;
    }
    let _ = out.flush();
    if !opts.dry_run
        && let Some(path) = &config.textfile
    {
        run.started = now.duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
        run.duration_seconds = started.elapsed().as_secs_f64();
        let text = metrics::encode(&metrics::previous(path), &run);
        if let Err(e) = obwatch_common::fs::atomic_write(path, text.as_bytes()) {
            tracing::error!(path = %path.display(), error = %e, "Cannot write the metrics file.");
            summary.errors += 1;
        }
    }
    Ok(summary)
}

impl Summary {
    /// The line `once` ends with: what was seen and done (`dry_run`: what would be).
    pub fn line(&self, dry_run: bool) -> String {
        let freed = if dry_run { "would free" } else { "freed" };
        format!(
            "{} files seen: {} deleted, {} compressed, {} rotated, {} held open, {} errors; {freed} \
             {} ({} of disk blocks)",
            self.files_seen,
            self.deleted,
            self.compressed,
            self.rotated,
            self.held,
            self.errors,
            human_bytes(self.freed_bytes),
            human_bytes(self.freed_disk_bytes)
        )
    }
}

pub(crate) fn print_line(out: &mut dyn Write, format: Format, rec: &Record<'_>) -> io::Result<()> {
    match format {
        Format::Json => {
            serde_json::to_writer(&mut *out, rec)?;
            out.write_all(b"\n")
        }
        // The path quoted and escaped, so a name with a newline cannot print a forged line.
        Format::Text => writeln!(
            out,
            "{:<12} {:>10} {:?} ({}) {}",
            rec.action,
            human_bytes(rec.bytes),
            rec.raw_path,
            rec.reason,
            rec.result
        ),
    }
}

/// The daemon as `obwatch-cleaner run` starts it: one thread (a pass at a time; the blocking
/// pool holds the one running pass) until SIGINT or SIGTERM. Errs only when the runtime
/// cannot be built.
pub fn serve(config: Config) -> std::io::Result<()> {
    obwatch_common::build::log_start("obwatch-cleaner");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_blocking_threads(1)
        .build()?;
    let stop = obwatch_common::shutdown::signal_received();
    obwatch_common::shutdown::block_on_bounded(runtime, run(config, stop));
    Ok(())
}

/// The daemon: a run every `interval` plus up to `jitter`, until `shutdown` resolves. A run in
/// progress finishes first. A run whose lock is taken is skipped with a warning.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) {
    tokio::pin!(shutdown);
    let config = std::sync::Arc::new(config);
    loop {
        let c = config.clone();
        let mut task = tokio::task::spawn_blocking(move || {
            run_once(&c, &RunOptions::default(), &mut io::sink())
        });
        // Polling `shutdown` during the run installs the signal handlers from the start; a
        // signal during a run lets it finish (the audit log stays complete), then stops.
        tokio::select! {
            r = &mut task => report(r),
            _ = &mut shutdown => {
                report(task.await);
                return;
            }
        }
        let wait = config.interval + jitter(config.jitter);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = &mut shutdown => return,
        }
    }
}

fn report(r: Result<Result<Summary, RunError>, tokio::task::JoinError>) {
    match r {
        Ok(Ok(s)) => tracing::info!(
            deleted = s.deleted,
            compressed = s.compressed,
            rotated = s.rotated,
            held = s.held,
            freed = %human_bytes(s.freed_bytes),
            freed_disk = %human_bytes(s.freed_disk_bytes),
            errors = s.errors,
            "Run finished."
        ),
        Ok(Err(e)) => tracing::warn!(error = %e, "Run skipped."),
        Err(e) => tracing::error!(error = %e, "Run aborted."),
    }
}

/// A pseudo-random duration in `[0, max)`, from the clock's nanoseconds and the pid (hosts
/// started together still spread out).
fn jitter(max: Duration) -> Duration {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let seed = u64::from(nanos) ^ (u64::from(std::process::id()) << 20);
    let x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11;
    let max_ms = max.as_millis().max(1) as u64;
    Duration::from_millis(x % max_ms)
}
