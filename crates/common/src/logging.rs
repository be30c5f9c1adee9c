//! `tracing` setup: logfmt (node_exporter's default) or JSON to stderr, with a level, plus a
//! rate limiter so a collector failing on every scrape logs once a minute, not once a scrape.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::prelude::*;

/// `--log.format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// `ts=... level=info msg="..." key=value`
    Logfmt,
    /// One JSON object a line.
    Json,
}

/// `--log.level`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Everything, including per-scrape details.
    Debug,
    /// Start-up, shutdown and state changes.
    Info,
    /// Something is off but work goes on.
    Warn,
    /// An operator must act.
    Error,
}

impl LogLevel {
    fn as_str(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

/// Installs the global subscriber. `RUST_LOG`, when set, overrides `level` (per-module
/// filters for debugging). Calling it twice is harmless (tests).
pub fn init(level: LogLevel, format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level.as_str()));
    let registry = tracing_subscriber::registry().with(filter);
    let _ = match format {
        // tracing_logfmt::layer() writes to stdout; logs belong on stderr (stdout carries
        // command output such as `obwatch-cleaner once --format json`).
        LogFormat::Logfmt => {
            registry.with(tracing_logfmt::builder().layer().with_writer(std::io::stderr)).try_init()
        }
        LogFormat::Json => registry
            .with(tracing_subscriber::fmt::layer().json().with_writer(std::io::stderr))
            .try_init(),
    };
}

/// Lets one log line per key through per `period`; counts what it held back.
#[derive(Debug)]
pub struct RateLimiter {
    period: Duration,
    last: Mutex<HashMap<String, (Instant, u64)>>,
}

impl RateLimiter {
    /// A limiter that allows one line per key per `period`.
    pub fn new(period: Duration) -> Self {
        RateLimiter { period, last: Mutex::new(HashMap::new()) }
    }

    /// `Some(suppressed)` when a line for `key` may be logged now, with how many were held
    /// back since the last one; `None` when it must be dropped.
    pub fn check(&self, key: &str) -> Option<u64> {
        let now = Instant::now();
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        match last.get_mut(key) {
            Some((at, held)) if now.duration_since(*at) < self.period => {
                *held += 1;
                None
            }
            Some((at, held)) => {
                let n = *held;
                *at = now;
                *held = 0;
                Some(n)
            }
            None => {
                last.insert(key.to_string(), (now, 0));
                Some(0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limiter_holds_back_and_counts() {
        // A period long enough that no preemption on a loaded machine ends it between checks.
        let rl = RateLimiter::new(Duration::from_secs(1));
        assert_eq!(rl.check("cpu"), Some(0));
        assert_eq!(rl.check("cpu"), None);
        assert_eq!(rl.check("cpu"), None);
        assert_eq!(rl.check("meminfo"), Some(0));
        std::thread::sleep(Duration::from_millis(1050)); // the period itself is under test
        assert_eq!(rl.check("cpu"), Some(2));
    }
}
