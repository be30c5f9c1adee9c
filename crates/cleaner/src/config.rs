//! The cleaner's YAML config: `RawConfig` as written (serde, unknown keys rejected) and the
//! validated [`Config`] the rest of the crate uses. Errors name the file, the field and what was
//! expected; relative paths are resolved against the config file's directory.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use obwatch_common::config::{ByteSize, ConfigError, HumanDuration, Percent, load_yaml};
use serde::Deserialize;

use crate::pattern::Glob;
use crate::safety;

/// Default lock file: one cleaner run at a time per host.
/// `/run/obwatch` is created by the packages (tmpfiles.d) and the unit (`RuntimeDirectory=`),
/// writable by root only; not the world-writable `/run/lock` (see `Lock`).
pub const DEFAULT_LOCK_FILE: &str = "/run/obwatch/cleaner.lock";
/// Default `interval` of `run`.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(600);
/// Default `rotate.postrotate_timeout`.
pub const DEFAULT_POSTROTATE_TIMEOUT: Duration = Duration::from_secs(30);
/// Default `priority` of a policy (lower goes first under disk pressure).
pub const DEFAULT_PRIORITY: u32 = 100;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    interval: Option<HumanDuration>,
    jitter: Option<HumanDuration>,
    audit_log: Option<PathBuf>,
    textfile: Option<PathBuf>,
    lock_file: Option<PathBuf>,
    #[serde(default)]
    policies: Vec<RawPolicy>,
    disk: Option<RawDisk>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    name: String,
    paths: Vec<String>,
    #[serde(default)]
    active: Vec<String>,
    max_age: Option<HumanDuration>,
    keep_newest: Option<usize>,
    max_files: Option<usize>,
    max_total_size: Option<ByteSize>,
    priority: Option<u32>,
    rotate: Option<RawRotate>,
    /// Lets `paths` reach system directories (`/etc`, `/usr`, `/var/lib`, ...; `safety`).
    #[serde(default)]
    allow_system_paths: bool,
    #[serde(default)]
    missing_ok: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRotate {
    max_size: Option<ByteSize>,
    compress: Option<Compression>,
    #[serde(default)]
    copytruncate: bool,
    #[serde(default)]
    postrotate: Vec<String>,
    postrotate_timeout: Option<HumanDuration>,
    signal: Option<ReopenSignal>,
    pid_file: Option<PathBuf>,
}

/// A signal that makes a writer reopen its log after a rename (newsyslog's `pid_file` +
/// signal; logrotate users write `postrotate: kill -HUP ...`).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub enum ReopenSignal {
    /// SIGHUP, what most daemons take as "reopen your logs".
    #[serde(rename = "HUP")]
    Hup,
    /// SIGUSR1 (nginx, for one).
    #[serde(rename = "USR1")]
    Usr1,
    /// SIGUSR2.
    #[serde(rename = "USR2")]
    Usr2,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDisk {
    high_watermark: Percent,
    low_watermark: Percent,
}

/// How rotated files are compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// `name.gz` beside the file (flate2, level 6 like gzip's default).
    Gzip,
    /// `name.zst` beside the file (zstd level 3, its default): smaller and faster than gzip.
    Zstd,
}

impl Compression {
    /// The archive's suffix.
    pub fn suffix(self) -> &'static str {
        match self {
            Compression::Gzip => ".gz",
            Compression::Zstd => ".zst",
        }
    }
}

/// The validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// The file it came from (for messages).
    pub path: PathBuf,
    /// Time between runs of `run`.
    pub interval: Duration,
    /// Up to this much is added at random to each interval, so hosts don't purge in lockstep.
    pub jitter: Duration,
    /// Append-only JSON lines audit log of every action; none when unset.
    pub audit_log: Option<PathBuf>,
    /// `.prom` file for the exporter's textfile collector; none when unset.
    pub textfile: Option<PathBuf>,
    /// flock(2)ed so two runs never overlap.
    pub lock_file: PathBuf,
    /// In config order; a file matched by two policies belongs to the first.
    pub policies: Vec<Policy>,
    /// Per-filesystem watermarks, applied to every filesystem holding a policy's files.
    pub disk: Option<Watermarks>,
}

/// One policy: which files, and the rules that decide what goes.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Label `policy` on metrics and in the audit log.
    pub name: String,
    /// The files this policy manages.
    pub globs: Vec<Glob>,
    /// Live files (being written): never touched, whatever else matches them.
    pub active: Vec<Glob>,
    /// Delete files older than this (by mtime).
    pub max_age: Option<Duration>,
    /// The newest K files are never deleted, not even under disk pressure.
    pub keep_newest: usize,
    /// Delete all but the newest N files (logrotate's `rotate N`).
    pub max_files: Option<usize>,
    /// Delete the oldest files until the policy's files total at most this.
    pub max_total_size_bytes: Option<u64>,
    /// Under disk pressure, policies with a lower priority lose files first.
    pub priority: u32,
    /// Compress files this policy keeps (implemented: gzip).
    pub compress: Option<Compression>,
    /// Rotate the policy's active files when they grow past a size.
    pub rotate: Option<Rotation>,
    /// A policy whose paths match nothing is not warned about (logrotate's `missingok`).
    pub missing_ok: bool,
}

/// Rotation of active files by size (logrotate's `size`, `copytruncate`, `postrotate`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rotation {
    /// An active file larger than this is rotated.
    pub max_size_bytes: u64,
    /// Copy then truncate in place (for writers that never reopen) instead of renaming.
    pub copytruncate: bool,
    /// Command (argv, no shell) run after each rename, e.g. to make the writer reopen.
    pub postrotate: Vec<String>,
    /// How long `postrotate` may run before it is killed.
    pub postrotate_timeout: Duration,
    /// Sent after each rotation to the pid read from the file, before `postrotate`.
    pub signal: Option<(ReopenSignal, PathBuf)>,
}

/// Start purging at `high` percent used, stop at `low`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Watermarks {
    /// Purging starts when a filesystem is at least this full.
    pub high: Percent,
    /// ... and goes on until it is at most this full.
    pub low: Percent,
}

impl Config {
    /// Reads and validates `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let raw: RawConfig = load_yaml(path)?;
        validate(path, raw)
    }

    /// Validates YAML text as if read from `path` (tests).
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig = obwatch_common::config::parse_yaml(path, text)?;
        validate(path, raw)
    }
}

fn validate(path: &Path, raw: RawConfig) -> Result<Config, ConfigError> {
    let bad = |field: &str, msg: String| ConfigError::invalid(path, field, msg);
    let base = path.parent().unwrap_or(Path::new("."));
    let resolve = |p: PathBuf| if p.is_relative() { base.join(p) } else { p };
    let interval = raw.interval.map_or(DEFAULT_INTERVAL, |d| d.0);
    if interval.is_zero() {
        return Err(bad("interval", "expected a duration above 0s, e.g. 10m".into()));
    }
    let jitter = raw.jitter.map_or(interval / 10, |d| d.0);
    if jitter >= interval {
        return Err(bad("jitter", format!("expected less than interval ({interval:?})")));
    }
    let disk = match raw.disk {
        Some(d) if d.low_watermark >= d.high_watermark => {
            return Err(bad(
                "disk.low_watermark",
                format!("expected below high_watermark ({})", d.high_watermark),
            ));
        }
        Some(d) => Some(Watermarks { high: d.high_watermark, low: d.low_watermark }),
        None => None,
    };
    if raw.policies.is_empty() {
        return Err(bad("policies", "expected at least one policy".into()));
    }
    let mut names = BTreeSet::new();
    let mut policies = Vec::new();
    for (i, p) in raw.policies.into_iter().enumerate() {
        if !names.insert(p.name.clone()) {
            return Err(bad(
                &format!("policies[{i}].name"),
                format!("expected a unique name, {:?} is used twice", p.name),
            ));
        }
        policies.push(policy(path, i, p, disk.is_some())?);
    }
    Ok(Config {
        path: path.to_path_buf(),
        interval,
        jitter,
        audit_log: raw.audit_log.map(resolve),
        textfile: raw.textfile.map(resolve),
        lock_file: resolve(raw.lock_file.unwrap_or_else(|| DEFAULT_LOCK_FILE.into())),
        policies,
        disk,
    })
}

/// One validated policy (`i` is its index, for messages).
fn policy(path: &Path, i: usize, p: RawPolicy, has_disk: bool) -> Result<Policy, ConfigError> {
    let bad = |field: &str, msg: String| ConfigError::invalid(path, field, msg);
    let at = |f: &str| format!("policies[{i}].{f}");
    if p.name.is_empty()
        || !p.name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
    {
        return Err(bad(
            &at("name"),
            format!("expected letters, digits, `_`, `-` or `.`, got {:?}", p.name),
        ));
    }
    if p.paths.is_empty() {
        return Err(bad(&at("paths"), "expected at least one path glob".into()));
    }
    let parse_all = |field: &str, list: &[String]| -> Result<Vec<Glob>, ConfigError> {
        list.iter()
            .enumerate()
            .map(|(j, g)| {
                Glob::parse(g).map_err(|e| bad(&at(&format!("{field}[{j}]")), e.to_string()))
            })
            .collect()
    };
    let mut globs = parse_all("paths", &p.paths)?;
    for (j, g) in globs.iter().enumerate() {
        safety::check_glob(g, p.allow_system_paths)
            .map_err(|m| bad(&at(&format!("paths[{j}]")), m))?;
    }
    let active = parse_all("active", &p.active)?;
    let (compress, rotate) = match p.rotate {
        Some(r) => (r.compress, rotation(r, &active).map_err(|(f, m)| bad(&at(f), m))?),
        None => (None, None),
    };
    if rotate.is_some() {
        // The walk must see the active files to measure them; `active` keeps them safe from
        // every other rule.
        globs.extend(active.iter().cloned());
    }
    if p.max_files == Some(0) {
        return Err(bad(&at("max_files"), "expected at least 1 (omit it for no limit)".into()));
    }
    let does_something = p.max_age.is_some()
        || p.max_files.is_some()
        || p.max_total_size.is_some()
        || compress.is_some()
        || rotate.is_some()
        || has_disk;
    if !does_something {
        return Err(bad(
            &at("name"),
            format!(
                "policy {:?} does nothing: expected max_age, max_files, max_total_size, \
                 rotate.compress or a disk watermark",
                p.name
            ),
        ));
    }
    if let Some(age) = p.max_age {
        safety::check_max_age(age.0).map_err(|m| bad(&at("max_age"), m))?;
    }
    if let Some(size) = p.max_total_size {
        safety::check_max_total_size(size.0).map_err(|m| bad(&at("max_total_size"), m))?;
    }
    Ok(Policy {
        name: p.name,
        globs,
        active,
        max_age: p.max_age.map(|d| d.0),
        keep_newest: p.keep_newest.unwrap_or(0),
        max_files: p.max_files,
        max_total_size_bytes: p.max_total_size.map(|b| b.0),
        priority: p.priority.unwrap_or(DEFAULT_PRIORITY),
        compress,
        rotate,
        missing_ok: p.missing_ok,
    })
}

/// `rotate:` of a policy with its `active` globs; errors name the field below the policy.
fn rotation(r: RawRotate, active: &[Glob]) -> Result<Option<Rotation>, (&'static str, String)> {
    match r.max_size {
        Some(max) => {
            if active.is_empty() {
                return Err((
                    "active",
                    "rotate.max_size rotates the policy's active files: expected at \
                     least one `active` glob"
                        .into(),
                ));
            }
            if max.0 == 0 {
                return Err(("rotate.max_size", "expected a size above 0".into()));
            }
            if r.postrotate.first().is_some_and(|c| !Path::new(c).is_absolute()) {
                return Err((
                    "rotate.postrotate[0]",
                    format!("expected an absolute program path, got {:?}", r.postrotate[0]),
                ));
            }
            let signal = match (r.signal, r.pid_file) {
                (Some(sig), Some(pid_file)) if pid_file.is_absolute() => Some((sig, pid_file)),
                (Some(_), Some(pid_file)) => {
                    return Err((
                        "rotate.pid_file",
                        format!("expected an absolute path, got {pid_file:?}"),
                    ));
                }
                (Some(_), None) => {
                    return Err((
                        "rotate.pid_file",
                        "rotate.signal needs the writer's pid file, e.g. \
                         /run/obproxy.pid"
                            .into(),
                    ));
                }
                (None, Some(_)) => {
                    return Err((
                        "rotate.signal",
                        "rotate.pid_file needs a signal: expected HUP, USR1 or USR2".into(),
                    ));
                }
                (None, None) => None,
            };
            Ok(Some(Rotation {
                max_size_bytes: max.0,
                copytruncate: r.copytruncate,
                postrotate: r.postrotate,
                postrotate_timeout: r
                    .postrotate_timeout
                    .map_or(DEFAULT_POSTROTATE_TIMEOUT, |d| d.0),
                signal,
            }))
        }
        None if r.copytruncate
            || !r.postrotate.is_empty()
            || r.signal.is_some()
            || r.pid_file.is_some() =>
        {
            Err((
                "rotate.max_size",
                "copytruncate, postrotate and signal need a size to rotate at: expected \
                 rotate.max_size, e.g. 256MiB"
                    .into(),
            ))
        }
        None => Ok(None),
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
