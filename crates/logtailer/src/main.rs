//! `obwatch-logtailer`: parse the command line and dispatch. Exit codes: 0 ok, 1 runtime
//! failure (a test failed, a log unreadable), 2 bad usage or bad rules.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use obwatch_common::logging::{LogFormat, LogLevel};
use obwatch_logtailer::commands;
use obwatch_logtailer::config::Config;
use obwatch_logtailer::scan::Format;

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
    /// Run the daemon: tail the inputs, match the rules, send alerts to Alertmanager.
    Run {
        /// YAML configuration file (`--config`, the old spelling, still works).
        #[arg(short = 'c', long = "config.file", alias = "config", value_name = "FILE")]
        config: PathBuf,
        /// Listen address of the logtailer's own metrics (overrides `web.listen_address`).
        #[arg(long = "web.listen-address", value_name = "ADDR")]
        listen_address: Option<String>,
        /// Web config (TLS, basic auth) of that endpoint (overrides `web.config_file`);
        /// reloaded on SIGHUP.
        #[arg(long = "web.config.file", value_name = "FILE")]
        web_config_file: Option<PathBuf>,
        /// Read files never seen before from their start, not their end.
        #[arg(long)]
        from_beginning: bool,
    },
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
    let code = match cli.command {
        Command::Run { config, listen_address, web_config_file, from_beginning } => {
            run(&config, listen_address, web_config_file, from_beginning)
        }
        Command::Check { config, rule_files } => match config {
            Some(c) => match commands::check_config(&c) {
                0 if !rule_files.is_empty() => commands::check(&rule_files),
                code => code,
            },
            None => commands::check(&rule_files),
        },
        Command::Test { rule_files, coverage, run, junit } => {
            commands::test(&rule_files, &commands::TestOptions { coverage, run, junit })
        }
        Command::Scan { rules, format, allow_unmatched, stats, logs } => {
            commands::scan(&rules, &logs, commands::ScanOptions { format, allow_unmatched, stats })
        }
    };
    ExitCode::from(code)
}

fn run(
    path: &std::path::Path,
    listen: Option<String>,
    web_config_file: Option<PathBuf>,
    from_beginning: bool,
) -> u8 {
    let mut config = match Config::load(path) {
        Ok(c) => c,
        Err(e) => {
            obwatch_common::stderr!("obwatch-logtailer: {e}");
            return 2;
        }
    };
    obwatch_common::build::log_start("obwatch-logtailer");
    obwatch_common::cli::raise_nofile_limit_logged();
    config.from_beginning = from_beginning;
    if let Some(l) = listen {
        config.listen_address = l;
    }
    if let Some(w) = web_config_file {
        config.web_config_file = Some(w);
    }
    let runtime =
        match tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build() {
            Ok(r) => r,
            Err(e) => {
                obwatch_common::stderr!("obwatch-logtailer: cannot start the runtime: {e}");
                return 1;
            }
        };
    obwatch_common::shutdown::block_on_bounded(runtime, async {
        let listener = match obwatch_common::http::bind(&config.listen_address).await {
            Ok(l) => l,
            Err(e) => {
                obwatch_common::stderr!("obwatch-logtailer: {e}");
                return 2;
            }
        };
        match obwatch_logtailer::daemon::run(
            config,
            listener,
            obwatch_common::shutdown::signal_received(),
        )
        .await
        {
            Ok(()) => 0,
            Err(e) => {
                obwatch_common::stderr!("obwatch-logtailer: {e}");
                e.exit_code()
            }
        }
    })
}
