//! The command line of `obwatch-logtailer`: `run`, `check`, `test` and `scan`, with the log
//! flags every binary has. Here, not in `main.rs`, so the manual page and completions are made
//! from the same definitions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use obwatch_common::cli::LogFlags;
use obwatch_common::config::ConfigError;

use crate::config::Config;
use crate::scan::Format;

/// Follows database host logs, matches them against YAML alert rules, alerts Alertmanager.
#[derive(Debug, Parser)]
#[command(
    name = "obwatch-logtailer",
    version,
    long_version = obwatch_common::build::LONG_VERSION,
    after_help = "EXAMPLES:\n  obwatch-logtailer run -c /etc/obwatch/logtailer.yml\n  \
    obwatch-logtailer check -c /etc/obwatch/logtailer.yml\n  \
    obwatch-logtailer test --coverage /usr/share/obwatch/rules/\n  \
    obwatch-logtailer scan --rules /usr/share/obwatch/rules/ /home/admin/oceanbase/log/observer.log.2026*"
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// `--log.level`, `--log.format`.
    #[command(flatten)]
    pub log: LogFlags,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon: tail the inputs, match the rules, send alerts to Alertmanager.
    Run(RunArgs),
    /// Validate rule files: every error with file, line, column and rule.
    Check {
        /// The run config to validate, with the rule files and web config it names (as `run`
        /// would load them), instead of or besides RULE_FILES.
        #[arg(short = 'c', long = "config.file", value_name = "FILE")]
        config: Option<PathBuf>,
        /// Rule files (a directory: its *.yaml files).
        #[arg(required_unless_present = "config")]
        rule_files: Vec<PathBuf>,
    },
    /// Run the inline `tests:` of rule files.
    Test {
        /// Rule files (a directory: its *.yaml files).
        #[arg(required = true)]
        rule_files: Vec<PathBuf>,
        /// Also list every test line that raises no rule (near-misses, or a rule that stopped
        /// matching); rules no test raises are always listed.
        #[arg(long)]
        coverage: bool,
        /// Run only the tests whose name (as printed: `file:line: test N (name)`) matches this
        /// regex.
        #[arg(long, value_name = "REGEX")]
        run: Option<String>,
        /// Also write the results as JUnit XML to this file.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
    },
    /// Replay log files through the rules and print every match (no state, no delivery).
    Scan {
        /// Rule file or directory; repeat or separate with commas for more.
        #[arg(long, required = true, value_delimiter = ',')]
        rules: Vec<PathBuf>,
        /// Output: text, or json (one object a line).
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Skip, with a warning, a log that no rule group reads (else exit 1).
        #[arg(long)]
        allow_unmatched: bool,
        /// Print a summary on stderr: files, lines, bytes, matches per alert, time.
        #[arg(long)]
        stats: bool,
        /// Log files to replay (gzip and zstd are read decompressed; `-` is stdin).
        #[arg(required = true)]
        logs: Vec<PathBuf>,
    },
}

/// `obwatch-logtailer run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// YAML configuration file (`--config`, the old spelling, still works).
    #[arg(short = 'c', long = "config.file", alias = "config", value_name = "FILE")]
    pub config: PathBuf,
    /// Listen address of the logtailer's own metrics (overrides `web.listen_address`).
    #[arg(long = "web.listen-address", value_name = "ADDR")]
    pub listen_address: Option<String>,
    /// Web config (TLS, basic auth) of that endpoint (overrides `web.config_file`);
    /// reloaded on SIGHUP.
    #[arg(long = "web.config.file", value_name = "FILE")]
    pub web_config_file: Option<PathBuf>,
    /// Read files never seen before from their start, not their end.
    #[arg(long)]
    pub from_beginning: bool,
}

impl RunArgs {
    /// Loads the config file with this command line's overrides applied.
    pub fn load(self) -> Result<Config, ConfigError> {
        let mut config = Config::load(&self.config)?;
        config.from_beginning = self.from_beginning;
        if let Some(l) = self.listen_address {
            config.listen_address = l;
        }
        if let Some(w) = self.web_config_file {
            config.web_config_file = Some(w);
        }
        Ok(config)
    }
}
