//! The user-facing surface shipped in the repository: Grafana dashboards (`dashboards/*.json`)
//! and Prometheus rule files (`rules/prometheus/*.rules.yml`). Loads them, lists every PromQL
//! expression with where it comes from, and checks the dashboards' structural rules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

/// The repository root (this package lives in `tests/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from(".."), Path::to_path_buf)
}

/// Files in `dir` whose names end with `suffix`, sorted.
pub fn files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    out.sort();
    out
}

/// A PromQL expression and where it was found, for error messages.
#[derive(Clone, Debug)]
pub struct Expr {
    /// `dashboards/host.json panel 7 "Load average" target B`, `rules/prometheus/x.rules.yml alert Y`.
    pub source: String,
    /// The expression as written (dashboards: with Grafana variables).
    pub expr: String,
    /// From a dashboard: Grafana variables must be expanded before it is PromQL.
    pub grafana: bool,
}

/// One dashboard file.
#[derive(Debug)]
pub struct Dashboard {
    /// Path relative to the repository root.
    pub name: String,
    /// The parsed JSON.
    pub json: Value,
}

/// Loads `dashboards/*.json`; a file that is not JSON panics with its name and the error.
pub fn dashboards() -> Vec<Dashboard> {
    let root = repo_root();
    files(&root.join("dashboards"), ".json")
        .into_iter()
        .map(|p| {
            let name = p.strip_prefix(&root).unwrap_or(&p).display().to_string();
            let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{name}: {e}"));
            let json =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: not JSON: {e}"));
            Dashboard { name, json }
        })
        .collect()
}

/// Every panel, rows' nested panels included.
pub fn panels(d: &Dashboard) -> Vec<&Value> {
    let mut out = Vec::new();
    for p in d.json["panels"].as_array().into_iter().flatten() {
        out.push(p);
        out.extend(p["panels"].as_array().into_iter().flatten());
    }
    out
}

fn panel_label(d: &Dashboard, p: &Value) -> String {
    format!("{} panel {} {:?}", d.name, p["id"], p["title"].as_str().unwrap_or(""))
}

/// Every expression of a dashboard: panel targets and query variables.
pub fn dashboard_exprs(d: &Dashboard) -> Result<Vec<Expr>, String> {
    let mut out = Vec::new();
    for p in panels(d) {
        for t in p["targets"].as_array().into_iter().flatten() {
            let expr = t["expr"].as_str().unwrap_or_default().to_string();
            let source =
                format!("{} target {}", panel_label(d, p), t["refId"].as_str().unwrap_or("?"));
            out.push(Expr { source, expr, grafana: true });
        }
    }
    for v in variables(d) {
        if v["type"] != "query" {
            continue;
        }
        let q = variable_query(v);
        let source = format!("{} variable {}", d.name, v["name"].as_str().unwrap_or("?"));
        match crate::promql::variable_query_expr(&q) {
            Ok(Some(expr)) => out.push(Expr { source, expr, grafana: true }),
            Ok(None) => {}
            Err(e) => return Err(format!("{source}: {e}")),
        }
    }
    Ok(out)
}

fn variables(d: &Dashboard) -> Vec<&Value> {
    d.json["templating"]["list"].as_array().into_iter().flatten().collect()
}

/// A query variable's query: a string, or `{"query": "..."}` in newer Grafana.
fn variable_query(v: &Value) -> String {
    v["query"].as_str().or_else(|| v["query"]["query"].as_str()).unwrap_or_default().to_string()
}

/// A Prometheus rule file, as much of it as the checks need.
#[derive(Debug, Deserialize)]
pub struct RuleFile {
    /// Rule groups.
    pub groups: Vec<RuleGroup>,
}

/// One rule group.
#[derive(Debug, Deserialize)]
pub struct RuleGroup {
    /// Group name.
    pub name: String,
    /// Its rules.
    pub rules: Vec<Rule>,
}

/// An alerting or recording rule.
#[derive(Debug, Deserialize)]
pub struct Rule {
    /// Recording rule: the series it writes.
    pub record: Option<String>,
    /// Alerting rule: its name.
    pub alert: Option<String>,
    /// The expression.
    pub expr: String,
    /// Labels added (alerts: `severity` at least).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Alert annotations.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

/// Loads `rules/prometheus/*.rules.yml` as (path relative to the root, file).
pub fn rule_files() -> Vec<(String, RuleFile)> {
    let root = repo_root();
    files(&root.join("rules/prometheus"), ".rules.yml")
        .into_iter()
        .map(|p| {
            let name = p.strip_prefix(&root).unwrap_or(&p).display().to_string();
            let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{name}: {e}"));
            let file =
                serde_saphyr::from_str::<RuleFile>(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, file)
        })
        .collect()
}

/// Every rule expression, with its file, group and rule name.
pub fn rule_exprs(files: &[(String, RuleFile)]) -> Vec<Expr> {
    let mut out = Vec::new();
    for (name, f) in files {
        for g in &f.groups {
            for r in &g.rules {
                let what = match (&r.alert, &r.record) {
                    (Some(a), _) => format!("alert {a}"),
                    (None, Some(rec)) => format!("record {rec}"),
                    (None, None) => "rule without alert or record".into(),
                };
                let source = format!("{name} group {} {what}", g.name);
                out.push(Expr { source, expr: r.expr.clone(), grafana: false });
            }
        }
    }
    out
}

/// The series names recording rules write.
pub fn recorded_names(files: &[(String, RuleFile)]) -> BTreeSet<String> {
    files
        .iter()
        .flat_map(|(_, f)| &f.groups)
        .flat_map(|g| &g.rules)
        .filter_map(|r| r.record.clone())
        .collect()
}

/// Every `"datasource"` value anywhere in `v`, with a JSON path.
fn datasources<'a>(v: &'a Value, path: &str, out: &mut Vec<(String, &'a Value)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = format!("{path}.{k}");
                if k == "datasource" {
                    out.push((p.clone(), x));
                }
                datasources(x, &p, out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                datasources(x, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// Is this `datasource` reference the dashboard's `${datasource}` variable?
fn is_variable_ref(v: &Value) -> bool {
    let ok = |s: &str| s == "${datasource}" || s == "$datasource";
    match v {
        Value::String(s) => ok(s),
        Value::Object(m) => m.get("uid").and_then(Value::as_str).is_some_and(ok),
        _ => false,
    }
}

/// The structural rules every dashboard follows; returns one message per violation.
///
/// - current schema (`schemaVersion` 39), a `uid`, a `title`, no hard-coded `id`;
/// - a `datasource` variable of type `datasource` for Prometheus, and every datasource
///   reference anywhere in the file is `${datasource}` (never a uid of someone's Grafana);
/// - an `instance` variable; query variables read through `label_values`/`query_result` on
///   `${datasource}`; a dashboard over `ob_*` metrics also has `cluster` and `tenant`;
/// - every `$variable` used in a query is defined (or one of Grafana's `$__` variables);
/// - panel ids are unique integers; every panel that is not a row has targets, a unit, and
///   its targets have an expression and a unique refId.
pub fn check_dashboard(d: &Dashboard) -> Vec<String> {
    let mut errs = Vec::new();
    let mut err = |m: String| errs.push(format!("{}: {m}", d.name));
    let j = &d.json;
    if j["schemaVersion"] != 39 {
        err(format!("schemaVersion is {}, expected 39", j["schemaVersion"]));
    }
    for key in ["uid", "title"] {
        if j[key].as_str().is_none_or(str::is_empty) {
            err(format!("no {key}"));
        }
    }
    if !j["id"].is_null() {
        err(format!("id is {} (a Grafana database id); use null so imports do not clash", j["id"]));
    }
    let vars = variables(d);
    let names: BTreeSet<&str> = vars.iter().filter_map(|v| v["name"].as_str()).collect();
    match vars.iter().find(|v| v["name"] == "datasource") {
        Some(v) if v["type"] == "datasource" && v["query"] == "prometheus" => {}
        Some(_) => {
            err("variable datasource must be of type datasource with query prometheus".into())
        }
        None => err("no datasource variable".into()),
    }
    if !names.contains("instance") {
        err("no instance variable".into());
    }
    for v in &vars {
        if v["type"] == "query" {
            let q = variable_query(v);
            if !(q.starts_with("label_values(") || q.starts_with("query_result(")) {
                err(format!("variable {}: query {q:?} is not label_values(...)", v["name"]));
            }
        }
    }
    let mut refs = Vec::new();
    datasources(j, "$", &mut refs);
    for (path, v) in refs {
        if !is_variable_ref(v) {
            err(format!("{path} is {v}, not the ${{datasource}} variable"));
        }
    }
    let mut ids = BTreeSet::new();
    let mut reads_ob = false;
    for p in panels(d) {
        let label = format!("panel {} {:?}", p["id"], p["title"].as_str().unwrap_or(""));
        match p["id"].as_u64() {
            Some(id) if !ids.insert(id) => err(format!("{label}: duplicate id")),
            Some(_) => {}
            None => err(format!("{label}: id is not an integer")),
        }
        if p["type"] == "row" {
            continue;
        }
        if !p["datasource"].is_object() && !p["datasource"].is_string() {
            err(format!("{label}: no datasource"));
        }
        if p["fieldConfig"]["defaults"]["unit"].as_str().is_none_or(str::is_empty) {
            err(format!("{label}: no unit (fieldConfig.defaults.unit)"));
        }
        let targets = p["targets"].as_array().map(Vec::as_slice).unwrap_or_default();
        if targets.is_empty() {
            err(format!("{label}: no targets"));
        }
        let mut ref_ids = BTreeSet::new();
        for t in targets {
            let r = t["refId"].as_str().unwrap_or_default();
            if r.is_empty() || !ref_ids.insert(r) {
                err(format!("{label}: target refId {r:?} missing or repeated"));
            }
            let e = t["expr"].as_str().unwrap_or_default();
            if e.trim().is_empty() {
                err(format!("{label}: target {r} has no expr"));
            }
            reads_ob |= crate::promql::selectors(&crate::promql::expand_grafana(e))
                .is_ok_and(|sels| sels.iter().any(|s| s.metric.starts_with("ob_")));
            for var in used_variables(e) {
                if !var.starts_with("__") && !names.contains(var.as_str()) {
                    err(format!("{label}: target {r} uses ${var}, which is not a variable"));
                }
            }
        }
    }
    if reads_ob && !(names.contains("cluster") && names.contains("tenant")) {
        err("reads ob_* metrics but has no cluster and tenant variables".into());
    }
    errs
}

/// `$name` and `${name...}` references in a query.
fn used_variables(e: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = e;
    while let Some(p) = rest.find('$') {
        let after = rest[p + 1..].strip_prefix('{').unwrap_or(&rest[p + 1..]);
        let len =
            after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
        if len > 0 && !after.starts_with(|c: char| c.is_ascii_digit()) {
            out.push(after[..len].to_string());
        }
        rest = &after[len..];
    }
    out
}
