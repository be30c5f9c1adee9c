//! `obwatch-cleaner`: parse the command line, set up logging, load the config, run. Exit codes:
//! 0 ok, 1 runtime failure (an action or scan error, the lock taken), 2 bad usage or config.
#![forbid(unsafe_code)]

use std::io::Write as _;
use std::process::ExitCode;

use obwatch_cleaner::cli::{Cli, Command};
use obwatch_cleaner::{Config, Format, RunOptions};
use obwatch_common::stderr;

fn main() -> ExitCode {
    let cli: Cli = match obwatch_common::cli::parse(std::env::args_os().collect()) {
        Ok(c) => c,
        Err(code) => return ExitCode::from(code),
    };
    cli.log.init();
    obwatch_common::cli::warn_renamed_flags(&[("--config", "--config.file")]);
    let config = match Config::load(cli.command.config()) {
        Ok(c) => c,
        Err(e) => {
            stderr!("obwatch-cleaner: {e}");
            return ExitCode::from(2);
        }
    };
    ExitCode::from(match cli.command {
        Command::Check { .. } => {
            let _ = obwatch_cleaner::check::write_summary(&mut std::io::stdout().lock(), &config);
            0
        }
        Command::Once { dry_run, verbose, format, .. } => {
            once(&config, &RunOptions { dry_run, verbose, format, ..RunOptions::default() })
        }
        Command::Run { .. } => obwatch_cleaner::serve(config)
            .map_or_else(|e| fail(&format!("cannot start the runtime: {e}")), |()| 0),
    })
}

/// One pass; text output ends with a summary (JSON stays one object per action).
fn once(config: &Config, opts: &RunOptions) -> u8 {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match obwatch_cleaner::run_once(config, opts, &mut out) {
        Ok(s) => {
            if opts.format == Format::Text {
                let _ = writeln!(out, "{}", s.line(opts.dry_run));
            }
            if s.errors == 0 {
                return 0;
            }
            fail(&format!("{} errors (see the log and the audit log)", s.errors))
        }
        Err(e) => fail(&e),
    }
}

fn fail(e: &dyn std::fmt::Display) -> u8 {
    stderr!("obwatch-cleaner: {e}");
    1
}
