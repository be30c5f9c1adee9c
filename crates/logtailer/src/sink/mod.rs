//! Where alerts go: Alertmanager's API v2 ([`alertmanager`]) through a bounded on-disk
//! [`outbox`] per Alertmanager. The optional webhook comes with the `run` daemon.

pub mod alertmanager;
pub mod outbox;
pub mod sender;
