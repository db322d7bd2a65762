//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use burnish_tokenizer::{BertTokenizerOptions, Tokenizer};

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Returns `path` if it exists, else fails the test with a message naming it and how to get it
/// (`how`). The test command (`scripts/test.sh`) fetches the assets first, so a missing one is a
/// failure, never a skip.
pub fn require(path: PathBuf, what: &str, how: &str) -> PathBuf {
    assert!(
        path.exists(),
        "{what} not found at {}: {how}",
        path.display()
    );
    path
}

/// The real MiniLM model folder, from `$BURNISH_ASSETS` (default `<workspace>/assets`).
pub fn minilm_dir() -> PathBuf {
    let assets = std::env::var_os("BURNISH_ASSETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("assets"));
    require(
        assets.join("all-MiniLM-L6-v2"),
        "the all-MiniLM-L6-v2 model folder",
        "run scripts/fetch-assets.sh",
    )
}

/// MiniLM loaded both ways: from `tokenizer.json` (`from_dir`) and from `vocab.txt` +
/// `tokenizer_config.json` (`from_vocab`).
pub fn minilm_both() -> [(&'static str, Tokenizer); 2] {
    let dir = minilm_dir();
    let from_json = Tokenizer::from_dir(&dir).expect("from_dir(all-MiniLM-L6-v2)");
    let options = BertTokenizerOptions::from_dir(&dir).expect("tokenizer_config.json");
    let from_vocab =
        Tokenizer::from_vocab(dir.join("vocab.txt"), &options).expect("from_vocab(vocab.txt)");
    [("tokenizer.json", from_json), ("vocab.txt", from_vocab)]
}

/// A tiny BERT vocabulary: the five special tokens (ids 0-4), then these tokens (ids 5, 6, ...).
pub const SMALL_VOCAB: &[&str] = &[
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", // 0-4
    "the", "quick", "brown", "fox", "jump", // 5-9
    "##s", "over", "lazy", "dog", "a", // 10-14
    "b", "c", "d", "e", "f", // 15-19
    "g", "uber", ".", "?", // 20-23
];

/// The id of a token of [`SMALL_VOCAB`].
pub fn small_id(token: &str) -> u32 {
    SMALL_VOCAB.iter().position(|t| *t == token).expect(token) as u32
}

/// Writes [`SMALL_VOCAB`] as `vocab.txt` into a new temporary folder.
pub fn small_vocab_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("vocab.txt"), SMALL_VOCAB.join("\n") + "\n").unwrap();
    dir
}

/// A BERT tokenizer over [`SMALL_VOCAB`] (lowercasing, accents stripped).
pub fn small_tokenizer() -> Tokenizer {
    let dir = small_vocab_dir();
    Tokenizer::from_vocab(
        dir.path().join("vocab.txt"),
        &BertTokenizerOptions::default(),
    )
    .unwrap()
}
