//! `oceanbase`: OBServer metrics with obagent's names and labels (`ob_*`), read over the MySQL
//! protocol. Off unless `--ob.address` or `oceanbase.address` is given.
//!
//! Why a background poller: obagent runs its SQL on a timer and serves a cache, but a query it
//! cannot answer stays in the cache forever (obagent #59) and one slow query delays the rest.
//! Here a [`Background`] thread with its own small runtime runs the catalogue every `interval`
//! (15 s), each statement under `query_timeout`; `/metrics` copies the last round and never
//! waits on the database. A dead database gives `ob_up 0` and no stale series; one failing
//! query drops only its own.

pub mod catalogue;
pub mod options;
mod poller;
pub mod session;
pub mod version;

use obwatch_common::metrics::{MetricSet, MetricType};

use super::background::Background;
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
    let err = |e: std::io::Error| BuildError {
        collector: "oceanbase",
        reason: format!("cannot start the poller: {e}"),
    };
    // Its own single-threaded runtime: the database work never competes with scrapes for
    // the server's threads.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(err)?;
    let interval = opts.interval;
    let mut poller = poller::Poller::new(opts);
    let rounds =
        Background::start("obwatch-oceanbase", interval, move || rt.block_on(poller.round()))
            .map_err(err)?;
    Ok(Box::new(OceanBase { rounds }))
}

/// Serves the poller's last round.
#[derive(Debug)]
pub struct OceanBase {
    rounds: Background,
}

impl Collector for OceanBase {
    fn collect(&self, out: &mut MetricSet) -> Result<(), CollectError> {
        let served = self.rounds.copy_into(
            out,
            "obwatch_ob_snapshot_age_seconds",
            "Seconds since the OceanBase queries served here last ran.",
        );
        // Before the first round ends nothing is known; say the server is not up yet rather
        // than leave ob_up absent (absent series break `ob_up == 0` alerts).
        if !served {
            out.family("ob_up", poller::UP_HELP, MetricType::Gauge).sample(&[], 0.0);
        }
        Ok(())
    }
}
