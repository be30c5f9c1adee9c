//! The fast matcher against a naive one (records built line by line, every rule's regex run
//! on every record) on generated text, plus the cases that motivated its design.

use std::path::Path;

use super::*;

/// (line, group, rule, captures) of a hit.
type Found = (u64, usize, usize, Vec<(String, String)>);

const RULES: &str = r#"
groups:
  - name: lines
    rules:
      - alert: Anchored
        match: '^\[\d{4}-\d\d-\d\d [^\]]*\] ERROR +\[(?P<module>[A-Z]+)\]'
        exclude: 'ignore me'
        severity: warning
      - alert: Spanning
        match: 'ORA-\d+\s+x'
        severity: info
      - alert: EndAnchored
        match: 'evicted$'
        severity: info
      - alert: Empty
        match: '^$'
        severity: info
  - name: records
    multiline: { start: '^\d{4}-\d\d-\d\d ', max_lines: 3 }
    rules:
      - alert: Evicted
        match: 'CRS-1607:Node (?P<node>\S+) is being evicted'
        severity: critical
      - alert: TwoLines
        match: '(?s)^\d{4}-01-01 .*\nORA-\d+'
        severity: info
      - alert: Piece
        match: '^x$'
        severity: info
"#;

const VOCAB: &[&str] = &[
    "[2024-01-01 10:00:00.1] ERROR [CLOG] disk",
    "[2024-01-01 10:00:00.2] ERROR  [SQL] ignore me",
    "[2024-01-01 10:00:00.3] INFO [CLOG] fine",
    "ORA-00600 x",
    "ORA-00600",
    "x",
    "",
    "2024-01-01 10:00:00",
    "2024-02-01 10:00:00",
    "[cssd(1)]CRS-1607:Node rac2 is being evicted",
    "CRS-1607:Node rac3 is being evicted in incarnation 1",
    "\u{fffd}\u{e9}t\u{e9}",
];

fn rules() -> RuleSet {
    RuleSet::from_yaml(Path::new("t.yaml"), RULES).unwrap()
}

/// (line, group, rule, captures) by building records one line at a time.
fn naive(rules: &RuleSet, text: &str) -> Vec<Found> {
    naive_with(rules, text, None)
}

/// As [`naive`], with `input` as the record format of groups without their own.
fn naive_with(rules: &RuleSet, text: &str, input: Option<&Multiline>) -> Vec<Found> {
    let lines: Vec<&str> = text.split_terminator('\n').collect();
    let mut out = Vec::new();
    for (gi, g) in rules.groups.iter().enumerate() {
        let mut records: Vec<(usize, Vec<&str>)> = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let new = match (g.multiline.as_ref().or(input), records.last()) {
                (_, None) | (None, _) => true,
                (Some(ml), Some((_, rec))) => {
                    ml.start.is_match(line.as_bytes()) || rec.len() >= ml.max_lines as usize
                }
            };
            match records.last_mut() {
                Some((_, rec)) if !new => rec.push(line),
                _ => records.push((i, vec![line])),
            }
        }
        for (first, rec) in records {
            let body = rec.join("\n");
            for (ri, r) in g.rules.iter().enumerate() {
                let excluded = r.exclude.as_ref().is_some_and(|x| x.is_match(body.as_bytes()));
                if let (Some(caps), false) = (r.regex.captures(body.as_bytes()), excluded) {
                    let captures = r
                        .regex
                        .capture_names()
                        .flatten()
                        .filter_map(|n| {
                            caps.name(n).map(|v| {
                                (
                                    crate::rule::capture_label(n).to_string(),
                                    String::from_utf8_lossy(v.as_bytes()).into(),
                                )
                            })
                        })
                        .collect();
                    out.push((first as u64 + 1, gi, ri, captures));
                }
            }
        }
    }
    out.sort_by_key(|h| (h.0, h.1, h.2));
    out
}

fn fast(rules: &RuleSet, text: &str) -> Vec<Found> {
    fast_with(rules, text, None)
}

fn fast_with(rules: &RuleSet, text: &str, input: Option<&Multiline>) -> Vec<Found> {
    let m = Matcher::new(rules, vec![0, 1]).with_input_multiline(input);
    let mut out: Vec<_> = m
        .eval(text.as_bytes(), 1)
        .into_iter()
        .map(|h| (h.line, h.group, h.rule, h.captures))
        .collect();
    out.sort_by_key(|h| (h.0, h.1, h.2));
    out
}

/// xorshift: reproducible text without a dependency.
fn generate(seed: u64, lines: usize) -> String {
    let mut x = seed.max(1);
    let mut text = String::new();
    for _ in 0..lines {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        text.push_str(VOCAB[(x % VOCAB.len() as u64) as usize]);
        text.push('\n');
    }
    text
}

#[test]
fn agrees_with_the_naive_matcher_on_generated_text() {
    let rules = rules();
    for seed in 1..200 {
        let text = generate(seed, 1 + (seed as usize * 7) % 60);
        let (want, got) = (naive(&rules, &text), fast(&rules, &text));
        assert!(!want.is_empty() || text.len() < 40, "seed {seed}: generator too weak");
        assert_eq!(got, want, "seed {seed}:\n{text}");
    }
}

#[test]
fn an_input_multiline_shapes_the_records_of_groups_without_their_own() {
    // Group `lines` has no multiline: with the input's, its records start at `[` lines and
    // hold at most 2 lines; group `records` keeps its own (`^\d{4}-`, 3 lines).
    let rules = rules();
    let input = Multiline::new(r"^\[", Some(2)).unwrap();
    let mut differs = 0;
    for seed in 1..200 {
        let text = generate(seed, 1 + (seed as usize * 7) % 60);
        let want = naive_with(&rules, &text, Some(&input));
        assert_eq!(fast_with(&rules, &text, Some(&input)), want, "seed {seed}:\n{text}");
        differs += usize::from(want != naive(&rules, &text));
    }
    assert!(differs > 50, "the input's multiline changed only {differs} of 199 texts");
    // A record `[...] ERROR [CLOG]` + `ORA-00600 x`: the ORA line is part of the record.
    let text = "[2024-01-01 10:00:00.1] ERROR [CLOG] disk\nORA-00600 x\n";
    let lines = |input| -> Vec<u64> {
        fast_with(&rules, text, input)
            .iter()
            .filter(|h| h.1 == 0 && h.2 == 1)
            .map(|h| h.0)
            .collect()
    };
    assert_eq!(lines(None), vec![2]);
    assert_eq!(lines(Some(&input)), vec![1]);
    // The cut point follows the input's record too: the last record starts at line 1.
    let m = Matcher::new(&rules, vec![0]).with_input_multiline(Some(&input));
    assert_eq!(m.safe_end(text.as_bytes()), 0);
    assert_eq!(Matcher::new(&rules, vec![0]).safe_end(text.as_bytes()), text.len());
    assert!(Multiline::new("(", None).unwrap_err().starts_with("start: "));
    assert!(Multiline::new("x", Some(0)).unwrap_err().starts_with("max_lines: "));
}

#[test]
fn a_match_spanning_lines_does_not_hide_the_next_line() {
    // `\s+` crosses the newline in the buffer; the record check rejects line 1 and the
    // search resumes at line 2, whose own match must be found.
    let rules = rules();
    let text = "ORA-1\nx ORA-2 x\n";
    let hits = fast(&rules, text);
    assert!(hits.iter().any(|h| h.0 == 2 && h.1 == 0 && h.2 == 1), "{hits:?}");
    assert!(!hits.iter().any(|h| h.0 == 1 && h.1 == 0 && h.2 == 1), "{hits:?}");
}

#[test]
fn multiline_records_take_their_first_line_number_and_are_cut_at_max_lines() {
    let rules = rules();
    let text = "noise\n2011-01-01 10:00:00\n[cssd(1)]CRS-1607:Node rac2 is being evicted\nx\nx\n";
    let m = Matcher::new(&rules, vec![1]);
    let hits = m.eval(text.as_bytes(), 10);
    let evicted: Vec<_> = hits.iter().filter(|h| h.rule == 0).collect();
    assert_eq!(evicted.len(), 1);
    assert_eq!(evicted[0].line, 11);
    assert_eq!(evicted[0].captures, vec![("node".to_string(), "rac2".to_string())]);
    // The record is 4 lines long with max_lines 3: the first `x` is in its first piece
    // (line 11), the second is a piece of its own (line 14).
    let pieces: Vec<_> = hits.iter().filter(|h| h.rule == 2).map(|h| h.line).collect();
    assert_eq!(pieces, vec![11, 14]);
    // safe_end: the last piece starts at the final `x`.
    assert_eq!(m.safe_end(text.as_bytes()), text.len() - 2);
}
