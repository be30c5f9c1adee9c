//! What the three `main.rs` share when they talk to the terminal: messages on stderr that
//! never abort. `eprintln!` panics when stderr is closed (`obwatch-logtailer check ... 2>&1 |
//! head -1`), and with `panic = "abort"` that was a SIGABRT (exit 134) instead of the
//! documented exit code; [`stderr!`](crate::stderr) drops the message instead. Also the
//! command-line parts all three have: the log flags, the parse with its manual page and
//! completion flags, and the open files limit servers raise at start.

use std::ffi::OsString;

use crate::logging::{LogFormat, LogLevel};

/// `eprintln!` that ignores a closed or full stderr.
#[macro_export]
macro_rules! stderr {
    ($($arg:tt)*) => {{
        use ::std::io::Write as _;
        let _ = ::std::writeln!(::std::io::stderr().lock(), $($arg)*);
    }};
}

/// Warns once per old flag spelling found on the command line (`(old, new)` pairs); clap
/// accepts the old spelling as a hidden alias for one release.
pub fn warn_renamed_flags(renamed: &[(&str, &str)]) {
    for (old, new) in renamed {
        let used = std::env::args_os().any(|a| {
            let a = a.to_string_lossy();
            a == *old || a.starts_with(&format!("{old}="))
        });
        if used {
            tracing::warn!(flag = old, instead = new, "Deprecated flag; it will be removed.");
        }
    }
}

/// True for the error a write to a closed pipe gives (`... | head`): the reader is gone, which
/// is no failure of ours, so the caller stops writing and exits with the code it has.
pub fn is_broken_pipe(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::BrokenPipe
}

/// Raises the soft limit on open files to the hard limit, as Go programs (node_exporter among
/// them) do at start: the default soft limit of 1,024 is few for a server, and the hard limit
/// is what the administrator (or the unit's `LimitNOFILE=`) allowed. Returns the soft limit
/// before and after; `None` stands for unlimited.
pub fn raise_nofile_limit() -> std::io::Result<(Option<u64>, Option<u64>)> {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    let before = limit.current;
    if limit.current != limit.maximum {
        limit.current = limit.maximum;
        setrlimit(Resource::Nofile, limit)?;
    }
    Ok((before, getrlimit(Resource::Nofile).current))
}

/// [`raise_nofile_limit`] for a daemon's start: logs the outcome instead of returning it.
pub fn raise_nofile_limit_logged() {
    match raise_nofile_limit() {
        Ok((before, after)) => {
            tracing::debug!(before = ?before, after = ?after, "Open files limit.")
        }
        Err(e) => tracing::warn!(error = %e, "Cannot raise the open files limit."),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_soft_nofile_limit_is_raised_to_the_hard_one() {
        let (_, after) = super::raise_nofile_limit().unwrap();
        let now = rustix::process::getrlimit(rustix::process::Resource::Nofile);
        assert_eq!(after, now.maximum);
        assert_eq!(now.current, now.maximum);
    }
}

/// `--log.level` and `--log.format`, the same on every binary (global: accepted after a
/// subcommand too). Flatten into a binary's clap struct.
#[derive(Clone, Debug, clap::Args)]
pub struct LogFlags {
    /// Only log messages with the given severity or above. [default: info]
    #[arg(long = "log.level", value_enum, global = true)]
    pub log_level: Option<LogLevel>,
    /// Output format of log messages. [default: logfmt]
    #[arg(long = "log.format", value_enum, global = true)]
    pub log_format: Option<LogFormat>,
}

impl LogFlags {
    /// Sets up logging to stderr with these flags (info and logfmt when not given).
    pub fn init(&self) {
        crate::logging::init(
            self.log_level.unwrap_or(LogLevel::Info),
            self.log_format.unwrap_or(LogFormat::Logfmt),
        );
    }
}

/// Parses a command line the way every binary does: `--help-man` and
/// `--completion-script-SHELL` first (they need no subcommand), then clap. `Err` is the exit
/// code once clap (or the manual page) has printed what was asked: 0 for `--help` and
/// `--version`, 2 for a usage error.
pub fn parse<C: clap::Parser>(args: Vec<OsString>) -> Result<C, u8> {
    if let Some(what) = crate::manual::requested(&args) {
        return Err(crate::manual::print(what, C::command()));
    }
    C::try_parse_from(args).map_err(|e| {
        let _ = e.print();
        e.exit_code().clamp(0, 255) as u8
    })
}
