//! One MySQL-protocol connection to the OBServer and what it learned about the server: version
//! and `svr_ip`/`svr_port` when it connected, zone and cluster from the lookups. Every statement runs under a
//! timeout; a statement that times out costs its connection (the next statement reconnects
//! and kills the old session, so the server never runs more than one of our statements).

use std::net::IpAddr;
use std::time::Duration;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder, Row, SslOpts, Value};

use super::catalogue::{self, Table};
use obwatch_common::client_tls::ResolvedTls;
use obwatch_common::tls::Pem;

use super::options::ObOptions;
use super::version::{self, ObVersion};

/// Why a statement or connection failed, sorted into what a DBA has to fix.
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    /// No answer: refused, unreachable, reset, or no reply within the timeout.
    #[error("{address}: cannot connect: {reason}")]
    Unreachable {
        /// The configured address.
        address: String,
        /// The OS or driver error.
        reason: String,
    },
    /// The server refused the user or password (MySQL error 1045).
    #[error("{address}: login refused for user {user:?}: {message}")]
    AuthFailed {
        /// The configured address.
        address: String,
        /// The configured user.
        user: String,
        /// The server's message.
        message: String,
    },
    /// The server insists on TLS, which this collector does not speak.
    #[error(
        "{address}: the server requires TLS, which the OceanBase collector does not support: {message}"
    )]
    TlsRequired {
        /// The configured address.
        address: String,
        /// The server's message.
        message: String,
    },
    /// The server answered but is not OceanBase (`version_comment` and `version()` say so).
    #[error("{address}: not an OceanBase server (version() = {version:?})")]
    NotOceanBase {
        /// The configured address.
        address: String,
        /// What `version()` returned.
        version: String,
    },
    /// A statement ran longer than `query_timeout`.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The server rejected the statement (missing view, missing grant, ...).
    #[error("server error {code}: {message}")]
    Server {
        /// MySQL error code (1146: no such table or view; 1142/1044: no grant).
        code: u16,
        /// The server's message.
        message: String,
    },
    /// The connection broke while a statement ran, or the reply could not be read.
    #[error("connection lost: {0}")]
    Connection(String),
    /// The server answered with something this collector cannot use.
    #[error("unexpected answer: {0}")]
    Unexpected(String),
}

impl SqlError {
    /// The `state` label of `obwatch_ob_state` this error puts the collector in.
    pub fn state(&self) -> &'static str {
        match self {
            SqlError::Unreachable { .. } | SqlError::Timeout(_) | SqlError::Connection(_) => {
                "unreachable"
            }
            SqlError::AuthFailed { .. } => "auth_failed",
            SqlError::TlsRequired { .. } => "tls_required",
            SqlError::NotOceanBase { .. } => "not_oceanbase",
            SqlError::Server { .. } | SqlError::Unexpected(_) => "error",
        }
    }

    /// True when the connection cannot be used after this error.
    pub fn breaks_connection(&self) -> bool {
        !matches!(self, SqlError::Server { .. } | SqlError::Unexpected(_))
    }

    fn from_driver(e: mysql_async::Error) -> SqlError {
        match e {
            mysql_async::Error::Server(s) => SqlError::Server { code: s.code, message: s.message },
            other => SqlError::Connection(other.to_string()),
        }
    }
}

/// What the collector labels every series with, learned from the server.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    /// The server's release.
    pub version: Option<ObVersion>,
    /// `host_ip()`: the address the cluster knows this server by.
    pub svr_ip: String,
    /// `rpc_port()`: the server's RPC port (2882), which with the IP names the server.
    pub svr_port: u16,
    /// `obzone`.
    pub zone: String,
    /// `ob_cluster_name`.
    pub cluster_name: String,
    /// `ob_cluster_id`.
    pub cluster_id: String,
}

impl Identity {
    /// 3 or 4, the catalogue to use.
    pub fn major(&self) -> u32 {
        self.version.map_or(0, |v| v.major)
    }

    /// `sql` with `{svr_ip}` and `{svr_port}` filled in. Both come from the server and are
    /// checked to be an IP address and a number when learned, so this cannot inject SQL.
    pub fn bind(&self, sql: &str) -> String {
        sql.replace("{svr_ip}", &self.svr_ip).replace("{svr_port}", &self.svr_port.to_string())
    }
}

/// A live connection.
#[derive(Debug)]
pub struct Session {
    conn: Conn,
}

impl Session {
    /// Connects and logs in within `connect_timeout`. A refused plain login is retried once
    /// over TLS without checking the certificate, only to tell "requires TLS" from "wrong
    /// password": MariaDB's `require_secure_transport` answers a plain login with the same
    /// 1045 as a bad password.
    pub async fn connect(o: &ObOptions) -> Result<Session, SqlError> {
        match Self::connect_with(o, o.tls.as_ref().map(ssl_opts)).await {
            Err(SqlError::AuthFailed { message, .. }) if o.tls.is_none() => {
                let probe = SslOpts::default()
                    .with_danger_accept_invalid_certs(true)
                    .with_danger_skip_domain_validation(true);
                match Self::connect_with(o, Some(probe)).await {
                    Ok(s) => {
                        s.close().await;
                        Err(SqlError::TlsRequired { address: o.address.clone(), message })
                    }
                    Err(_) => Err(SqlError::AuthFailed {
                        address: o.address.clone(),
                        user: o.username.clone(),
                        message,
                    }),
                }
            }
            other => other,
        }
    }

    async fn connect_with(o: &ObOptions, ssl: Option<SslOpts>) -> Result<Session, SqlError> {
        let (host, port) = o.address.rsplit_once(':').unwrap_or((&o.address, "2881"));
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let opts = OptsBuilder::default()
            .ip_or_hostname(host)
            .tcp_port(port.parse().unwrap_or(2881))
            .user(Some(&o.username))
            .pass(Some(&o.password.0))
            .db_name(Some(&o.database))
            // The driver would otherwise switch to the server's unix socket when connecting
            // to localhost; stay on the configured address.
            .prefer_socket(false)
            .stmt_cache_size(0)
            .ssl_opts(ssl);
        let unreachable =
            |reason: String| SqlError::Unreachable { address: o.address.clone(), reason };
        match tokio::time::timeout(o.connect_timeout, Conn::new(opts)).await {
            Err(_) => Err(unreachable(format!("no answer within {:?}", o.connect_timeout))),
            Ok(Ok(conn)) => Ok(Session { conn }),
            Ok(Err(mysql_async::Error::Server(s))) => Err(classify_login(o, s.code, s.message)),
            Ok(Err(e)) => Err(unreachable(e.to_string())),
        }
    }

    /// The server's session id (what `KILL` takes).
    pub fn id(&self) -> u32 {
        self.conn.id()
    }

    /// Runs `sql` under `timeout` and returns its rows.
    pub async fn query(&mut self, sql: &str, timeout: Duration) -> Result<Vec<Row>, SqlError> {
        match tokio::time::timeout(timeout, self.conn.query::<Row, _>(sql)).await {
            Err(_) => Err(SqlError::Timeout(timeout)),
            Ok(r) => r.map_err(SqlError::from_driver),
        }
    }

    /// Ends a session left running by a timed-out statement (best effort).
    pub async fn kill(&mut self, id: u32, timeout: Duration) {
        if let Err(e) = self.query(&format!("KILL {id}"), timeout).await {
            tracing::debug!(session = id, error = %e, "Could not kill an abandoned session.");
        }
    }

    /// Learns what the server is and where it is (version, `host_ip()`, `rpc_port()`): what
    /// every other query needs. `NotOceanBase` when neither `version_comment` nor `version()`
    /// names OceanBase. The labels that only describe it (cluster, zone) are the poller's
    /// lookups, which may fail alone.
    pub async fn identify(&mut self, o: &ObOptions) -> Result<Identity, SqlError> {
        let t = o.query_timeout;
        let mut id = Identity::default();
        let rows = self.query("SHOW VARIABLES LIKE 'version_comment'", t).await?;
        id.version =
            rows.first().and_then(|r| text(r, 1)).and_then(|c| version::from_version_comment(&c));
        if id.version.is_none() {
            let rows = self.query("SELECT version()", t).await?;
            let v = rows.first().and_then(|r| text(r, 0)).unwrap_or_default();
            id.version = version::from_version_fn(&v);
            if id.version.is_none() {
                return Err(SqlError::NotOceanBase { address: o.address.clone(), version: v });
            }
        }
        let rows = self.query("SELECT host_ip(), rpc_port()", t).await?;
        let row = rows.first().ok_or_else(|| SqlError::Unexpected("host_ip(): no row".into()))?;
        let ip = text(row, 0).unwrap_or_default();
        id.svr_ip = ip
            .parse::<IpAddr>()
            .map_err(|_| SqlError::Unexpected(format!("host_ip() = {ip:?} is not an IP address")))?
            .to_string();
        let port = text(row, 1).unwrap_or_default();
        id.svr_port = port
            .parse()
            .map_err(|_| SqlError::Unexpected(format!("rpc_port() = {port:?} is not a port")))?;
        // Configured labels; the cluster lookup (the poller's) fills what is not configured.
        if let Some(n) = &o.cluster_name {
            id.cluster_name = n.clone();
        }
        if let Some(n) = o.cluster_id {
            id.cluster_id = n.to_string();
        }
        Ok(id)
    }

    /// `cluster` and `cluster_id` of this server from `view` (`GV$OB_PARAMETERS` on 4.x,
    /// `__all_virtual_sys_parameter_stat` on 3.x); empty when the view lacks a row.
    pub async fn cluster_parameters(
        &mut self,
        id: &Identity,
        view: &str,
        timeout: Duration,
    ) -> Result<(String, String), SqlError> {
        let sql = id.bind(&format!(
            "SELECT name, value FROM {view} WHERE svr_ip = '{{svr_ip}}' AND svr_port = {{svr_port}} AND name IN ('cluster', 'cluster_id')"
        ));
        let (mut name, mut cluster_id) = (String::new(), String::new());
        for row in self.query(&sql, timeout).await? {
            match (text(&row, 0).as_deref(), text(&row, 1)) {
                (Some("cluster"), Some(v)) => name = v,
                (Some("cluster_id"), Some(v)) => cluster_id = v,
                _ => {}
            }
        }
        Ok((name, cluster_id))
    }

    /// Whether this server hosts RootService; updates `id.zone` on the way.
    pub async fn role(&mut self, id: &mut Identity, timeout: Duration) -> Result<bool, SqlError> {
        let sql = id.bind(catalogue::SERVER_ROLE_SQL[usize::from(id.major() >= 4)]);
        let rows = self.query(&sql, timeout).await?;
        let row = rows.first().ok_or_else(|| {
            SqlError::Unexpected(format!("{}:{} is not in the server list", id.svr_ip, id.svr_port))
        })?;
        if let Some(zone) = text(row, 1) {
            id.zone = zone;
        }
        // 3.x says 1/0, 4.x says YES/NO.
        Ok(text(row, 0).is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("YES")))
    }

    /// Closes the connection politely.
    pub async fn close(self) {
        let _ = tokio::time::timeout(Duration::from_secs(1), self.conn.disconnect()).await;
    }
}

/// mysql_async's options for `oceanbase.tls` (Prometheus' `tls_config` names): the CA to
/// trust, the client certificate and key, the name to verify instead of the address's host.
fn ssl_opts(t: &ResolvedTls) -> SslOpts {
    // A file mysql_async reads, or the text (its `PathOrBuf` is not exported, only the
    // conversions into it).
    macro_rules! pem {
        ($p:expr) => {
            match $p {
                Pem::File(path) => path.clone().into(),
                Pem::Inline(text) => text.clone().into_bytes().into(),
            }
        };
    }
    let identity =
        t.identity.as_ref().map(|(c, k)| mysql_async::ClientIdentity::new(pem!(c), pem!(k)));
    SslOpts::default()
        .with_root_certs(t.ca.iter().map(|ca| pem!(ca)).collect())
        .with_client_identity(identity)
        .with_danger_tls_hostname_override(t.server_name.clone())
        .with_danger_accept_invalid_certs(t.insecure_skip_verify)
}

/// Sorts a login error: 1045 is a refused login, unless the message says TLS is required
/// (MySQL 5.7/MariaDB report `REQUIRE SSL` users as 1045; 3159 is `require_secure_transport`).
fn classify_login(o: &ObOptions, code: u16, message: String) -> SqlError {
    let lower = message.to_ascii_lowercase();
    if code == 3159 || lower.contains("secure transport") || lower.contains("ssl") {
        SqlError::TlsRequired { address: o.address.clone(), message }
    } else if code == 1045 || code == 1044 {
        SqlError::AuthFailed { address: o.address.clone(), user: o.username.clone(), message }
    } else {
        SqlError::Server { code, message }
    }
}

/// Copies rows from the driver into the catalogue's driver-free [`Table`].
pub fn table(rows: &[Row]) -> Table {
    let Some(first) = rows.first() else { return Table::default() };
    let columns = first.columns_ref().iter().map(|c| c.name_str().to_ascii_lowercase()).collect();
    let rows = rows.iter().map(|r| (0..r.len()).map(|i| text(r, i)).collect()).collect();
    Table { columns, rows }
}

/// Column `i` of `row` as text; `None` for NULL or a missing column.
pub fn text(row: &Row, i: usize) -> Option<String> {
    match row.as_ref(i)? {
        Value::NULL => None,
        Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::Int(n) => Some(n.to_string()),
        Value::UInt(n) => Some(n.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Double(f) => Some(f.to_string()),
        other => Some(other.as_sql(true).trim_matches('\'').to_string()),
    }
}

/// Column `i` of `row` as a number; `None` for NULL, a missing column or text that is not one.
pub fn number(row: &Row, i: usize) -> Option<f64> {
    match row.as_ref(i)? {
        Value::Bytes(b) => std::str::from_utf8(b).ok()?.trim().parse().ok(),
        Value::Int(n) => Some(*n as f64),
        Value::UInt(n) => Some(*n as f64),
        Value::Float(f) => Some(f64::from(*f)),
        Value::Double(f) => Some(*f),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tls_config_field_reaches_mysql_async() {
        let t = ResolvedTls {
            ca: Some(Pem::Inline("-----BEGIN CERTIFICATE-----".into())),
            identity: Some((
                Pem::File("/etc/ob/client.pem".into()),
                Pem::File("/etc/ob/client.key".into()),
            )),
            server_name: Some("observer-1".into()),
            insecure_skip_verify: true,
        };
        let o = ssl_opts(&t);
        assert_eq!(o.root_certs().len(), 1);
        assert!(o.client_identity().is_some());
        assert_eq!(o.tls_hostname_override(), Some("observer-1"));
        assert!(o.accept_invalid_certs());
        let plain = ssl_opts(&ResolvedTls {
            ca: None,
            identity: None,
            server_name: None,
            insecure_skip_verify: false,
        });
        assert!(plain.root_certs().is_empty() && plain.client_identity().is_none());
        assert!(!plain.accept_invalid_certs() && plain.tls_hostname_override().is_none());
    }
}
