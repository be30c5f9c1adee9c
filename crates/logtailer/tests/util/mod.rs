//! Helpers shared by the logtailer's integration tests: HTTP GETs through curl, a real
//! Alertmanager in a temp dir on a port the kernel picks (optionally serving TLS); the test
//! PKI is the shared test kit's.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub use obwatch_testkit::net::free_port;
use obwatch_testkit::net::wait_for;
pub use obwatch_testkit::pki::make_pki;

/// The body of a 2xx answer to GET `url`, `None` otherwise.
pub fn get(url: &str) -> Option<String> {
    get_with::<&str>(url, &[])
}

/// As [`get`], with more curl arguments (`--cacert`, `--cert`, ...).
pub fn get_with<A: AsRef<std::ffi::OsStr>>(url: &str, curl_args: &[A]) -> Option<String> {
    let out = Command::new("curl")
        .args(["-sf", "--max-time", "2"])
        .args(curl_args)
        .arg(url)
        .output()
        .ok()?;
    out.status.success().then(|| String::from_utf8(out.stdout).unwrap())
}

/// A child process killed and reaped when dropped: the test kit's.
pub use obwatch_testkit::Proc as Killed;

/// Waits until `child` answers `/-/ready` on `port`; fails if it exits or takes over 30 s.
pub fn wait_ready(port: u16, child: &mut Child, what: &str) {
    wait_for(&format!("{what} ready on :{port}"), Duration::from_secs(30), || {
        assert!(child.try_wait().unwrap().is_none(), "{what} exited");
        get(&format!("http://127.0.0.1:{port}/-/ready"))
    });
}

/// Starts Alertmanager (Debian's `prometheus-alertmanager`) with its config, storage and log
/// in `dir` on `port` (0: the kernel picks one), clustering off; waits until it is ready and
/// returns it with its port.
pub fn spawn_alertmanager(dir: &Path, port: u16) -> (Killed, u16) {
    let child = alertmanager_command(dir, port)
        .spawn()
        .expect("prometheus-alertmanager (scripts/test.sh installs it)");
    let mut am = Killed(child);
    let port = bound_port(&mut am, dir);
    wait_ready(port, &mut am.0, "alertmanager");
    (am, port)
}

/// The port Alertmanager bound, from its log (`msg="Listening on" address=127.0.0.1:PORT`).
fn bound_port(am: &mut Killed, dir: &Path) -> u16 {
    let addr = am.wait_listening("alertmanager", &dir.join("am.log"));
    addr.rsplit_once(':').and_then(|(_, p)| p.parse().ok()).expect("HOST:PORT")
}

fn alertmanager_command(dir: &Path, port: u16) -> Command {
    let cfg = dir.join("am.yml");
    std::fs::write(&cfg, "route: { receiver: blackhole }\nreceivers: [{ name: blackhole }]\n")
        .unwrap();
    let mut c = Command::new("prometheus-alertmanager");
    c.arg(format!("--config.file={}", cfg.display()))
        .arg(format!("--storage.path={}", dir.join("am-data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--cluster.listen-address=")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("am.log")).unwrap());
    c
}

/// Starts Alertmanager serving https only on a port the kernel picks, with the server
/// certificate of [`make_pki`] in `pki` and requiring a client certificate signed by its CA;
/// waits until it is ready and returns it with its port.
pub fn spawn_alertmanager_tls(dir: &Path, pki: &Path) -> (Killed, u16) {
    let web = dir.join("am-web.yml");
    std::fs::write(
        &web,
        format!(
            "tls_server_config:\n  cert_file: {0}/server.pem\n  key_file: {0}/server.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: {0}/ca.pem\n",
            pki.display()
        ),
    )
    .unwrap();
    let child = alertmanager_command(dir, 0)
        .arg(format!("--web.config.file={}", web.display()))
        .spawn()
        .expect("prometheus-alertmanager (scripts/test.sh installs it)");
    let mut am = Killed(child);
    let port = bound_port(&mut am, dir);
    wait_for(&format!("alertmanager (TLS) ready on :{port}"), Duration::from_secs(30), || {
        assert!(am.0.try_wait().unwrap().is_none(), "alertmanager (TLS) exited");
        get_with(&format!("https://127.0.0.1:{port}/-/ready"), &tls_curl_args(pki))
    });
    (am, port)
}

/// curl arguments to talk to [`spawn_alertmanager_tls`]: its CA and the client certificate.
pub fn tls_curl_args(pki: &Path) -> Vec<std::ffi::OsString> {
    let mut args = Vec::new();
    for (flag, file) in [("--cacert", "ca.pem"), ("--cert", "client.pem"), ("--key", "client.key")]
    {
        args.push(flag.into());
        args.push(pki.join(file).into_os_string());
    }
    args
}
