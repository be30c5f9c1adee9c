//! `clusterware`: Oracle Clusterware state from the tools DBAs use (`crsctl check crs`,
//! `crsctl stat res -v`, `crsctl query css votedisk`, `olsnodes -s`) as `crs_*` metrics.
//!
//! Runs only where there is a Clusterware home: `clusterware.crs_home` in the YAML, else
//! `crs_home=` of `/etc/oracle/olr.loc` (11.2+, as Checkmk's `mk_oracle_crs` finds it), else
//! `ORA_CRS_HOME=` of `/etc/init.d/init.cssd` when `/etc/oracle/ocr.loc` exists (10g/11.1).
//! Elsewhere it reports success with no samples, as node_exporter does for absent hardware.
//! The tools run on a [`Background`] thread every `interval` (30 s), each under `timeout`
//! (10 s) through `obwatch_common::exec`, which kills a hung tool with its children; a tool
//! that hangs or prints garbage gives `obwatch_command_success{command} 0` and drops its
//! `crs_*` series for that round.

mod options;
pub mod parse;

pub use options::Options;
pub(crate) use options::{Flags, Section, compile};

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use obwatch_common::exec;
use obwatch_common::fs::Root;
use obwatch_common::metrics::{MetricSet, MetricType};

use super::background::{Background, report_steps};
use super::{BuildContext, BuildError, CollectError, Collector, CollectorSpec};

/// Registry entry. On by default; inert on hosts without Clusterware.
pub const SPEC: CollectorSpec = CollectorSpec { name: "clusterware", default_enabled: true, build };

fn build(cx: &BuildContext) -> Result<Box<dyn Collector>, BuildError> {
    let o = cx.options.clusterware.clone();
    let Some(home) = o.crs_home.clone().or_else(|| find_crs_home(cx.root)) else {
        return Ok(Box::new(Clusterware { rounds: None }));
    };
    tracing::info!(crs_home = %home.display(), "Clusterware home found; reading crs_* metrics.");
    let commands = commands(&home);
    let mut logged: HashMap<&'static str, String> = HashMap::new();
    let rounds = Background::start("obwatch-crs", o.interval, move || {
        round(&commands, o.timeout, &mut logged)
    })
    .map_err(|e| BuildError {
        collector: "clusterware",
        reason: format!("cannot start the poller: {e}"),
    })?;
    Ok(Box::new(Clusterware { rounds: Some(rounds) }))
}

/// Serves the last round of tool output.
#[derive(Debug)]
pub struct Clusterware {
    rounds: Option<Background>,
}

impl Collector for Clusterware {
    fn collect(&self, out: &mut MetricSet) -> Result<(), CollectError> {
        if let Some(r) = &self.rounds {
            r.copy_into(
                out,
                "obwatch_crs_snapshot_age_seconds",
                "Seconds since the Clusterware tools served here last ran.",
            );
        }
        Ok(())
    }
}

/// The Clusterware home from the files the installer leaves, under `--path.rootfs`.
pub fn find_crs_home(root: &Root) -> Option<PathBuf> {
    let etc = root.rootfs.join("etc");
    let value = |file: &Path, key: &str| -> Option<String> {
        let text = std::fs::read_to_string(file).ok()?;
        text.lines().find_map(|l| l.trim().strip_prefix(key).map(|v| v.trim().to_string()))
    };
    let home = value(&etc.join("oracle/olr.loc"), "crs_home=").or_else(|| {
        etc.join("oracle/ocr.loc")
            .exists()
            .then(|| value(&etc.join("init.d/init.cssd"), "ORA_CRS_HOME="))
            .flatten()
    })?;
    let home = home.trim_matches('"');
    (!home.is_empty()).then(|| root.rootfs.join(home.trim_start_matches('/')))
}

/// A tool run and what to make of its output.
struct Command {
    /// The `command` label, e.g. `crsctl check crs`.
    label: &'static str,
    program: PathBuf,
    args: &'static [&'static str],
    render: fn(&str, &mut MetricSet) -> Result<(), String>,
}

/// 11.2+ homes have `bin/ohasd`; 10g/11.1 list resources with `crs_stat -f` instead.
fn commands(home: &Path) -> Vec<Command> {
    let bin = home.join("bin");
    let resources = if bin.join("ohasd").exists() {
        Command {
            label: "crsctl stat res -v",
            program: bin.join("crsctl"),
            args: &["stat", "res", "-v"],
            render: render_resources,
        }
    } else {
        Command {
            label: "crs_stat -f",
            program: bin.join("crs_stat"),
            args: &["-f"],
            render: render_resources,
        }
    };
    vec![
        Command {
            label: "crsctl check crs",
            program: bin.join("crsctl"),
            args: &["check", "crs"],
            render: render_check,
        },
        resources,
        Command {
            label: "crsctl query css votedisk",
            program: bin.join("crsctl"),
            args: &["query", "css", "votedisk"],
            render: render_votedisks,
        },
        Command {
            label: "olsnodes -s",
            program: bin.join("olsnodes"),
            args: &["-s"],
            render: render_nodes,
        },
    ]
}

/// Runs every tool once; a failure is logged when its message changes.
fn round(
    commands: &[Command],
    timeout: Duration,
    logged: &mut HashMap<&'static str, String>,
) -> MetricSet {
    let mut out = MetricSet::new();
    let mut results = Vec::with_capacity(commands.len());
    for c in commands {
        let t0 = Instant::now();
        let mut part = MetricSet::new();
        let r = exec::run(&c.program, c.args, timeout).map_err(|e| e.to_string()).and_then(|o| {
            // The tools print their state, even a failing one, on stdout; nothing there is a
            // failure whatever the exit status (an error on stderr only, or a crash).
            if o.stdout.trim().is_empty() {
                return Err(format!("{}: no output ({}): {}", c.label, o.status, o.stderr.trim()));
            }
            (c.render)(&o.stdout, &mut part).map_err(|e| format!("{}: {e}", c.label))
        });
        results.push((c.label, r.is_ok(), t0.elapsed()));
        match r {
            Ok(()) => {
                out.append(&mut part);
                if logged.remove(c.label).is_some() {
                    tracing::info!(command = c.label, "Clusterware tool answers again.");
                }
            }
            Err(e) => {
                if logged.get(c.label) != Some(&e) {
                    tracing::warn!(command = c.label, error = %e, "Clusterware tool failed.");
                    logged.insert(c.label, e);
                }
            }
        }
    }
    report_steps(
        &mut out,
        ("obwatch_command", "command"),
        (
            "1 when the tool ran and its output parsed in the last round, else 0.",
            "How long the tool ran in the last round.",
        ),
        &results,
    );
    out
}

fn render_check(text: &str, out: &mut MetricSet) -> Result<(), String> {
    let f = out.family(
        "crs_stack_component_up",
        "1 when `crsctl check crs` reports the component online (ohas CRS-4638, crs CRS-4537, css CRS-4529, evm CRS-4533).",
        MetricType::Gauge,
    );
    for c in parse::check_crs(text)? {
        f.sample(&[("component", c.name)], if c.up { 1.0 } else { 0.0 });
    }
    Ok(())
}

/// How one `crs_resource_*` family reads its value from a resource instance.
type ResourceValue = fn(&parse::Resource) -> Option<f64>;

fn render_resources(text: &str, out: &mut MetricSet) -> Result<(), String> {
    let mut res = parse::stat_res(text)?;
    // Instances that never ran have no server: two of one resource would be the same series
    // (invalid exposition). The first stands for them.
    let mut seen = std::collections::HashSet::new();
    res.retain(|r| seen.insert((r.name.clone(), r.kind.clone(), r.server.clone())));
    let labels = |r: &parse::Resource| {
        [("resource", r.name.clone()), ("server", r.server.clone()), ("type", r.kind.clone())]
    };
    let families: [(&'static str, &'static str, ResourceValue); 4] = [
        ("crs_resource_up", "1 when the resource instance's STATE is ONLINE.", |r| {
            Some(if r.state == "ONLINE" { 1.0 } else { 0.0 })
        }),
        (
            "crs_resource_target_up",
            "1 when the resource instance's TARGET is ONLINE: up and target disagreeing is the alert.",
            |r| Some(if r.target == "ONLINE" { 1.0 } else { 0.0 }),
        ),
        (
            "crs_resource_restarts",
            "RESTART_COUNT: restarts by its agent since the count was reset.",
            |r| r.restart_count.map(|n| n as f64),
        ),
        (
            "crs_resource_failures",
            "FAILURE_COUNT: failures within the resource's failure interval.",
            |r| r.failure_count.map(|n| n as f64),
        ),
    ];
    for (name, help, value) in families {
        let f = out.family(name, help, MetricType::Gauge);
        for r in &res {
            if let Some(v) = value(r) {
                let l = labels(r);
                f.sample(&l.each_ref().map(|(k, v)| (*k, v.as_str())), v);
            }
        }
    }
    let f = out.family(
        "crs_resource_state",
        "The resource instance's STATE (ONLINE, OFFLINE, INTERMEDIATE, UNKNOWN) as a label; always 1.",
        MetricType::Gauge,
    );
    for r in &res {
        let [a, b, c] = labels(r);
        f.sample(&[(a.0, &a.1), (b.0, &b.1), ("state", &r.state), (c.0, &c.1)], 1.0);
    }
    Ok(())
}

fn render_votedisks(text: &str, out: &mut MetricSet) -> Result<(), String> {
    let (disks, located) = parse::votedisks(text)?;
    let f = out.family(
        "crs_votedisk_online",
        "1 when `crsctl query css votedisk` lists the voting disk ONLINE.",
        MetricType::Gauge,
    );
    for d in &disks {
        f.sample(
            &[("diskgroup", &d.diskgroup), ("path", &d.path)],
            if d.online { 1.0 } else { 0.0 },
        );
    }
    out.gauge(
        "crs_votedisks",
        "Voting disks CSS located (\"Located N voting disk(s)\").",
        located as f64,
    );
    Ok(())
}

fn render_nodes(text: &str, out: &mut MetricSet) -> Result<(), String> {
    let f = out.family(
        "crs_node_active",
        "1 when `olsnodes -s` reports the node Active.",
        MetricType::Gauge,
    );
    for (node, active) in parse::olsnodes(text)? {
        f.sample(&[("node", &node)], if active { 1.0 } else { 0.0 });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn root(dir: &Path) -> Root {
        Root { rootfs: dir.to_path_buf(), ..Root::default() }
    }

    #[test]
    fn crs_home_from_olr_loc_or_10g_init_cssd() {
        let d = tempfile::tempdir().unwrap();
        let etc = d.path().join("etc");
        std::fs::create_dir_all(etc.join("oracle")).unwrap();
        std::fs::create_dir_all(etc.join("init.d")).unwrap();
        assert_eq!(find_crs_home(&root(d.path())), None);
        // 10g/11.1: ocr.loc marks the install, init.cssd names the home.
        std::fs::write(
            etc.join("oracle/ocr.loc"),
            "ocrconfig_loc=/dev/raw/raw1\nlocal_only=FALSE\n",
        )
        .unwrap();
        std::fs::write(
            etc.join("init.d/init.cssd"),
            "#!/bin/sh\nORA_CRS_HOME=/u01/crs/oracle/product/10.2.0/crs\n",
        )
        .unwrap();
        assert_eq!(
            find_crs_home(&root(d.path())),
            Some(d.path().join("u01/crs/oracle/product/10.2.0/crs"))
        );
        // 11.2+: olr.loc wins.
        std::fs::write(
            etc.join("oracle/olr.loc"),
            "olrconfig_loc=/u01/app/11.2.0/grid/cdata/rac1.olr\ncrs_home=/u01/app/11.2.0/grid\n",
        )
        .unwrap();
        assert_eq!(find_crs_home(&root(d.path())), Some(d.path().join("u01/app/11.2.0/grid")));
    }

    #[test]
    fn instances_without_a_server_make_one_series() {
        let text = "NAME=ora.app.vip\nTYPE=app.type\nLAST_SERVER=\nSTATE=OFFLINE\nTARGET=ONLINE\n\nLAST_SERVER=\nSTATE=OFFLINE\nTARGET=ONLINE\n";
        let mut out = MetricSet::new();
        render_resources(text, &mut out).unwrap();
        assert_eq!(out.find("crs_resource_up").unwrap().len(), 1);
        assert_eq!(out.find("crs_resource_state").unwrap().len(), 1);
    }

    #[test]
    fn a_10g_home_lists_resources_with_crs_stat() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("bin")).unwrap();
        assert_eq!(commands(d.path())[1].label, "crs_stat -f");
        std::fs::write(d.path().join("bin/ohasd"), "").unwrap();
        assert_eq!(commands(d.path())[1].label, "crsctl stat res -v");
    }
}
