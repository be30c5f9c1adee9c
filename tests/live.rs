//! The binaries started in-process on `127.0.0.1:0` for the dashboards' and the stack's
//! tests: the exporter (plain, on fake Clusterware tools, or with an OceanBase section) and the
//! logtailer daemon, each with a stop handle.

use std::path::{Path, PathBuf};
use std::time::Duration;

use obwatch_e2e::mariadb::{self, MariaDb};
use obwatch_e2e::*;
use tokio::runtime::Runtime;
use tokio::sync::oneshot;

/// Starts `obwatch_exporter::run` in-process with `args`; returns its URL and a stop handle.
pub(crate) fn exporter(rt: &Runtime, args: &[String]) -> (String, oneshot::Sender<()>) {
    let argv = std::iter::once("obwatch-exporter".to_string()).chain(args.iter().cloned());
    let config = obwatch_exporter::Config::load(argv).unwrap();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let url = format!("http://{}/metrics", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    rt.spawn(obwatch_exporter::run(config, vec![listener], async move {
        let _ = stopped.await;
    }));
    (url, stop)
}

/// Runs the logtailer in-process on the config file `cfg`, on a port the kernel picks, and
/// waits until it tracks one file. Returns its address (`127.0.0.1:PORT`) and a stop handle.
pub(crate) fn logtailer_daemon(rt: &Runtime, cfg: &Path) -> (String, oneshot::Sender<()>) {
    let config = obwatch_logtailer::config::Config::load(cfg).unwrap();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (stop, stopped) = oneshot::channel::<()>();
    rt.spawn(obwatch_logtailer::daemon::run(config, listener, async move {
        let _ = stopped.await;
    }));
    scrape_until(&format!("http://{addr}/metrics"), "the logtailer to track its file", |b| {
        b.contains("obwatch_logtailer_files 1")
    });
    (addr, stop)
}

/// Scrapes `url` until `ready` accepts the body.
pub(crate) fn scrape_until(url: &str, what: &str, ready: impl Fn(&str) -> bool) -> String {
    wait_for(what, Duration::from_secs(30), || {
        let (status, body) = get(url).ok()?;
        (status == 200 && ready(&body)).then_some(body)
    })
}

/// Fake Clusterware tools printing the documented formats: a healthy stack with one resource
/// offline against its target and one stopped on purpose, one voting disk offline and one node
/// inactive.
const CRSCTL: &str = r#"#!/bin/sh
case "$*" in
  "check crs") printf '%s\n' "CRS-4638: Oracle High Availability Services is online" \
    "CRS-4537: Cluster Ready Services is online" "CRS-4529: Cluster Synchronization Services is online" \
    "CRS-4533: Event Manager is online" ;;
  "stat res -v") printf '%s\n' NAME=ora.LISTENER.lsnr TYPE=ora.listener.type LAST_SERVER=rac1 \
    "STATE=ONLINE on rac1" TARGET=ONLINE CARDINALITY_ID=rac1 RESTART_COUNT=0 FAILURE_COUNT=0 "" \
    LAST_SERVER=rac2 STATE=OFFLINE TARGET=ONLINE CARDINALITY_ID=rac2 RESTART_COUNT=2 FAILURE_COUNT=1 "" \
    NAME=ora.gsd TYPE=ora.gsd.type LAST_SERVER=rac1 STATE=OFFLINE TARGET=OFFLINE CARDINALITY_ID=1 \
    RESTART_COUNT=0 FAILURE_COUNT=0 ;;
  "query css votedisk") printf '%s\n' " 1. ONLINE   4f7d2d1c1a2b4f6fbf0a3b8f6d2e1c0a (/dev/sdb1) [OCR]" \
    " 2. OFFLINE  9a8b7c6d5e4f40312a1b2c3d4e5f6a7b (/dev/sdc1) [OCR]" "Located 2 voting disk(s)." ;;
  *) exit 1 ;;
esac
"#;

pub(crate) fn clusterware_root(dir: &Path) {
    obwatch_e2e::clusterware::fake_grid_home(
        dir,
        CRSCTL,
        "#!/bin/sh\nprintf 'rac1\\tActive\\nrac2\\tInactive\\n'\n",
    );
    std::fs::write(dir.join("exporter.yml"), "clusterware:\n  interval: 2s\n  timeout: 2s\n")
        .unwrap();
}

/// Writes `NAME.yml` in `dir`: the exporter's OceanBase section for `db` (rounds every
/// second), with the monitoring user's password in `NAME.pw`. Returns the config's path.
pub(crate) fn oceanbase_config(dir: &Path, db: &MariaDb, name: &str) -> PathBuf {
    let pw = dir.join(format!("{name}.pw"));
    std::fs::write(&pw, mariadb::MONITOR_PASSWORD).unwrap();
    let cfg = dir.join(format!("{name}.yml"));
    std::fs::write(
        &cfg,
        format!(
            "oceanbase:\n  address: {}\n  username: {}\n  password_file: {}\n  interval: 1s\n  query_timeout: 1s\n",
            db.address(),
            mariadb::MONITOR_USER,
            pw.display()
        ),
    )
    .unwrap();
    cfg
}

/// An exporter with only the clusterware collector, on fake Clusterware tools under a fake
/// root in `dir` (see [`clusterware_root`]).
pub(crate) fn clusterware_exporter(rt: &Runtime, dir: &Path) -> (String, oneshot::Sender<()>) {
    clusterware_root(dir);
    exporter(
        rt,
        &[
            "--collector.disable-defaults".into(),
            "--collector.clusterware".into(),
            format!("--path.rootfs={}", dir.display()),
            format!("--config.file={}", dir.join("exporter.yml").display()),
        ],
    )
}
