//! The metric set collectors fill, and its Prometheus text-format (0.0.4) encoder.
//!
//! Why not the `prometheus` crate: its registry builds a protobuf-shaped `MetricFamily` with a
//! heap `LabelPair` per label per sample on every gather, which alone costs more CPU than a whole
//! scrape is allowed here (see docs/benchmarks.md). Collectors emit fresh samples each
//! scrape (const metrics), so a registry of long-lived metric objects buys nothing. A family
//! here keeps all its samples' label text in one buffer, so a scrape allocates per family, not
//! per sample. The output is checked by `promtool check metrics` and parsed by Prometheus itself
//! in the end-to-end tests.

use std::borrow::Cow;
use std::fmt::Write as _;

/// The `# TYPE` of a family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricType {
    /// Only goes up (resets on restart); name ends in `_total` by convention.
    Counter,
    /// Goes up and down.
    Gauge,
    /// node_exporter's netstat/vmstat raw kernel counters are exported untyped; kept for
    /// compatibility.
    Untyped,
    /// Samples `_bucket`, `_sum`, `_count` (passed through from textfiles).
    Histogram,
    /// Samples with `quantile`, `_sum`, `_count` (passed through from textfiles).
    Summary,
}

impl MetricType {
    fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Untyped => "untyped",
            MetricType::Histogram => "histogram",
            MetricType::Summary => "summary",
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Sample {
    /// Byte range of this sample's name suffix (`_bucket`, usually empty) followed by its
    /// `a="x",b="y"` text in `Family::labels`; the labels start at `label_start`.
    start: u32,
    label_start: u32,
    end: u32,
    value: f64,
}

/// One metric name with its help text, type and samples.
#[derive(Clone, Debug)]
pub struct Family {
    name: Cow<'static, str>,
    help: Cow<'static, str>,
    kind: MetricType,
    /// The encoded label sets of all samples, back to back (one allocation per family).
    labels: String,
    samples: Vec<Sample>,
}

impl Family {
    /// Adds a sample. Labels are sorted by name on output (as client_golang does), values are
    /// escaped. An empty slice gives an unlabelled sample.
    pub fn sample(&mut self, labels: &[(&str, &str)], value: f64) -> &mut Self {
        self.sample_with_suffix("", labels, value)
    }

    /// Adds a sample whose name is the family name plus `suffix` (`_bucket`, `_sum`,
    /// `_count` of a histogram or summary).
    pub fn sample_with_suffix(
        &mut self,
        suffix: &str,
        labels: &[(&str, &str)],
        value: f64,
    ) -> &mut Self {
        let start = self.labels.len() as u32;
        self.labels.push_str(suffix);
        let label_start = self.labels.len() as u32;
        if labels.windows(2).all(|w| w[0].0 <= w[1].0) {
            push_labels(&mut self.labels, labels.iter().copied());
        } else {
            let mut sorted: Vec<(&str, &str)> = labels.to_vec();
            sorted.sort_unstable_by(|a, b| a.0.cmp(b.0));
            push_labels(&mut self.labels, sorted.into_iter());
        }
        self.samples.push(Sample { start, label_start, end: self.labels.len() as u32, value });
        self
    }

    /// The family's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The family's type.
    pub fn kind(&self) -> MetricType {
        self.kind
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// True when the family has no samples (it is then left out of the output).
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Iterates `(encoded labels, value)`; labels look like `cpu="0",mode="idle"`.
    pub fn samples(&self) -> impl Iterator<Item = (&str, f64)> {
        self.samples.iter().map(|s| (&self.labels[s.label_start as usize..s.end as usize], s.value))
    }

    /// Iterates `(name suffix, encoded labels, value)`.
    fn raw_samples(&self) -> impl Iterator<Item = (&str, &str, f64)> {
        self.samples.iter().map(|s| {
            let (a, b, c) = (s.start as usize, s.label_start as usize, s.end as usize);
            (&self.labels[a..b], &self.labels[b..c], s.value)
        })
    }
}

fn push_labels<'a>(out: &mut String, labels: impl Iterator<Item = (&'a str, &'a str)>) {
    for (i, (name, value)) in labels.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(name);
        out.push_str("=\"");
        escape_into(out, value, true);
        out.push('"');
    }
}

/// Escapes per the text format: `\` and newline always, `"` in label values only.
fn escape_into(out: &mut String, s: &str, quote: bool) {
    if !s.bytes().any(|b| b == b'\\' || b == b'\n' || (quote && b == b'"')) {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if quote => out.push_str("\\\""),
            c => out.push(c),
        }
    }
}

/// What one collector (or one scrape) produced: families in the order they were added.
#[derive(Clone, Debug, Default)]
pub struct MetricSet {
    families: Vec<Family>,
}

impl MetricSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts a family; add samples to the returned reference. A family left empty is not
    /// encoded.
    pub fn family(
        &mut self,
        name: impl Into<Cow<'static, str>>,
        help: impl Into<Cow<'static, str>>,
        kind: MetricType,
    ) -> &mut Family {
        self.families.push(Family {
            name: name.into(),
            help: help.into(),
            kind,
            labels: String::new(),
            samples: Vec::new(),
        });
        self.families.last_mut().expect("just pushed")
    }

    /// Shorthand for a family with one unlabelled gauge sample.
    pub fn gauge(&mut self, name: &'static str, help: &'static str, value: f64) {
        self.family(name, help, MetricType::Gauge).sample(&[], value);
    }

    /// Shorthand for a family with one unlabelled counter sample.
    pub fn counter(&mut self, name: &'static str, help: &'static str, value: f64) {
        self.family(name, help, MetricType::Counter).sample(&[], value);
    }

    /// Moves all families of `other` to the end of this set.
    pub fn append(&mut self, other: &mut MetricSet) {
        self.families.append(&mut other.families);
    }

    /// The families, in insertion order.
    pub fn families(&self) -> &[Family] {
        &self.families
    }

    /// Finds a family by name (the first one, if a name was added twice).
    pub fn find(&self, name: &str) -> Option<&Family> {
        self.families.iter().find(|f| f.name == name)
    }

    /// The value of the sample with exactly these labels (in any order), if present.
    pub fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let mut want = String::new();
        let mut sorted = labels.to_vec();
        sorted.sort_unstable_by(|a, b| a.0.cmp(b.0));
        push_labels(&mut want, sorted.into_iter());
        self.families
            .iter()
            .filter(|f| f.name == name)
            .flat_map(|f| f.samples())
            .find(|(l, _)| *l == want)
            .map(|(_, v)| v)
    }

    /// Total number of samples.
    pub fn sample_count(&self) -> usize {
        self.families.iter().map(Family::len).sum()
    }

    /// Encodes in the text exposition format. Families are sorted by name (stable, so samples
    /// keep their order) and same-named families are merged under one HELP/TYPE pair, as
    /// client_golang's registry does; empty families are skipped.
    pub fn encode(&mut self, out: &mut String) {
        self.families.sort_by(|a, b| a.name.cmp(&b.name));
        let mut last: Option<&str> = None;
        for f in &self.families {
            if f.samples.is_empty() {
                continue;
            }
            if last != Some(&f.name) {
                out.push_str("# HELP ");
                out.push_str(&f.name);
                out.push(' ');
                escape_into(out, &f.help, false);
                out.push_str("\n# TYPE ");
                out.push_str(&f.name);
                out.push(' ');
                out.push_str(f.kind.as_str());
                out.push('\n');
                last = Some(&f.name);
            }
            for (suffix, labels, value) in f.raw_samples() {
                out.push_str(&f.name);
                out.push_str(suffix);
                if !labels.is_empty() {
                    out.push('{');
                    out.push_str(labels);
                    out.push('}');
                }
                out.push(' ');
                push_value(out, value);
                out.push('\n');
            }
        }
    }
}

/// Writes a float the way Prometheus parses it: `+Inf`, `-Inf`, `NaN`, else the shortest
/// round-trip decimal (integers without a fraction).
pub fn push_value(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        // Integral values are the common case (counters); i64 formatting is cheaper.
        let _ = write!(out, "{}", v as i64);
    } else {
        let _ = write!(out, "{v}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_merged_sorted_and_escaped() {
        let mut set = MetricSet::new();
        set.family("node_b", "B help", MetricType::Gauge)
            .sample(&[("mode", "idle"), ("cpu", "0")], 1.5)
            .sample(&[("cpu", "1"), ("mode", "a\"b\\c\nd")], f64::INFINITY);
        set.gauge("node_a", "A help with \\ and\nnewline", 3.0);
        set.family("node_b", "B help", MetricType::Gauge).sample(&[("cpu", "2")], f64::NAN);
        set.family("node_empty", "never shown", MetricType::Counter);
        let mut out = String::new();
        set.encode(&mut out);
        assert_eq!(
            out,
            "# HELP node_a A help with \\\\ and\\nnewline\n# TYPE node_a gauge\nnode_a 3\n\
             # HELP node_b B help\n# TYPE node_b gauge\nnode_b{cpu=\"0\",mode=\"idle\"} 1.5\n\
             node_b{cpu=\"1\",mode=\"a\\\"b\\\\c\\nd\"} +Inf\nnode_b{cpu=\"2\"} NaN\n"
        );
    }

    #[test]
    fn get_ignores_label_order() {
        let mut set = MetricSet::new();
        set.family("x", "h", MetricType::Counter).sample(&[("a", "1"), ("b", "2")], 7.0);
        assert_eq!(set.get("x", &[("b", "2"), ("a", "1")]), Some(7.0));
        assert_eq!(set.get("x", &[("a", "1")]), None);
        assert_eq!(set.sample_count(), 1);
    }

    #[test]
    fn values_round_trip() {
        for v in [0.0, -1.0, 1e-9, 123456789.125, 1e300, 2f64.powi(60), -0.5] {
            let mut s = String::new();
            push_value(&mut s, v);
            assert_eq!(s.parse::<f64>().unwrap(), v, "{s}");
        }
    }
}
