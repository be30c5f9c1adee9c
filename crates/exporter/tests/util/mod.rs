//! Helpers for the exporter's integration tests: the shared test kit's peers, processes and
//! HTTP client, plus our binary, the fixture procfs/sysfs tree and scrape parsing.
#![allow(dead_code, clippy::disallowed_methods, clippy::unwrap_used)] // tests spawn real peers on purpose

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use obwatch_common::exposition::{self, Family};
// Not every test uses every helper.
#[allow(unused_imports)]
pub use obwatch_testkit::net::{get, get_with, poll, wait_for};
pub use obwatch_testkit::{Proc, peer, promtool_lint};

/// Our binary, built by cargo for this test target.
pub fn ours() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_obwatch-exporter"))
}

/// Polls `url` until it answers 200 or `timeout` passes.
pub fn wait_ready(url: &str, timeout: Duration) {
    wait_for(&format!("{url} to answer 200"), timeout, || {
        matches!(get(url), Ok((200, _))).then_some(())
    });
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

/// Starts our binary with `args` on a port the kernel picks (read back from its "Listening."
/// log line, so no other test can take the port between a probe and the bind) and waits until
/// it serves.
pub fn start_ours(args: &[&str], log: &Path) -> (Proc, String) {
    start_ours_under(&[], args, log)
}

/// As [`start_ours`], run through `wrapper` (e.g. `prlimit --nofile=1024:1024 --`).
pub fn start_ours_under(wrapper: &[&str], args: &[&str], log: &Path) -> (Proc, String) {
    let bin = ours();
    let mut all: Vec<&str> = wrapper.iter().skip(1).copied().collect();
    if !wrapper.is_empty() {
        all.push(bin.to_str().unwrap());
    }
    all.extend_from_slice(&["--web.listen-address", "127.0.0.1:0"]);
    all.extend_from_slice(args);
    let program = wrapper.first().map_or(bin.clone(), |w| peer(w));
    let (p, listen) = Proc::start_listening(&program, &all, log);
    let base = format!("http://{listen}");
    wait_ready(&format!("{base}/-/healthy"), Duration::from_secs(10));
    (p, base)
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
    let mut last = String::new();
    let found = poll(Duration::from_secs(15), || {
        let (status, body) = get(url).unwrap();
        assert_eq!(status, 200);
        last = body;
        cond(&last).then(|| last.clone())
    });
    found.unwrap_or_else(|| panic!("timed out waiting for {what}:\n{last}"))
}

/// Collectors whose output depends on the live host (or a database), not a fixture tree.
pub const HOST_BOUND: &[&str] =
    &["clusterware", "filesystem", "obproxy", "oceanbase", "textfile", "time", "timex", "uname"];

/// Starts `run()` in-process with `args`; returns the base URL and a stop handle.
pub async fn serve_in_process(args: &[String]) -> (String, tokio::sync::oneshot::Sender<()>) {
    let argv = std::iter::once("obwatch-exporter".to_string()).chain(args.iter().cloned());
    let config = obwatch_exporter::Config::load(argv).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        obwatch_exporter::run(config, vec![listener], async move {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    (base, tx)
}

/// Our own families must pass `promtool check metrics` outright. node_exporter's inherited names
/// (meminfo's CamelCase, `node_entropy_*_bits`, ...) are linted by promtool too; compat.rs
/// checks that we add no finding node_exporter doesn't have itself.
pub fn promtool_check_own(text: &str) {
    let own: Vec<String> =
        promtool_lint(text).into_iter().filter(|l| !l.starts_with("node_")).collect();
    assert!(own.is_empty(), "promtool check metrics:\n{}", own.join("\n"));
}

/// Compares a scrape's run-independent lines (not durations, not our own process and build
/// families, not `node_exporter_build_info`, which carries this build's revision) with `tests/golden/<name>.prom`; `UPDATE_GOLDEN=1` writes the file instead.
pub fn assert_golden(name: &str, body: &str) {
    let stable: String = body
        .lines()
        .filter(|l| {
            !l.starts_with("node_scrape_collector_duration_seconds")
                && !l.starts_with("process_")
                && !l.starts_with("obwatch_")
                && !l.starts_with("node_exporter_build_info")
                && !l.contains(" node_exporter_build_info ")
                && !l.contains(" process_")
                && !l.contains(" obwatch_")
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/golden/{name}.prom"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &stable).unwrap();
    }
    let want = std::fs::read_to_string(&path).expect("golden file; create with UPDATE_GOLDEN=1");
    if stable != want {
        let first = stable.lines().zip(want.lines()).position(|(a, b)| a != b);
        panic!(
            "scrape differs from {} at line {:?} (UPDATE_GOLDEN=1 to accept):\n--- got\n{stable}",
            path.display(),
            first.map(|i| i + 1)
        );
    }
}
