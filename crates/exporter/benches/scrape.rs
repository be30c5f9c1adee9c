//! Criterion: one full scrape (collect + encode) over the fixture tree, and encoding alone.
//! Run with `cargo bench -p obwatch-exporter`; scripts/bench-exporter.sh runs the side-by-side
//! comparison with node_exporter.

use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use obwatch_common::metrics::MetricSet;
use obwatch_exporter::Config;
use obwatch_exporter::server::Exporter;

fn bench(c: &mut Criterion) {
    let tree = tempfile::tempdir().expect("temp dir");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    obwatch_exporter::fixture::build_all(tree.path(), &fixtures).expect("fixture tree");
    let args = [
        "obwatch-exporter".to_string(),
        format!("--path.procfs={}", tree.path().join("proc").display()),
        format!("--path.sysfs={}", tree.path().join("sys").display()),
    ];
    let config = Config::load(args).expect("config");
    let registry = obwatch_exporter::build_registry(&config).expect("collectors build");
    let exporter = Exporter::new(registry, &config);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let body = rt.block_on(exporter.render(None, Duration::from_secs(5)));

    let mut g = c.benchmark_group("scrape");
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("collect_and_encode_fixture_tree", |b| {
        b.iter(|| rt.block_on(exporter.render(None, Duration::from_secs(5))))
    });
    // Encoding alone: parse the scrape back into a set once, then encode it repeatedly.
    let families = obwatch_common::exposition::parse(std::str::from_utf8(&body).expect("utf-8"))
        .expect("parses");
    let mut set = MetricSet::new();
    for f in &families {
        let fam =
            set.family(f.name.clone(), f.help.clone(), obwatch_common::metrics::MetricType::Gauge);
        for s in &f.samples {
            let labels: Vec<(&str, &str)> =
                s.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            fam.sample(&labels, s.value);
        }
    }
    g.bench_function("encode_only", |b| {
        b.iter(|| {
            let mut out = String::with_capacity(body.len() + 1024);
            set.clone().encode(&mut out);
            out
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
