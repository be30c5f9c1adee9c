//! Metrics from `*.prom` files in `--collector.textfile.directory` (node_exporter's textfile
//! collector): cron jobs and other binaries (obwatch-cleaner among them) publish through it.
//! Writers must replace files atomically (write, then rename), see `common::fs::atomic_write`.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use obwatch_common::exposition;
use obwatch_common::metrics::{MetricSet, MetricType};

use super::{BuildContext, BuildError, CollectError, Collector, CollectorSpec};
use crate::collector::option_parts::{Origin, yaml_keys};

/// Registry entry.
pub const SPEC: CollectorSpec = CollectorSpec { name: "textfile", default_enabled: true, build };

/// The textfile collector's options.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Directories (globs allowed in the last component) holding `*.prom` files.
    pub directories: Vec<PathBuf>,
}

/// Its flag.
#[derive(Debug, Default, clap::Args)]
#[group(skip)]
pub(crate) struct Flags {
    /// Directory (glob allowed) of *.prom files for the textfile collector (repeatable).
    #[arg(long = "collector.textfile.directory", value_name = "DIR")]
    directories: Vec<PathBuf>,
}

yaml_keys! {
    /// Its key of the YAML `collectors:` section.
    Yaml { textfile_directories: Vec<PathBuf>, }
}

/// The flags' directories, or else the YAML key's (relative to the file).
pub(crate) fn compile(flags: Flags, yaml: Yaml, at: &Origin) -> Options {
    let directories = if flags.directories.is_empty() {
        yaml.textfile_directories.unwrap_or_default().iter().map(|d| at.base.join(d)).collect()
    } else {
        flags.directories
    };
    Options { directories }
}

fn build(cx: &BuildContext) -> Result<Box<dyn Collector>, BuildError> {
    Ok(Box::new(Textfile { directories: cx.options.textfile.directories.clone() }))
}

/// Reads every `*.prom` file of the configured directories on each scrape.
#[derive(Debug)]
pub struct Textfile {
    directories: Vec<PathBuf>,
}

/// Expands a directory argument that may hold `*` wildcards in its last component
/// (node_exporter 1.7+ accepts globs); a plain path is returned as is.
fn expand(dir: &Path) -> Vec<PathBuf> {
    let Some(name) = dir.file_name().and_then(|n| n.to_str()).filter(|n| n.contains('*')) else {
        return vec![dir.to_path_buf()];
    };
    let parent = dir.parent().unwrap_or(Path::new("."));
    let mut out: Vec<PathBuf> = std::fs::read_dir(parent)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_str().is_some_and(|n| glob_match(name, n)))
        .map(|e| e.path())
        .collect();
    out.sort();
    out
}

/// `*` matches any run of characters; everything else is literal.
fn glob_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || name.len() < first.len() + last.len() || !name.ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

/// Converts parsed families into `out`; fails on client-side timestamps, which Prometheus
/// would mis-handle for a file read on every scrape (node_exporter #769).
pub fn convert(families: &[exposition::Family], out: &mut MetricSet) -> Result<(), String> {
    if let Some(s) = families.iter().flat_map(|f| &f.samples).find(|s| s.timestamp_ms.is_some()) {
        return Err(format!(
            "sample {} has a client-side timestamp, which is not supported",
            s.name
        ));
    }
    for f in families.iter().filter(|f| !f.samples.is_empty()) {
        let kind = match f.kind.as_str() {
            "counter" => MetricType::Counter,
            "gauge" => MetricType::Gauge,
            "histogram" => MetricType::Histogram,
            "summary" => MetricType::Summary,
            _ => MetricType::Untyped,
        };
        let help =
            if f.help.is_empty() { format!("Metric read from {}", f.name) } else { f.help.clone() };
        let fam = out.family(f.name.clone(), help, kind);
        for s in &f.samples {
            let labels: Vec<(&str, &str)> =
                s.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let suffix = s.name.strip_prefix(f.name.as_str()).unwrap_or("");
            fam.sample_with_suffix(suffix, &labels, s.value);
        }
    }
    Ok(())
}

impl Collector for Textfile {
    fn collect(&self, out: &mut MetricSet) -> Result<(), CollectError> {
        let mut error = false;
        let mut mtimes: Vec<(String, f64)> = Vec::new();
        for dir in self.directories.iter().flat_map(|d| expand(d)) {
            let entries = match std::fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) => {
                    tracing::warn!(directory = %dir.display(), error = %e, "Cannot read textfile directory.");
                    error = true;
                    continue;
                }
            };
            let mut files: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "prom"))
                .collect();
            files.sort();
            for path in files {
                match read_one(&path, out) {
                    Ok(mtime) => mtimes.push((path.display().to_string(), mtime)),
                    Err(reason) => {
                        tracing::warn!(file = %path.display(), error = %reason, "Skipping textfile.");
                        error = true;
                    }
                }
            }
        }
        let f = out.family(
            "node_textfile_mtime_seconds",
            "Unixtime mtime of textfiles successfully read.",
            MetricType::Gauge,
        );
        for (file, mtime) in &mtimes {
            f.sample(&[("file", file)], *mtime);
        }
        out.gauge(
            "node_textfile_scrape_error",
            "1 if there was an error opening or reading a file, 0 otherwise",
            if error { 1.0 } else { 0.0 },
        );
        Ok(())
    }
}

/// Parses one file into `out` (all or nothing) and returns its mtime.
fn read_one(path: &Path, out: &mut MetricSet) -> Result<f64, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let mtime = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .map_err(|e| e.to_string())?
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as f64)
        .unwrap_or(0.0);
    let families = exposition::parse(&text).map_err(|e| e.to_string())?;
    let mut set = MetricSet::new();
    convert(&families, &mut set)?;
    out.append(&mut set);
    Ok(mtime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_good_files_and_flags_bad_ones() {
        let d = tempfile::tempdir().unwrap();
        // As obwatch-cleaner and a typical cron job (smartmon.sh style) write them.
        std::fs::write(d.path().join("cleaner.prom"), "# HELP obwatch_cleaner_freed_bytes_total Bytes freed.\n\
            # TYPE obwatch_cleaner_freed_bytes_total counter\nobwatch_cleaner_freed_bytes_total{policy=\"observer\"} 1048576\n").unwrap();
        std::fs::write(
            d.path().join("lat.prom"),
            "# TYPE job_seconds histogram\njob_seconds_bucket{le=\"1\"} 2\n\
            job_seconds_bucket{le=\"+Inf\"} 3\njob_seconds_sum 4.5\njob_seconds_count 3\n",
        )
        .unwrap();
        std::fs::write(d.path().join("ts.prom"), "stamped 1 1700000000000\n").unwrap();
        std::fs::write(d.path().join("broken.prom"), "bad{ 1\n").unwrap();
        std::fs::write(d.path().join("ignored.txt"), "not read 1\n").unwrap();
        let c = Textfile { directories: vec![d.path().to_path_buf()] };
        let mut set = MetricSet::new();
        c.collect(&mut set).unwrap();
        assert_eq!(
            set.get("obwatch_cleaner_freed_bytes_total", &[("policy", "observer")]),
            Some(1048576.0)
        );
        assert_eq!(set.get("node_textfile_scrape_error", &[]), Some(1.0));
        assert!(set.find("stamped").is_none(), "files with timestamps are skipped whole");
        assert_eq!(set.find("node_textfile_mtime_seconds").unwrap().len(), 2);
        let mut text = String::new();
        set.encode(&mut text);
        assert!(
            text.contains("# TYPE job_seconds histogram\njob_seconds_bucket{le=\"1\"} 2\n"),
            "{text}"
        );
        assert!(text.contains("job_seconds_count 3\n"), "{text}");
    }

    #[test]
    fn no_directory_is_no_error_and_globs_expand() {
        let c = Textfile { directories: vec![] };
        let mut set = MetricSet::new();
        c.collect(&mut set).unwrap();
        assert_eq!(set.get("node_textfile_scrape_error", &[]), Some(0.0));
        assert!(glob_match("node-*", "node-exporter") && !glob_match("node-*", "nod"));
        assert!(glob_match("*a*b*", "xxaYYbzz") && !glob_match("*a*b*", "xxbYYa"));
    }
}
