//! From matches to alerts: counts matches per alert (rule + label set) in the rule's
//! `within` window, fires at `for_count`, keeps the alert firing while matches come and
//! resolves it `resolve_after` after the last one. Pure: the caller passes the time, so
//! tests drive it without sleeping and `test` runs all input at one instant.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, SystemTime};

use super::RuleSet;
use super::matcher::Hit;
use super::template::Context;

/// An alert as Alertmanager gets it (less `instance`, which delivery adds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alert {
    /// alertname, severity, captures and the rule's labels.
    pub labels: BTreeMap<String, String>,
    /// Rendered from the latest match.
    pub annotations: BTreeMap<String, String>,
    /// When it fired.
    pub starts_at: SystemTime,
    /// Last match.
    pub last_match: SystemTime,
    /// Set when resolved: `last_match + resolve_after`.
    pub ends_at: Option<SystemTime>,
    /// Matches while firing, plus the ones that made it fire.
    pub count: u64,
    /// Its rule's quiet period before it resolves.
    pub resolve_after: Duration,
}

impl Alert {
    /// When it ends: `ends_at` once resolved, else when it lapses unless matched again
    /// (`last_match + resolve_after`), the `endsAt` Alertmanager gets while it fires.
    pub fn expires_at(&self) -> SystemTime {
        self.ends_at.unwrap_or(self.last_match + self.resolve_after)
    }
}

type Key = (usize, usize, BTreeMap<String, String>);

/// Pending windows and firing alerts. Bounded: past `max_alerts` keys, new label sets are
/// dropped and counted (a capture like a session id must not eat the host's memory).
#[derive(Debug)]
pub struct AlertState {
    pending: HashMap<Key, VecDeque<SystemTime>>,
    firing: HashMap<Key, Alert>,
    max_alerts: usize,
    /// Matches not tracked because the state was full.
    pub dropped: u64,
}

impl AlertState {
    /// An empty state holding at most `max_alerts` pending or firing alerts.
    pub fn new(max_alerts: usize) -> Self {
        AlertState { pending: HashMap::new(), firing: HashMap::new(), max_alerts, dropped: 0 }
    }

    /// Counts `hit` (read from `file` at `now`). Returns the alert when it is firing after
    /// this match: newly (`starts_at == now`) or again (annotations refreshed).
    pub fn observe(
        &mut self,
        rules: &RuleSet,
        hit: &Hit<'_>,
        file: &str,
        now: SystemTime,
    ) -> Option<&Alert> {
        let rule = &rules.groups[hit.group].rules[hit.rule];
        let key: Key = (hit.group, hit.rule, rule.alert_labels(&hit.captures));
        let count = if let Some(alert) = self.firing.get_mut(&key) {
            alert.count += 1;
            alert.last_match = now;
            alert.count
        } else {
            if !self.pending.contains_key(&key) && self.len() >= self.max_alerts {
                self.dropped += 1;
                return None;
            }
            let window = self.pending.entry(key.clone()).or_default();
            window.push_back(now);
            while window.len() > 1
                && window
                    .front()
                    .is_some_and(|&t| now.duration_since(t).unwrap_or_default() > rule.within)
            {
                window.pop_front();
            }
            if window.len() < rule.for_count as usize {
                return None;
            }
            let count = window.len() as u64;
            self.pending.remove(&key);
            self.firing.insert(
                key.clone(),
                Alert {
                    labels: key.2.clone(),
                    annotations: BTreeMap::new(),
                    starts_at: now,
                    last_match: now,
                    ends_at: None,
                    count,
                    resolve_after: rule.resolve_after,
                },
            );
            count
        };
        let alert = self.firing.get_mut(&key)?;
        let line = String::from_utf8_lossy(hit.record);
        let cx = Context { labels: &alert.labels, line: &line, file, count };
        alert.annotations =
            rule.annotations.iter().map(|(k, t)| (k.clone(), t.render(&cx))).collect();
        Some(alert)
    }

    /// Resolves the alerts quiet for their rule's `resolve_after` at `now` and forgets
    /// pending windows that can no longer fire. Returns the resolved alerts.
    pub fn expire(&mut self, rules: &RuleSet, now: SystemTime) -> Vec<Alert> {
        let mut resolved = Vec::new();
        self.firing.retain(|_, alert| {
            let ends = alert.expires_at();
            if ends <= now {
                let mut done = alert.clone();
                done.ends_at = Some(ends);
                resolved.push(done);
                false
            } else {
                true
            }
        });
        self.pending.retain(|(g, r, _), window| {
            let within = rules.groups.get(*g).and_then(|g| g.rules.get(*r)).map(|r| r.within);
            window.back().is_some_and(|&t| {
                now.duration_since(t).unwrap_or_default() <= within.unwrap_or_default()
            })
        });
        resolved
    }

    /// Moves the state to a reloaded rule set: each alert follows its rule by group and
    /// alert name; alerts whose rule is gone are returned, resolved at `now`, and pending
    /// windows of rules that are gone are forgotten.
    pub fn remap(&mut self, old: &RuleSet, new: &RuleSet, now: SystemTime) -> Vec<Alert> {
        let index = |g: usize, r: usize| -> Option<(usize, usize)> {
            let group = old.groups.get(g)?;
            let alert = &group.rules.get(r)?.alert;
            let ng = new.groups.iter().position(|x| x.name == group.name)?;
            let nr = new.groups[ng].rules.iter().position(|x| &x.alert == alert)?;
            Some((ng, nr))
        };
        let mut gone = Vec::new();
        let firing = std::mem::take(&mut self.firing);
        for ((g, r, labels), mut alert) in firing {
            match index(g, r) {
                Some((ng, nr)) => {
                    self.firing.insert((ng, nr, labels), alert);
                }
                None => {
                    alert.ends_at = Some(now);
                    gone.push(alert);
                }
            }
        }
        let pending = std::mem::take(&mut self.pending);
        for ((g, r, labels), window) in pending {
            if let Some((ng, nr)) = index(g, r) {
                self.pending.insert((ng, nr, labels), window);
            }
        }
        gone
    }

    /// Alerts firing now.
    pub fn firing(&self) -> impl Iterator<Item = &Alert> {
        self.firing.values()
    }

    /// Pending plus firing alerts.
    pub fn len(&self) -> usize {
        self.pending.len() + self.firing.len()
    }

    /// True when nothing is pending or firing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use super::*;
    use crate::rule::Matcher;

    const RULES: &str = r#"
groups:
  - name: g
    rules:
      - alert: Burst
        match: 'ERROR \[(?P<module>[A-Z]+)\]'
        severity: warning
        for_count: 3
        within: 1m
        resolve_after: 5m
        annotations: { summary: '{{ $count }} from {{ $labels.module }}: {{ $line }}' }
"#;

    fn feed(state: &mut AlertState, rules: &RuleSet, line: &str, at_s: u64) -> Option<Alert> {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(at_s);
        let text = format!("{line}\n");
        let hits = Matcher::new(rules, vec![0]).eval(text.as_bytes(), 1);
        let mut fired = None;
        for h in &hits {
            fired = state.observe(rules, h, "f.log", now).cloned();
        }
        fired
    }

    #[test]
    fn fires_at_for_count_within_the_window_and_resolves_after_quiet() {
        let rules = RuleSet::from_yaml(Path::new("t.yaml"), RULES).unwrap();
        let mut s = AlertState::new(100);
        let t0 = 1_000_000;
        assert!(feed(&mut s, &rules, "ERROR [CLOG] a", t0).is_none());
        assert!(feed(&mut s, &rules, "ERROR [SQL] other labels count apart", t0 + 1).is_none());
        assert!(feed(&mut s, &rules, "ERROR [CLOG] b", t0 + 30).is_none());
        // 61 s after the first: the window holds b and c only.
        assert!(feed(&mut s, &rules, "ERROR [CLOG] c", t0 + 61).is_none());
        let a = feed(&mut s, &rules, "ERROR [CLOG] d", t0 + 62).unwrap();
        assert_eq!(a.labels["module"], "CLOG");
        assert_eq!(a.labels["alertname"], "Burst");
        assert_eq!(a.annotations["summary"], "3 from CLOG: ERROR [CLOG] d");
        assert_eq!(a.starts_at, SystemTime::UNIX_EPOCH + Duration::from_secs(t0 + 62));
        // Firing: every further match refreshes it.
        let a = feed(&mut s, &rules, "ERROR [CLOG] e", t0 + 100).unwrap();
        assert_eq!(a.count, 4);
        assert_eq!(a.annotations["summary"], "4 from CLOG: ERROR [CLOG] e");
        let at = |s: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(s);
        assert!(s.expire(&rules, at(t0 + 100 + 299)).is_empty());
        let resolved = s.expire(&rules, at(t0 + 100 + 300));
        assert_eq!(resolved.len(), 1);
        assert_eq!(resolved[0].ends_at, Some(at(t0 + 400)));
        assert_eq!(s.firing().count(), 0);
        // The SQL window expired long ago too.
        assert!(s.is_empty());
    }

    #[test]
    fn new_label_sets_past_the_limit_are_dropped_and_counted() {
        let rules = RuleSet::from_yaml(Path::new("t.yaml"), RULES).unwrap();
        let mut s = AlertState::new(2);
        for m in ["AA", "BB", "CC", "DD"] {
            feed(&mut s, &rules, &format!("ERROR [{m}]"), 5);
        }
        assert_eq!(s.len(), 2);
        assert_eq!(s.dropped, 2);
        // A known label set still counts.
        feed(&mut s, &rules, "ERROR [AA]", 6);
        assert_eq!(s.dropped, 2);
    }
}
