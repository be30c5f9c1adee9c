//! Fills in the build information `obwatch_common::build` reports (`--version`,
//! `obwatch_build_info`, the start-up log line), as the Prometheus tools do: git revision and
//! branch, build date, rustc version and target. Nothing here uses the network; a source tree
//! without git (a tarball) reports `unknown`. `SOURCE_DATE_EPOCH` fixes the date for
//! reproducible builds.

use std::path::Path;
use std::process::Command;

// The disallowed-method rule is about the exporter spawning per scrape; this runs at compile time.
#[allow(clippy::disallowed_methods)]
fn output(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

fn main() {
    let git = |args: &[&str]| output("git", args).unwrap_or_else(|| "unknown".into());
    let revision = git(&["rev-parse", "--short=12", "HEAD"]);
    let branch = git(&["rev-parse", "--abbrev-ref", "HEAD"]);
    let date = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(epoch) => output("date", &["-u", "-d", &format!("@{epoch}"), "+%Y-%m-%dT%H:%M:%SZ"]),
        Err(_) => output("date", &["-u", "+%Y-%m-%dT%H:%M:%SZ"]),
    };
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let rustc = output(&rustc, &["--version"]).unwrap_or_else(|| "unknown".into());
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".into());
    for (key, value) in [
        ("OBWATCH_GIT_REVISION", revision.as_str()),
        ("OBWATCH_GIT_BRANCH", branch.as_str()),
        ("OBWATCH_BUILD_DATE", date.as_deref().unwrap_or("unknown")),
        ("OBWATCH_RUSTC", rustc.as_str()),
        ("OBWATCH_TARGET", target.as_str()),
    ] {
        println!("cargo:rustc-env={key}={value}");
    }
    // Rebuild when the checked-out commit changes. Only paths that exist: cargo reruns a
    // build script on every build for a path that does not.
    let git_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.git");
    for rel in ["HEAD", "packed-refs", "refs/heads"] {
        let p = git_dir.join(rel);
        if p.exists() {
            println!("cargo:rerun-if-changed={}", p.display());
        }
    }
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    println!("cargo:rerun-if-changed=build.rs");
}
