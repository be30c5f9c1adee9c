//! Hot reload of the rule files, on SIGHUP and when a rule file changes (checked every
//! [`POLL`]: size and mtime of every file the globs expand to, so a new file counts too). A
//! rule set that does not check is refused: its errors are logged, the running rules stay,
//! and `obwatch_logtailer_config_last_reload_successful` turns 0 until a good one loads.
//!
//! SIGHUP also reloads the web config (`web.config_file`) of the daemon's own endpoint: a
//! file that does not load is refused and logged, the running one stays, and
//! `obwatch_logtailer_web_config_last_reload_successful` turns 0 until a good one loads. New
//! connections use the new config; open ones keep theirs.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::Sender;
use std::time::{Duration, SystemTime};

use obwatch_common::web::WebConfig;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;
use tracing::{error, info, warn};

use super::Shared;
use crate::config::Config;
use crate::rule::RuleSet;

/// How often rule files are checked for changes.
pub(super) const POLL: Duration = Duration::from_secs(2);

type Snapshot = Vec<(PathBuf, Option<(SystemTime, u64)>)>;

fn snapshot(config: &Config) -> Snapshot {
    let paths = config.rule_paths().unwrap_or_default();
    paths
        .into_iter()
        .map(|p| {
            let meta = std::fs::metadata(&p).ok().and_then(|m| Some((m.modified().ok()?, m.len())));
            (p, meta)
        })
        .collect()
}

/// Loads the rules anew; `None` (with the errors logged) when they do not check.
fn load(config: &Config) -> Option<RuleSet> {
    let paths = match config.rule_paths() {
        Ok(p) => p,
        Err(e) => {
            error!(error = %e, "Rule reload refused; keeping the running rules.");
            return None;
        }
    };
    match RuleSet::load(&paths) {
        Ok(set) => Some(set),
        Err(errors) => {
            for e in &errors {
                error!(error = %e, "Rule reload refused; keeping the running rules.");
            }
            None
        }
    }
}

/// Reloads the web config from `path` into `web` (on SIGHUP); a bad file is refused and
/// logged, and the running config stays.
async fn reload_web(path: &std::path::Path, web: &watch::Sender<Arc<WebConfig>>, shared: &Shared) {
    let p = path.to_path_buf();
    match tokio::task::spawn_blocking(move || WebConfig::load(&p)).await {
        // Logged before the gauge moves: whoever watches the gauge finds the reason logged.
        Ok(Ok(new)) => {
            web.send_replace(Arc::new(new));
            info!(file = %path.display(), "Web config reloaded; new connections use it.");
            shared.set_web_reload(true);
        }
        Ok(Err(e)) => {
            error!(error = %e, "Web config reload refused; keeping the running one.");
            shared.set_web_reload(false);
        }
        Err(_) => {} // the blocking pool is shutting down
    }
}

/// Watches for SIGHUP and rule file changes until `stop`; sends each good new rule set, and
/// on SIGHUP reloads the web config (`web`) when there is one.
pub(super) async fn watch(
    config: Config,
    tx: Sender<Arc<RuleSet>>,
    web: watch::Sender<Arc<WebConfig>>,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let mut hup = match signal(SignalKind::hangup()) {
        Ok(s) => Some(s),
        Err(e) => {
            warn!(error = %e, "No SIGHUP handler; rule files are still reloaded when they change.");
            None
        }
    };
    let mut seen = tokio::task::spawn_blocking({
        let c = config.clone();
        move || snapshot(&c)
    })
    .await
    .unwrap_or_default();
    loop {
        let why = tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            Some(()) = async { match hup.as_mut() { Some(h) => h.recv().await, None => std::future::pending().await } } => "SIGHUP",
            _ = tokio::time::sleep(POLL) => "",
        };
        let c = config.clone();
        let now = tokio::task::spawn_blocking(move || snapshot(&c)).await.unwrap_or_default();
        let why = if why.is_empty() && now != seen { "rule file changed" } else { why };
        seen = now;
        if why.is_empty() {
            continue;
        }
        if why == "SIGHUP"
            && let Some(path) = &config.web_config_file
        {
            reload_web(path, &web, &shared).await;
        }
        let c = config.clone();
        let loaded = tokio::task::spawn_blocking(move || load(&c)).await.ok().flatten();
        match loaded {
            Some(set) => {
                info!(reason = why, rules = set.rule_count(), "Rules reloaded.");
                shared.register_rules(&set);
                // Sent before the metric says so: whoever sees 1 may rely on the new rules.
                if tx.send(Arc::new(set)).is_err() {
                    return; // the pipeline is gone
                }
                shared.set_reload(true);
            }
            None => shared.set_reload(false),
        }
    }
}
