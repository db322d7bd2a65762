//! `cargo bench --bench tokenizer`: batch encoding of real sentences (the vader-movies test
//! split, 1,057 rotten tomatoes review sentences) with all-MiniLM-L6-v2's tokenizer, truncated
//! to 128 and 512.
//!
//! Needs the assets (`scripts/fetch-assets.sh`; `BURNISH_ASSETS` to move them).

use std::hint::black_box;
use std::path::PathBuf;

use burnish::tokenizer::{EncodeOptions, Input, Padding, Tokenizer};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn assets() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    std::env::var_os("BURNISH_ASSETS").map_or_else(|| root.join("assets"), PathBuf::from)
}

fn sentences() -> Vec<String> {
    let data = assets().join("vader-movies/test.tsv");
    let text = std::fs::read_to_string(&data)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/fetch-assets.sh)", data.display()));
    text.lines()
        .skip(1)
        .filter_map(|l| l.split('\t').next())
        .map(str::to_string)
        .collect()
}

fn encode(c: &mut Criterion) {
    let model = assets().join("all-MiniLM-L6-v2");
    let tokenizer =
        Tokenizer::from_dir(&model).unwrap_or_else(|e| panic!("{e} (run scripts/fetch-assets.sh)"));
    let texts = sentences();
    let refs: Vec<Input<'_>> = texts.iter().map(|t| Input::Single(t)).collect();
    let mut group = c.benchmark_group("tokenizer");
    group.throughput(Throughput::Elements(refs.len() as u64));
    for max_length in [128, 512] {
        let options = EncodeOptions {
            max_length: Some(max_length),
            ..EncodeOptions::default()
        };
        group.bench_function(format!("vader-movies-test/max{max_length}"), |b| {
            b.iter(|| {
                black_box(
                    tokenizer
                        .encode_batch(&refs, &options, Padding::Longest)
                        .unwrap(),
                )
            })
        });
    }
    group.finish();
}

criterion_group!(benches, encode);
criterion_main!(benches);
