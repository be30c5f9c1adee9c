//! The one-shot sub-commands: `check`, `test` and `scan`. Each prints to stdout (errors to
//! stderr) and returns the process exit code: 0 ok, 1 a test failed or a log could not be
//! read, 2 bad rules or bad usage.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::rule::{RuleSet, testing};
use crate::scan::{self, Format};

/// Expands rule paths: a directory stands for its `*.yaml` and `*.yml` files (sorted).
pub fn expand_rule_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let entries =
                std::fs::read_dir(p).map_err(|e| format!("{}: cannot list: {e}", p.display()))?;
            let mut files: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "yaml" || x == "yml"))
                .collect();
            files.sort();
            if files.is_empty() {
                return Err(format!("{}: no *.yaml rule files in this directory", p.display()));
            }
            out.extend(files);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// Loads rules or prints every error to stderr; `None` means exit code 2.
fn load(paths: &[PathBuf]) -> Option<RuleSet> {
    let files = match expand_rule_paths(paths) {
        Ok(f) => f,
        Err(e) => {
            obwatch_common::stderr!("obwatch-logtailer: {e}");
            return None;
        }
    };
    match RuleSet::load(&files) {
        Ok(set) => Some(set),
        Err(errors) => {
            for e in &errors {
                obwatch_common::stderr!("{e}");
            }
            obwatch_common::stderr!(
                "obwatch-logtailer: {} error(s) in the rule files",
                errors.len()
            );
            None
        }
    }
}

/// `check`: validates rule files; prints a summary of each good set.
pub fn check(paths: &[PathBuf]) -> u8 {
    let Some(set) = load(paths) else { return 2 };
    let mut out = io::stdout().lock();
    let _ = writeln!(
        out,
        "SUCCESS: {} file(s), {} group(s), {} rule(s), {} test(s)",
        set.files().len(),
        set.groups().len(),
        set.rule_count(),
        set.test_count()
    );
    0
}

/// `test`: runs the inline tests; exit 1 when one fails.
pub fn test(paths: &[PathBuf]) -> u8 {
    let Some(set) = load(paths) else { return 2 };
    let results = testing::run_tests(&set);
    let mut out = io::stdout().lock();
    let mut failed = 0;
    for r in &results {
        if r.failures.is_empty() {
            let _ = writeln!(out, "PASS {}", r.name);
        } else {
            failed += 1;
            let _ = writeln!(out, "FAIL {}", r.name);
            for f in &r.failures {
                let _ = writeln!(out, "  {f}");
            }
        }
    }
    let _ = writeln!(out, "{} test(s), {} failed", results.len(), failed);
    if results.is_empty() {
        obwatch_common::stderr!("obwatch-logtailer: warning: the rule files have no tests");
    }
    if failed > 0 { 1 } else { 0 }
}

/// `scan`: replays `logs` through the rules; exit 1 when a log could not be read.
pub fn scan(rule_paths: &[PathBuf], format: Format, logs: &[PathBuf]) -> u8 {
    let Some(set) = load(rule_paths) else { return 2 };
    let stdout = io::stdout().lock();
    let mut out = io::BufWriter::with_capacity(256 * 1024, stdout);
    let mut code = 0;
    for log in logs {
        if set.groups_for(log).is_empty() {
            obwatch_common::stderr!(
                "obwatch-logtailer: {}: no rule group reads this file (see `files`)",
                log.display()
            );
        }
        match scan::scan_file(&set, Path::new(log), format, &mut out) {
            Ok(stats) => {
                tracing::debug!(file = %log.display(), lines = stats.lines, matches = stats.matches, "Scanned.")
            }
            // `scan ... | head`: the reader has what it wanted.
            Err(scan::ScanError::Write(e)) if obwatch_common::cli::is_broken_pipe(&e) => {
                return code;
            }
            Err(e @ scan::ScanError::Write(_)) => {
                obwatch_common::stderr!("obwatch-logtailer: {e}");
                return 1;
            }
            Err(e) => {
                obwatch_common::stderr!("obwatch-logtailer: {e}");
                code = 1;
            }
        }
    }
    match out.flush() {
        Err(e) if !obwatch_common::cli::is_broken_pipe(&e) => {
            obwatch_common::stderr!("obwatch-logtailer: cannot write the output: {e}");
            return 1;
        }
        _ => {}
    }
    code
}
