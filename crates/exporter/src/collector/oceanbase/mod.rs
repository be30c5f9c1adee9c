//! `oceanbase`: OBServer metrics with obagent's names and labels (`ob_*`), read over the MySQL
//! protocol. Off unless `--ob.address` or `oceanbase.address` is given.
//!
//! Why a background poller: obagent runs its SQL on a timer and serves a cache, but a query it
//! cannot answer stays in the cache forever (obagent #59) and one slow query delays the rest.
//! Here a thread with its own small runtime runs the catalogue every `interval` (15 s), each
//! statement under `query_timeout`, and publishes a fresh snapshot built only from what the
//! last round returned; `/metrics` copies the snapshot and never waits on the database. A
//! dead database gives `ob_up 0` and no stale series; one failing query drops only its own.

pub mod catalogue;
pub mod options;
mod poller;
pub mod session;
pub mod version;

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use obwatch_common::metrics::{MetricSet, MetricType};
use tokio::sync::Notify;

use super::{BuildContext, BuildError, CollectError, Collector, CollectorSpec};
pub use options::ObOptions;

/// Registry entry. Off by default; the config turns it on when an address is given.
pub const SPEC: CollectorSpec = CollectorSpec { name: "oceanbase", default_enabled: false, build };

fn build(cx: &BuildContext) -> Result<Box<dyn Collector>, BuildError> {
    let Some(opts) = cx.options.oceanbase.clone() else {
        return Err(BuildError {
            collector: "oceanbase",
            reason: "needs an address: --ob.address HOST:PORT or oceanbase.address in the YAML"
                .into(),
        });
    };
    Ok(Box::new(OceanBase::start(opts).map_err(|e| BuildError {
        collector: "oceanbase",
        reason: format!("cannot start the poller thread: {e}"),
    })?))
}

/// The last round's results, as `/metrics` serves them.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Everything the round produced, `ob_up` included.
    pub metrics: MetricSet,
    /// When the round ended; `None` before the first one did.
    pub taken: Option<Instant>,
}

/// Serves the poller's snapshot.
#[derive(Debug)]
pub struct OceanBase {
    snapshot: Arc<Mutex<Snapshot>>,
    stop: Arc<Notify>,
    thread: Option<JoinHandle<()>>,
}

impl OceanBase {
    /// Starts the poller thread; it runs until this value is dropped.
    pub fn start(opts: ObOptions) -> std::io::Result<OceanBase> {
        let snapshot = Arc::new(Mutex::new(Snapshot::default()));
        let stop = Arc::new(Notify::new());
        let (snap, st) = (snapshot.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("obwatch-oceanbase".into())
            .spawn(move || poller::run(opts, snap, st))?;
        Ok(OceanBase { snapshot, stop, thread: Some(thread) })
    }
}

impl Drop for OceanBase {
    fn drop(&mut self) {
        // notify_one stores a permit, so a poller not yet waiting still sees it.
        self.stop.notify_one();
        if let Some(t) = self.thread.take()
            && t.join().is_err()
        {
            tracing::warn!("OceanBase poller thread panicked.");
        }
    }
}

impl Collector for OceanBase {
    fn collect(&self, out: &mut MetricSet) -> Result<(), CollectError> {
        let (mut metrics, taken) = {
            let s = self.snapshot.lock().unwrap_or_else(|p| p.into_inner());
            (s.metrics.clone(), s.taken)
        };
        match taken {
            Some(t) => {
                out.append(&mut metrics);
                out.gauge(
                    "obwatch_ob_snapshot_age_seconds",
                    "Seconds since the OceanBase queries served here last ran.",
                    t.elapsed().as_secs_f64(),
                );
            }
            // Before the first round ends nothing is known; say the server is not up yet
            // rather than leave ob_up absent (absent series break `ob_up == 0` alerts).
            None => {
                out.family("ob_up", poller::UP_HELP, MetricType::Gauge).sample(&[], 0.0);
            }
        }
        Ok(())
    }
}
