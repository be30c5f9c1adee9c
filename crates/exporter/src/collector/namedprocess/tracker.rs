//! Group accounting across scrapes, without I/O: which pid is in which group (cached per
//! `(pid, starttime, comm)`), per-scrape totals, CPU counters that survive process exits, and
//! restarts.
//!
//! **Outsiders** (processes in no group) are not read again on every scrape: on a host with
//! thousands of processes and a dozen daemons, re-reading all of them was 6 to 11 times the
//! rest of a scrape. An outsider is skipped while its `/proc/PID` directory has the same inode
//! (a reused pid gets a new directory, so a new inode) and it was classified less than
//! [`OUTSIDER_RECHECK`] ago, staggered by pid so rechecks spread over time. Two cases need the
//! re-read: a process younger than [`YOUNG`] (a shell that forked and is about to exec a
//! daemon is still called `bash`) is read on every scrape, and a process that execs into a
//! daemon later in life is found at its next recheck.
//!
//! **Restarts** (`obwatch_process_restarts_total`) count replacements. Each scrape counts, per
//! group, `gone` (members of the previous scrape that are no longer there) and `new` (members
//! not there before; a pid reused by another process is a new member). Departures are owed
//! until a new member pays for them: `restarts += min(owed + gone, new)`, and what is not paid
//! stays owed. So a daemon killed and respawned counts 1 whether it was down for less or more
//! than a scrape interval; a group that only grows (first scrape, more workers) or only shrinks
//! counts nothing; a pool that shrinks by 3 and later grows by 3 counts 3.
//!
//! **CPU** (`namedprocess_namegroup_cpu_seconds_total`) adds, each scrape, every member's
//! utime/stime growth since the previous scrape (all of it for a new member), as
//! process-exporter does, so the counter does not drop when a process exits; CPU a process
//! used between its last scrape and its exit is not seen.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use super::parse::Stat;

/// How long an outsider's classification is trusted (plus up to as much again, by pid).
pub const OUTSIDER_RECHECK: Duration = Duration::from_secs(60);
/// Processes younger than this are classified again on every scrape.
pub const YOUNG: Duration = Duration::from_secs(10);

/// One group's totals for the current scrape.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Totals {
    /// Processes.
    pub procs: u64,
    /// Resident bytes (stat `rss` × page size).
    pub resident: u64,
    /// Virtual bytes (stat `vsize`).
    pub virtual_bytes: u64,
    /// Swapped-out bytes (status `VmSwap`).
    pub swapped: u64,
    /// Open descriptors.
    pub fds: u64,
    /// Threads.
    pub threads: u64,
    /// Start time of the oldest member, clock ticks after boot.
    pub oldest_start: Option<u64>,
    /// Bytes of deleted files the group holds open, each (dev, inode) once.
    pub deleted_bytes: u64,
}

/// One group's state across scrapes.
#[derive(Clone, Debug, Default)]
pub struct Group {
    /// This scrape's totals (all zero when no member is running).
    pub now: Totals,
    /// User CPU of all members ever seen, clock ticks.
    pub user_ticks: u64,
    /// System CPU of all members ever seen, clock ticks.
    pub system_ticks: u64,
    /// Replacements so far (module docs).
    pub restarts: u64,
    owed: u64,
    gone: u64,
    new: u64,
}

#[derive(Debug)]
struct Tracked {
    starttime: u64,
    comm: Box<str>,
    group: Option<u32>,
    utime: u64,
    stime: u64,
    seen: u64,
    /// The inode of `/proc/PID` when last read.
    ino: u64,
    /// For an outsider: skipped without reading until then (`None`: read every scrape).
    trusted_until: Option<Instant>,
}

/// All groups seen since start (kept, so a group whose processes all died reports 0) and the
/// classification of every pid on the host.
#[derive(Debug, Default)]
pub struct Tracker {
    procs: HashMap<u32, Tracked>,
    groups: Vec<Group>,
    /// Name to index in `groups`; sorted, so output order is stable.
    index: BTreeMap<String, u32>,
    generation: u64,
}

impl Tracker {
    /// Starts a scrape: clears every group's per-scrape totals.
    pub fn begin(&mut self) {
        self.generation += 1;
        for g in &mut self.groups {
            g.now = Totals::default();
        }
    }

    /// True when `pid`, found with directory inode `ino` at `now`, is an outsider whose
    /// classification is still trusted (module docs): it counts as seen and needs no read.
    pub fn still_outside(&mut self, pid: u32, ino: u64, now: Instant) -> bool {
        match self.procs.get_mut(&pid) {
            Some(t)
                if t.group.is_none()
                    && t.ino == ino
                    && t.trusted_until.is_some_and(|until| now < until) =>
            {
                t.seen = self.generation;
                true
            }
            _ => false,
        }
    }

    /// Records that `pid` (directory inode `ino`, `age` since it started) is running with
    /// `stat` at `now`; returns its group. `classify` (which reads the cmdline) is only called
    /// for a pid not seen before or whose start time or comm changed (pid reuse, exec, or a
    /// process renaming itself, as Oracle's do at start).
    pub fn record(
        &mut self,
        pid: u32,
        (ino, age, now): (u64, Duration, Instant),
        stat: &Stat,
        classify: impl FnOnce() -> Option<String>,
    ) -> Option<u32> {
        let generation = self.generation;
        let known = self
            .procs
            .get(&pid)
            .filter(|t| t.starttime == stat.starttime && *t.comm == *stat.comm)
            .map(|t| t.group);
        let t = match known {
            Some(_) => self.procs.get_mut(&pid).expect("found above"),
            None => {
                // Same start time: the same process renamed itself or exec'd.
                let before = self.procs.get(&pid).map(|t| {
                    let same = t.starttime == stat.starttime;
                    (t.group, same, if same { (t.utime, t.stime) } else { (0, 0) })
                });
                let group = classify().map(|name| self.group_index(name));
                let (old, same, (utime, stime)) = before.unwrap_or((None, false, (0, 0)));
                let (utime, stime) = if same && old == group {
                    (utime, stime)
                } else {
                    if let Some(o) = old {
                        self.groups[o as usize].gone += 1;
                    }
                    if let Some(g) = group {
                        self.groups[g as usize].new += 1;
                    }
                    (0, 0)
                };
                let t = Tracked {
                    starttime: stat.starttime,
                    comm: stat.comm.into(),
                    group,
                    utime,
                    stime,
                    seen: generation,
                    ino,
                    trusted_until: None,
                };
                self.procs.insert(pid, t);
                self.procs.get_mut(&pid).expect("just inserted")
            }
        };
        t.seen = generation;
        t.ino = ino;
        t.trusted_until = (t.group.is_none() && age >= YOUNG)
            .then(|| now + OUTSIDER_RECHECK + OUTSIDER_RECHECK * (pid % 64) / 64);
        let g = t.group?;
        let group = &mut self.groups[g as usize];
        // Saturating: a counter never goes back, even if the kernel's did.
        group.user_ticks += stat.utime.saturating_sub(t.utime);
        group.system_ticks += stat.stime.saturating_sub(t.stime);
        t.utime = t.utime.max(stat.utime);
        t.stime = t.stime.max(stat.stime);
        let now = &mut group.now;
        now.procs += 1;
        now.threads += stat.num_threads;
        now.virtual_bytes += stat.vsize;
        now.oldest_start = Some(now.oldest_start.map_or(stat.starttime, |o| o.min(stat.starttime)));
        Some(g)
    }

    /// This scrape's totals of group `g`, for the collector to add memory and descriptors.
    pub fn totals(&mut self, g: u32) -> &mut Totals {
        &mut self.groups[g as usize].now
    }

    /// Ends a scrape: forgets pids not seen in it and settles restarts.
    pub fn finish(&mut self) {
        let generation = self.generation;
        let groups = &mut self.groups;
        self.procs.retain(|_, t| {
            let alive = t.seen == generation;
            if let (false, Some(g)) = (alive, t.group) {
                groups[g as usize].gone += 1;
            }
            alive
        });
        for g in groups.iter_mut() {
            let paid = (g.owed + g.gone).min(g.new);
            g.restarts += paid;
            g.owed = g.owed + g.gone - paid;
            g.gone = 0;
            g.new = 0;
        }
    }

    /// Every group seen since start, sorted by name.
    pub fn groups(&self) -> impl Iterator<Item = (&str, &Group)> {
        self.index.iter().map(|(n, &i)| (n.as_str(), &self.groups[i as usize]))
    }

    fn group_index(&mut self, name: String) -> u32 {
        if let Some(&i) = self.index.get(&name) {
            return i;
        }
        let i = self.groups.len() as u32;
        self.groups.push(Group::default());
        self.index.insert(name, i);
        i
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Directory inode = pid, age 0: young, so read on every scrape as before outsiders were
    /// cached.
    fn young(pid: u32) -> (u64, Duration, Instant) {
        (u64::from(pid), Duration::ZERO, Instant::now())
    }

    fn stat(comm: &str, start: u64, utime: u64) -> Stat<'_> {
        Stat { comm, utime, stime: 1, num_threads: 2, starttime: start, vsize: 100, rss_pages: 1 }
    }

    /// Runs one scrape over `(pid, comm, starttime, utime)`; comms starting with "d" are in
    /// group "d", others in none.
    fn scrape(t: &mut Tracker, procs: &[(u32, &str, u64, u64)]) -> Group {
        t.begin();
        for &(pid, comm, start, utime) in procs {
            t.record(pid, young(pid), &stat(comm, start, utime), || {
                comm.starts_with('d').then(|| "d".into())
            });
        }
        t.finish();
        t.groups().find(|(n, _)| *n == "d").map(|(_, g)| g.clone()).unwrap_or_default()
    }

    #[test]
    fn totals_and_cpu_survive_exits() {
        let mut t = Tracker::default();
        let g = scrape(&mut t, &[(10, "d", 5, 100), (11, "d", 7, 50), (12, "x", 1, 9)]);
        assert_eq!(g.now.procs, 2);
        assert_eq!((g.now.threads, g.now.virtual_bytes, g.now.oldest_start), (4, 200, Some(5)));
        assert_eq!((g.user_ticks, g.system_ticks), (150, 2));
        let g = scrape(&mut t, &[(10, "d", 5, 130)]);
        assert_eq!((g.now.procs, g.user_ticks, g.system_ticks), (1, 180, 2));
        let g = scrape(&mut t, &[]);
        assert_eq!((g.now.procs, g.now.oldest_start, g.user_ticks), (0, None, 180));
        assert_eq!(t.procs.len(), 0, "dead pids are forgotten");
    }

    #[test]
    fn restarts_count_replacements() {
        let mut t = Tracker::default();
        assert_eq!(scrape(&mut t, &[(10, "d", 5, 0), (11, "d", 5, 0)]).restarts, 0);
        // Killed and respawned between two scrapes.
        assert_eq!(scrape(&mut t, &[(10, "d", 5, 0), (20, "d", 9, 0)]).restarts, 1);
        // Down for a whole scrape, then back.
        assert_eq!(scrape(&mut t, &[(10, "d", 5, 0)]).restarts, 1);
        assert_eq!(scrape(&mut t, &[(10, "d", 5, 0), (30, "d", 12, 0)]).restarts, 2);
        // Growing counts nothing, nor does the first sight of a group.
        assert_eq!(
            scrape(&mut t, &[(10, "d", 5, 0), (30, "d", 12, 0), (31, "d", 13, 0)]).restarts,
            2
        );
        // Pid reused by a new process of the same group: one replacement.
        assert_eq!(
            scrape(&mut t, &[(10, "d", 99, 0), (30, "d", 12, 0), (31, "d", 13, 0)]).restarts,
            3
        );
        // Pid reused by a process outside the group: a departure, owed.
        let g = scrape(&mut t, &[(10, "x", 120, 0), (30, "d", 12, 0), (31, "d", 13, 0)]);
        assert_eq!((g.restarts, g.now.procs), (3, 2));
        assert_eq!(
            scrape(&mut t, &[(30, "d", 12, 0), (31, "d", 13, 0), (40, "d", 130, 0)]).restarts,
            4
        );
    }

    #[test]
    fn classifies_once_per_process() {
        let mut t = Tracker::default();
        let mut calls = 0;
        for _ in 0..3 {
            t.begin();
            t.record(10, young(10), &stat("d", 5, 0), || {
                calls += 1;
                Some("d".into())
            });
            t.finish();
        }
        assert_eq!(calls, 1);
        // A rename (Oracle sets its process name after start) is classified again.
        t.begin();
        t.record(10, young(10), &stat("ora_lmon_x", 5, 0), || {
            calls += 1;
            None
        });
        t.finish();
        assert_eq!(calls, 2);
        // Renamed within its group: not a restart, CPU baseline kept.
        let g = scrape(&mut t, &[(10, "d1", 5, 40)]);
        let g2 = scrape(&mut t, &[(10, "d2", 5, 45)]);
        assert_eq!((g2.restarts - g.restarts, g2.user_ticks - g.user_ticks), (0, 5));
    }

    #[test]
    fn outsiders_are_trusted_until_their_recheck_unless_young_or_replaced() {
        let mut t = Tracker::default();
        let t0 = Instant::now();
        let old = Duration::from_secs(3600);
        t.begin();
        t.record(50, (7, old, t0), &stat("bash", 5, 0), || None);
        t.record(51, (8, Duration::from_secs(1), t0), &stat("bash", 6, 0), || None);
        t.record(52, (9, old, t0), &stat("d", 7, 0), || Some("d".into()));
        t.finish();
        t.begin();
        // Old outsider, same directory: skipped. Young one and group members: read.
        assert!(t.still_outside(50, 7, t0 + Duration::from_secs(30)));
        assert!(!t.still_outside(51, 8, t0 + Duration::from_secs(30)), "young: read again");
        assert!(!t.still_outside(52, 9, t0 + Duration::from_secs(30)), "members are always read");
        // The same pid with another directory inode is another process.
        assert!(!t.still_outside(50, 70, t0 + Duration::from_secs(30)));
        // Past the recheck (60 s plus up to 60 s by pid), read again.
        assert!(!t.still_outside(50, 7, t0 + Duration::from_secs(121)));
        t.finish();
        // A skipped outsider still counts as seen: not forgotten by finish().
        t.begin();
        assert!(t.still_outside(50, 7, t0 + Duration::from_secs(1)));
        t.finish();
        assert!(t.procs.contains_key(&50));
    }
}
