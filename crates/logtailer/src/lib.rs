//! obwatch-logtailer: follows logs on a database host, matches lines against YAML alert rules
//! and sends alerts to Alertmanager.
//!
//! # Layout
//! - [`tail`]: the lossless tailing engine (globs, rotation, truncation, checkpoints).
//! - [`rule`]: rule files, checks, the matcher, alert state, inline tests.
//! - [`scan`]: replay of log files through the rules.
//! - [`commands`]: the `check`, `test` and `scan` sub-commands.
//!
//! The `run` daemon (delivery to Alertmanager, outbox, metrics, reload) comes in the next
//! increment (issue 5, items 4-5).

pub mod commands;
pub mod config;
pub mod daemon;
pub mod rule;
pub mod scan;
pub mod sink;
pub mod tail;
