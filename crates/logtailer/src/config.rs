//! The `run` daemon's YAML config (ARCHITECTURE.md): raw serde structs with
//! `deny_unknown_fields`, validated into [`Config`] once at start-up. Every error names the
//! file and the field.

use std::path::{Path, PathBuf};
use std::time::Duration;

use obwatch_common::config::{ByteSize, ConfigError, HumanDuration, load_yaml};
use serde::Deserialize;

use crate::rule::Multiline;
use crate::sink::alertmanager::Alertmanager;
use crate::sink::tls::{SystemRoots, TlsClient, TlsSettings};

/// Default listen address of the logtailer's own metrics.
pub const DEFAULT_LISTEN: &str = ":62890";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    web: RawWeb,
    state_dir: PathBuf,
    inputs: Vec<RawInput>,
    rule_files: Vec<String>,
    alertmanager: RawAlertmanager,
    #[serde(default)]
    outbox: RawOutbox,
    #[serde(default)]
    max_line_bytes: Option<ByteSize>,
    #[serde(default)]
    webhook: Option<RawWebhook>,
    #[serde(default)]
    follow_symlinks: crate::tail::FollowSymlinks,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebhook {
    url: String,
    tls: Option<TlsSettings>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWeb {
    listen_address: Option<String>,
    config_file: Option<PathBuf>,
    max_connections: Option<usize>,
    read_header_timeout: Option<HumanDuration>,
    idle_timeout: Option<HumanDuration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInput {
    name: String,
    paths: Vec<String>,
    multiline: Option<RawMultiline>,
}

/// `inputs[].multiline`, as a rule group's `multiline`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMultiline {
    start: String,
    max_lines: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAlertmanager {
    urls: Vec<String>,
    timeout: Option<HumanDuration>,
    resend_interval: Option<HumanDuration>,
    tls: Option<TlsSettings>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutbox {
    max_entries: Option<usize>,
    max_size: Option<ByteSize>,
}

/// One named set of log paths (label `input` on metrics).
#[derive(Clone, Debug)]
pub struct Input {
    /// `inputs[].name`.
    pub name: String,
    /// Glob patterns.
    pub paths: Vec<String>,
    /// The same, compiled, to tell which input a file belongs to.
    pub patterns: Vec<glob::Pattern>,
    /// `inputs[].multiline`: the record format of the groups reading these files that do
    /// not set `multiline` themselves (a group's own setting wins).
    pub multiline: Option<Multiline>,
}

/// The validated config.
#[derive(Clone, Debug)]
pub struct Config {
    /// The config file, for messages and reloads.
    pub path: PathBuf,
    /// `web.listen_address` (default `:62890`).
    pub listen_address: String,
    /// `follow_symlinks` (default `safe`).
    pub follow_symlinks: crate::tail::FollowSymlinks,
    /// `web.max_connections`, `web.read_header_timeout`, `web.idle_timeout`.
    pub conn_limits: obwatch_common::conns::ConnLimits,
    /// `web.config_file`.
    pub web_config_file: Option<PathBuf>,
    /// `state_dir`: checkpoints and outboxes.
    pub state_dir: PathBuf,
    /// `inputs`.
    pub inputs: Vec<Input>,
    /// `rule_files`: globs (a directory: its `*.yaml`), expanded at each (re)load.
    pub rule_files: Vec<String>,
    /// Where alerts go: one client per `alertmanager.urls` entry, then the webhook, built once
    /// here (with `alertmanager.timeout`, default 10s, and the `tls` sections), so a config
    /// that validates is the one that runs.
    pub sinks: Vec<Sink>,
    /// `alertmanager.resend_interval` (default 1m): firing alerts are posted again this often.
    pub resend_interval: Duration,
    /// `outbox.max_entries` (default 10000) per Alertmanager.
    pub outbox_max_entries: usize,
    /// `outbox.max_size` (default 64MiB) per Alertmanager.
    pub outbox_max_bytes: u64,
    /// `max_line_bytes` (default 64KiB).
    pub max_line_bytes: usize,
    /// `--from-beginning`: read files never seen before from their start.
    pub from_beginning: bool,
}

impl Config {
    /// Loads and validates `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let raw: RawConfig = load_yaml(path)?;
        let invalid = |field: &str, msg: String| ConfigError::invalid(path, field, msg);
        if raw.inputs.is_empty() {
            return Err(invalid("inputs", "expected at least one input".into()));
        }
        let mut inputs = Vec::new();
        for (i, input) in raw.inputs.into_iter().enumerate() {
            if input.name.trim().is_empty() {
                return Err(invalid(
                    &format!("inputs[{i}].name"),
                    "expected a non-empty name".into(),
                ));
            }
            if inputs.iter().any(|x: &Input| x.name == input.name) {
                return Err(invalid(
                    &format!("inputs[{i}].name"),
                    format!("duplicate input {:?}", input.name),
                ));
            }
            if input.paths.is_empty() {
                return Err(invalid(
                    &format!("inputs[{i}].paths"),
                    "expected at least one path or glob".into(),
                ));
            }
            let mut patterns = Vec::new();
            for (j, p) in input.paths.iter().enumerate() {
                let field = format!("inputs[{i}].paths[{j}]");
                if !p.starts_with('/') {
                    return Err(invalid(&field, format!("expected an absolute path, got {p:?}")));
                }
                patterns.push(
                    glob::Pattern::new(p)
                        .map_err(|e| invalid(&field, format!("bad glob {p:?}: {e}")))?,
                );
            }
            let multiline = input
                .multiline
                .map(|m| {
                    Multiline::new(&m.start, m.max_lines).map_err(|e| {
                        let (field, msg) = e.split_once(": ").unwrap_or(("start", &e));
                        invalid(&format!("inputs[{i}].multiline.{field}"), msg.to_string())
                    })
                })
                .transpose()?;
            inputs.push(Input { name: input.name, paths: input.paths, patterns, multiline });
        }
        if raw.rule_files.is_empty() {
            return Err(invalid("rule_files", "expected at least one rule file or glob".into()));
        }
        if raw.alertmanager.urls.is_empty() {
            return Err(invalid(
                "alertmanager.urls",
                "expected at least one URL like http://127.0.0.1:9093".into(),
            ));
        }
        let max_line_bytes = raw.max_line_bytes.map_or(64 * 1024, |s| s.0 as usize);
        if max_line_bytes < 256 {
            // Smaller would cut ordinary log lines (an OBServer line is ~200-400 bytes).
            return Err(invalid(
                "max_line_bytes",
                format!("expected at least 256B, got {max_line_bytes}B"),
            ));
        }
        let timeout = raw.alertmanager.timeout.map_or(Duration::from_secs(10), |d| d.0);
        let sinks = sinks(path, &raw.alertmanager, raw.webhook.as_ref(), timeout, &invalid)?;
        let base = path.parent().unwrap_or(Path::new("."));
        let rule_files = raw
            .rule_files
            .iter()
            .map(
                |r| if r.starts_with('/') { r.clone() } else { base.join(r).display().to_string() },
            )
            .collect();
        Ok(Config {
            path: path.to_path_buf(),
            listen_address: raw.web.listen_address.unwrap_or_else(|| DEFAULT_LISTEN.into()),
            follow_symlinks: raw.follow_symlinks,
            conn_limits: obwatch_common::conns::ConnLimits::from_parts(
                raw.web.max_connections,
                raw.web.read_header_timeout.map(|d| d.0),
                raw.web.idle_timeout.map(|d| d.0),
            )
            .map_err(|(key, msg)| invalid(&format!("web.{key}"), msg))?,
            web_config_file: raw.web.config_file.map(|f| base.join(f)),
            state_dir: base.join(raw.state_dir),
            inputs,
            rule_files,
            sinks,
            resend_interval: raw
                .alertmanager
                .resend_interval
                .map_or(Duration::from_secs(60), |d| d.0),
            outbox_max_entries: raw.outbox.max_entries.unwrap_or(10_000),
            outbox_max_bytes: raw.outbox.max_size.map_or(64 << 20, |s| s.0),
            max_line_bytes,
            from_beginning: false,
        })
    }

    /// The input a file belongs to: the first whose globs match it, or, for a rotated copy
    /// being drained (`app.log.1`), the name it had before (`app.log`).
    pub fn input_of(&self, path: &Path) -> Option<&Input> {
        crate::tail::discover::rotation_bases(path).find_map(|p| {
            self.inputs.iter().find(|i| {
                i.patterns.iter().any(|g| g.matches_path_with(&p, crate::tail::discover::GLOB))
            })
        })
    }

    /// Expands `rule_files` into files: globs, and directories to their `*.yaml`.
    pub fn rule_paths(&self) -> Result<Vec<PathBuf>, String> {
        let mut out = Vec::new();
        for pattern in &self.rule_files {
            let matches: Vec<PathBuf> = glob::glob_with(pattern, crate::tail::discover::GLOB)
                .map_err(|e| {
                    format!("{}: rule_files: bad glob {pattern:?}: {e}", self.path.display())
                })?
                .filter_map(Result::ok)
                .collect();
            if matches.is_empty() {
                return Err(format!(
                    "{}: rule_files: {pattern:?} matches no file",
                    self.path.display()
                ));
            }
            out.extend(crate::rule::expand_rule_paths(&matches)?);
        }
        Ok(out)
    }
}

/// One destination of alerts: an Alertmanager URL or the webhook, with its built client.
#[derive(Clone, Debug)]
pub struct Sink {
    /// As configured.
    pub url: String,
    /// `webhook.url` (posts the alert body to the URL itself), not an Alertmanager.
    pub webhook: bool,
    /// The client.
    pub client: Alertmanager,
}

/// Builds every sink: the Alertmanagers (their `tls` built when set or when a URL is
/// `https://`, then with the system roots), then the webhook with its own `tls`.
fn sinks(
    path: &Path,
    am: &RawAlertmanager,
    webhook: Option<&RawWebhook>,
    timeout: Duration,
    invalid: &dyn Fn(&str, String) -> ConfigError,
) -> Result<Vec<Sink>, ConfigError> {
    let am_tls = tls_client(path, "alertmanager.tls", am.tls.clone(), &am.urls)?;
    let mut out = Vec::new();
    for (i, url) in am.urls.iter().enumerate() {
        let client = Alertmanager::new(std::slice::from_ref(url), timeout, am_tls.as_ref())
            .map_err(|e| invalid(&format!("alertmanager.urls[{i}]"), e.to_string()))?;
        out.push(Sink { url: url.clone(), webhook: false, client });
    }
    if let Some(w) = webhook {
        let tls = tls_client(path, "webhook.tls", w.tls.clone(), std::slice::from_ref(&w.url))?;
        let client = Alertmanager::webhook(&w.url, timeout, tls.as_ref())
            .map_err(|e| invalid("webhook.url", e.to_string()))?;
        out.push(Sink { url: w.url.clone(), webhook: true, client });
    }
    Ok(out)
}

/// The TLS client of `field` (`alertmanager.tls`): built when the section is set or one of
/// `urls` is `https://` (then with the system roots).
fn tls_client(
    path: &Path,
    field: &str,
    settings: Option<TlsSettings>,
    urls: &[String],
) -> Result<Option<TlsClient>, ConfigError> {
    let https = urls.iter().any(|u| u.starts_with("https://"));
    match settings {
        None if !https => Ok(None),
        s => TlsClient::new(&s.unwrap_or_default(), path, field, SystemRoots::Native).map(Some),
    }
}
