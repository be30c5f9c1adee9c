//! The HTTP server every obwatch binary listens with: hyper 1 on tokio, HTTP/1.1 and HTTP/2,
//! optional TLS and basic auth from the web config, connection limits ([`crate::conns`]),
//! graceful shutdown (in-flight requests finish, new connections are refused).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue, WWW_AUTHENTICATE};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

use crate::conns::{Conn, ConnLimits, ConnTable};
use crate::logging::RateLimiter;
use crate::web::WebConfig;

/// The response type of every handler.
pub type HttpResponse = Response<Full<Bytes>>;

/// An application's request handler.
pub trait Handler: Send + Sync + 'static {
    /// Answers one request; authentication has already been checked.
    fn handle(&self, req: Request<Incoming>) -> impl Future<Output = HttpResponse> + Send;
}

/// How long a TLS handshake may take before the connection is dropped (slowloris guard).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long shutdown waits for in-flight requests.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Prometheus' text exposition format, version 0.0.4.
pub const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A metrics page: `body` in the text exposition format, `gzipped` already or not.
pub fn metrics_response(body: Bytes, gzipped: bool) -> HttpResponse {
    let mut r = Response::new(Full::new(body));
    if gzipped {
        r.headers_mut().insert(hyper::header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(METRICS_CONTENT_TYPE));
    r
}

/// What every daemon answers besides its own pages, as the Prometheus tools do: `/-/healthy`
/// and `/-/ready` (a daemon builds everything before it serves, so serving means ready), 405
/// for a method other than GET or HEAD, 404 for any other path. `None`: a GET or HEAD of a
/// path the daemon answers itself (`own`).
pub fn standard_response(req: &Request<Incoming>, own: &[&str]) -> Option<HttpResponse> {
    if req.method() != hyper::Method::GET && req.method() != hyper::Method::HEAD {
        return Some(text(StatusCode::METHOD_NOT_ALLOWED, "Only GET and HEAD are allowed.\n"));
    }
    match req.uri().path() {
        p if own.contains(&p) => None,
        "/-/healthy" => Some(text(StatusCode::OK, "Healthy.\n")),
        "/-/ready" => Some(text(StatusCode::OK, "Ready.\n")),
        _ => Some(text(StatusCode::NOT_FOUND, "Not found.\n")),
    }
}

/// A plain-text response.
pub fn text(status: StatusCode, body: impl Into<Bytes>) -> HttpResponse {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    r
}

/// Binds `addr` the way node_exporter reads `--web.listen-address`: `:PORT` means all
/// interfaces. Errors name the address.
pub async fn bind(addr: &str) -> std::io::Result<TcpListener> {
    let full = if addr.starts_with(':') { format!("[::]{addr}") } else { addr.to_string() };
    match TcpListener::bind(&full).await {
        Ok(l) => Ok(l),
        // No IPv6 on this host: fall back to IPv4 for the ":PORT" form.
        Err(_) if addr.starts_with(':') => TcpListener::bind(format!("0.0.0.0{addr}")).await,
        Err(e) => Err(e),
    }
    .map_err(|e| std::io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))
}

/// Serves `handler` on every listener until `shutdown` resolves, then drains.
pub async fn serve<H: Handler>(
    listeners: Vec<TcpListener>,
    web: Arc<WebConfig>,
    limits: ConnLimits,
    handler: Arc<H>,
    shutdown: impl Future<Output = ()>,
) {
    let (_keep, web) = watch::channel(web);
    serve_reloadable(listeners, web, limits, handler, shutdown).await;
}

/// As [`serve`], with a web config that can change while serving (a reload on SIGHUP): each
/// new connection uses the config current when it is accepted; connections already open
/// keep theirs until they close.
pub async fn serve_reloadable<H: Handler>(
    listeners: Vec<TcpListener>,
    web: watch::Receiver<Arc<WebConfig>>,
    limits: ConnLimits,
    handler: Arc<H>,
    shutdown: impl Future<Output = ()>,
) {
    // One accept task per listener feeds a single loop that owns the graceful-shutdown
    // tracker (it is deliberately not Clone). The channel holds one connection, so while the
    // loop waits for room in the table the accepters stop accepting (the kernel's backlog
    // holds the rest) instead of opening descriptors.
    let (tx, mut rx) = mpsc::channel::<(TcpStream, SocketAddr)>(1);
    let accept_log = Arc::new(RateLimiter::new(Duration::from_secs(60)));
    let accepters: Vec<_> = listeners
        .into_iter()
        .map(|l| {
            let (tx, accept_log) = (tx.clone(), accept_log.clone());
            tokio::spawn(async move {
                loop {
                    match l.accept().await {
                        Ok(conn) => {
                            if tx.send(conn).await.is_err() {
                                return;
                            }
                        }
                        // EMFILE and friends: log once a minute, back off, go on (a busy
                        // host must not kill the exporter).
                        Err(e) => {
                            if let Some(suppressed) = accept_log.check("accept") {
                                tracing::warn!(error = %e, suppressed, "Accept failed.");
                            }
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                    }
                }
            })
        })
        .collect();
    drop(tx);
    let graceful = GracefulShutdown::new();
    let table = ConnTable::new(limits);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            conn = rx.recv() => {
                let Some((stream, peer)) = conn else { break };
                let slot = tokio::select! {
                    slot = table.admit() => slot,
                    () = &mut shutdown => break,
                };
                let _ = stream.set_nodelay(true);
                let watcher = graceful.watcher();
                let (web, handler) = (web.borrow().clone(), handler.clone());
                tokio::spawn(async move {
                    let conn = Arc::new(slot);
                    tokio::select! {
                        () = serve_conn(stream, peer, web, handler, watcher, conn.clone()) => {}
                        // Dropping an idle or half-sent connection closes it; nothing is lost.
                        () = conn.expired() => {
                            tracing::debug!(%peer, "Closing an idle or slow connection.");
                        }
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    for a in accepters {
        a.abort();
    }
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown()).await.is_err() {
        tracing::warn!("Some connections did not finish within the drain timeout.");
    }
}

async fn serve_conn<H: Handler>(
    stream: TcpStream,
    peer: SocketAddr,
    web: Arc<WebConfig>,
    handler: Arc<H>,
    watcher: hyper_util::server::graceful::Watcher,
    conn: Arc<Conn>,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    if !web.http2 {
        builder = builder.http1_only();
    }
    let svc_web = web.clone();
    let service = hyper::service::service_fn(move |req| {
        let (web, handler, conn) = (svc_web.clone(), handler.clone(), conn.clone());
        async move {
            conn.busy();
            let resp = respond(&web, &*handler, req).await;
            conn.idle();
            Ok::<_, std::convert::Infallible>(resp)
        }
    });
    let result = match &web.tls {
        None => {
            watcher
                .watch(builder.serve_connection(TokioIo::new(stream), service).into_owned())
                .await
        }
        Some(tls) => {
            let acceptor = tokio_rustls::TlsAcceptor::from(tls.clone());
            let stream =
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(s)) => s,
                    Ok(Err(e)) => {
                        tracing::debug!(%peer, error = %e, "TLS handshake failed.");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!(%peer, "TLS handshake timed out.");
                        return;
                    }
                };
            watcher
                .watch(builder.serve_connection(TokioIo::new(stream), service).into_owned())
                .await
        }
    };
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "Connection ended with an error.");
    }
}

async fn respond<H: Handler>(
    web: &Arc<WebConfig>,
    handler: &H,
    req: Request<Incoming>,
) -> HttpResponse {
    let mut resp = match &web.auth {
        None => handler.handle(req).await,
        Some(auth) => match basic_credentials(&req) {
            Some((user, pass)) if auth.check_cached(&user, &pass) => handler.handle(req).await,
            Some((user, pass)) => {
                // A cold bcrypt check costs ~70 ms of CPU: keep it off the async workers.
                let web = web.clone();
                let ok = tokio::task::spawn_blocking(move || {
                    web.auth.as_ref().is_some_and(|a| a.check(&user, &pass))
                })
                .await
                .unwrap_or(false);
                if ok { handler.handle(req).await } else { unauthorized() }
            }
            None => unauthorized(),
        },
    };
    for (name, value) in &web.headers {
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(name.as_str()), HeaderValue::from_str(value))
        {
            resp.headers_mut().insert(n, v);
        }
    }
    resp
}

fn unauthorized() -> HttpResponse {
    let mut r = text(StatusCode::UNAUTHORIZED, "Unauthorized\n");
    r.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static("Basic"));
    r
}

fn basic_credentials(req: &Request<Incoming>) -> Option<(String, String)> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let b64 = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic "))?;
    let decoded = decode_base64(b64.trim())?;
    let s = String::from_utf8(decoded).ok()?;
    let (u, p) = s.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

/// Standard base64 (RFC 4648) as used by the Basic scheme; `None` on bad input.
fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let s = s.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    for chunk in s.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= val(c)? << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        match chunk.len() {
            4 => out.extend_from_slice(&bytes[1..4]),
            3 => out.extend_from_slice(&bytes[1..3]),
            2 => out.push(bytes[1]),
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_basic_credentials() {
        assert_eq!(decode_base64("YWxpY2U6czNjcmV0").unwrap(), b"alice:s3cret");
        assert_eq!(decode_base64("YQ==").unwrap(), b"a");
        assert_eq!(decode_base64("YWI=").unwrap(), b"ab");
        assert!(decode_base64("a$==").is_none());
        assert!(decode_base64("Y").is_none());
    }
}
