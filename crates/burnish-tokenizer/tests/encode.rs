//! Encoding behaviour on a tiny hand-made vocabulary (no assets needed).

mod common;

use burnish_tokenizer::{EncodeOptions, Input, Padding, TokenizerError, TruncationStrategy};
use common::{small_id as id, small_tokenizer};

fn ids(tokens: &str) -> Vec<u32> {
    tokens.split(' ').map(id).collect()
}

fn truncate(max_length: usize, truncation: TruncationStrategy) -> EncodeOptions {
    EncodeOptions {
        max_length: Some(max_length),
        truncation,
        ..EncodeOptions::default()
    }
}

#[test]
fn single_text_gets_cls_and_sep() {
    let tokenizer = small_tokenizer();
    let encoding = tokenizer
        .encode("The quick fox jumps.", &EncodeOptions::default())
        .unwrap();
    assert_eq!(
        encoding.tokens,
        ["[CLS]", "the", "quick", "fox", "jump", "##s", ".", "[SEP]"]
    );
    assert_eq!(encoding.ids, ids("[CLS] the quick fox jump ##s . [SEP]"));
    assert_eq!(encoding.type_ids, vec![0; 8]);
    assert_eq!(encoding.attention_mask, vec![1; 8]);
    assert_eq!(encoding.special_tokens_mask, [1, 0, 0, 0, 0, 0, 0, 1]);
    assert!(encoding.overflowing.is_empty());
}

#[test]
fn pair_type_ids_and_sequence_ids() {
    let tokenizer = small_tokenizer();
    let encoding = tokenizer
        .encode_pair("the fox", "a lazy dog", &EncodeOptions::default())
        .unwrap();
    assert_eq!(encoding.ids, ids("[CLS] the fox [SEP] a lazy dog [SEP]"));
    assert_eq!(encoding.type_ids, [0, 0, 0, 0, 1, 1, 1, 1]);
    assert_eq!(
        encoding.sequence_ids,
        [
            None,
            Some(0),
            Some(0),
            None,
            Some(1),
            Some(1),
            Some(1),
            None
        ]
    );
    assert_eq!(encoding.special_tokens_mask, [1, 0, 0, 1, 0, 0, 0, 1]);
    // Offsets of the second text are relative to the second text.
    assert_eq!(encoding.offsets[4..7], [(0, 1), (2, 6), (7, 10)]);
}

#[test]
fn without_special_tokens() {
    let tokenizer = small_tokenizer();
    let options = EncodeOptions {
        add_special_tokens: false,
        ..EncodeOptions::default()
    };
    let encoding = tokenizer.encode_pair("the fox", "a dog", &options).unwrap();
    assert_eq!(encoding.ids, ids("the fox a dog"));
    assert_eq!(encoding.type_ids, [0, 0, 1, 1]);
}

#[test]
fn mask_token_in_text_stays_one_token() {
    let tokenizer = small_tokenizer();
    let encoding = tokenizer
        .encode("the [MASK] fox", &EncodeOptions::default())
        .unwrap();
    assert_eq!(encoding.ids, ids("[CLS] the [MASK] fox [SEP]"));
    // An unknown word becomes [UNK].
    let encoding = tokenizer
        .encode("the zebra", &EncodeOptions::default())
        .unwrap();
    assert_eq!(encoding.ids, ids("[CLS] the [UNK] [SEP]"));
}

#[test]
fn word_ids_and_byte_offsets_of_sub_words() {
    let tokenizer = small_tokenizer();
    // "Ü" is two bytes: offsets are byte offsets into the original text.
    let text = "Über jumps";
    let encoding = tokenizer.encode(text, &EncodeOptions::default()).unwrap();
    assert_eq!(encoding.tokens, ["[CLS]", "uber", "jump", "##s", "[SEP]"]);
    assert_eq!(encoding.word_ids, [None, Some(0), Some(1), Some(1), None]);
    assert_eq!(
        encoding.offsets,
        [(0, 0), (0, 5), (6, 10), (10, 11), (0, 0)]
    );
    assert_eq!(&text[encoding.offsets[1].0..encoding.offsets[1].1], "Über");
    assert_eq!(&text[encoding.offsets[2].0..encoding.offsets[3].1], "jumps");
}

#[test]
fn truncation_strategies() {
    let tokenizer = small_tokenizer();
    let a = "a b c d e"; // 5 tokens
    let b = "the quick brown fox"; // 4 tokens
    // max_length 9 leaves 6 tokens of text beside [CLS] [SEP] [SEP]: 3 must go.
    let encode = |strategy| {
        tokenizer
            .encode_pair(a, b, &truncate(9, strategy))
            .map(|e| e.ids)
    };
    // Both are longer than half the room: each gets 3.
    assert_eq!(
        encode(TruncationStrategy::LongestFirst).unwrap(),
        ids("[CLS] a b c [SEP] the quick brown [SEP]")
    );
    assert_eq!(
        encode(TruncationStrategy::OnlyFirst).unwrap(),
        ids("[CLS] a b [SEP] the quick brown fox [SEP]")
    );
    assert_eq!(
        encode(TruncationStrategy::OnlySecond).unwrap(),
        ids("[CLS] a b c d e [SEP] the [SEP]")
    );
    assert_eq!(
        encode(TruncationStrategy::DoNotTruncate).unwrap(),
        ids("[CLS] a b c d e [SEP] the quick brown fox [SEP]")
    );

    // Longest-first only cuts the longer one when that is enough.
    let encoding = tokenizer
        .encode_pair("a", b, &truncate(6, TruncationStrategy::LongestFirst))
        .unwrap();
    assert_eq!(encoding.ids, ids("[CLS] a [SEP] the quick [SEP]"));

    // Single sequence.
    let encoding = tokenizer
        .encode(a, &truncate(5, TruncationStrategy::LongestFirst))
        .unwrap();
    assert_eq!(encoding.ids, ids("[CLS] a b c [SEP]"));

    // max_length None falls back to model_max_length.
    let mut limited = small_tokenizer();
    limited.set_model_max_length(Some(4));
    let encoding = limited.encode(a, &EncodeOptions::default()).unwrap();
    assert_eq!(encoding.ids, ids("[CLS] a b [SEP]"));
}

#[test]
fn truncation_that_cannot_work_is_an_error() {
    let tokenizer = small_tokenizer();
    // OnlySecond needs a pair.
    let err = tokenizer
        .encode("a b c d e", &truncate(4, TruncationStrategy::OnlySecond))
        .unwrap_err();
    assert!(matches!(err, TokenizerError::Truncation { .. }), "{err}");
    // The second sequence is too short to lose the excess.
    let err = tokenizer
        .encode_pair(
            "a b c d e",
            "f",
            &truncate(6, TruncationStrategy::OnlySecond),
        )
        .unwrap_err();
    assert!(matches!(err, TokenizerError::Truncation { .. }), "{err}");
    // No room for text at all.
    let err = tokenizer
        .encode_pair("a", "b", &truncate(3, TruncationStrategy::LongestFirst))
        .unwrap_err();
    assert!(
        matches!(err, TokenizerError::InvalidOptions { .. }),
        "{err}"
    );
    // A stride as long as the room.
    let options = EncodeOptions {
        stride: 3,
        return_overflowing: true,
        ..truncate(5, TruncationStrategy::LongestFirst)
    };
    let err = tokenizer.encode("a b c d e", &options).unwrap_err();
    assert!(
        matches!(err, TokenizerError::InvalidOptions { .. }),
        "{err}"
    );
    // A stride longer than the truncated sequence's share (the first text takes most room).
    let options = EncodeOptions {
        stride: 2,
        return_overflowing: true,
        ..truncate(9, TruncationStrategy::OnlySecond)
    };
    let err = tokenizer
        .encode_pair("a b c d", "e f g the quick", &options)
        .unwrap_err();
    assert!(matches!(err, TokenizerError::Truncation { .. }), "{err}");
}

#[test]
fn overflow_windows_with_stride() {
    let tokenizer = small_tokenizer();
    let options = EncodeOptions {
        stride: 2,
        return_overflowing: true,
        ..truncate(6, TruncationStrategy::LongestFirst)
    };
    // Room for 4 tokens a window, advancing by 4 - 2.
    let encoding = tokenizer.encode("a b c d e f g", &options).unwrap();
    assert_eq!(encoding.ids, ids("[CLS] a b c d [SEP]"));
    let windows: Vec<Vec<u32>> = encoding.overflowing.iter().map(|e| e.ids.clone()).collect();
    assert_eq!(
        windows,
        [ids("[CLS] c d e f [SEP]"), ids("[CLS] e f g [SEP]")]
    );
    // Word ids and offsets follow the window.
    assert_eq!(
        encoding.overflowing[1].word_ids,
        [None, Some(4), Some(5), Some(6), None]
    );
    assert_eq!(encoding.overflowing[1].offsets[1], (8, 9));

    // Question answering: windows over the context, each with the question.
    let options = EncodeOptions {
        stride: 1,
        return_overflowing: true,
        ..truncate(8, TruncationStrategy::OnlySecond)
    };
    let encoding = tokenizer
        .encode_pair("the fox ?", "a b c d e", &options)
        .unwrap();
    let all: Vec<Vec<u32>> = std::iter::once(&encoding)
        .chain(&encoding.overflowing)
        .map(|e| e.ids.clone())
        .collect();
    assert_eq!(
        all,
        [
            ids("[CLS] the fox ? [SEP] a b [SEP]"),
            ids("[CLS] the fox ? [SEP] b c [SEP]"),
            ids("[CLS] the fox ? [SEP] c d [SEP]"),
            ids("[CLS] the fox ? [SEP] d e [SEP]"),
        ]
    );
    for window in &encoding.overflowing {
        assert_eq!(window.type_ids, [0, 0, 0, 0, 0, 1, 1, 1]);
    }

    // Without return_overflowing the rest is dropped, and the stride is not checked.
    let options = EncodeOptions {
        stride: 100,
        ..truncate(6, TruncationStrategy::LongestFirst)
    };
    let encoding = tokenizer.encode("a b c d e f g", &options).unwrap();
    assert_eq!(encoding.ids, ids("[CLS] a b c d [SEP]"));
    assert!(encoding.overflowing.is_empty());
}

#[test]
fn batch_padding() {
    let tokenizer = small_tokenizer();
    let inputs = [
        Input::from("the fox"),
        Input::from(("a dog", "the quick brown fox")),
    ];
    let options = EncodeOptions::default();

    let batch = tokenizer
        .encode_batch(&inputs, &options, Padding::Longest)
        .unwrap();
    assert_eq!(batch.len(), 2);
    assert_eq!(batch.seq_len(), 9);
    assert_eq!(
        batch.ids[0],
        [
            id("[CLS]"),
            id("the"),
            id("fox"),
            id("[SEP]"),
            0,
            0,
            0,
            0,
            0
        ]
    );
    assert_eq!(batch.attention_mask[0], [1, 1, 1, 1, 0, 0, 0, 0, 0]);
    assert_eq!(batch.type_ids[0], [0; 9]);
    assert_eq!(
        batch.ids[1],
        ids("[CLS] a dog [SEP] the quick brown fox [SEP]")
    );
    assert_eq!(batch.type_ids[1], [0, 0, 0, 0, 1, 1, 1, 1, 1]);
    assert_eq!(batch.attention_mask[1], [1; 9]);
    assert_eq!(batch.sample_mapping, [0, 1]);
    // The per-row encodings are padded too.
    let row = &batch.encodings[0];
    assert_eq!(row.len(), 9);
    assert_eq!(row.special_tokens_mask, [1, 0, 0, 1, 1, 1, 1, 1, 1]);
    assert_eq!(row.word_ids[4..], [None; 5]);
    assert_eq!(row.tokens[8], "[PAD]");

    let batch = tokenizer
        .encode_batch(&inputs, &options, Padding::Fixed(12))
        .unwrap();
    assert!(batch.ids.iter().all(|row| row.len() == 12));
    assert_eq!(batch.attention_mask[1][9..], [0, 0, 0]);

    let batch = tokenizer
        .encode_batch(&inputs, &options, Padding::None)
        .unwrap();
    assert_eq!(batch.ids[0].len(), 4);
    assert_eq!(batch.ids[1].len(), 9);

    let err = tokenizer
        .encode_batch(&inputs, &options, Padding::Fixed(5))
        .unwrap_err();
    assert!(
        matches!(
            err,
            TokenizerError::RowTooLong {
                row: 1,
                len: 9,
                fixed: 5
            }
        ),
        "{err}"
    );
}

#[test]
fn batch_flattens_overflow_windows() {
    let tokenizer = small_tokenizer();
    let options = EncodeOptions {
        stride: 1,
        return_overflowing: true,
        ..truncate(5, TruncationStrategy::LongestFirst)
    };
    let inputs = [Input::from("a b c d"), Input::from("e")];
    let batch = tokenizer
        .encode_batch(&inputs, &options, Padding::Longest)
        .unwrap();
    // Room for 3 tokens a window, advancing by 3 - 1.
    assert_eq!(batch.sample_mapping, [0, 0, 1]);
    assert_eq!(
        batch.ids,
        [
            ids("[CLS] a b c [SEP]"),
            ids("[CLS] c d [SEP] [PAD]"),
            ids("[CLS] e [SEP] [PAD] [PAD]"),
        ]
    );
    assert!(batch.encodings.iter().all(|e| e.overflowing.is_empty()));
}

#[test]
fn batch_errors_name_the_input() {
    let tokenizer = small_tokenizer();
    // The pair fits; the single text must be truncated, which `OnlySecond` cannot do.
    let inputs = [Input::from(("a", "b")), Input::from("a b c d e")];
    let err = tokenizer
        .encode_batch(
            &inputs,
            &truncate(6, TruncationStrategy::OnlySecond),
            Padding::None,
        )
        .unwrap_err();
    assert!(
        matches!(err, TokenizerError::Truncation { input: 1, .. }),
        "{err}"
    );
}

#[test]
fn accessors_and_decode() {
    let tokenizer = small_tokenizer();
    assert_eq!(tokenizer.vocab_size(), common::SMALL_VOCAB.len());
    assert_eq!(tokenizer.pad_id(), Some(0));
    assert_eq!(tokenizer.unk_id(), Some(1));
    assert_eq!(tokenizer.cls_id(), Some(2));
    assert_eq!(tokenizer.sep_id(), Some(3));
    assert_eq!(tokenizer.mask_id(), Some(4));
    assert_eq!(tokenizer.token_to_id("fox"), Some(id("fox")));
    assert_eq!(tokenizer.id_to_token(id("##s")).as_deref(), Some("##s"));
    assert_eq!(tokenizer.id_to_token(10_000), None);
    assert_eq!(tokenizer.model_max_length(), None);
    assert!(tokenizer.is_wordpiece());

    let encoding = tokenizer
        .encode(
            "The fox jumps over the lazy dog.",
            &EncodeOptions::default(),
        )
        .unwrap();
    assert_eq!(
        tokenizer.decode(&encoding.ids, true).unwrap(),
        "the fox jumps over the lazy dog."
    );
    assert_eq!(
        tokenizer.decode(&encoding.ids, false).unwrap(),
        "[CLS] the fox jumps over the lazy dog. [SEP]"
    );
}

/// XLM-RoBERTa's template gives every token segment 0 (its models have one token type): so do
/// the further windows of a question-answering pair, which `tokenizers` leaves with the
/// second text's segment 1 (an index past the model's one-row token-type table).
#[test]
fn windows_of_a_template_without_segments_have_none() {
    let dir = common::workspace_root().join("tests/fixtures/tiny-xlm-roberta");
    let tokenizer = burnish_tokenizer::Tokenizer::from_dir(&dir).unwrap();
    let options = EncodeOptions {
        stride: 4,
        return_overflowing: true,
        ..truncate(48, TruncationStrategy::OnlySecond)
    };
    let context =
        "the quick brown fox jumps over the lazy dog and runs far away from the farm. ".repeat(4);
    let encoding = tokenizer
        .encode_pair("the fox?", &context, &options)
        .unwrap();
    assert!(
        encoding.overflowing.len() >= 2,
        "the context spans several windows"
    );
    for window in std::iter::once(&encoding).chain(&encoding.overflowing) {
        assert!(window.sequence_ids.contains(&Some(1)));
        assert!(
            window.type_ids.iter().all(|&t| t == 0),
            "{:?}",
            window.type_ids
        );
    }
}
