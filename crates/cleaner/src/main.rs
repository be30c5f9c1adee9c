//! `obwatch-cleaner`: parse the command line, set up logging, load the config, run. Exit codes:
//! 0 ok, 1 runtime failure (an action or scan error, the lock taken), 2 bad usage or config.
#![forbid(unsafe_code)]

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use obwatch_cleaner::{Config, Format, RunOptions};
use obwatch_common::logging::{LogFormat, LogLevel};

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
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Only log messages with the given severity or above. [default: info]
    #[arg(long = "log.level", value_enum, global = true)]
    log_level: Option<LogLevel>,
    /// Output format of log messages. [default: logfmt]
    #[arg(long = "log.format", value_enum, global = true)]
    log_format: Option<LogFormat>,
}

#[derive(Debug, Subcommand)]
enum Command {
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

fn main() -> ExitCode {
    // `--help-man`, `--completion-script-SHELL`: before the parse, which wants a subcommand.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(what) = obwatch_common::manual::requested(&args) {
        use clap::CommandFactory as _;
        return ExitCode::from(obwatch_common::manual::print(what, Cli::command()));
    }
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
        }
    };
    obwatch_common::logging::init(
        cli.log_level.unwrap_or(LogLevel::Info),
        cli.log_format.unwrap_or(LogFormat::Logfmt),
    );
    obwatch_common::cli::warn_renamed_flags(&[("--config", "--config.file")]);
    let path = match &cli.command {
        Command::Run { config } | Command::Once { config, .. } | Command::Check { config } => {
            config
        }
    };
    let config = match Config::load(path) {
        Ok(c) => c,
        Err(e) => {
            obwatch_common::stderr!("obwatch-cleaner: {e}");
            return ExitCode::from(2);
        }
    };
    match cli.command {
        Command::Check { .. } => {
            let (matches, missing) =
                obwatch_cleaner::check::matches_today(&config, std::path::Path::new("/proc"));
            let mut out = std::io::stdout().lock();
            let _ =
                writeln!(out, "{}: ok, {} policies", config.path.display(), config.policies.len())
                    .and_then(|()| obwatch_cleaner::check::report(&mut out, &matches, &missing));
            ExitCode::SUCCESS
        }
        Command::Once { dry_run, verbose, format, .. } => {
            let opts = RunOptions { dry_run, verbose, format, ..RunOptions::default() };
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let result = obwatch_cleaner::run_once(&config, &opts, &mut out);
            // Text output ends with a summary (JSON stays one object per action).
            if let (Ok(s), Format::Text) = (&result, format) {
                let _ = writeln!(out, "{}", s.line(dry_run));
            }
            match result {
                Ok(s) if s.errors == 0 => ExitCode::SUCCESS,
                Ok(s) => {
                    obwatch_common::stderr!(
                        "obwatch-cleaner: {} errors (see the log and the audit log)",
                        s.errors
                    );
                    ExitCode::from(1)
                }
                Err(e) => {
                    obwatch_common::stderr!("obwatch-cleaner: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Command::Run { .. } => match daemon(config) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                obwatch_common::stderr!("obwatch-cleaner: {e:#}");
                ExitCode::from(1)
            }
        },
    }
}

fn daemon(config: Config) -> anyhow::Result<()> {
    obwatch_common::build::log_start("obwatch-cleaner");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_blocking_threads(1)
        .build()
        .context("cannot start the runtime")?;
    obwatch_common::shutdown::block_on_bounded(
        runtime,
        obwatch_cleaner::run(config, obwatch_common::shutdown::signal_received()),
    );
    Ok(())
}
