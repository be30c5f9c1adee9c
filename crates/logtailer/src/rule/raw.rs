//! The rule file as written: serde structs that mirror the YAML one to one, with the source
//! location of every value a check can reject (`Spanned`), so an error can point at it.
//! Unknown keys are errors (`deny_unknown_fields`). Validation lives in `compile`.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_saphyr::Spanned;

/// A rule file: groups of rules plus inline tests.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFile {
    #[serde(default)]
    pub(crate) groups: Vec<RawGroup>,
    #[serde(default)]
    pub(crate) tests: Vec<RawTest>,
}

/// `groups[]`: which files the rules read and how records begin.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGroup {
    pub(crate) name: Spanned<String>,
    /// Globs over file paths; a pattern without `/` matches the file name alone. Empty or
    /// missing: every input.
    #[serde(default)]
    pub(crate) files: Vec<Spanned<String>>,
    #[serde(default)]
    pub(crate) multiline: Option<RawMultiline>,
    #[serde(default)]
    pub(crate) rules: Vec<RawRule>,
}

/// `groups[].multiline`: a line matching `start` begins a record; the lines after it up to
/// the next start belong to it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMultiline {
    pub(crate) start: Spanned<String>,
    /// Longest record in lines; longer ones are cut (the rest starts a new record).
    #[serde(default)]
    pub(crate) max_lines: Option<Spanned<u32>>,
}

/// `groups[].rules[]`: one alert.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRule {
    pub(crate) alert: Spanned<String>,
    #[serde(rename = "match")]
    pub(crate) match_: Spanned<String>,
    #[serde(default)]
    pub(crate) exclude: Option<Spanned<String>>,
    /// `critical`, `warning` or `info`; may instead be given the Prometheus way, as
    /// `labels: { severity: ... }`.
    #[serde(default)]
    pub(crate) severity: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) for_count: Option<Spanned<u32>>,
    #[serde(default)]
    pub(crate) within: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) resolve_after: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) labels: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    pub(crate) annotations: BTreeMap<String, Spanned<String>>,
}

/// `tests[]`: lines fed to the file's rules and the alerts they must raise, no more.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTest {
    /// What the test shows, for `test` output and `--run`.
    #[serde(default)]
    pub(crate) name: Option<String>,
    /// Log lines, in order.
    pub(crate) input: Spanned<Vec<String>>,
    /// The path the lines are read from, for `files` selectors and `$file`; without it every
    /// group reads the lines.
    #[serde(default)]
    pub(crate) file: Option<String>,
    #[serde(default)]
    pub(crate) expect: Vec<RawExpect>,
}

/// `tests[].expect[]`: an alert that must fire, with at least these labels and annotations.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExpect {
    pub(crate) alert: Spanned<String>,
    #[serde(default)]
    pub(crate) labels: BTreeMap<String, String>,
    #[serde(default)]
    pub(crate) annotations: BTreeMap<String, String>,
}
