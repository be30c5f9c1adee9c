//! Tests of the query catalogue: its shape, its SQL and the pure row-to-series mapping.

use obwatch_common::metrics::MetricSet;

use super::*;
use crate::collector::oceanbase::options::ObOptions;

#[test]
fn queries_are_sorted_and_each_has_sql() {
    let names: Vec<&str> = ALL.iter().map(|q| q.name).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(names, sorted, "ALL must be sorted and unique");
    for q in ALL {
        assert!(q.v3.is_some() || q.v4.is_some(), "{} has no SQL", q.name);
        for sql in [q.v3, q.v4].into_iter().flatten() {
            if q.scope == Scope::Server && !sql.contains("{svr_ip}") {
                // Local v$ views answer for this server only.
                assert!(
                    sql.contains(" v$") || sql.contains(" V$"),
                    "{}: not filtered by server",
                    q.name
                );
            }
        }
    }
}

#[test]
fn every_column_named_is_selected() {
    // A label or value column that no SQL selects is a typo that would silently export nothing.
    for q in ALL {
        let sqls: Vec<String> =
            [q.v3, q.v4].into_iter().flatten().map(|s| s.to_ascii_lowercase()).collect();
        for col in q.fields.iter().map(|f| f.column).chain(q.labels.iter().copied()) {
            if col == "sql_text" {
                continue;
            }
            assert!(
                sqls.iter().any(|s| s.contains(col)),
                "{}: column {col} is never selected",
                q.name
            );
        }
    }
}

#[test]
fn families_are_unique_and_named_by_convention() {
    let mut seen = std::collections::BTreeSet::new();
    for f in ALL.iter().flat_map(|q| q.fields) {
        assert!(seen.insert(f.family), "{} defined twice", f.family);
        assert!(f.family.starts_with("ob_"), "{}", f.family);
        if f.kind == MetricType::Counter {
            // promtool lints a counter without the suffix; obagent's names that lack it
            // are exported untyped.
            assert!(f.family.ends_with("_total"), "{}: counters end in _total", f.family);
        }
    }
}

#[test]
fn expand_fills_top_sql_settings() {
    let mut o = ObOptions::new("h:1");
    o.top_sql_limit = 7;
    let q = ALL.iter().find(|q| q.name == "top_sql").unwrap();
    let sql = expand(q.v4.unwrap(), &o);
    assert!(
        sql.contains("LIMIT 7")
            && !sql.contains("query_sql")
            && !sql.contains("{limit}")
            && !sql.contains("{sql_text}"),
        "{sql}"
    );
    o.top_sql_text = true;
    assert!(expand(q.v4.unwrap(), &o).contains("SUBSTR(MAX(query_sql), 1, 256) AS sql_text"));
}

#[test]
fn render_maps_columns_to_labels_and_values() {
    let q = ALL.iter().find(|q| q.name == "memstore").unwrap();
    let s = |v: &str| Some(v.to_string());
    let t = Table {
        columns: [
            "ob_tenant_id",
            "tenant_name",
            "active",
            "total",
            "freeze_trigger",
            "mem_limit",
            "freeze_cnt",
        ]
        .map(String::from)
        .to_vec(),
        rows: vec![
            vec![s("1"), s("sys"), s("1048576"), s("2097152"), s("4194304"), s("8388608"), s("3")],
            // A NULL value and a tenant whose name did not join: the sample is left out,
            // the label is empty.
            vec![s("1002"), None, None, s("10"), s("30"), s("20"), s("0")],
        ],
    };
    let base = [("svr_ip", "10.0.0.1".to_string()), ("svr_port", "2882".to_string())];
    let mut out = MetricSet::new();
    render(q, &t, &base, &mut out).unwrap();
    let l = |tenant: &'static str, name: &'static str| {
        [
            ("ob_tenant_id", tenant),
            ("svr_ip", "10.0.0.1"),
            ("svr_port", "2882"),
            ("tenant_name", name),
        ]
    };
    assert_eq!(out.get("ob_memstore_active_bytes", &l("1", "sys")), Some(1048576.0));
    assert_eq!(out.get("ob_memstore_freeze_times", &l("1", "sys")), Some(3.0));
    assert_eq!(out.get("ob_memstore_total_bytes", &l("1002", "")), Some(10.0));
    assert_eq!(out.find("ob_memstore_active_bytes").unwrap().len(), 1, "NULL left out");
    assert_eq!(out.find("ob_memstore_freeze_trigger_bytes").unwrap().len(), 2);
}

#[test]
fn render_fails_an_answer_no_series_may_come_from() {
    let s = |v: &str| Some(v.to_string());
    let plan = ALL.iter().find(|q| q.name == "plan_cache").unwrap();
    let table = |hit: &str| Table {
        columns: ["ob_tenant_id", "mem_used", "access_count", "hit_count"]
            .map(String::from)
            .to_vec(),
        rows: vec![
            vec![s("1"), s("10"), s("100"), s("90")],
            vec![s("1002"), s("10"), s("100"), s(hit)],
        ],
    };
    for (hit, want) in [
        ("x", "hit_count = \"x\", expected a number"),
        ("-5", "hit_count = \"-5\": a counter cannot be negative"),
        ("1e400", "hit_count = \"1e400\" is out of range"),
    ] {
        let mut out = MetricSet::new();
        let err = render(plan, &table(hit), &[], &mut out).unwrap_err();
        assert_eq!(err, want);
        assert_eq!(out.sample_count(), 0, "nothing of a bad answer is kept");
    }
    // A gauge may be negative; a NULL is left out.
    let mut out = MetricSet::new();
    let mut t = table("90");
    t.rows[0][1] = s("-1");
    t.rows[1][3] = None;
    render(plan, &t, &[], &mut out).unwrap();
    assert_eq!(out.get("ob_plan_cache_memory_bytes", &[("ob_tenant_id", "1")]), Some(-1.0));
    assert_eq!(out.find("ob_plan_cache_hit_total").unwrap().len(), 1);
    // Rows without any of the value columns: the view changed shape.
    let t = Table { columns: vec!["ob_tenant_id".into()], rows: vec![vec![s("1")]] };
    let err = render(plan, &t, &[], &mut MetricSet::new()).unwrap_err();
    assert!(err.starts_with("none of the value columns"), "{err}");
    // No rows at all is a valid answer (no tenant has a plan cache yet).
    render(plan, &Table::default(), &[], &mut MetricSet::new()).unwrap();
}
