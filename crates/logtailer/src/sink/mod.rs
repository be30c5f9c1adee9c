//! Where alerts go: Alertmanager's API v2 ([`alertmanager`], which also posts the optional
//! JSON webhook; https through [`tls`]), each through its own bounded on-disk [`outbox`]
//! emptied by a [`sender`].

pub mod alertmanager;
pub mod outbox;
pub mod sender;
pub mod tls;
