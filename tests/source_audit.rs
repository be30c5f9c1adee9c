//! The workspace's own source obeys its written limits: the one audited `unsafe` call
//! (`collector/timex.rs`'s adjtimex) is the only one, and every other crate root forbids
//! `unsafe` outright, so a second call cannot slip in with a local `allow`; no two sibling
//! modules of a crate (at any level) use each other, directly or round a longer circle; every
//! `main.rs` is under 60 lines.

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

/// A module's path inside its crate: `collector/filesystem/mod.rs` -> `[collector, filesystem]`.
type ModPath = Vec<String>;

fn module_path(rel_in_crate: &str) -> ModPath {
    let mut parts: ModPath =
        rel_in_crate.trim_end_matches(".rs").split('/').map(String::from).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        parts.pop();
    }
    parts
}

/// The module paths a source text names (`crate::a::b`, `super::c`, `use x::{d, e::f}`),
/// relative paths resolved from `here`, the file's module. Idents only; items are trimmed to
/// the longest known module later.
fn named_paths(text: &str, here: &[String]) -> Vec<ModPath> {
    let mut out = Vec::new();
    for (start, base) in
        [("crate::", Vec::new()), ("super::", here[..here.len().saturating_sub(1)].to_vec())]
    {
        for (i, _) in text.match_indices(start) {
            // `$crate::` in a macro and `crate::` are the same; `a::super::` is not ours.
            let before = text[..i].chars().next_back();
            if start == "super::" && before.is_some_and(|c| c == ':') {
                continue;
            }
            expand(&text[i + start.len()..], base.clone(), &mut out);
        }
    }
    out
}

/// Expands one path (with `{a, b::c}` groups) starting at `rest` onto `prefix`.
fn expand(mut rest: &str, mut prefix: ModPath, out: &mut Vec<ModPath>) {
    loop {
        if let Some(group) = rest.strip_prefix('{') {
            // Split the group's items at its top-level commas; each continues the prefix.
            let mut depth = 0;
            let mut item_start = 0;
            for (j, c) in group.char_indices() {
                depth += i32::from(c == '{') - i32::from(c == '}');
                if (c == ',' && depth == 0) || depth < 0 {
                    expand(group[item_start..j].trim_start(), prefix.clone(), out);
                    item_start = j + 1;
                }
                if depth < 0 {
                    return;
                }
            }
            return;
        }
        let ident: String =
            rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        if ident.is_empty() {
            break;
        }
        if ident != "self" {
            prefix.push(ident.clone());
        }
        match rest[ident.len()..].strip_prefix("::") {
            Some(r) => rest = r,
            None => break,
        }
    }
    out.push(prefix);
}

/// Sibling modules that use each other, at every level of a crate: for each module that
/// holds others (the crate root, `collector`, ...), its children -> the children they use
/// (anywhere inside them, outside `#[cfg(test)]` parts). A parent using its children or a
/// child its parent is the module tree, not a circle.
fn sibling_uses(
    crate_src: &str,
    sources: &[(String, String)],
) -> BTreeMap<ModPath, BTreeMap<String, BTreeSet<String>>> {
    let files: Vec<(ModPath, &str)> = sources
        .iter()
        .filter_map(|(rel, text)| Some((module_path(rel.strip_prefix(crate_src)?), text)))
        .map(|(m, text)| (m, text.split("#[cfg(test)]").next().unwrap()))
        .collect();
    let known: BTreeSet<&ModPath> = files.iter().map(|(m, _)| m).collect();
    let mut uses: BTreeMap<ModPath, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for (from, text) in &files {
        for mut to in named_paths(text, from) {
            while !to.is_empty() && !known.contains(&to) {
                to.pop();
            }
            let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
            if common < from.len() && common < to.len() {
                let parent = from[..common].to_vec();
                let edges = uses.entry(parent).or_default();
                edges.entry(from[common].clone()).or_default().insert(to[common].clone());
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
        let levels = sibling_uses(&format!("crates/{krate}/src/"), &sources);
        assert!(krate == "testkit" || levels.contains_key(&Vec::new()), "{krate}: no uses found");
        for (parent, uses) in &levels {
            // A circle: a module reaches itself.
            for start in uses.keys() {
                let mut seen = BTreeSet::new();
                let mut todo: Vec<&String> = uses[start].iter().collect();
                while let Some(m) = todo.pop() {
                    if m == start {
                        circles.push(format!(
                            "{krate}: {}::{start} reaches itself",
                            parent.join("::")
                        ));
                        break;
                    }
                    if seen.insert(m.clone()) {
                        todo.extend(uses.get(m).into_iter().flatten());
                    }
                }
            }
        }
    }
    assert!(circles.is_empty(), "module circles: {circles:#?}");
}

#[test]
fn the_circle_check_sees_nested_modules() {
    let sources = [
        ("c/src/lib.rs".to_string(), "pub mod a;".to_string()),
        ("c/src/a/mod.rs".to_string(), "use crate::a::x::X; mod x; mod y;".to_string()),
        ("c/src/a/x.rs".to_string(), "use super::{y::Y, Z};".to_string()),
        ("c/src/a/y.rs".to_string(), "use crate::a::{self, x::{X}};".to_string()),
    ];
    let levels = sibling_uses("c/src/", &sources);
    let a = &levels[&vec!["a".to_string()]];
    assert_eq!(a["x"], BTreeSet::from(["y".to_string()]));
    assert_eq!(a["y"], BTreeSet::from(["x".to_string()]));
    assert!(!levels.contains_key(&Vec::new()), "a parent using its child is no edge");
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
