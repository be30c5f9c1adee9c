//! `obwatch-logtailer test`: feeds each inline test's `input` lines through its file's rules
//! (all at one instant, so `within` windows always hold) and compares the alerts that fire
//! with `expect`: every expected alert must fire with at least the given labels and
//! annotations, and no other alert may fire.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use obwatch_common::landing::escape_markup;

use super::matcher::Matcher;
use super::state::{Alert, AlertState};
use super::{Expect, RuleSet, TestCase};

/// The verdict on one test.
#[derive(Debug)]
pub struct TestResult {
    /// `path:line: test N`, where the test's `input` is, then ` (name)` when it has one.
    pub name: String,
    /// The rule file.
    pub file: std::path::PathBuf,
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
        // A record may span lines (11g alert logs): a line counts as raising when the record
        // it belongs to does, so the whole input is matched and hits are mapped to lines.
        let (groups, text) = groups_and_text(rules, test);
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

/// Runs the inline tests of `rules` whose name (as printed: `path:line: test N (name)`)
/// matches `only` (promtool's `--run`), in file order.
pub fn run_tests(rules: &RuleSet, only: Option<&regex::Regex>) -> Vec<TestResult> {
    rules
        .tests
        .iter()
        .map(|t| (t, test_name(t)))
        .filter(|(_, name)| only.is_none_or(|re| re.is_match(name)))
        .map(|(t, name)| run_test(rules, t, name))
        .collect()
}

fn test_name(test: &TestCase) -> String {
    let mut name = format!("{}:{}: test {}", test.path.display(), test.line, test.index);
    if let Some(n) = &test.name {
        let _ = write!(name, " ({n})");
    }
    name
}

/// The results as JUnit XML (one `testsuite` per rule file, as `promtool test rules --junit`
/// writes), for CI systems that show test reports.
pub fn junit(results: &[TestResult]) -> String {
    let failed = results.iter().filter(|r| !r.failures.is_empty()).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"obwatch-logtailer test\" tests=\"{}\" failures=\"{failed}\">",
        results.len()
    );
    let mut files: Vec<&std::path::Path> = results.iter().map(|r| r.file.as_path()).collect();
    files.dedup();
    for file in files {
        let of_file: Vec<&TestResult> = results.iter().filter(|r| r.file == file).collect();
        let file = escape_markup(&file.display().to_string());
        let _ = writeln!(
            out,
            "  <testsuite name=\"{file}\" tests=\"{}\" failures=\"{}\">",
            of_file.len(),
            of_file.iter().filter(|r| !r.failures.is_empty()).count()
        );
        for r in of_file {
            let name = escape_markup(&r.name);
            if r.failures.is_empty() {
                let _ = writeln!(out, "    <testcase name=\"{name}\" classname=\"{file}\"/>");
            } else {
                let text = escape_markup(&r.failures.join("\n"));
                let first = escape_markup(&r.failures[0]);
                let _ = writeln!(
                    out,
                    "    <testcase name=\"{name}\" classname=\"{file}\">\n      <failure message=\"{first}\">{text}</failure>\n    </testcase>"
                );
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// The groups that read the test's `file` (all of its file's groups without one), and its
/// input lines as one text.
fn groups_and_text(rules: &RuleSet, test: &TestCase) -> (Vec<usize>, Vec<u8>) {
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
    (groups, text)
}

fn run_test(rules: &RuleSet, test: &TestCase, name: String) -> TestResult {
    let (groups, text) = groups_and_text(rules, test);
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
    TestResult { name, file: test.path.clone(), failures }
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
