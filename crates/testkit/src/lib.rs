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
    pub fn start_listening(bin: &Path, args: &[&str], log: &Path) -> (Proc, String) {
        let mut p = Proc::start(bin, args, log);
        let addr = net::wait_for("the Listening. log line", Duration::from_secs(20), || {
            if let Ok(Some(status)) = p.0.try_wait() {
                let text = std::fs::read_to_string(log).unwrap_or_default();
                panic!("{} exited with {status} before listening:\n{text}", bin.display());
            }
            listening_address(&std::fs::read_to_string(log).ok()?)
        });
        (p, addr)
    }
}

/// The address in a daemon's first `Listening.` log line (logfmt or JSON), if it has logged one.
pub fn listening_address(log: &str) -> Option<String> {
    for line in log.lines() {
        if line.contains("msg=Listening.") {
            return line.split(' ').find_map(|w| w.strip_prefix("address=")).map(str::to_string);
        }
        if line.contains(r#""msg":"Listening.""#) {
            let rest = line.split(r#""address":""#).nth(1)?;
            return rest.split('"').next().map(str::to_string);
        }
    }
    None
}
