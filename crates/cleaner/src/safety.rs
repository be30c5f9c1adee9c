//! Policies the cleaner refuses to load, because one typo in them deletes what keeps the host
//! running: a glob rooted at `/` (`/*`), under a pseudo file system (`/proc`, `/sys`, `/dev`,
//! `/run`: their files are the kernel's and services' live state), or in a system directory
//! (`/etc`, `/usr`, `/bin`, `/sbin`, `/lib*`, `/boot`, `/var/lib`) unless the policy says
//! `allow_system_paths: true`; a `max_age` under an hour (a log still being written or read);
//! `max_total_size: 0` (everything, at once). Pure: the config loader calls it with the parsed
//! globs and reports the error against the policy's field. Log rotation tools refuse less
//! (logrotate accepts any path), but a cleaner running as root on a database host must not.

use std::path::Path;
use std::time::Duration;

use crate::pattern::{Glob, Part, matches};

/// Never cleaned, whatever the policy says.
const PSEUDO: &[&str] = &["/proc", "/sys", "/dev", "/run"];
/// Cleaned only with `allow_system_paths: true`.
const SYSTEM: &[&str] =
    &["/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/boot", "/var/lib"];

/// The youngest `max_age` a policy may set.
pub const MIN_MAX_AGE: Duration = Duration::from_secs(3600);

/// Checks one `paths` glob; the error says what is refused and how to allow it where allowed.
pub fn check_glob(glob: &Glob, allow_system_paths: bool) -> Result<(), String> {
    let reaches = |dir: &str| reaches(glob, Path::new(dir));
    if glob.root == Path::new("/") {
        return Err("expected a glob below a directory (e.g. /home/admin/oceanbase/log/*.log.*); \
                    a glob at the top level (/*) can reach every file of the host"
            .into());
    }
    if let Some(dir) = PSEUDO.iter().find(|d| reaches(d)) {
        return Err(format!(
            "{dir} is a pseudo or runtime file system (the kernel's and services' live state): \
             the cleaner never acts there"
        ));
    }
    if !allow_system_paths && let Some(dir) = SYSTEM.iter().find(|d| reaches(d)) {
        return Err(format!(
            "{dir} is a system directory: expected a log directory, or `allow_system_paths: \
             true` in this policy if it really must clean there"
        ));
    }
    Ok(())
}

/// `max_age`, when set, is at least [`MIN_MAX_AGE`].
pub fn check_max_age(max_age: Duration) -> Result<(), String> {
    if max_age < MIN_MAX_AGE {
        return Err(format!(
            "expected at least 1h, got {max_age:?}: a younger file may still be written or read"
        ));
    }
    Ok(())
}

/// `max_total_size`, when set, is above 0.
pub fn check_max_total_size(bytes: u64) -> Result<(), String> {
    if bytes == 0 {
        return Err("expected a size above 0 (0 would delete every file the policy matches; \
                    omit it for no size limit)"
            .into());
    }
    Ok(())
}

/// True when the glob can match a file at or below `dir`: its root is `dir` or below it, or
/// its root is above `dir` and its patterns can descend into `dir`.
fn reaches(glob: &Glob, dir: &Path) -> bool {
    if glob.root.starts_with(dir) {
        return true;
    }
    let Ok(rest) = dir.strip_prefix(&glob.root) else { return false };
    let mut parts = glob.components.iter();
    for name in rest.iter() {
        let Some(name) = name.to_str() else { return false };
        match parts.next() {
            // `**` descends anywhere.
            Some(Part::AnyDirs) => return true,
            // The last component names files, so it cannot descend.
            Some(Part::Name(p)) if parts.len() > 0 => {
                if !matches(p, name.as_bytes()) {
                    return false;
                }
            }
            Some(Part::Name(_)) | None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(g: &str) -> Result<(), String> {
        check_glob(&Glob::parse(g).unwrap(), false)
    }

    #[test]
    fn log_directories_are_fine() {
        for g in [
            "/home/admin/oceanbase/log/*.log.*",
            "/home/admin/oceanbase/log/alert/alert.log.*",
            "/u01/app/grid/diag/crs/*/crs/trace/*.tr[cm]",
            "/var/log/obwatch/*.jsonl.*",
            "/data/log1/**/*.log.*",
            // Below /var, but the pattern cannot descend into /var/lib.
            "/var/l?g/*.gz",
        ] {
            assert_eq!(check(g), Ok(()), "{g}");
        }
    }

    #[test]
    fn the_top_level_pseudo_and_system_file_systems_are_refused() {
        for (g, says) in [
            ("/*", "top level"),
            ("/**/*.log", "top level"),
            ("/proc/*", "/proc is a pseudo"),
            ("/proc/1/fd/*", "/proc is a pseudo"),
            ("/sys/kernel/*", "/sys is a pseudo"),
            ("/dev/shm/*", "/dev is a pseudo"),
            ("/run/obwatch/*", "/run is a pseudo"),
            ("/etc/*.conf", "/etc is a system"),
            ("/usr/lib/*.so", "/usr is a system"),
            ("/lib64/*", "/lib64 is a system"),
            ("/boot/vmlinuz-*", "/boot is a system"),
            ("/var/lib/mysql/*.log", "/var/lib is a system"),
            // Rooted above a system directory, with patterns that descend into it.
            ("/var/*/mysql/*.err", "/var/lib is a system"),
            ("/var/**/*.log", "/var/lib is a system"),
        ] {
            let err = check(g).unwrap_err();
            assert!(err.contains(says), "{g}: {err}");
        }
    }

    #[test]
    fn allow_system_paths_opens_system_directories_only() {
        let allow = |g: &str| check_glob(&Glob::parse(g).unwrap(), true);
        assert_eq!(allow("/var/lib/mysql/*.err.*"), Ok(()));
        assert_eq!(allow("/etc/app/*.log"), Ok(()));
        assert!(allow("/proc/*").is_err());
        assert!(allow("/*").is_err());
    }

    #[test]
    fn limits_that_delete_everything_are_refused() {
        assert!(check_max_age(Duration::ZERO).unwrap_err().contains("at least 1h"));
        assert!(check_max_age(Duration::from_secs(3599)).is_err());
        assert_eq!(check_max_age(Duration::from_secs(3600)), Ok(()));
        assert!(check_max_total_size(0).unwrap_err().contains("above 0"));
        assert_eq!(check_max_total_size(1), Ok(()));
    }
}
