//! The collectors' part of the configuration: which collectors run (defaults, the YAML
//! `collectors.enable`/`disable` lists, `--[no-]collector.NAME`, an OceanBase or OBProxy
//! address). Each collector's options are its own (`collector::options` lists them); this
//! hands them their flags and YAML. Errors name the flag ("command line") or the file and
//! key.

use std::collections::BTreeSet;
use std::path::Path;

use clap::ArgMatches;
use obwatch_common::config::ConfigError;

use super::cli::{NOT_IMPLEMENTED, flag_enabled};
use super::file::CollectorsSection;
use crate::collector::oceanbase::options::PASSWORD_ENV;
use crate::collector::option_parts::Origin;
use crate::collector::options::{self, CollectorOptions, Flags};
use crate::collector::{ALL, clusterware, obproxy, oceanbase};

/// The YAML sections that configure collectors, as read from the file.
pub(super) struct Sections {
    pub(super) collectors: CollectorsSection,
    pub(super) oceanbase: oceanbase::options::Section,
    pub(super) clusterware: clusterware::Section,
    pub(super) obproxy: obproxy::Section,
}

/// What the collectors' configuration resolves to.
pub(super) struct Resolved {
    pub(super) enabled: Vec<&'static str>,
    pub(super) options: CollectorOptions,
    pub(super) warnings: Vec<String>,
}

/// Resolves the enabled set and every collector's options. `path` is the YAML file (or
/// "command line" without one); relative paths in it are relative to `base`.
pub(super) fn resolve(
    flags: Flags,
    (disable_defaults, m): (bool, &ArgMatches),
    sections: Sections,
    defaults: &[&'static str],
    (path, base): (&Path, &Path),
) -> Result<Resolved, ConfigError> {
    let Sections { collectors: fc, oceanbase, clusterware, obproxy } = sections;
    let at = Origin { file: path, base };
    let mut warnings = Vec::new();
    // Enabled set: defaults (unless disabled), then YAML enable/disable, then flags.
    let mut enabled =
        yaml_enabled(defaults, disable_defaults || fc.disable_defaults, &fc, path, &mut warnings)?;
    let env_password = std::env::var(PASSWORD_ENV).ok();
    let mut options = CollectorOptions {
        oceanbase: oceanbase::options::compile(flags.oceanbase, oceanbase, &at, env_password)?,
        obproxy: obproxy::compile(flags.obproxy, obproxy, &at)?,
        clusterware: clusterware::compile(flags.clusterware, clusterware, &at)?,
        ..CollectorOptions::default()
    };
    // The OceanBase and OBProxy collectors are on when an address is given, unless turned off
    // by name.
    let disabled = |name: &str| fc.disable.iter().any(|n| n == name);
    if options.oceanbase.is_some() && !disabled("oceanbase") {
        enabled.insert("oceanbase");
    }
    if options.obproxy.is_some() && !disabled("obproxy") {
        enabled.insert("obproxy");
    }
    flag_enabled(&mut enabled, m, &mut warnings);
    options::compile_host(flags.host, fc.keys, &at, &mut options)?;
    Ok(Resolved { enabled: enabled.into_iter().collect(), options, warnings })
}

/// The enabled set before the flags: the defaults (unless disabled), then the YAML
/// `collectors.enable`/`disable` lists; node_exporter names obwatch lacks are warned about.
fn yaml_enabled(
    defaults: &[&'static str],
    disable_defaults: bool,
    fc: &CollectorsSection,
    path: &Path,
    warnings: &mut Vec<String>,
) -> Result<BTreeSet<&'static str>, ConfigError> {
    let mut enabled: BTreeSet<&'static str> =
        if disable_defaults { BTreeSet::new() } else { defaults.iter().copied().collect() };
    for (list, on, field) in
        [(&fc.enable, true, "collectors.enable"), (&fc.disable, false, "collectors.disable")]
    {
        for name in list {
            if let Some(spec) = ALL.iter().find(|s| s.name == name) {
                if on {
                    enabled.insert(spec.name)
                } else {
                    enabled.remove(spec.name)
                };
            } else if NOT_IMPLEMENTED.contains(&name.as_str()) {
                if on {
                    warnings
                        .push(format!("obwatch has no {name} collector; {field} entry ignored"));
                }
            } else {
                let known: Vec<_> = ALL.iter().map(|s| s.name).collect();
                return Err(ConfigError::invalid(
                    path,
                    field,
                    format!("unknown collector {name:?}; expected one of {}", known.join(", ")),
                ));
            }
        }
    }
    Ok(enabled)
}

#[cfg(test)]
mod tests {
    use super::super::Config;

    /// Loads `yaml` as the `--config.file` (in a temp dir) with `args` after it.
    fn load(yaml: &str, args: &[&str]) -> (tempfile::TempDir, Result<Config, String>) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("e.yml");
        std::fs::write(&p, yaml).unwrap();
        let argv = ["obwatch-exporter", "--config.file", p.to_str().unwrap()];
        let loaded = Config::load(argv.iter().chain(args)).map_err(|e| e.to_string());
        (dir, loaded)
    }

    #[test]
    fn each_collector_reads_its_own_keys() {
        let yaml = "collectors:\n  enable: [cpu]\n  filesystem_mount_points: {include: '^/data'}\n  \
                    textfile_directories: [prom]\n  timer_tick: 2s\n  disable_defaults: true\n";
        let (dir, c) = load(yaml, &["--collector.timer.margin", "20ms"]);
        let c = c.unwrap();
        assert_eq!(c.enabled, ["cpu"]);
        let fs = &c.options.filesystem;
        assert!(fs.mount_points.allows("/data/1") && !fs.mount_points.allows("/home"));
        assert_eq!(c.options.textfile.directories, [dir.path().join("prom")]);
        let timer = c.options.timer;
        assert_eq!((timer.tick.as_millis(), timer.margin.as_millis()), (2000, 20));
    }

    #[test]
    fn a_wrong_key_keeps_its_line_and_column() {
        let (_d, e) = load("collectors:\n  enable: [cpu]\n  timer_tik: 1s\n", &[]);
        let e = e.unwrap_err();
        assert!(e.contains("e.yml:3:3") && e.contains("unknown field `timer_tik`"), "{e}");
        assert!(e.contains("timer_tick, ") && e.contains("disable_defaults, "), "lists keys: {e}");
        let (_d, e) = load("collectors:\n  timer_tick: soon\n", &[]);
        assert!(e.unwrap_err().contains("e.yml:2:"), "a bad value has its place too");
        let (_d, e) = load("collectors:\n  timer_tick: 1s\n  timer_tick: 2s\n", &[]);
        assert!(e.unwrap_err().contains("timer_tick"), "a key given twice is an error");
        let (_d, e) = load("collectors:\n  enable: [cpu]\n  enable: [stat]\n", &[]);
        assert!(e.unwrap_err().contains("enable"), "a key given twice is an error");
    }

    #[test]
    fn errors_name_the_flag_or_the_key() {
        let yaml = "collectors:\n  diskstats_devices: {exclude: '('}\n";
        let (_d, e) = load(yaml, &[]);
        let e = e.unwrap_err();
        assert!(
            e.contains("e.yml: field `collectors.diskstats_devices.exclude`: expected a regular"),
            "{e}"
        );
        let (_d, e) = load(yaml, &["--collector.diskstats.device-exclude", "^$"]);
        assert!(e.is_ok(), "the flag wins over the key: {e:?}");
        let (_d, e) = load("", &["--collector.diskstats.device-include", "["]);
        let e = e.unwrap_err();
        assert!(e.contains("command line: field `--collector.diskstats.device-include`"), "{e}");
        let (_d, e) = load("obproxy:\n  metrics_url: ftp://x/\n", &[]);
        assert!(e.unwrap_err().contains("e.yml: field `obproxy.metrics_url`: expected an http://"));
        let (_d, e) = load("", &["--obproxy.metrics-url", "https://x/metrics"]);
        assert!(e.unwrap_err().contains("command line: field `--obproxy.metrics-url`"));
    }
}
