//! Connections cannot lock scrapes out: with the descriptor limit at 1,024 (soft and hard, as
//! `prlimit` sets it), 1,100 idle and half-sent connections are opened, and scrapes on new
//! connections still succeed (the longest-idle connection is closed to admit a new one);
//! a connection that never sends a whole request is closed after the header timeout.
#![allow(clippy::disallowed_methods, clippy::unwrap_used)] // test code

mod util;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use util::*;

#[test]
fn idle_and_half_sent_connections_cannot_lock_scrapes_out() {
    // The test itself holds 1,100 sockets: raise its own soft limit to the hard one.
    obwatch_common::cli::raise_nofile_limit().unwrap();
    let logs = tempfile::tempdir().unwrap().keep();
    let log = logs.join("exporter.log");
    let (_proc, base) = start_ours_under(
        &["prlimit", "--nofile=1024:1024", "--"],
        &["--collector.disable-defaults", "--collector.loadavg", "--web.max-connections=256"],
        &log,
    );
    let addr = base.trim_start_matches("http://").to_string();
    let mut held = Vec::new();
    for i in 0..1100 {
        let mut s = TcpStream::connect(&addr).unwrap();
        if i % 2 == 0 {
            // Half-sent: a request line and no end of headers.
            s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n").unwrap();
        }
        held.push(s);
    }
    for n in 0..5 {
        let t = Instant::now();
        let (status, body) = get(&format!("{base}/metrics")).unwrap();
        assert_eq!(status, 200, "scrape {n} with 1,100 connections open");
        assert!(body.contains("node_load1 "), "scrape {n}");
        assert!(t.elapsed() < Duration::from_secs(5), "scrape {n} took {:?}", t.elapsed());
    }
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains("Too many open files"), "descriptors ran out:\n{text}");
    // The oldest connections were closed to make room: reading them gives EOF (or a reset).
    let mut first = held.swap_remove(0);
    first.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = [0u8; 16];
    assert!(matches!(first.read(&mut buf), Ok(0) | Err(_)), "the oldest connection is still open");
}

#[test]
fn a_connection_without_a_whole_request_is_closed_after_the_header_timeout() {
    let logs = tempfile::tempdir().unwrap().keep();
    let (_proc, base) = start_ours(
        &["--collector.disable-defaults", "--collector.loadavg", "--web.read-header-timeout=1s"],
        &logs.join("exporter.log"),
    );
    let addr = base.trim_start_matches("http://");
    let mut slow = TcpStream::connect(addr).unwrap();
    slow.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n").unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let t = Instant::now();
    let mut buf = [0u8; 64];
    let n = slow.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0, "expected the server to close, got {:?}", &buf[..n]);
    let took = t.elapsed();
    assert!(took >= Duration::from_millis(900) && took < Duration::from_secs(10), "{took:?}");

    // A kept-alive connection that completes requests stays open across them.
    let mut kept = TcpStream::connect(addr).unwrap();
    for _ in 0..2 {
        kept.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut got = Vec::new();
        let mut chunk = [0u8; 65536];
        while !String::from_utf8_lossy(&got).contains("node_load1 ") {
            let n = kept.read(&mut chunk).unwrap();
            assert!(n > 0, "closed while serving");
            got.extend_from_slice(&chunk[..n]);
        }
    }
}
