//! libFuzzer target: the tokenizer loader on arbitrary bytes. The first byte picks the file
//! (`tokenizer.json`, `vocab.txt` or `tokenizer_config.json` beside the fixture's
//! `vocab.txt`); a tokenizer that loads then encodes text and a pair. Any panic is a bug.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use burnish_tokenizer::{EncodeOptions, Tokenizer};
use libfuzzer_sys::fuzz_target;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/tiny-bert");

/// One scratch folder per file kind, so each holds only what it should.
fn folders() -> &'static [PathBuf; 3] {
    static DIRS: OnceLock<[PathBuf; 3]> = OnceLock::new();
    DIRS.get_or_init(|| {
        std::array::from_fn(|k| {
            let dir =
                std::env::temp_dir().join(format!("burnish-fuzz-tok-{}-{k}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            if k == 2 {
                std::fs::copy(format!("{FIXTURE}/vocab.txt"), dir.join("vocab.txt")).unwrap();
            }
            dir
        })
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let kind = selector as usize % 3;
    let dir = &folders()[kind];
    let file = ["tokenizer.json", "vocab.txt", "tokenizer_config.json"][kind];
    std::fs::write(dir.join(file), body).unwrap();
    if let Ok(tokenizer) = Tokenizer::from_dir(dir) {
        let options = EncodeOptions::default();
        let _ = tokenizer.encode("Hello, world! unbelievable café", &options);
        let _ = tokenizer.encode_pair("a question?", "the context.", &options);
    }
});
