//! What the OceanBase collector asks and how answers become series: a sorted list of queries,
//! each with its 3.x and 4.x SQL (obagent's `monitor_ob.yaml` catalogue, `../shared/reference/
//! oceanbase.md` §1.3 and §5), the columns that become labels and the columns that become
//! values. [`render`] is pure, so the mapping is tested without a database.
//!
//! SQL conventions: columns are aliased to the label and value names used below; `{svr_ip}`
//! and `{svr_port}` are this server (per-server views are filtered by them, as obagent does);
//! `{limit}` and `{sql_text}` are the top-SQL settings. 3.x statements carry obagent's weak-
//! read hint so monitoring never waits on a leader.

use std::time::Duration;

use obwatch_common::metrics::{MetricSet, MetricType};

use super::options::ObOptions;

mod histogram;
mod sql;

pub use histogram::HistogramSpec;

/// Where a query's answer is true.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// About this server (filtered by `svr_ip`/`svr_port`); runs on every server.
    Server,
    /// About the whole cluster; runs only on the server hosting RootService, so a cluster
    /// with N servers does not report it N times.
    RootService,
}

/// A column that becomes the value of one family.
#[derive(Debug)]
pub struct Field {
    /// The column (lower case alias).
    pub column: &'static str,
    /// The family name, obagent's where obagent has one.
    pub family: &'static str,
    /// HELP text: what it is, its unit and its source view.
    pub help: &'static str,
    /// Counter or gauge (obagent exports everything untyped).
    pub kind: MetricType,
}

/// One statement of the catalogue.
#[derive(Debug)]
pub struct Query {
    /// The `query` label of `obwatch_ob_query_success`.
    pub name: &'static str,
    /// SQL for 3.x servers; `None` when 3.x has no such view.
    pub v3: Option<&'static str>,
    /// SQL for 4.x servers; `None` when 4.x has no such view.
    pub v4: Option<&'static str>,
    /// Who answers it.
    pub scope: Scope,
    /// Columns copied to labels of the same name (a missing column is left out).
    pub labels: &'static [&'static str],
    /// Columns that become values (for [`Shape::Families`]).
    pub fields: &'static [Field],
    /// How rows become series.
    pub shape: Shape,
    /// Run at most this often, serving the last answer in between (obagent caches its
    /// heavy cluster-wide counts for an hour); `None`: every round.
    pub every: Option<Duration>,
}

/// How a query's rows become series.
#[derive(Debug)]
pub enum Shape {
    /// One family per field, one sample per row.
    Families,
    /// One histogram per label set, from per-bucket rows.
    Histogram(HistogramSpec),
}

impl Query {
    /// The SQL for a server of this major version.
    pub fn sql(&self, major: u32) -> Option<&'static str> {
        if major >= 4 { self.v4 } else { self.v3 }
    }
}

/// `with_rootserver` and `zone` of this server, by major version (3.x, 4.x).
pub const SERVER_ROLE_SQL: [&str; 2] = [
    "SELECT /*+ MONITOR_AGENT READ_CONSISTENCY(WEAK) */ with_rootserver, zone FROM __all_server WHERE svr_ip = '{svr_ip}' AND svr_port = {svr_port}",
    "SELECT /* MONITOR_AGENT */ with_rootserver, zone FROM DBA_OB_SERVERS WHERE svr_ip = '{svr_ip}' AND svr_port = {svr_port}",
];

pub use sql::ALL;

/// Fills in the top-SQL settings.
pub fn expand(sql: &str, o: &ObOptions) -> String {
    if !sql.contains('{') {
        return sql.to_string();
    }
    let text = if o.top_sql_text { ", SUBSTR(MAX(query_sql), 1, 256) AS sql_text" } else { "" };
    sql.replace("{limit}", &o.top_sql_limit.to_string()).replace("{sql_text}", text)
}

/// A result set as text: column names in lower case, NULL as `None`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Table {
    /// Column names.
    pub columns: Vec<String>,
    /// Rows, one value per column.
    pub rows: Vec<Vec<Option<String>>>,
}

impl Table {
    fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }
}

/// Appends the series of `q` from its answer `t`, each labelled with `base` plus the query's
/// label columns (a label column the answer lacks is left out).
///
/// For [`Shape::Families`], one family per field with a sample per row. A NULL value leaves
/// that sample out: views answer NULL for "not yet" (a tenant never compacted, a tenant whose
/// name did not join), and failing the query would hide every other row. Anything else that
/// is not a number fails the whole answer, as does a negative counter, a value out of `f64`'s
/// range, or an answer with rows but none of the value columns: a view that changed shape
/// must not export a partial, plausible-looking set. `Err` says what was wrong.
pub fn render(
    q: &Query,
    t: &Table,
    base: &[(&'static str, String)],
    out: &mut MetricSet,
) -> Result<(), String> {
    if let Shape::Histogram(h) = &q.shape {
        return histogram::render(h, q.labels, t, base, out);
    }
    let fields: Vec<(&Field, usize)> =
        q.fields.iter().filter_map(|f| t.column(f.column).map(|i| (f, i))).collect();
    if fields.is_empty() && !t.rows.is_empty() {
        let want: Vec<&str> = q.fields.iter().map(|f| f.column).collect();
        return Err(format!(
            "none of the value columns {want:?} in the answer (columns: {:?})",
            t.columns
        ));
    }
    // Checked before anything is added, so a bad answer leaves no half of itself behind.
    for (field, vi) in &fields {
        for row in &t.rows {
            value(field, row[*vi].as_deref())?;
        }
    }
    let label_cols: Vec<(&str, usize)> =
        q.labels.iter().filter_map(|l| t.column(l).map(|i| (*l, i))).collect();
    let mut labels: Vec<(&str, &str)> = Vec::with_capacity(base.len() + label_cols.len());
    for (field, vi) in fields {
        let f = out.family(field.family, field.help, field.kind);
        for row in &t.rows {
            let Ok(Some(v)) = value(field, row[vi].as_deref()) else { continue };
            labels.clear();
            labels.extend(base.iter().map(|(k, v)| (*k, v.as_str())));
            labels.extend(label_cols.iter().map(|(k, i)| (*k, row[*i].as_deref().unwrap_or(""))));
            f.sample(&labels, v);
        }
    }
    Ok(())
}

/// A value cell as a sample value: `None` for NULL, `Err` for what no series may hold.
fn value(field: &Field, cell: Option<&str>) -> Result<Option<f64>, String> {
    let Some(text) = cell else { return Ok(None) };
    match text.trim().parse::<f64>() {
        Ok(v) if !v.is_finite() => Err(format!("{} = {text:?} is out of range", field.column)),
        Ok(v) if v < 0.0 && field.kind == MetricType::Counter => {
            Err(format!("{} = {text:?}: a counter cannot be negative", field.column))
        }
        Ok(v) => Ok(Some(v)),
        Err(_) => Err(format!("{} = {text:?}, expected a number", field.column)),
    }
}

#[cfg(test)]
mod tests;
