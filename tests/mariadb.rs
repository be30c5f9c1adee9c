//! A real MariaDB in a temp dir standing in for an OBServer's MySQL protocol: it answers
//! `version()` like OceanBase (MariaDB's `--version` option) and is loaded with one of the
//! exporter's OceanBase view fixtures (`crates/exporter/tests/fixtures/oceanbase/`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::{Proc, free_port, peer, start, wait_for};

/// The monitoring user the fixture gets, with SELECT and EXECUTE on `oceanbase.*`.
pub const MONITOR_USER: &str = "ocp_monitor";
/// Its password.
pub const MONITOR_PASSWORD: &str = "monitor-pw";
/// `version()` of an OceanBase 4.x server.
pub const OB4_VERSION: &str = "5.7.25-OceanBase_CE-v4.2.1.0";
/// `version()` of an OceanBase 3.x server.
pub const OB3_VERSION: &str = "5.7.25-OceanBase-v3.2.4.1";

/// A running server, killed when dropped (its temp dir removed).
#[derive(Debug)]
pub struct MariaDb {
    /// TCP port on 127.0.0.1.
    pub port: u16,
    _proc: Proc,
    dir: tempfile::TempDir,
}

impl MariaDb {
    /// Starts a server answering `version()` with `version` and loads `fixture` (a file name
    /// under the exporter's OceanBase fixtures), with the monitoring user.
    pub fn start_oceanbase(version: &str, fixture: &str) -> MariaDb {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        // Its own tmpdir: concurrent bootstraps sharing /tmp collide on temporary tables.
        let tmp = dir.path().join("tmp");
        std::fs::create_dir(&tmp).unwrap();
        let tmpdir = format!("--tmpdir={}", tmp.display());
        let install = Command::new(peer("mariadb-install-db"))
            .args(["--no-defaults", "--auth-root-authentication-method=normal", "--skip-test-db"])
            .args(["--user=root", "--lower-case-table-names=1", &tmpdir])
            .arg(format!("--datadir={}", data.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert!(
            install.status.success(),
            "mariadb-install-db: {}",
            String::from_utf8_lossy(&install.stderr)
        );
        let port = free_port();
        let args = [
            "--no-defaults".to_string(),
            format!("--datadir={}", data.display()),
            format!("--socket={}", dir.path().join("sock").display()),
            format!("--port={port}"),
            "--bind-address=127.0.0.1".into(),
            "--user=root".into(),
            tmpdir,
            "--lower-case-table-names=1".into(),
            "--skip-log-bin".into(),
            "--innodb-buffer-pool-size=16M".into(),
            format!("--pid-file={}", dir.path().join("pid").display()),
            format!("--version={version}"),
        ];
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let proc = start(&peer("mariadbd"), &args, &dir.path().join("mariadbd.log"));
        let db = MariaDb { port, _proc: proc, dir };
        wait_for("mariadbd to answer on its socket", Duration::from_secs(30), || {
            db.ping().then_some(())
        });
        let path = fixtures().join(fixture);
        db.sql(
            &std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
        );
        db.sql(&format!(
            "CREATE USER {MONITOR_USER}@'%' IDENTIFIED BY '{MONITOR_PASSWORD}';
             GRANT SELECT, EXECUTE ON oceanbase.* TO {MONITOR_USER}@'%';"
        ));
        db
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("sock")
    }

    fn ping(&self) -> bool {
        Command::new(peer("mariadb-admin"))
            .args(["--no-defaults", "-uroot", "-S"])
            .arg(self.socket())
            .arg("ping")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Runs SQL statements as root; panics with the client's message on failure.
    pub fn sql(&self, statements: &str) {
        let mut child = Command::new(peer("mariadb"))
            .args(["--no-defaults", "-uroot", "-S"])
            .arg(self.socket())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(statements.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "mariadb: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// `127.0.0.1:PORT`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

/// The exporter's OceanBase view fixtures.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/exporter/tests/fixtures/oceanbase")
}
