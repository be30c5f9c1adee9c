//! `run()` on 127.0.0.1:0 over the fixture tree: the scrape equals the golden file
//! (`UPDATE_GOLDEN=1` rewrites it), passes `promtool check metrics`, honours `collect[]` and
//! `exclude[]`, and concurrent scrapes share one collection.
#![allow(clippy::disallowed_methods, clippy::unwrap_used)] // test code

mod util;

use std::path::Path;

use obwatch_exporter::collector::ALL;
use util::*;

fn tree_args(tree: &Path) -> Vec<String> {
    vec![
        format!("--path.procfs={}", tree.join("proc").display()),
        format!("--path.sysfs={}", tree.join("sys").display()),
    ]
}

async fn fetch(url: String) -> (u16, String) {
    tokio::task::spawn_blocking(move || get(&url).unwrap()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golden_scrape_of_fixture_tree() {
    let tree = fixture_tree();
    let mut args = tree_args(tree.path());
    args.push("--collector.disable-defaults".into());
    for s in ALL.iter().filter(|s| !HOST_BOUND.contains(&s.name)) {
        args.push(format!("--collector.{}", s.name));
    }
    let (base, _stop) = serve_in_process(&args).await;
    let (status, body) = fetch(format!("{base}/metrics")).await;
    assert_eq!(status, 200);
    promtool_check_own(&body);
    assert_golden("fixture", &body);
    for s in ALL.iter().filter(|s| !HOST_BOUND.contains(&s.name)) {
        assert!(
            body.contains(&format!(
                "node_scrape_collector_success{{collector=\"{}\"}} 1\n",
                s.name
            )),
            "collector {} failed on the fixture tree",
            s.name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_scrape_of_this_host_passes_promtool() {
    let (base, _stop) = serve_in_process(&[]).await;
    let (status, body) = fetch(format!("{base}/metrics")).await;
    assert_eq!(status, 200);
    promtool_check_own(&body);
    assert!(body.contains("node_load1 "));
    assert!(body.contains("process_resident_memory_bytes "));
    assert!(body.contains("obwatch_build_info{"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collect_and_exclude_filters() {
    let (base, _stop) = serve_in_process(&[]).await;
    let (s, body) = fetch(format!("{base}/metrics?collect[]=loadavg")).await;
    assert_eq!(s, 200);
    let fams = families(&body);
    assert!(fams.contains_key("node_load1"));
    let success = &fams["node_scrape_collector_success"];
    assert_eq!(success.samples.len(), 1, "only loadavg ran");
    assert!(
        !fams.contains_key("process_cpu_seconds_total"),
        "filtered scrapes carry no exporter metrics"
    );

    let (s, body) = fetch(format!("{base}/metrics?exclude%5B%5D=loadavg")).await;
    assert_eq!(s, 200);
    assert!(!body.contains("node_load1 ") && body.contains("collector=\"filesystem\""));

    let (s, body) = fetch(format!("{base}/metrics?collect[]=loadavg&exclude[]=filesystem")).await;
    assert_eq!(s, 400, "{body}");
    let (s, body) = fetch(format!("{base}/metrics?collect[]=nosuch")).await;
    assert_eq!(s, 400);
    assert!(body.contains("\"nosuch\" is unknown or not enabled"), "{body}");

    for (path, code) in [("/", 200), ("/-/healthy", 200), ("/-/ready", 200), ("/nope", 404)] {
        assert_eq!(fetch(format!("{base}{path}")).await.0, code, "{path}");
    }
    assert!(fetch(format!("{base}/")).await.1.contains("href=\"/metrics\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_scrapes_share_collections() {
    let (base, _stop) = serve_in_process(&[]).await;
    let scrapes: Vec<_> = (0..20).map(|_| tokio::spawn(fetch(format!("{base}/metrics")))).collect();
    for s in scrapes {
        assert_eq!(s.await.unwrap().0, 200);
    }
    let (_, body) = fetch(format!("{base}/metrics")).await;
    let fams = families(&body);
    let requests = fams["obwatch_exporter_scrape_requests_total"].samples[0].value;
    let collections = fams["obwatch_exporter_collections_total"].samples[0].value;
    assert_eq!(requests, 21.0);
    assert!(
        collections < requests,
        "{collections} collections for {requests} requests: no sharing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_when_accepted() {
    let (base, _stop) = serve_in_process(&[]).await;
    let url = format!("{base}/metrics");
    let (status, body) = tokio::task::spawn_blocking(move || {
        get_with(&url, &[("Accept-Encoding", "gzip")]).unwrap()
    })
    .await
    .unwrap();
    assert_eq!(status, 200);
    // A gzip stream starts with 1f 8b; lossy UTF-8 keeps 0x1f and replaces 0x8b.
    assert!(body.starts_with('\u{1f}') && !body.contains("node_load1"), "body was not compressed");
}
