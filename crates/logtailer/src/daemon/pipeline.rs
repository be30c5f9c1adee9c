//! The daemon's blocking loop: tail -> records -> rules -> alert state -> outboxes ->
//! checkpoint. A batch's position is committed only after every alert it raised is in every
//! outbox, and never past the start of a multiline record still waiting for its end; so a
//! crash at any point re-reads what was not yet safe, and loses nothing.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::Notify;
use tracing::{info, warn};

use crate::config::Config;
use crate::rule::state::{Alert, AlertState};
use crate::rule::{Hit, Matcher, Multiline, RuleSet};
use crate::sink::alertmanager::Alertmanager;
use crate::sink::outbox::Outbox;
use crate::tail::{FileKey, LogEvents, Position, Tailer};

use super::Shared;

/// A record not ended after this long is evaluated as it is.
const RECORD_FLUSH: Duration = Duration::from_secs(5);
/// Most alerts tracked at once (pending or firing).
const MAX_ALERTS: usize = 10_000;

/// One Alertmanager's queue, as the pipeline sees it.
#[derive(Debug)]
pub(super) struct Queue {
    pub(super) outbox: Arc<Mutex<Outbox>>,
    pub(super) wake: Arc<Notify>,
}

/// Per tracked file: the input it belongs to, its groups, and an unfinished record.
struct FileState {
    input: String,
    /// The input's `multiline`, for the groups without their own.
    multiline: Option<Multiline>,
    path: String,
    groups: Vec<usize>,
    /// Bytes of the lines after the last safe cut (newline-terminated).
    carry: Vec<u8>,
    /// Where `carry[0]` is in the file, in the content (truncation generation) it was read
    /// from: committed while the record is unfinished. After a copytruncate that position is
    /// in the old content, and the engine ignores it, so neither the old content's rest nor
    /// the new content is committed until the record is evaluated.
    carry_start: Position,
    /// Position after the last batch, committed in full once the carry is evaluated.
    last: Position,
    last_data: Instant,
}

/// Runs until `stop` is set. Errors of the checkpoint or the outbox are logged and retried:
/// the lines stay uncommitted, so nothing is lost while the disk is full.
pub(super) fn run(
    config: &Config,
    mut rules: Arc<RuleSet>,
    reloads: &Receiver<Arc<RuleSet>>,
    queues: &[Queue],
    shared: &Shared,
    stop: &AtomicBool,
    mut tailer: Tailer<LogEvents>,
) {
    let mut files: HashMap<FileKey, FileState> = HashMap::new();
    let mut state = AlertState::new(MAX_ALERTS);
    let mut text = Vec::new();
    let mut next_resend = Instant::now() + resend_interval(config, &rules);
    let instance = hostname();
    // Posts and positions not yet safe because an outbox could not take the posts: retried
    // before anything else, and nothing is committed until they are in.
    let mut posts: Vec<Alert> = Vec::new();
    let mut commit: Vec<Position> = Vec::new();
    let mut outbox_failing = false;
    while !stop.load(Ordering::Relaxed) {
        if !posts.is_empty() {
            if !enqueue(&posts, &instance, queues, &mut outbox_failing) {
                std::thread::sleep(Duration::from_secs(1)); // back-pressure: read nothing new
                continue;
            }
            posts.clear();
            commit_now(&mut tailer, &mut commit);
        }
        let batch = match tailer.next_batch(Duration::from_millis(200)) {
            Ok(b) => b,
            Err(e) => {
                warn!(error = %e, "Tailing failed; retrying.");
                std::thread::sleep(Duration::from_secs(1));
                continue;
            }
        };
        // A reloaded rule set (checked after the wait, so a batch read after the reload was
        // announced is matched with it): alerts follow their rules by name; files get their groups anew.
        while let Ok(new) = reloads.try_recv() {
            let now = SystemTime::now();
            posts.extend(state.remap(&rules, &new, now));
            rules = new;
            for fs in files.values_mut() {
                fs.groups = rules.groups_for(Path::new(&fs.path));
            }
        }
        let current = rules.clone();
        let rules: &RuleSet = &current;
        let now = SystemTime::now();
        let mut fired: Vec<Alert> = Vec::new();
        if let Some(batch) = batch {
            let key = batch.position().key();
            // Which input: looked up once, when the file is first seen, not for every batch.
            let fs = files.entry(key).or_insert_with(|| {
                let input = config.input_of(batch.path());
                FileState {
                    input: input.map_or("unknown", |i| i.name.as_str()).to_string(),
                    multiline: input.and_then(|i| i.multiline.clone()),
                    path: batch.path().display().to_string(),
                    groups: rules.groups_for(batch.path()),
                    carry: Vec::new(),
                    carry_start: batch
                        .position()
                        .back_to(batch.lines().next().map_or(0, |l| l.offset)),
                    last: batch.position(),
                    last_data: Instant::now(),
                }
            });
            text.clear();
            text.extend_from_slice(&fs.carry);
            let mut starts = Vec::with_capacity(batch.len());
            let mut bytes = 0u64;
            for line in batch.lines() {
                starts.push((text.len(), line.offset));
                text.extend_from_slice(line.bytes);
                text.push(b'\n');
                bytes += line.bytes.len() as u64 + 1;
            }
            shared.count_lines(&fs.input, batch.len() as u64, bytes);
            let matcher =
                Matcher::new(rules, fs.groups.clone()).with_input_multiline(fs.multiline.as_ref());
            let cut = matcher.safe_end(&text);
            fs.path = batch.path().display().to_string();
            let hits = matcher.eval(&text[..cut], 1);
            observe(rules, &hits, &fs.path, now, &mut state, shared, &mut fired);
            // Where the carried record starts in the file: in this batch, or still where the
            // old carry began (maybe before a truncation).
            if cut >= fs.carry.len() {
                let offset = starts
                    .iter()
                    .find(|(t, _)| *t >= cut)
                    .map_or(batch.position().offset(), |(_, o)| *o);
                fs.carry_start = batch.position().back_to(offset);
            }
            fs.carry = text[cut..].to_vec();
            fs.last = batch.position();
            fs.last_data = Instant::now();
            commit.push(if fs.carry.is_empty() { batch.position() } else { fs.carry_start });
        }
        // Records whose end never came (the file went quiet): evaluate them as they are.
        for fs in files.values_mut() {
            if !fs.carry.is_empty() && fs.last_data.elapsed() >= RECORD_FLUSH {
                let matcher = Matcher::new(rules, fs.groups.clone())
                    .with_input_multiline(fs.multiline.as_ref());
                let hits = matcher.eval(&fs.carry, 1);
                observe(rules, &hits, &fs.path, now, &mut state, shared, &mut fired);
                fs.carry.clear();
                commit.push(fs.last);
            }
        }
        posts.extend(fired);
        posts.extend(state.expire(rules, now));
        if Instant::now() >= next_resend {
            next_resend = Instant::now() + resend_interval(config, rules);
            posts.extend(state.firing().cloned());
        }
        shared.set_firing(state.firing().count() as u64, state.dropped);
        if !posts.is_empty() {
            if !enqueue(&posts, &instance, queues, &mut outbox_failing) {
                // A full disk: keep the lines uncommitted and the posts for the next try.
                continue;
            }
            posts.clear();
        }
        commit_now(&mut tailer, &mut commit);
        shared.set_tail(tailer.stats(), tailer.files());
    }
}

/// Counts `hits` (read from `path`) and adds the alerts they make fire to `fired`.
fn observe(
    rules: &RuleSet,
    hits: &[Hit<'_>],
    path: &str,
    now: SystemTime,
    state: &mut AlertState,
    shared: &Shared,
    fired: &mut Vec<Alert>,
) {
    for hit in hits {
        shared.count_match(rules, hit.group, hit.rule);
        if let Some(a) = state.observe(rules, hit, path, now)
            && a.starts_at == now
        {
            fired.push(a.clone());
        }
    }
}

/// Commits and forgets `commit`; a failed checkpoint write is retried with the next commit.
fn commit_now(tailer: &mut Tailer<LogEvents>, commit: &mut Vec<Position>) {
    if commit.is_empty() {
        return;
    }
    if let Err(e) = tailer.commit(commit) {
        warn!(error = %e, "Checkpoint write failed; retrying with the next batch.");
    }
    commit.clear();
}

/// How often firing alerts are posted again: `resend_interval`, but at most half the shortest
/// `resolve_after`, so Alertmanager never lets an alert lapse that is still matching.
fn resend_interval(config: &Config, rules: &RuleSet) -> Duration {
    let shortest =
        rules.groups().iter().flat_map(|g| g.rules.iter()).map(|r| r.resolve_after).min();
    shortest
        .map_or(config.resend_interval, |s| config.resend_interval.min(s / 2))
        .max(Duration::from_secs(1))
}

/// Writes the posts to every outbox; false when one could not take them. Logged once per
/// outage (`failing` carries it between calls); each failure is counted by the outbox.
fn enqueue(posts: &[Alert], instance: &str, queues: &[Queue], failing: &mut bool) -> bool {
    let body = Alertmanager::body(posts, instance);
    let mut ok = true;
    for q in queues {
        let pushed = q.outbox.lock().unwrap_or_else(|p| p.into_inner()).push(&body);
        match pushed {
            Ok(()) => q.wake.notify_one(),
            Err(e) => {
                if !*failing {
                    warn!(error = %e, "Cannot queue alerts in the outbox; reading stops and nothing is committed until it can (retried every second).");
                }
                ok = false;
            }
        }
    }
    if ok && *failing {
        info!("The outbox takes alerts again; reading goes on.");
    }
    *failing = !ok;
    ok
}

/// The `instance` label: this host's name.
fn hostname() -> String {
    rustix::system::uname().nodename().to_string_lossy().into_owned()
}
