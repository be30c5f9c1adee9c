//! Rule files to a [`RuleSet`]: reads and parses every file, checks every value and reports
//! every problem at once (file, line, column, group and rule), then compiles each group's
//! regexes once: a multi-pattern prefilter over whole buffers, a `RegexSet` to confirm a
//! record, and one `Regex` per rule for its captures.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use obwatch_common::config::{HumanDuration, load_yaml, parse_yaml};
use regex::bytes::{Regex, RegexBuilder, RegexSetBuilder};
use regex_automata::meta;
use regex_automata::util::syntax;
use serde_saphyr::Spanned;

use super::raw::{RawFile, RawGroup, RawRule, RawTest};
use super::template::Template;
use super::{Group, Multiline, Rule, RuleError, RuleSet, Selector, Severity, TestCase};

/// Compiled regexes stay under this size each (the regex crate's default is 10 MiB; a rule
/// that needs more is a mistake, and the daemon holds every group in memory).
const REGEX_SIZE_LIMIT: usize = 4 << 20;
/// Records longer than this many lines are evaluated in pieces of this size.
pub(super) const DEFAULT_MAX_RECORD_LINES: u32 = 500;
/// Quiet period before a firing alert resolves, when a rule does not say.
const DEFAULT_RESOLVE_AFTER: Duration = Duration::from_secs(5 * 60);
/// Labels every alert carries; captures and rule labels may not reuse them.
const RESERVED_LABELS: [&str; 3] = ["alertname", "severity", "instance"];

impl RuleSet {
    /// Loads and compiles `files` (already expanded from globs). Every error of every file.
    pub fn load(files: &[PathBuf]) -> Result<RuleSet, Vec<RuleError>> {
        let mut set = RuleSet::default();
        let mut errors = Vec::new();
        for path in files {
            match load_yaml::<RawFile>(path) {
                Ok(raw) => compile_file(path, raw, &mut set, &mut errors),
                Err(e) => errors.push(RuleError::Config(e)),
            }
            set.files.push(path.clone());
        }
        if errors.is_empty() { Ok(set) } else { Err(errors) }
    }

    /// Compiles one rule file's text; `path` is used in errors and for its tests.
    pub fn from_yaml(path: &Path, text: &str) -> Result<RuleSet, Vec<RuleError>> {
        let mut set = RuleSet::default();
        let mut errors = Vec::new();
        match parse_yaml::<RawFile>(path, text) {
            Ok(raw) => compile_file(path, raw, &mut set, &mut errors),
            Err(e) => errors.push(RuleError::Config(e)),
        }
        set.files.push(path.to_path_buf());
        if errors.is_empty() { Ok(set) } else { Err(errors) }
    }
}

/// Collects errors for one file, naming where they are.
struct Checker<'a> {
    path: &'a Path,
    errors: &'a mut Vec<RuleError>,
}

impl Checker<'_> {
    fn error<T>(&mut self, at: &Spanned<T>, context: String, message: impl Into<String>) {
        self.errors.push(RuleError::Invalid {
            path: self.path.to_path_buf(),
            line: at.referenced.line(),
            column: at.referenced.column(),
            context,
            message: message.into(),
        });
    }

    fn regex(&mut self, at: &Spanned<String>, context: &str) -> Option<Regex> {
        self.build(builder(&at.value), at, context)
    }

    fn line_regex(&mut self, at: &Spanned<String>, context: &str) -> Option<Regex> {
        self.build(line_builder(&at.value), at, context)
    }

    fn build(&mut self, b: RegexBuilder, at: &Spanned<String>, context: &str) -> Option<Regex> {
        match b.build() {
            Ok(r) => Some(r),
            Err(e) => {
                self.error(at, context.to_string(), format!("bad regex: {e}"));
                None
            }
        }
    }

    fn duration(&mut self, at: &Option<Spanned<String>>, context: &str) -> Option<Duration> {
        let at = at.as_ref()?;
        match at.value.parse::<HumanDuration>() {
            Ok(d) if !d.0.is_zero() => Some(d.0),
            Ok(_) => {
                self.error(at, context.to_string(), "expected a duration above 0");
                None
            }
            Err(e) => {
                self.error(at, context.to_string(), e);
                None
            }
        }
    }
}

/// A regex matched against a single line without its line ending (`multiline.start`).
pub(super) fn line_builder(pattern: &str) -> RegexBuilder {
    let mut b = RegexBuilder::new(pattern);
    b.size_limit(REGEX_SIZE_LIMIT);
    b
}

pub(super) fn builder(pattern: &str) -> RegexBuilder {
    let mut b = RegexBuilder::new(pattern);
    // `^`/`$` at every line of a multiline record, and before `\r\n` too.
    b.multi_line(true).crlf(true).size_limit(REGEX_SIZE_LIMIT);
    b
}

fn compile_file(path: &Path, raw: RawFile, set: &mut RuleSet, errors: &mut Vec<RuleError>) {
    let mut ck = Checker { path, errors };
    let mut names = BTreeSet::new();
    let first_group = set.groups.len();
    for g in raw.groups {
        if !names.insert(g.name.value.clone()) {
            ck.error(&g.name, format!("group {:?}", g.name.value), "duplicate group name");
        }
        if let Some(group) = compile_group(&mut ck, g) {
            set.groups.push(group);
        }
    }
    let groups: Vec<usize> = (first_group..set.groups.len()).collect();
    for (i, t) in raw.tests.into_iter().enumerate() {
        set.tests.push(compile_test(&mut ck, set, &groups, i, t));
    }
}

fn compile_group(ck: &mut Checker, g: RawGroup) -> Option<Group> {
    let gname = g.name.value.clone();
    let errors_before = ck.errors.len();
    if gname.trim().is_empty() {
        ck.error(&g.name, "group".into(), "expected a non-empty name");
    }
    let mut selectors = Vec::new();
    for f in &g.files {
        match Selector::new(&f.value) {
            Ok(s) => selectors.push(s),
            Err(e) => ck.error(f, format!("group {gname:?} field `files`"), e),
        }
    }
    let multiline = g.multiline.as_ref().and_then(|m| {
        let start = ck.line_regex(&m.start, &format!("group {gname:?} field `multiline.start`"));
        let max_lines = match &m.max_lines {
            Some(n) if n.value == 0 => {
                ck.error(
                    n,
                    format!("group {gname:?} field `multiline.max_lines`"),
                    "expected 1 or more",
                );
                None
            }
            Some(n) => Some(n.value),
            None => Some(DEFAULT_MAX_RECORD_LINES),
        };
        Some(Multiline { start: start?, max_lines: max_lines? })
    });
    let mut alerts = BTreeSet::new();
    let mut rules = Vec::new();
    for r in g.rules {
        let context = format!("group {gname:?} rule {:?}", r.alert.value);
        if !alerts.insert(r.alert.value.clone()) {
            ck.error(&r.alert, context.clone(), "duplicate alert name in this group");
        }
        if let Some(rule) = compile_rule(ck, &context, r) {
            rules.push(rule);
        }
    }
    if rules.is_empty() && ck.errors.len() == errors_before {
        ck.error(&g.name, format!("group {gname:?}"), "expected at least one rule");
    }
    if ck.errors.len() > errors_before {
        return None;
    }
    let patterns: Vec<&str> = rules.iter().map(|r| r.regex.as_str()).collect();
    let set = RegexSetBuilder::new(&patterns)
        .multi_line(true)
        .crlf(true)
        .size_limit(REGEX_SIZE_LIMIT * 4)
        .build();
    // Named groups are per pattern in a multi-pattern regex, so rules may reuse names.
    let prefilter = meta::Regex::builder()
        .syntax(syntax::Config::new().multi_line(true).crlf(true).utf8(false))
        .configure(meta::Config::new().utf8_empty(false).nfa_size_limit(Some(REGEX_SIZE_LIMIT * 4)))
        .build_many(&patterns);
    let compiled = set
        .map_err(|e| e.to_string())
        .and_then(|set| Ok((set, prefilter.map_err(|e| e.to_string())?)));
    match compiled {
        Ok((set, prefilter)) => {
            Some(Group { name: gname, selectors, multiline, rules, set, prefilter })
        }
        Err(e) => {
            ck.error(&g.name, format!("group {gname:?}"), format!("rules too large together: {e}"));
            None
        }
    }
}

fn compile_rule(ck: &mut Checker, context: &str, r: RawRule) -> Option<Rule> {
    let before = ck.errors.len();
    let name_ok = valid_alert_name(&r.alert.value);
    if !name_ok {
        ck.error(
            &r.alert,
            context.into(),
            "field `alert`: expected a name of letters, digits and _",
        );
    }
    let regex = ck.regex(&r.match_, &format!("{context} field `match`"));
    let exclude = match &r.exclude {
        Some(e) => ck.regex(e, &format!("{context} field `exclude`")),
        None => None,
    };
    let severity = severity(ck, &r, context);
    let for_count = match &r.for_count {
        Some(n) if n.value == 0 => {
            ck.error(n, format!("{context} field `for_count`"), "expected 1 or more");
            1
        }
        Some(n) => n.value,
        None => 1,
    };
    // `within` with `for_count: 1` is accepted and has no effect: the documented rule format
    // (ARCHITECTURE.md, docs/rules.md) writes both, so a copied example must pass `check`.
    let within = ck.duration(&r.within, &format!("{context} field `within`"));
    if let (Some(n), None) = (&r.for_count, &r.within)
        && n.value > 1
    {
        ck.error(
            n,
            format!("{context} field `for_count`"),
            "needs `within` (the window the matches must fall in)",
        );
    }
    let resolve_after = ck.duration(&r.resolve_after, &format!("{context} field `resolve_after`"));
    let captures: BTreeSet<String> = regex
        .as_ref()
        .map(|re| {
            re.capture_names().flatten().map(|n| super::capture_label(n).to_string()).collect()
        })
        .unwrap_or_default();
    for name in &captures {
        if let Some(problem) = label_name_problem(name) {
            ck.error(
                &r.match_,
                format!("{context} field `match`"),
                format!("capture group {name:?}: {problem}"),
            );
        } else if r.labels.contains_key(name) {
            ck.error(
                &r.match_,
                format!("{context} field `match`"),
                format!("capture group {name:?} is also a key of `labels`; rename one"),
            );
        }
    }
    let mut labels = BTreeMap::new();
    // `labels.severity` is the severity given the Prometheus way (read above), not a label.
    for (k, v) in r.labels.iter().filter(|(k, _)| k.as_str() != "severity") {
        match label_name_problem(k) {
            Some(problem) => ck.error(v, format!("{context} field `labels.{k}`"), problem),
            None => {
                labels.insert(k.clone(), v.value.clone());
            }
        }
    }
    let known = |name: &str| {
        captures.contains(name) || labels.contains_key(name) || RESERVED_LABELS.contains(&name)
    };
    let mut annotations = BTreeMap::new();
    for (k, v) in &r.annotations {
        match Template::parse(&v.value, known) {
            Ok(t) => {
                annotations.insert(k.clone(), t);
            }
            Err(e) => ck.error(v, format!("{context} field `annotations.{k}`"), e),
        }
    }
    if ck.errors.len() > before {
        return None;
    }
    Some(Rule {
        alert: r.alert.value,
        severity: severity?,
        regex: regex?,
        has_captures: !captures.is_empty(),
        exclude,
        for_count,
        within: within.unwrap_or(Duration::ZERO),
        resolve_after: resolve_after.unwrap_or(DEFAULT_RESOLVE_AFTER),
        labels,
        annotations,
        line: r.alert.referenced.line(),
    })
}

/// The rule's severity, from `severity` or, the Prometheus way, `labels.severity`; both given
/// must agree.
fn severity(ck: &mut Checker, r: &RawRule, context: &str) -> Option<Severity> {
    let at = match (&r.severity, r.labels.get("severity")) {
        (Some(s), None) => s,
        (None, Some(l)) => l,
        (Some(s), Some(l)) if s.value == l.value => s,
        (Some(s), Some(l)) => {
            ck.error(
                l,
                format!("{context} field `labels.severity`"),
                format!("{:?} disagrees with `severity: {}`; give it once", l.value, s.value),
            );
            return None;
        }
        (None, None) => {
            ck.error(
                &r.alert,
                context.to_string(),
                "missing `severity` (critical, warning or info; or `labels: { severity: ... }`)",
            );
            return None;
        }
    };
    match at.value.as_str() {
        "critical" => Some(Severity::Critical),
        "warning" => Some(Severity::Warning),
        "info" => Some(Severity::Info),
        other => {
            let field = if r.severity.is_some() { "severity" } else { "labels.severity" };
            ck.error(
                at,
                format!("{context} field `{field}`"),
                format!("expected critical, warning or info, got {other:?}"),
            );
            None
        }
    }
}

fn compile_test(
    ck: &mut Checker,
    set: &RuleSet,
    groups: &[usize],
    index: usize,
    t: RawTest,
) -> TestCase {
    let context = format!("test {}", index + 1);
    for e in &t.expect {
        let known =
            groups.iter().any(|&g| set.groups[g].rules.iter().any(|r| r.alert == e.alert.value));
        if !known {
            ck.error(
                &e.alert,
                context.clone(),
                format!("no rule in this file raises {:?}", e.alert.value),
            );
        }
    }
    TestCase {
        path: ck.path.to_path_buf(),
        line: t.input.referenced.line(),
        index: index + 1,
        name: t.name,
        groups: groups.to_vec(),
        input: t.input.value,
        file: t.file,
        expect: t
            .expect
            .into_iter()
            .map(|e| super::Expect {
                alert: e.alert.value,
                labels: e.labels,
                annotations: e.annotations,
            })
            .collect(),
    }
}

fn valid_alert_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Why `name` cannot be a label name of ours, if it cannot (Prometheus data model).
fn label_name_problem(name: &str) -> Option<&'static str> {
    if !valid_alert_name(name) {
        Some("expected a label name of letters, digits and _, not starting with a digit")
    } else if name.starts_with("__") {
        Some("names starting with __ are reserved by Prometheus")
    } else if RESERVED_LABELS.contains(&name) {
        Some("alertname, severity and instance are set by the logtailer")
    } else {
        None
    }
}
