//! The shipped rules (`rules/*.yaml`) scored on real log lines: lines quoted in public
//! OceanBase and OBProxy issues and docs, Clusterware blog posts and forum threads, and kernel
//! logs pasted into bug reports (`tests/data/real-lines/*.yaml`, each with its source, the
//! version it comes from and the alerts it must raise). Unlike `shipped_rules/`, whose logs
//! were written from the same understanding as the rules, these were written by the systems.
//!
//! Each line is matched as `scan` matches it (every rule of the groups that read its `path`,
//! `for_count` not applied: the question is whether the rule sees the line). The test fails
//! when a line raises other warning or critical alerts than its `expect` says (routine lines
//! expect none), or when recall per incident (an incident: the lines of one source and kind;
//! caught when one of its lines raises its expected alerts) or precision fall below the
//! targets of issue 15. `REAL_LINES_DUMP=FILE` writes what every line raised, as JSON lines,
//! for reviewing a rule change line by line.
#![allow(clippy::disallowed_methods, clippy::unwrap_used)] // test code

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use obwatch_logtailer::rule::{Matcher, Rule, RuleSet, Severity};
use serde::Deserialize;

/// One line of the set.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    /// The line exactly as printed.
    line: String,
    /// Lines printed before it in the same record (an 11g alert log's timestamp line).
    #[serde(default)]
    context: Option<String>,
    /// Where a host has the file, which picks the rule groups that read it.
    path: String,
    /// The product or kernel version that printed it.
    version: String,
    /// Where it was quoted.
    source: String,
    /// What happened (`routine`: nothing a DBA would be paged for).
    kind: String,
    /// The warning and critical alerts it must raise (and no others).
    expect: Vec<String>,
    /// Why it is labelled so, or what was trimmed from the quote's edges.
    #[serde(default)]
    note: Option<String>,
}

const RECALL_PER_INCIDENT: f64 = 0.95;
const PRECISION: f64 = 0.98;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn load_set() -> Vec<(String, Vec<Entry>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/real-lines");
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let entries: Vec<Entry> =
                serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p.file_name().unwrap().to_string_lossy().into_owned(), entries)
        })
        .collect()
}

/// The shipped rule files.
fn shipped_rules() -> RuleSet {
    let files: Vec<PathBuf> = ["observer", "obproxy", "clusterware", "os"]
        .iter()
        .map(|f| root().join(format!("rules/{f}.yaml")))
        .collect();
    RuleSet::load(&files).unwrap()
}

/// The rules `text` (whole lines) matches when read from `path`, as `scan` sees them.
fn matching<'r>(rules: &'r RuleSet, path: &str, text: &[u8]) -> Vec<&'r Rule> {
    let groups = rules.groups_for(Path::new(path));
    Matcher::new(rules, groups)
        .eval(text, 1)
        .into_iter()
        .map(|h| &rules.groups()[h.group].rules[h.rule])
        .collect()
}

/// The warning and critical alerts `e` raises. On a routine line, rules that fire only on a
/// burst (`for_count` > 1) are left out: one such line alerts nothing, and a burst of them
/// is what the rule is for (`REACH SYSLOG RATE LIMIT` once is routine, five times in 5m not).
fn raised(rules: &RuleSet, e: &Entry) -> BTreeSet<String> {
    let mut text = String::new();
    if let Some(c) = &e.context {
        text.push_str(c);
        text.push('\n');
    }
    text.push_str(&e.line);
    text.push('\n');
    matching(rules, &e.path, text.as_bytes())
        .into_iter()
        .filter(|r| r.severity != Severity::Info && (e.kind != "routine" || r.for_count == 1))
        .map(|r| r.alert.clone())
        .collect()
}

#[test]
fn shipped_rules_catch_real_incidents_and_stay_quiet_on_routine_lines() {
    let rules = shipped_rules();
    let set = load_set();
    let mut dump = String::new();
    let mut wrong = Vec::new();
    // incident -> caught; per set: (incident lines, lines raising, routine lines, routine raising)
    let mut incidents: BTreeMap<(String, String), bool> = BTreeMap::new();
    let (mut lines, mut hit, mut routine, mut false_alarms) = (0, 0, 0, 0);
    for (file, entries) in &set {
        for (i, e) in entries.iter().enumerate() {
            assert!(e.source.starts_with("http"), "{file} #{i}: source is not an address");
            assert!(!e.version.is_empty() && e.note.as_ref().is_none_or(|n| !n.is_empty()));
            let got = raised(&rules, e);
            dump.push_str(
                &serde_json::json!({"file": file, "index": i, "raised": got}).to_string(),
            );
            dump.push('\n');
            let want: BTreeSet<String> = e.expect.iter().cloned().collect();
            if got != want {
                wrong.push(format!(
                    "{file} #{i} ({}): expected {want:?}, raised {got:?}\n  {}",
                    e.kind, e.line
                ));
            }
            if e.kind == "routine" {
                assert!(e.expect.is_empty(), "{file} #{i}: a routine line expects no alert");
                routine += 1;
                false_alarms += usize::from(!got.is_empty());
                continue;
            }
            lines += 1;
            let caught = !want.is_empty() && want.is_subset(&got);
            hit += usize::from(caught);
            *incidents.entry((e.source.clone(), e.kind.clone())).or_default() |= caught;
        }
    }
    if let Ok(path) = std::env::var("REAL_LINES_DUMP") {
        std::fs::write(path, &dump).unwrap();
    }
    let caught = incidents.values().filter(|c| **c).count();
    let recall = caught as f64 / incidents.len() as f64;
    let precision = hit as f64 / (hit + false_alarms) as f64;
    let missed: Vec<String> = incidents
        .iter()
        .filter(|(_, c)| !**c)
        .map(|((source, kind), _)| format!("{kind}: {source}"))
        .collect();
    eprintln!(
        "real lines: {} incidents ({lines} lines) and {routine} routine lines; recall per incident {recall:.3}, per line {:.3}; precision {precision:.3}",
        incidents.len(),
        hit as f64 / lines as f64,
    );
    assert!(
        wrong.is_empty(),
        "{} lines differ from their expectations:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert!(
        lines >= 150 && routine >= 100,
        "the set is too small: {lines} incident lines, {routine} routine"
    );
    assert!(
        recall >= RECALL_PER_INCIDENT,
        "recall per incident {recall:.3}; missed:\n{}",
        missed.join("\n")
    );
    assert!(precision >= PRECISION, "precision {precision:.3}");
}

/// What a line raises when evaluated as raw bytes read from `path`.
fn raised_bytes(rules: &RuleSet, path: &str, text: &[u8]) -> BTreeSet<String> {
    matching(rules, path, text).into_iter().map(|r| r.alert.clone()).collect()
}

#[test]
fn cut_lines_invalid_utf8_and_cut_records_still_match_on_the_part_kept() {
    let rules = shipped_rules();
    // One real line per file, cut a few bytes after `keep` (what the tailer hands on for a line
    // longer than max_line_bytes), its tail replaced by Latin-1 bytes and a UTF-8 sequence cut
    // in half: the alert is still raised from the part kept.
    let cases = [
        (
            "observer.log",
            "[2021-06-11 15:00:12.069212] ERROR [SERVER] main (main.cpp:485) [17818][0][Y0-0000000000000000] [lt=7] observer init fail(ret=-4147) BACKTRACE:0x90a107e 0x90008fb 0x24c152f",
            "init fail(ret=",
            "ObServerStartFailed",
        ),
        (
            "obproxy_diagnosis.log",
            "[2023-09-08 11:19:26.617385] [110562][Y0-00007FE1F06AC4E0] [CONNECTION](trace_type=\"LOGIN_TRACE\", connection_diagnosis={cs_id:1031798805, ss_id:0, proxy_session_id:0, server_session_id:0, client_addr:\"127.0.0.1:40004\", server_addr:\"*Not IP address [0]*:0\", cluster_name:\"undefined\", tenant_name:\"sys\", user_name:\"root\", error_code:-5059, error_msg:\"Too many sessions\", request_cmd:\"COM_SLEEP\", sql_cmd:\"COM_LOGIN\"}{internal_sql:\"\"})",
            "error_code:-5059",
            "ObproxySessionLimit",
        ),
        (
            "/u01/app/grid/diag/crs/rac1/crs/trace/alert.log",
            "2024-09-11 13:44:51.202 [ORAAGENT(5437)]CRS-5011: Check of resource \"NTAP\" failed: details at \"(:CLSN00007:)\" in \"/gridbase/diag/crs/jfs13/crs/trace/crsd_oraagent_oracle.trc\"",
            "CRS-5011",
            "CrsResourceCheckFailed",
        ),
        (
            "/var/log/messages",
            "Feb 20 13:47:04.895483 dev-r7515-c kernel: EXT4-fs error (device sdm): ext4_discard_preallocations:5001: comm prometheus: Error -5 reading block bitmap for 211",
            "(device sdm)",
            "OsFilesystemError",
        ),
    ];
    for (path, line, keep, alert) in cases {
        let end = line.find(keep).unwrap() + keep.len() + 3;
        let mut cut = line.as_bytes()[..end].to_vec();
        cut.extend_from_slice(b" caf\xe9 \xe6\x97"); // Latin-1 é, half of a 3-byte character
        cut.push(b'\n');
        let got = raised_bytes(&rules, path, &cut);
        assert!(
            got.contains(alert),
            "{path}: {alert} not raised from {:?}: {got:?}",
            String::from_utf8_lossy(&cut)
        );
    }
    // A record cut at max_lines (the Clusterware alert group's 50): an 11g record whose CRS
    // line comes after 60 continuation lines is evaluated in pieces, and the piece holding it
    // still raises the alert.
    let mut record = b"2013-10-09 10:45:53.924\n".to_vec();
    for i in 0..60 {
        record.extend_from_slice(format!("[crsd(5120)]continuation line {i} ").as_bytes());
        record.extend_from_slice(b"\xff\n");
    }
    record.extend_from_slice(b"[cssd(4410)]CRS-1607:Node rac2 is being evicted in cluster incarnation 472333840; details at (:CSSNM00007:) in /u01/app/11.2.0/grid/log/rac1/cssd/ocssd.log.\n");
    let got = raised_bytes(&rules, "/u01/app/11.2.0/grid/log/rac1/alertrac1.log", &record);
    assert!(got.contains("CrsNodeEvicted"), "{got:?}");
}
