//! A fake Oracle Grid home (Clusterware cannot run here): found the way the exporter finds a
//! real one, through `etc/oracle/olr.loc` under `--path.rootfs`, with `crsctl` and `olsnodes`
//! scripts that print the documented formats the caller gives.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Writes `text` to `path` as an executable script.
pub fn write_exec(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Makes `ROOT/grid` a Grid home named by `ROOT/etc/oracle/olr.loc`, with these `crsctl` and
/// `olsnodes` scripts and an `ohasd` (what marks an 11.2+ home). Returns the home.
pub fn fake_grid_home(root: &Path, crsctl: &str, olsnodes: &str) -> PathBuf {
    std::fs::create_dir_all(root.join("etc/oracle")).unwrap();
    std::fs::write(
        root.join("etc/oracle/olr.loc"),
        "olrconfig_loc=/grid/cdata/rac1.olr\ncrs_home=/grid\n",
    )
    .unwrap();
    let home = root.join("grid");
    let bin = home.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    write_exec(&bin.join("crsctl"), crsctl);
    write_exec(&bin.join("olsnodes"), olsnodes);
    write_exec(&bin.join("ohasd"), "#!/bin/sh\n");
    home
}
