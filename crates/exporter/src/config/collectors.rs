//! The collectors' part of the configuration: which collectors run (defaults, the YAML
//! `collectors.enable`/`disable` lists, `--[no-]collector.NAME`, an OceanBase or OBProxy
//! address) and each collector's options, the flag winning over its YAML key. Errors name the
//! flag's source ("command line") or the file, and the field.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use clap::ArgMatches;
use obwatch_common::config::{ConfigError, Polling, set_at_least};
use regex::Regex;

use super::cli::{CollectorFlags, NOT_IMPLEMENTED, flag_enabled};
use super::file::{ClusterwareSection, CollectorsSection, IncludeExclude, ObproxySection};
use crate::collector::ALL;
use crate::collector::namedprocess::{NameConfig, NameMatcher};
use crate::collector::obproxy::ObproxyOptions;
use crate::collector::oceanbase::options::{
    self as ob_options, ObFlags, PASSWORD_ENV, RawObSection,
};
use crate::collector::options::{CollectorOptions, Filter, builtin_process_names};

/// The YAML sections that configure collectors, as read from the file.
pub(super) struct Sections {
    pub(super) collectors: CollectorsSection,
    pub(super) oceanbase: RawObSection,
    pub(super) clusterware: ClusterwareSection,
    pub(super) obproxy: ObproxySection,
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
    mut flags: CollectorFlags,
    (disable_defaults, m): (bool, &ArgMatches),
    sections: Sections,
    defaults: &[&'static str],
    (path, base): (&Path, &Path),
) -> Result<Resolved, ConfigError> {
    let Sections { collectors: fc, oceanbase, clusterware, obproxy: obproxy_section } = sections;
    let mut warnings = Vec::new();
    let mut options = CollectorOptions::default();
    // Enabled set: defaults (unless disabled), then YAML enable/disable, then flags.
    let mut enabled =
        yaml_enabled(defaults, disable_defaults || fc.disable_defaults, &fc, path, &mut warnings)?;
    // The OceanBase and OBProxy collectors are on when an address is given, unless turned off
    // by name.
    options.oceanbase = ob_options::compile(
        path,
        oceanbase,
        ObFlags {
            address: flags.ob_address.take(),
            username: flags.ob_username.take(),
            password_file: flags.ob_password_file.take(),
        },
        std::env::var(PASSWORD_ENV).ok(),
    )?;
    let disabled = |name: &str| fc.disable.iter().any(|n| n == name);
    if options.oceanbase.is_some() && !disabled("oceanbase") {
        enabled.insert("oceanbase");
    }
    options.obproxy = obproxy(path, flags.obproxy_metrics_url.take(), obproxy_section)?;
    if options.obproxy.is_some() && !disabled("obproxy") {
        enabled.insert("obproxy");
    }
    flag_enabled(&mut enabled, m, &mut warnings);
    host_options(&mut options, flags, fc, (path, base))?;
    clusterware_options(&mut options, clusterware, path, base)?;
    Ok(Resolved { enabled: enabled.into_iter().collect(), options, warnings })
}

/// The options of the host collectors (filesystem, diskstats, netdev, netclass, netstat,
/// vmstat, namedprocess, timer, textfile).
fn host_options(
    o: &mut CollectorOptions,
    flags: CollectorFlags,
    fc: CollectorsSection,
    (path, base): (&Path, &Path),
) -> Result<(), ConfigError> {
    let cl = Path::new("command line");
    o.filesystem_mount_points = filter(
        &o.filesystem_mount_points,
        (flags.fs_mount_points_include, flags.fs_mount_points_exclude),
        fc.filesystem_mount_points,
        "--collector.filesystem.mount-points",
        ("collectors.filesystem_mount_points", path),
    )?;
    o.filesystem_fs_types = filter(
        &o.filesystem_fs_types,
        (flags.fs_types_include, flags.fs_types_exclude),
        fc.filesystem_fs_types,
        "--collector.filesystem.fs-types",
        ("collectors.filesystem_fs_types", path),
    )?;
    o.diskstats_devices = filter(
        &o.diskstats_devices,
        (flags.diskstats_device_include, flags.diskstats_device_exclude),
        fc.diskstats_devices,
        "--collector.diskstats.device",
        ("collectors.diskstats_devices", path),
    )?;
    o.netdev_devices = filter(
        &o.netdev_devices,
        (flags.netdev_device_include, flags.netdev_device_exclude),
        fc.netdev_devices,
        "--collector.netdev.device",
        ("collectors.netdev_devices", path),
    )?;
    if let Some(t) = flags.fs_mount_timeout.or(fc.filesystem_mount_timeout) {
        o.filesystem_mount_timeout = t.0;
    }
    for (flag, yaml, field, slot) in [
        (
            flags.netclass_ignored_devices,
            fc.netclass_ignored_devices,
            "collectors.netclass_ignored_devices",
            &mut o.netclass_ignored_devices,
        ),
        (
            flags.netstat_fields,
            fc.netstat_fields,
            "collectors.netstat_fields",
            &mut o.netstat_fields,
        ),
        (flags.vmstat_fields, fc.vmstat_fields, "collectors.vmstat_fields", &mut o.vmstat_fields),
    ] {
        if let Some((re, from_flag)) = pick(flag, yaml) {
            *slot = regex(if from_flag { cl } else { path }, field, &re)?;
        }
    }
    o.process_names =
        process_names(path, &fc.process_names, fc.process_names_builtin.unwrap_or(true))?;
    for (flag, yaml, field, slot, min) in [
        (flags.timer_tick, fc.timer_tick, "collectors.timer_tick", &mut o.timer_tick, 10),
        (flags.timer_margin, fc.timer_margin, "collectors.timer_margin", &mut o.timer_margin, 1),
    ] {
        let src = if flag.is_some() { cl } else { path };
        set_at_least(src, field, flag.or(yaml), Duration::from_millis(min), slot)?;
    }
    o.textfile_directories = if flags.textfile_directories.is_empty() {
        fc.textfile_directories.into_iter().map(|d| base.join(d)).collect()
    } else {
        flags.textfile_directories
    };
    if let Some(home) = flags.crs_home {
        o.clusterware.crs_home = Some(home);
    }
    Ok(())
}

/// The `clusterware:` section (`--collector.clusterware.crs-home` wins over its `crs_home`).
fn clusterware_options(
    o: &mut CollectorOptions,
    raw: ClusterwareSection,
    path: &Path,
    base: &Path,
) -> Result<(), ConfigError> {
    let cw = &mut o.clusterware;
    if cw.crs_home.is_none() {
        cw.crs_home = raw.crs_home.map(|p| base.join(p));
    }
    let polling = Polling::from_yaml(
        path,
        ("clusterware", "timeout"),
        (raw.interval, raw.timeout),
        Polling { interval: cw.interval, timeout: cw.timeout },
    )?;
    (cw.interval, cw.timeout) = (polling.interval, polling.timeout);
    Ok(())
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

/// A flag value (which wins, `true`) or else the YAML one.
fn pick(flag: Option<String>, yaml: Option<String>) -> Option<(String, bool)> {
    flag.map(|v| (v, true)).or(yaml.map(|v| (v, false)))
}

/// A device or mount filter: `(include, exclude)` flags over the YAML `{include, exclude}`,
/// `default` when neither is given. Include and exclude are mutually exclusive; errors name
/// the flag (from the command line) or the file and `field`.
fn filter(
    default: &Filter,
    flags: (Option<String>, Option<String>),
    yaml: IncludeExclude,
    flag: &str,
    (field, path): (&str, &Path),
) -> Result<Filter, ConfigError> {
    let src = |from_flag: bool| if from_flag { Path::new("command line") } else { path };
    match (pick(flags.0, yaml.include), pick(flags.1, yaml.exclude)) {
        (Some(_), Some(_)) => Err(ConfigError::invalid(
            path,
            field,
            format!("include and exclude are mutually exclusive ({flag}-include/-exclude)"),
        )),
        (Some((re, ff)), None) => Ok(Filter {
            include: Some(regex(src(ff), &format!("{field}.include"), &re)?),
            exclude: None,
        }),
        (None, Some((re, ff))) => Ok(Filter {
            include: None,
            exclude: Some(regex(src(ff), &format!("{field}.exclude"), &re)?),
        }),
        (None, None) => Ok(default.clone()),
    }
}

/// The `obproxy:` section with `--obproxy.metrics-url` over its `metrics_url`.
fn obproxy(
    path: &Path,
    flag: Option<String>,
    raw: ObproxySection,
) -> Result<Option<ObproxyOptions>, ConfigError> {
    let (url, src) = match (flag, raw.metrics_url) {
        (Some(u), _) => (u, Path::new("command line")),
        (None, Some(u)) => (u, path),
        (None, None) => return Ok(None),
    };
    let field = "obproxy.metrics_url";
    let uri: hyper::Uri = url.parse().map_err(|e| {
        ConfigError::invalid(
            src,
            field,
            format!("expected http://HOST:PORT/metrics, got {url:?}: {e}"),
        )
    })?;
    if uri.scheme_str() != Some("http") || uri.host().is_none() {
        return Err(ConfigError::invalid(
            src,
            field,
            format!("expected an http:// URL with a host (https is not supported), got {url:?}"),
        ));
    }
    let mut o = ObproxyOptions {
        metrics_url: uri,
        interval: Duration::from_secs(15),
        timeout: Duration::from_secs(5),
    };
    let polling = Polling::from_yaml(
        path,
        ("obproxy", "timeout"),
        (raw.interval, raw.timeout),
        Polling { interval: o.interval, timeout: o.timeout },
    )?;
    (o.interval, o.timeout) = (polling.interval, polling.timeout);
    Ok(Some(o))
}

/// The user's entries (tried first, in order), then the built-in set unless `builtin` is
/// false.
fn process_names(
    path: &Path,
    entries: &[NameConfig],
    builtin: bool,
) -> Result<Vec<NameMatcher>, ConfigError> {
    let mut names = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        names.push(NameMatcher::compile(entry).map_err(|e| {
            let field = format!("collectors.process_names[{i}].{}", e.field);
            ConfigError::invalid(path, field, e.message)
        })?);
    }
    if builtin {
        names.extend(builtin_process_names());
    }
    Ok(names)
}

fn regex(path: &Path, field: &str, re: &str) -> Result<Regex, ConfigError> {
    Regex::new(re).map_err(|e| {
        ConfigError::invalid(path, field, format!("expected a regular expression: {e}"))
    })
}
