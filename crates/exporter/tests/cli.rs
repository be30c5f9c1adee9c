//! The binary's contract: flags, exit codes (0 ok, 1 runtime failure, 2 bad usage or config)
//! with messages naming the file and field, and graceful shutdown on SIGTERM/SIGINT.
#![allow(clippy::disallowed_methods, clippy::unwrap_used)] // test code

mod util;

use std::process::Command;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process};
use util::*;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(ours()).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn help_and_version() {
    let (code, out, _) = run(&["--help"]);
    assert_eq!(code, 0);
    for flag in [
        "--web.listen-address",
        "--path.procfs",
        "--collector.loadavg",
        "--collector.disable-defaults",
        "--web.config.file",
    ] {
        assert!(out.contains(flag), "--help lacks {flag}:\n{out}");
    }
    let (code, out, _) = run(&["--version"]);
    assert_eq!(code, 0);
    assert!(out.contains(env!("CARGO_PKG_VERSION")), "{out}");
}

#[test]
fn man_page_and_completion_scripts_come_from_the_flags() {
    let (code, man, _) = run(&["--help-man"]);
    assert_eq!(code, 0);
    assert!(man.contains(".TH obwatch-exporter 1"), "{man}");
    // Every flag --help shows is in the page, collectors included.
    let (_, help, _) = run(&["--help"]);
    for flag in help.split_whitespace().filter(|w| w.starts_with("--")) {
        let flag = flag.trim_end_matches([',', '.', ')']).split('=').next().unwrap();
        assert!(man.contains(&flag.replace('-', "\\-")), "the man page lacks {flag}");
    }
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef obwatch-exporter"),
        ("fish", "complete -c obwatch-exporter"),
    ] {
        let (code, script, _) = run(&[&format!("--completion-script-{shell}")]);
        assert_eq!(code, 0);
        assert!(script.contains(marker) && script.contains("collector.cpu"), "{shell}: {script}");
    }
    // Only alone: with other arguments it is an unknown flag (exit 2), as before.
    assert_eq!(run(&["--help-man", "--web.listen-address", ":0"]).0, 2);
}

#[test]
fn bad_usage_and_config_exit_2_naming_the_problem() {
    let (code, _, err) = run(&["--web.listen-adress=:1"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--web.listen-adress"), "{err}");

    let d = tempfile::tempdir().unwrap();
    let missing = d.path().join("missing.yml");
    let (code, _, err) = run(&["--config.file", missing.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("missing.yml: cannot read"), "{err}");

    let bad = d.path().join("exporter.yml");
    std::fs::write(&bad, "web:\n  telemetry_path: /metrics\n  listen: x\n").unwrap();
    let (code, _, err) = run(&["--config.file", bad.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("exporter.yml:3:3") && err.contains("listen"), "{err}");

    let web = d.path().join("web.yml");
    std::fs::write(&web, "basic_auth_users:\n  prometheus: hunter2\n").unwrap();
    let (code, _, err) =
        run(&["--web.listen-address", "127.0.0.1:0", "--web.config.file", web.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains("web.yml: field `basic_auth_users.prometheus`: expected a bcrypt hash"),
        "{err}"
    );

    let (code, _, err) =
        run(&["--collector.netdev.device-include=(", "--web.listen-address", "127.0.0.1:0"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("command line: field `--collector.netdev.device-include`")
            && err.contains("regular expression"),
        "{err}"
    );
}

#[test]
fn port_in_use_exits_2() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (code, _, err) = run(&["--web.listen-address", &addr]);
    assert_eq!(code, 2);
    assert!(err.contains(&format!("cannot listen on {addr}")), "{err}");
}

#[test]
fn sigterm_and_sigint_stop_gracefully() {
    for sig in [Signal::TERM, Signal::INT] {
        let logs = tempfile::tempdir().unwrap();
        let (mut p, base) = start_ours(&[], &logs.path().join("log"));
        assert_eq!(get(&format!("{base}/metrics")).unwrap().0, 200);
        kill_process(Pid::from_raw(p.pid() as i32).unwrap(), sig).unwrap();
        let exit = format!("an exit on {sig:?}");
        let status = wait_for(&exit, Duration::from_secs(10), || p.0.try_wait().unwrap());
        assert_eq!(status.code(), Some(0), "{sig:?}");
        let log = std::fs::read_to_string(logs.path().join("log")).unwrap();
        assert!(log.contains("Shutting down"), "{log}");
    }
}

#[test]
fn yaml_config_file_is_used() {
    let d = tempfile::tempdir().unwrap();
    let cfg = d.path().join("exporter.yml");
    std::fs::write(
        &cfg,
        "web:\n  listen_addresses: ['127.0.0.1:0']\n  telemetry_path: /probe\n\
         collectors:\n  disable_defaults: true\n  enable: [loadavg]\nlog:\n  format: json\n",
    )
    .unwrap();
    let (_p, listen) = Proc::start_listening(
        &ours(),
        &["--config.file", cfg.to_str().unwrap()],
        &d.path().join("log"),
    );
    let base = format!("http://{listen}");
    wait_ready(&format!("{base}/-/healthy"), Duration::from_secs(10));
    let (status, body) = get(&format!("{base}/probe")).unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("node_load1 ") && !body.contains("node_filesystem"), "{body}");
    // The landing page links the configured path and lists what is enabled.
    let (status, page) = get(&format!("{base}/")).unwrap();
    assert_eq!(status, 200);
    assert!(page.contains("<a href=\"/probe\"><code>/probe</code></a>"), "{page}");
    assert!(
        page.contains("<h2>Collectors enabled, as the last scrape found them</h2>\n<ul>\n<li class=\"mono\">loadavg: ok in "),
        "{page}"
    );
    let log = std::fs::read_to_string(d.path().join("log")).unwrap();
    assert!(log.lines().next().is_some_and(|l| l.starts_with('{')), "json logs expected: {log}");
}

#[test]
fn check_validates_flags_config_and_web_config_without_serving() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../packaging/examples/exporter.yml");
    let t = Instant::now();
    let (code, out, err) = run(&["check", "-c", example]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("ok: ") && out.contains("timex") && out.contains(":62889"), "{out}");
    assert!(t.elapsed() < Duration::from_secs(10), "check must not serve");
    let d = tempfile::tempdir().unwrap();
    let web = d.path().join("web.yml");
    std::fs::write(&web, "tls_server_config:\n  cert_file: /nonexistent.crt\n  key_file: x\n")
        .unwrap();
    let (code, out, err) = run(&["check", "--web.config.file", web.to_str().unwrap()]);
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(err.contains("nonexistent.crt"), "{err}");
    let (code, _, err) = run(&["check", "--collector.nosuch"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn every_flag_and_example_key_is_documented() {
    let flags = obwatch_testkit::docs::help_flags(env!("CARGO_BIN_EXE_obwatch-exporter"), &[]);
    assert!(flags.len() > 40, "{flags:?}");
    let keys = obwatch_testkit::docs::example_keys("packaging/examples/exporter.yml");
    let missing = obwatch_testkit::docs::undocumented(&flags, &keys);
    assert!(missing.is_empty(), "not in docs/: {missing:?}");
}
