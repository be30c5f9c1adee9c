//! obwatch-logtailer: follows logs on a database host, matches lines against YAML alert rules
//! and sends alerts to Alertmanager.
//!
//! # Layout
//! - [`tail`]: the lossless tailing engine (globs, rotation, truncation, checkpoints).
//! - [`rule`]: rule files, checks, the matcher, alert state, inline tests.
//! - [`scan`]: replay of log files through the rules.
//! - [`commands`]: the `check`, `test` and `scan` sub-commands.
//! - [`config`]: the `run` daemon's YAML config.
//! - [`daemon`]: `run`: tail -> rules -> outbox -> checkpoint, metrics, reload.
//! - [`sink`]: Alertmanager API v2 (and the webhook), outboxes, senders.
#![forbid(unsafe_code)]

pub mod cli;
pub mod config;
pub mod daemon;
pub mod progress;
pub mod rule;
pub mod scan;
pub mod sink;
pub mod tail;
