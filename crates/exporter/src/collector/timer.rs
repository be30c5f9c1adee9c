//! `obwatch_timer_wakeup_delay_seconds` (histogram) and `obwatch_timer_wakeups_late_total`: a
//! thread sleeps one tick at a time and records how late it wakes. This is what Oracle's
//! `oprocd` (10g: wakes every 1000 ms, reboots the node when 500 ms late) and Linux
//! hangcheck-timer watch, and what cssdagent/cssdmonitor watch since 11gR2: a host stalled by
//! scheduling or memory starvation or a paused VM shows here before Clusterware evicts the
//! node (../shared/reference/node-exporter-and-clusterware.md B.1, B.4).
//!
//! The thread starts when the collector is built and stops when it is dropped (the exporter
//! shutting down). It runs at normal priority, so it sees the stalls an ordinary process sees;
//! cssdagent runs real-time and sees fewer. `collect` only reads the shared counts. The loop
//! takes its clock as a parameter, so tests drive it without sleeping.

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use obwatch_common::config::{ConfigError, HumanDuration, set_at_least};
use obwatch_common::metrics::{MetricSet, MetricType};

use super::{BuildContext, BuildError, CollectError, Collector, CollectorSpec};
use crate::collector::option_parts::{Origin, yaml_keys};

/// Registry entry. On by default: one wake-up per tick costs microseconds.
pub const SPEC: CollectorSpec = CollectorSpec { name: "timer", default_enabled: true, build };

/// Upper bounds of the histogram buckets, seconds: from scheduler noise (1 ms) through
/// oprocd's margin (0.5 s) and hangcheck's (10 s).
pub const BUCKETS: [f64; 13] =
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
/// The `le` label of each bucket, as client_golang formats them, then `+Inf`.
const LE: [&str; 14] = [
    "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5",
    "10", "+Inf",
];

/// The timer probe's options.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// How long the probe thread sleeps each time.
    pub tick: Duration,
    /// A wake-up later than this counts in `obwatch_timer_wakeups_late_total`.
    pub margin: Duration,
}

impl Default for Options {
    /// oprocd's defaults (`oprocd run -t 1000 -m 500`).
    fn default() -> Self {
        Options { tick: Duration::from_secs(1), margin: Duration::from_millis(500) }
    }
}

/// Its flags.
#[derive(Debug, Default, clap::Args)]
#[group(skip)]
pub(crate) struct Flags {
    /// How long the timer probe thread sleeps each time. [default: 1s]
    #[arg(long = "collector.timer.tick", value_name = "DURATION")]
    tick: Option<HumanDuration>,
    /// A timer probe wake-up later than this counts as late. [default: 500ms]
    #[arg(long = "collector.timer.margin", value_name = "DURATION")]
    margin: Option<HumanDuration>,
}

yaml_keys! {
    /// Its keys of the YAML `collectors:` section.
    Yaml { timer_tick: HumanDuration, timer_margin: HumanDuration, }
}

/// Its options from the flags over the YAML keys: a tick of at least 10 ms, a margin of at
/// least 1 ms.
pub(crate) fn compile(flags: Flags, yaml: Yaml, at: &Origin) -> Result<Options, ConfigError> {
    let mut o = Options::default();
    for (flag, key, slot, min_ms) in [
        (
            ("--collector.timer.tick", flags.tick),
            ("collectors.timer_tick", yaml.timer_tick),
            &mut o.tick,
            10,
        ),
        (
            ("--collector.timer.margin", flags.margin),
            ("collectors.timer_margin", yaml.timer_margin),
            &mut o.margin,
            1,
        ),
    ] {
        if let Some(g) = at.pick(flag, key) {
            set_at_least(g.path, &g.field, Some(g.value), Duration::from_millis(min_ms), slot)?;
        }
    }
    Ok(o)
}

fn build(cx: &BuildContext) -> Result<Box<dyn Collector>, BuildError> {
    let Options { tick, margin } = cx.options.timer;
    let stats = Arc::new(Mutex::new(Stats::default()));
    let stop = Arc::new(Stop::default());
    let (s, st) = (stats.clone(), stop.clone());
    let thread = std::thread::Builder::new()
        .name("obwatch-timer".into())
        .spawn(move || run(&mut RealClock(st), tick, margin, &s))
        .map_err(|e| BuildError {
            collector: "timer",
            reason: format!("cannot start the probe thread: {e}"),
        })?;
    Ok(Box::new(Timer { stats, stop, thread: Some(thread) }))
}

/// Reports what the probe thread measured.
#[derive(Debug)]
pub struct Timer {
    stats: Arc<Mutex<Stats>>,
    /// Tells the thread to stop (on drop).
    stop: Arc<Stop>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Timer {
    fn drop(&mut self) {
        *self.stop.stopped.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.stop.wake.notify_all();
        if let Some(t) = self.thread.take()
            && t.join().is_err()
        {
            tracing::warn!("Timer probe thread panicked.");
        }
    }
}

impl Collector for Timer {
    fn collect(&self, out: &mut MetricSet) -> Result<(), CollectError> {
        let s = self.stats.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let f = out.family(
            "obwatch_timer_wakeup_delay_seconds",
            "How late the probe thread woke after sleeping one tick (--collector.timer.tick).",
            MetricType::Histogram,
        );
        for (le, n) in LE.iter().zip(s.buckets.iter().chain([&s.count])) {
            f.sample_with_suffix("_bucket", &[("le", le)], *n as f64);
        }
        f.sample_with_suffix("_sum", &[], s.sum);
        f.sample_with_suffix("_count", &[], s.count as f64);
        out.counter(
            "obwatch_timer_wakeups_late_total",
            "Probe wake-ups later than the margin (--collector.timer.margin).",
            s.late as f64,
        );
        Ok(())
    }
}

/// What the probe has seen since start.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stats {
    /// Cumulative count per bucket of [`BUCKETS`] (wake-ups at most that late).
    pub buckets: [u64; BUCKETS.len()],
    /// Wake-ups.
    pub count: u64,
    /// Sum of the delays, seconds.
    pub sum: f64,
    /// Wake-ups later than the margin.
    pub late: u64,
}

impl Stats {
    /// Records one wake-up `delay` after its deadline.
    pub fn record(&mut self, delay: Duration, margin: Duration) {
        let s = delay.as_secs_f64();
        for (n, le) in self.buckets.iter_mut().zip(BUCKETS) {
            if s <= le {
                *n += 1;
            }
        }
        self.count += 1;
        self.sum += s;
        if delay > margin {
            self.late += 1;
        }
    }
}

/// Time as the probe sees it.
pub trait Clock {
    /// The current instant.
    fn now(&self) -> Instant;
    /// Sleeps until `deadline`; returns false when the probe must stop instead.
    fn sleep_until(&mut self, deadline: Instant) -> bool;
}

/// The probe loop: sleep to the next deadline, record how late the wake-up was, repeat.
pub fn run(clock: &mut impl Clock, tick: Duration, margin: Duration, stats: &Mutex<Stats>) {
    let mut deadline = clock.now() + tick;
    while clock.sleep_until(deadline) {
        let woke = clock.now();
        let delay = woke.saturating_duration_since(deadline);
        stats.lock().unwrap_or_else(|p| p.into_inner()).record(delay, margin);
        deadline = next_deadline(deadline, woke, tick);
    }
}

/// One tick after the previous deadline, so small delays do not make the schedule drift;
/// after a stall longer than a tick, one tick after the wake-up: the missed ticks are one
/// late wake-up, not a burst of them.
pub fn next_deadline(deadline: Instant, woke: Instant, tick: Duration) -> Instant {
    let next = deadline + tick;
    if woke >= next { woke + tick } else { next }
}

#[derive(Debug, Default)]
struct Stop {
    stopped: Mutex<bool>,
    wake: Condvar,
}

/// `Instant` (CLOCK_MONOTONIC) and a condvar wait that `Drop` can interrupt.
struct RealClock(Arc<Stop>);

impl Clock for RealClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep_until(&mut self, deadline: Instant) -> bool {
        let mut stopped = self.0.stopped.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if *stopped {
                return false;
            }
            let now = Instant::now();
            if now >= deadline {
                return true;
            }
            stopped = match self.0.wake.wait_timeout(stopped, deadline - now) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Wakes each sleep `late` after its deadline, from a script; stops when it runs out.
    struct Scripted {
        now: Instant,
        late: std::vec::IntoIter<Duration>,
        deadlines: Vec<Instant>,
    }

    impl Clock for Scripted {
        fn now(&self) -> Instant {
            self.now
        }
        fn sleep_until(&mut self, deadline: Instant) -> bool {
            self.deadlines.push(deadline);
            let Some(late) = self.late.next() else { return false };
            self.now = deadline + late;
            true
        }
    }

    #[test]
    fn records_delays_and_late_wakeups_without_sleeping() {
        let ms = Duration::from_millis;
        let t0 = Instant::now();
        let late = vec![ms(0), ms(2), ms(700), ms(3500), ms(30)];
        let mut clock = Scripted { now: t0, late: late.into_iter(), deadlines: Vec::new() };
        let stats = Mutex::new(Stats::default());
        run(&mut clock, ms(1000), ms(500), &stats);
        let s = stats.into_inner().unwrap();
        assert_eq!((s.count, s.late), (5, 2));
        assert!((s.sum - 4.232).abs() < 1e-9, "{}", s.sum);
        // <=1ms: 1; <=2.5ms: 2; <=50ms: 3 (+30 ms); <=1s: 4 (+700 ms); <=5s: 5 (+3.5 s).
        assert_eq!(s.buckets, [1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 5, 5]);
        let at: Vec<u128> = clock.deadlines.iter().map(|d| (*d - t0).as_millis()).collect();
        // The 3.5 s stall after the 4 s deadline (woke at 7.5 s) restarts the schedule.
        assert_eq!(at, [1000, 2000, 3000, 4000, 8500, 9500]);
    }

    #[test]
    fn thread_measures_and_stops_on_drop() {
        let stats = Arc::new(Mutex::new(Stats::default()));
        let stop = Arc::new(Stop::default());
        let (s, st) = (stats.clone(), stop.clone());
        let tick = Duration::from_millis(5);
        let thread = std::thread::spawn(move || run(&mut RealClock(st), tick, tick, &s));
        let t = Timer { stats: stats.clone(), stop, thread: Some(thread) };
        obwatch_testkit::net::wait_for("three wake-ups recorded", Duration::from_secs(10), || {
            (stats.lock().unwrap().count >= 3).then_some(())
        });
        let mut out = MetricSet::new();
        t.collect(&mut out).unwrap();
        let fam = out.find("obwatch_timer_wakeup_delay_seconds").unwrap();
        assert_eq!(fam.len(), LE.len() + 2);
        let started = Instant::now();
        drop(t);
        assert!(started.elapsed() < Duration::from_secs(1), "drop waited for a whole tick");
    }
}
