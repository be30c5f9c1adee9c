//! Runs the enabled collectors for a scrape: one blocking worker runs the queue (a few share
//! it when a scrape is slow), each collector runs at most once at a time, and the scrape
//! returns at its deadline whatever has finished. Owns `node_scrape_collector_duration_seconds`,
//! `node_scrape_collector_success` and `obwatch_exporter_collector_no_data`: node_exporter
//! reports a collector with nothing to report (no bonding on a VM, no hwmon chips) as
//! `success 0`, the same as a broken one, so an alert on `success == 0` fires on healthy hosts;
//! the extra family tells the two apart without changing node_exporter's series.
//!
//! Why this shape: node_exporter waits for every collector (`wg.Wait()`), so one stuck statfs
//! or sysfs read holds the whole response until Prometheus' scrape_timeout and the host shows
//! `up == 0` (node_exporter #244, #868, #2065). Here a stuck collector costs one thread, once:
//! a run still going past its own scrape's deadline is stuck, and later scrapes skip that
//! collector and report it failed at once, so there is never more than one stuck thread per
//! collector and never an unbounded pile of threads. A run that is merely concurrent (a
//! `collect[]` scrape overlapping a full one) is waited for, then the collector runs again.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use obwatch_common::logging::RateLimiter;
use obwatch_common::metrics::{MetricSet, MetricType};
use tokio::sync::Notify;

use crate::collector::{CollectError, Collector};

/// How long a scrape runs on one worker before the others join it.
const HELP_AFTER: Duration = Duration::from_millis(50);

/// One enabled collector.
struct Entry {
    name: &'static str,
    collector: Box<dyn Collector>,
    /// The deadline of the scrape whose run is in progress, if one is: a run still going after
    /// it is stuck.
    in_flight: Mutex<Option<Instant>>,
    /// Signalled when a run ends.
    ended: Condvar,
    /// How the collector did in the last scrape that asked for it, for the landing page.
    last: Mutex<Option<LastRun>>,
}

/// A collector's result in the last scrape that ran it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LastRun {
    /// `ok`, `no data` or `failed`.
    pub state: &'static str,
    /// Seconds it took (the scrape timeout when it did not return).
    pub seconds: f64,
}

/// The enabled collectors and how to run them.
pub struct Registry {
    entries: Vec<Arc<Entry>>,
    /// How many blocking threads a slow scrape uses (a fast one uses one); small, so a scrape
    /// never wakes a thread per collector (node_exporter runs with GOMAXPROCS=1 for the same
    /// reason: load on many-core hosts, node_exporter #1880).
    workers: usize,
    /// Failure logs are rate-limited per collector: a collector failing on every scrape logs
    /// once a minute with a count, not once a scrape.
    log_limit: RateLimiter,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").field("collectors", &self.names().collect::<Vec<_>>()).finish()
    }
}

enum Outcome {
    Done(MetricSet, Duration, Result<(), CollectError>),
    /// The previous run had not returned yet; this scrape did not start another.
    StillRunning,
}

impl Registry {
    /// A registry over built collectors, in the order given (the sorted `ALL` order).
    pub fn new(collectors: Vec<(&'static str, Box<dyn Collector>)>, workers: usize) -> Self {
        let entries = collectors
            .into_iter()
            .map(|(name, collector)| {
                Arc::new(Entry {
                    name,
                    collector,
                    in_flight: Mutex::new(None),
                    ended: Condvar::new(),
                    last: Mutex::new(None),
                })
            })
            .collect();
        Registry {
            entries,
            workers: workers.max(1),
            log_limit: RateLimiter::new(Duration::from_secs(60)),
        }
    }

    /// Names of the enabled collectors.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.entries.iter().map(|e| e.name)
    }

    /// Each enabled collector with its last scrape's result (`None`: not scraped yet).
    pub fn last_runs(&self) -> Vec<(&'static str, Option<LastRun>)> {
        self.entries
            .iter()
            .map(|e| (e.name, *e.last.lock().unwrap_or_else(|p| p.into_inner())))
            .collect()
    }

    /// Runs the collectors whose index is in `only` (all when `None`) and returns their
    /// samples plus the per-collector duration and success families. Returns by `timeout`.
    pub async fn gather(&self, only: Option<&[usize]>, timeout: Duration) -> MetricSet {
        let deadline = tokio::time::Instant::now() + timeout;
        let picked: Vec<Arc<Entry>> = match only {
            Some(ix) => ix.iter().filter_map(|&i| self.entries.get(i).cloned()).collect(),
            None => self.entries.clone(),
        };
        let n = picked.len();
        let scrape = Arc::new(Scrape {
            outcomes: Mutex::new((0..n).map(|_| None).collect()),
            picked,
            next: AtomicUsize::new(0),
            abandoned: AtomicBool::new(false),
            workers_left: AtomicUsize::new(0),
            done: Notify::new(),
            deadline: deadline.into_std(),
        });
        // One worker runs the queue; the async thread is woken once, when the last worker
        // has left (not once per result: each wake-up is a context switch, and with ~30
        // collectors those were a large part of a scrape's CPU at Prometheus' cadence). A
        // scrape still going after HELP_AFTER gets the other workers, so a collector that
        // hangs delays the rest of the queue by that much, not to the deadline.
        if n > 0 {
            spawn_workers(&scrape, 1);
            let help_at = (tokio::time::Instant::now() + HELP_AFTER).min(deadline);
            if tokio::time::timeout_at(help_at, scrape.done.notified()).await.is_err() {
                spawn_workers(&scrape, self.workers.min(n) - 1);
                let _ = tokio::time::timeout_at(deadline, scrape.done.notified()).await;
            }
        }
        // A worker that was stuck must not wake up later and run the rest of an abandoned
        // queue (it would mark collectors in flight for the next scrape for nothing).
        scrape.abandoned.store(true, Ordering::Relaxed);
        let outcomes =
            std::mem::take(&mut *scrape.outcomes.lock().unwrap_or_else(|p| p.into_inner()));
        let picked = &scrape.picked;

        let mut out = MetricSet::new();
        let mut durations = Vec::with_capacity(n);
        let mut successes = Vec::with_capacity(n);
        let mut no_data = Vec::with_capacity(n);
        for (entry, outcome) in picked.iter().zip(outcomes) {
            let mut nothing = false;
            let (elapsed, ok) = match outcome {
                Some(Outcome::Done(mut set, elapsed, result)) => {
                    out.append(&mut set);
                    let ok = match result {
                        Ok(()) => true,
                        Err(CollectError::NoData(reason)) => {
                            tracing::debug!(
                                collector = entry.name,
                                reason,
                                "Collector returned no data."
                            );
                            nothing = true;
                            false
                        }
                        Err(e) => {
                            self.log_failure(entry.name, &e.to_string());
                            false
                        }
                    };
                    (elapsed.as_secs_f64(), ok)
                }
                Some(Outcome::StillRunning) => {
                    self.log_failure(entry.name, "previous run has not returned; skipped");
                    (0.0, false)
                }
                None => {
                    self.log_failure(entry.name, &format!("no result within {timeout:?}"));
                    (timeout.as_secs_f64(), false)
                }
            };
            let state = if ok {
                "ok"
            } else if nothing {
                "no data"
            } else {
                "failed"
            };
            *entry.last.lock().unwrap_or_else(|p| p.into_inner()) =
                Some(LastRun { state, seconds: elapsed });
            durations.push((entry.name, elapsed));
            successes.push((entry.name, ok));
            no_data.push((entry.name, nothing));
        }
        let f = out.family(
            "node_scrape_collector_duration_seconds",
            "node_exporter: Duration of a collector scrape.",
            MetricType::Gauge,
        );
        for (name, secs) in durations {
            f.sample(&[("collector", name)], secs);
        }
        let f = out.family(
            "node_scrape_collector_success",
            "node_exporter: Whether a collector succeeded.",
            MetricType::Gauge,
        );
        for (name, ok) in successes {
            f.sample(&[("collector", name)], if ok { 1.0 } else { 0.0 });
        }
        let f = out.family(
            "obwatch_exporter_collector_no_data",
            "Whether a collector's success 0 means the host has nothing for it to report \
             (feature or hardware absent), not a failure.",
            MetricType::Gauge,
        );
        for (name, nothing) in no_data {
            f.sample(&[("collector", name)], if nothing { 1.0 } else { 0.0 });
        }
        out
    }

    fn log_failure(&self, collector: &str, error: &str) {
        if let Some(suppressed) = self.log_limit.check(collector) {
            tracing::error!(collector, error, suppressed, "Collector failed.");
        }
    }
}

/// Starts `count` more workers on the blocking pool for `scrape`.
fn spawn_workers(scrape: &Arc<Scrape>, count: usize) {
    scrape.workers_left.fetch_add(count, Ordering::AcqRel);
    for _ in 0..count {
        let scrape = scrape.clone();
        tokio::task::spawn_blocking(move || scrape.work());
    }
}

/// One scrape's shared state: the queue its workers take collectors from and the results.
struct Scrape {
    picked: Vec<Arc<Entry>>,
    /// The next queue position to take.
    next: AtomicUsize,
    /// Set when the scrape has returned.
    abandoned: AtomicBool,
    /// Each collector's outcome, filled in as it finishes.
    outcomes: Mutex<Vec<Option<Outcome>>>,
    /// Workers still running; the last one to leave signals `done`.
    workers_left: AtomicUsize,
    done: Notify,
    deadline: Instant,
}

impl Scrape {
    /// A worker: takes collectors off the shared queue until it is empty or the scrape is over.
    fn work(&self) {
        // Signals `done` when the last worker leaves, by returning or by a panic.
        struct Leave<'a>(&'a Scrape);
        impl Drop for Leave<'_> {
            fn drop(&mut self) {
                if self.0.workers_left.fetch_sub(1, Ordering::AcqRel) == 1 {
                    self.0.done.notify_one();
                }
            }
        }
        let _leave = Leave(self);
        loop {
            if self.abandoned.load(Ordering::Relaxed) {
                return;
            }
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(entry) = self.picked.get(i) else { return };
            let outcome = if claim(entry, self.deadline) {
                let start = Instant::now();
                let mut set = MetricSet::new();
                let result = entry.collector.collect(&mut set);
                *entry.in_flight.lock().unwrap_or_else(|p| p.into_inner()) = None;
                entry.ended.notify_all();
                Outcome::Done(set, start.elapsed(), result)
            } else {
                Outcome::StillRunning
            };
            // After the scrape returned the slot is gone (taken); nothing to do then.
            if let Some(slot) = self.outcomes.lock().unwrap_or_else(|p| p.into_inner()).get_mut(i) {
                *slot = Some(outcome);
            }
        }
    }
}

/// Marks `entry` as running for a scrape ending at `deadline`. A run in progress that is past
/// its own deadline is stuck: give up at once. One that is not is waited for, up to our
/// deadline.
fn claim(entry: &Entry, deadline: Instant) -> bool {
    let mut running = entry.in_flight.lock().unwrap_or_else(|p| p.into_inner());
    loop {
        let now = Instant::now();
        match *running {
            None => {
                *running = Some(deadline);
                return true;
            }
            Some(theirs) if now >= theirs || now >= deadline => return false,
            Some(theirs) => {
                let wait = theirs.min(deadline) - now;
                running =
                    entry.ended.wait_timeout(running, wait).unwrap_or_else(|p| p.into_inner()).0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::sync::mpsc as std_mpsc;

    struct Fixed(f64);
    impl Collector for Fixed {
        fn collect(&self, out: &mut MetricSet) -> Result<(), CollectError> {
            out.gauge("node_fixed", "h", self.0);
            Ok(())
        }
    }
    struct Failing;
    impl Collector for Failing {
        fn collect(&self, out: &mut MetricSet) -> Result<(), CollectError> {
            out.gauge("node_partial", "kept", 1.0);
            Err(CollectError::parse(std::path::Path::new("/proc/x"), "bad"))
        }
    }
    struct Absent;
    impl Collector for Absent {
        fn collect(&self, _: &mut MetricSet) -> Result<(), CollectError> {
            Err(CollectError::NoData("no bonding on this host".into()))
        }
    }
    /// Blocks until the test releases it: a stuck statfs stand-in.
    struct Blocking(Mutex<std_mpsc::Receiver<()>>);
    impl Collector for Blocking {
        fn collect(&self, _: &mut MetricSet) -> Result<(), CollectError> {
            let _ = self.0.lock().unwrap().recv();
            Ok(())
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn stuck_collector_fails_alone_and_is_not_run_twice() {
        let (release, rx) = std_mpsc::channel();
        let reg = Registry::new(
            vec![
                ("a_stuck", Box::new(Blocking(Mutex::new(rx)))),
                ("b_ok", Box::new(Fixed(2.0))),
                ("c_bad", Box::new(Failing)),
            ],
            2,
        );
        let t0 = Instant::now();
        // Long enough for the healthy collectors on a loaded machine; the stuck one never ends.
        let set = reg.gather(None, Duration::from_secs(1)).await;
        assert!(t0.elapsed() < Duration::from_secs(5), "scrape must return at the deadline");
        let ok = |s: &MetricSet, c| s.get("node_scrape_collector_success", &[("collector", c)]);
        assert_eq!(ok(&set, "a_stuck"), Some(0.0));
        assert_eq!(ok(&set, "b_ok"), Some(1.0));
        assert_eq!(ok(&set, "c_bad"), Some(0.0));
        assert_eq!(set.get("node_fixed", &[]), Some(2.0));
        assert_eq!(set.get("node_partial", &[]), Some(1.0), "samples before an error are kept");

        // Second scrape: the stuck run is still in flight, so it is skipped at once.
        let t1 = Instant::now();
        let set = reg.gather(None, Duration::from_secs(5)).await;
        assert!(t1.elapsed() < Duration::from_secs(1), "took {:?}", t1.elapsed());
        assert_eq!(ok(&set, "a_stuck"), Some(0.0));
        assert_eq!(ok(&set, "b_ok"), Some(1.0));

        // Unstuck (recv fails from now on): it runs again and succeeds.
        drop(release);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let set = reg.gather(None, Duration::from_secs(5)).await;
            if ok(&set, "a_stuck") == Some(1.0) {
                break;
            }
            assert!(Instant::now() < deadline, "released collector never succeeded");
            tokio::time::sleep(Duration::from_millis(1)).await; // poll interval, not a sync
        }
    }

    /// Records which thread ran it.
    struct WhichThread(Arc<Mutex<Vec<std::thread::ThreadId>>>);
    impl Collector for WhichThread {
        fn collect(&self, _: &mut MetricSet) -> Result<(), CollectError> {
            self.0.lock().unwrap().push(std::thread::current().id());
            Ok(())
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_fast_scrape_runs_on_one_worker_thread() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let collectors: Vec<(&'static str, Box<dyn Collector>)> = ["a", "b", "c", "d", "e"]
            .into_iter()
            .map(|n| (n, Box::new(WhichThread(seen.clone())) as Box<dyn Collector>))
            .collect();
        let reg = Registry::new(collectors, 2);
        let set = reg.gather(None, Duration::from_secs(5)).await;
        assert_eq!(set.get("node_scrape_collector_success", &[("collector", "e")]), Some(1.0));
        let ids = seen.lock().unwrap();
        assert_eq!(ids.len(), 5);
        assert!(ids.iter().all(|t| *t == ids[0]), "ran on several threads: {ids:?}");
    }

    /// Takes a while, like cpufreq on a big host.
    struct Slow;
    impl Collector for Slow {
        fn collect(&self, out: &mut MetricSet) -> Result<(), CollectError> {
            std::thread::sleep(Duration::from_millis(200)); // the work being measured
            out.gauge("node_slow", "h", 1.0);
            Ok(())
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn overlapping_scrapes_both_succeed() {
        // A collect[] scrape overlapping a full one must not see the collector as stuck.
        let reg = Arc::new(Registry::new(vec![("slow", Box::new(Slow))], 1));
        let (a, b) = (reg.clone(), reg.clone());
        let first = tokio::spawn(async move { a.gather(None, Duration::from_secs(5)).await });
        let second =
            tokio::spawn(async move { b.gather(Some(&[0]), Duration::from_secs(5)).await });
        for set in [first.await.unwrap(), second.await.unwrap()] {
            assert_eq!(
                set.get("node_scrape_collector_success", &[("collector", "slow")]),
                Some(1.0)
            );
            assert_eq!(set.get("node_slow", &[]), Some(1.0));
        }
    }

    #[tokio::test]
    async fn no_data_is_told_apart_from_failure() {
        let reg = Registry::new(
            vec![
                ("absent", Box::new(Absent)),
                ("bad", Box::new(Failing)),
                ("ok", Box::new(Fixed(1.0))),
            ],
            1,
        );
        let set = reg.gather(None, Duration::from_secs(5)).await;
        let get = |fam, c| set.get(fam, &[("collector", c)]);
        let (success, no_data) =
            ("node_scrape_collector_success", "obwatch_exporter_collector_no_data");
        assert_eq!((get(success, "absent"), get(no_data, "absent")), (Some(0.0), Some(1.0)));
        assert_eq!((get(success, "bad"), get(no_data, "bad")), (Some(0.0), Some(0.0)));
        assert_eq!((get(success, "ok"), get(no_data, "ok")), (Some(1.0), Some(0.0)));
    }

    #[tokio::test]
    async fn only_runs_the_selected_collectors() {
        let reg = Registry::new(vec![("a", Box::new(Fixed(1.0))), ("b", Box::new(Fixed(2.0)))], 1);
        let set = reg.gather(Some(&[1]), Duration::from_secs(5)).await;
        assert_eq!(set.get("node_fixed", &[]), Some(2.0));
        assert_eq!(set.get("node_scrape_collector_success", &[("collector", "a")]), None);
        assert_eq!(set.get("node_scrape_collector_success", &[("collector", "b")]), Some(1.0));
    }
}
