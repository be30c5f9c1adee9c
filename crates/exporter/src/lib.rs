//! obwatch-exporter: a Prometheus scrape target for database hosts.
//!
//! # Layout
//! - [`collector`]: the collector contract and one file per host collector.
//! - [`options`]: per-collector options, compiled once.
//! - [`fixture`]: builds fake procfs/sysfs trees for tests and benches.
#![deny(missing_docs)]

pub mod collector;
pub mod fixture;
pub mod options;
