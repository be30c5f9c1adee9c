//! obwatch-common: what two or more obwatch binaries need, and nothing only one needs.
//!
//! # Layout
//! - [`build`]: version, git revision, build date, rustc and target of this build.
//! - [`cli`]: stderr messages that never abort, broken-pipe handling.
//! - [`conns`]: connection limits (count, header and idle timeouts) for the HTTP server.
//! - [`config`]: YAML loading with file:line:column errors; durations and sizes.
//! - [`metrics`]: the metric set collectors fill, and the text-format encoder.
//! - [`exec`]: external tools with a timeout, killed with their process group.
//! - [`exposition`]: a parser for the text format (textfiles, tests).
//! - [`http`]: the hyper 1 server: listeners, TLS, basic auth, graceful shutdown.
//! - [`web`]: the Prometheus exporter-toolkit `--web.config.file` format.
//! - [`logging`]: tracing setup (logfmt or JSON) and a log rate limiter.
//! - [`shutdown`]: SIGINT/SIGTERM as a future.
//! - [`fs`]: `Root` (procfs/sysfs/rootfs), buffer-reusing reads, `atomic_write`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod build;
pub mod cli;
pub mod client_tls;
pub mod config;
pub mod conns;
pub mod exec;
pub mod exposition;
pub mod fs;
pub mod http;
pub mod landing;
pub mod logging;
pub mod manual;
pub mod metrics;
pub mod shutdown;
pub mod tls;
pub mod web;
