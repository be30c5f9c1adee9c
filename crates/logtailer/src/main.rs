//! `obwatch-logtailer`: parse the command line and dispatch. Exit codes: 0 ok, 1 runtime
//! failure (a test failed, a log unreadable), 2 bad usage or bad rules.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use obwatch_common::logging::{LogFormat, LogLevel};
use obwatch_logtailer::commands;
use obwatch_logtailer::scan::Format;

/// Follows database host logs, matches them against YAML alert rules, alerts Alertmanager.
#[derive(Debug, Parser)]
#[command(name = "obwatch-logtailer", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log level.
    #[arg(long = "log.level", value_enum, default_value = "info", global = true)]
    log_level: LogLevel,
    /// Log format (to stderr).
    #[arg(long = "log.format", value_enum, default_value = "logfmt", global = true)]
    log_format: LogFormat,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate rule files: every error with file, line, column and rule.
    Check {
        /// Rule files (a directory: its *.yaml files).
        #[arg(required = true)]
        rule_files: Vec<PathBuf>,
    },
    /// Run the inline `tests:` of rule files.
    Test {
        /// Rule files (a directory: its *.yaml files).
        #[arg(required = true)]
        rule_files: Vec<PathBuf>,
    },
    /// Replay log files through the rules and print every match (no state, no delivery).
    Scan {
        /// Rule file or directory; repeat or separate with commas for more.
        #[arg(long, required = true, value_delimiter = ',')]
        rules: Vec<PathBuf>,
        /// Output: text, or json (one object a line).
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Log files to replay.
        #[arg(required = true)]
        logs: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
        }
    };
    obwatch_common::logging::init(cli.log_level, cli.log_format);
    let code = match cli.command {
        Command::Check { rule_files } => commands::check(&rule_files),
        Command::Test { rule_files } => commands::test(&rule_files),
        Command::Scan { rules, format, logs } => commands::scan(&rules, format, &logs),
    };
    ExitCode::from(code)
}
