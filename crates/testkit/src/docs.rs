//! Checks that the documentation (`docs/*.md`) names every flag a binary's `--help` shows and
//! every key its example config uses, so a flag or key cannot ship undocumented. Each binary's
//! CLI test calls [`undocumented`] with its own help texts and example file.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// All of `docs/*.md`, concatenated.
pub fn docs_text() -> String {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    files.sort();
    files.iter().map(|f| std::fs::read_to_string(f).unwrap()).collect::<Vec<_>>().join("\n")
}

/// The long flags (`--name`) in `bin`'s `--help` and in each of `subcommands`' `--help`.
pub fn help_flags(bin: &str, subcommands: &[&str]) -> Vec<String> {
    let mut flags = Vec::new();
    let mut runs: Vec<Vec<&str>> = vec![vec!["--help"]];
    runs.extend(subcommands.iter().map(|s| vec![*s, "--help"]));
    for args in runs {
        let out = Command::new(bin).args(&args).output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        for word in text.split(|c: char| c.is_whitespace() || c == ',' || c == '[' || c == ']') {
            let flag: String = word
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
                .collect();
            let flag = flag.trim_end_matches('.').to_string();
            if flag.starts_with("--") && flag.len() > 3 && !flags.contains(&flag) {
                flags.push(flag);
            }
        }
    }
    flags
}

/// The mapping keys of the YAML file `example` (relative to the repository), by a line scan:
/// `key:` at a line's start (after indentation and `- `) and inside `{ ... }` flow maps.
pub fn example_keys(example: &str) -> Vec<String> {
    let text = std::fs::read_to_string(root().join(example)).unwrap();
    let mut keys = Vec::new();
    for line in text.lines() {
        let code = line.split(" #").next().unwrap_or("");
        if code.trim_start().starts_with('#') {
            continue;
        }
        for part in code.split(['{', ',']) {
            let part = part.trim_start().trim_start_matches("- ").trim_start();
            if let Some((key, _)) = part.split_once(':') {
                let ok = !key.is_empty()
                    && key
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
                if ok && !keys.contains(&key.to_string()) {
                    keys.push(key.to_string());
                }
            }
        }
    }
    keys
}

/// What of `flags` and `keys` the docs do not name. A flag counts as named when it appears
/// verbatim; `--collector.X` and `--no-collector.X` also when the docs name the pattern
/// (`--collector.NAME`) and the collector `X` in backquotes or a table cell. A key counts when
/// it appears as a word.
pub fn undocumented(flags: &[String], keys: &[String]) -> Vec<String> {
    let docs = docs_text();
    let mut missing = Vec::new();
    for flag in flags {
        let collector = flag
            .strip_prefix("--collector.")
            .or_else(|| flag.strip_prefix("--no-collector."))
            .filter(|name| !name.contains('.') && !name.contains('-'));
        let named = docs.contains(flag.as_str())
            || collector.is_some_and(|name| {
                docs.contains("--collector.NAME")
                    && (docs.contains(&format!("`{name}`"))
                        || docs.contains(&format!("| {name} |")))
            });
        if !named {
            missing.push(format!("flag {flag}"));
        }
    }
    for key in keys {
        let word = |i: usize| {
            let before = docs[..i].chars().next_back();
            let after = docs[i + key.len()..].chars().next();
            let outside =
                |c: Option<char>| !c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
            outside(before) && outside(after)
        };
        if !docs.match_indices(key.as_str()).any(|(i, _)| word(i)) {
            missing.push(format!("config key {key}"));
        }
    }
    missing
}
