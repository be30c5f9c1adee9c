//! Connection limits for the HTTP server, so idle or half-sent connections cannot lock scrapes
//! out. Without them, 1,100 idle connections used up the default 1,024 descriptors and every
//! later scrape failed with "Too many open files", before TLS or basic auth could help
//! (connections were never closed).
//!
//! Each connection is in a [`ConnTable`] with its state: serving (a request in flight), or idle
//! since a moment (just accepted, or its last response sent). A connection that has not sent a
//! whole first request within `read_header_timeout`, or stays idle past `idle_timeout`, is
//! closed. At `max_connections` a new connection evicts the connection idle the longest; when
//! every connection is serving, accepting pauses until one ends. The same idea as Go's
//! `http.Server` `ReadHeaderTimeout`/`IdleTimeout` and nginx's `worker_connections` eviction of
//! keep-alive connections, at the request level: dropping an idle connection loses nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// What the server enforces on every listener.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnLimits {
    /// Open connections at most; the idlest is closed to admit another.
    pub max_connections: usize,
    /// A new connection must have sent a whole request by then.
    pub read_header_timeout: Duration,
    /// A kept-alive connection may wait this long for its next request. Longer than the
    /// usual scrape intervals (15 s to 1 m), so Prometheus keeps its connection.
    pub idle_timeout: Duration,
}

impl Default for ConnLimits {
    fn default() -> Self {
        ConnLimits {
            max_connections: 512,
            read_header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(120),
        }
    }
}

impl ConnLimits {
    /// Limits from a config's optional values (defaults for the missing ones); the error names
    /// the offending key (`max_connections`, `read_header_timeout`, `idle_timeout`).
    pub fn from_parts(
        max_connections: Option<usize>,
        read_header_timeout: Option<Duration>,
        idle_timeout: Option<Duration>,
    ) -> Result<ConnLimits, (&'static str, String)> {
        let d = ConnLimits::default();
        let limits = ConnLimits {
            max_connections: max_connections.unwrap_or(d.max_connections),
            read_header_timeout: read_header_timeout.unwrap_or(d.read_header_timeout),
            idle_timeout: idle_timeout.unwrap_or(d.idle_timeout),
        };
        if limits.max_connections == 0 {
            return Err(("max_connections", "expected at least 1, e.g. 512".into()));
        }
        if limits.read_header_timeout.is_zero() {
            return Err(("read_header_timeout", "expected a duration above 0, e.g. 10s".into()));
        }
        if limits.idle_timeout.is_zero() {
            return Err(("idle_timeout", "expected a duration above 0, e.g. 2m".into()));
        }
        Ok(limits)
    }
}

#[derive(Debug)]
struct Entry {
    in_flight: u32,
    /// Set once a request has arrived.
    served: bool,
    /// Accept time, or the end of the last response.
    idle_since: Instant,
    /// Told to close (evicted); not counted against the limit any more.
    evicting: bool,
    close: Arc<Notify>,
}

/// The open connections of one server.
#[derive(Debug)]
pub struct ConnTable {
    limits: ConnLimits,
    inner: Mutex<(u64, HashMap<u64, Entry>)>,
    /// Signalled when a connection ends.
    freed: Notify,
}

/// One admitted connection; leaving the table when dropped.
#[derive(Debug)]
pub struct Conn {
    table: Arc<ConnTable>,
    id: u64,
    close: Arc<Notify>,
}

impl ConnTable {
    /// An empty table enforcing `limits`.
    pub fn new(limits: ConnLimits) -> Arc<Self> {
        Arc::new(ConnTable { limits, inner: Mutex::new((0, HashMap::new())), freed: Notify::new() })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (u64, HashMap<u64, Entry>)> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Open connections that count against the limit (evicted ones are on their way out).
    pub fn open(&self) -> usize {
        self.lock().1.values().filter(|e| !e.evicting).count()
    }

    /// Admits a new connection: at the limit, evicts the connection idle the longest, or waits
    /// until one ends when all are serving.
    pub async fn admit(self: &Arc<Self>) -> Conn {
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            {
                let mut guard = self.lock();
                let (next, conns) = &mut *guard;
                let counted = conns.values().filter(|e| !e.evicting).count();
                if counted >= self.limits.max_connections.max(1) {
                    let idlest = conns
                        .values_mut()
                        .filter(|e| !e.evicting && e.in_flight == 0)
                        .min_by_key(|e| e.idle_since);
                    if let Some(e) = idlest {
                        e.evicting = true;
                        e.close.notify_one();
                        tracing::debug!("Connection limit reached; closing the idlest connection.");
                    }
                }
                let counted = conns.values().filter(|e| !e.evicting).count();
                if counted < self.limits.max_connections.max(1) {
                    *next += 1;
                    let close = Arc::new(Notify::new());
                    conns.insert(
                        *next,
                        Entry {
                            in_flight: 0,
                            served: false,
                            idle_since: Instant::now(),
                            evicting: false,
                            close: close.clone(),
                        },
                    );
                    return Conn { table: self.clone(), id: *next, close };
                }
            }
            // Every connection is serving: accepting pauses until one ends.
            freed.await;
        }
    }
}

impl Conn {
    /// A request started on this connection.
    pub fn busy(&self) {
        if let Some(e) = self.table.lock().1.get_mut(&self.id) {
            e.in_flight += 1;
            e.served = true;
        }
    }

    /// A response was sent.
    pub fn idle(&self) {
        if let Some(e) = self.table.lock().1.get_mut(&self.id) {
            e.in_flight = e.in_flight.saturating_sub(1);
            if e.in_flight == 0 {
                e.idle_since = Instant::now();
            }
        }
    }

    /// When the connection is due to close if nothing happens, `None` while serving.
    fn deadline(&self) -> Option<Instant> {
        let guard = self.table.lock();
        let e = guard.1.get(&self.id)?;
        let limits = self.table.limits;
        match (e.in_flight, e.served) {
            (0, false) => Some(e.idle_since + limits.read_header_timeout),
            (0, true) => Some(e.idle_since + limits.idle_timeout),
            _ => None,
        }
    }

    /// Resolves when the connection must close: evicted, too slow with its first request, or
    /// idle too long. The caller drops the connection then.
    pub async fn expired(&self) {
        loop {
            let recheck = match self.deadline() {
                Some(d) if d <= Instant::now() => return,
                Some(d) => d - Instant::now(),
                // Serving: look again later (a request has the scrape timeout anyway).
                None => self.table.limits.read_header_timeout,
            };
            tokio::select! {
                () = self.close.notified() => return,
                () = tokio::time::sleep(recheck) => {}
            }
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.table.lock().1.remove(&self.id);
        self.table.freed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max: usize) -> ConnLimits {
        ConnLimits {
            max_connections: max,
            read_header_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(60),
        }
    }

    #[tokio::test]
    async fn the_idlest_connection_makes_room() {
        let t = ConnTable::new(limits(2));
        let a = t.admit().await;
        let b = t.admit().await;
        a.busy();
        a.idle(); // a is idle since now, b since its accept: b is the idlest.
        let c = t.admit().await;
        assert_eq!(t.open(), 2);
        // b was told to close, a was not.
        tokio::time::timeout(Duration::from_secs(5), b.expired()).await.unwrap();
        assert!(tokio::time::timeout(Duration::from_millis(50), a.expired()).await.is_err());
        drop((a, b, c));
        assert_eq!(t.open(), 0);
    }

    #[tokio::test]
    async fn accepting_waits_while_every_connection_serves() {
        let t = ConnTable::new(limits(1));
        let a = t.admit().await;
        a.busy();
        let t2 = t.clone();
        let waiting = tokio::spawn(async move { t2.admit().await });
        tokio::time::sleep(Duration::from_millis(50)).await; // give admit a chance to go wrong
        assert!(!waiting.is_finished(), "a serving connection must not be evicted");
        drop(a);
        let b = tokio::time::timeout(Duration::from_secs(5), waiting).await.unwrap().unwrap();
        assert_eq!(t.open(), 1);
        drop(b);
    }

    #[tokio::test]
    async fn slow_first_requests_and_idle_connections_expire() {
        let t = ConnTable::new(ConnLimits {
            max_connections: 10,
            read_header_timeout: Duration::from_millis(200),
            idle_timeout: Duration::from_secs(2),
        });
        // Never sends a whole request: closed after the header timeout.
        let slow = t.admit().await;
        let start = Instant::now();
        slow.expired().await;
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(200) && took < Duration::from_secs(2), "{took:?}");
        // Served once, then idle: kept for the idle timeout, not the header timeout.
        let kept = t.admit().await;
        kept.busy();
        kept.idle();
        let start = Instant::now();
        kept.expired().await;
        assert!(start.elapsed() >= Duration::from_secs(2), "{:?}", start.elapsed());
    }
}
