//! Collectors whose data is slow to get (SQL to OceanBase, `crsctl`): a thread refreshes a
//! snapshot every interval and scrapes copy it, so a slow or hung source never slows a scrape
//! (the issue with obagent and with node_exporter's textfile-from-cron workarounds). A round
//! builds its snapshot from scratch, so series of things that vanished or failed disappear.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use obwatch_common::metrics::{MetricSet, MetricType};

/// The last round's result.
#[derive(Debug, Default)]
struct Snapshot {
    metrics: MetricSet,
    /// When the round ended; `None` until the first one has.
    taken: Option<Instant>,
}

#[derive(Debug, Default)]
struct Stop {
    stopped: Mutex<bool>,
    wake: Condvar,
}

/// A running refresh thread and its latest snapshot.
#[derive(Debug)]
pub struct Background {
    snapshot: Arc<Mutex<Snapshot>>,
    stop: Arc<Stop>,
}

impl Background {
    /// Starts thread `name`, which calls `round` now and then every `interval` (measured
    /// from the start of each round; a round longer than the interval is followed at once by
    /// the next) until this value is dropped.
    pub fn start(
        name: &str,
        interval: Duration,
        mut round: impl FnMut() -> MetricSet + Send + 'static,
    ) -> std::io::Result<Background> {
        let snapshot = Arc::new(Mutex::new(Snapshot::default()));
        let stop = Arc::new(Stop::default());
        let (snap, st) = (snapshot.clone(), stop.clone());
        std::thread::Builder::new().name(name.into()).spawn(move || {
            loop {
                let started = Instant::now();
                let metrics = round();
                *snap.lock().unwrap_or_else(|e| e.into_inner()) =
                    Snapshot { metrics, taken: Some(Instant::now()) };
                let next = started + interval;
                let guard = st.stopped.lock().unwrap_or_else(|e| e.into_inner());
                let (guard, _) = st
                    .wake
                    .wait_timeout_while(
                        guard,
                        next.saturating_duration_since(Instant::now()),
                        |s| !*s && Instant::now() < next,
                    )
                    .unwrap_or_else(|e| e.into_inner());
                if *guard {
                    return;
                }
            }
        })?;
        Ok(Background { snapshot, stop })
    }

    /// Appends the last round's metrics and, once a round has ended, `age_metric` (seconds
    /// since it ended). Returns false when no round has ended yet.
    pub fn copy_into(
        &self,
        out: &mut MetricSet,
        age_metric: &'static str,
        age_help: &'static str,
    ) -> bool {
        let (mut metrics, taken) = {
            let s = self.snapshot.lock().unwrap_or_else(|p| p.into_inner());
            (s.metrics.clone(), s.taken)
        };
        let Some(t) = taken else { return false };
        out.append(&mut metrics);
        out.gauge(age_metric, age_help, t.elapsed().as_secs_f64());
        true
    }
}

/// How one step of a round went (a query, a tool): its name, whether it succeeded, how long
/// it took.
pub type Step = (&'static str, bool, Duration);

/// The two families every background collector reports about the steps of its last round:
/// `NAME_success` (1 or 0) and `NAME_duration_seconds`, one series per step labelled `label`
/// (`obwatch_ob_query_*{query}`, `obwatch_command_*{command}`). `helps` are their HELP texts.
pub fn report_steps(
    out: &mut MetricSet,
    (name, label): (&str, &str),
    helps: (&'static str, &'static str),
    steps: &[Step],
) {
    let f = out.family(format!("{name}_success"), helps.0, MetricType::Gauge);
    for (step, ok, _) in steps {
        f.sample(&[(label, step)], if *ok { 1.0 } else { 0.0 });
    }
    let f = out.family(format!("{name}_duration_seconds"), helps.1, MetricType::Gauge);
    for (step, _, took) in steps {
        f.sample(&[(label, step)], took.as_secs_f64());
    }
}

impl Drop for Background {
    /// Tells the thread to stop after its current round. Does not wait for it: a round stuck
    /// on a dead database or a hung tool must not hold up the exporter's shutdown.
    fn drop(&mut self) {
        *self.stop.stopped.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.stop.wake.notify_all();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn rounds_refresh_the_snapshot_and_drop_stops_the_thread() {
        let (tx, rx) = mpsc::channel();
        let mut n = 0;
        let bg = Background::start("test-bg", Duration::from_millis(1), move || {
            n += 1;
            let _ = tx.send(n);
            let mut m = MetricSet::new();
            m.gauge("rounds", "rounds so far", f64::from(n));
            m
        })
        .unwrap();
        // The fourth round has started, so the third was published.
        while rx.recv().unwrap() < 4 {}
        let mut out = MetricSet::new();
        assert!(bg.copy_into(&mut out, "age_seconds", "age"));
        assert!(out.get("rounds", &[]).unwrap() >= 3.0);
        assert!(out.get("age_seconds", &[]).is_some());
        drop(bg);
        // The thread ends: the sender it owns is dropped, so recv eventually errors.
        while rx.recv().is_ok() {}
    }

    #[test]
    fn nothing_before_the_first_round() {
        let (tx, rx) = mpsc::channel::<()>();
        let bg = Background::start("test-bg", Duration::from_secs(60), move || {
            let _ = rx.recv(); // blocks until the test lets it go
            MetricSet::new()
        })
        .unwrap();
        let mut out = MetricSet::new();
        assert!(!bg.copy_into(&mut out, "age_seconds", "age"));
        assert!(out.families().is_empty());
        drop(tx);
    }
}
