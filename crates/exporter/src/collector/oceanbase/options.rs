//! The OceanBase collector's settings: the `oceanbase:` YAML section and the `--ob.*` flags,
//! validated into [`ObOptions`]. The collector is off unless an address is given.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use obwatch_common::client_tls::{ResolvedTls, TlsSettings};
use obwatch_common::config::{ConfigError, HumanDuration, Polling, set_at_least};
use serde::Deserialize;

use crate::collector::option_parts::Origin;

/// Environment variable that may hold the password (ARCHITECTURE.md), so it need not be in a
/// file or on a command line (`ps` shows command lines to every user).
pub const PASSWORD_ENV: &str = "OBWATCH_OB_PASSWORD";

/// The `oceanbase:` section of the exporter's YAML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    address: Option<String>,
    username: Option<String>,
    password_file: Option<PathBuf>,
    database: Option<String>,
    cluster_name: Option<String>,
    cluster_id: Option<u64>,
    interval: Option<HumanDuration>,
    query_timeout: Option<HumanDuration>,
    connect_timeout: Option<HumanDuration>,
    top_sql_limit: Option<usize>,
    #[serde(default)]
    top_sql_text: bool,
    /// `oceanbase.tls`: Prometheus' `tls_config` (`obwatch_common::client_tls`).
    tls: Option<TlsSettings>,
}

/// The `--ob.*` flags; each wins over its YAML key.
#[derive(Debug, Default, clap::Args)]
#[group(skip)]
pub struct Flags {
    /// OceanBase SQL port (HOST:PORT) to read ob_* metrics from; the oceanbase collector is
    /// off without it.
    #[arg(long = "ob.address", value_name = "HOST:PORT")]
    pub address: Option<String>,
    /// OceanBase user (sys tenant). [default: ocp_monitor]
    #[arg(long = "ob.username", value_name = "USER")]
    pub username: Option<String>,
    /// File holding the OceanBase password (else $OBWATCH_OB_PASSWORD).
    #[arg(long = "ob.password-file", value_name = "FILE")]
    pub password_file: Option<PathBuf>,
}

/// A password: kept out of `Debug` output and logs.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "<hidden>" })
    }
}

/// Validated settings of the OceanBase collector.
#[derive(Clone, Debug)]
pub struct ObOptions {
    /// `host:port` of the OBServer's SQL port (2881), or of an OBProxy in front of it.
    pub address: String,
    /// A sys-tenant user that may read the monitoring views (obagent uses `ocp_monitor`).
    pub username: String,
    /// From `password_file` or `OBWATCH_OB_PASSWORD`; empty when neither is set.
    pub password: Secret,
    /// Database the views are read from.
    pub database: String,
    /// `ob_cluster_name` label; read from the server when not given.
    pub cluster_name: Option<String>,
    /// `ob_cluster_id` label; read from the server when not given.
    pub cluster_id: Option<u64>,
    /// How often the queries run (obagent's `ob_basic` pipeline: 15 s).
    pub interval: Duration,
    /// How long one query may take before it is abandoned and marked failed.
    pub query_timeout: Duration,
    /// How long connecting (TCP + handshake + login) may take.
    pub connect_timeout: Duration,
    /// How many statements the top-SQL query reports (0 turns it off).
    pub top_sql_limit: usize,
    /// Add the statement text (cut to 256 bytes) to top-SQL series. Off: SQL text can carry
    /// literals that are personal data.
    pub top_sql_text: bool,
    /// Connect with TLS when set.
    pub tls: Option<ResolvedTls>,
}

impl ObOptions {
    /// Defaults for everything but the address.
    pub fn new(address: impl Into<String>) -> ObOptions {
        ObOptions {
            address: address.into(),
            username: "ocp_monitor".into(),
            password: Secret::default(),
            database: "oceanbase".into(),
            cluster_name: None,
            cluster_id: None,
            interval: Duration::from_secs(15),
            query_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
            top_sql_limit: 20,
            top_sql_text: false,
            tls: None,
        }
    }
}

/// Merges flags over the YAML section and validates. `None` when no address is configured:
/// the collector stays off. `env_password` is the value of [`PASSWORD_ENV`], passed in so
/// tests need not touch the process environment.
pub(crate) fn compile(
    flags: Flags,
    raw: Section,
    at: &Origin,
    env_password: Option<String>,
) -> Result<Option<ObOptions>, ConfigError> {
    let path = at.file;
    let Some(address) =
        at.pick(("--ob.address", flags.address), ("oceanbase.address", raw.address))
    else {
        return Ok(None);
    };
    let Some((host, port)) = address.value.rsplit_once(':') else {
        return Err(address.invalid(format!(
            "expected HOST:PORT (e.g. 127.0.0.1:2881), got {:?}",
            address.value
        )));
    };
    if host.is_empty() || port.parse::<u16>().map_or(true, |p| p == 0) {
        return Err(address
            .invalid(format!("expected HOST:PORT with a port 1-65535, got {:?}", address.value)));
    }
    let mut o = ObOptions::new(address.value);
    if let Some(u) = flags.username.or(raw.username) {
        o.username = u;
    }
    // A relative password file in the YAML is relative to the YAML file.
    let password_file = at.pick(
        ("--ob.password-file", flags.password_file),
        ("oceanbase.password_file", raw.password_file.map(|f| at.base.join(f))),
    );
    o.password = match password_file {
        Some(file) => {
            let text = std::fs::read_to_string(&file.value)
                .map_err(|e| file.invalid(format!("cannot read {}: {e}", file.value.display())))?;
            // A trailing newline is an editor's, not part of the password.
            Secret(text.trim_end_matches(['\n', '\r']).to_string())
        }
        None => Secret(env_password.unwrap_or_default()),
    };
    if let Some(d) = raw.database {
        if d.is_empty() || !d.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(ConfigError::invalid(
                path,
                "oceanbase.database",
                format!("expected a database name of letters, digits and '_', got {d:?}"),
            ));
        }
        o.database = d;
    }
    o.cluster_name = raw.cluster_name;
    o.cluster_id = raw.cluster_id;
    let polling = Polling::from_yaml(
        path,
        ("oceanbase", "query_timeout"),
        (raw.interval, raw.query_timeout),
        Polling { interval: o.interval, timeout: o.query_timeout },
    )?;
    (o.interval, o.query_timeout) = (polling.interval, polling.timeout);
    let min = Duration::from_millis(100);
    set_at_least(
        path,
        "oceanbase.connect_timeout",
        raw.connect_timeout,
        min,
        &mut o.connect_timeout,
    )?;
    if let Some(n) = raw.top_sql_limit {
        if n > 1000 {
            return Err(ConfigError::invalid(
                path,
                "oceanbase.top_sql_limit",
                format!("expected 0..=1000 statements, got {n}"),
            ));
        }
        o.top_sql_limit = n;
    }
    o.top_sql_text = raw.top_sql_text;
    o.tls = raw.tls.map(|t| t.resolve(path, "oceanbase.tls")).transpose()?;
    Ok(Some(o))
}

#[cfg(test)]
mod tests {
    use super::*;
    use obwatch_common::config::parse_yaml;
    use std::path::Path;

    fn compile_yaml(
        yaml: &str,
        flags: Flags,
        env: Option<&str>,
    ) -> Result<Option<ObOptions>, String> {
        let path = Path::new("/etc/obwatch/exporter.yml");
        let raw: Section = parse_yaml(path, yaml).map_err(|e| e.to_string())?;
        let at = Origin { file: path, base: Path::new("/etc/obwatch") };
        compile(flags, raw, &at, env.map(String::from)).map_err(|e| e.to_string())
    }

    #[test]
    fn off_without_an_address() {
        assert!(compile_yaml("username: x", Flags::default(), None).unwrap().is_none());
    }

    #[test]
    fn three_lines_are_enough_and_flags_win() {
        let dir = tempfile::tempdir().unwrap();
        let pw = dir.path().join("pw");
        std::fs::write(&pw, "s3cret\n").unwrap();
        let yaml = format!(
            "address: 127.0.0.1:2881\nusername: monitor\npassword_file: {}\n",
            pw.display()
        );
        let o = compile_yaml(&yaml, Flags::default(), Some("env")).unwrap().unwrap();
        assert_eq!((o.address.as_str(), o.username.as_str()), ("127.0.0.1:2881", "monitor"));
        assert_eq!(o.password, Secret("s3cret".into()));
        assert_eq!(o.interval, Duration::from_secs(15));
        assert!(!format!("{o:?}").contains("s3cret"), "the password never shows in Debug");

        let flags = Flags { address: Some("10.0.0.1:2883".into()), ..Flags::default() };
        let o =
            compile_yaml("address: 127.0.0.1:2881\n", flags, Some("from-env")).unwrap().unwrap();
        assert_eq!((o.address.as_str(), o.username.as_str()), ("10.0.0.1:2883", "ocp_monitor"));
        assert_eq!(o.password, Secret("from-env".into()));
    }

    #[test]
    fn bad_values_name_the_field() {
        let cases = [
            ("address: localhost", "field `oceanbase.address`: expected HOST:PORT"),
            ("address: 'h:0'", "port 1-65535"),
            (
                "address: h:1\ninterval: 10ms",
                "field `oceanbase.interval`: expected a duration of at least 100ms",
            ),
            (
                "address: h:1\ninterval: 5s\nquery_timeout: 6s",
                "field `oceanbase.query_timeout`: expected at most",
            ),
            ("address: h:1\ntop_sql_limit: 5000", "field `oceanbase.top_sql_limit`"),
            ("address: h:1\ndatabase: 'a;b'", "field `oceanbase.database`"),
            (
                "address: h:1\npassword_file: /nonexistent/pw",
                "field `oceanbase.password_file`: cannot read /nonexistent/pw",
            ),
            ("address: h:1\nadress: x", "unknown field `adress`"),
            (
                "address: h:1\ntls: {ca_file: /nonexistent/ca.pem}",
                "field `oceanbase.tls.ca_file`: cannot read /nonexistent/ca.pem",
            ),
            ("address: h:1\ntls: {cafile: x}", "unknown field `cafile`"),
        ];
        for (yaml, want) in cases {
            let e = compile_yaml(yaml, Flags::default(), None).unwrap_err();
            assert!(e.contains(want), "{yaml:?}: {e}");
            assert!(e.starts_with("/etc/obwatch/exporter.yml"), "{e}");
        }
    }
}
