//! Shutdown signals: SIGINT and SIGTERM end the process gracefully (in-flight requests finish),
//! and a bounded end for the runtime: a blocking thread stuck in the kernel (a collector's read
//! of a FIFO or a dead NFS mount, which nothing can cancel) must not keep the process alive.
//! Dropping a tokio runtime waits for every blocking task, so without this a SIGTERM logged
//! "Shutting down." and the process never exited.

use std::future::Future;
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};

/// How long the process waits, once its main task has ended, for blocking work to finish
/// before it exits anyway.
pub const BLOCKING_GRACE: Duration = Duration::from_secs(2);

/// Runs `main` on `runtime`, then shuts the runtime down waiting at most [`BLOCKING_GRACE`] for
/// blocking threads; those still stuck are abandoned (the process exit ends them).
pub fn block_on_bounded<F: Future>(runtime: tokio::runtime::Runtime, main: F) -> F::Output {
    let out = runtime.block_on(main);
    runtime.shutdown_timeout(BLOCKING_GRACE);
    out
}

/// Resolves on the first SIGINT or SIGTERM. If the handlers cannot be installed (not expected
/// on Linux) it logs and never resolves, so the process keeps serving rather than exiting.
pub async fn signal_received() {
    let (Ok(mut int), Ok(mut term)) =
        (signal(SignalKind::interrupt()), signal(SignalKind::terminate()))
    else {
        tracing::error!("Cannot install SIGINT/SIGTERM handlers; stop with SIGKILL.");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = int.recv() => tracing::info!(signal = "SIGINT", "Shutting down."),
        _ = term.recv() => tracing::info!(signal = "SIGTERM", "Shutting down."),
    }
}
