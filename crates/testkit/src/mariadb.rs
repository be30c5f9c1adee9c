//! A real MariaDB server in a temp dir, standing in for OceanBase's MySQL protocol: loaded with
//! a fixture that has OceanBase's view names and columns, and reporting an OceanBase
//! `version()` through MariaDB's `--version` option.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::net::{free_port, poll};
use crate::{Proc, peer};

/// The monitoring user the fixture creates, with SELECT and EXECUTE on `oceanbase.*`.
pub const MONITOR_USER: &str = "ocp_monitor";
/// Its password.
pub const MONITOR_PASSWORD: &str = "monitor-pw";
/// `version()` of an OceanBase 4.x server (MariaDB's `--version` answers it).
pub const OB4_VERSION: &str = "5.7.25-OceanBase_CE-v4.2.1.0";
/// `version()` of an OceanBase 3.x server.
pub const OB3_VERSION: &str = "5.7.25-OceanBase-v3.2.4.1";
/// A user that can log in but read only the server list and the parameter view.
pub const LIMITED_USER: &str = "limited";
/// A user that can read every view but the parameter view (`GV$OB_PARAMETERS`,
/// `__all_virtual_sys_parameter_stat`): what a monitor user without that one grant sees.
pub const NO_PARAMS_USER: &str = "no_params";

/// A running server; killed when dropped.
#[derive(Debug)]
pub struct MariaDb {
    /// TCP port on 127.0.0.1.
    pub port: u16,
    dir: tempfile::TempDir,
    proc: Option<Proc>,
}

impl MariaDb {
    /// Starts a server answering `version()` with `version` (MariaDB's own when `None`) and
    /// loads `fixture` (`ob3.sql` or `ob4.sql` of this crate's `fixtures/oceanbase`) when given.
    pub fn start(version: Option<&str>, fixture: Option<&str>) -> MariaDb {
        Self::start_with(version, fixture, &[])
    }

    /// As [`MariaDb::start`], with more server options (TLS, ...).
    pub fn start_with(version: Option<&str>, fixture: Option<&str>, extra: &[&str]) -> MariaDb {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        // Each server its own tmpdir: concurrent bootstraps sharing /tmp collide on
        // temporary table names.
        let tmp = dir.path().join("tmp");
        std::fs::create_dir(&tmp).unwrap();
        let tmpdir = format!("--tmpdir={}", tmp.display());
        let install = Command::new(peer("mariadb-install-db"))
            .args(["--no-defaults", "--auth-root-authentication-method=normal", "--skip-test-db"])
            .args(["--user=root", "--lower-case-table-names=1"])
            .arg(format!("--datadir={}", data.display()))
            .arg(&tmpdir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert!(
            install.status.success(),
            "mariadb-install-db: {}",
            String::from_utf8_lossy(&install.stderr)
        );
        let mut args = vec![
            "--no-defaults".to_string(),
            format!("--datadir={}", data.display()),
            format!("--socket={}", dir.path().join("sock").display()),
            "--bind-address=127.0.0.1".into(),
            "--user=root".into(),
            tmpdir.clone(),
            "--lower-case-table-names=1".into(),
            "--skip-log-bin".into(),
            "--innodb-buffer-pool-size=16M".into(),
            format!("--pid-file={}", dir.path().join("pid").display()),
        ];
        if let Some(v) = version {
            args.push(format!("--version={v}"));
        }
        args.extend(extra.iter().map(|a| a.to_string()));
        let mut db = MariaDb { port: 0, dir, proc: None };
        // mariadbd cannot bind port 0 (`--port=0` means 3306): probe a free port, and should
        // another process take it first (mariadbd then exits: "Bind on TCP/IP port ...
        // Address already in use"), try another.
        for attempt in 1..=3 {
            db.port = free_port();
            let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
            let port_arg = format!("--port={}", db.port);
            args.push(&port_arg);
            let log = db.dir.path().join("mariadbd.log");
            db.proc = Some(Proc::start(&peer("mariadbd"), &args, &log));
            match db.wait_ready() {
                Ok(()) => break,
                Err(log) if attempt < 3 && log.contains("Address already in use") => continue,
                Err(log) => panic!("mariadbd exited: {log}"),
            }
        }
        if let Some(f) = fixture {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/oceanbase").join(f);
            db.sql(&std::fs::read_to_string(path).unwrap());
            // The limited user may read the server list and the parameters, nothing else.
            let identity = if f.starts_with("ob4") {
                ["dba_ob_servers", "`gv$ob_parameters`"]
            } else {
                ["__all_server", "__all_virtual_sys_parameter_stat"]
            };
            let params = identity[1].trim_matches('`');
            let others = db.query(&format!(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'oceanbase' AND LOWER(table_name) <> '{params}'"
            ));
            let grants: String = others
                .lines()
                .map(|t| format!("GRANT SELECT ON oceanbase.`{t}` TO {NO_PARAMS_USER}@'%';\n"))
                .collect();
            db.sql(&format!(
                "CREATE USER {MONITOR_USER}@'%' IDENTIFIED BY '{MONITOR_PASSWORD}';
                 GRANT SELECT, EXECUTE ON oceanbase.* TO {MONITOR_USER}@'%';
                 CREATE USER {LIMITED_USER}@'%' IDENTIFIED BY '{MONITOR_PASSWORD}';
                 GRANT EXECUTE ON oceanbase.* TO {LIMITED_USER}@'%';
                 GRANT SELECT ON oceanbase.{} TO {LIMITED_USER}@'%';
                 GRANT SELECT ON oceanbase.{} TO {LIMITED_USER}@'%';
                 CREATE USER {NO_PARAMS_USER}@'%' IDENTIFIED BY '{MONITOR_PASSWORD}';
                 GRANT EXECUTE ON oceanbase.* TO {NO_PARAMS_USER}@'%';
                 {grants}",
                identity[0], identity[1]
            ));
        }
        db
    }

    /// Waits until the server answers on its socket (it takes about a second); its log when it
    /// exits first.
    fn wait_ready(&mut self) -> Result<(), String> {
        let ready = poll(Duration::from_secs(30), || {
            let ok = Command::new(peer("mariadb-admin"))
                .args(["--no-defaults", "-uroot", "-S"])
                .arg(self.socket())
                .arg("ping")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .unwrap()
                .success();
            let exited = self.proc.as_mut().and_then(|p| p.0.try_wait().unwrap());
            match exited {
                Some(_) => Some(Err(self.log())),
                None => ok.then_some(Ok(())),
            }
        });
        ready.unwrap_or_else(|| panic!("mariadbd not ready in 30 s: {}", self.log()))
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("sock")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("mariadbd.log")).unwrap_or_default()
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
        use std::io::Write;
        child.stdin.take().unwrap().write_all(statements.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "mariadb: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Runs one query as root and returns its output (tab-separated, no header).
    pub fn query(&self, sql: &str) -> String {
        let out = Command::new(peer("mariadb"))
            .args(["--no-defaults", "-uroot", "-N", "-B", "-S"])
            .arg(self.socket())
            .args(["-e", sql])
            .output()
            .unwrap();
        assert!(out.status.success(), "mariadb: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    /// Kills the server (SIGKILL), as a crash or a pulled cable would look to a client.
    pub fn kill(&mut self) {
        self.proc.take();
    }

    /// `127.0.0.1:PORT`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}
