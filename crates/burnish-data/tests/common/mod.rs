//! Helpers shared by the integration tests: where the shared data and the model assets are,
//! the tokenizers, and temporary data files.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use burnish_tokenizer::Tokenizer;

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Whether we run under CI, where a missing asset is a failure, never a skip.
fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// Returns `path` if it exists. Otherwise panics under `CI=true`, or prints a note and returns
/// `None` so the test can return early.
pub fn require(path: PathBuf, what: &str, how: &str) -> Option<PathBuf> {
    if path.exists() {
        return Some(path);
    }
    let message = format!("{what} not found at {}: {how}", path.display());
    assert!(!under_ci(), "{message}");
    eprintln!("note: skipping, {message}");
    None
}

/// A file of the shared benchmark data, from `$BURNISH_SHARED_DATA` (default
/// `<workspace>/../shared/data`).
pub fn shared_data(relative: &str) -> Option<PathBuf> {
    let root = std::env::var_os("BURNISH_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared/data"));
    require(
        root.join(relative),
        &format!("the shared data file {relative}"),
        "set BURNISH_SHARED_DATA to the shared data folder",
    )
}

/// The real all-MiniLM-L6-v2 tokenizer, from `$BURNISH_ASSETS` (default `<workspace>/assets`).
pub fn minilm_tokenizer() -> Option<Tokenizer> {
    let assets = std::env::var_os("BURNISH_ASSETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("assets"));
    let dir = require(
        assets.join("all-MiniLM-L6-v2"),
        "the all-MiniLM-L6-v2 model folder",
        "run scripts/fetch-assets.sh",
    )?;
    Some(Tokenizer::from_dir(&dir).expect("load the all-MiniLM-L6-v2 tokenizer"))
}

/// The tiny BERT tokenizer committed under tests/fixtures (a small real WordPiece vocabulary).
pub fn tiny_tokenizer() -> Tokenizer {
    Tokenizer::from_dir(workspace_root().join("tests/fixtures/tiny-bert"))
        .expect("load the tiny-bert tokenizer")
}

/// A temporary folder holding one file `name` with these bytes.
pub struct TempFile {
    _dir: tempfile::TempDir,
    /// The file.
    pub path: PathBuf,
}

/// Writes `contents` to a new temporary file called `name` (the extension picks the format).
pub fn temp_file(name: &str, contents: impl AsRef<[u8]>) -> TempFile {
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join(name);
    std::fs::write(&path, contents).expect("write temporary file");
    TempFile { _dir: dir, path }
}
