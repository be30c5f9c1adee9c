//! obwatch-logtailer: follows logs on a database host, matches lines against YAML alert rules
//! and sends alerts to Alertmanager.
//!
//! # Layout
//! - [`tail`]: the lossless tailing engine (globs, rotation, truncation, checkpoints).
//!
//! Rules, delivery and the `run` daemon come in later increments (issue 5, items 2-5).

pub mod tail;
