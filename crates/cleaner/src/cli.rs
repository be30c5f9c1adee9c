//! The command line of `obwatch-cleaner`: `run`, `once` and `check`, with the log flags every
//! binary has. Here, not in `main.rs`, so the manual page and completions are made from the
//! same definitions.

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};
use obwatch_common::cli::LogFlags;

use crate::Format;

/// Rotate, compress and purge logs by age, count, size and disk watermark, safely.
#[derive(Debug, Parser)]
#[command(
    name = "obwatch-cleaner",
    version,
    long_version = obwatch_common::build::LONG_VERSION,
    after_help = "EXAMPLES:\n  obwatch-cleaner check -c /etc/obwatch/cleaner.yml\n  \
    obwatch-cleaner once -c /etc/obwatch/cleaner.yml -n -v\n  \
    obwatch-cleaner once -c /etc/obwatch/cleaner.yml --format json\n  \
    obwatch-cleaner run -c /etc/obwatch/cleaner.yml"
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
    /// Run as a daemon: a pass every `interval` (plus jitter) until SIGINT/SIGTERM.
    Run {
        /// YAML configuration file (`--config`, the old spelling, still works).
        #[arg(short = 'c', long = "config.file", alias = "config", value_name = "FILE")]
        config: PathBuf,
    },
    /// One pass (for cron); prints each action.
    Once {
        /// YAML configuration file (`--config`, the old spelling, still works).
        #[arg(short = 'c', long = "config.file", alias = "config", value_name = "FILE")]
        config: PathBuf,
        /// Print the plan; change nothing.
        #[arg(short = 'n', long)]
        dry_run: bool,
        /// Also print every file left alone and why (as logrotate -v says why it skips).
        #[arg(short = 'v', long)]
        verbose: bool,
        /// Output format of the action lines.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Validate the config and exit.
    Check {
        /// YAML configuration file (`--config`, the old spelling, still works).
        #[arg(short = 'c', long = "config.file", alias = "config", value_name = "FILE")]
        config: PathBuf,
    },
}

impl Command {
    /// The configuration file every subcommand takes.
    pub fn config(&self) -> &Path {
        match self {
            Command::Run { config } | Command::Once { config, .. } | Command::Check { config } => {
                config
            }
        }
    }
}
