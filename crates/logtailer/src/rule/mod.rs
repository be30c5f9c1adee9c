//! Alert rules: the YAML rule files of ARCHITECTURE.md compiled into a [`RuleSet`], records
//! (single lines or multiline groups) matched against them, and the alerts a match raises.
//!
//! # Layout
//! - `raw`: the file format as serde structs, with source locations.
//! - `compile`: checks (every error at once, located) and regex compilation.
//! - [`matcher`]: finds matching records in a buffer of lines, fast.
//! - [`template`]: annotation templates.
//! - [`state`]: `for_count`/`within` counting, firing and resolving, with an injected clock.
//! - [`testing`]: runs the inline `tests:` blocks.

mod compile;
pub mod matcher;
mod raw;
pub mod state;
pub mod template;
pub mod testing;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use obwatch_common::config::ConfigError;
use regex::bytes::{Regex, RegexSet};

pub use matcher::{Hit, Matcher};
use template::Template;

/// Why rule files cannot be used. `check` prints all of them; `run` refuses to start on any.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    /// Unreadable file, YAML syntax error, unknown key or wrong type (one per file: the
    /// parser stops there).
    #[error(transparent)]
    Config(ConfigError),
    /// A value the rules cannot use: bad regex, unknown severity, bad template, ...
    #[error("{path}:{line}:{column}: {context}: {message}")]
    Invalid {
        /// The rule file.
        path: PathBuf,
        /// 1-based line of the offending value.
        line: u64,
        /// 1-based column of the offending value.
        column: u64,
        /// Group, rule and field, e.g. `group "crs" rule "CrsNodeEvicted" field match`.
        context: String,
        /// What is wrong and what was expected.
        message: String,
    },
}

/// Every group of every rule file, compiled.
#[derive(Debug, Default)]
pub struct RuleSet {
    groups: Vec<Group>,
    tests: Vec<TestCase>,
    files: Vec<PathBuf>,
}

impl RuleSet {
    /// The groups, in file order.
    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    /// Number of rules in all groups.
    pub fn rule_count(&self) -> usize {
        self.groups.iter().map(|g| g.rules.len()).sum()
    }

    /// Number of inline tests.
    pub fn test_count(&self) -> usize {
        self.tests.len()
    }

    /// The rule files it was loaded from.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Indexes of the groups whose `files` selectors take `path`.
    pub fn groups_for(&self, path: &Path) -> Vec<usize> {
        (0..self.groups.len()).filter(|&i| self.groups[i].reads(path)).collect()
    }
}

/// A group of rules that read the same files and share a record format.
#[derive(Debug)]
pub struct Group {
    /// `name`.
    pub name: String,
    selectors: Vec<Selector>,
    multiline: Option<Multiline>,
    /// The rules, in file order.
    pub rules: Vec<Rule>,
    /// Pattern i is rule i's `match`: confirms which rules a record matches.
    set: RegexSet,
    /// All `match` patterns in one automaton, searched over whole buffers to find the few
    /// records worth confirming (what makes `scan` run at ripgrep-like speed).
    prefilter: regex_automata::meta::Regex,
}

impl Group {
    /// True when the group's `files` selectors take `path` (no selectors: every file).
    pub fn reads(&self, path: &Path) -> bool {
        self.selectors.is_empty() || self.selectors.iter().any(|s| s.matches(path))
    }
}

/// How multiline records begin: a line matching `start` begins one, the lines after it up
/// to the next start belong to it, in pieces of at most `max_lines` lines. Set by a group
/// (`groups[].multiline`) or by an input of the run config (`inputs[].multiline`, for the
/// groups that do not set their own).
#[derive(Clone, Debug)]
pub struct Multiline {
    start: Regex,
    max_lines: u32,
}

impl Multiline {
    /// Compiles `start`, which is matched against one line at a time (without its line
    /// ending): `^` is the line's start. Not in multi-line mode, unlike rule regexes: then the
    /// regex is anchored, and the matcher runs it as a forward DFA from the line's start
    /// instead of trying every `:` or `-` of the line (with `(?m)^` the regex crate chose a
    /// reverse-inner search that fell back to the PikeVM: 27 s per GB of lines that are not
    /// record starts). `max_lines` defaults to 500 and must be at least 1.
    pub fn new(start: &str, max_lines: Option<u32>) -> Result<Multiline, String> {
        let max_lines = max_lines.unwrap_or(compile::DEFAULT_MAX_RECORD_LINES);
        if max_lines == 0 {
            return Err("max_lines: expected 1 or more".into());
        }
        let start = compile::line_builder(start).build().map_err(|e| format!("start: {e}"))?;
        Ok(Multiline { start, max_lines })
    }
}

/// One compiled rule.
#[derive(Debug)]
pub struct Rule {
    /// `alert`: the alertname.
    pub alert: String,
    /// `severity`.
    pub severity: Severity,
    regex: Regex,
    has_captures: bool,
    exclude: Option<Regex>,
    /// Matches needed within `within` before the alert fires (1: every match fires).
    pub for_count: u32,
    /// Window for `for_count` (zero when `for_count` is 1).
    pub within: Duration,
    /// Quiet period after the last match before the alert resolves.
    pub resolve_after: Duration,
    /// Static labels.
    pub labels: BTreeMap<String, String>,
    /// Annotation templates.
    pub annotations: BTreeMap<String, Template>,
    /// Line of `alert:` in its file, for messages.
    pub line: u64,
}

impl Rule {
    /// An alert's labels for a match with `captures`: the captures, the rule's labels,
    /// `alertname` and `severity` (delivery adds `instance`).
    pub fn alert_labels(&self, captures: &[(String, String)]) -> BTreeMap<String, String> {
        let mut labels: BTreeMap<String, String> = captures.iter().cloned().collect();
        labels.extend(self.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
        labels.insert("alertname".into(), self.alert.clone());
        labels.insert("severity".into(), self.severity.as_str().into());
        labels
    }
}

/// The label a capture group fills: its name up to a `__` suffix. The regex crate refuses two
/// groups of one name, so alternatives that each capture the same label (the device of
/// `EXT4-fs error (device sda1)` and of `JBD2: ... for sda1-8`) name them `device__ext4` and
/// `device__jbd2`.
pub fn capture_label(group_name: &str) -> &str {
    match group_name.find("__") {
        Some(i) if i > 0 => &group_name[..i],
        _ => group_name,
    }
}

/// `severity`: the label value Alertmanager routes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Page someone.
    Critical,
    /// Look soon.
    Warning,
    /// For the record.
    Info,
}

impl Severity {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// A `files` pattern. Without `/` it matches the file name (`alert*.log`), with `/` the whole
/// path, where `**` crosses directories (`/u01/**/crsd.log`); a leading `**/` matches at any
/// depth (`**/crsd/*.log`). One glob dialect with the inputs and the cleaner
/// (`tail::discover::GLOB`: wildcards never match a leading `.`); the implicit "any depth" of
/// `**/` is not a wildcard the user wrote, so it also crosses hidden directories (a temp dir).
#[derive(Debug)]
struct Selector {
    pattern: glob::Pattern,
    /// For `**/rest`: `rest`, matched against every tail of the path.
    tail: Option<glob::Pattern>,
    name_only: bool,
}

impl Selector {
    fn new(text: &str) -> Result<Selector, String> {
        let compile = |t: &str| {
            glob::Pattern::new(t).map_err(|e| {
                format!("bad glob {t:?}: {e} (expected e.g. \"**/crsd.log\" or \"alert*.log\")")
            })
        };
        let name_only = !text.contains('/');
        let tail = match text.strip_prefix("**/") {
            Some(rest) => Some(compile(rest)?),
            None => None,
        };
        Ok(Selector { pattern: compile(text)?, tail, name_only })
    }

    fn matches(&self, path: &Path) -> bool {
        let opts = crate::tail::discover::GLOB;
        if self.name_only {
            return path
                .file_name()
                .is_some_and(|n| self.pattern.matches_with(&n.to_string_lossy(), opts));
        }
        if let Some(tail) = &self.tail {
            let parts: Vec<_> = path.components().collect();
            return (0..parts.len()).any(|i| {
                let suffix: PathBuf = parts[i..].iter().collect();
                tail.matches_path_with(&suffix, opts)
            });
        }
        self.pattern.matches_path_with(path, opts)
    }
}

/// An inline test of a rule file.
#[derive(Debug)]
pub struct TestCase {
    /// The rule file.
    pub path: PathBuf,
    /// Line of its `input:`.
    pub line: u64,
    /// 1-based position in the file's `tests:`.
    pub index: usize,
    /// `name`, when the test has one.
    pub name: Option<String>,
    groups: Vec<usize>,
    input: Vec<String>,
    file: Option<String>,
    expect: Vec<Expect>,
}

/// An alert a test expects.
#[derive(Debug)]
struct Expect {
    alert: String,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
}

/// Expands rule paths: a directory stands for its `*.yaml` and `*.yml` files (sorted).
pub fn expand_rule_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let entries =
                std::fs::read_dir(p).map_err(|e| format!("{}: cannot list: {e}", p.display()))?;
            let mut files: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "yaml" || x == "yml"))
                .collect();
            files.sort();
            if files.is_empty() {
                return Err(format!("{}: no *.yaml rule files in this directory", p.display()));
            }
            out.extend(files);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_match_names_and_paths() {
        let s = |p: &str, path: &str| Selector::new(p).unwrap().matches(Path::new(path));
        assert!(s("**/crsd.log", "/u01/app/grid/log/rac1/crsd/crsd.log"));
        assert!(s("**/crsd.log", "crsd.log"));
        assert!(!s("**/crsd.log", "/u01/crsd.log.1"));
        assert!(s("alert*.log", "/u01/app/oracle/diag/alert_orcl1.log"));
        assert!(!s("alert*.log", "/u01/alert/x.log"));
        assert!(s("/home/admin/oceanbase/log/*.log", "/home/admin/oceanbase/log/observer.log"));
        assert!(!s("/home/admin/*.log", "/home/admin/oceanbase/log/observer.log"));
        assert!(Selector::new("[a").is_err());
        // `**/` reaches any depth, hidden directories included (a temp dir); the user's own
        // wildcards keep the dialect: no leading dot.
        assert!(s("**/log/*/alert*.log", "/tmp/.tmpAb12/u01/log/rac1/alertrac1.log"));
        assert!(!s("**/log/*/alert*.log", "/u01/log/.rac1/alertrac1.log"));
        assert!(!s("alert*.log", "/u01/log/.alert.log"));
        assert!(!s("/u01/**/crsd.log", "/u01/.snapshot/crsd.log"));
    }
}
