//! Just enough PromQL to find what an expression reads: the metric name of every vector
//! selector and the label names its matchers require. Not a parser: syntax is promtool's job
//! (the checks feed every expression to `promtool check rules`); this only has to tell a metric
//! name from a function, keyword, label list, duration or string.

/// One vector selector: `name{label="v", ...}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selector {
    /// The metric name (from the identifier or a `__name__="..."` matcher).
    pub metric: String,
    /// Labels that must be present for the selector to match anything: those of `=` and `=~`
    /// matchers with a non-empty value (`label=""` and negative matchers also match series
    /// without the label).
    pub required_labels: Vec<String>,
    /// The selector with only those matchers (`name{a="1",b=~".+"}`): what must return data
    /// for the selector to select anything.
    pub positive: String,
}

/// Keywords, aggregation modifiers and literals that look like identifiers.
const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "unless",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "offset",
    "atan2",
    "start",
    "end",
    "inf",
    "nan",
];

/// Aggregation operators: `sum by (x) (...)` puts a modifier between the name and `(`.
const AGGREGATIONS: &[&str] = &[
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
    "limitk",
    "limit_ratio",
];

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Number,
    Punct(&'static str),
}

fn lex(src: &str) -> Result<Vec<Tok>, String> {
    const PUNCT: &[&str] = &[
        "==", "!=", "<=", ">=", "=~", "!~", "(", ")", "{", "}", "[", "]", ",", "+", "-", "*", "/",
        "%", "^", "<", ">", "=", "@", ":",
    ];
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'#' {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'"' || c == b'\'' || c == b'`' {
            let start = i + 1;
            i += 1;
            while i < b.len() && b[i] != c {
                i += if b[i] == b'\\' && c != b'`' { 2 } else { 1 };
            }
            if i >= b.len() {
                return Err(format!("unterminated string at byte {}", start - 1));
            }
            out.push(Tok::Str(src[start..i].to_string()));
            i += 1;
        } else if c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            // Numbers, hex, exponents and durations (5m, 1h30m) alike.
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.' || b[i] == b'_') {
                i += 1;
            }
            out.push(Tok::Number);
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b':') {
                i += 1;
            }
            out.push(Tok::Ident(src[start..i].to_string()));
        } else if let Some(p) = PUNCT.iter().find(|p| src[i..].starts_with(**p)) {
            out.push(Tok::Punct(p));
            i += p.len();
        } else {
            return Err(format!("unexpected character {:?} at byte {i}", c as char));
        }
    }
    Ok(out)
}

/// Index of the token closing the bracket opened at `open`.
fn closing(toks: &[Tok], open: usize) -> Result<usize, String> {
    let (o, c) = match toks[open] {
        Tok::Punct("(") => ("(", ")"),
        Tok::Punct("{") => ("{", "}"),
        Tok::Punct("[") => ("[", "]"),
        _ => return Err("internal: not an opening bracket".into()),
    };
    let mut depth = 0;
    for (k, t) in toks.iter().enumerate().skip(open) {
        if *t == Tok::Punct(o) {
            depth += 1;
        } else if *t == Tok::Punct(c) {
            depth -= 1;
            if depth == 0 {
                return Ok(k);
            }
        }
    }
    Err(format!("unbalanced {o}"))
}

/// A positive matcher: label, operator (`=` or `=~`), value as written.
type Matcher = (String, &'static str, String);

/// Reads the matchers between `{` at `open` and its `}`: the `__name__` (if given by `=`) and
/// the labels they require.
fn matchers(
    toks: &[Tok],
    open: usize,
    end: usize,
) -> Result<(Option<String>, Vec<Matcher>), String> {
    let mut name = None;
    let mut labels = Vec::new();
    let mut k = open + 1;
    while k < end {
        match (&toks[k], toks.get(k + 1), toks.get(k + 2)) {
            (Tok::Ident(l), Some(Tok::Punct(op)), Some(Tok::Str(v))) => {
                if l == "__name__" {
                    if *op != "=" {
                        return Err(format!(
                            "__name__{op}{v:?}: only __name__=\"...\" can be checked"
                        ));
                    }
                    name = Some(v.clone());
                } else if (*op == "=" || *op == "=~") && !v.is_empty() {
                    labels.push((l.clone(), *op, v.clone()));
                }
                k += 3;
            }
            // A bare metric name inside the braces (`{"metric"}`, UTF-8 names) is not used here.
            (Tok::Punct(","), _, _) => k += 1,
            (t, _, _) => return Err(format!("unexpected {t:?} in label matchers")),
        }
    }
    Ok((name, labels))
}

fn selector(metric: String, matchers: Vec<Matcher>) -> Selector {
    let list: Vec<String> = matchers.iter().map(|(l, op, v)| format!("{l}{op}\"{v}\"")).collect();
    Selector {
        positive: format!("{metric}{{{}}}", list.join(",")),
        metric,
        required_labels: matchers.into_iter().map(|(l, _, _)| l).collect(),
    }
}

/// The vector selectors of `expr`, in order. Grafana's variables must have been replaced
/// first (see [`expand_grafana`]).
pub fn selectors(expr: &str) -> Result<Vec<Selector>, String> {
    let toks = lex(expr)?;
    let mut out = Vec::new();
    let mut k = 0;
    while k < toks.len() {
        match &toks[k] {
            Tok::Ident(w) => {
                let next = toks.get(k + 1);
                let lw = w.to_ascii_lowercase();
                if matches!(
                    lw.as_str(),
                    "by" | "without" | "on" | "ignoring" | "group_left" | "group_right"
                ) && next == Some(&Tok::Punct("("))
                {
                    k = closing(&toks, k + 1)? + 1; // a label list, not selectors
                } else if KEYWORDS.contains(&lw.as_str()) {
                    k += 1;
                } else if next == Some(&Tok::Punct("(")) {
                    k += 1; // a function call: its arguments are scanned in turn
                } else if AGGREGATIONS.contains(&w.as_str())
                    && matches!(next, Some(Tok::Ident(m)) if m == "by" || m == "without")
                {
                    k += 1;
                } else if next == Some(&Tok::Punct("{")) {
                    let end = closing(&toks, k + 1)?;
                    let (name, labels) = matchers(&toks, k + 1, end)?;
                    if let Some(n) = name {
                        return Err(format!("{w}{{__name__=\"{n}\"}}: two metric names"));
                    }
                    out.push(selector(w.clone(), labels));
                    k = end + 1;
                } else {
                    out.push(selector(w.clone(), Vec::new()));
                    k += 1;
                }
            }
            Tok::Punct("{") => {
                let end = closing(&toks, k)?;
                let (name, labels) = matchers(&toks, k, end)?;
                let metric = name.ok_or("a selector without a metric name cannot be checked")?;
                out.push(selector(metric, labels));
                k = end + 1;
            }
            Tok::Punct("[") => k = closing(&toks, k)? + 1, // ranges and subqueries: durations
            Tok::Punct("(") => {
                closing(&toks, k)?; // balanced?
                k += 1;
            }
            _ => k += 1,
        }
    }
    Ok(out)
}

/// Replaces Grafana's interval and range variables by durations and every other `$var` /
/// `${var}` by `x`, so that the text is PromQL. A variable outside a string or range then
/// shows up as a selector `x`, which no binary exports: reported, not hidden.
pub fn expand_grafana(expr: &str) -> String {
    let mut s = expr.to_string();
    for (var, value) in [
        ("${__rate_interval}", "5m"),
        ("$__rate_interval", "5m"),
        ("${__interval}", "1m"),
        ("$__interval", "1m"),
        ("${__range}", "6h"),
        ("$__range", "6h"),
    ] {
        s = s.replace(var, value);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s.as_str();
    while let Some(p) = rest.find('$') {
        out.push_str(&rest[..p]);
        let after = &rest[p + 1..];
        let (braced, body) = match after.strip_prefix('{') {
            Some(b) => (true, b),
            None => (false, after),
        };
        let len =
            body.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(body.len());
        if len == 0 {
            out.push('$');
            rest = after;
            continue;
        }
        out.push('x');
        let mut skip = len;
        if braced {
            // ${var}, ${var:format}
            skip = body.find('}').map_or(body.len(), |e| e + 1);
        }
        rest = &body[skip..];
    }
    out.push_str(rest);
    out
}

/// The metric a Grafana `label_values(...)` / `query_result(...)` variable query reads, as a
/// PromQL expression (`None` for `label_values(label)`, which reads no particular metric).
pub fn variable_query_expr(query: &str) -> Result<Option<String>, String> {
    let q = query.trim();
    if let Some(inner) = q.strip_prefix("label_values(").and_then(|r| r.strip_suffix(')')) {
        // The last argument is the label; the metric or selector comes first.
        return Ok(inner.rfind(',').map(|c| inner[..c].trim().to_string()));
    }
    if let Some(inner) = q.strip_prefix("query_result(").and_then(|r| r.strip_suffix(')')) {
        return Ok(Some(inner.to_string()));
    }
    Err(format!("variable query {q:?}: only label_values(...) and query_result(...) are checked"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(e: &str) -> Vec<String> {
        selectors(&expand_grafana(e)).unwrap().into_iter().map(|s| s.metric).collect()
    }

    #[test]
    fn finds_selectors_not_functions_keywords_or_labels() {
        assert_eq!(
            names(
                r#"sum by (tenant_name, le) (rate(ob_sysstat{stat_id=~"4000[02468]", svr_ip="$x"}[$__rate_interval]))
                   / ignoring (stat_id) group_left (zone) ob_up offset 5m > bool 0.5 unless on (instance) up"#
            ),
            ["ob_sysstat", "ob_up", "up"]
        );
        assert_eq!(
            names("histogram_quantile(0.99, sum by (le) (rate(a_bucket[5m])))"),
            ["a_bucket"]
        );
        assert_eq!(names("time() - b_seconds > 2 * 86400 and c == 1e6"), ["b_seconds", "c"]);
        assert_eq!(names("topk(5, d) or vector(0)"), ["d"]);
        assert_eq!(names(r#"{__name__="e", job="j"}"#), ["e"]);
        assert_eq!(names("max_over_time(f[1h:5m]) @ end()"), ["f"]);
        assert_eq!(
            names("ob_tenant:sql_queries:rate1m{tenant_name=~\"$tenant\"}"),
            ["ob_tenant:sql_queries:rate1m"]
        );
        assert_eq!(names("count without (cpu) (g) # trailing comment with h_total"), ["g"]);
    }

    #[test]
    fn required_labels_are_positive_non_empty_matchers() {
        let s = selectors(r#"m{a="1", b=~".+", c="", d!="x", e!~"y"}"#).unwrap();
        assert_eq!(s[0].required_labels, ["a", "b"]);
        assert_eq!(s[0].positive, r#"m{a="1",b=~".+"}"#);
    }

    #[test]
    fn grafana_variables_become_promql() {
        assert_eq!(
            expand_grafana("rate(x{i=~\"$instance\"}[$__rate_interval])"),
            "rate(x{i=~\"x\"}[5m])"
        );
        assert_eq!(
            expand_grafana("increase(y{i=\"${instance:regex}\"}[$__range])"),
            "increase(y{i=\"x\"}[6h])"
        );
        // A variable where a metric belongs shows up as the metric `x`.
        assert_eq!(names("$metric"), ["x"]);
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(selectors("sum(rate(x[5m])").is_err());
        assert!(selectors(r#"x{a="1"#).is_err());
        assert!(selectors(r#"{__name__=~"node_.*"}"#).is_err());
        assert!(selectors(r#"{job="x"}"#).is_err());
    }

    #[test]
    fn variable_queries() {
        assert_eq!(
            variable_query_expr(
                "label_values(ob_memstore_total_bytes{ob_cluster_name=\"$cluster\"}, tenant_name)"
            )
            .unwrap(),
            Some("ob_memstore_total_bytes{ob_cluster_name=\"$cluster\"}".into())
        );
        assert_eq!(variable_query_expr("label_values(job)").unwrap(), None);
        assert!(variable_query_expr("metrics(node_.*)").is_err());
    }
}
