//! The workspace's own source obeys its written limits: the one audited `unsafe` call
//! (`collector/timex.rs`'s adjtimex) is the only one, and every other crate root forbids
//! `unsafe` outright, so a second call cannot slip in with a local `allow`; no two top-level
//! modules of a crate use each other (directly or round a longer circle); every `main.rs` is
//! under 60 lines.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The one file allowed to hold `unsafe`, and the crate root that therefore only denies it.
const AUDITED: &str = "crates/exporter/src/collector/timex.rs";
const DENY_ONLY_ROOT: &str = "crates/exporter/src/lib.rs";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if !path.ends_with("target") && !path.ends_with("fixtures") {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn sources() -> Vec<(String, String)> {
    let root = workspace();
    let mut files = Vec::new();
    rust_files(&root.join("crates"), &mut files);
    rust_files(&root.join("tests"), &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(&root).unwrap().to_string_lossy().into_owned();
            (rel, std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

#[test]
fn the_adjtimex_call_is_the_only_unsafe_code() {
    // Written split so this file does not count itself.
    let allow = concat!("allow(", "unsafe_code)");
    let mut allows = Vec::new();
    let mut blocks = Vec::new();
    for (rel, text) in sources() {
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if line.contains(allow) {
                allows.push(format!("{rel}:{}", n + 1));
            }
            if code.contains(concat!("unsafe", " {"))
                || code.contains(concat!("unsafe", " fn"))
                || code.contains(concat!("unsafe", " impl"))
            {
                blocks.push(format!("{rel}:{}", n + 1));
            }
        }
    }
    assert_eq!(allows.len(), 1, "one audited allow expected: {allows:?}");
    assert!(allows[0].starts_with(AUDITED), "{allows:?}");
    assert_eq!(blocks.len(), 1, "one unsafe block expected: {blocks:?}");
    assert!(blocks[0].starts_with(AUDITED), "{blocks:?}");
    let timex = std::fs::read_to_string(workspace().join(AUDITED)).unwrap();
    let at = timex.find(concat!("unsafe", " {")).unwrap();
    assert!(timex[..at].rfind("// SAFETY:").is_some_and(|s| at - s < 800), "no SAFETY comment");
}

#[test]
fn every_other_crate_root_forbids_unsafe() {
    let roots: Vec<(String, String)> = sources()
        .into_iter()
        .filter(|(rel, _)| {
            rel.ends_with("src/lib.rs")
                || rel.ends_with("src/main.rs")
                || rel == "tests/lib.rs"
                || rel == "tests/main.rs"
        })
        .collect();
    assert!(roots.len() >= 9, "{:?}", roots.iter().map(|r| &r.0).collect::<Vec<_>>());
    for (rel, text) in roots {
        let forbids = text.contains("#![forbid(unsafe_code)]");
        if rel == DENY_ONLY_ROOT {
            assert!(!forbids, "{rel}: forbid would refuse the audited allow");
        } else {
            assert!(forbids, "{rel} must say #![forbid(unsafe_code)]");
        }
    }
}

/// `crate::NAME` paths a crate's top-level modules use, outside their `#[cfg(test)]` parts:
/// module -> the other top-level modules it uses.
fn module_uses(
    crate_src: &str,
    sources: &[(String, String)],
) -> BTreeMap<String, BTreeSet<String>> {
    let top = |rel: &str| -> String {
        let inner = rel.strip_prefix(crate_src).unwrap().trim_end_matches(".rs");
        inner.split('/').next().unwrap().to_string()
    };
    let files: Vec<(String, &str)> = sources
        .iter()
        .filter(|(rel, _)| rel.starts_with(crate_src))
        .map(|(rel, text)| (top(rel), text.split("#[cfg(test)]").next().unwrap()))
        .collect();
    let modules: BTreeSet<String> = files.iter().map(|(m, _)| m.clone()).collect();
    let mut uses: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, text) in &files {
        for (i, _) in text.match_indices("crate::") {
            let name: String = text[i + 7..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_' || c.is_ascii_digit())
                .collect();
            if &name != module && modules.contains(&name) {
                uses.entry(module.clone()).or_default().insert(name);
            }
        }
    }
    uses
}

#[test]
fn no_module_circles_inside_a_crate() {
    let sources = sources();
    let mut circles = Vec::new();
    for krate in ["cleaner", "common", "exporter", "logtailer", "testkit"] {
        let uses = module_uses(&format!("crates/{krate}/src/"), &sources);
        assert!(krate == "testkit" || !uses.is_empty(), "{krate}: no module uses found");
        // A circle: a module reaches itself.
        for start in uses.keys() {
            let mut seen = BTreeSet::new();
            let mut todo: Vec<&String> = uses[start].iter().collect();
            while let Some(m) = todo.pop() {
                if m == start {
                    circles.push(format!("{krate}: {start} reaches itself"));
                    break;
                }
                if seen.insert(m.clone()) {
                    todo.extend(uses.get(m).into_iter().flatten());
                }
            }
        }
    }
    assert!(circles.is_empty(), "module circles: {circles:#?}");
}

#[test]
fn every_main_rs_is_thin() {
    for (rel, text) in sources() {
        if rel.ends_with("/src/main.rs") {
            let lines = text.lines().count();
            assert!(lines < 60, "{rel}: {lines} lines; move the work into the library");
        }
    }
}
