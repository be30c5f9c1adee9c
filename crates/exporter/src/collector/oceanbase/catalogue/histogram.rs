//! Response-time histograms from OceanBase's per-bucket rows.
//!
//! `__all_virtual_query_response_time` (3.x and 4.x) holds, per tenant and bucket, the number
//! of statements whose response time fell below the bucket's bound and the time they took:
//! `response_time` is the bound and `total` the time, both in microseconds; the bounds are
//! powers of `query_response_time_range_base` (10 by default: 1 µs to 10^6 s, thirteen
//! buckets; `ObRSTUtility::setup` in `observer/mysql/ob_query_response_time.cpp`). Counts are
//! per bucket, not cumulative, and 4.x splits each bucket by statement type.
//!
//! obagent builds the cumulative buckets in SQL with a self-join and a `UNION` for `+Inf`
//! whose count and sum are taken over every tenant and server. Here the rows are summed and
//! accumulated per tenant in Rust, so `_bucket{le="+Inf"}` always equals that tenant's
//! `_count` and `histogram_quantile` needs no post-processing.

use std::collections::BTreeMap;

use obwatch_common::metrics::{MetricSet, MetricType};

use super::Table;

/// Which columns hold a histogram and how to scale them to the family's unit.
#[derive(Debug)]
pub struct HistogramSpec {
    /// Family name without `_bucket`/`_sum`/`_count`.
    pub family: &'static str,
    /// HELP text.
    pub help: &'static str,
    /// The bucket's upper bound.
    pub bound_column: &'static str,
    /// Observations in the bucket (not cumulative).
    pub count_column: &'static str,
    /// Sum of the observations in the bucket.
    pub sum_column: &'static str,
    /// Divides bounds and sums into the family's unit (1e6: microseconds to seconds; a
    /// division, not a product with 1e-6, so 100 µs is exactly 0.0001).
    pub divisor: f64,
}

/// One label set's buckets: bound -> (count, sum), both summed over rows with the same bound.
type Buckets = BTreeMap<u64, (f64, f64)>;

/// Appends one histogram per distinct combination of `labels` columns. Any row that cannot be
/// part of a histogram (a missing column, a NULL, a negative or non-numeric value) fails the
/// whole answer: a histogram with a bucket left out would give wrong quantiles.
pub fn render(
    h: &HistogramSpec,
    labels: &[&'static str],
    t: &Table,
    base: &[(&'static str, String)],
    out: &mut MetricSet,
) -> Result<(), String> {
    let col = |name: &str| t.column(name).ok_or_else(|| format!("no column {name}"));
    let (bi, ci, si) = if t.rows.is_empty() {
        return Ok(());
    } else {
        (col(h.bound_column)?, col(h.count_column)?, col(h.sum_column)?)
    };
    let label_cols: Vec<(&'static str, usize)> =
        labels.iter().filter_map(|l| t.column(l).map(|i| (*l, i))).collect();
    let mut sets: BTreeMap<Vec<String>, Buckets> = BTreeMap::new();
    for row in &t.rows {
        let bound = non_negative(row[bi].as_deref(), h.bound_column)?;
        let count = non_negative(row[ci].as_deref(), h.count_column)?;
        let sum = non_negative(row[si].as_deref(), h.sum_column)?;
        let key = label_cols.iter().map(|(_, i)| row[*i].clone().unwrap_or_default()).collect();
        // Bounds are whole microseconds; keyed by their bits so they sort and merge exactly.
        let e = sets.entry(key).or_default().entry(bound.to_bits()).or_insert((0.0, 0.0));
        e.0 += count;
        e.1 += sum;
    }
    let f = out.family(h.family, h.help, MetricType::Histogram);
    let mut l: Vec<(&str, &str)> = Vec::with_capacity(base.len() + label_cols.len() + 1);
    for (key, buckets) in &sets {
        l.clear();
        l.extend(base.iter().map(|(k, v)| (*k, v.as_str())));
        l.extend(label_cols.iter().zip(key).map(|((k, _), v)| (*k, v.as_str())));
        let (mut cumulative, mut sum) = (0.0, 0.0);
        for (bits, (count, s)) in buckets {
            cumulative += count;
            sum += s;
            let mut le = String::new();
            obwatch_common::metrics::push_value(&mut le, f64::from_bits(*bits) / h.divisor);
            let with_le: Vec<(&str, &str)> =
                l.iter().copied().chain([("le", le.as_str())]).collect();
            f.sample_with_suffix("_bucket", &with_le, cumulative);
        }
        l.push(("le", "+Inf"));
        f.sample_with_suffix("_bucket", &l, cumulative);
        l.pop();
        f.sample_with_suffix("_sum", &l, sum / h.divisor);
        f.sample_with_suffix("_count", &l, cumulative);
    }
    Ok(())
}

/// A finite, non-negative number, or why not.
fn non_negative(v: Option<&str>, column: &str) -> Result<f64, String> {
    let text = v.ok_or_else(|| format!("{column} is NULL"))?;
    match text.trim().parse::<f64>() {
        Ok(n) if n.is_finite() && n >= 0.0 => Ok(n),
        _ => Err(format!("{column} = {text:?}, expected a non-negative number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: HistogramSpec = HistogramSpec {
        family: "ob_query_response_time_seconds",
        help: "h",
        bound_column: "response_time",
        count_column: "count",
        sum_column: "total",
        divisor: 1e6,
    };
    const LABELS: &[&str] = &["ob_tenant_id", "tenant_name"];

    fn table(rows: &[[&str; 5]]) -> Table {
        Table {
            columns: ["ob_tenant_id", "tenant_name", "response_time", "count", "total"]
                .map(String::from)
                .to_vec(),
            rows: rows.iter().map(|r| r.iter().map(|v| Some(v.to_string())).collect()).collect(),
        }
    }

    fn encode(rows: &[[&str; 5]]) -> Result<String, String> {
        let mut out = MetricSet::new();
        render(&SPEC, LABELS, &table(rows), &[("svr_ip", "10.0.0.1".into())], &mut out)?;
        let mut s = String::new();
        out.encode(&mut s);
        Ok(s)
    }

    #[test]
    fn buckets_accumulate_per_tenant_and_inf_equals_count() {
        // 4.x: one row per statement type and bucket, in no particular order.
        let text = encode(&[
            ["1002", "app", "1000", "5", "2500"],
            ["1002", "app", "100", "10", "400"],
            ["1002", "app", "1000", "3", "1500"],
            ["1002", "app", "1000000", "1", "600000"],
            ["1", "sys", "100", "2", "50"],
        ])
        .unwrap();
        let app = |le: &str| {
            format!(
                "ob_query_response_time_seconds_bucket{{le=\"{le}\",ob_tenant_id=\"1002\",svr_ip=\"10.0.0.1\",tenant_name=\"app\"}}"
            )
        };
        for (le, n) in [("0.0001", 10), ("0.001", 18), ("1", 19), ("+Inf", 19)] {
            assert!(text.contains(&format!("{} {n}\n", app(le))), "{le}:\n{text}");
        }
        assert!(text.contains("# TYPE ob_query_response_time_seconds histogram\n"), "{text}");
        assert!(text.contains("ob_query_response_time_seconds_count{ob_tenant_id=\"1002\",svr_ip=\"10.0.0.1\",tenant_name=\"app\"} 19\n"), "{text}");
        // 400 + 2500 + 1500 + 600000 microseconds.
        assert!(text.contains("ob_query_response_time_seconds_sum{ob_tenant_id=\"1002\",svr_ip=\"10.0.0.1\",tenant_name=\"app\"} 0.6044\n"), "{text}");
        assert!(text.contains("tenant_name=\"sys\"} 2\n"), "{text}");
        // Cumulative buckets never decrease, for every tenant.
        let mut last: BTreeMap<String, f64> = BTreeMap::new();
        for line in text.lines().filter(|l| l.contains("_bucket{")) {
            let tenant = line.split("tenant_name=").nth(1).unwrap().to_string();
            let v: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
            let prev = last.insert(tenant.clone(), v).unwrap_or(0.0);
            assert!(v >= prev, "{line} after {prev}");
        }
    }

    #[test]
    fn rows_that_cannot_be_a_histogram_fail_the_answer() {
        for (bad, want) in [
            (["1", "sys", "100", "-1", "5"], "count = \"-1\""),
            (["1", "sys", "abc", "1", "5"], "response_time = \"abc\""),
            (["1", "sys", "100", "1", "1e999"], "total = \"1e999\""),
            (["1", "sys", "100", "NaN", "1"], "count = \"NaN\""),
        ] {
            let err = encode(&[["1", "sys", "10", "1", "1"], bad]).unwrap_err();
            assert!(err.contains(want), "{err}");
        }
        let mut t = table(&[["1", "sys", "10", "1", "1"]]);
        t.rows[0][3] = None;
        let err = render(&SPEC, LABELS, &t, &[], &mut MetricSet::new()).unwrap_err();
        assert_eq!(err, "count is NULL");
        t.columns[4] = "elapsed".into();
        let err = render(&SPEC, LABELS, &t, &[], &mut MetricSet::new()).unwrap_err();
        assert_eq!(err, "no column total");
        // No rows (no statements yet): nothing, and no error.
        assert_eq!(encode(&[]).unwrap(), "");
    }
}
