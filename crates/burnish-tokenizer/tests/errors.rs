//! Bad folders and files give the right typed error, naming the file (no assets needed).

mod common;

use std::path::Path;

use burnish_tokenizer::{BertTokenizerOptions, Tokenizer, TokenizerError};
use common::{SMALL_VOCAB, small_vocab_dir};

fn write(dir: &Path, name: &str, contents: &[u8]) {
    std::fs::write(dir.join(name), contents).unwrap();
}

/// Asserts the error's message names `file`.
fn names(err: &TokenizerError, file: &str) {
    let message = err.to_string();
    assert!(message.contains(file), "`{message}` should name {file}");
}

#[test]
fn missing_folder() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-model");
    let err = Tokenizer::from_dir(&missing).unwrap_err();
    assert!(matches!(err, TokenizerError::DirNotFound { .. }), "{err}");
    names(&err, "no-such-model");
}

#[test]
fn folder_without_tokenizer_files() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "config.json", b"{}");
    let err = Tokenizer::from_dir(dir.path()).unwrap_err();
    assert!(
        matches!(err, TokenizerError::NoTokenizerFiles { .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("tokenizer.json, vocab.txt, or vocab.json + merges.txt"),
        "{err}"
    );
}

#[test]
fn missing_files() {
    let dir = tempfile::tempdir().unwrap();
    let err = Tokenizer::from_file(dir.path().join("tokenizer.json")).unwrap_err();
    assert!(matches!(err, TokenizerError::Io { .. }), "{err}");
    names(&err, "tokenizer.json");
    let err = Tokenizer::from_vocab(
        dir.path().join("vocab.txt"),
        &BertTokenizerOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, TokenizerError::Io { .. }), "{err}");
    names(&err, "vocab.txt");
}

#[test]
fn empty_vocab() {
    for contents in [&b""[..], b"\n\n  \n"] {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "vocab.txt", contents);
        let err = Tokenizer::from_dir(dir.path()).unwrap_err();
        assert!(matches!(err, TokenizerError::EmptyVocab { .. }), "{err}");
        names(&err, "vocab.txt");
    }
}

#[test]
fn vocab_line_not_utf8() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "vocab.txt", b"[PAD]\n[UNK]\nbad\xff\n[CLS]\n");
    let err = Tokenizer::from_dir(dir.path()).unwrap_err();
    assert!(matches!(err, TokenizerError::Line { line: 3, .. }), "{err}");
    names(&err, "vocab.txt");
    assert!(err.to_string().contains("line 3"), "{err}");
}

#[test]
fn vocab_without_cls() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "vocab.txt", b"[PAD]\n[UNK]\n[SEP]\nhello\n");
    let err = Tokenizer::from_dir(dir.path()).unwrap_err();
    assert!(
        matches!(&err, TokenizerError::MissingSpecialToken { role: "cls", token, .. } if token == "[CLS]"),
        "{err}"
    );
    names(&err, "vocab.txt");
}

#[test]
fn malformed_tokenizer_json() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "tokenizer.json",
        b"{\"version\": \"1.0\",\n \"model\": ",
    );
    let err = Tokenizer::from_dir(dir.path()).unwrap_err();
    assert!(matches!(err, TokenizerError::Json { .. }), "{err}");
    names(&err, "tokenizer.json");
    assert!(err.to_string().contains("line 2"), "{err}");

    // Valid JSON, but not a tokenizer.
    write(
        dir.path(),
        "tokenizer.json",
        b"{\"model\": {\"type\": \"NoSuchModel\"}}",
    );
    let err = Tokenizer::from_dir(dir.path()).unwrap_err();
    assert!(
        matches!(
            err,
            TokenizerError::Json { .. } | TokenizerError::InvalidTokenizer { .. }
        ),
        "{err}"
    );
    names(&err, "tokenizer.json");
}

/// Regression (found by tests/fuzz.rs): a stray byte inside the `decoder` object made the
/// `tokenizers` crate panic ("Helper: Error(...)") instead of failing.
#[test]
fn invalid_byte_in_the_decoder_is_an_error_not_a_panic() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/tiny-bert");
    let text = std::fs::read(fixture.join("tokenizer.json")).unwrap();
    let needle = b"\"decoder\": {";
    let at = text
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap();
    let mut damaged = text[..at].to_vec();
    damaged.extend_from_slice(b"\"decoder\":\xb9{");
    damaged.extend_from_slice(&text[at + needle.len()..]);
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tokenizer.json", &damaged);
    let err = Tokenizer::from_dir(dir.path()).unwrap_err();
    assert!(matches!(err, TokenizerError::Json { .. }), "{err}");
    names(&err, "tokenizer.json");
    assert!(err.to_string().contains("line "), "{err}");
}

/// Regression (found by tests/fuzz.rs): a template naming a special token the
/// post-processor does not define loaded, then panicked ("no entry found for key") when a
/// pair was encoded.
#[test]
fn template_with_an_undefined_special_token_is_an_error() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/tiny-bert");
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture.join("tokenizer.json")).unwrap()).unwrap();
    json["post_processor"]["pair"][2]["SpecialToken"]["id"] = "[SEP@".into();
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tokenizer.json", json.to_string().as_bytes());
    let err = Tokenizer::from_dir(dir.path()).unwrap_err();
    assert!(matches!(err, TokenizerError::ConfigField { .. }), "{err}");
    names(&err, "tokenizer.json");
    assert!(err.to_string().contains("post_processor.pair"), "{err}");
    assert!(err.to_string().contains("[SEP@"), "{err}");
}

#[test]
fn malformed_tokenizer_config() {
    let dir = small_vocab_dir();
    write(
        dir.path(),
        "tokenizer_config.json",
        b"{\"do_lower_case\": tru",
    );
    let err = Tokenizer::from_dir(dir.path()).unwrap_err();
    assert!(matches!(err, TokenizerError::Json { .. }), "{err}");
    names(&err, "tokenizer_config.json");

    write(
        dir.path(),
        "tokenizer_config.json",
        b"{\"do_lower_case\": \"yes\"}",
    );
    let err = Tokenizer::from_dir(dir.path()).unwrap_err();
    assert!(
        matches!(&err, TokenizerError::ConfigField { field, .. } if field == "do_lower_case"),
        "{err}"
    );
    names(&err, "tokenizer_config.json");

    write(dir.path(), "tokenizer_config.json", b"[1, 2]");
    let err = Tokenizer::from_dir(dir.path()).unwrap_err();
    assert!(matches!(err, TokenizerError::ConfigField { .. }), "{err}");

    write(dir.path(), "tokenizer_config.json", b"{}");
    write(dir.path(), "special_tokens_map.json", b"{\"pad_token\": 3}");
    let err = Tokenizer::from_dir(dir.path()).unwrap_err();
    assert!(
        matches!(&err, TokenizerError::ConfigField { field, .. } if field == "pad_token"),
        "{err}"
    );
    names(&err, "special_tokens_map.json");
}

#[test]
fn config_options_are_applied() {
    let dir = small_vocab_dir();
    write(
        dir.path(),
        "tokenizer_config.json",
        br#"{"do_lower_case": false, "model_max_length": 64, "pad_token": "[MASK]"}"#,
    );
    let tokenizer = Tokenizer::from_dir(dir.path()).unwrap();
    assert_eq!(tokenizer.model_max_length(), Some(64));
    assert_eq!(tokenizer.pad_id(), Some(4));
    // Without lowercasing, "The" is not in the vocabulary.
    let encoding = tokenizer.encode("The fox", &Default::default()).unwrap();
    assert_eq!(encoding.tokens, ["[CLS]", "[UNK]", "fox", "[SEP]"]);
    assert_eq!(tokenizer.vocab_size(), SMALL_VOCAB.len());
}

#[test]
fn padding_without_pad_token() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "vocab.txt", b"[UNK]\n[CLS]\n[SEP]\na\nb\n");
    let tokenizer = Tokenizer::from_dir(dir.path()).unwrap();
    assert_eq!(tokenizer.pad_id(), None);
    assert_eq!(tokenizer.mask_id(), None);
    let inputs = ["a".into(), "a b".into()];
    let err = tokenizer
        .encode_batch(
            &inputs,
            &Default::default(),
            burnish_tokenizer::Padding::Longest,
        )
        .unwrap_err();
    assert!(matches!(err, TokenizerError::NoPadToken { .. }), "{err}");
    // Rows of equal length need no padding.
    let inputs = ["a".into(), "b".into()];
    tokenizer
        .encode_batch(
            &inputs,
            &Default::default(),
            burnish_tokenizer::Padding::Longest,
        )
        .unwrap();
}
