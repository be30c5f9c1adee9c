//! Restarts: what was not committed is redelivered, files rotated, truncated or renamed while down are found and read from the right place, corrupt state reads from the start, new files start at the end unless from_beginning.

use super::*;

#[test]
fn restart_redelivers_only_what_was_not_committed() {
    let fx = Fixture::new();
    let mut w = append(&fx.log());
    {
        let mut t = fx.open(fx.config());
        writeln!(w, "1\n2\n3").unwrap();
        assert_eq!(texts(&take(&mut t, 3, true)), ["1", "2", "3"]);
        writeln!(w, "4\n5").unwrap();
        assert_eq!(texts(&take(&mut t, 2, false)), ["4", "5"]);
    } // dropped without committing 4 and 5, as after a crash
    writeln!(w, "6").unwrap();
    let mut t = fx.open(fx.config());
    assert_eq!(texts(&take(&mut t, 3, true)), ["4", "5", "6"]);
    assert_quiet(&mut t, Duration::from_millis(200));
}

#[test]
fn restart_finds_a_file_rotated_while_down_and_reads_the_new_one_from_zero() {
    let fx = Fixture::new();
    let mut w = append(&fx.log());
    {
        let mut t = fx.open(fx.config());
        writeln!(w, "1").unwrap();
        assert_eq!(texts(&take(&mut t, 1, true)), ["1"]);
    }
    // While down: the old file gets a line, is renamed, and a new file gets one.
    writeln!(w, "2").unwrap();
    std::fs::rename(fx.log(), fx.dir.path().join("app.log.20240301")).unwrap();
    writeln!(append(&fx.log()), "3").unwrap();
    let mut t = fx.open(fx.config());
    let got = take(&mut t, 2, true);
    let mut sorted = texts(&got);
    sorted.sort_unstable();
    assert_eq!(sorted, ["2", "3"]);
    assert_quiet(&mut t, Duration::from_millis(200));
}

#[test]
fn never_seen_files_start_at_end_unless_from_beginning() {
    let fx = Fixture::new();
    std::fs::write(fx.log(), "old\n").unwrap();
    let mut t = fx.open(fx.config());
    writeln!(append(&fx.log()), "new").unwrap();
    assert_eq!(texts(&take(&mut t, 1, true)), ["new"]);

    let fx = Fixture::new();
    std::fs::write(fx.log(), "old\n").unwrap();
    let mut cfg = fx.config();
    cfg.from_beginning = true;
    let mut t = fx.open(cfg);
    assert_eq!(texts(&take(&mut t, 1, true)), ["old"]);
}

#[test]
fn corrupt_state_without_a_previous_generation_reads_from_the_start() {
    // Lines written while the state was lost may be anywhere in the file: read it all again
    // (Alertmanager deduplicates the alerts) rather than start at the end and lose them.
    let fx = Fixture::new();
    std::fs::write(fx.log(), "old\n").unwrap();
    std::fs::create_dir_all(fx.dir.path().join("state")).unwrap();
    std::fs::write(fx.dir.path().join("state/checkpoints.json"), b"\0\0{not json").unwrap();
    let mut t = fx.open(fx.config());
    writeln!(append(&fx.log()), "new").unwrap();
    assert_eq!(texts(&take(&mut t, 2, true)), ["old", "new"]);
}

#[test]
fn glob_picks_up_new_files_from_zero() {
    let fx = Fixture::new();
    let mut cfg = fx.config();
    cfg.paths = vec![fx.dir.path().join("*.log").display().to_string()];
    cfg.scan_interval = Duration::from_secs(60); // the notify wake-up must do it
    let mut t = fx.open(cfg);
    std::fs::write(fx.dir.path().join("late.log"), "first\nsecond\n").unwrap();
    assert_eq!(texts(&take(&mut t, 2, true)), ["first", "second"]);
}

#[test]
fn restart_reads_a_file_truncated_then_renamed_while_down_from_zero() {
    // Torture-test stall: everything was delivered and committed, then the engine died before
    // it noticed a copytruncate; the file was renamed before the restart. Its checkpoint's
    // fingerprint is the old content's, and the file is older than the last scan, so neither
    // the identity match nor the birth-time catch-up took it: its new lines were lost.
    let fx = Fixture::new();
    let mut w = append(&fx.log());
    writeln!(w, "a1\na2").unwrap();
    {
        let mut cfg = fx.config();
        cfg.from_beginning = true;
        let mut t = fx.open(cfg);
        assert_eq!(texts(&take(&mut t, 2, true)), ["a1", "a2"]);
        // Let the saved scan time move well past the file's birth time: the clock must move,
        // there is no condition to wait on.
        std::thread::sleep(Duration::from_millis(300));
        writeln!(w, "a3").unwrap();
        assert_eq!(texts(&take(&mut t, 1, true)), ["a3"]);
    }
    std::fs::copy(fx.log(), fx.dir.path().join("app.log.1")).unwrap();
    w.set_len(0).unwrap();
    writeln!(w, "b1").unwrap();
    std::fs::rename(fx.log(), fx.dir.path().join("app.log.2")).unwrap();
    writeln!(w, "b2").unwrap();
    writeln!(append(&fx.log()), "c1").unwrap();
    let mut t = fx.open(fx.config());
    let got = take(&mut t, 3, true);
    let mut sorted = texts(&got);
    sorted.sort_unstable();
    assert_eq!(sorted, ["b1", "b2", "c1"]);
    assert_quiet(&mut t, Duration::from_millis(200));
}

#[test]
fn a_file_found_rotated_at_a_restart_is_found_again_after_another_crash() {
    // Its checkpoint now records the rotated name itself (app.log.1), not the input's.
    let fx = Fixture::new();
    let mut w = append(&fx.log());
    {
        let mut t = fx.open(fx.config());
        writeln!(w, "1").unwrap();
        assert_eq!(texts(&take(&mut t, 1, true)), ["1"]);
    }
    writeln!(w, "2").unwrap();
    std::fs::rename(fx.log(), fx.dir.path().join("app.log.1")).unwrap();
    writeln!(append(&fx.log()), "3").unwrap();
    // Older than any scan the next runs save, so the birth-time catch-up does not apply (the
    // clock must move; there is no condition to wait on).
    std::thread::sleep(Duration::from_millis(300));
    {
        let mut t = fx.open(fx.config());
        assert_eq!(take(&mut t, 2, false).len(), 2);
    } // dies before committing
    let mut t = fx.open(fx.config());
    let got = take(&mut t, 2, true);
    let mut sorted = texts(&got);
    sorted.sort_unstable();
    assert_eq!(sorted, ["2", "3"]);
    assert_quiet(&mut t, Duration::from_millis(200));
}
