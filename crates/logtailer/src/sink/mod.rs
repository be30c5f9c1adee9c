//! Where alerts go: Alertmanager's API v2 ([`alertmanager`]). The on-disk outbox and the
//! optional webhook come with the `run` daemon.

pub mod alertmanager;
