//! Annotation templates: text with `{{ $labels.NAME }}`, `{{ $line }}`, `{{ $file }}` and
//! `{{ $count }}` (alias `{{ $value }}`, as in Prometheus alert templates). Parsed once when
//! the rules are compiled, so an unknown variable or label is a `check` error, not an empty
//! string at 3 a.m.

use std::collections::BTreeMap;

/// One piece of a template.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Text(String),
    Label(String),
    Line,
    File,
    Count,
}

/// A parsed template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

/// What a template is rendered with.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// The alert's labels (captures, rule labels, alertname, severity, instance).
    pub labels: &'a BTreeMap<String, String>,
    /// The record that matched (lossy UTF-8, as displayed).
    pub line: &'a str,
    /// The file it was read from.
    pub file: &'a str,
    /// Matches counted in the rule's window.
    pub count: u64,
}

/// Longest `$line` rendered into an annotation; a record can be megabytes.
const MAX_LINE_CHARS: usize = 2048;

impl Template {
    /// Parses `text`; `known_label` says which `$labels.NAME` can have a value.
    pub fn parse(text: &str, known_label: impl Fn(&str) -> bool) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 2..];
            let close =
                after.find("}}").ok_or_else(|| format!("`{{{{` without `}}}}` in {text:?}"))?;
            let expr = after[..close].trim();
            let part = match expr {
                "$line" => Part::Line,
                "$file" => Part::File,
                "$count" | "$value" => Part::Count,
                _ => match expr.strip_prefix("$labels.") {
                    Some(name) if known_label(name) => Part::Label(name.to_string()),
                    Some(name) => {
                        return Err(format!(
                            "`{{{{ {expr} }}}}`: no label {name:?} (expected a named capture of \
                             `match`, a key of `labels`, alertname, severity or instance)"
                        ));
                    }
                    None => {
                        return Err(format!(
                            "`{{{{ {expr} }}}}`: expected $labels.NAME, $line, $file, $count or \
                             $value"
                        ));
                    }
                },
            };
            parts.push(part);
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(Template { parts })
    }

    /// Renders with `cx`; a label without a value (an optional capture that did not take
    /// part) renders as the empty string.
    pub fn render(&self, cx: &Context<'_>) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Label(name) => {
                    out.push_str(cx.labels.get(name).map(String::as_str).unwrap_or(""))
                }
                Part::Line => {
                    let line = cx.line;
                    match line.char_indices().nth(MAX_LINE_CHARS) {
                        Some((cut, _)) => {
                            out.push_str(&line[..cut]);
                            out.push('…');
                        }
                        None => out.push_str(line),
                    }
                }
                Part::File => out.push_str(cx.file),
                Part::Count => out.push_str(&cx.count.to_string()),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(name: &str) -> bool {
        matches!(name, "node" | "alertname")
    }

    #[test]
    fn renders_every_variable() {
        let t = Template::parse(
            "{{ $labels.node }} evicted ({{$count}}x) in {{ $file }}: {{ $line }}",
            known,
        )
        .unwrap();
        let labels = BTreeMap::from([("node".to_string(), "rac2".to_string())]);
        let cx = Context { labels: &labels, line: "CRS-1632", file: "/a/crsd.log", count: 3 };
        assert_eq!(t.render(&cx), "rac2 evicted (3x) in /a/crsd.log: CRS-1632");
    }

    #[test]
    fn missing_label_value_is_empty_and_long_lines_are_cut() {
        let t = Template::parse("[{{ $labels.alertname }}] {{ $line }}", known).unwrap();
        let labels = BTreeMap::new();
        let long = "x".repeat(MAX_LINE_CHARS + 10);
        let cx = Context { labels: &labels, line: &long, file: "", count: 0 };
        let out = t.render(&cx);
        assert!(out.starts_with("[] xxx"));
        assert_eq!(out.chars().count(), 3 + MAX_LINE_CHARS + 1);
    }

    #[test]
    fn rejects_unknown_names_and_unclosed_braces() {
        let e = Template::parse("{{ $labels.nod }}", known).unwrap_err();
        assert!(e.contains("no label \"nod\""), "{e}");
        let e = Template::parse("{{ .Labels.node }}", known).unwrap_err();
        assert!(e.contains("expected $labels.NAME"), "{e}");
        let e = Template::parse("a {{ $line", known).unwrap_err();
        assert!(e.contains("without"), "{e}");
        assert_eq!(
            Template::parse("plain", known).unwrap().render(&Context {
                labels: &BTreeMap::new(),
                line: "",
                file: "",
                count: 0
            }),
            "plain"
        );
    }
}
