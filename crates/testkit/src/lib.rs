//! Helpers shared by the integration tests of the obwatch crates and by the end-to-end suite:
//! real peer binaries started as child processes that die with the test ([`Proc`], [`peer`]),
//! loopback ports and a tiny HTTP client ([`net`]), a MariaDB loaded with OceanBase view
//! fixtures ([`mariadb`]), a throwaway PKI ([`pki`]), tmpfs mounts ([`tmpfs`]) and a fake
//! Clusterware home ([`clusterware`]).
//!
//! Test code: it panics with a message instead of returning errors, and spawns processes.
#![forbid(unsafe_code)]
#![allow(clippy::disallowed_methods, clippy::unwrap_used)]

pub mod clusterware;
pub mod docs;
pub mod fuzz;
pub mod mariadb;
pub mod net;
pub mod pki;
pub mod tmpfs;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A peer binary from the Debian packages `scripts/test.sh` installs. Missing means the test
/// environment is incomplete: fail loudly rather than skip, so CI cannot pass without it.
pub fn peer(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file()).unwrap_or_else(|| {
        panic!("{name} not found in PATH; run scripts/test.sh, which installs it")
    })
}

/// Runs `promtool check metrics` on a scrape. Returns its lint findings (one per line); a text
/// promtool cannot parse at all fails the test.
pub fn promtool_lint(text: &str) -> std::collections::BTreeSet<String> {
    let mut child = Command::new(peer("promtool"))
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let msg =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(!msg.contains("error while linting"), "promtool cannot parse the scrape:\n{msg}");
    msg.lines().filter(|l| !l.trim().is_empty()).map(str::to_string).collect()
}

/// A child process killed (and reaped) when dropped.
#[derive(Debug)]
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Proc {
    /// Starts `bin args...` with stdin closed and stdout/stderr to `log` for post-mortems.
    pub fn start(bin: &Path, args: &[&str], log: &Path) -> Proc {
        let out = std::fs::File::create(log).unwrap();
        let child = Command::new(bin)
            .args(args)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        Proc(child)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.0.id()
    }

    /// Starts one of our daemons (`bin args...`, logging to `log`), which was told to listen
    /// on `127.0.0.1:0`, and returns it with the address it bound, read back from its
    /// `msg=Listening. address=HOST:PORT` log line: the kernel picks the port, so there is no
    /// probe-then-bind race with other tests.
    /// The peers (Prometheus, Alertmanager, node_exporter, process-exporter: Go's
    /// exporter-toolkit) are started the same way: they log `msg="Listening on"
    /// address=HOST:PORT` with the port they bound.
    pub fn start_listening(bin: &Path, args: &[&str], log: &Path) -> (Proc, String) {
        let mut p = Proc::start(bin, args, log);
        let addr = p.wait_listening(&bin.display().to_string(), log);
        (p, addr)
    }

    /// Waits for the address the process (`what`, logging to `log`) bound; fails with the log
    /// if it exits first or takes over 20 s.
    pub fn wait_listening(&mut self, what: &str, log: &Path) -> String {
        net::wait_for(&format!("{what} to log where it listens"), Duration::from_secs(20), || {
            if let Ok(Some(status)) = self.0.try_wait() {
                let text = std::fs::read_to_string(log).unwrap_or_default();
                panic!("{what} exited with {status} before listening:\n{text}");
            }
            listening_address(&std::fs::read_to_string(log).ok()?)
        })
    }
}

/// The address in a daemon's first `Listening.` log line (logfmt or JSON), or in the
/// `msg="Listening on"` line of Go's exporter-toolkit, if it has logged one.
pub fn listening_address(log: &str) -> Option<String> {
    for line in log.lines() {
        if line.contains("msg=Listening.") || line.contains(r#"msg="Listening on""#) {
            return line.split(' ').find_map(|w| w.strip_prefix("address=")).map(str::to_string);
        }
        if line.contains(r#""msg":"Listening.""#) {
            let rest = line.split(r#""address":""#).nth(1)?;
            return rest.split('"').next().map(str::to_string);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::listening_address;

    #[test]
    fn the_bound_address_is_read_from_our_logs_and_the_peers() {
        // Captured 2026-12-07 from Debian's Prometheus 2.42 (which first logs the address it
        // was given), node_exporter 1.5, process-exporter 0.7.10, and from ours.
        let prometheus = "ts=2026-12-07T18:30:46.591Z caller=web.go:503 level=info component=web msg=\"Start listening for connections\" address=127.0.0.1:0\n\
            ts=2026-12-07T18:30:46.592Z caller=tls_config.go:232 level=info component=web msg=\"Listening on\" address=127.0.0.1:38291\n";
        assert_eq!(listening_address(prometheus).as_deref(), Some("127.0.0.1:38291"));
        let node_exporter = "ts=2026-12-07T18:30:46.442Z caller=tls_config.go:232 level=info msg=\"Listening on\" address=127.0.0.1:46639\n";
        assert_eq!(listening_address(node_exporter).as_deref(), Some("127.0.0.1:46639"));
        let process_exporter = "level=info ts=2026-12-07T18:30:46.554Z caller=tls_config.go:232 msg=\"Listening on\" address=127.0.0.1:37509\n";
        assert_eq!(listening_address(process_exporter).as_deref(), Some("127.0.0.1:37509"));
        let ours =
            "ts=2026-12-07T18:30:46.554Z level=info msg=Listening. address=127.0.0.1:40001\n";
        assert_eq!(listening_address(ours).as_deref(), Some("127.0.0.1:40001"));
        let json = r#"{"msg":"Listening.","address":"127.0.0.1:40002"}"#;
        assert_eq!(listening_address(json).as_deref(), Some("127.0.0.1:40002"));
        assert_eq!(listening_address("msg=\"Starting Alertmanager\"\n"), None);
    }
}
