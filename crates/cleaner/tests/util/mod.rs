//! Shared helpers: temp log trees with chosen mtimes, a config for them, and a whole-tree
//! fingerprint (names, types, sizes, mtimes, contents, link targets).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use obwatch_cleaner::Config;

/// Writes `content` to `path` (creating parents) and backdates its mtime by `age_days`.
pub fn old_file(path: &Path, content: &[u8], age_days: u64) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
    let t = SystemTime::now() - Duration::from_secs(age_days * 86400);
    File::options().write(true).open(path).unwrap().set_modified(t).unwrap();
}

/// A config whose lock, audit log and textfile live in `state`.
pub fn config(state: &Path, policies: &str) -> Config {
    let yaml = format!(
        "lock_file: {s}/lock\naudit_log: {s}/audit.jsonl\ntextfile: {s}/cleaner.prom\n{policies}",
        s = state.display()
    );
    let path = state.join("cleaner.yml");
    std::fs::write(&path, &yaml).unwrap();
    Config::load(&path).unwrap()
}

/// Everything observable about a tree, keyed by relative path.
pub fn fingerprint(root: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, String>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        let m = std::fs::symlink_metadata(&p).unwrap();
        let rel = p.strip_prefix(root).unwrap().to_path_buf();
        let mtime = m.modified().unwrap().duration_since(SystemTime::UNIX_EPOCH).unwrap();
        if m.file_type().is_symlink() {
            out.insert(rel, format!("link -> {}", std::fs::read_link(&p).unwrap().display()));
        } else if m.is_dir() {
            out.insert(rel, "dir".into());
            walk(root, &p, out);
        } else {
            let data = std::fs::read(&p).unwrap();
            let sum = data.iter().fold(0xcbf29ce484222325u64, |h, b| {
                (h ^ u64::from(*b)).wrapping_mul(0x100000001b3)
            });
            out.insert(rel, format!("file {} {:x} {}", m.len(), sum, mtime.as_nanos()));
        }
    }
}

/// Relative paths of the files (not dirs or links) under `root`.
pub fn files(root: &Path) -> Vec<String> {
    fingerprint(root)
        .into_iter()
        .filter(|(_, v)| v.starts_with("file"))
        .map(|(k, _)| k.display().to_string())
        .collect()
}
