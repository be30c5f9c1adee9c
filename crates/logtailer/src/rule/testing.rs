//! `obwatch-logtailer test`: feeds each inline test's `input` lines through its file's rules
//! (all at one instant, so `within` windows always hold) and compares the alerts that fire
//! with `expect`: every expected alert must fire with at least the given labels and
//! annotations, and no other alert may fire.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use super::matcher::Matcher;
use super::state::{Alert, AlertState};
use super::{Expect, RuleSet, TestCase};

/// The verdict on one test.
#[derive(Debug)]
pub struct TestResult {
    /// `path:line: test N`, where the test's `input` is.
    pub name: String,
    /// Empty when it passed; otherwise one line per problem.
    pub failures: Vec<String>,
}

/// Which rules the inline tests exercise.
#[derive(Debug, Default)]
pub struct Coverage {
    /// Rules no test input raises: `group G, line N: alert`.
    pub untested: Vec<String>,
    /// Test input lines that raise no rule (near-misses, or a rule that stopped matching):
    /// `path:line: test N: the line`.
    pub quiet_lines: Vec<String>,
    /// Number of rules.
    pub rules: usize,
}

/// Matches every test input line alone against its file's groups: which rules some line
/// raises, and which lines raise none.
pub fn coverage(rules: &RuleSet) -> Coverage {
    let mut hit = std::collections::BTreeSet::new();
    let mut quiet_lines = Vec::new();
    for test in &rules.tests {
        let groups: Vec<usize> = match &test.file {
            Some(f) => {
                test.groups.iter().copied().filter(|&g| rules.groups[g].reads(f.as_ref())).collect()
            }
            None => test.groups.clone(),
        };
        // A record may span lines (11g alert logs): a line counts as raising when the record
        // it belongs to does, so the whole input is matched and hits are mapped to lines.
        let mut text = Vec::new();
        for line in &test.input {
            text.extend_from_slice(line.as_bytes());
            text.push(b'\n');
        }
        let mut raised = vec![false; test.input.len()];
        for h in Matcher::new(rules, groups).eval(&text, 1) {
            hit.insert((h.group, h.rule));
            let lines = h.record.iter().filter(|b| **b == b'\n').count() + 1;
            for l in 0..lines {
                if let Some(r) = raised.get_mut(h.line as usize - 1 + l) {
                    *r = true;
                }
            }
        }
        for (i, line) in test.input.iter().enumerate() {
            if !raised[i] {
                quiet_lines.push(format!(
                    "{}:{}: test {}: {line}",
                    test.path.display(),
                    test.line,
                    test.index
                ));
            }
        }
    }
    let mut untested = Vec::new();
    for (gi, g) in rules.groups.iter().enumerate() {
        for (ri, r) in g.rules.iter().enumerate() {
            if !hit.contains(&(gi, ri)) {
                untested.push(format!("group {}, line {}: {}", g.name, r.line, r.alert));
            }
        }
    }
    Coverage { untested, quiet_lines, rules: rules.rule_count() }
}

/// Runs every inline test of `rules`, in file order.
pub fn run_tests(rules: &RuleSet) -> Vec<TestResult> {
    rules.tests.iter().map(|t| run_test(rules, t)).collect()
}

fn run_test(rules: &RuleSet, test: &TestCase) -> TestResult {
    let name = format!("{}:{}: test {}", test.path.display(), test.line, test.index);
    let groups = match &test.file {
        Some(f) => {
            test.groups.iter().copied().filter(|&g| rules.groups[g].reads(f.as_ref())).collect()
        }
        None => test.groups.clone(),
    };
    let mut text = Vec::new();
    for line in &test.input {
        text.extend_from_slice(line.as_bytes());
        text.push(b'\n');
    }
    let file = test.file.as_deref().unwrap_or("test");
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let mut state = AlertState::new(usize::MAX);
    for hit in Matcher::new(rules, groups).eval(&text, 1) {
        state.observe(rules, &hit, file, now);
    }
    let fired: Vec<&Alert> = state.firing().collect();
    let mut failures = Vec::new();
    let mut used = vec![false; fired.len()];
    for e in &test.expect {
        match fired.iter().position(|a| fits(e, a)) {
            Some(i) => used[i] = true,
            None => failures.push(format!(
                "expected {} to fire; fired: {}",
                describe(&e.alert, &e.labels, &e.annotations),
                list(&fired)
            )),
        }
    }
    for (alert, used) in fired.iter().zip(&used) {
        // An alert fits several expectations only once; a second alike is unexpected.
        if !used && !test.expect.iter().any(|e| fits(e, alert)) {
            failures.push(format!("unexpected alert {}", describe_alert(alert)));
        }
    }
    failures.sort();
    TestResult { name, failures }
}

fn fits(e: &Expect, a: &Alert) -> bool {
    a.labels.get("alertname") == Some(&e.alert)
        && e.labels.iter().all(|(k, v)| a.labels.get(k) == Some(v))
        && e.annotations.iter().all(|(k, v)| a.annotations.get(k) == Some(v))
}

fn describe(
    alert: &str,
    labels: &BTreeMap<String, String>,
    annotations: &BTreeMap<String, String>,
) -> String {
    let mut s = alert.to_string();
    let shown: Vec<String> = labels
        .iter()
        .filter(|(k, _)| k.as_str() != "alertname")
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect();
    let _ = write!(s, "{{{}}}", shown.join(", "));
    if !annotations.is_empty() {
        let shown: Vec<String> = annotations.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
        let _ = write!(s, " annotations {{{}}}", shown.join(", "));
    }
    s
}

fn describe_alert(a: &Alert) -> String {
    let name = a.labels.get("alertname").map(String::as_str).unwrap_or("?");
    describe(name, &a.labels, &a.annotations)
}

fn list(fired: &[&Alert]) -> String {
    if fired.is_empty() {
        return "none".into();
    }
    let mut all: Vec<String> = fired.iter().map(|a| describe_alert(a)).collect();
    all.sort();
    all.join("; ")
}
