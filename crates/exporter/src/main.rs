//! `obwatch-exporter`: parse flags, set up logging, bind, run. Exit codes: 0 ok, 1 runtime
//! failure, 2 bad usage or configuration (including a listen address in use).
#![forbid(unsafe_code)]

use std::io::Write as _;
use std::process::ExitCode;

use obwatch_common::shutdown::ServeError;
use obwatch_exporter::Config;
use obwatch_exporter::config::LoadError;

fn main() -> ExitCode {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(what) = obwatch_common::manual::requested(&args) {
        let cmd = obwatch_exporter::config::command();
        return ExitCode::from(obwatch_common::manual::print(what, cmd));
    }
    // `obwatch-exporter check [FLAGS]`: the same flags, validated without serving.
    let check = args.get(1).is_some_and(|a| a == "check");
    if check {
        args.remove(1);
    }
    let config = match Config::load(args) {
        Ok(c) => c,
        Err(LoadError::Usage(e)) => {
            let _ = e.print();
            return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
        }
        Err(e) => return fail(&e, 2),
    };
    if check {
        return match obwatch_exporter::check(&config) {
            Ok(summary) => {
                let _ = writeln!(std::io::stdout().lock(), "{summary}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e, 2),
        };
    }
    obwatch_common::logging::init(config.log_level, config.log_format);
    obwatch_common::build::log_start("obwatch-exporter");
    obwatch_common::cli::raise_nofile_limit_logged();
    for w in &config.warnings {
        tracing::warn!(warning = %w, "Configuration warning.");
    }
    let addresses = config.listen_addresses.clone();
    match obwatch_common::shutdown::serve(&addresses, |listeners, shutdown| {
        obwatch_exporter::run(config, listeners, shutdown)
    }) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e @ ServeError::Runtime(_)) => fail(&e, 1),
        Err(e) => fail(&e, 2),
    }
}

fn fail(e: &dyn std::fmt::Display, code: u8) -> ExitCode {
    obwatch_common::stderr!("obwatch-exporter: {e}");
    ExitCode::from(code)
}
