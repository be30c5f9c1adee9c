//! Unit tests of `config`: the example config, defaults, and every validation error with its
//! file, field and expected value.

use super::*;

const EXAMPLE: &str = r#"
interval: 10m
audit_log: /var/log/obwatch/cleaner.audit.jsonl
textfile: textfile/cleaner.prom
policies:
  - name: observer
    paths: ["/home/admin/oceanbase/log/*.log.*", "/home/admin/oceanbase/log/alert/alert.log.*"]
    active: ["/home/admin/oceanbase/log/*.log"]
    max_age: 8d
    keep_newest: 10
    max_total_size: 20GiB
    rotate: { max_size: 256MiB, compress: gzip }
  - name: crs-trace
    paths: ["/u01/app/grid/diag/crs/**/trace/*.tr[cm]"]
    max_files: 500
    priority: 10
disk: { high_watermark: 80%, low_watermark: 70% }
"#;

fn err(text: &str) -> String {
    Config::parse(Path::new("/etc/obwatch/cleaner.yml"), text).unwrap_err().to_string()
}

#[test]
fn example_parses_with_defaults_and_resolved_paths() {
    let c = Config::parse(Path::new("/etc/obwatch/cleaner.yml"), EXAMPLE).unwrap();
    assert_eq!(c.interval, Duration::from_secs(600));
    assert_eq!(c.jitter, Duration::from_secs(60));
    assert_eq!(c.textfile, Some(PathBuf::from("/etc/obwatch/textfile/cleaner.prom")));
    assert_eq!(c.lock_file, PathBuf::from(DEFAULT_LOCK_FILE));
    assert_eq!(c.policies.len(), 2);
    let ob = &c.policies[0];
    assert_eq!(ob.max_age, Some(Duration::from_secs(8 * 86400)));
    assert_eq!((ob.keep_newest, ob.max_files, ob.priority), (10, None, DEFAULT_PRIORITY));
    assert_eq!(ob.max_total_size_bytes, Some(20 << 30));
    assert_eq!(ob.compress, Some(Compression::Gzip));
    assert_eq!(c.policies[1].priority, 10);
    assert_eq!(c.disk.map(|d| d.high.value()), Some(80.0));
    let r = ob.rotate.as_ref().unwrap();
    assert_eq!((r.max_size_bytes, r.copytruncate), (256 << 20, false));
    // The walk includes the active files, so rotation can measure them.
    assert_eq!(ob.globs.len(), 3, "two paths plus the active glob");
}

#[test]
fn errors_name_file_field_and_expectation() {
    let pol = "policies:\n  - name: a\n    paths: [/l/*.log.*]\n    max_age: 1d\n";
    for (text, want) in [
        ("policies: []\n", "cleaner.yml: field `policies`: expected at least one policy"),
        (&format!("{pol}    max_agee: 1d\n"), "cleaner.yml:5:5: unknown field `max_agee`"),
        (&format!("{pol}    keep_newest: -1\n"), "cleaner.yml:5:18"),
        (
            &format!("{pol}disk: {{high_watermark: 70%, low_watermark: 80%}}\n"),
            "field `disk.low_watermark`: expected below high_watermark (70%)",
        ),
        (
            &format!("{pol}disk: {{high_watermark: 80, low_watermark: 70%}}\n"),
            "expected a percentage like 80%",
        ),
        (
            "policies:\n  - name: a\n    paths: [l/*.log]\n    max_age: 1d\n",
            "field `policies[0].paths[0]`: expected an absolute path glob",
        ),
        (
            "policies:\n  - name: a\n    paths: [/l/*]\n",
            "field `policies[0].name`: policy \"a\" does nothing",
        ),
        (
            &format!("{pol}  - name: a\n    paths: [/m/*]\n    max_age: 1d\n"),
            "field `policies[1].name`: expected a unique name",
        ),
        (&format!("{pol}interval: 0s\n"), "field `interval`: expected a duration above 0s"),
        (
            &format!("{pol}interval: 1m\njitter: 1m\n"),
            "field `jitter`: expected less than interval",
        ),
        (&format!("{pol}    max_files: 0\n"), "field `policies[0].max_files`: expected at least 1"),
        (&format!("{pol}    rotate: {{compress: lz4}}\n"), "unknown variant `lz4`"),
        (&format!("{pol}    active: [\"/x/[\"]\n"), "field `policies[0].active[0]`: unclosed `[`"),
        // Dangerous policies (safety.rs): refused in `check` and at start, naming the field.
        (
            "policies:\n  - name: a\n    paths: [/l/*.log, '/etc/*.conf']\n    max_age: 1d\n",
            "field `policies[0].paths[1]`: /etc is a system directory",
        ),
        (
            "policies:\n  - name: a\n    paths: ['/*']\n    max_age: 1d\n",
            "field `policies[0].paths[0]`: expected a glob below a directory",
        ),
        (
            "policies:\n  - name: a\n    paths: ['/proc/*']\n    max_age: 1d\n    allow_system_paths: true\n",
            "field `policies[0].paths[0]`: /proc is a pseudo",
        ),
        (
            "policies:\n  - name: a\n    paths: [/l/*]\n    max_age: 0s\n",
            "field `policies[0].max_age`: expected at least 1h",
        ),
        (
            "policies:\n  - name: a\n    paths: [/l/*]\n    max_total_size: 0\n",
            "field `policies[0].max_total_size`: expected a size above 0",
        ),
    ] {
        let e = err(text);
        assert!(e.contains(want), "want {want:?} in:\n{e}\nfor:\n{text}");
        assert!(e.starts_with("/etc/obwatch/cleaner.yml"), "{e}");
    }
}

#[test]
fn allow_system_paths_lets_a_policy_clean_a_system_directory() {
    let c = Config::parse(
        Path::new("/etc/obwatch/cleaner.yml"),
        "policies:\n  - name: db\n    paths: [/var/lib/mysql/*.err.*]\n    max_age: 30d\n    \
         allow_system_paths: true\n",
    )
    .unwrap();
    assert_eq!(c.policies[0].globs[0].root, Path::new("/var/lib/mysql"));
}

#[test]
fn rotation_needs_a_size_and_active_files() {
    let pol = "policies:\n  - name: a\n    paths: [/l/*.log.*]\n";
    for (text, want) in [
        (
            format!("{pol}    rotate: {{copytruncate: true}}\n"),
            "field `policies[0].rotate.max_size`: copytruncate, postrotate and signal need a size",
        ),
        (
            format!("{pol}    rotate: {{max_size: 1MiB}}\n"),
            "field `policies[0].active`: rotate.max_size rotates the policy's active files",
        ),
        (
            format!("{pol}    active: [/l/*.log]\n    rotate: {{max_size: 0B}}\n"),
            "field `policies[0].rotate.max_size`: expected a size above 0",
        ),
        (
            format!(
                "{pol}    active: [/l/*.log]\n    rotate: {{max_size: 1MiB, postrotate: [kill, -HUP, '1']}}\n"
            ),
            "field `policies[0].rotate.postrotate[0]`: expected an absolute program path",
        ),
        (
            format!("{pol}    active: [/l/*.log]\n    rotate: {{max_size: 1MiB, postrotat: []}}\n"),
            "unknown field `postrotat`",
        ),
        (
            format!("{pol}    active: [/l/*.log]\n    rotate: {{max_size: 1MiB, signal: HUP}}\n"),
            "field `policies[0].rotate.pid_file`: rotate.signal needs the writer's pid file",
        ),
        (
            format!(
                "{pol}    active: [/l/*.log]\n    rotate: {{max_size: 1MiB, signal: HUP, pid_file: x.pid}}\n"
            ),
            "field `policies[0].rotate.pid_file`: expected an absolute path",
        ),
        (
            format!(
                "{pol}    active: [/l/*.log]\n    rotate: {{max_size: 1MiB, signal: KILL, pid_file: /x.pid}}\n"
            ),
            "unknown variant `KILL`, expected one of HUP, USR1, USR2",
        ),
        (
            format!(
                "{pol}    active: [/l/*.log]\n    rotate: {{max_size: 1MiB, pid_file: /x.pid}}\n"
            ),
            "field `policies[0].rotate.signal`: rotate.pid_file needs a signal",
        ),
    ] {
        let e = err(&text);
        assert!(e.contains(want), "want {want:?} in:\n{e}");
    }
}
