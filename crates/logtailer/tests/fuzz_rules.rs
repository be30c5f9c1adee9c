//! No panic on input: the rule loader gets the shipped rule files with random byte edits and
//! cuts, and arbitrary YAML-ish text. It may report errors (`check` exits 2), never panic.
//! `FUZZ_CASES=10000 cargo test --test fuzz_rules` runs longer by hand.
#![allow(clippy::unwrap_used)] // test code

use std::path::Path;
use std::sync::OnceLock;

use obwatch_logtailer::rule::RuleSet;
use obwatch_testkit::fuzz::{Edit, cases, mutate};
use proptest::prelude::*;

fn shipped() -> &'static Vec<String> {
    static FILES: OnceLock<Vec<String>> = OnceLock::new();
    FILES.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules");
        let mut texts: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect();
        texts.sort();
        assert!(texts.len() >= 4, "shipped rule files: {}", texts.len());
        texts
    })
}

proptest! {
    // Compiling a whole rule file takes milliseconds: fewer cases than the parsers get.
    #![proptest_config(ProptestConfig { cases: cases(48), ..ProptestConfig::default() })]

    #[test]
    fn loader_survives_edited_shipped_rules(
        file in 0usize..4,
        edits in proptest::collection::vec(any::<Edit>(), 0..6),
        keep in any::<u16>(),
    ) {
        let files = shipped();
        let text = mutate(&files[file % files.len()], &edits, keep);
        let _ = RuleSet::from_yaml(Path::new("fuzz.yaml"), &text);
    }

    #[test]
    fn loader_survives_yaml_like_text(text in "[a-z_:{}\\[\\]'\"(?<>)\\\\.*+| \\n-]{0,300}") {
        let _ = RuleSet::from_yaml(Path::new("fuzz.yaml"), &text);
    }
}
