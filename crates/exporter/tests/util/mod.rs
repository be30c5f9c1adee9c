//! Helpers for the exporter's integration tests: real peer binaries, child processes that are
//! killed on drop, a fixture procfs/sysfs tree, a tiny HTTP client, scrape parsing.
#![allow(dead_code, clippy::disallowed_methods, clippy::unwrap_used)] // tests spawn real peers on purpose

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use obwatch_common::exposition::{self, Family};

/// A peer binary from the Debian packages `scripts/test.sh` installs. Missing means the test
/// environment is incomplete: fail loudly rather than skip, so CI can't pass without it.
pub fn peer(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file()).unwrap_or_else(|| {
        panic!("{name} not found in PATH; run scripts/test.sh, which installs it")
    })
}

/// Our binary, built by cargo for this test target.
pub fn ours() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_obwatch-exporter"))
}

/// A child process killed (and reaped) when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Proc {
    /// Starts `bin args...` with stdout/stderr to files under `log_dir` for post-mortems.
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
}

/// A port free right now on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `GET url` over plain HTTP/1.1 (`http://127.0.0.1:PORT/path`), returns (status, body).
pub fn get(url: &str) -> std::io::Result<(u16, String)> {
    get_with(url, &[])
}

/// `GET` with extra request headers.
pub fn get_with(url: &str, headers: &[(&str, &str)]) -> std::io::Result<(u16, String)> {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) =
        rest.split_once('/').map_or((rest, "/".to_string()), |(h, p)| (h, format!("/{p}")));
    let mut s = TcpStream::connect(host)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    // Our server and node_exporter send Content-Length for these small bodies; decode
    // chunked just in case.
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        dechunk(body)
    } else {
        body.to_string()
    };
    Ok((status, body))
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
    out
}

/// Polls `url` until it answers 200 or `timeout` passes.
pub fn wait_ready(url: &str, timeout: Duration) {
    let start = Instant::now();
    loop {
        if let Ok((200, _)) = get(url) {
            return;
        }
        assert!(start.elapsed() < timeout, "{url} not ready within {timeout:?}");
        std::thread::sleep(Duration::from_millis(20)); // poll interval
    }
}

/// Builds the fixture procfs/sysfs tree from `tests/fixtures/*.tree`.
pub fn fixture_tree() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    obwatch_exporter::fixture::build_all(d.path(), &fixtures).unwrap();
    d
}

/// Parses a scrape into families by name.
pub fn families(text: &str) -> BTreeMap<String, Family> {
    exposition::parse(text)
        .unwrap_or_else(|e| panic!("scrape does not parse: {e}\n{text}"))
        .into_iter()
        .map(|f| (f.name.clone(), f))
        .collect()
}

/// A sample's labels as a sorted map, for comparisons.
pub fn label_map(s: &exposition::Sample) -> BTreeMap<String, String> {
    s.labels.iter().cloned().collect()
}

/// Starts our binary with `args` on a free port and waits until it serves.
pub fn start_ours(args: &[&str], log: &Path) -> (Proc, String) {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut all = vec!["--web.listen-address", &listen];
    all.extend_from_slice(args);
    let p = Proc::start(&ours(), &all, log);
    let base = format!("http://{listen}");
    wait_ready(&format!("{base}/-/healthy"), Duration::from_secs(10));
    (p, base)
}

/// Runs `promtool check metrics` on a scrape. Returns its lint findings (one per line); a text
/// promtool cannot parse at all fails the test.
pub fn promtool_lint(text: &str) -> BTreeSet<String> {
    let mut child = Command::new(peer("promtool"))
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let msg =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(!msg.contains("error while linting"), "promtool cannot parse the scrape:\n{msg}");
    msg.lines().filter(|l| !l.trim().is_empty()).map(str::to_string).collect()
}

/// The value of `name{labels}` in a scrape, if present.
pub fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let fams = families(text);
    let base = ["_bucket", "_count", "_sum"]
        .iter()
        .find_map(|s| name.strip_suffix(s).filter(|b| fams.contains_key(*b)))
        .unwrap_or(name);
    fams.get(base)?.samples.iter().find_map(|s| {
        let m = label_map(s);
        let want = labels.iter().all(|(k, v)| m.get(*k).map(String::as_str) == Some(*v));
        (s.name == name && want && m.len() == labels.len()).then_some(s.value)
    })
}

/// Scrapes until `cond` holds on the body; fails with the last body after 15 s.
pub fn scrape_until(url: &str, what: &str, cond: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, body) = get(url).unwrap();
        assert_eq!(status, 200);
        if cond(&body) {
            return body;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}:\n{body}");
        std::thread::sleep(Duration::from_millis(50)); // poll interval
    }
}
