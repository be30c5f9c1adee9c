//! The daemon's `/` page: per input its paths, files tracked, lines read and lag; the rules'
//! reload state and matches; per Alertmanager URL (credentials hidden) what was delivered,
//! what failed and what waits in the outbox. Read from the same counters as `/metrics`.

use std::collections::BTreeMap;

use obwatch_common::http::HttpResponse;
use obwatch_common::landing::{LandingPage, redact_url};

use super::Handler;

impl Handler {
    pub(super) fn landing(&self) -> HttpResponse {
        let config = &self.config;
        let c = self.shared.lock();
        // Files and lag per input.
        let mut per_input: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
        for (path, committed) in &c.files {
            if let Some(input) = config.input_of(path) {
                let size = std::fs::metadata(path).map_or(*committed, |m| m.len());
                let e = per_input.entry(input.name.as_str()).or_default();
                e.0 += 1;
                e.1 += size.saturating_sub(*committed);
            }
        }
        let inputs = config
            .inputs
            .iter()
            .map(|i| {
                let (files, lag) = per_input.get(i.name.as_str()).copied().unwrap_or_default();
                let lines = c.lines.get(&i.name).map_or(0, |l| l.0);
                format!(
                    "{}: {} ({files} file(s), {lines} line(s) read, {lag} byte(s) behind)",
                    i.name,
                    i.paths.join(", ")
                )
            })
            .collect();
        let mut rules = vec![format!(
            "{} (last load {}); {} alert(s) firing",
            config.rule_files.join(", "),
            if c.reload_ok { "succeeded" } else { "FAILED: the previous rules stay in use" },
            c.firing
        )];
        rules.extend(
            c.matches.iter().map(|((group, alert), n)| format!("{group}/{alert}: {n} match(es)")),
        );
        drop(c);
        let delivery = self
            .targets
            .iter()
            .map(|t| {
                let s = t.stats.lock().unwrap_or_else(|p| p.into_inner());
                let o = t.outbox.lock().unwrap_or_else(|p| p.into_inner());
                format!(
                    "{}: {} post(s) delivered, {} failed, {} waiting, {} dropped",
                    redact_url(&t.url),
                    s.sent,
                    s.failed,
                    o.len(),
                    o.dropped
                )
            })
            .collect();
        LandingPage {
            name: "obwatch-logtailer",
            description: "Follows OBServer, OBProxy, Clusterware and OS logs, matches them against YAML rules and delivers alerts to Alertmanager without losing a line.",
            links: vec![
                ("/metrics".into(), "metrics"),
                ("/-/healthy".into(), "liveness"),
                ("/-/ready".into(), "readiness"),
            ],
            sections: vec![
                ("Inputs", inputs),
                ("Rules and matches", rules),
                ("Alertmanager delivery", delivery),
            ],
        }
        .response()
    }
}
