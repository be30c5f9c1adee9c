//! The cleaner's metrics, written after each run to a `.prom` file for the exporter's textfile
//! collector (atomically: temp file + fsync + rename). Counters must survive between cron runs,
//! so the previous file is read back and this run's counts are added to it.

use std::collections::BTreeMap;
use std::path::Path;

use obwatch_common::metrics::{MetricSet, MetricType};

/// One policy's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Counts {
    /// Apparent bytes removed (`obwatch_cleaner_freed_bytes_total`).
    pub freed_bytes: f64,
    /// Files deleted.
    pub deleted: f64,
    /// Files compressed.
    pub compressed: f64,
    /// Failed actions and scan errors.
    pub errors: f64,
    /// Active files rotated.
    pub rotated: f64,
    /// Allocated blocks freed (`obwatch_cleaner_freed_disk_bytes_total`).
    pub freed_disk_bytes: f64,
}

impl Counts {
    /// The fields, in the order of [`COUNTERS`].
    fn fields_mut(&mut self) -> [&mut f64; 6] {
        [
            &mut self.freed_bytes,
            &mut self.deleted,
            &mut self.compressed,
            &mut self.errors,
            &mut self.rotated,
            &mut self.freed_disk_bytes,
        ]
    }

    /// The values, in the order of [`COUNTERS`].
    fn values(&self) -> [f64; 6] {
        [
            self.freed_bytes,
            self.deleted,
            self.compressed,
            self.errors,
            self.rotated,
            self.freed_disk_bytes,
        ]
    }
}

/// Counter families, labelled `{policy}`, in the order of [`Counts`]' fields.
pub const COUNTERS: [(&str, &str); 6] = [
    (
        "obwatch_cleaner_freed_bytes_total",
        "Bytes removed by deleting or compressing files: apparent sizes, as the action lines and the audit log count them.",
    ),
    ("obwatch_cleaner_files_deleted_total", "Files deleted."),
    ("obwatch_cleaner_files_compressed_total", "Files compressed."),
    ("obwatch_cleaner_errors_total", "Actions that failed, and scan errors."),
    ("obwatch_cleaner_files_rotated_total", "Active files rotated by size."),
    (
        "obwatch_cleaner_freed_disk_bytes_total",
        "Disk space (allocated blocks) the filesystems got back from deletions and compression.",
    ),
];

/// What one run adds and reports.
#[derive(Clone, Debug, Default)]
pub struct RunMetrics {
    /// Counter deltas of this run by policy (`""` for errors not tied to a policy).
    pub counts: BTreeMap<String, Counts>,
    /// Files a rule wanted but a process holds open, by policy.
    pub held: BTreeMap<String, u64>,
    /// Bytes of deleted-but-open files under the roots.
    pub deleted_open_bytes: u64,
    /// Files each policy's paths matched in this run (0 included).
    pub policy_files: BTreeMap<String, u64>,
    /// Run start, seconds since the epoch.
    pub started: f64,
    /// Run duration in seconds.
    pub duration_seconds: f64,
}

/// Reads the counters of a previous file, if any (unreadable or unparsable: start from zero).
pub fn previous(path: &Path) -> BTreeMap<String, Counts> {
    let mut out: BTreeMap<String, Counts> = BTreeMap::new();
    let Ok(text) = std::fs::read_to_string(path) else { return out };
    let Ok(families) = obwatch_common::exposition::parse(&text) else {
        tracing::warn!(path = %path.display(), "Previous metrics file unparsable; counters restart.");
        return out;
    };
    for fam in families {
        let Some(k) = COUNTERS.iter().position(|(n, _)| *n == fam.name) else { continue };
        for s in fam.samples {
            let policy = s.labels.iter().find(|(l, _)| l == "policy").map(|(_, v)| v.clone());
            *out.entry(policy.unwrap_or_default()).or_default().fields_mut()[k] += s.value;
        }
    }
    out
}

/// Encodes `prev + run` in the text format.
pub fn encode(prev: &BTreeMap<String, Counts>, run: &RunMetrics) -> String {
    let mut total = prev.clone();
    for (policy, c) in &run.counts {
        let t = total.entry(policy.clone()).or_default();
        for (sum, v) in t.fields_mut().into_iter().zip(c.values()) {
            *sum += v;
        }
    }
    let mut set = MetricSet::new();
    for (k, (name, help)) in COUNTERS.iter().enumerate() {
        let fam = set.family(*name, *help, MetricType::Counter);
        for (policy, c) in &total {
            fam.sample(&[("policy", policy)], c.values()[k]);
        }
    }
    let fam = set.family(
        "obwatch_cleaner_files_held",
        "Files a rule selected but a process held open, in the last run.",
        MetricType::Gauge,
    );
    // Every policy, 0 when nothing was held: the alert on `> 0` then reads a series that exists.
    let policies: std::collections::BTreeSet<&String> =
        total.keys().chain(run.held.keys()).collect();
    for policy in policies {
        fam.sample(&[("policy", policy)], run.held.get(policy).copied().unwrap_or(0) as f64);
    }
    let fam = set.family(
        "obwatch_cleaner_policy_files",
        "Files the policy's paths matched in the last run (0: a typo, or paths missing on this host).",
        MetricType::Gauge,
    );
    for (policy, n) in &run.policy_files {
        fam.sample(&[("policy", policy)], *n as f64);
    }
    set.gauge(
        "obwatch_cleaner_deleted_open_bytes",
        "Bytes of deleted files under the roots still held open, in the last run.",
        run.deleted_open_bytes as f64,
    );
    set.gauge(
        "obwatch_cleaner_last_run_timestamp_seconds",
        "When the last run started.",
        run.started,
    );
    set.gauge(
        "obwatch_cleaner_last_run_duration_seconds",
        "How long the last run took.",
        run.duration_seconds,
    );
    let mut out = String::new();
    set.encode(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_accumulate_across_runs() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("cleaner.prom");
        let mut run = RunMetrics { started: 1.7e9, duration_seconds: 0.25, ..Default::default() };
        run.counts.insert(
            "observer".into(),
            Counts {
                freed_bytes: 1024.0,
                deleted: 2.0,
                compressed: 1.0,
                freed_disk_bytes: 4096.0,
                ..Counts::default()
            },
        );
        run.held.insert("observer".into(), 3);
        run.policy_files.insert("observer".into(), 120);
        run.policy_files.insert("crs".into(), 0);
        obwatch_common::fs::atomic_write(&p, encode(&previous(&p), &run).as_bytes()).unwrap();
        run.counts.insert("crs".into(), Counts { errors: 1.0, ..Counts::default() });
        let text = encode(&previous(&p), &run);
        assert!(
            text.contains("obwatch_cleaner_freed_bytes_total{policy=\"observer\"} 2048\n"),
            "{text}"
        );
        assert!(
            text.contains("obwatch_cleaner_files_deleted_total{policy=\"observer\"} 4\n"),
            "{text}"
        );
        assert!(text.contains("obwatch_cleaner_errors_total{policy=\"crs\"} 1\n"), "{text}");
        assert!(text.contains("obwatch_cleaner_files_held{policy=\"observer\"} 3\n"), "{text}");
        assert!(text.contains("obwatch_cleaner_files_held{policy=\"crs\"} 0\n"), "{text}");
        assert!(text.contains("obwatch_cleaner_last_run_duration_seconds 0.25\n"), "{text}");
        assert!(text.contains("obwatch_cleaner_policy_files{policy=\"observer\"} 120\n"), "{text}");
        assert!(text.contains("obwatch_cleaner_policy_files{policy=\"crs\"} 0\n"), "{text}");
        assert!(text.contains("# TYPE obwatch_cleaner_files_compressed_total counter\n"), "{text}");
        obwatch_common::exposition::parse(&text).unwrap();
    }
}
