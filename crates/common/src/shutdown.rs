//! Shutdown signals: SIGINT and SIGTERM end the process gracefully (in-flight requests finish),
//! and a bounded end for the runtime: a blocking thread stuck in the kernel (a collector's read
//! of a FIFO or a dead NFS mount, which nothing can cancel) must not keep the process alive.
//! Dropping a tokio runtime waits for every blocking task, so without this a SIGTERM logged
//! "Shutting down." and the process never exited.

use std::future::Future;
use std::time::Duration;

use tokio::net::TcpListener;

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

/// Why a server binary could not run: no runtime (exit 1), an address it cannot listen on
/// (exit 2, a configuration problem), or the server's own error `E` (its own exit code).
#[derive(Debug, thiserror::Error)]
pub enum ServeError<E> {
    /// The tokio runtime could not be built.
    #[error("cannot start the runtime: {0}")]
    Runtime(std::io::Error),
    /// A listen address is in use, not local or malformed.
    #[error("--web.listen-address: {0}")]
    Bind(std::io::Error),
    /// The server failed.
    #[error(transparent)]
    Server(E),
}

/// The runtime of the exporter and the logtailer: one async worker (it only accepts, parses
/// HTTP and writes bodies; collectors, file reads and bcrypt run on the blocking pool; each
/// thread costs a stack and a malloc arena of resident memory), a bounded blocking pool (a
/// stuck collector or read holds at most one thread), and blocking threads kept 10 minutes:
/// tokio ends them after 10 s idle, so at Prometheus' 15 s interval every scrape created its
/// threads again.
pub fn server_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(32)
        .thread_keep_alive(Duration::from_secs(600))
        .enable_all()
        .build()
}

/// Runs a server: builds [`server_runtime`], binds every address in `addresses`
/// ([`crate::http::bind`]), runs `server(listeners, shutdown)` until SIGINT or SIGTERM and shuts
/// the runtime down within [`BLOCKING_GRACE`].
pub fn serve<E, Fut>(
    addresses: &[String],
    server: impl FnOnce(Vec<TcpListener>, std::pin::Pin<Box<dyn Future<Output = ()> + Send>>) -> Fut,
) -> Result<(), ServeError<E>>
where
    Fut: Future<Output = Result<(), E>>,
{
    let runtime = server_runtime().map_err(ServeError::Runtime)?;
    block_on_bounded(runtime, async move {
        let mut listeners = Vec::with_capacity(addresses.len());
        for addr in addresses {
            listeners.push(crate::http::bind(addr).await.map_err(ServeError::Bind)?);
        }
        server(listeners, Box::pin(signal_received())).await.map_err(ServeError::Server)
    })
}
