//! `obwatch-logtailer`: parse the command line and dispatch. Exit codes: 0 ok, 1 runtime
//! failure (a test failed, a log unreadable), 2 bad usage or bad rules.
#![forbid(unsafe_code)]

mod commands;

use std::process::ExitCode;

use obwatch_common::shutdown::ServeError;
use obwatch_logtailer::cli::{Cli, Command, RunArgs};

fn main() -> ExitCode {
    let cli: Cli = match obwatch_common::cli::parse(std::env::args_os().collect()) {
        Ok(c) => c,
        Err(code) => return ExitCode::from(code),
    };
    cli.log.init();
    obwatch_common::cli::warn_renamed_flags(&[("--config", "--config.file")]);
    ExitCode::from(match cli.command {
        Command::Run(args) => run(args),
        Command::Check { config: Some(c), rule_files } => match commands::check_config(&c) {
            0 if !rule_files.is_empty() => commands::check(&rule_files),
            code => code,
        },
        Command::Check { config: None, rule_files } => commands::check(&rule_files),
        Command::Test { rule_files, coverage, run, junit } => {
            commands::test(&rule_files, &commands::TestOptions { coverage, run, junit })
        }
        Command::Scan { rules, format, allow_unmatched, stats, logs } => {
            commands::scan(&rules, &logs, commands::ScanOptions { format, allow_unmatched, stats })
        }
    })
}

fn run(args: RunArgs) -> u8 {
    let config = match args.load() {
        Ok(c) => c,
        Err(e) => {
            obwatch_common::stderr!("obwatch-logtailer: {e}");
            return 2;
        }
    };
    obwatch_common::build::log_start("obwatch-logtailer");
    obwatch_common::cli::raise_nofile_limit_logged();
    let address = [config.listen_address.clone()];
    let served = obwatch_common::shutdown::serve(&address, |mut listeners, shutdown| {
        obwatch_logtailer::daemon::run(config, listeners.remove(0), shutdown)
    });
    let (e, code) = match served {
        Ok(()) => return 0,
        Err(ServeError::Server(e)) => (e.to_string(), e.exit_code()),
        Err(e @ ServeError::Runtime(_)) => (e.to_string(), 1),
        Err(e @ ServeError::Bind(_)) => (e.to_string(), 2),
    };
    obwatch_common::stderr!("obwatch-logtailer: {e}");
    code
}
