//! The exporter's configuration: node_exporter's flags plus an optional YAML file
//! (`--config.file`), merged (flags win) and validated into [`Config`] once at start-up. The
//! command line is `cli`, the file's schema `file`, the collectors' part `collectors`; this
//! module keeps the web, path, logging and scrape settings.

mod cli;
mod collectors;
mod file;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{ArgMatches, FromArgMatches};
use obwatch_common::config::{ConfigError, load_yaml};
use obwatch_common::conns::ConnLimits;
use obwatch_common::fs::Root;
use obwatch_common::logging::{LogFormat, LogLevel};

use crate::collector::ALL;
use crate::collector::option_parts::Origin;
use crate::collector::options::CollectorOptions;
use cli::{Cli, collector_flags};
use file::FileConfig;

pub use cli::command;

/// The default listen address: this project's port (ARCHITECTURE.md), not node_exporter's 9100.
pub const DEFAULT_LISTEN: &str = ":62889";

/// The validated configuration `run` works from.
#[derive(Debug, Clone)]
pub struct Config {
    /// Addresses to listen on.
    pub listen_addresses: Vec<String>,
    /// Where metrics are served, e.g. `/metrics`.
    pub telemetry_path: String,
    /// The exporter-toolkit web config file, if any.
    pub web_config_file: Option<PathBuf>,
    /// Leave out process_* and obwatch_build_info.
    pub disable_exporter_metrics: bool,
    /// Concurrent scrape limit (0 = none).
    pub max_requests: usize,
    /// Connection count and timeouts.
    pub conn_limits: ConnLimits,
    /// procfs/sysfs/rootfs.
    pub root: Root,
    /// Enabled collectors, sorted.
    pub enabled: Vec<&'static str>,
    /// Per-collector options.
    pub options: CollectorOptions,
    /// Longest a scrape waits for its collectors.
    pub scrape_timeout: Duration,
    /// Log level.
    pub log_level: LogLevel,
    /// Log format.
    pub log_format: LogFormat,
    /// Warnings found while loading (unimplemented collectors enabled); logged once logging
    /// is up.
    pub warnings: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen_addresses: vec![DEFAULT_LISTEN.to_string()],
            telemetry_path: "/metrics".into(),
            web_config_file: None,
            disable_exporter_metrics: false,
            max_requests: 40,
            conn_limits: ConnLimits::default(),
            root: Root::default(),
            enabled: ALL.iter().filter(|s| s.default_enabled).map(|s| s.name).collect(),
            options: CollectorOptions::default(),
            scrape_timeout: Duration::from_secs(5),
            log_level: LogLevel::Info,
            log_format: LogFormat::Logfmt,
            warnings: Vec::new(),
        }
    }
}

/// Why the command line could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Bad flags, `--help` or `--version` (clap renders all three; exit codes 2, 0, 0).
    #[error(transparent)]
    Usage(#[from] clap::Error),
    /// A bad YAML file or a bad value.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

impl Config {
    /// Parses `args` (argv including the program name), loads `--config.file` if given, and
    /// validates everything.
    pub fn load(
        args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
    ) -> Result<Config, LoadError> {
        let matches = collector_flags().try_get_matches_from(args)?;
        let cli = Cli::from_arg_matches(&matches)?;
        let file = match &cli.config_file {
            Some(p) => Some((p.clone(), load_yaml::<FileConfig>(p)?)),
            None => None,
        };
        Ok(merge(cli, &matches, file)?)
    }
}

fn merge(
    cli: Cli,
    m: &ArgMatches,
    file: Option<(PathBuf, FileConfig)>,
) -> Result<Config, ConfigError> {
    let (path, f) = file.unwrap_or_else(|| (PathBuf::from("command line"), FileConfig::default()));
    // A relative path in the YAML is relative to the YAML file.
    let base = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let mut c = Config::default();
    web(&mut c, &cli, f.web, (&path, &base))?;
    c.root = Root {
        procfs: cli.procfs.or(f.paths.procfs).unwrap_or(c.root.procfs),
        sysfs: cli.sysfs.or(f.paths.sysfs).unwrap_or(c.root.sysfs),
        rootfs: cli.rootfs.or(f.paths.rootfs).unwrap_or(c.root.rootfs),
    };
    // A flag's error names the flag, a YAML key's the file and key.
    let at = Origin { file: &path, base: &base };
    if let Some(t) =
        at.pick(("--scrape.timeout", cli.scrape_timeout), ("scrape_timeout", f.scrape_timeout))
    {
        if t.value.0.is_zero() {
            return Err(t.invalid("expected a duration above 0"));
        }
        c.scrape_timeout = t.value.0;
    }
    c.log_level = cli.log.log_level.or(f.log.level).unwrap_or(c.log_level);
    c.log_format = cli.log.log_format.or(f.log.format).unwrap_or(c.log_format);
    let sections = collectors::Sections {
        collectors: f.collectors,
        oceanbase: f.oceanbase,
        clusterware: f.clusterware,
        obproxy: f.obproxy,
    };
    let resolved = collectors::resolve(
        cli.collectors,
        (cli.disable_defaults, m),
        sections,
        &c.enabled,
        (&path, &base),
    )?;
    c.enabled = resolved.enabled;
    c.options = resolved.options;
    c.warnings = resolved.warnings;
    Ok(c)
}

/// The `web:` settings with their flags over them.
fn web(
    c: &mut Config,
    cli: &Cli,
    w: file::WebSection,
    (path, base): (&Path, &Path),
) -> Result<(), ConfigError> {
    let at = Origin { file: path, base };
    c.listen_addresses = match (cli.listen_addresses.is_empty(), w.listen_addresses.is_empty()) {
        (false, _) => cli.listen_addresses.clone(),
        (true, false) => w.listen_addresses,
        (true, true) => std::mem::take(&mut c.listen_addresses),
    };
    let telemetry_path = at.pick(
        ("--web.telemetry-path", cli.telemetry_path.clone()),
        ("web.telemetry_path", w.telemetry_path),
    );
    if let Some(p) = telemetry_path {
        if !p.value.starts_with('/') {
            return Err(p.invalid("expected a path starting with '/'"));
        }
        c.telemetry_path = p.value;
    }
    c.web_config_file = cli.web_config_file.clone().or(w.config_file.map(|p| base.join(p)));
    c.disable_exporter_metrics = cli.disable_exporter_metrics || w.disable_exporter_metrics;
    c.max_requests = cli.max_requests.or(w.max_requests).unwrap_or(c.max_requests);
    c.conn_limits = ConnLimits::from_parts(
        cli.max_connections.or(w.max_connections),
        cli.read_header_timeout.or(w.read_header_timeout).map(|d| d.0),
        cli.idle_timeout.or(w.idle_timeout).map(|d| d.0),
    )
    .map_err(|(key, msg)| {
        // The flag's name when that limit came from its flag, else the file's key.
        let from_flag = match key {
            "max_connections" => cli.max_connections.is_some(),
            "read_header_timeout" => cli.read_header_timeout.is_some(),
            _ => cli.idle_timeout.is_some(),
        };
        if from_flag {
            let flag = format!("--web.{}", key.replace('_', "-"));
            ConfigError::invalid(Path::new("command line"), flag, msg)
        } else {
            ConfigError::invalid(path, format!("web.{key}"), msg)
        }
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(args: &[&str]) -> Result<Config, LoadError> {
        Config::load(std::iter::once("obwatch-exporter").chain(args.iter().copied()))
    }

    #[test]
    fn defaults_need_no_config() {
        let c = load(&[]).unwrap();
        assert_eq!(c.listen_addresses, [":62889"]);
        assert_eq!(c.telemetry_path, "/metrics");
        assert!(c.enabled.contains(&"loadavg"));
    }

    #[test]
    fn collector_flags_like_node_exporter() {
        let c = load(&["--collector.disable-defaults", "--collector.loadavg", "--collector.arp"])
            .unwrap();
        assert_eq!(c.enabled, ["loadavg"]);
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        let c = load(&["--no-collector.loadavg", "--no-collector.wifi"]).unwrap();
        assert!(!c.enabled.contains(&"loadavg"));
        let e = load(&["--collector.nosuch"]).unwrap_err();
        assert!(matches!(&e, LoadError::Usage(u) if u.exit_code() == 2), "{e}");
    }

    #[test]
    fn yaml_is_merged_and_flags_win() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("exporter.yml");
        std::fs::write(
            &p,
            "web:\n  listen_addresses: ['127.0.0.1:1']\n  telemetry_path: /m\n\
            collectors:\n  disable: [loadavg]\n  netstat_fields: '^Tcp_.*'\nscrape_timeout: 2s\n",
        )
        .unwrap();
        let ps = p.to_str().unwrap();
        let c = load(&["--config.file", ps, "--web.telemetry-path", "/x"]).unwrap();
        assert_eq!(c.listen_addresses, ["127.0.0.1:1"]);
        assert_eq!(c.telemetry_path, "/x");
        assert!(!c.enabled.contains(&"loadavg"));
        assert!(
            c.options.netstat.pattern.is_match("Tcp_InSegs")
                && !c.options.netstat.pattern.is_match("Udp_X")
        );
        assert_eq!(c.scrape_timeout, Duration::from_secs(2));
        std::fs::write(&p, "collectors:\n  timer_tick: 2s\n  timer_margin: 750ms\n").unwrap();
        let c = load(&["--config.file", ps, "--collector.timer.margin=1s"]).unwrap();
        assert_eq!(c.options.timer.tick, Duration::from_secs(2));
        assert_eq!(c.options.timer.margin, Duration::from_secs(1));
    }

    #[test]
    fn an_oceanbase_address_turns_the_collector_on() {
        assert!(!load(&[]).unwrap().enabled.contains(&"oceanbase"), "off without an address");
        let c = load(&["--ob.address", "127.0.0.1:2881", "--ob.username", "mon"]).unwrap();
        assert!(c.enabled.contains(&"oceanbase"));
        assert_eq!(c.options.oceanbase.as_ref().unwrap().username, "mon");
        let c = load(&["--ob.address", "127.0.0.1:2881", "--no-collector.oceanbase"]).unwrap();
        assert!(!c.enabled.contains(&"oceanbase"), "turned off by name");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("exporter.yml");
        std::fs::write(&p, "oceanbase:\n  address: 127.0.0.1:2881\n").unwrap();
        let c = load(&["--config.file", p.to_str().unwrap()]).unwrap();
        assert_eq!(c.options.oceanbase.unwrap().address, "127.0.0.1:2881");
        let e = load(&["--ob.address", "nohostport"]).unwrap_err().to_string();
        assert!(e.contains("command line: field `--ob.address`: expected HOST:PORT"), "{e}");
    }

    #[test]
    fn process_names_extend_or_replace_the_builtin_set() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("exporter.yml");
        let yaml = "collectors:\n  process_names:\n    - { name: pg, exe: [postgres] }\n";
        std::fs::write(&p, yaml).unwrap();
        let builtin = CollectorOptions::default().namedprocess.process_names.len();
        let c = load(&["--config.file", p.to_str().unwrap()]).unwrap();
        assert_eq!(c.options.namedprocess.process_names.len(), builtin + 1);
        std::fs::write(&p, format!("{yaml}  process_names_builtin: false\n")).unwrap();
        let c = load(&["--config.file", p.to_str().unwrap()]).unwrap();
        assert_eq!(c.options.namedprocess.process_names.len(), 1);
    }

    #[test]
    fn flag_errors_name_the_flag_and_yaml_errors_the_file() {
        let e = load(&["--web.telemetry-path", "metrics"]).unwrap_err().to_string();
        assert!(e.contains("command line: field `--web.telemetry-path`: expected a path"), "{e}");
        let e = load(&["--scrape.timeout", "0s"]).unwrap_err().to_string();
        assert!(e.contains("command line: field `--scrape.timeout`: expected a duration"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("e.yml");
        std::fs::write(&p, "web:\n  telemetry_path: metrics\nscrape_timeout: 0s\n").unwrap();
        let e = load(&["--config.file", p.to_str().unwrap()]).unwrap_err().to_string();
        assert!(e.contains("e.yml: field `web.telemetry_path`"), "{e}");
    }

    #[test]
    fn every_background_collector_keeps_its_timeout_within_its_interval() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("e.yml");
        for (section, timeout_key) in
            [("clusterware", "timeout"), ("obproxy", "timeout"), ("oceanbase", "query_timeout")]
        {
            let address = match section {
                "obproxy" => "  metrics_url: http://127.0.0.1:2884/metrics\n",
                "oceanbase" => "  address: 127.0.0.1:2881\n",
                _ => "",
            };
            std::fs::write(
                &p,
                format!("{section}:\n{address}  interval: 10s\n  {timeout_key}: 20s\n"),
            )
            .unwrap();
            let e = load(&["--config.file", p.to_str().unwrap()]).unwrap_err().to_string();
            assert!(
                e.contains(&format!(
                    "field `{section}.{timeout_key}`: expected at most {section}.interval (10s), got 20s"
                )),
                "{e}"
            );
        }
    }

    #[test]
    fn bad_values_name_file_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("e.yml");
        std::fs::write(&p, "collectors:\n  enable: [cpuu]\n").unwrap();
        let e = load(&["--config.file", p.to_str().unwrap()]).unwrap_err().to_string();
        assert!(e.contains("e.yml: field `collectors.enable`: unknown collector \"cpuu\""), "{e}");
        let e = load(&["--collector.vmstat.fields", "("]).unwrap_err().to_string();
        assert!(
            e.contains(
                "command line: field `--collector.vmstat.fields`: expected a regular expression"
            ),
            "{e}"
        );
        let e = load(&[
            "--collector.netdev.device-include",
            "a",
            "--collector.netdev.device-exclude",
            "b",
        ])
        .unwrap_err()
        .to_string();
        assert!(e.contains("mutually exclusive"), "{e}");
        std::fs::write(
            &p,
            "collectors:\n  process_names:\n    - name: x\n      cmdline: ['ok', '(']\n",
        )
        .unwrap();
        let e = load(&["--config.file", p.to_str().unwrap()]).unwrap_err().to_string();
        assert!(
            e.contains("e.yml: field `collectors.process_names[0].cmdline[1]`: expected a regular"),
            "{e}"
        );
        std::fs::write(&p, "collectors:\n  process_names:\n    - name: x\n      exee: [a]\n")
            .unwrap();
        let e = load(&["--config.file", p.to_str().unwrap()]).unwrap_err().to_string();
        assert!(e.contains("e.yml:4:7") && e.contains("exee"), "{e}");
        let e = load(&["--collector.timer.tick", "5ms"]).unwrap_err().to_string();
        assert!(
            e.contains("command line: field `--collector.timer.tick`: expected a duration of at least 10ms, got 5ms"),
            "{e}"
        );
        let e = load(&["--web.max-connections", "0"]).unwrap_err().to_string();
        assert!(
            e.contains("command line: field `--web.max-connections`: expected at least 1"),
            "{e}"
        );
        std::fs::write(&p, "web:\n  idle_timeout: 0s\n").unwrap();
        let e = load(&["--config.file", p.to_str().unwrap()]).unwrap_err().to_string();
        assert!(e.contains("e.yml: field `web.idle_timeout`: expected a duration above 0"), "{e}");
        // Another limit given as a flag does not make the file's bad one a flag's.
        let e = load(&["--config.file", p.to_str().unwrap(), "--web.max-connections", "10"]);
        let e = e.unwrap_err().to_string();
        assert!(e.contains("e.yml: field `web.idle_timeout`: expected a duration above 0"), "{e}");
        std::fs::write(&p, "web:\n  listen_adresses: []\n").unwrap();
        let e = load(&["--config.file", p.to_str().unwrap()]).unwrap_err().to_string();
        assert!(e.contains("e.yml:2:3") && e.contains("listen_adresses"), "{e}");
    }
}
