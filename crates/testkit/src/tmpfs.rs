//! A tmpfs mounted for a test's lifetime: a real small filesystem to fill up or make read-only.
//! Needs root; where mounting is refused for lack of permission, [`Tmpfs::mount`] says so and
//! returns `None` (any other failure fails the test).

use std::path::{Path, PathBuf};
use std::process::Command;

/// A mounted tmpfs, unmounted on drop.
#[derive(Debug)]
pub struct Tmpfs(PathBuf);

impl Tmpfs {
    /// Mounts a tmpfs of `size` (`1m`, `256k`) on `dir`.
    pub fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .unwrap();
        if out.status.success() {
            return Some(Tmpfs(dir.to_path_buf()));
        }
        let err = String::from_utf8_lossy(&out.stderr);
        let denied = ["permission denied", "must be superuser", "only root", "not permitted"];
        assert!(
            denied.iter().any(|d| err.to_lowercase().contains(d)),
            "mount -t tmpfs failed for another reason than permission: {err}"
        );
        eprintln!("SKIPPED: mounting a tmpfs is not permitted here ({}).", err.trim());
        None
    }

    /// Remounts it read-only.
    pub fn remount_read_only(&self) {
        let st = Command::new("mount").args(["-o", "remount,ro"]).arg(&self.0).status().unwrap();
        assert!(st.success(), "remount read-only {}", self.0.display());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let ok = Command::new("umount").arg(&self.0).status().is_ok_and(|s| s.success());
        if !ok {
            let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }
}
