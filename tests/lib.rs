//! Helpers for the end-to-end tests in `main.rs`: the dashboards and rules with their PromQL,
//! plus the shared test kit (real peer binaries, a small HTTP client, a MariaDB standing in
//! for OceanBase).
#![forbid(unsafe_code)]
#![allow(clippy::disallowed_methods, clippy::unwrap_used)] // test code: starts real peers

pub mod promql;
pub mod surface;

pub use obwatch_testkit::net::{free_port, get, poll, poll_every, urlencode, wait_for};
pub use obwatch_testkit::{Proc, clusterware, mariadb, peer};
