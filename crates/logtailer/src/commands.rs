//! The one-shot sub-commands: `check`, `test` and `scan`. Each prints to stdout (errors to
//! stderr) and returns the process exit code: 0 ok, 1 a test failed or a log could not be
//! read, 2 bad rules or bad usage. Part of the binary, not the library: the library returns
//! errors and results, and only the binary prints and picks exit codes.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use obwatch_logtailer::rule::{RuleSet, expand_rule_paths, testing};
use obwatch_logtailer::scan::{self, Format};

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

/// `check -c FILE`: the run config as `run` loads it (inputs, Alertmanager URLs and TLS, limits),
/// then the rule files it names and its web config file. Exit 2 on the first problem.
pub fn check_config(path: &Path) -> u8 {
    let config = match obwatch_logtailer::config::Config::load(path) {
        Ok(c) => c,
        Err(e) => {
            obwatch_common::stderr!("obwatch-logtailer: {e}");
            return 2;
        }
    };
    let rules = match config.rule_paths() {
        Ok(paths) => match load(&paths) {
            Some(set) => set,
            None => return 2,
        },
        Err(e) => {
            obwatch_common::stderr!("obwatch-logtailer: {e}");
            return 2;
        }
    };
    if let Some(web) = &config.web_config_file
        && let Err(e) = obwatch_common::web::WebConfig::load(web)
    {
        obwatch_common::stderr!("obwatch-logtailer: {e}");
        return 2;
    }
    let _ = writeln!(
        io::stdout().lock(),
        "SUCCESS: {}: {} input(s), {} rule file(s) with {} rule(s), {} Alertmanager URL(s)",
        path.display(),
        config.inputs.len(),
        rules.files().len(),
        rules.rule_count(),
        config.sinks.iter().filter(|s| !s.webhook).count()
    );
    0
}

/// What `test` runs and reports besides the verdicts.
#[derive(Debug, Default)]
pub struct TestOptions {
    /// List the test lines that raise no rule.
    pub coverage: bool,
    /// Run only the tests whose printed name matches this regex (promtool's `--run`).
    pub run: Option<String>,
    /// Also write the results as JUnit XML to this file.
    pub junit: Option<PathBuf>,
}

/// `test`: runs the inline tests; exit 1 when one fails. Before the summary line (which stays
/// last), the coverage: rules no test line raises (listed always: a rule nobody tested), and
/// test lines that raise nothing (counted; listed with `coverage`).
pub fn test(paths: &[PathBuf], opts: &TestOptions) -> u8 {
    let only = match opts.run.as_deref().map(regex::Regex::new).transpose() {
        Ok(re) => re,
        Err(e) => {
            obwatch_common::stderr!("obwatch-logtailer: --run: not a regex: {e}");
            return 2;
        }
    };
    let Some(set) = load(paths) else { return 2 };
    let results = testing::run_tests(&set, only.as_ref());
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
    // Coverage speaks of the whole set: not reported for a --run subset.
    if opts.run.is_none() {
        report_coverage(&mut out, &testing::coverage(&set), opts.coverage);
    }
    let _ = writeln!(out, "{} test(s), {} failed", results.len(), failed);
    if results.is_empty() {
        match &opts.run {
            Some(re) => {
                obwatch_common::stderr!("obwatch-logtailer: warning: no test matches --run {re:?}")
            }
            None => {
                obwatch_common::stderr!("obwatch-logtailer: warning: the rule files have no tests")
            }
        }
    }
    if let Some(path) = &opts.junit
        && let Err(e) = std::fs::write(path, testing::junit(&results))
    {
        obwatch_common::stderr!("obwatch-logtailer: --junit {}: {e}", path.display());
        return 1;
    }
    if failed > 0 { 1 } else { 0 }
}

/// The coverage lines of `test`: a count, the untested rules, and the quiet lines if asked.
fn report_coverage(out: &mut impl Write, cov: &testing::Coverage, list_quiet_lines: bool) {
    let _ = writeln!(
        out,
        "coverage: {} of {} rule(s) raised by a test line; {} test line(s) raise nothing{}",
        cov.rules - cov.untested.len(),
        cov.rules,
        cov.quiet_lines.len(),
        if list_quiet_lines || cov.quiet_lines.is_empty() {
            ""
        } else {
            " (--coverage lists them)"
        }
    );
    for u in &cov.untested {
        let _ = writeln!(out, "  untested rule: {u}");
    }
    if list_quiet_lines {
        for q in &cov.quiet_lines {
            let _ = writeln!(out, "  raises nothing: {q}");
        }
    }
}

/// How `scan` treats its inputs.
#[derive(Clone, Copy, Debug, Default)]
pub struct ScanOptions {
    /// Output format.
    pub format: Format,
    /// A log no rule group reads is skipped with a warning instead of failing the run.
    pub allow_unmatched: bool,
    /// A summary on stderr at the end (files, lines, bytes, matches per alert, time).
    pub stats: bool,
}

/// `scan`: replays `logs` through the rules. Exit 1 when a log could not be read or no rule
/// group reads it (unless allowed), 2 when the rules are bad or a rule file was given as a log.
pub fn scan(rule_paths: &[PathBuf], logs: &[PathBuf], opts: ScanOptions) -> u8 {
    if let Some(rules) = logs.iter().find(|l| looks_like_rule_file(l)) {
        obwatch_common::stderr!(
            "obwatch-logtailer: {} is a rule file, not a log: give several rule files as \
             --rules a.yaml,b.yaml, --rules a.yaml --rules b.yaml or --rules DIR (a shell glob \
             after --rules passes only its first file as rules)",
            rules.display()
        );
        return 2;
    }
    let Some(set) = load(rule_paths) else { return 2 };
    let started = std::time::Instant::now();
    let stdout = io::stdout().lock();
    let mut out = io::BufWriter::with_capacity(256 * 1024, stdout);
    let mut progress = obwatch_logtailer::progress::Progress::stderr();
    let (mut code, mut total, mut files) = (0, scan::ScanStats::default(), 0);
    for log in logs {
        let groups = scan::groups_for_log(&set, log);
        // A missing file is reported as unreadable below, not as unmatched.
        if groups.is_empty() && log.exists() {
            let what =
                if opts.allow_unmatched { "skipped" } else { "use --allow-unmatched to skip it" };
            obwatch_common::stderr!(
                "obwatch-logtailer: {}: no rule group reads this file (see the groups' `files`); {what}",
                log.display()
            );
            if !opts.allow_unmatched {
                code = 1;
            }
            continue;
        }
        match scan::scan_file(&set, log, groups, opts.format, &mut out, &mut progress) {
            Ok(stats) => {
                files += 1;
                total.add(&stats);
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
    if opts.stats {
        let secs = started.elapsed().as_secs_f64();
        obwatch_common::stderr!(
            "scanned {files} file(s), {} lines, {} bytes in {secs:.2}s: {} matches",
            total.lines,
            total.bytes,
            total.matches
        );
        for (alert, n) in &total.by_alert {
            obwatch_common::stderr!("  {alert}: {n}");
        }
    }
    code
}

/// A `*.yaml`/`*.yml` file whose text has a top-level `groups:` key: a rule file that a shell
/// glob (`--rules rules/*.yaml log`) turned into a log argument.
fn looks_like_rule_file(path: &Path) -> bool {
    let yaml = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
    yaml && std::fs::read_to_string(path).is_ok_and(|t| t.lines().any(|l| l.starts_with("groups:")))
}
