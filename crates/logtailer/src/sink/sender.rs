//! Empties one Alertmanager's [`Outbox`]: posts the oldest entries, deletes them once
//! accepted, and on failure retries with exponential backoff until that Alertmanager is back
//! (each Alertmanager has its own outbox and sender, so a dead one does not hold up the
//! others). File work runs on blocking threads.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{Notify, watch};
use tracing::{info, warn};

use super::alertmanager::Alertmanager;
use super::outbox::Outbox;

/// The first retry after a failed post.
pub const RETRY_BASE: Duration = Duration::from_millis(500);
/// The longest wait between retries: a recovered Alertmanager gets the queued alerts within
/// this (it was 60 s, so alerts waited up to a minute after an outage; a post every 10 s to a
/// down peer costs nothing).
pub const RETRY_MAX: Duration = Duration::from_secs(10);

/// Exponential backoff: `base`, doubling, capped at `max`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    current: Option<Duration>,
}

impl Backoff {
    /// Starts at `base`, doubles per failure, never above `max`.
    pub fn new(base: Duration, max: Duration) -> Self {
        Backoff { base, max, current: None }
    }

    /// The wait after one more failure.
    pub fn next_delay(&mut self) -> Duration {
        let next = self.current.map_or(self.base, |c| (c * 2).min(self.max));
        self.current = Some(next);
        next
    }

    /// After a success.
    pub fn reset(&mut self) {
        self.current = None;
    }
}

/// Counters of one sender, read by the daemon's metrics.
#[derive(Debug, Default)]
pub struct SenderStats {
    /// Posts accepted.
    pub sent: u64,
    /// Posts that failed (each retry counts).
    pub failed: u64,
}

/// Delivers `outbox` to `am` (one endpoint) until `shutdown` turns true. `wake` gets a
/// `notify_one` after each push to the outbox. At most `batch` entries go in one post.
pub async fn run(
    am: Alertmanager,
    outbox: Arc<Mutex<Outbox>>,
    wake: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
    mut backoff: Backoff,
    batch: usize,
    stats: Arc<Mutex<SenderStats>>,
) {
    let url = am.endpoints().first().map(|u| u.to_string()).unwrap_or_default();
    let mut failing = false;
    loop {
        let ob = outbox.clone();
        let next = tokio::task::spawn_blocking(move || lock(&ob).peek(batch)).await;
        let (seq, body) = match next {
            Ok(Ok(Some(entry))) => entry,
            Ok(Ok(None)) => {
                tokio::select! {
                    _ = wake.notified() => continue,
                    _ = shutdown.wait_for(|stop| *stop) => return,
                }
            }
            Ok(Err(e)) => {
                warn!(error = %e, "Cannot read the outbox; retrying.");
                if sleep_or_shutdown(backoff.next_delay(), &mut shutdown).await {
                    return;
                }
                continue;
            }
            Err(_) => return, // the blocking pool is shutting down
        };
        let result = am.post(Bytes::from(body)).await.into_iter().next();
        match result {
            Some(Ok(())) => {
                lock(&stats).sent += 1;
                backoff.reset();
                if failing {
                    info!(url, "Alertmanager accepts alerts again.");
                    failing = false;
                }
                let ob = outbox.clone();
                if let Ok(Err(e)) = tokio::task::spawn_blocking(move || lock(&ob).ack(seq)).await {
                    warn!(error = %e, "Cannot remove sent alerts from the outbox; they will be sent again.");
                }
            }
            Some(Err(e)) => {
                lock(&stats).failed += 1;
                // Logged once per outage, not per retry.
                if !failing {
                    warn!(url, error = %e, "Alertmanager post failed; alerts stay in the outbox and are retried.");
                    failing = true;
                }
                if sleep_or_shutdown(backoff.next_delay(), &mut shutdown).await {
                    return;
                }
            }
            None => return, // no endpoint
        }
    }
}

/// Sleeps `d`; true when shutdown came first.
async fn sleep_or_shutdown(d: Duration, shutdown: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(d) => false,
        _ = shutdown.wait_for(|stop| *stop) => true,
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_its_cap_and_resets() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_millis(500));
        let got: Vec<u128> = (0..5).map(|_| b.next_delay().as_millis()).collect();
        assert_eq!(got, vec![100, 200, 400, 500, 500]);
        b.reset();
        assert_eq!(b.next_delay(), Duration::from_millis(100));
    }

    #[test]
    fn a_long_outage_is_retried_at_least_every_10s() {
        let mut b = Backoff::new(RETRY_BASE, RETRY_MAX);
        let delays: Vec<Duration> = (0..100).map(|_| b.next_delay()).collect();
        assert!(delays.iter().all(|d| *d <= Duration::from_secs(10)), "{delays:?}");
        assert_eq!(delays.last(), Some(&Duration::from_secs(10)));
    }
}
