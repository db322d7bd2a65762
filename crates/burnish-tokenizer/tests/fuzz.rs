//! Bounded fuzzing of the tokenizer loader on stable Rust (issue 8): seeded mutations of the
//! tiny fixture's `tokenizer.json`, `vocab.txt` and `tokenizer_config.json` must load (and
//! then encode text) or give an error, never panic. `BURNISH_FUZZ_ITERS` /
//! `BURNISH_FUZZ_SECONDS` make it run longer.

#[path = "../../../tests/support/mutate.rs"]
mod mutate;

use std::path::{Path, PathBuf};

use burnish_tokenizer::{EncodeOptions, Tokenizer};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/tiny-bert")
}

fn crash_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/fuzz-crashes")
}

#[test]
fn tokenizer_loader_survives_mutated_files() {
    let iters = 800;
    let read = |name: &str| std::fs::read(fixture().join(name)).unwrap();
    // Each target damages one file of an otherwise intact folder.
    for (i, (file, others)) in [
        (
            "tokenizer.json",
            &["tokenizer_config.json", "special_tokens_map.json"][..],
        ),
        ("vocab.txt", &["tokenizer_config.json"][..]),
        ("tokenizer_config.json", &["vocab.txt"][..]),
    ]
    .into_iter()
    .enumerate()
    {
        let dir = tempfile::tempdir().unwrap();
        for other in others {
            std::fs::write(dir.path().join(other), read(other)).unwrap();
        }
        let seeds = vec![read(file)];
        mutate::fuzz(file, 10 + i as u64, &seeds, iters, &crash_dir(), |input| {
            std::fs::write(dir.path().join(file), input).unwrap();
            if let Ok(tokenizer) = Tokenizer::from_dir(dir.path()) {
                let options = EncodeOptions::default();
                let _ = tokenizer.encode("Hello, world! unbelievable café", &options);
                let _ = tokenizer.encode_pair("a question?", "the context.", &options);
            }
        });
    }
}
