//! Path globs of the cleaner's policies: an absolute literal root plus per-component patterns
//! (`*`, `?`, `[a-z]`, `[!0-9]`, and `**` for any number of directories). Pure; the walk that
//! applies them lives in `scan`.
//!
//! Why not the `glob` crate: it walks by path and follows symlinks, and the cleaner must walk
//! with directory handles and never follow a link. So matching is ours and walking is `scan`'s.
//! As in the shell, a wildcard never matches a leading `.` (hidden files stay out unless named).

use std::path::{Component, Path, PathBuf};

/// One parsed glob: where to start walking and what to match below it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Glob {
    /// The literal directory the walk starts from (the longest prefix without wildcards).
    pub root: PathBuf,
    /// Patterns for the components below `root`; the last one names files.
    pub components: Vec<Part>,
}

/// One component of a glob below its root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    /// `**`: zero or more directories.
    AnyDirs,
    /// A component pattern (possibly literal).
    Name(String),
}

/// Why a glob is not usable; the message says what is expected.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct GlobError(String);

impl Glob {
    /// Parses an absolute glob such as `/home/admin/oceanbase/log/*.log.*`.
    pub fn parse(pattern: &str) -> Result<Glob, GlobError> {
        let path = Path::new(pattern);
        if !path.is_absolute() {
            return Err(GlobError(format!("expected an absolute path glob, got {pattern:?}")));
        }
        let mut root = PathBuf::from("/");
        let mut components = Vec::new();
        for c in path.components() {
            let s = match c {
                Component::RootDir => continue,
                Component::Normal(s) => s.to_str().ok_or_else(|| {
                    GlobError(format!("expected a UTF-8 path glob, got {pattern:?}"))
                })?,
                _ => {
                    return Err(GlobError(format!(
                        "expected a glob without `.` or `..` components, got {pattern:?}"
                    )));
                }
            };
            if components.is_empty() && !has_wildcard(s) {
                root.push(s);
            } else if s == "**" {
                components.push(Part::AnyDirs);
            } else if s.contains("**") {
                return Err(GlobError(format!(
                    "`**` must be a whole path component (a/**/b), got {pattern:?}"
                )));
            } else {
                check_brackets(s, pattern)?;
                components.push(Part::Name(s.to_string()));
            }
        }
        if components.is_empty() {
            // A literal file path: its parent is the root and its name the last component.
            let name = root.file_name().and_then(|n| n.to_str()).map(str::to_string);
            match name {
                Some(n) => {
                    root.pop();
                    components.push(Part::Name(n));
                }
                None => return Err(GlobError(format!("expected a file glob, got {pattern:?}"))),
            }
        }
        if components.last() == Some(&Part::AnyDirs) {
            return Err(GlobError(format!(
                "expected a file pattern after the last `**` (a/**/*.log), got {pattern:?}"
            )));
        }
        Ok(Glob { root, components })
    }
}

impl Glob {
    /// True when the absolute `path` matches the whole glob.
    pub fn matches_path(&self, path: &Path) -> bool {
        let Ok(rest) = path.strip_prefix(&self.root) else { return false };
        let names: Vec<&[u8]> =
            rest.components().map(|c| c.as_os_str().as_encoded_bytes()).collect();
        match_parts(&self.components, &names)
    }
}

fn match_parts(parts: &[Part], names: &[&[u8]]) -> bool {
    match (parts.first(), names.first()) {
        (None, None) => true,
        (None, Some(_)) => false,
        (Some(Part::AnyDirs), _) => {
            match_parts(&parts[1..], names)
                || (names.len() > 1
                    && names[0].first() != Some(&b'.')
                    && match_parts(parts, &names[1..]))
        }
        (Some(Part::Name(p)), Some(n)) => matches(p, n) && match_parts(&parts[1..], &names[1..]),
        (Some(Part::Name(_)), None) => false,
    }
}

fn has_wildcard(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

fn check_brackets(s: &str, pattern: &str) -> Result<(), GlobError> {
    let mut rest = s;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        // `[]...]` and `[!]...]` take the first `]` literally, as fnmatch(3) does.
        let skip = usize::from(after.starts_with('!') || after.starts_with('^'));
        let skip = skip + usize::from(after[skip..].starts_with(']'));
        match after[skip..].find(']') {
            Some(close) => rest = &after[skip + close + 1..],
            None => return Err(GlobError(format!("unclosed `[` in glob {pattern:?}"))),
        }
    }
    Ok(())
}

/// fnmatch(3) without flags except that wildcards never match a leading `.`.
pub fn matches(pattern: &str, name: &[u8]) -> bool {
    if name.first() == Some(&b'.') && !pattern.starts_with('.') {
        return false;
    }
    match_from(pattern.as_bytes(), name)
}

fn match_from(p: &[u8], n: &[u8]) -> bool {
    // Iterative with one backtrack point for `*` (linear in practice, no recursion blow-up).
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() {
            match p[pi] {
                b'*' => {
                    star = Some((pi, ni));
                    pi += 1;
                    continue;
                }
                b'?' => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                b'[' => {
                    if let Some((ok, len)) = class(&p[pi..], n[ni])
                        && ok
                    {
                        pi += len;
                        ni += 1;
                        continue;
                    }
                }
                c if c == n[ni] => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, sn)) => {
                pi = sp + 1;
                ni = sn + 1;
                star = Some((sp, sn + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// Matches `c` against the class at the start of `p` (`[...]`): (matched, pattern length).
fn class(p: &[u8], c: u8) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(p.get(i), Some(b'!' | b'^'));
    if negate {
        i += 1;
    }
    let mut hit = false;
    let mut first = true;
    loop {
        let lo = *p.get(i)?;
        if lo == b']' && !first {
            return Some((hit != negate, i + 1));
        }
        first = false;
        if p.get(i + 1) == Some(&b'-') && p.get(i + 2).is_some_and(|&h| h != b']') {
            let hi = p[i + 2];
            hit |= (lo..=hi).contains(&c);
            i += 3;
        } else {
            hit |= lo == c;
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_splits_root_and_patterns() {
        let g = Glob::parse("/home/admin/oceanbase/log/*.log.*").unwrap();
        assert_eq!(g.root, PathBuf::from("/home/admin/oceanbase/log"));
        assert_eq!(g.components, vec![Part::Name("*.log.*".into())]);
        let g = Glob::parse("/u01/app/grid/diag/**/trace/*.tr[cm]").unwrap();
        assert_eq!(g.root, PathBuf::from("/u01/app/grid/diag"));
        assert_eq!(g.components.len(), 3);
        assert_eq!(g.components[0], Part::AnyDirs);
        let g = Glob::parse("/var/log/app.log").unwrap();
        assert_eq!(g.root, PathBuf::from("/var/log"));
        assert_eq!(g.components, vec![Part::Name("app.log".into())]);
    }

    #[test]
    fn parse_rejects_what_it_cannot_walk_safely() {
        for (bad, why) in [
            ("log/*.log", "absolute"),
            ("/var/log/../etc/*", "`..`"),
            ("/var/log/a**b", "whole path component"),
            ("/var/log/**", "after the last `**`"),
            ("/var/log/[ab", "unclosed `[`"),
            ("/", "file glob"),
        ] {
            let err = Glob::parse(bad).unwrap_err().to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn fnmatch_semantics() {
        let m = |p: &str, n: &str| matches(p, n.as_bytes());
        assert!(m("*.log.*", "observer.log.20240301101010"));
        assert!(!m("*.log.*", "observer.log"));
        assert!(m("*.wf.*", "observer.log.wf.20240301101010"));
        assert!(m("alert.log.*", "alert.log.1"));
        assert!(m("*.tr[cm]", "ocssd_123.trc") && m("*.tr[cm]", "x.trm"));
        assert!(!m("*.tr[cm]", "x.trx"));
        assert!(m("log.[0-9]", "log.7") && !m("log.[!0-9]", "log.7") && m("log.[^0-9]", "log.x"));
        assert!(m("a?c", "abc") && !m("a?c", "ac"));
        assert!(m("*", "x") && !m("*", ".hidden") && m(".*", ".hidden"));
        assert!(m("[]]x", "]x") && m("a*b*c", "aXXbYYc") && !m("a*b*c", "aXXbYY"));
        assert!(m("literal", "literal") && !m("literal", "literal2"));
    }

    #[test]
    fn whole_path_matching() {
        let g = Glob::parse("/d/**/trace/*.trc").unwrap();
        assert!(g.matches_path(Path::new("/d/trace/a.trc")));
        assert!(g.matches_path(Path::new("/d/x/y/trace/a.trc")));
        assert!(!g.matches_path(Path::new("/d/x/trace/a.log")));
        assert!(!g.matches_path(Path::new("/e/trace/a.trc")));
        assert!(!g.matches_path(Path::new("/d/.hidden/trace/a.trc")));
        let g = Glob::parse("/log/observer.log").unwrap();
        assert!(g.matches_path(Path::new("/log/observer.log")));
        assert!(!g.matches_path(Path::new("/log/observer.log.1")));
    }
}
