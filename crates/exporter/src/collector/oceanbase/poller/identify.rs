//! The identification steps a round repeats: the cluster name and id (labels only) and the
//! role (RootService or not, and the zone). Neither binds the other queries, so each fails
//! alone, as a query: its `obwatch_ob_query_success` is 0, it is logged once, and every other
//! query runs. Before this, a monitor user without SELECT on the parameter view (or a proxy
//! hiding it) got `ob_up 0` and nothing at all.

use std::time::{Duration, Instant};

use super::super::session::SqlError;
use super::Poller;

/// The view the cluster name and id come from, by major version (3.x, 4.x).
const PARAMETER_VIEWS: [&str; 2] = ["__all_virtual_sys_parameter_stat", "GV$OB_PARAMETERS"];

impl Poller {
    /// Looks up `cluster` and `cluster_id` until it has answered for this server; never when
    /// both are configured (they only fill labels, and configured values win anyway).
    pub(super) async fn refresh_cluster(
        &mut self,
        results: &mut Vec<(&'static str, bool, Duration)>,
    ) {
        if self.cluster_known
            || (self.opts.cluster_name.is_some() && self.opts.cluster_id.is_some())
        {
            return;
        }
        let (Some(id), Some(s)) = (self.identity.as_mut(), self.session.as_mut()) else {
            return;
        };
        let view = PARAMETER_VIEWS[usize::from(id.major() >= 4)];
        let session_id = s.id();
        let t0 = Instant::now();
        let r = s.cluster_parameters(id, view, self.opts.query_timeout).await;
        results.push(("cluster_parameters", r.is_ok(), t0.elapsed()));
        match r {
            Ok((name, cluster_id)) => {
                let before = (id.cluster_name.clone(), id.cluster_id.clone());
                if self.opts.cluster_name.is_none() {
                    id.cluster_name = name;
                }
                if self.opts.cluster_id.is_none() {
                    id.cluster_id = cluster_id;
                }
                if before != (id.cluster_name.clone(), id.cluster_id.clone()) {
                    // Cached answers carry the old labels; run them again under the new ones.
                    self.cached.clear();
                }
                self.cluster_known = true;
                self.note_query("cluster_parameters", None);
            }
            Err(e) => {
                let msg = format!(
                    "{e}; ob_cluster_name and ob_cluster_id stay empty until it answers: grant SELECT on oceanbase.{view} to the monitor user, or set oceanbase.cluster_name and oceanbase.cluster_id"
                );
                self.note_query("cluster_parameters", Some(msg));
                self.after_failed_lookup(&e, session_id);
            }
        }
    }

    /// Whether RootService runs here now (cluster-wide queries run only there, as in
    /// obagent, so a cluster is not counted once per server), and the zone. A failed lookup
    /// keeps the last answer. Returns whether the lookup answered and how long it took.
    pub(super) async fn refresh_role(&mut self) -> Option<(bool, Duration)> {
        let (Some(id), Some(s)) = (self.identity.as_mut(), self.session.as_mut()) else {
            return None;
        };
        let session_id = s.id();
        let t0 = Instant::now();
        let r = s.role(id, self.opts.query_timeout).await;
        let took = (r.is_ok(), t0.elapsed());
        match r {
            Ok(rootservice) => {
                self.rootservice = rootservice;
                self.note_query("server_role", None);
            }
            Err(e) => {
                let msg = format!(
                    "{e}; cluster-wide queries wait until it answers: grant SELECT on oceanbase.{} to the monitor user",
                    if id.major() >= 4 { "DBA_OB_SERVERS" } else { "__all_server" }
                );
                self.note_query("server_role", Some(msg));
                self.after_failed_lookup(&e, session_id);
            }
        }
        Some(took)
    }

    /// Logs the server's identity when it is first learned and when it changes.
    pub(super) fn log_identity(&mut self) {
        let Some(id) = &self.identity else { return };
        if self.logged_identity.as_ref() == Some(id) {
            return;
        }
        tracing::info!(
            version = %id.version.map(|v| v.to_string()).unwrap_or_default(),
            svr_ip = %id.svr_ip, svr_port = id.svr_port, zone = %id.zone,
            cluster = %id.cluster_name, cluster_id = %id.cluster_id,
            rootservice = self.rootservice, "Identified the OceanBase server."
        );
        self.logged_identity = Some(id.clone());
    }

    /// A lookup that timed out leaves its session to be killed from the next connection; one
    /// that broke the connection drops it (the catalogue reconnects).
    fn after_failed_lookup(&mut self, e: &SqlError, session_id: u32) {
        if matches!(e, SqlError::Timeout(_)) {
            self.abandoned = Some(session_id);
        }
        if e.breaks_connection() {
            self.session = None;
        }
    }
}
