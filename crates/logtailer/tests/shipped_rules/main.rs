//! The shipped rules (`rules/*.yaml`) against a generated week of logs, through the real
//! binary's `scan`: OBServer 3.x and 4.x (observer.log, rootservice.log, election.log, the
//! 4.2.3+ alert.log), OBProxy (obproxy.log, obproxy_diagnosis.log, obproxy_error.log),
//! Clusterware 10.2 and 11.2 (two-line alert<host>.log records, crsd.log, ocssd.log) and 19c
//! (ADR alert.log), and /var/log/messages. The logs are mostly routine lines, routine WARN and
//! ERROR lines among them, with incidents mixed in at known lines; the test asserts that every
//! incident record matches exactly the alerts meant for it, that no other line matches any
//! rule, and that every shipped rule has an incident here or in the real-line set
//! (`real_lines.rs`).
//!
//! `scan` does not apply `for_count`/`within` (it shows the matches the counters would see),
//! so a burst incident lists its alert on every line of the burst, and a restart line matches
//! both ObproxyStarted and ObproxyRestartLoop; the inline tests cover the counting.
//! Deterministic: one seeded generator, fixed incident times. The generator and the test are
//! here; each source's routine lines and incidents are its own module.
#![allow(clippy::disallowed_methods, clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

mod clusterware;
mod messages;
mod ob3;
mod ob4;
mod obproxy;

use clusterware::crs_specs;
use messages::messages_spec;
use ob3::ob3_specs;
use ob4::ob4_specs;
use obproxy::proxy_specs;

/// 2025-03-03 00:00:00 UTC, a Monday.
const START: i64 = 1_740_960_000;
const WEEK: i64 = 7 * 86_400;
const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

/// splitmix64: small, seeded, good enough to pick templates and jitter.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// How a log stamps its lines.
#[derive(Clone, Copy)]
enum Stamp {
    /// `[2025-03-03 00:00:01.123456]` (OBServer, obproxy.log, obproxy_diagnosis.log).
    Ob,
    /// `2025-03-03 00:00:01.123456` (alert.log rows, obproxy_error.log).
    Plain,
    /// `2025-03-03 00:00:01.123` (Clusterware 10.2/11.2.0.3 alert log, 19c alert.log).
    Crs,
    /// `2025-03-03 00:00:01.123:` (11.2.0.4 alert log, 11.2 crsd.log/ocssd.log).
    CrsColon,
    /// `Mar  3 00:00:01`.
    Syslog,
}

impl Stamp {
    fn format(self, t: i64, rng: &mut Rng) -> String {
        let at = jiff::Timestamp::from_second(t).unwrap().to_zoned(jiff::tz::TimeZone::UTC);
        let date = at.strftime("%Y-%m-%d %H:%M:%S");
        match self {
            Stamp::Ob => format!("[{date}.{:06}]", rng.below(1_000_000)),
            Stamp::Plain => format!("{date}.{:06}", rng.below(1_000_000)),
            Stamp::Crs => format!("{date}.{:03}", rng.below(1_000)),
            Stamp::CrsColon => format!("{date}.{:03}:", rng.below(1_000)),
            Stamp::Syslog => at.strftime("%b %e %H:%M:%S").to_string(),
        }
    }
}

/// Fills a template: `{ts}` with the stamp, and each `{tid}`, `{n}`, `{big}`, `{ms}`, `{cs}`
/// with a fresh number.
fn fill(tpl: &str, ts: &str, rng: &mut Rng) -> String {
    let mut out = tpl.replace("{ts}", ts);
    for (key, lo, hi) in [
        ("{tid}", 1_000, 99_999),
        ("{n}", 1, 4_096),
        ("{big}", 1 << 30, 1 << 40),
        ("{ms}", 0, 999),
        ("{cs}", 500_000, 999_999),
    ] {
        while let Some(i) = out.find(key) {
            let v = lo + rng.below(hi - lo);
            out.replace_range(i..i + key.len(), &v.to_string());
        }
    }
    out
}

/// One record of an incident: written `dt` seconds after the incident starts, matching
/// exactly `alerts` (none: a line of the incident that must stay quiet) with at least
/// `labels`. A template with `\n` is a multi-line record; the match is on its first line.
struct Ev {
    dt: i64,
    tpl: &'static str,
    alerts: &'static [&'static str],
    labels: &'static [(&'static str, &'static str)],
}

const fn ev(
    dt: i64,
    tpl: &'static str,
    alerts: &'static [&'static str],
    labels: &'static [(&'static str, &'static str)],
) -> Ev {
    Ev { dt, tpl, alerts, labels }
}

/// `n` records of one template, `every` seconds apart.
fn burst(
    at: i64,
    n: i64,
    every: i64,
    tpl: &'static str,
    alerts: &'static [&'static str],
    labels: &'static [(&'static str, &'static str)],
) -> (i64, Vec<Ev>) {
    (at, (0..n).map(|i| ev(i * every, tpl, alerts, labels)).collect())
}

/// A log to generate: routine records every `step` seconds on average, and incidents at
/// fixed offsets from START.
struct Spec {
    path: &'static str,
    stamp: Stamp,
    step: u64,
    routine: &'static [&'static str],
    incidents: Vec<(i64, Vec<Ev>)>,
}

/// What a record must match.
#[derive(Debug)]
struct Expect {
    alerts: Vec<&'static str>,
    labels: &'static [(&'static str, &'static str)],
}

struct Log {
    path: PathBuf,
    lines: Vec<String>,
    /// First line of each incident record (1-based) and what it must match.
    expect: BTreeMap<u64, Expect>,
}

impl Log {
    /// Appends a record (one or more lines); returns the number of its first line.
    fn push(&mut self, record: &str) -> u64 {
        let first = self.lines.len() as u64 + 1;
        self.lines.extend(record.split('\n').map(str::to_string));
        first
    }
}

fn generate(root: &Path, spec: Spec, rng: &mut Rng) -> Log {
    let mut incidents = spec.incidents;
    incidents.sort_by_key(|i| i.0);
    let mut log = Log { path: root.join(spec.path), lines: Vec::new(), expect: BTreeMap::new() };
    let mut t = START + rng.below(spec.step) as i64;
    let mut next = 0;
    while t < START + WEEK {
        while next < incidents.len() && START + incidents[next].0 <= t {
            let (at, evs) = &incidents[next];
            for e in evs {
                let when = START + at + e.dt;
                let ts = spec.stamp.format(when, rng);
                let first = log.push(&fill(e.tpl, &ts, rng));
                if !e.alerts.is_empty() {
                    let mut alerts = e.alerts.to_vec();
                    alerts.sort_unstable();
                    log.expect.insert(first, Expect { alerts, labels: e.labels });
                }
                t = t.max(when + 1);
            }
            next += 1;
        }
        let tpl = spec.routine[rng.below(spec.routine.len() as u64) as usize];
        let ts = spec.stamp.format(t, rng);
        log.push(&fill(tpl, &ts, rng));
        t += (spec.step / 2 + rng.below(spec.step)) as i64;
    }
    assert_eq!(next, incidents.len(), "{}: an incident after the week", spec.path);
    log
}

/// The alerts the real-line set (`tests/data/real-lines/*.yaml`) expects somewhere.
fn real_line_alerts() -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/real-lines");
    let mut alerts = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        for line in std::fs::read_to_string(entry.unwrap().path()).unwrap().lines() {
            if let Some(list) = line.strip_prefix("  expect: [").and_then(|l| l.strip_suffix(']')) {
                alerts.extend(list.split(", ").filter(|a| !a.is_empty()).map(str::to_string));
            }
        }
    }
    alerts
}

/// The shipped rule directory and the alert names its files define.
fn shipped_rules() -> (PathBuf, BTreeSet<String>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules");
    let mut alerts = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            for line in std::fs::read_to_string(&path).unwrap().lines() {
                if let Some(name) = line.strip_prefix("      - alert: ") {
                    alerts.insert(name.trim().to_string());
                }
            }
        }
    }
    (dir, alerts)
}

/// One match from `scan --format json`.
struct Match {
    alert: String,
    labels: BTreeMap<String, String>,
}

#[test]
fn a_week_of_logs_raises_the_incidents_and_nothing_else() {
    let root = tempfile::tempdir().unwrap();
    let mut rng = Rng(0x0b5e_4f1e_2025_0303);
    let mut specs = ob4_specs();
    specs.extend(ob3_specs());
    specs.extend(proxy_specs());
    specs.extend(crs_specs());
    specs.push(messages_spec());
    let logs: Vec<Log> = specs.into_iter().map(|s| generate(root.path(), s, &mut rng)).collect();
    let mut total = 0;
    for log in &logs {
        std::fs::create_dir_all(log.path.parent().unwrap()).unwrap();
        let mut text = log.lines.join("\n");
        text.push('\n');
        std::fs::write(&log.path, text).unwrap();
        total += log.lines.len();
    }
    assert!(total > 100_000, "a week of logs should be long: {total} lines");

    let (rules, alerts) = shipped_rules();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_obwatch-logtailer"));
    // Some logs of the week (crsd.log) are read by no group on purpose: nothing may fire there.
    cmd.arg("scan").arg("--rules").arg(&rules).args(["--format", "json", "--allow-unmatched"]);
    cmd.args(logs.iter().map(|l| &l.path));
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "scan failed: {}", String::from_utf8_lossy(&out.stderr));

    let mut found: BTreeMap<(String, u64), Vec<Match>> = BTreeMap::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let labels = v["labels"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect();
        let key = (v["file"].as_str().unwrap().to_string(), v["line"].as_u64().unwrap());
        let alert = v["alertname"].as_str().unwrap().to_string();
        found.entry(key).or_default().push(Match { alert, labels });
    }

    let mut problems = Vec::new();
    let mut covered = BTreeSet::new();
    let mut incidents = 0;
    for log in &logs {
        let file = log.path.to_string_lossy().into_owned();
        let short = log.path.strip_prefix(root.path()).unwrap().display().to_string();
        for (line, want) in &log.expect {
            incidents += 1;
            covered.extend(want.alerts.iter().map(|a| a.to_string()));
            let got = found.remove(&(file.clone(), *line)).unwrap_or_default();
            let mut names: Vec<&str> = got.iter().map(|m| m.alert.as_str()).collect();
            names.sort_unstable();
            if names != want.alerts {
                problems.push(format!(
                    "{short}:{line}: expected {:?}, got {names:?}\n    {}",
                    want.alerts,
                    log.lines[*line as usize - 1]
                ));
                continue;
            }
            for (k, v) in want.labels {
                if !got.iter().any(|m| m.labels.get(*k).map(String::as_str) == Some(*v)) {
                    problems.push(format!(
                        "{short}:{line}: no {:?} alert with {k}={v:?}; got {:?}",
                        want.alerts,
                        got.iter().map(|m| &m.labels).collect::<Vec<_>>()
                    ));
                }
            }
        }
        let stray: Vec<(String, u64)> = found.keys().filter(|(f, _)| *f == file).cloned().collect();
        for key in stray {
            let got = found.remove(&key).unwrap();
            let names: Vec<&str> = got.iter().map(|m| m.alert.as_str()).collect();
            problems.push(format!(
                "{short}:{}: a routine line raised {names:?}\n    {}",
                key.1,
                log.lines[key.1 as usize - 1]
            ));
        }
    }
    assert!(found.is_empty(), "matches in files the test did not write: {:?}", found.keys());
    // A rule proven on real lines (tests/real_lines.rs) needs no generated incident.
    covered.extend(real_line_alerts());
    let missing: Vec<&String> = alerts.difference(&covered).collect();
    if !missing.is_empty() {
        problems.push(format!("shipped rules without an incident in the corpus: {missing:?}"));
    }
    let shown = problems.len().min(40);
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems[..shown].join("\n")
    );
    assert!(incidents > 150, "{incidents} incident records");
}
