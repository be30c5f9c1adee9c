//! Helpers shared by the logtailer's integration tests: loopback ports, HTTP GETs through
//! curl, child processes killed on drop, and a real Alertmanager in a temp dir.
#![allow(dead_code)] // each test binary uses its own subset

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A port free right now on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The body of a 2xx answer to GET `url`, `None` otherwise.
pub fn get(url: &str) -> Option<String> {
    let out = Command::new("curl").args(["-sf", "--max-time", "2", url]).output().ok()?;
    out.status.success().then(|| String::from_utf8(out.stdout).unwrap())
}

/// A child process killed and reaped when dropped.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until `child` answers `/-/ready` on `port`; fails if it exits or takes over 30 s.
pub fn wait_ready(port: u16, child: &mut Child, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while get(&format!("http://127.0.0.1:{port}/-/ready")).is_none() {
        assert!(child.try_wait().unwrap().is_none(), "{what} exited");
        assert!(Instant::now() < deadline, "{what} not ready on :{port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts Alertmanager (Debian's `prometheus-alertmanager`) with its config, storage and log
/// in `dir` on `port`, clustering off, and waits until it is ready.
pub fn spawn_alertmanager(dir: &Path, port: u16) -> Killed {
    let cfg = dir.join("am.yml");
    std::fs::write(&cfg, "route: { receiver: blackhole }\nreceivers: [{ name: blackhole }]\n")
        .unwrap();
    let child = Command::new("prometheus-alertmanager")
        .arg(format!("--config.file={}", cfg.display()))
        .arg(format!("--storage.path={}", dir.join("am-data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--cluster.listen-address=")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("am.log")).unwrap())
        .spawn()
        .expect("prometheus-alertmanager (scripts/test.sh installs it)");
    let mut am = Killed(child);
    wait_ready(port, &mut am.0, "alertmanager");
    am
}
