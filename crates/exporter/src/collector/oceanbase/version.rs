//! Which OceanBase a server is, from the strings it reports: `version_comment` (what obagent
//! reads: `OceanBase_CE 4.2.1.0 (r100000...)`, `OceanBase 3.2.4.1 (r...)`) or, when that
//! does not name OceanBase, `version()` (`5.7.25-OceanBase_CE-v4.2.1.0`, the MySQL-compatible
//! form). Anything else is not an OceanBase server.

use std::fmt;

/// An OceanBase release, e.g. 4.2.1.0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObVersion {
    /// 3 or 4: which catalogue of views the server has.
    pub major: u32,
    /// Minor release.
    pub minor: u32,
    /// Patch release.
    pub patch: u32,
    /// Fourth component (hot fix); 0 when absent.
    pub hotfix: u32,
}

impl fmt::Display for ObVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}.{}", self.major, self.minor, self.patch, self.hotfix)
    }
}

impl ObVersion {
    /// Parses `4.2.1.0` or `3.1.2`; at least major.minor.
    pub fn parse(s: &str) -> Option<ObVersion> {
        let mut it = s.split('.').map(|p| p.parse::<u32>());
        let major = it.next()?.ok()?;
        let minor = it.next()?.ok()?;
        let patch = it.next().transpose().ok()?.unwrap_or(0);
        let hotfix = it.next().transpose().ok()?.unwrap_or(0);
        if it.next().is_some() || major == 0 {
            return None;
        }
        Some(ObVersion { major, minor, patch, hotfix })
    }
}

/// The version in `version_comment`: the word after the `OceanBase*` word.
pub fn from_version_comment(comment: &str) -> Option<ObVersion> {
    let mut words = comment.split_whitespace();
    words.find(|w| w.starts_with("OceanBase"))?;
    ObVersion::parse(words.next()?)
}

/// The version in `version()`: `<mysql version>-OceanBase[_CE]-v<version>`.
pub fn from_version_fn(version: &str) -> Option<ObVersion> {
    let at = version.find("-OceanBase")?;
    let rest = &version[at + 1..];
    let v = rest.split_once("-v")?.1;
    let end = v.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(v.len());
    ObVersion::parse(&v[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(major: u32, minor: u32, patch: u32, hotfix: u32) -> Option<ObVersion> {
        Some(ObVersion { major, minor, patch, hotfix })
    }

    #[test]
    fn version_comment_as_servers_report_it() {
        // Captured from `show variables like 'version_comment'` on CE 4.2.1 and 3.1.
        let ce4 = "OceanBase_CE 4.2.1.0 (r100000152023090401-9aa9d4c8b6c9c0f5c0e5f1a7d0a5e1b2c3d4e5f6) (Built Sep  4 2023 12:34:56)";
        assert_eq!(from_version_comment(ce4), v(4, 2, 1, 0));
        assert_eq!(
            from_version_comment("OceanBase 3.2.4.1 (r1-abc) (Built Jan 1 2022)"),
            v(3, 2, 4, 1)
        );
        assert_eq!(from_version_comment("OceanBase_CE 3.1.2 (r10000092021122919)"), v(3, 1, 2, 0));
        assert_eq!(from_version_comment("MariaDB Server"), None);
        assert_eq!(from_version_comment("Debian 12"), None);
        assert_eq!(from_version_comment("OceanBase"), None);
    }

    #[test]
    fn version_function_as_servers_report_it() {
        assert_eq!(from_version_fn("5.7.25-OceanBase_CE-v4.2.1.0"), v(4, 2, 1, 0));
        assert_eq!(from_version_fn("5.7.25-OceanBase-v3.2.4.1"), v(3, 2, 4, 1));
        assert_eq!(from_version_fn("5.7.25-OceanBase-v4.3.0.1-beta"), v(4, 3, 0, 1));
        assert_eq!(from_version_fn("10.11.19-MariaDB-0+deb12u1"), None);
        assert_eq!(from_version_fn("8.0.36"), None);
        assert_eq!(from_version_fn("5.7.25-OceanBase-vx"), None);
    }

    #[test]
    fn ordering_and_display() {
        let a = ObVersion::parse("4.2.1").unwrap();
        assert!(a > ObVersion::parse("3.2.4.1").unwrap());
        assert!(a < ObVersion::parse("4.2.1.1").unwrap());
        assert_eq!(a.to_string(), "4.2.1.0");
        assert_eq!(ObVersion::parse("0.1"), None);
        assert_eq!(ObVersion::parse("4"), None);
        assert_eq!(ObVersion::parse("4.2.1.0.9"), None);
    }
}
