//! Loopback ports, a minimal HTTP/1.1 GET, and polling for a condition.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// A port nothing listens on right now on 127.0.0.1: for a dead peer's address, and for
/// MariaDB, which cannot bind port 0 (`--port=0` means 3306). Everything else that listens is
/// started on `127.0.0.1:0` and tells its port (`Proc::start_listening`).
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
    // Split and de-chunk the bytes before decoding: chunk sizes count bytes, not characters.
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n").map_or(buf.len(), |i| i + 4);
    let (head, body) = buf.split_at(split);
    let head = String::from_utf8_lossy(head);
    let status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        dechunk(body)
    } else {
        body.to_vec()
    };
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

fn dechunk(mut s: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(i) = s.windows(2).position(|w| w == b"\r\n") {
        let size = String::from_utf8_lossy(&s[..i]);
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        let rest = &s[i + 2..];
        if n == 0 || rest.len() < n {
            break;
        }
        out.extend_from_slice(&rest[..n]);
        s = rest.get(n + 2..).unwrap_or(&[]);
    }
    out
}

/// Polls `check` until it returns `Some`, or gives `None` once `timeout` has passed: checks
/// at once, then after 5 ms, backing off to every 20 ms. Tests wait on a condition through
/// this, never on a fixed sleep; the caller builds its own failure message (with the last
/// value it saw) from the `None`.
pub fn poll<T>(timeout: Duration, check: impl FnMut() -> Option<T>) -> Option<T> {
    poll_with(timeout, (Duration::from_millis(5), Duration::from_millis(20)), check)
}

/// [`poll`] checking every `every`, for a check that costs its peer real work (a round of
/// PromQL queries).
pub fn poll_every<T>(
    timeout: Duration,
    every: Duration,
    check: impl FnMut() -> Option<T>,
) -> Option<T> {
    poll_with(timeout, (every, every), check)
}

fn poll_with<T>(
    timeout: Duration,
    (first, most): (Duration, Duration),
    mut check: impl FnMut() -> Option<T>,
) -> Option<T> {
    let start = Instant::now();
    let mut pause = first;
    loop {
        if let Some(v) = check() {
            return Some(v);
        }
        if start.elapsed() >= timeout {
            return None;
        }
        std::thread::sleep(pause.min(timeout.saturating_sub(start.elapsed())));
        pause = (pause * 2).min(most);
    }
}

/// [`poll`], panicking naming `what` after `timeout`.
pub fn wait_for<T>(what: &str, timeout: Duration, check: impl FnMut() -> Option<T>) -> T {
    poll(timeout, check).unwrap_or_else(|| panic!("timed out after {timeout:?} waiting for {what}"))
}

/// Percent-encodes a query-string value (PromQL).
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
