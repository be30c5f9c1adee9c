//! `obwatch-exporter`: parse flags, set up logging, bind, run. Exit codes: 0 ok, 1 runtime
//! failure, 2 bad usage or configuration (including a listen address in use).
#![forbid(unsafe_code)]

use std::process::ExitCode;

use obwatch_exporter::config::LoadError;
use obwatch_exporter::{Config, StartError};

fn main() -> ExitCode {
    // `obwatch-exporter check [FLAGS]`: the same flags, validated without serving.
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(what) = obwatch_common::manual::requested(&args) {
        let cmd = obwatch_exporter::config::command();
        return ExitCode::from(obwatch_common::manual::print(what, cmd));
    }
    let check = args.get(1).is_some_and(|a| a == "check");
    if check {
        args.remove(1);
    }
    let config = match Config::load(args) {
        Ok(c) => c,
        Err(LoadError::Usage(e)) => {
            // --help and --version print to stdout and exit 0; bad flags exit 2.
            let _ = e.print();
            return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
        }
        Err(e) => {
            obwatch_common::stderr!("obwatch-exporter: {e}");
            return ExitCode::from(2);
        }
    };
    if check {
        return match obwatch_exporter::check(&config) {
            Ok(summary) => {
                use std::io::Write as _;
                let _ = writeln!(std::io::stdout().lock(), "{summary}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                obwatch_common::stderr!("obwatch-exporter: {e}");
                ExitCode::from(2)
            }
        };
    }
    obwatch_common::logging::init(config.log_level, config.log_format);
    obwatch_common::build::log_start("obwatch-exporter");
    obwatch_common::cli::raise_nofile_limit_logged();
    for w in &config.warnings {
        tracing::warn!(warning = %w, "Configuration warning.");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        // One async worker: it only accepts, parses HTTP and writes bodies; collectors and
        // bcrypt run on the blocking pool. Each thread costs a stack and a malloc arena of
        // resident memory, and the RSS budget is 10 MB.
        .worker_threads(1)
        // Bounded anyway: a stuck collector holds at most one thread (registry.rs).
        .max_blocking_threads(32)
        // Tokio ends a blocking thread after 10 s idle, so at Prometheus' 15 s interval every
        // scrape created its collector threads again. Kept for 10 minutes, they are reused
        // at any usual interval (their stacks are resident memory either way).
        .thread_keep_alive(std::time::Duration::from_secs(600))
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            obwatch_common::stderr!("obwatch-exporter: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    obwatch_common::shutdown::block_on_bounded(runtime, async move {
        let mut listeners = Vec::new();
        for addr in &config.listen_addresses {
            match obwatch_common::http::bind(addr).await {
                Ok(l) => listeners.push(l),
                Err(e) => {
                    obwatch_common::stderr!("obwatch-exporter: --web.listen-address: {e}");
                    return ExitCode::from(2);
                }
            }
        }
        match obwatch_exporter::run(config, listeners, obwatch_common::shutdown::signal_received())
            .await
        {
            Ok(()) => ExitCode::SUCCESS,
            Err(e @ (StartError::Build(_) | StartError::WebConfig(_))) => {
                obwatch_common::stderr!("obwatch-exporter: {e}");
                ExitCode::from(2)
            }
        }
    })
}
