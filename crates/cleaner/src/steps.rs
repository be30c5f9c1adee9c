//! The steps of `run_once` that are not the action loop itself: what the scan found worth
//! saying, the filesystems under pressure, how one action's outcome is counted, and the
//! `kept` lines of `once -v`. Split out so `run_once` reads as the sequence of a pass.

use std::io::Write;
use std::path::Path;

use crate::audit::Record;
use crate::metrics::RunMetrics;
use crate::outcome::Outcome;
use crate::plan::{ActionKind, FileInfo, Plan, human_bytes};
use crate::scan::Scan;
use crate::{Config, Format, Summary, print_line};

/// Logs what a user must hear about the scan: policies that match nothing (on every run, unless
/// `missing_ok`), scan errors, processes whose open files could not be read. Returns the files
/// each policy matched, in policy order.
pub(crate) fn report_scan(config: &Config, scan: &Scan) -> Vec<u64> {
    for root in &scan.missing_roots {
        tracing::debug!(root = %root.display(), "Root does not exist; skipped.");
    }
    let policy_files = files_per_policy(config, scan);
    for (p, n) in config.policies.iter().zip(&policy_files) {
        // A typo, or a config copied from another host: said on every run, not only in check.
        if *n == 0 && !p.missing_ok {
            tracing::warn!(
                policy = %p.name,
                "Policy matches no file (missing_ok: true silences this)."
            );
        }
    }
    for e in &scan.errors {
        tracing::warn!(error = %e, "Scan error.");
    }
    if scan.uninspected_pids > 0 {
        tracing::warn!(
            processes = scan.uninspected_pids,
            "Cannot read the open files of some processes; run as their user or root to be sure no held file is touched."
        );
    }
    policy_files
}

/// Files each policy's paths matched (active ones included), in policy order, 0 included.
fn files_per_policy(config: &Config, scan: &Scan) -> Vec<u64> {
    let mut n: Vec<u64> = vec![0; config.policies.len()];
    for f in &scan.files {
        if let Some(c) = n.get_mut(f.policy as usize) {
            *c += 1;
        }
    }
    n
}

/// Logs each filesystem found above its high watermark, and whether the plan frees enough.
pub(crate) fn report_pressure(plan: &Plan) {
    for p in &plan.pressure {
        let level =
            if p.planned_bytes < p.needed_bytes { "not enough eligible files" } else { "ok" };
        tracing::info!(
            used_percent = format!("{:.1}", p.usage.used_percent()),
            needed = %human_bytes(p.needed_bytes),
            planned = %human_bytes(p.planned_bytes),
            outcome = level,
            "Filesystem above the high watermark."
        );
    }
}

/// Counts one action's outcome (`None`: planned, in a dry run) into the summary and the
/// metrics of its policy.
pub(crate) fn tally(
    summary: &mut Summary,
    run: &mut RunMetrics,
    kind: ActionKind,
    outcome: Option<&Outcome>,
    f: &FileInfo,
    policy: &str,
    path: &Path,
) {
    let counts = run.counts.entry(policy.to_string()).or_default();
    match (kind, outcome) {
        (ActionKind::Held, _) => {
            summary.held += 1;
            *run.held.entry(policy.to_string()).or_default() += 1;
        }
        (ActionKind::Rotate, None | Some(Outcome::Rotated { .. })) => {
            summary.rotated += 1;
            counts.rotated += 1.0;
        }
        (_, Some(Outcome::RotatedPostrotateFailed { error, .. })) => {
            summary.rotated += 1;
            counts.rotated += 1.0;
            summary.errors += 1;
            counts.errors += 1.0;
            tracing::warn!(path = %path.display(), error = %error, "postrotate failed.");
        }
        (kind, None | Some(Outcome::Done { .. })) => {
            let (freed, freed_disk) = match outcome {
                Some(Outcome::Done { freed_bytes, freed_disk_bytes }) => {
                    (*freed_bytes, *freed_disk_bytes)
                }
                _ => (f.meta.size_bytes, f.meta.disk_bytes),
            };
            summary.freed_bytes += freed;
            summary.freed_disk_bytes += freed_disk;
            counts.freed_bytes += freed as f64;
            counts.freed_disk_bytes += freed_disk as f64;
            if kind == ActionKind::Delete {
                summary.deleted += 1;
                counts.deleted += 1.0;
            } else {
                summary.compressed += 1;
                counts.compressed += 1.0;
            }
        }
        (_, Some(Outcome::Failed(e))) => {
            summary.errors += 1;
            counts.errors += 1.0;
            tracing::warn!(path = %path.display(), error = %e, "Action failed.");
        }
        (_, Some(_)) => {}
    }
}

/// `once -v`: a `kept` line, with why, for every file no action touches (not audited: nothing
/// was done).
pub(crate) fn print_kept(
    out: &mut dyn Write,
    format: Format,
    config: &Config,
    scan: &Scan,
    plan: &Plan,
) {
    for (i, why) in &plan.kept {
        let f = &scan.files[*i];
        let policy = config.policies.get(f.policy as usize).map_or("", |p| p.name.as_str());
        let path = scan.dirs[f.dir as usize].path.join(&f.name);
        let why = why.to_string();
        let rec = Record::new("kept", &path, f.meta.size_bytes, &why, "kept", policy);
        let _ = print_line(out, format, &rec);
    }
}
