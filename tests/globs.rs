//! One glob dialect: the cleaner's policy globs (its own matcher, `pattern.rs`, because it
//! walks with directory handles and never follows links) and the logtailer's inputs, rule file
//! lists and rule `files:` selectors (the `glob` crate with `tail::discover::GLOB`) agree on
//! every case here: hidden files, `**`, character classes, separators.

use std::path::Path;

use obwatch_cleaner::pattern::Glob;
use obwatch_logtailer::tail::discover::GLOB;

/// (pattern, path, matches)
const CASES: &[(&str, &str, bool)] = &[
    ("/var/log/*.log", "/var/log/app.log", true),
    ("/var/log/*.log", "/var/log/.app.log", false),
    ("/var/log/*.log", "/var/log/sub/app.log", false),
    ("/var/log/.*.log", "/var/log/.app.log", true),
    ("/var/log/*", "/var/log/.hidden", false),
    ("/var/log/?pp.log", "/var/log/app.log", true),
    ("/var/log/?pp.log", "/var/log/.pp.log", false),
    ("/var/log/app.log.[0-9]*", "/var/log/app.log.1", true),
    ("/var/log/app.log.[0-9]*", "/var/log/app.log.x", false),
    ("/var/log/app.log.[!0-9]*", "/var/log/app.log.x", true),
    ("/var/log/[!.]*", "/var/log/x", true),
    ("/var/log/[!.]*", "/var/log/.x", false),
    ("/var/log/**/*.log", "/var/log/app.log", true),
    ("/var/log/**/*.log", "/var/log/a/b/app.log", true),
    ("/var/log/**/*.log", "/var/log/a/.b/app.log", false),
    ("/var/log/**/*.log", "/var/log/a/b/.app.log", false),
    ("/var/log/*/alert*.log", "/var/log/rac1/alertrac1.log", true),
    ("/var/log/*/alert*.log", "/var/log/rac1/x/alertrac1.log", false),
    ("/var/log/App.log", "/var/log/app.log", false),
];

#[test]
fn the_cleaner_and_the_logtailer_match_globs_alike() {
    let mut disagree = Vec::new();
    for (pattern, path, want) in CASES {
        let cleaner = Glob::parse(pattern).unwrap().matches_path(Path::new(path));
        let logtailer =
            glob::Pattern::new(pattern).unwrap().matches_path_with(Path::new(path), GLOB);
        if cleaner != *want || logtailer != *want {
            disagree.push(format!(
                "{pattern} vs {path}: want {want}, cleaner {cleaner}, logtailer {logtailer}"
            ));
        }
    }
    assert!(disagree.is_empty(), "{}", disagree.join("\n"));
}
