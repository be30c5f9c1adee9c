//! Shutdown signals: SIGINT and SIGTERM end the process gracefully (in-flight requests finish).

use tokio::signal::unix::{SignalKind, signal};

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
