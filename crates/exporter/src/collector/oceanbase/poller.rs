//! The background round: connect (or reuse the connection), identify the server (version and
//! address: what binds the other queries), refresh its labels and role (`identify`), run every
//! catalogue query that applies to its version and role, and publish one fresh snapshot.
//! Errors are logged when they change, not every round.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use obwatch_common::metrics::{MetricSet, MetricType};

use super::catalogue::{self, Query, Scope, Table};
use super::options::ObOptions;
use super::session::{self, Identity, Session, SqlError};
use crate::collector::background::{Step, report_steps};

mod identify;

pub(super) const UP_HELP: &str =
    "1 when the OceanBase server answered the last round of queries, else 0.";

/// Values of `obwatch_ob_state{state}`: exactly one is 1.
const STATES: [&str; 6] =
    ["up", "unreachable", "auth_failed", "tls_required", "not_oceanbase", "error"];

/// The connection and what the rounds remember between them.
pub(super) struct Poller {
    opts: ObOptions,
    session: Option<Session>,
    identity: Option<Identity>,
    /// A session whose statement timed out; killed from the next connection.
    abandoned: Option<u32>,
    /// Whether this server hosted RootService at the last look (false until a lookup
    /// answers: cluster-wide queries then wait rather than run on every server).
    rootservice: bool,
    /// Whether the cluster name and id were learned (or configured) for this identity.
    cluster_known: bool,
    /// The identity last logged, so a change is logged once.
    logged_identity: Option<Identity>,
    /// The last state logged, and the last error logged per query, so each is logged once.
    logged_state: &'static str,
    logged_errors: HashMap<&'static str, String>,
    /// Rounds completed, for `obwatch_ob_rounds_total`.
    rounds: u64,
    /// Last answers of the queries that run at most `every` (when, their series, success,
    /// duration), served until they are due again.
    cached: HashMap<&'static str, Cached>,
}

/// The last answer of a query that does not run every round.
struct Cached {
    at: Instant,
    metrics: MetricSet,
    ok: bool,
    duration: Duration,
}

impl Poller {
    pub(super) fn new(opts: ObOptions) -> Poller {
        Poller {
            opts,
            session: None,
            identity: None,
            abandoned: None,
            rootservice: false,
            cluster_known: false,
            logged_identity: None,
            logged_state: "starting",
            logged_errors: HashMap::new(),
            rounds: 0,
            cached: HashMap::new(),
        }
    }

    /// One round: everything the server answered, plus `ob_up`, the state and per-query
    /// success and duration.
    pub(super) async fn round(&mut self) -> MetricSet {
        let mut out = MetricSet::new();
        let mut results: Vec<Step> = Vec::new();
        let state = match self.ensure_identified().await {
            Err(e) => {
                self.note_state(e.state(), Some(&e));
                e.state()
            }
            Ok(()) => {
                self.note_state("up", None);
                self.refresh_cluster(&mut results).await;
                if let Some((ok, duration)) = self.refresh_role().await {
                    results.push(("server_role", ok, duration));
                }
                self.log_identity();
                match self.run_catalogue(&mut out, &mut results).await {
                    // No series of a half-done round: only why ob_up is 0.
                    Some(lost) => {
                        out = MetricSet::new();
                        results.clear();
                        lost
                    }
                    None => "up",
                }
            }
        };
        self.rounds += 1;
        out.counter(
            "obwatch_ob_rounds_total",
            "Rounds of OceanBase queries completed since start.",
            self.rounds as f64,
        );
        out.family("ob_up", UP_HELP, MetricType::Gauge)
            .sample(&[], if state == "up" { 1.0 } else { 0.0 });
        let f = out.family(
            "obwatch_ob_state",
            "Why ob_up is what it is: 1 for the current state, 0 for the others.",
            MetricType::Gauge,
        );
        for s in STATES {
            f.sample(&[("state", s)], if s == state { 1.0 } else { 0.0 });
        }
        report_steps(
            &mut out,
            ("obwatch_ob_query", "query"),
            (
                "1 when the query answered in the last round, else 0.",
                "How long the query took in the last round.",
            ),
            &results,
        );
        out
    }

    /// Runs every catalogue query that applies to the server's version and role, appending
    /// series to `out` and outcomes to `results`. `Some(state)` when the server was lost
    /// half-way (the round is then void).
    async fn run_catalogue(
        &mut self,
        out: &mut MetricSet,
        results: &mut Vec<Step>,
    ) -> Option<&'static str> {
        let id = self.identity.clone().unwrap_or_default();
        for q in catalogue::ALL {
            let Some(sql) = q.sql(id.major()) else { continue };
            if q.scope == Scope::RootService && !self.rootservice {
                continue;
            }
            if let (Some(every), Some(c)) = (q.every, self.cached.get(q.name))
                && c.at.elapsed() < every
            {
                out.append(&mut c.metrics.clone());
                results.push((q.name, c.ok, c.duration));
                continue;
            }
            let sql = id.bind(&catalogue::expand(sql, &self.opts));
            let t0 = Instant::now();
            let mut part = MetricSet::new();
            // A well-formed answer that cannot become series (a NULL histogram bucket, a
            // negative counter) fails the query like a server error does.
            let r = match self.run(q, &sql).await {
                Ok(table) => catalogue::render(q, &table, &static_labels(&id), &mut part)
                    .map_err(SqlError::Unexpected),
                Err(e) => Err(e),
            };
            let duration = t0.elapsed();
            // The connection is gone and a new one cannot be made: the server is down, not
            // this query. Stop here rather than wait connect_timeout for every query left,
            // and report the server's state.
            if let Err(
                e @ (SqlError::Unreachable { .. }
                | SqlError::AuthFailed { .. }
                | SqlError::TlsRequired { .. }),
            ) = &r
            {
                self.note_state(e.state(), Some(e));
                return Some(e.state());
            }
            results.push((q.name, r.is_ok(), duration));
            if r.is_err() {
                part = MetricSet::new();
            }
            self.note_query(q.name, r.as_ref().err().map(ToString::to_string));
            if q.every.is_some() {
                let (at, metrics, ok) = (Instant::now(), part.clone(), r.is_ok());
                self.cached.insert(q.name, Cached { at, metrics, ok, duration });
            }
            out.append(&mut part);
        }
        None
    }

    /// Connects and identifies the server when there is no live session.
    async fn ensure_identified(&mut self) -> Result<(), SqlError> {
        if self.session.is_some() && self.identity.is_some() {
            return Ok(());
        }
        let mut s = self.connect().await?;
        match s.identify(&self.opts).await {
            Ok(mut id) => {
                // A reconnect to the same server keeps what the lookups learned, so the
                // labels do not blink empty while they run again.
                match &self.identity {
                    Some(old) if old.svr_ip == id.svr_ip && old.svr_port == id.svr_port => {
                        id.zone.clone_from(&old.zone);
                        id.cluster_name.clone_from(&old.cluster_name);
                        id.cluster_id.clone_from(&old.cluster_id);
                    }
                    _ => self.cluster_known = false,
                }
                self.identity = Some(id);
                self.session = Some(s);
                Ok(())
            }
            Err(e) => {
                if matches!(e, SqlError::Timeout(_)) {
                    // Killed from the next connection, like a timed-out catalogue query.
                    self.abandoned = Some(s.id());
                } else if !e.breaks_connection() {
                    s.close().await;
                }
                Err(e)
            }
        }
    }

    /// A new session; first kills the one a timed-out statement left behind.
    async fn connect(&mut self) -> Result<Session, SqlError> {
        let mut s = Session::connect(&self.opts).await?;
        if let Some(id) = self.abandoned.take() {
            s.kill(id, self.opts.query_timeout).await;
        }
        Ok(s)
    }

    /// Runs one query; a statement that breaks the connection is retried once on a new one,
    /// so one bad query never hides the others.
    async fn run(&mut self, q: &Query, sql: &str) -> Result<Table, SqlError> {
        let timeout = self.opts.query_timeout;
        let mut session = match self.session.take() {
            Some(s) => s,
            None => self.connect().await?,
        };
        match session.query(sql, timeout).await {
            Ok(rows) => {
                self.session = Some(session);
                Ok(session::table(&rows))
            }
            Err(e) if e.breaks_connection() => {
                if matches!(e, SqlError::Timeout(_)) {
                    self.abandoned = Some(session.id());
                }
                tracing::debug!(query = q.name, error = %e, "Dropping the OceanBase connection.");
                Err(e)
            }
            Err(e) => {
                self.session = Some(session);
                Err(e)
            }
        }
    }

    fn note_state(&mut self, state: &'static str, e: Option<&SqlError>) {
        if state == self.logged_state {
            return;
        }
        match e {
            Some(e) => tracing::warn!(state, error = %e, "OceanBase server not available."),
            None => tracing::info!(address = %self.opts.address, "OceanBase server available."),
        }
        self.logged_state = state;
        if state != "up" {
            self.identity = None;
            self.cluster_known = false;
            // A server that went away takes its cached answers with it (no stale series).
            self.cached.clear();
        }
    }

    /// Logs a query's failure once per distinct error, and its recovery once.
    fn note_query(&mut self, name: &'static str, error: Option<String>) {
        match error {
            Some(msg) => {
                if self.logged_errors.get(name) != Some(&msg) {
                    tracing::warn!(query = name, error = %msg, "OceanBase query failed.");
                    self.logged_errors.insert(name, msg);
                }
            }
            None => {
                if self.logged_errors.remove(name).is_some() {
                    tracing::info!(query = name, "OceanBase query answers again.");
                }
            }
        }
    }
}

/// The labels obagent puts on every OceanBase series.
fn static_labels(id: &Identity) -> [(&'static str, String); 5] {
    [
        ("ob_cluster_id", id.cluster_id.clone()),
        ("ob_cluster_name", id.cluster_name.clone()),
        ("obzone", id.zone.clone()),
        ("svr_ip", id.svr_ip.clone()),
        ("svr_port", id.svr_port.to_string()),
    ]
}
