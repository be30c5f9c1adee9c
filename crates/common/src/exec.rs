//! Runs an external tool (`crsctl`, `olsnodes`) the way a monitoring agent must: with a
//! timeout, in its own process group so a hung tool and every child it spawned are killed
//! together, with bounded output, and with errors that name the command. Blocking: call it
//! from a background thread, never from a scrape.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use std::os::unix::process::CommandExt;

/// Output kept per stream; more is cut (and reported), so a runaway tool cannot fill memory.
pub const MAX_OUTPUT_BYTES: usize = 4 << 20;

/// What a finished command printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// How it exited.
    pub status: ExitStatus,
    /// Standard output, lossily decoded.
    pub stdout: String,
    /// Standard error, lossily decoded.
    pub stderr: String,
}

/// Why a command gave no usable output. Every message names the program.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// It could not be started (missing, not executable).
    #[error("{}: cannot run: {source}", program.display())]
    Spawn {
        /// The program.
        program: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// It ran past the timeout and was killed with its process group.
    #[error("{}: no result within {timeout:?}; killed", program.display())]
    Timeout {
        /// The program.
        program: PathBuf,
        /// The limit.
        timeout: Duration,
    },
    /// It printed more than [`MAX_OUTPUT_BYTES`].
    #[error("{}: printed more than {MAX_OUTPUT_BYTES} bytes; killed", program.display())]
    TooMuchOutput {
        /// The program.
        program: PathBuf,
    },
    /// Waiting for it failed.
    #[error("{}: {source}", program.display())]
    Wait {
        /// The program.
        program: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Runs `program args...` with stdin closed and returns its output, whatever its exit status
/// (tools like `crsctl check crs` exit non-zero when the stack is down and say why on stdout).
pub fn run(program: &Path, args: &[&str], timeout: Duration) -> Result<Output, ExecError> {
    // This is the module clippy.toml points spawns to.
    #[allow(clippy::disallowed_methods)]
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group: on timeout the whole group is killed, including children
        // that would otherwise keep the pipes open.
        .process_group(0)
        .spawn()
        .map_err(|source| ExecError::Spawn { program: program.to_path_buf(), source })?;
    let group = rustix::process::Pid::from_child(&child);
    let (tx, rx) = mpsc::channel();
    let readers: Vec<_> = [
        child.stdout.take().map(|s| Box::new(s) as Box<dyn Read + Send>),
        child.stderr.take().map(|s| Box::new(s) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, stream)| {
        let tx = tx.clone();
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let full = stream.map(|s| read_bounded(s, &mut buf)).unwrap_or(Ok(false));
            let _ = tx.send((i, buf, full.unwrap_or(false)));
        })
    })
    .collect();
    drop(tx);

    // Both streams reach EOF when every process holding them has exited (or when a
    // stream is over the limit); wait for that, up to the timeout.
    let deadline = std::time::Instant::now() + timeout;
    let mut outs: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    let mut failure = None;
    for _ in 0..2 {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok((i, buf, too_much)) => {
                outs[i] = buf;
                if too_much {
                    failure = Some(ExecError::TooMuchOutput { program: program.to_path_buf() });
                    break;
                }
            }
            Err(_) => {
                failure = Some(ExecError::Timeout { program: program.to_path_buf(), timeout });
                break;
            }
        }
    }
    // Streams closed is not exited: a tool may close them and go on running. Wait for the
    // exit on a thread, up to what is left of the timeout.
    let (done_tx, done_rx) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let _ = done_tx.send(child.wait());
    });
    let mut status = None;
    if failure.is_none() {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match done_rx.recv_timeout(left) {
            Ok(s) => status = Some(s),
            Err(_) => {
                failure = Some(ExecError::Timeout { program: program.to_path_buf(), timeout });
            }
        }
    }
    if failure.is_some() {
        let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
    }
    let _ = waiter.join();
    for r in readers {
        let _ = r.join();
    }
    if let Some(f) = failure {
        return Err(f);
    }
    let status = status.unwrap_or_else(|| Err(std::io::Error::other("no exit status")));
    let status =
        status.map_err(|source| ExecError::Wait { program: program.to_path_buf(), source })?;
    let [stdout, stderr] = outs.map(|b| String::from_utf8_lossy(&b).into_owned());
    Ok(Output { status, stdout, stderr })
}

/// Reads to EOF into `buf`; true when the stream had more than [`MAX_OUTPUT_BYTES`].
fn read_bounded(s: impl Read, buf: &mut Vec<u8>) -> std::io::Result<bool> {
    let mut limited = s.take(MAX_OUTPUT_BYTES as u64 + 1);
    limited.read_to_end(buf)?;
    if buf.len() > MAX_OUTPUT_BYTES {
        buf.truncate(MAX_OUTPUT_BYTES);
        return Ok(true);
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::time::Instant;

    fn sh(script: &str, timeout: Duration) -> Result<Output, ExecError> {
        run(Path::new("/bin/sh"), &["-c", script], timeout)
    }

    #[test]
    fn output_and_exit_status() {
        let o = sh(
            "echo 'CRS-4638: Oracle High Availability Services is online'; echo oops >&2; exit 3",
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(o.stdout, "CRS-4638: Oracle High Availability Services is online\n");
        assert_eq!(o.stderr, "oops\n");
        assert_eq!(o.status.code(), Some(3));
    }

    #[test]
    fn a_hung_tool_and_its_children_are_killed_at_the_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("child.pid");
        // A background child keeps stdout open: without killing the group the pipe would
        // never close. It records its pid once it runs; the tool hangs only after that, so a
        // slow fork on a loaded machine cannot leave the pid file unwritten at the kill.
        let script = format!(
            "sh -c 'echo $$ > {0}.tmp; mv {0}.tmp {0}; exec sleep 30' &
             while [ ! -e {0} ]; do sleep 0.01; done; sleep 30",
            pid_file.display()
        );
        let t = Instant::now();
        let e = sh(&script, Duration::from_secs(2)).unwrap_err();
        assert!(t.elapsed() < Duration::from_secs(10), "took {:?}", t.elapsed());
        assert!(matches!(e, ExecError::Timeout { .. }), "{e}");
        assert!(e.to_string().starts_with("/bin/sh: no result within 2s"), "{e}");
        let pid = std::fs::read_to_string(&pid_file).unwrap();
        let stat = format!("/proc/{}/stat", pid.trim());
        // Gone, or a zombie waiting for init to reap it.
        let mut last = String::new();
        let dead = obwatch_testkit::net::poll(Duration::from_secs(5), || {
            last = std::fs::read_to_string(&stat).unwrap_or_default();
            let zombie = last.rsplit(')').next().is_some_and(|r| r.trim_start().starts_with('Z'));
            (last.is_empty() || zombie).then_some(())
        });
        assert!(dead.is_some(), "the child survived its group's kill: {last}");
    }

    #[test]
    fn a_tool_that_closes_its_output_and_keeps_running_is_killed_at_the_timeout() {
        let t = Instant::now();
        let e = sh("exec >/dev/null 2>&1; sleep 30", Duration::from_millis(300)).unwrap_err();
        assert!(matches!(e, ExecError::Timeout { .. }), "{e}");
        assert!(t.elapsed() < Duration::from_secs(5), "took {:?}", t.elapsed());
    }

    #[test]
    fn a_missing_program_is_named() {
        let e = run(Path::new("/nonexistent/crsctl"), &[], Duration::from_secs(1)).unwrap_err();
        assert!(e.to_string().starts_with("/nonexistent/crsctl: cannot run:"), "{e}");
    }

    #[test]
    fn runaway_output_is_cut() {
        let e = sh("yes", Duration::from_secs(20)).unwrap_err();
        assert!(matches!(e, ExecError::TooMuchOutput { .. }), "{e}");
    }
}
