//! No panic on input: the cleaner's config loader gets the shipped example with random byte
//! edits and cuts, and arbitrary YAML-ish text. It may refuse the config (exit 2), never panic.
//! `FUZZ_CASES=100000 cargo test --test fuzz_config` runs longer by hand.
#![allow(clippy::unwrap_used)] // test code

use std::path::Path;

use obwatch_cleaner::Config;
use obwatch_testkit::fuzz::{Edit, cases, mutate};
use proptest::prelude::*;

const EXAMPLE: &str = include_str!("../../../packaging/examples/cleaner.yml");

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(512), ..ProptestConfig::default() })]

    #[test]
    fn loader_survives_the_edited_example(
        edits in proptest::collection::vec(any::<Edit>(), 0..8),
        keep in any::<u16>(),
    ) {
        let _ = Config::parse(Path::new("/etc/obwatch/cleaner.yml"), &mutate(EXAMPLE, &edits, keep));
    }

    #[test]
    fn loader_survives_yaml_like_text(text in "[a-z0-9_:{}\\[\\]'\"*/%. \\n-]{0,300}") {
        let _ = Config::parse(Path::new("/etc/obwatch/cleaner.yml"), &text);
    }
}
