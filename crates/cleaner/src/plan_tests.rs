//! Unit tests of `plan`: each rule alone, their combinations, priorities, ties, held and active
//! files, watermarks with an injected usage source, and a grid of invariants.

use std::path::PathBuf;

use super::*;
use crate::config::Config;

const SEC: i64 = 1_000_000_000;
const DAY: i64 = 86400 * SEC;
const NOW: i64 = 1_700_000_000 * SEC;

fn policies(yaml: &str) -> (Vec<Policy>, Option<Watermarks>) {
    let c = Config::parse(Path::new("t.yml"), yaml).unwrap();
    (c.policies, c.disk)
}

fn file(policy: u32, name: &str, size: u64, age_days: f64) -> FileInfo {
    FileInfo {
        policy,
        dir: 0,
        name: name.into(),
        meta: Meta {
            dev: 1,
            ino: name.bytes().map(u64::from).sum(),
            size_bytes: size,
            disk_bytes: size,
            mtime_ns: NOW - (age_days * DAY as f64) as i64,
            nlink: 1,
            mode: 0o644,
            uid: 0,
            gid: 0,
            kind: rustix::fs::FileType::RegularFile,
        },
        active: false,
        held_by: None,
    }
}

fn run_with(
    files: &[FileInfo],
    yaml: &str,
    usage: &HashMap<u64, FsUsage>,
) -> (Vec<(ActionKind, String, Reason)>, Plan) {
    let (pols, disk) = policies(yaml);
    let d = PathBuf::from("/log");
    let dirs = [d.as_path()];
    let p = plan(files, &dirs, &pols, disk, usage, NOW);
    let list = p
        .actions
        .iter()
        .map(|a| (a.kind, files[a.file].name.to_string_lossy().into_owned(), a.reason.clone()))
        .collect();
    (list, p)
}

fn names(files: &[FileInfo], yaml: &str, kind: ActionKind) -> Vec<String> {
    run_with(files, yaml, &HashMap::new())
        .0
        .into_iter()
        .filter(|a| a.0 == kind)
        .map(|a| a.1)
        .collect()
}

const P: &str = "policies:\n  - name: a\n    paths: [/log/*]\n";

#[test]
fn max_age_deletes_strictly_older_files() {
    let files: Vec<_> = (1..=6).map(|d| file(0, &format!("f{d}"), 10, d as f64)).collect();
    let got = names(&files, &format!("{P}    max_age: 3d\n"), ActionKind::Delete);
    assert_eq!(got, ["f4", "f5", "f6"], "exactly 3 days old is kept");
    let (list, _) = run_with(&files, &format!("{P}    max_age: 3d\n"), &HashMap::new());
    assert_eq!(
        list[0].2,
        Reason::MaxAge {
            max_age: Duration::from_secs(3 * 86400),
            age: Duration::from_secs(4 * 86400)
        }
    );
    assert_eq!(list[0].2.to_string(), "age 4d0h over max_age 3d0h");
}

#[test]
fn keep_newest_protects_against_every_rule() {
    let files: Vec<_> = (1..=6).map(|d| file(0, &format!("f{d}"), 100, 10.0 + d as f64)).collect();
    let yaml = format!(
        "{P}    max_age: 1d\n    keep_newest: 2\n    max_files: 1\n    max_total_size: 1B\n"
    );
    assert_eq!(names(&files, &yaml, ActionKind::Delete), ["f3", "f4", "f5", "f6"]);
}

#[test]
fn max_files_keeps_the_newest_n() {
    let files: Vec<_> = (0..10).map(|i| file(0, &format!("f{i}"), 1, i as f64)).collect();
    let (list, _) = run_with(&files, &format!("{P}    max_files: 4\n"), &HashMap::new());
    let got: Vec<_> = list.iter().map(|a| a.1.as_str()).collect();
    assert_eq!(got, ["f4", "f5", "f6", "f7", "f8", "f9"]);
    assert!(list.iter().all(|a| a.2 == Reason::MaxFiles { max_files: 4 }));
}

#[test]
fn max_total_size_keeps_newest_within_budget() {
    let files: Vec<_> = (0..6).map(|i| file(0, &format!("f{i}"), 100, i as f64)).collect();
    assert_eq!(
        names(&files, &format!("{P}    max_total_size: 350B\n"), ActionKind::Delete),
        ["f3", "f4", "f5"]
    );
    assert_eq!(
        names(&files, &format!("{P}    max_total_size: 300B\n"), ActionKind::Delete),
        ["f3", "f4", "f5"]
    );
    assert_eq!(
        names(&files, &format!("{P}    max_total_size: 299B\n"), ActionKind::Delete),
        ["f2", "f3", "f4", "f5"]
    );
    // A big newer file uses the budget; a small older one that would fit after it still goes,
    // since the rule keeps a newest-first prefix... except that skipped files don't count:
    let mixed = vec![file(0, "new", 300, 0.0), file(0, "mid", 100, 1.0), file(0, "old", 50, 2.0)];
    assert_eq!(
        names(&mixed, &format!("{P}    max_total_size: 360B\n"), ActionKind::Delete),
        ["mid"]
    );
}

#[test]
fn age_is_reported_before_count_and_size() {
    let files = vec![file(0, "a", 100, 0.0), file(0, "b", 100, 5.0), file(0, "c", 100, 1.0)];
    let (list, _) = run_with(
        &files,
        &format!("{P}    max_age: 2d\n    max_files: 1\n    max_total_size: 100B\n"),
        &HashMap::new(),
    );
    assert_eq!(list.len(), 2);
    assert!(matches!(list[0].2, Reason::MaxAge { .. }) && list[0].1 == "b");
    assert!(matches!(list[1].2, Reason::MaxFiles { .. }) && list[1].1 == "c");
}

#[test]
fn held_files_are_reported_not_deleted_and_still_count() {
    let mut files: Vec<_> =
        (0..4).map(|i| file(0, &format!("f{i}"), 100, i as f64 * 3.0)).collect();
    files[2].held_by = Some(4242);
    let (list, _) = run_with(&files, &format!("{P}    max_age: 2d\n"), &HashMap::new());
    let got: Vec<_> = list.iter().map(|a| (a.0, a.1.as_str())).collect();
    assert_eq!(
        got,
        [(ActionKind::Delete, "f1"), (ActionKind::Held, "f2"), (ActionKind::Delete, "f3")]
    );
    // Under a size budget the held file still occupies space, so the older one goes too.
    let got = names(&files, &format!("{P}    max_total_size: 250B\n"), ActionKind::Delete);
    assert_eq!(got, ["f3"], "f0+f1 fit; f2 held stays (and is over); f3 must go");
    assert_eq!(names(&files, &format!("{P}    max_total_size: 250B\n"), ActionKind::Held), ["f2"]);
}

#[test]
fn active_files_are_never_touched_nor_counted() {
    let mut files: Vec<_> =
        (0..4).map(|i| file(0, &format!("f{i}"), 100, 10.0 + i as f64)).collect();
    files[3].active = true;
    let yaml = format!("{P}    max_age: 1d\n    rotate: {{compress: gzip}}\n");
    let (list, _) = run_with(&files, &yaml, &HashMap::new());
    assert!(list.iter().all(|a| a.1 != "f3"), "{list:?}");
    files[0].active = true;
    files[0].meta.mtime_ns = NOW;
    let got = names(&files, &format!("{P}    max_files: 2\n"), ActionKind::Delete);
    assert!(got.is_empty(), "two non-active files are within max_files 2: {got:?}");
}

#[test]
fn equal_mtimes_break_ties_by_name_and_input_order_does_not_matter() {
    let mut files: Vec<_> =
        ["x.3", "x.1", "x.4", "x.2"].iter().map(|n| file(0, n, 1, 1.0)).collect();
    let yaml = format!("{P}    max_files: 2\n");
    let first = names(&files, &yaml, ActionKind::Delete);
    assert_eq!(first, ["x.1", "x.2"], "greater name is newer on equal mtimes");
    for _ in 0..4 {
        files.rotate_left(1);
        assert_eq!(names(&files, &yaml, ActionKind::Delete), first);
    }
}

fn usage(used: u64, size: u64) -> HashMap<u64, FsUsage> {
    HashMap::from([(1, FsUsage { size_bytes: size, used_bytes: used })])
}

const TWO: &str = "policies:
  - name: traces
    paths: [/log/*.trc]
    priority: 10
  - name: alert
    paths: [/log/alert*]
    keep_newest: 1
disk: { high_watermark: 80%, low_watermark: 70% }
";

#[test]
fn watermark_purges_lowest_priority_then_oldest_until_low() {
    let files = vec![
        file(0, "t1.trc", 50, 1.0),
        file(0, "t2.trc", 50, 2.0),
        file(0, "t3.trc", 50, 3.0),
        file(1, "alert1", 100, 9.0),
        file(1, "alert2", 100, 10.0),
        file(1, "alert3", 100, 11.0),
    ];
    // 900 of 1000 used: 200 must go. Traces (priority 10) go first, oldest first: 150, then
    // the oldest alert file.
    let (list, p) = run_with(&files, TWO, &usage(900, 1000));
    let got: Vec<_> = list.iter().map(|a| a.1.as_str()).collect();
    assert_eq!(got, ["alert3", "t1.trc", "t2.trc", "t3.trc"]);
    assert!(matches!(list[0].2, Reason::Watermark { .. }));
    assert_eq!(
        p.pressure,
        [Pressure {
            dev: 1,
            usage: FsUsage { size_bytes: 1000, used_bytes: 900 },
            needed_bytes: 200,
            planned_bytes: 250
        }]
    );
    // Exactly at high (80%): 100 to free, the two oldest traces suffice.
    let (list, _) = run_with(&files, TWO, &usage(800, 1000));
    assert_eq!(list.iter().map(|a| a.1.as_str()).collect::<Vec<_>>(), ["t2.trc", "t3.trc"]);
    assert_eq!(
        list[0].2.to_string(),
        "filesystem 80.0% used, at or above high_watermark 80%; purging to 70%"
    );
}

#[test]
fn watermark_needs_high_to_start_and_other_filesystems_are_untouched() {
    let mut files = vec![file(0, "t1.trc", 50, 1.0), file(0, "t2.trc", 50, 2.0)];
    assert!(run_with(&files, TWO, &usage(799, 1000)).0.is_empty(), "79.9% is below high");
    assert!(run_with(&files, TWO, &HashMap::new()).0.is_empty(), "unknown usage: no purge");
    files[1].meta.dev = 2;
    let (list, _) = run_with(&files, TWO, &usage(950, 1000));
    assert_eq!(list.iter().map(|a| a.1.as_str()).collect::<Vec<_>>(), ["t1.trc"]);
}

#[test]
fn watermark_counts_rule_deletions_first_and_reports_shortfall() {
    let yaml = TWO.replace("priority: 10\n", "priority: 10\n    max_age: 2d\n");
    let files = vec![
        file(0, "t1.trc", 50, 1.0),
        file(0, "t2.trc", 100, 3.0),
        file(1, "alert1", 100, 9.0),
        file(1, "alert2", 100, 10.0),
    ];
    // Need 130; age frees t2 (100), watermark adds t1 (50).
    let (list, p) = run_with(&files, &yaml, &usage(830, 1000));
    assert!(matches!(list.iter().find(|a| a.1 == "t2.trc").unwrap().2, Reason::MaxAge { .. }));
    assert!(matches!(list.iter().find(|a| a.1 == "t1.trc").unwrap().2, Reason::Watermark { .. }));
    assert_eq!(list.len(), 2);
    assert_eq!(p.pressure[0].planned_bytes, 150);
    // Need 700: everything but the protected newest alert goes, and it is not enough.
    let (list, p) = run_with(&files, &yaml, &usage(1000, 1000));
    assert_eq!(list.len(), 3);
    assert!(list.iter().all(|a| a.1 != "alert1"));
    assert_eq!((p.pressure[0].needed_bytes, p.pressure[0].planned_bytes), (300, 250));
}

#[test]
fn watermark_skips_hard_links_and_reports_held() {
    let mut files =
        vec![file(0, "t1.trc", 50, 1.0), file(0, "t2.trc", 50, 2.0), file(0, "t3.trc", 50, 3.0)];
    files[2].meta.nlink = 2;
    files[1].held_by = Some(7);
    let (list, p) = run_with(&files, TWO, &usage(850, 1000));
    let got: Vec<_> = list.iter().map(|a| (a.0, a.1.as_str())).collect();
    assert_eq!(got, [(ActionKind::Delete, "t1.trc"), (ActionKind::Held, "t2.trc")]);
    assert_eq!(p.pressure[0].planned_bytes, 50);
}

#[test]
fn compress_survivors_only() {
    let mut files = vec![
        file(0, "a.1", 10, 0.5),
        file(0, "a.2.gz", 10, 1.0),
        file(0, "a.3", 10, 9.0),
        file(0, "a.4", 0, 0.5),
        file(0, "a.5", 10, 0.5),
        file(0, "a.6.zst", 10, 0.5),
    ];
    files[4].held_by = Some(1);
    let yaml = format!("{P}    max_age: 5d\n    rotate: {{compress: gzip}}\n");
    let (list, _) = run_with(&files, &yaml, &HashMap::new());
    let got: Vec<_> = list.iter().map(|a| (a.0, a.1.as_str())).collect();
    assert_eq!(
        got,
        [(ActionKind::Compress, "a.1"), (ActionKind::Delete, "a.3"), (ActionKind::Held, "a.5")]
    );
    assert_eq!(list[0].2, Reason::Compress(Compression::Gzip));
    let zstd = format!("{P}    max_age: 5d\n    rotate: {{compress: zstd}}\n");
    let (list, _) = run_with(&files, &zstd, &HashMap::new());
    assert_eq!(list[0], (ActionKind::Compress, "a.1".into(), Reason::Compress(Compression::Zstd)));
}

/// A deterministic pseudo-random generator (no dependency, same sequence every run).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

#[test]
fn invariants_hold_over_a_grid_of_rules_and_trees() {
    let mut rng = Lcg(7);
    let mut checked = 0;
    for tree in 0..12 {
        let n = 1 + rng.next(25) as usize;
        let mut files: Vec<_> = (0..n)
            .map(|i| {
                let mut f =
                    file(0, &format!("f{i:02}"), 1 + rng.next(200), rng.next(20) as f64 / 2.0);
                f.held_by = (rng.next(8) == 0).then_some(99);
                f.active = rng.next(10) == 0;
                f
            })
            .collect();
        files.sort_by_key(|f| f.meta.mtime_ns);
        for max_age in ["", "    max_age: 3d\n"] {
            for keep in ["", "    keep_newest: 3\n"] {
                for max_files in ["", "    max_files: 5\n"] {
                    for size in ["", "    max_total_size: 400B\n"] {
                        for disk in ["", "disk: {high_watermark: 50%, low_watermark: 40%}\n"] {
                            let rules = format!("{max_age}{keep}{max_files}{size}");
                            if rules == keep && disk.is_empty() {
                                continue; // a policy that does nothing is a config error
                            }
                            let yaml = format!("{P}{rules}{disk}");
                            let used: u64 = files.iter().map(|f| f.meta.disk_bytes).sum();
                            let u = usage(used + 100 * tree, used * 2);
                            check_invariants(&files, &yaml, &u);
                            checked += 1;
                        }
                    }
                }
            }
        }
    }
    assert!(checked > 300, "{checked}");
}

fn check_invariants(files: &[FileInfo], yaml: &str, u: &HashMap<u64, FsUsage>) {
    let (pols, _) = policies(yaml);
    let pol = &pols[0];
    let (list, p) = run_with(files, yaml, u);
    let mut ranked: Vec<&FileInfo> = files.iter().filter(|f| !f.active).collect();
    ranked.sort_by(|a, b| b.meta.mtime_ns.cmp(&a.meta.mtime_ns).then(b.name.cmp(&a.name)));
    let rank = |name: &str| ranked.iter().position(|f| f.name == name).unwrap();
    let acted: std::collections::HashSet<&str> = list.iter().map(|a| a.1.as_str()).collect();
    // Files the policy rules (not the watermark) removed: they don't count toward the size total.
    let by_rule: std::collections::HashSet<&str> = list
        .iter()
        .filter(|a| !matches!(a.2, Reason::Watermark { .. }))
        .map(|a| a.1.as_str())
        .collect();
    for (kind, name, reason) in &list {
        let f = files.iter().find(|f| f.name == name.as_str()).unwrap();
        assert!(!f.active, "{yaml}: acted on active {name}");
        assert!(rank(name) >= pol.keep_newest, "{yaml}: acted on protected {name}");
        assert_eq!(*kind == ActionKind::Held, f.held_by.is_some(), "{yaml}: {name}");
        let age = Duration::from_nanos((NOW - f.meta.mtime_ns) as u64);
        match reason {
            Reason::MaxAge { max_age, .. } => assert!(age > *max_age),
            Reason::MaxFiles { max_files } => assert!(rank(name) >= *max_files),
            Reason::MaxTotalSize { max_total_size_bytes } => {
                let newer: u64 = ranked[..rank(name)]
                    .iter()
                    .filter(|g| !by_rule.contains(g.name.to_str().unwrap()) || g.held_by.is_some())
                    .map(|g| g.meta.size_bytes)
                    .sum();
                assert!(newer + f.meta.size_bytes > *max_total_size_bytes, "{yaml}: {name}");
            }
            Reason::Watermark { .. } => assert!(!p.pressure.is_empty()),
            Reason::Compress(_) | Reason::MaxSize { .. } => {
                unreachable!("grid has no compress or rotate")
            }
        }
    }
    // Completeness: every unprotected, non-active survivor satisfies age and count rules.
    for f in &ranked {
        let name = f.name.to_str().unwrap();
        if acted.contains(name) || rank(name) < pol.keep_newest {
            continue;
        }
        let age = Duration::from_nanos((NOW - f.meta.mtime_ns) as u64);
        assert!(pol.max_age.is_none_or(|m| age <= m), "{yaml}: {name} survived max_age");
        assert!(pol.max_files.is_none_or(|m| rank(name) < m), "{yaml}: {name} survived max_files");
    }
    // Watermark: either the target is met or every eligible file is gone or held.
    for pr in &p.pressure {
        if pr.planned_bytes < pr.needed_bytes {
            for f in &ranked {
                let name = f.name.to_str().unwrap();
                assert!(
                    acted.contains(name) || rank(name) < pol.keep_newest,
                    "{yaml}: {name} spared"
                );
            }
        }
    }
}

#[test]
fn active_files_past_max_size_are_rotated_and_nothing_else_is() {
    let yaml = "policies:\n  - name: a\n    paths: [/log/app.log.*]\n    active: [/log/*.log]\n    max_age: 1d\n    rotate: {max_size: 1KiB, copytruncate: true}\n";
    let mut big = file(0, "app.log", 4096, 5.0);
    big.active = true;
    big.held_by = Some(42); // the writer: rotation happens anyway
    let mut small = file(0, "other.log", 1024, 5.0);
    small.active = true;
    let old = file(0, "app.log.1", 4096, 5.0);
    let (list, _) = run_with(&[big.clone(), small, old], yaml, &HashMap::new());
    let reason = Reason::MaxSize { max_size_bytes: 1024, size_bytes: 4096, copytruncate: true };
    assert_eq!(
        list,
        vec![
            (ActionKind::Rotate, "app.log".into(), reason.clone()),
            (
                ActionKind::Delete,
                "app.log.1".into(),
                Reason::MaxAge {
                    max_age: Duration::from_secs(86400),
                    age: Duration::from_secs(5 * 86400)
                }
            ),
        ]
    );
    assert_eq!(reason.to_string(), "size 4KiB over rotate.max_size 1KiB; copytruncate");
}

#[test]
fn the_file_being_rotated_counts_toward_max_files() {
    // logrotate's `rotate 2`: after this run two rotated files remain, the one rotated now
    // and the newest of the old ones.
    let yaml = "policies:\n  - name: a\n    paths: [/log/app.log.*]\n    active: [/log/app.log]\n    max_files: 2\n    rotate: {max_size: 1KiB}\n";
    let mut active = file(0, "app.log", 4096, 0.0);
    active.active = true;
    let files = [active, file(0, "app.log.2", 10, 1.0), file(0, "app.log.1", 10, 2.0)];
    assert_eq!(names(&files, yaml, ActionKind::Delete), ["app.log.1"]);
    assert_eq!(names(&files, yaml, ActionKind::Rotate), ["app.log"]);
    // Not rotating (under max_size): both old files stay.
    let mut small = files.clone();
    small[0].meta.size_bytes = 10;
    assert!(names(&small, yaml, ActionKind::Delete).is_empty());
}
