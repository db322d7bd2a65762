//! `save_dir` then `from_dir` round trips (no assets needed).

mod common;

use burnish_tokenizer::{EncodeOptions, Input, Tokenizer};
use common::{SMALL_VOCAB, small_tokenizer, small_vocab_dir};

const TEXTS: [Input<'static>; 3] = [
    Input::Single("The quick brown fox jumps over the lazy dog."),
    Input::Pair("Über [MASK] fox?", "a b c zebra"),
    Input::Single(""),
];

fn assert_same_encodings(a: &Tokenizer, b: &Tokenizer) {
    for input in TEXTS {
        assert_eq!(
            a.encode_input(input, &EncodeOptions::default()).unwrap(),
            b.encode_input(input, &EncodeOptions::default()).unwrap(),
            "{input:?}"
        );
    }
}

#[test]
fn round_trip_keeps_ids_and_files() {
    let mut tokenizer = small_tokenizer();
    tokenizer.set_model_max_length(Some(128));
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("nested/tokenizer");
    tokenizer.save_dir(&target).unwrap();

    let reloaded = Tokenizer::from_dir(&target).unwrap();
    assert_same_encodings(&tokenizer, &reloaded);
    assert_eq!(reloaded.model_max_length(), Some(128));
    assert_eq!(reloaded.special_tokens(), tokenizer.special_tokens());

    // vocab.txt lists the tokens in id order.
    let vocab = std::fs::read_to_string(target.join("vocab.txt")).unwrap();
    assert_eq!(vocab.lines().collect::<Vec<_>>(), SMALL_VOCAB);

    // The vocab.txt route reads the saved files back to the same pipeline too.
    std::fs::remove_file(target.join("tokenizer.json")).unwrap();
    let from_vocab = Tokenizer::from_dir(&target).unwrap();
    assert_same_encodings(&tokenizer, &from_vocab);
    assert_eq!(from_vocab.model_max_length(), Some(128));
}

#[test]
fn saving_again_overwrites_and_keeps_unknown_config_keys() {
    let dir = small_vocab_dir();
    std::fs::write(
        dir.path().join("tokenizer_config.json"),
        r#"{"do_lower_case": true, "custom_key": [1, 2], "model_max_length": 1000000000000000019884624838656}"#,
    )
    .unwrap();
    let tokenizer = Tokenizer::from_dir(dir.path()).unwrap();
    assert_eq!(tokenizer.model_max_length(), None);
    // Save over the folder it was loaded from, twice.
    tokenizer.save_dir(dir.path()).unwrap();
    tokenizer.save_dir(dir.path()).unwrap();
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("tokenizer_config.json")).unwrap())
            .unwrap();
    assert_eq!(config["custom_key"], serde_json::json!([1, 2]));
    assert_eq!(config["tokenizer_class"], "BertTokenizer");
    let reloaded = Tokenizer::from_dir(dir.path()).unwrap();
    assert_same_encodings(&tokenizer, &reloaded);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|name| name.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn duplicate_vocab_lines_keep_ids_aligned() {
    let dir = tempfile::tempdir().unwrap();
    // "a" is on lines 3 and 5: like transformers, it keeps id 5; id 3 has no token.
    std::fs::write(
        dir.path().join("vocab.txt"),
        "[PAD]\n[UNK]\n[CLS]\na\n[SEP]\na\nb\n",
    )
    .unwrap();
    let tokenizer = Tokenizer::from_dir(dir.path()).unwrap();
    assert_eq!(tokenizer.token_to_id("a"), Some(5));
    assert_eq!(tokenizer.token_to_id("b"), Some(6));
    let out = tempfile::tempdir().unwrap();
    tokenizer.save_dir(out.path()).unwrap();
    let vocab = std::fs::read_to_string(out.path().join("vocab.txt")).unwrap();
    let lines: Vec<_> = vocab.lines().collect();
    assert_eq!(lines.len(), 7);
    assert_eq!(lines[5], "a");
    assert_eq!(lines[6], "b");
    let reloaded = Tokenizer::from_dir(out.path()).unwrap();
    assert_eq!(reloaded.token_to_id("b"), Some(6));
}
