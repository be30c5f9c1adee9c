//! A parser for the Prometheus text exposition format (0.0.4): used by the textfile collector
//! to read `*.prom` files and by tests to compare scrapes family by family.

use std::collections::BTreeMap;

/// One sample line.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// Full sample name, e.g. `http_request_duration_seconds_bucket`.
    pub name: String,
    /// Label pairs as written (unescaped), in file order.
    pub labels: Vec<(String, String)>,
    /// The value.
    pub value: f64,
    /// Client-side timestamp in ms, if the line had one.
    pub timestamp_ms: Option<i64>,
}

/// A metric family: the samples sharing a `# TYPE` (or a name when untyped).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Family {
    /// Family name.
    pub name: String,
    /// `# HELP` text (unescaped), empty when absent.
    pub help: String,
    /// `# TYPE` value (`counter`, `gauge`, `histogram`, `summary`, `untyped`).
    pub kind: String,
    /// Samples in file order.
    pub samples: Vec<Sample>,
}

/// Where and why a text could not be parsed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// What was wrong.
    pub reason: String,
}

/// Parses exposition text into families, in order of first appearance.
pub fn parse(text: &str) -> Result<Vec<Family>, ParseError> {
    let mut families: Vec<Family> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    let family_for =
        |name: &str, families: &mut Vec<Family>, index: &mut BTreeMap<String, usize>| -> usize {
            *index.entry(name.to_string()).or_insert_with(|| {
                families.push(Family {
                    name: name.to_string(),
                    kind: "untyped".into(),
                    ..Family::default()
                });
                families.len() - 1
            })
        };
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let err = |reason: String| ParseError { line: n + 1, reason };
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix('#') {
            let rest = rest.trim_start();
            let (kw, rest) = rest.split_once(' ').unwrap_or((rest, ""));
            if kw != "HELP" && kw != "TYPE" {
                continue; // a plain comment
            }
            let (name, value) = rest.trim_start().split_once(' ').unwrap_or((rest.trim(), ""));
            if !valid_name(name) {
                return Err(err(format!("invalid metric name {name:?} in # {kw}")));
            }
            let i = family_for(name, &mut families, &mut index);
            if kw == "HELP" {
                families[i].help = unescape(value, false);
            } else {
                let kind = value.trim();
                if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind) {
                    return Err(err(format!("unknown type {kind:?} for {name}")));
                }
                families[i].kind = kind.to_string();
            }
            continue;
        }
        let sample = parse_sample(line).map_err(err)?;
        // Histogram and summary samples belong to the family named without their suffix.
        let base = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| sample.name.strip_suffix(s))
            .filter(|b| {
                index
                    .get(*b)
                    .is_some_and(|&i| matches!(families[i].kind.as_str(), "histogram" | "summary"))
            })
            .unwrap_or(&sample.name)
            .to_string();
        let i = family_for(&base, &mut families, &mut index);
        families[i].samples.push(sample);
    }
    Ok(families)
}

fn valid_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line.find(|c: char| c == '{' || c.is_ascii_whitespace()).unwrap_or(line.len());
    let name = &line[..name_end];
    if !valid_name(name) {
        return Err(format!("invalid metric name {name:?}"));
    }
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(r) = rest.strip_prefix('{') {
        rest = r;
        loop {
            rest = rest.trim_start_matches([' ', ',']);
            if let Some(r) = rest.strip_prefix('}') {
                rest = r;
                break;
            }
            let eq = rest.find('=').ok_or("label without '='")?;
            let lname = rest[..eq].trim();
            if !valid_name(lname) || lname.contains(':') {
                return Err(format!("invalid label name {lname:?}"));
            }
            let after = rest[eq + 1..].trim_start();
            let body = after
                .strip_prefix('"')
                .ok_or_else(|| format!("label {lname} value must be quoted"))?;
            let mut end = None;
            let mut escaped = false;
            for (i, c) in body.char_indices() {
                match c {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '"' => {
                        end = Some(i);
                        break;
                    }
                    _ => {}
                }
            }
            let end = end.ok_or_else(|| format!("label {lname} value is not terminated"))?;
            labels.push((lname.to_string(), unescape(&body[..end], true)));
            rest = &body[end + 1..];
        }
    }
    let mut fields = rest.split_ascii_whitespace();
    let v = fields.next().ok_or("missing value")?;
    let value = match v {
        "+Inf" | "Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        _ => v.parse().map_err(|_| format!("value {v:?} is not a number"))?,
    };
    let timestamp_ms = match fields.next() {
        Some(t) => Some(t.parse().map_err(|_| format!("timestamp {t:?} is not an integer"))?),
        None => None,
    };
    if fields.next().is_some() {
        return Err("unexpected text after the timestamp".into());
    }
    Ok(Sample { name: name.to_string(), labels, value, timestamp_ms })
}

fn unescape(s: &str, quote: bool) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('\\') => out.push('\\'),
            Some('"') if quote => out.push('"'),
            Some(o) => {
                out.push('\\');
                out.push(o);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_families_histograms_and_escapes() {
        let text = "# HELP a_total Things \\\\ done.\n# TYPE a_total counter\na_total{x=\"1\",y=\"q\\\"\\n\"} 3\n\
                    # TYPE h histogram\nh_bucket{le=\"0.1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 0.3\nh_count 2\n\
                    # a comment\nbare 1.5e3 1700000000000\n";
        let f = parse(text).unwrap();
        assert_eq!(f.len(), 3);
        assert_eq!(
            (f[0].name.as_str(), f[0].help.as_str(), f[0].kind.as_str()),
            ("a_total", "Things \\ done.", "counter")
        );
        assert_eq!(f[0].samples[0].labels[1], ("y".to_string(), "q\"\n".to_string()));
        assert_eq!(f[1].samples.len(), 4);
        assert_eq!(f[2].samples[0].value, 1500.0);
        assert_eq!(f[2].samples[0].timestamp_ms, Some(1_700_000_000_000));
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(parse("ok 1\nbad{x=1} 2\n").unwrap_err().line, 2);
        assert!(parse("m 1 2 3\n").unwrap_err().reason.contains("after the timestamp"));
        assert!(parse("# TYPE m gauges\n").unwrap_err().reason.contains("unknown type"));
        assert!(parse("9m 1\n").is_err());
        assert!(parse("m{a=\"x} 1\n").is_err());
    }
}
