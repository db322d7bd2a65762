//! WordPiece training on a small generated corpus (no assets needed).

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use burnish_tokenizer::{
    EncodeOptions, Tokenizer, TokenizerError, WordPieceTrainOptions, train_wordpiece,
};

/// Writes a corpus of `lines` lines cycling through a few sentences.
fn corpus(dir: &Path, name: &str, lines: usize) -> PathBuf {
    let sentences = [
        "Hello world, the burnish tokenizer is training.",
        "The quick brown fox jumps over the lazy dog!",
        "Training a tokenizer on the world of foxes and dogs.",
        "Hello again: burnish trains WordPiece vocabularies.",
    ];
    let text: String = (0..lines)
        .map(|i| format!("{}\n", sentences[i % sentences.len()]))
        .collect();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn options(vocab_size: usize) -> WordPieceTrainOptions {
    WordPieceTrainOptions {
        vocab_size,
        ..WordPieceTrainOptions::default()
    }
}

#[test]
fn trained_vocab_has_special_tokens_and_words() {
    let dir = tempfile::tempdir().unwrap();
    let files = [corpus(dir.path(), "corpus.txt", 400)];
    let tokenizer = train_wordpiece(&files, &options(300)).unwrap();

    // Special tokens first, in the given order: [PAD] is 0.
    for (id, token) in ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        .iter()
        .enumerate()
    {
        assert_eq!(tokenizer.token_to_id(token), Some(id as u32), "{token}");
    }
    assert_eq!(tokenizer.pad_id(), Some(0));
    assert_eq!(tokenizer.unk_id(), Some(1));
    assert_eq!(tokenizer.cls_id(), Some(2));
    assert_eq!(tokenizer.sep_id(), Some(3));
    assert_eq!(tokenizer.mask_id(), Some(4));
    assert!(tokenizer.vocab_size() <= 300);
    assert!(tokenizer.is_wordpiece());

    // A frequent training word is a single token; the pipeline lowercases and adds [CLS]/[SEP].
    let encoding = tokenizer
        .encode("Hello BURNISH tokenizer", &EncodeOptions::default())
        .unwrap();
    assert_eq!(
        encoding.tokens,
        ["[CLS]", "hello", "burnish", "tokenizer", "[SEP]"]
    );
    assert_eq!(encoding.ids[0], 2);
    assert_eq!(encoding.ids[4], 3);

    // A new word made of seen pieces is spelled with sub-words (`##` continuations), sharing
    // one word id.
    let encoding = tokenizer
        .encode("helloworld", &EncodeOptions::default())
        .unwrap();
    assert!(encoding.tokens.len() > 3, "{:?}", encoding.tokens);
    assert!(
        !encoding.tokens.contains(&"[UNK]".to_owned()),
        "{:?}",
        encoding.tokens
    );
    assert!(
        encoding.tokens[2].starts_with("##"),
        "{:?}",
        encoding.tokens
    );
    assert!(
        encoding.word_ids[1..encoding.len() - 1]
            .iter()
            .all(|w| *w == Some(0))
    );
    assert_eq!(tokenizer.decode(&encoding.ids, true).unwrap(), "helloworld");

    // Pairs get the trained [SEP] and type ids.
    let encoding = tokenizer
        .encode_pair("hello", "world", &EncodeOptions::default())
        .unwrap();
    assert_eq!(
        encoding.tokens,
        ["[CLS]", "hello", "[SEP]", "world", "[SEP]"]
    );
    assert_eq!(encoding.type_ids, [0, 0, 0, 1, 1]);
}

#[test]
fn trained_tokenizer_round_trips_through_save_dir() {
    let dir = tempfile::tempdir().unwrap();
    let files = [corpus(dir.path(), "corpus.txt", 200)];
    let mut tokenizer = train_wordpiece(&files, &options(200)).unwrap();
    tokenizer.set_model_max_length(Some(64));
    let out = dir.path().join("saved");
    tokenizer.save_dir(&out).unwrap();

    let texts = ["Hello world of burnish!", "Unseen zebras training quickly."];
    for loaded in [
        Tokenizer::from_dir(&out).unwrap(),
        Tokenizer::from_vocab(
            out.join("vocab.txt"),
            &burnish_tokenizer::BertTokenizerOptions::from_dir(&out).unwrap(),
        )
        .unwrap(),
    ] {
        assert_eq!(loaded.model_max_length(), Some(64));
        for text in texts {
            assert_eq!(
                loaded.encode(text, &EncodeOptions::default()).unwrap(),
                tokenizer.encode(text, &EncodeOptions::default()).unwrap(),
            );
        }
    }
    let vocab = std::fs::read_to_string(out.join("vocab.txt")).unwrap();
    assert_eq!(
        vocab.lines().take(5).collect::<Vec<_>>(),
        ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    );
    assert_eq!(vocab.lines().count(), tokenizer.vocab_size());
}

#[test]
fn trains_on_several_files_including_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let plain = corpus(dir.path(), "a.txt", 100);
    let gz = dir.path().join("b.txt.gz");
    let mut encoder = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::default(),
    );
    for _ in 0..100 {
        encoder
            .write_all(b"zanzibar xylophones zanzibar\n")
            .unwrap();
    }
    encoder.finish().unwrap();

    let tokenizer = train_wordpiece(&[plain, gz], &options(300)).unwrap();
    let encoding = tokenizer
        .encode("zanzibar hello", &EncodeOptions::default())
        .unwrap();
    assert_eq!(encoding.tokens, ["[CLS]", "zanzibar", "hello", "[SEP]"]);
}

#[test]
fn uncased_options_keep_case() {
    let dir = tempfile::tempdir().unwrap();
    let files = [corpus(dir.path(), "corpus.txt", 200)];
    let tokenizer = train_wordpiece(
        &files,
        &WordPieceTrainOptions {
            lowercase: false,
            ..options(300)
        },
    )
    .unwrap();
    let encoding = tokenizer
        .encode("Hello The", &EncodeOptions::default())
        .unwrap();
    assert_eq!(encoding.tokens, ["[CLS]", "Hello", "The", "[SEP]"]);
}

#[test]
fn training_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good = corpus(dir.path(), "corpus.txt", 10);

    let err = train_wordpiece(&[], &options(100)).unwrap_err();
    assert!(
        matches!(err, TokenizerError::InvalidTrainOptions { .. }),
        "{err}"
    );

    let missing = dir.path().join("missing.txt");
    let err = train_wordpiece(&[good.clone(), missing], &options(100)).unwrap_err();
    assert!(matches!(err, TokenizerError::Io { .. }), "{err}");
    assert!(err.to_string().contains("missing.txt"), "{err}");

    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, b"fine line\nanother\nnot utf-8 \xff\xfe\n").unwrap();
    let err = train_wordpiece(&[good.clone(), bad], &options(100)).unwrap_err();
    assert!(matches!(err, TokenizerError::Line { line: 3, .. }), "{err}");
    assert!(err.to_string().contains("bad.txt"), "{err}");

    let no_mask = WordPieceTrainOptions {
        special_tokens: vec![
            "[PAD]".into(),
            "[UNK]".into(),
            "[CLS]".into(),
            "[SEP]".into(),
        ],
        ..options(100)
    };
    let err = train_wordpiece(std::slice::from_ref(&good), &no_mask).unwrap_err();
    assert!(err.to_string().contains("[MASK]"), "{err}");

    let err = train_wordpiece(std::slice::from_ref(&good), &options(5)).unwrap_err();
    assert!(
        matches!(err, TokenizerError::InvalidTrainOptions { .. }),
        "{err}"
    );
}
