//! Which paths the inputs name (glob expansion) and when to look again (notify wake-ups).
//!
//! notify is a hint, never the truth (reference A.7): inotify can overflow (reported as a
//! `Rescan` flag), NFS sends nothing, per-user watch limits run out. So the engine also
//! rescans on a timer, and an event only makes that happen sooner. Watches are on the
//! directories that hold the inputs (one per directory, not per file: grok_exporter's design,
//! and what keeps us clear of `max_user_watches`), which also report writes to their files.

use std::collections::{BTreeSet, HashSet};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::time::Duration;

use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};

use super::FollowSymlinks;
use super::events::TailEvents;

/// Glob patterns, their watches, and the wake-up channel fed by notify's thread.
pub(crate) struct Discovery {
    patterns: Vec<String>,
    /// `None` when notify could not start (no inotify instance left): timer only.
    watcher: Option<RecommendedWatcher>,
    /// Directories with a watch; others are retried at each scan (a log dir may appear late).
    watched: HashSet<PathBuf>,
    wake_rx: Receiver<()>,
    /// Set by an event that may change which files exist (create, remove, rename, overflow).
    rescan: Arc<AtomicBool>,
    follow: FollowSymlinks,
    /// `patterns` compiled once, for the symlink check.
    compiled: Vec<glob::Pattern>,
    /// Links refused, each logged once while it stays refused.
    refused: HashSet<PathBuf>,
    /// Refusals so far (a link refused again after it changed counts again).
    pub(crate) refused_total: u64,
}

impl std::fmt::Debug for Discovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Discovery")
            .field("patterns", &self.patterns)
            .field("watched", &self.watched)
            .finish()
    }
}

impl Discovery {
    pub(crate) fn new(
        patterns: Vec<String>,
        follow: FollowSymlinks,
        events: &dyn TailEvents,
    ) -> Self {
        // Bounded: a full channel means a wake-up is already pending, which is all we need.
        let (tx, wake_rx) = sync_channel::<()>(1);
        let rescan = Arc::new(AtomicBool::new(false));
        let watcher = match notify::recommended_watcher(handler(tx, Arc::clone(&rescan))) {
            Ok(w) => Some(w),
            Err(e) => {
                events.watch_error("(notify)", &e);
                None
            }
        };
        let compiled = patterns.iter().filter_map(|p| glob::Pattern::new(p).ok()).collect();
        Discovery {
            patterns,
            compiled,
            watcher,
            watched: HashSet::new(),
            wake_rx,
            rescan,
            follow,
            refused: HashSet::new(),
            refused_total: 0,
        }
    }

    /// True when `path` is an input's file: a pattern matches it, or its name less rotation
    /// suffixes (`app.log.1`, `app.log-20240301`, `app.log.1.gz` -> `app.log`). A checkpointed
    /// file for which this is false belongs to no input any more.
    pub(crate) fn owns(&self, path: &Path) -> bool {
        rotation_bases(path).any(|p| self.compiled.iter().any(|g| g.matches_path_with(&p, GLOB)))
    }

    /// Expands every pattern; adds watches for directories not watched yet. Sorted, unique.
    pub(crate) fn scan(&mut self, events: &dyn TailEvents) -> BTreeSet<PathBuf> {
        self.rescan.store(false, Ordering::SeqCst);
        let mut found = BTreeSet::new();
        let patterns = std::mem::take(&mut self.patterns);
        for pattern in &patterns {
            self.watch_base(pattern, events);
            match glob::glob_with(pattern, GLOB) {
                Ok(paths) => {
                    // An unreadable entry (permission) is skipped; the rest still counts.
                    found.extend(paths.filter_map(Result::ok).filter(|p| p.is_file()));
                }
                Err(e) => events.watch_error(pattern, &e),
            }
        }
        if self.follow == FollowSymlinks::Safe {
            let mut refused_now = HashSet::new();
            found.retain(|p| match symlink_refusal(p, &self.compiled) {
                None => true,
                Some(why) => {
                    if !self.refused.contains(p) {
                        events.symlink_refused(p, &why);
                        self.refused_total += 1;
                    }
                    refused_now.insert(p.clone());
                    false
                }
            });
            self.refused = refused_now;
        }
        self.patterns = patterns;
        found
    }

    /// True when an event since the last scan may have changed the set of files.
    pub(crate) fn rescan_needed(&self) -> bool {
        self.rescan.load(Ordering::SeqCst)
    }

    /// Waits up to `timeout` for an event; returns at once if one is pending.
    pub(crate) fn wait(&self, timeout: Duration) {
        match self.wake_rx.recv_timeout(timeout) {
            Ok(()) | Err(RecvTimeoutError::Timeout) => {}
            // The watcher is gone: behave as a plain timer.
            Err(RecvTimeoutError::Disconnected) => std::thread::sleep(timeout),
        }
    }

    fn watch_base(&mut self, pattern: &str, events: &dyn TailEvents) {
        let Some(watcher) = self.watcher.as_mut() else { return };
        let base = base_dir(pattern);
        if self.watched.contains(&base) || !base.is_dir() {
            return;
        }
        match watcher.watch(&base, RecursiveMode::NonRecursive) {
            Ok(()) => {
                self.watched.insert(base);
            }
            Err(e) => events.watch_error(pattern, &e),
        }
    }
}

fn handler(tx: SyncSender<()>, rescan: Arc<AtomicBool>) -> impl notify::EventHandler {
    move |res: notify::Result<notify::Event>| {
        let structural = match &res {
            Ok(ev) => {
                ev.need_rescan()
                    || matches!(
                        ev.kind,
                        EventKind::Create(_)
                            | EventKind::Remove(_)
                            | EventKind::Modify(notify::event::ModifyKind::Name(_))
                            | EventKind::Any
                            | EventKind::Other
                    )
            }
            Err(_) => true,
        };
        if structural {
            rescan.store(true, Ordering::SeqCst);
        }
        match tx.try_send(()) {
            Ok(()) | Err(TrySendError::Full(())) | Err(TrySendError::Disconnected(())) => {}
        }
    }
}

/// The directory part of `pattern` before its first glob metacharacter: what to watch.
/// Why the symlink `path` may not be followed, or `None` when it is not a link or may be: its
/// target must be matched by one of the inputs' `patterns` or lie in the link's own
/// directory, and belong to the owner of the link's directory.
pub(crate) fn symlink_refusal(path: &Path, patterns: &[glob::Pattern]) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let link = std::fs::symlink_metadata(path).ok()?;
    if !link.file_type().is_symlink() {
        return None;
    }
    let target = match std::fs::canonicalize(path) {
        Ok(t) => t,
        Err(e) => return Some(format!("cannot resolve the link: {e}")),
    };
    let dir = path.parent().unwrap_or(Path::new("/"));
    let real_dir = std::fs::canonicalize(dir).ok();
    let in_own_dir = real_dir.as_deref() == target.parent();
    let matched = patterns.iter().any(|p| p.matches_path_with(&target, GLOB));
    if !in_own_dir && !matched {
        return Some(format!(
            "its target {} is outside the inputs' globs and the link's directory",
            target.display()
        ));
    }
    let (Ok(t), Ok(d)) = (std::fs::metadata(&target), std::fs::metadata(dir)) else {
        return Some("cannot stat the target or the link's directory".into());
    };
    if t.uid() != d.uid() {
        return Some(format!(
            "its target {} belongs to uid {}, the link's directory to uid {}",
            target.display(),
            t.uid(),
            d.uid()
        ));
    }
    None
}

/// `path`, then `path` less one rotation suffix at a time: `/x/app.log.1.gz`, `/x/app.log.1`,
/// `/x/app.log`, `/x/app` (suffixes start at `.`, `-` or `_`). What an input's glob matched
/// before the file was rotated is among them.
pub fn rotation_bases(path: &Path) -> impl Iterator<Item = PathBuf> + '_ {
    let dir = path.parent().unwrap_or(Path::new(""));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut next = (!name.is_empty()).then_some(name);
    std::iter::from_fn(move || {
        let current = next.take()?;
        next = match current.rfind(['.', '-', '_']) {
            Some(i) if i > 0 => Some(current[..i].to_string()),
            _ => None,
        };
        Some(dir.join(current))
    })
}

/// The one glob dialect of obwatch (the cleaner's `pattern` module matches the same way; an
/// e2e test compares them): `*`, `?` and `[...]` never match `/` or a leading `.` (hidden files
/// stay out unless named, as in the shell), `**` matches any number of directories, case
/// matters, no brace sets.
pub const GLOB: glob::MatchOptions = glob::MatchOptions {
    case_sensitive: true,
    require_literal_separator: true,
    require_literal_leading_dot: true,
};

pub(crate) fn base_dir(pattern: &str) -> PathBuf {
    let mut base = PathBuf::new();
    let path = Path::new(pattern);
    let mut components = path.components().peekable();
    while let Some(c) = components.next() {
        let is_last = components.peek().is_none();
        let s = c.as_os_str().to_string_lossy();
        if is_last || s.contains(['*', '?', '[', '{']) {
            break;
        }
        if !matches!(c, Component::CurDir) {
            base.push(c);
        }
    }
    if base.as_os_str().is_empty() { PathBuf::from(".") } else { base }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_bases_strip_one_suffix_at_a_time() {
        let got: Vec<PathBuf> = rotation_bases(Path::new("/x/app.log.1.gz")).collect();
        assert_eq!(
            got,
            ["/x/app.log.1.gz", "/x/app.log.1", "/x/app.log", "/x/app"].map(PathBuf::from)
        );
        let got: Vec<PathBuf> = rotation_bases(Path::new("/x/observer.log-20261201")).collect();
        assert_eq!(got[1], PathBuf::from("/x/observer.log"));
        // A leading dot is a name, not a suffix.
        assert_eq!(rotation_bases(Path::new("/x/.hidden")).count(), 1);
    }

    #[test]
    fn base_dir_stops_at_the_first_glob() {
        assert_eq!(base_dir("/var/log/observer.log"), PathBuf::from("/var/log"));
        assert_eq!(base_dir("/home/admin/log/*.wf"), PathBuf::from("/home/admin/log"));
        assert_eq!(base_dir("/u01/*/trace/alert*.log"), PathBuf::from("/u01"));
        assert_eq!(base_dir("x.log"), PathBuf::from("."));
    }
}
