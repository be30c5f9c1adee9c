//! What `obwatch-cleaner check` reports besides "the config is valid": what each policy
//! matches on this host today (files, apparent bytes, how many are active and never touched),
//! and the roots that do not exist, so a typo or a config copied from another host shows before
//! the first run instead of as a disk that keeps filling.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::plan::human_bytes;
use crate::scan;

/// One policy's matches today.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicyMatches {
    /// The policy's name.
    pub name: String,
    /// Files its globs match (active ones included).
    pub files: u64,
    /// Of those, files matching an `active` glob.
    pub active: u64,
    /// Their apparent size.
    pub bytes: u64,
}

/// Scans like a run would (reading nothing but directories and inodes) and counts per policy.
/// Also returns the glob roots that do not exist.
pub fn matches_today(config: &Config, procfs: &Path) -> (Vec<PolicyMatches>, Vec<PathBuf>) {
    let s = scan::scan(&config.policies, procfs);
    let mut out: Vec<PolicyMatches> = config
        .policies
        .iter()
        .map(|p| PolicyMatches { name: p.name.clone(), ..PolicyMatches::default() })
        .collect();
    for f in &s.files {
        if let Some(m) = out.get_mut(f.policy as usize) {
            m.files += 1;
            m.bytes += f.meta.size_bytes;
            m.active += u64::from(f.active);
        }
    }
    (out, s.missing_roots)
}

/// What `obwatch-cleaner check` prints: the file and its policy count, then [`report`] of a
/// scan of today's files (against the real `/proc`, for files held open).
pub fn write_summary(out: &mut dyn Write, config: &Config) -> std::io::Result<()> {
    let (matches, missing) = matches_today(config, Path::new("/proc"));
    writeln!(out, "{}: ok, {} policies", config.path.display(), config.policies.len())?;
    report(out, &matches, &missing)
}

/// Writes the report: one line per policy, then one per missing root.
pub fn report(
    out: &mut dyn Write,
    matches: &[PolicyMatches],
    missing_roots: &[PathBuf],
) -> io::Result<()> {
    for m in matches {
        write!(out, "  policy {:?}: {} files, {}", m.name, m.files, human_bytes(m.bytes))?;
        if m.active > 0 {
            write!(out, " ({} active, never touched)", m.active)?;
        }
        if m.files == 0 {
            write!(out, " (matches nothing today)")?;
        }
        writeln!(out)?;
    }
    for root in missing_roots {
        // Debug formatting quotes the path, so a name with a newline cannot forge a line.
        writeln!(out, "  warning: {:?} does not exist on this host", root)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_policy_and_names_missing_roots() {
        let d = tempfile::tempdir().unwrap();
        let logs = d.path().join("log");
        std::fs::create_dir(&logs).unwrap();
        std::fs::write(logs.join("app.log"), "live\n").unwrap();
        std::fs::write(logs.join("app.log.1"), "12345").unwrap();
        std::fs::write(logs.join("app.log.2"), "123").unwrap();
        let text = format!(
            "policies:\n  - name: app\n    paths: ['{0}/app.log.*']\n    active: ['{0}/app.log']\n    \
             max_age: 7d\n  - name: gone\n    paths: ['{1}/x/*.log']\n    max_age: 7d\n",
            logs.display(),
            d.path().display()
        );
        let config = Config::parse(&d.path().join("cleaner.yml"), &text).unwrap();
        let (m, missing) = matches_today(&config, Path::new("/proc"));
        assert_eq!(m[0], PolicyMatches { name: "app".into(), files: 2, active: 0, bytes: 8 });
        assert_eq!(m[1].files, 0);
        assert_eq!(missing, vec![d.path().join("x")]);
        let mut out = Vec::new();
        report(&mut out, &m, &missing).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("policy \"app\": 2 files, 8B\n"), "{text}");
        assert!(text.contains("policy \"gone\": 0 files, 0B (matches nothing today)"), "{text}");
        assert!(text.contains("/x\" does not exist"), "{text}");
    }
}
