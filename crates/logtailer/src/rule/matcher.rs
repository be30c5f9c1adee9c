//! Finds the records of a buffer that match a rule. The buffer holds whole lines, each ending
//! in `\n`. Per group, one multi-pattern search runs over the whole buffer (as ripgrep does,
//! not line by line); only the record around a hit is confirmed with the group's `RegexSet`,
//! checked against `exclude` and, for rules with named groups, captured. Records are single
//! lines, or for a `multiline` group a start line and the lines after it up to the next start
//! (cut into pieces of `max_lines`). A group without `multiline` of its own takes the input's
//! (`inputs[].multiline` of the run config) when there is one: the group's setting wins.
//!
//! No false negatives: every pattern runs in multi-line mode on records too, so a match in a
//! record is also a match of the same bytes in the buffer; the search resumes at the next
//! record, never past one.

use memchr::{memchr, memrchr};
use regex_automata::Input;

use super::{Group, Multiline, RuleSet};

/// A record that matched a rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit<'t> {
    /// Index of the group in the rule set.
    pub group: usize,
    /// Index of the rule in its group.
    pub rule: usize,
    /// 1-based number of the record's first line.
    pub line: u64,
    /// Offset of the record in the buffer.
    pub offset: usize,
    /// The record, without its last newline.
    pub record: &'t [u8],
    /// Named captures that took part in the match, as label name and value (lossy UTF-8).
    pub captures: Vec<(String, String)>,
}

/// The groups that read one file, ready to evaluate its text.
#[derive(Clone, Debug)]
pub struct Matcher<'r> {
    rules: &'r RuleSet,
    groups: Vec<usize>,
    input_multiline: Option<&'r Multiline>,
}

impl<'r> Matcher<'r> {
    /// A matcher for the groups `groups` (from [`RuleSet::groups_for`]).
    pub fn new(rules: &'r RuleSet, groups: Vec<usize>) -> Self {
        Matcher { rules, groups, input_multiline: None }
    }

    /// Records of the groups without a `multiline` of their own are built with `multiline`
    /// (the input's setting); groups with their own keep it.
    pub fn with_input_multiline(mut self, multiline: Option<&'r Multiline>) -> Self {
        self.input_multiline = multiline;
        self
    }

    /// The record format of group `g`: its own, else the input's, else single lines.
    fn multiline(&self, g: usize) -> Option<&'r Multiline> {
        self.rules.groups[g].multiline.as_ref().or(self.input_multiline)
    }

    /// True when no group reads the file.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Where `text` can be cut so that no record of a multiline group spans the cut: the
    /// start of the last record. What is after it must be evaluated with what comes next
    /// (or at the end of input). `text.len()` when no group is multiline.
    pub fn safe_end(&self, text: &[u8]) -> usize {
        let mut end = text.len();
        for &g in &self.groups {
            if let Some(ml) = self.multiline(g) {
                if text.is_empty() {
                    return 0;
                }
                let last_line = line_start(text, 0, text.len() - 1);
                end = end.min(piece_start(ml, text, 0, last_line));
            }
        }
        end
    }

    /// Evaluates `text` (whole lines; its first line is number `first_line`) and returns the
    /// hits ordered by record offset, then group, then rule.
    pub fn eval<'t>(&self, text: &'t [u8], first_line: u64) -> Vec<Hit<'t>> {
        let mut hits = Vec::new();
        for &g in &self.groups {
            eval_group(&self.rules.groups[g], self.multiline(g), g, text, first_line, &mut hits);
        }
        if self.groups.len() > 1 {
            hits.sort_by_key(|h| (h.offset, h.group, h.rule));
        }
        hits
    }
}

fn eval_group<'t>(
    group: &Group,
    multiline: Option<&Multiline>,
    gi: usize,
    text: &'t [u8],
    first_line: u64,
    hits: &mut Vec<Hit<'t>>,
) {
    let mut counter = LineCounter { pos: 0, line: first_line };
    let mut pos = 0;
    while pos < text.len() {
        let Some(m) = group.prefilter.search(&Input::new(text).range(pos..)) else { break };
        if m.start() >= text.len() {
            break; // an empty match after the last newline: there is no line there
        }
        let (start, end) = record_bounds(multiline, text, pos, m.start());
        let body = text[start..end].strip_suffix(b"\n").unwrap_or(&text[start..end]);
        for ri in group.set.matches(body).iter() {
            let rule = &group.rules[ri];
            if rule.exclude.as_ref().is_some_and(|x| x.is_match(body)) {
                continue;
            }
            let mut captures = Vec::new();
            if rule.has_captures
                && let Some(caps) = rule.regex.captures(body)
            {
                for name in rule.regex.capture_names().flatten() {
                    if let Some(v) = caps.name(name) {
                        let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
                        captures.push((super::capture_label(name).to_string(), value));
                    }
                }
            }
            let line = counter.line_at(text, start);
            hits.push(Hit { group: gi, rule: ri, line, offset: start, record: body, captures });
        }
        pos = end.max(pos + 1);
    }
}

/// The record (or record piece) around `at`, not starting before `floor` (a record boundary).
/// Returns its start and its end just after its last newline.
fn record_bounds(ml: Option<&Multiline>, text: &[u8], floor: usize, at: usize) -> (usize, usize) {
    let line = line_start(text, floor, at);
    let Some(ml) = ml else { return (line, line_end(text, line)) };
    let start = piece_start(ml, text, floor, line);
    let mut end = line_end(text, start);
    let mut lines = 1;
    while end < text.len() && lines < ml.max_lines {
        let next = line_end(text, end);
        if ml.start.is_match(strip_eol(&text[end..next])) {
            break;
        }
        end = next;
        lines += 1;
    }
    (start, end)
}

/// Start of the record piece holding the line that starts at `line`: back to the nearest
/// start line (or `floor`), then forward in steps of `max_lines`.
fn piece_start(ml: &Multiline, text: &[u8], floor: usize, line: usize) -> usize {
    let mut record = line;
    let mut back = 0u64;
    while record > floor && !ml.start.is_match(strip_eol(&text[record..line_end(text, record)])) {
        record = line_start(text, floor, record - 1);
        back += 1;
    }
    let mut skip = back - back % u64::from(ml.max_lines);
    let mut piece = record;
    while skip > 0 {
        piece = line_end(text, piece);
        skip -= 1;
    }
    piece
}

/// Start of the line holding byte `at` (not before `floor`).
fn line_start(text: &[u8], floor: usize, at: usize) -> usize {
    memrchr(b'\n', &text[floor..at]).map_or(floor, |i| floor + i + 1)
}

/// Offset just after the newline ending the line that starts at `start` (or the text's end).
fn line_end(text: &[u8], start: usize) -> usize {
    memchr(b'\n', &text[start..]).map_or(text.len(), |i| start + i + 1)
}

/// A line without its `\n` or `\r\n`, as `multiline.start` sees it.
fn strip_eol(line: &[u8]) -> &[u8] {
    let line = strip_nl(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn strip_nl(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\n").unwrap_or(line)
}

/// Line numbers for increasing offsets, counting each byte once.
struct LineCounter {
    pos: usize,
    line: u64,
}

impl LineCounter {
    fn line_at(&mut self, text: &[u8], offset: usize) -> u64 {
        if offset > self.pos {
            self.line += memchr::memchr_iter(b'\n', &text[self.pos..offset]).count() as u64;
            self.pos = offset;
        }
        self.line
    }
}

#[cfg(test)]
#[path = "matcher_tests.rs"]
mod tests;
