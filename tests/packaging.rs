//! The shipped service files and example configs: each example passes its binary's own config
//! validation (the code `--config.file`, `run --config.file` and `check --config.file` use), the units,
//! timer, cron line and examples agree on paths, and systemd's own tools accept the units.
#![allow(clippy::disallowed_methods, clippy::unwrap_used)] // test code

use obwatch_e2e::surface::repo_root;

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo_root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn example_configs_pass_validation() {
    let root = repo_root().join("packaging/examples");
    let exporter = root.join("exporter.yml");
    let argv = ["obwatch-exporter", "--config.file", exporter.to_str().unwrap()];
    if let Err(e) = obwatch_exporter::Config::load(argv) {
        panic!("packaging/examples/exporter.yml: {e}");
    }
    if let Err(e) = obwatch_logtailer::config::Config::load(&root.join("logtailer.yml")) {
        panic!("packaging/examples/logtailer.yml: {e}");
    }
    if let Err(e) = obwatch_cleaner::Config::load(&root.join("cleaner.yml")) {
        panic!("packaging/examples/cleaner.yml: {e}");
    }
}

#[test]
fn units_and_examples_agree_on_paths() {
    let exporter = read("packaging/systemd/obwatch-exporter.service");
    let logtailer = read("packaging/systemd/obwatch-logtailer.service");
    let cleaner = read("packaging/systemd/obwatch-cleaner.service");
    let timer = read("packaging/systemd/obwatch-cleaner.timer");
    let cron = read("packaging/cron/obwatch-cleaner");
    // The units start the binaries on the example configs' install paths.
    assert!(
        exporter.contains(
            "ExecStart=/usr/bin/obwatch-exporter --config.file /etc/obwatch/exporter.yml"
        )
    );
    assert!(logtailer.contains(
        "ExecStart=/usr/bin/obwatch-logtailer run --config.file /etc/obwatch/logtailer.yml"
    ));
    assert!(cleaner.contains(
        "ExecStart=/usr/bin/obwatch-cleaner once --config.file /etc/obwatch/cleaner.yml"
    ));
    assert!(cron.contains("obwatch-cleaner once --config.file /etc/obwatch/cleaner.yml"));
    assert!(cleaner.contains("Type=oneshot") && timer.contains("OnUnitActiveSec="));
    // Hardening every unit has.
    for (name, unit) in [("exporter", &exporter), ("logtailer", &logtailer), ("cleaner", &cleaner)]
    {
        for line in ["ProtectSystem=strict", "NoNewPrivileges=yes", "CapabilityBoundingSet="] {
            assert!(unit.contains(line), "obwatch-{name}.service lacks {line}");
        }
    }
    // The cleaner writes its metrics where the exporter reads them, into its StateDirectory.
    let ex = read("packaging/examples/exporter.yml");
    let cl = read("packaging/examples/cleaner.yml");
    assert!(ex.contains("textfile_directories: [/var/lib/obwatch/textfile]"));
    assert!(cl.contains("textfile: /var/lib/obwatch/textfile/cleaner.prom"));
    assert!(cleaner.contains("StateDirectory=obwatch/textfile"));
    // The audit log and the lock file are in writable places.
    assert!(
        cl.contains("audit_log: /var/log/obwatch/") && cleaner.contains("LogsDirectory=obwatch")
    );
    assert!(
        cl.contains("lock_file: /run/obwatch/cleaner.lock")
            && cleaner.contains("RuntimeDirectory=obwatch")
    );
    // Every directory a cleaner policy cleans is writable for the unit.
    for dir in ["/home/admin/oceanbase/log", "/u01/app/grid/diag/crs"] {
        assert!(cl.contains(dir), "cleaner.yml no longer cleans {dir}: update ReadWritePaths=");
        assert!(
            cleaner.contains(&format!("ReadWritePaths=-{dir}")),
            "obwatch-cleaner.service: {dir} not writable"
        );
    }
    // The logtailer's state_dir is its StateDirectory.
    let lt = read("packaging/examples/logtailer.yml");
    assert!(
        lt.contains("state_dir: /var/lib/obwatch/logtailer")
            && logtailer.contains("StateDirectory=obwatch/logtailer")
    );
}

/// systemd's own checks of the units (systemd cannot run here as PID 1; these read the files):
/// `systemd-analyze verify` knows and parses every key (an unknown or misspelled one prints a
/// warning, so any output fails), and `systemd-analyze security --offline` scores each unit's
/// hardening no worse than it is today (exposure 0-10, lower is better; the threshold is x10).
#[test]
fn units_pass_systemd_analyze() {
    let dir = tempfile::tempdir().unwrap();
    // verify wants ExecStart= executable: stand-ins at a temp path, as the binaries are not
    // installed in /usr/bin on a test machine.
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    for b in ["obwatch-exporter", "obwatch-logtailer", "obwatch-cleaner"] {
        let path = bin.join(b);
        std::fs::write(&path, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
    }
    let units =
        ["obwatch-exporter.service", "obwatch-logtailer.service", "obwatch-cleaner.service"];
    let mut paths = Vec::new();
    for name in units.iter().chain(&["obwatch-cleaner.timer"]) {
        let text = read(&format!("packaging/systemd/{name}"))
            .replace("/usr/bin/", &format!("{}/", bin.display()));
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        paths.push(path);
    }
    let out = std::process::Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .args(&paths)
        .output()
        .expect("systemd-analyze (Debian package systemd) runs");
    let said =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && said.trim().is_empty(), "systemd-analyze verify:\n{said}");

    for (unit, max_exposure_x10) in units.iter().zip([45, 25, 30]) {
        let out = std::process::Command::new("systemd-analyze")
            .args(["security", "--offline=true", &format!("--threshold={max_exposure_x10}")])
            .arg(dir.path().join(unit))
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout);
        let level = said.lines().find(|l| l.contains("Overall exposure level")).unwrap_or("");
        assert!(
            out.status.success(),
            "{unit}: exposure above {}: {level}\n{said}",
            max_exposure_x10 as f64 / 10.0
        );
    }
}

/// The README stays a first screen (what it is, install, point Prometheus at it, where to read
/// more) and every page it links exists; the manuals live in docs/.
#[test]
fn readme_is_short_and_its_links_resolve() {
    let readme = read("README.md");
    assert!(readme.lines().count() <= 200, "README.md has {} lines", readme.lines().count());
    let mut links = 0;
    for part in readme.split("](").skip(1) {
        let target = part.split(')').next().unwrap();
        if target.starts_with("http") {
            continue;
        }
        links += 1;
        assert!(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(target).exists(),
            "README links to {target}, which does not exist"
        );
    }
    assert!(links >= 8, "{links} links to docs");
}
