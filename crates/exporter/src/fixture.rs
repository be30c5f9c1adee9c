//! Builds a fake procfs/sysfs tree from `*.tree` text files, for the golden-scrape and
//! compatibility tests and the benches (node_exporter keeps a `sys.ttar` for the same reason:
//! sysfs holds symlinks and files a checkout can't carry as-is).
//!
//! Format: a line `=== PATH` starts a file whose content is every following line up to the
//! next `===` line (each line keeps its newline). `=== PATH -> TARGET` makes a symlink,
//! `=== PATH/` an empty directory. Lines before the first header and lines starting with `#`
//! directly after a header's blank line are not special: there are no comments inside content.
//! A header may end with ` [noeol]` to drop the final newline of the content.

use std::io;
use std::path::Path;

/// Builds the tree described by `text` under `dir`.
pub fn build(dir: &Path, text: &str) -> io::Result<()> {
    let mut current: Option<(String, String, bool)> = None;
    let flush = |cur: Option<(String, String, bool)>| -> io::Result<()> {
        if let Some((path, mut content, noeol)) = cur {
            if noeol && content.ends_with('\n') {
                content.pop();
            }
            let p = dir.join(&path);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&p, content)?;
        }
        Ok(())
    };
    for line in text.split_inclusive('\n') {
        let Some(header) = line.strip_prefix("=== ") else {
            if let Some((_, content, _)) = current.as_mut() {
                content.push_str(line);
            }
            continue;
        };
        flush(current.take())?;
        let header = header.trim_end_matches('\n');
        let (header, noeol) = match header.strip_suffix(" [noeol]") {
            Some(h) => (h, true),
            None => (header, false),
        };
        if let Some((path, target)) = header.split_once(" -> ") {
            let p = dir.join(path);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::os::unix::fs::symlink(target, &p)?;
        } else if let Some(d) = header.strip_suffix('/') {
            std::fs::create_dir_all(dir.join(d))?;
        } else {
            current = Some((header.to_string(), String::new(), noeol));
        }
    }
    flush(current)
}

/// Builds every `*.tree` file of `fixtures` (sorted by name) under `dir`.
pub fn build_all(dir: &Path, fixtures: &Path) -> io::Result<()> {
    let mut files: Vec<_> = std::fs::read_dir(fixtures)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "tree"))
        .collect();
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f)?;
        build(dir, &text).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", f.display())))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_files_links_and_dirs() {
        let d = tempfile::tempdir().unwrap();
        build(
            d.path(),
            "=== proc/loadavg\n0.1 0.2 0.3 1/2 3\n=== sys/class/net/eth0 -> ../../devices/eth0\n\
             === sys/devices/eth0/\n=== sys/devices/eth0/mtu [noeol]\n1500\n",
        )
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(d.path().join("proc/loadavg")).unwrap(),
            "0.1 0.2 0.3 1/2 3\n"
        );
        assert_eq!(
            std::fs::read_to_string(d.path().join("sys/class/net/eth0/mtu")).unwrap(),
            "1500"
        );
    }
}
