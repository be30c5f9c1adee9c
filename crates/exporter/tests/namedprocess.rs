//! The namedprocess and timer collectors on this host's real /proc: fake Clusterware daemons
//! (`sleep` under the names `ocssd.bin`, `crsd.bin`) are counted, killed and respawned; a shell
//! holding a deleted file reports its exact size; the timer histogram fills; a bad
//! `process_names` regex exits 2 naming the file and field.
#![allow(clippy::disallowed_methods, clippy::unwrap_used)] // test code

mod util;

use std::path::{Path, PathBuf};
use std::process::Command;

use util::*;

/// `/bin/sleep` under the name `name` in `dir`, so argv[0] and comm are `name`. A symlink, not
/// a copy: a copy's write descriptor can leak into a child forked meanwhile by another test
/// thread, and exec of the copy then fails with ETXTBSY. The kernel takes comm from the path
/// given to execve, before the symlink is resolved.
fn fake_daemon(dir: &Path, name: &str) -> PathBuf {
    let p = dir.join(name);
    std::os::unix::fs::symlink("/bin/sleep", &p).unwrap();
    p
}

#[test]
fn fake_daemons_restarts_deleted_files_and_timer() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ocssd = fake_daemon(d, "ocssd.bin");
    let crsd = fake_daemon(d, "crsd.bin");
    let log = |n: &str| d.join(format!("{n}.log"));
    let ocssd_a = Proc::start(&ocssd, &["1000"], &log("a"));
    let _ocssd_b = Proc::start(&ocssd, &["1000"], &log("b"));
    let crsd_a = Proc::start(&crsd, &["1000"], &log("c"));
    // A shell (group from the YAML below) opens a file twice, fills it, deletes it, then blocks
    // in its own `read` on a FIFO nobody writes, so no child holds the file too.
    let held = d.join("held.dat");
    let script = "exec 3>\"$1\" 4<\"$1\"; head -c 12345 /dev/zero >&3; rm \"$1\"; \
                  mkfifo \"$1.fifo\"; read x < \"$1.fifo\"";
    let holder = Proc::start(
        Path::new("/bin/sh"),
        &["-c", script, "holder-dbwriter", held.to_str().unwrap()],
        &log("holder"),
    );
    let config = d.join("exporter.yml");
    std::fs::write(
        &config,
        "collectors:\n  process_names:\n    - name: 'holder_{{.Matches.tag}}'\n      \
         cmdline: ['holder-(?P<tag>\\w+)']\n",
    )
    .unwrap();
    let (_ours, base) = start_ours(
        &[
            "--config.file",
            config.to_str().unwrap(),
            "--collector.disable-defaults",
            "--collector.namedprocess",
            "--collector.timer",
            "--collector.timer.tick=20ms",
        ],
        &log("exporter"),
    );
    let url = format!("{base}/metrics");
    let procs =
        |b: &str, g: &str| value(b, "namedprocess_namegroup_num_procs", &[("groupname", g)]);
    let restarts =
        |b: &str| value(b, "obwatch_process_restarts_total", &[("groupname", "ocssd.bin")]);

    let body = scrape_until(&url, "2 ocssd.bin, 1 crsd.bin", |b| {
        procs(b, "ocssd.bin") == Some(2.0) && procs(b, "crsd.bin") == Some(1.0)
    });
    assert_eq!(restarts(&body), Some(0.0));
    let start = value(
        &body,
        "namedprocess_namegroup_oldest_start_time_seconds",
        &[("groupname", "ocssd.bin")],
    )
    .unwrap();
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    assert!((now - 120.0..=now + 2.0).contains(&start), "start time {start}, now {now}");
    let rss = value(
        &body,
        "namedprocess_namegroup_memory_bytes",
        &[("groupname", "crsd.bin"), ("memtype", "resident")],
    );
    assert!(rss.unwrap() > 0.0);
    assert!(!body.contains("groupname=\"sleep\""));

    // Deleted but open: the exact size, once although two descriptors hold it.
    let body = scrape_until(&url, "the holder's deleted file", |b| {
        value(b, "obwatch_process_deleted_open_file_bytes", &[("groupname", "holder_dbwriter")])
            == Some(12345.0)
    });
    let fds =
        value(&body, "namedprocess_namegroup_open_filedesc", &[("groupname", "holder_dbwriter")]);
    assert!(fds.unwrap() >= 5.0, "stdin/out/err, 3 and 4: {fds:?}");
    assert_eq!(
        value(&body, "obwatch_process_deleted_open_file_bytes", &[("groupname", "ocssd.bin")]),
        Some(0.0)
    );

    // One ocssd.bin killed and respawned: one restart. crsd.bin killed for good: still
    // reported, with 0 processes.
    drop(ocssd_a);
    drop(crsd_a);
    let _ocssd_c = Proc::start(&ocssd, &["1000"], &log("c2"));
    scrape_until(&url, "a restart and crsd.bin at 0", |b| {
        restarts(b) == Some(1.0)
            && procs(b, "ocssd.bin") == Some(2.0)
            && procs(b, "crsd.bin") == Some(0.0)
    });
    drop(holder);
    scrape_until(&url, "the holder gone", |b| {
        value(b, "obwatch_process_deleted_open_file_bytes", &[("groupname", "holder_dbwriter")])
            == Some(0.0)
    });

    // The timer probe wakes every 20 ms.
    let count = |b: &str| value(b, "obwatch_timer_wakeup_delay_seconds_count", &[]);
    let body = scrape_until(&url, "3 timer wake-ups", |b| count(b) >= Some(3.0));
    let count = count(&body).unwrap();
    let inf = value(&body, "obwatch_timer_wakeup_delay_seconds_bucket", &[("le", "+Inf")]);
    assert_eq!(inf, Some(count));
    assert!(value(&body, "obwatch_timer_wakeups_late_total", &[]).is_some());
}

#[test]
fn bad_process_names_regex_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bad.yml");
    std::fs::write(&config, "collectors:\n  process_names:\n    - { name: x, cmdline: ['('] }\n")
        .unwrap();
    let out =
        Command::new(ours()).args(["--config.file", config.to_str().unwrap()]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "bad.yml: field `collectors.process_names[0].cmdline[0]`: expected a regular expression"
        ),
        "{stderr}"
    );
}

/// Debian's prometheus-process-exporter and obwatch-exporter configured for the same three
/// groups (fake daemons: `sleep` under names of this test's own, so the other test's daemons
/// and built-in groups do not mix in) report the same
/// `namedprocess_namegroup_*` values: counts, descriptors and memory exactly (idle processes),
/// start time and CPU within what two scrapes a moment apart can differ by.
#[test]
fn same_values_as_process_exporter() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let groups = ["cmp_observer", "cmp_obproxy", "cmp_ocssd.bin"];
    let mut daemons = Vec::new();
    for (i, g) in groups.iter().enumerate() {
        let bin = fake_daemon(d, g);
        for j in 0..=i {
            daemons.push(Proc::start(&bin, &["1000"], &d.join(format!("{g}{j}.log"))));
        }
    }
    let entries: String = groups
        .iter()
        .map(|g| format!("  - name: \"{{{{.ExeBase}}}}\"\n    exe: [{g}]\n"))
        .collect();
    std::fs::write(d.join("pe.yml"), format!("process_names:\n{entries}")).unwrap();
    let ours_yaml = entries.lines().map(|l| format!("  {l}\n")).collect::<String>();
    std::fs::write(
        d.join("ours.yml"),
        format!("collectors:\n  process_names_builtin: false\n  process_names:\n{ours_yaml}"),
    )
    .unwrap();
    let (_pe, pe) = Proc::start_listening(
        &peer("prometheus-process-exporter"),
        &["-config.path", d.join("pe.yml").to_str().unwrap(), "-web.listen-address", "127.0.0.1:0"],
        &d.join("pe.log"),
    );
    let pe_url = format!("http://{pe}/metrics");
    wait_ready(&pe_url, std::time::Duration::from_secs(10));
    let config = d.join("ours.yml");
    let (_ours, base) = start_ours(
        &[
            "--config.file",
            config.to_str().unwrap(),
            "--collector.disable-defaults",
            "--collector.namedprocess",
        ],
        &d.join("ours.log"),
    );
    let all_there = |b: &str| {
        groups.iter().enumerate().all(|(i, g)| {
            value(b, "namedprocess_namegroup_num_procs", &[("groupname", g)])
                == Some((i + 1) as f64)
        })
    };
    let theirs = scrape_until(&pe_url, "process-exporter sees 1+2+3 daemons", all_there);
    let ours = scrape_until(&format!("{base}/metrics"), "obwatch sees 1+2+3 daemons", all_there);
    let mut compared = 0;
    for g in groups {
        let group = [("groupname", g)];
        for (family, extra, tolerance) in [
            ("namedprocess_namegroup_num_procs", None, 0.0),
            ("namedprocess_namegroup_num_threads", None, 0.0),
            ("namedprocess_namegroup_open_filedesc", None, 0.0),
            ("namedprocess_namegroup_memory_bytes", Some(("memtype", "resident")), 0.0),
            ("namedprocess_namegroup_memory_bytes", Some(("memtype", "virtual")), 0.0),
            ("namedprocess_namegroup_memory_bytes", Some(("memtype", "swapped")), 0.0),
            ("namedprocess_namegroup_oldest_start_time_seconds", None, 0.0),
            ("namedprocess_namegroup_cpu_seconds_total", Some(("mode", "user")), 0.05),
            ("namedprocess_namegroup_cpu_seconds_total", Some(("mode", "system")), 0.05),
        ] {
            let labels: Vec<(&str, &str)> = group.iter().copied().chain(extra).collect();
            let (a, b) = (value(&theirs, family, &labels), value(&ours, family, &labels));
            let (Some(a), Some(b)) = (a, b) else {
                panic!("{family}{labels:?}: process-exporter {a:?}, obwatch {b:?}")
            };
            assert!(
                (a - b).abs() <= tolerance,
                "{family}{labels:?}: process-exporter {a}, obwatch {b}"
            );
            compared += 1;
        }
    }
    assert_eq!(compared, 27);
    drop(daemons);
}
