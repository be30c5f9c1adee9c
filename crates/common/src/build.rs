//! What this binary is: version, git revision and branch, build date, rustc and target, filled
//! in by `build.rs` at compile time. Printed by `--version` like the Prometheus tools print
//! theirs, exported as `obwatch_build_info` labels and logged at start-up, so an operator can
//! tell from any of the three which build runs on a host.

/// The workspace version (Cargo.toml).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// `git rev-parse --short=12 HEAD` at build time, or `unknown`.
pub const REVISION: &str = env!("OBWATCH_GIT_REVISION");
/// The checked-out branch at build time (`HEAD` when detached), or `unknown`.
pub const BRANCH: &str = env!("OBWATCH_GIT_BRANCH");
/// UTC build time (RFC 3339), or `SOURCE_DATE_EPOCH`'s.
pub const BUILD_DATE: &str = env!("OBWATCH_BUILD_DATE");
/// `rustc --version` of the compiler that built this.
pub const RUSTC: &str = env!("OBWATCH_RUSTC");
/// The target triple, e.g. `x86_64-unknown-linux-gnu`.
pub const TARGET: &str = env!("OBWATCH_TARGET");

/// clap's `long_version` (`--version`): clap prints the binary name before it.
pub const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (branch: ",
    env!("OBWATCH_GIT_BRANCH"),
    ", revision: ",
    env!("OBWATCH_GIT_REVISION"),
    ")\n  build date: ",
    env!("OBWATCH_BUILD_DATE"),
    "\n  rustc:      ",
    env!("OBWATCH_RUSTC"),
    "\n  platform:   ",
    env!("OBWATCH_TARGET"),
);

/// The `obwatch_build_info` labels, in the order the Prometheus tools use.
pub fn labels() -> [(&'static str, &'static str); 5] {
    [
        ("version", VERSION),
        ("revision", REVISION),
        ("branch", BRANCH),
        ("rustc_version", RUSTC),
        ("target", TARGET),
    ]
}

/// Logs the start-up line every binary writes first: what runs, and which build it is.
pub fn log_start(binary: &str) {
    tracing::info!(
        version = VERSION,
        revision = REVISION,
        branch = BRANCH,
        build_date = BUILD_DATE,
        rustc = RUSTC,
        target = TARGET,
        "Starting {binary}."
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filled_in_at_build_time() {
        assert!(!VERSION.is_empty());
        assert!(RUSTC.starts_with("rustc "), "{RUSTC}");
        assert!(TARGET.contains("linux"), "{TARGET}");
        // This test runs from a git checkout (CI clones one).
        assert!(
            REVISION.len() == 12 && REVISION.bytes().all(|b| b.is_ascii_hexdigit()),
            "{REVISION}"
        );
        assert!(BUILD_DATE.ends_with('Z') && BUILD_DATE.len() == 20, "{BUILD_DATE}");
        assert!(LONG_VERSION.starts_with(VERSION) && LONG_VERSION.contains(REVISION));
    }
}
