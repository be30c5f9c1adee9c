//! The obproxy collector relaying a metrics endpoint. OBProxy cannot run here, so a small HTTP
//! server in the test stands in for its `prometheus_listen_port`: the test checks the relay
//! (families copied, client-library families dropped, `obwatch_obproxy_up`, no stale series when the
//! endpoint fails or hangs, scrapes never waiting), not OBProxy's metric names.
#![allow(clippy::disallowed_methods, clippy::unwrap_used)] // test code

mod util;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use util::*;

const OK: u8 = 0;
const ERROR: u8 = 1;
const HANG: u8 = 2;

const BODY: &str = "# HELP odp_client_connections Client connections.\n# TYPE odp_client_connections gauge\nodp_client_connections{cluster=\"obcluster\"} 12\n# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes 1.2e+08\n";

/// Serves `BODY`, a 503 or nothing, as `mode` says, on a free port; returns the port.
fn fake_endpoint(mode: Arc<AtomicU8>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mode = mode.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let reply = match mode.load(Ordering::SeqCst) {
                    OK => format!("HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{BODY}", BODY.len()),
                    ERROR => "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string(),
                    _ => {
                        // Hang: hold the connection until the client gives up.
                        let _ = std::io::Read::read(&mut stream, &mut [0; 1]);
                        return;
                    }
                };
                let _ = stream.write_all(reply.as_bytes());
            });
        }
    });
    port
}

#[test]
fn relays_obproxy_metrics_and_drops_them_when_it_fails() {
    let mode = Arc::new(AtomicU8::new(OK));
    let port = fake_endpoint(mode.clone());
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("exporter.yml");
    std::fs::write(&cfg, "obproxy:\n  interval: 1s\n  timeout: 1s\n").unwrap();
    let url = format!("http://127.0.0.1:{port}/metrics");
    let (_ex, base) = start_ours(
        &[
            "--collector.disable-defaults",
            "--obproxy.metrics-url",
            &url,
            "--config.file",
            cfg.to_str().unwrap(),
        ],
        &dir.path().join("exporter.log"),
    );
    let metrics = format!("{base}/metrics");
    let body = scrape_until(&metrics, "obwatch_obproxy_up 1", |b| {
        value(b, "obwatch_obproxy_up", &[]) == Some(1.0)
    });
    assert_eq!(value(&body, "odp_client_connections", &[("cluster", "obcluster")]), Some(12.0));
    assert!(!body.contains("1.2e+08"), "OBProxy's process_* are dropped: {body}");
    assert!(families(&body).contains_key("process_resident_memory_bytes"), "ours stay");

    let log_path = dir.path().join("exporter.log");
    for (m, what, logged) in
        [(ERROR, "a 503", "HTTP 503"), (HANG, "a hung endpoint", "no answer within 1s")]
    {
        mode.store(m, Ordering::SeqCst);
        let body =
            scrape_until(&metrics, what, |b| value(b, "obwatch_obproxy_up", &[]) == Some(0.0));
        assert!(!families(&body).contains_key("odp_client_connections"), "{what}: stale series");
        // `obwatch_obproxy_up 0` could be a slow answer too: the log says it was this failure.
        wait_for(logged, Duration::from_secs(10), || {
            std::fs::read_to_string(&log_path).ok()?.contains(logged).then_some(())
        });
        // A scrape that waited for the endpoint would take its 1 s timeout.
        let t = Instant::now();
        get(&metrics).unwrap();
        assert!(
            t.elapsed() < Duration::from_millis(750),
            "{what}: a scrape waited {:?}",
            t.elapsed()
        );
        mode.store(OK, Ordering::SeqCst);
        scrape_until(&metrics, "recovery", |b| value(b, "obwatch_obproxy_up", &[]) == Some(1.0));
    }
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert_eq!(log.matches("HTTP 503").count(), 1, "logged once per change:\n{log}");
}
