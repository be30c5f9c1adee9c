//! No panics on input: every file of the fixture tree is mangled in several ways (cut
//! mid-line, digits replaced, binary garbage, emptied, numbers overflowing, a new kernel's extra
//! column) and every collector runs over each variant. A collector may fail (success 0), never
//! panic: a panic would kill its worker thread and lose the collector until restart.
#![allow(clippy::unwrap_used)] // test code

mod util;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use obwatch_common::fs::Root;
use obwatch_common::metrics::MetricSet;
use obwatch_exporter::collector::{ALL, BuildContext, Collector};
use obwatch_exporter::options::CollectorOptions;

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let t = std::fs::symlink_metadata(e.path()).unwrap().file_type();
        if t.is_dir() {
            files(&e.path(), out);
        } else if t.is_file() {
            out.push(e.path());
        }
    }
}

fn manglings(original: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let text = String::from_utf8_lossy(original);
    vec![
        ("empty", Vec::new()),
        ("cut in half", original[..original.len() / 2].to_vec()),
        ("cut after 7 bytes", original[..original.len().min(7)].to_vec()),
        ("digits to x", text.replace(|c: char| c.is_ascii_digit(), "x").into_bytes()),
        (
            "numbers overflow",
            text.replace(|c: char| c.is_ascii_digit(), "99999999999999999999").into_bytes(),
        ),
        ("extra column", text.replace('\n', " 42\n").into_bytes()),
        ("binary", vec![0xff, 0xfe, 0x00, b'\n', 0x80, b' ', b':', b'\n']),
        ("only separators", b": : :\n\t\n  \n".to_vec()),
    ]
}

#[test]
fn no_collector_panics_on_mangled_files() {
    let tree = util::fixture_tree();
    let root = Root {
        procfs: tree.path().join("proc"),
        sysfs: tree.path().join("sys"),
        rootfs: "/".into(),
    };
    let options = CollectorOptions::default();
    let cx = BuildContext { root: &root, options: &options };
    let collectors: Vec<(&str, Box<dyn Collector>)> =
        // oceanbase and obproxy (off by default) need a server, not files.
        ALL.iter().filter(|s| s.default_enabled).map(|s| (s.name, (s.build)(&cx).unwrap())).collect();
    let mut all = Vec::new();
    files(tree.path(), &mut all);
    assert!(all.len() > 50, "fixture tree has only {} files", all.len());
    let mut runs = 0;
    let mut panics = Vec::new();
    for path in &all {
        let original = std::fs::read(path).unwrap();
        for (how, bytes) in manglings(&original) {
            std::fs::write(path, &bytes).unwrap();
            for (name, c) in &collectors {
                runs += 1;
                let mut set = MetricSet::new();
                if catch_unwind(AssertUnwindSafe(|| c.collect(&mut set))).is_err() {
                    panics.push(format!("{name} panicked on {} ({how})", path.display()));
                }
            }
        }
        std::fs::write(path, &original).unwrap();
    }
    assert!(panics.is_empty(), "{} of {runs} runs panicked:\n{}", panics.len(), panics.join("\n"));
}
