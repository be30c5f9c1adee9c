//! The shipped service files and example configs: each example passes its binary's own config
//! validation (the code `--config.file`, `run --config` and `check --config` use), and the
//! units, timer, cron line and examples agree on paths.
#![allow(clippy::unwrap_used)] // test code

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
    assert!(exporter.contains(
        "ExecStart=/usr/local/bin/obwatch-exporter --config.file /etc/obwatch/exporter.yml"
    ));
    assert!(logtailer.contains(
        "ExecStart=/usr/local/bin/obwatch-logtailer run --config /etc/obwatch/logtailer.yml"
    ));
    assert!(cleaner.contains(
        "ExecStart=/usr/local/bin/obwatch-cleaner once --config /etc/obwatch/cleaner.yml"
    ));
    assert!(cron.contains("obwatch-cleaner once --config /etc/obwatch/cleaner.yml"));
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
    assert!(cl.contains("lock_file: /run/lock/") && cleaner.contains("ReadWritePaths=/run/lock"));
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
