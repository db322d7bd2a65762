//! Parity with Hugging Face `transformers` on the real all-MiniLM-L6-v2 tokenizer, loaded both
//! from `tokenizer.json` and from `vocab.txt` + `tokenizer_config.json`.
//!
//! Needs the assets of scripts/fetch-assets.sh: a missing one fails the test.

mod common;

use std::path::PathBuf;

use burnish_tokenizer::{EncodeOptions, Input, Padding, Tokenizer, TruncationStrategy};
use common::{minilm_both, minilm_dir, require, workspace_root};
use serde_json::Value;

/// No truncation, special tokens added: what `tokenizer(text, text_pair)` does.
fn plain() -> EncodeOptions {
    EncodeOptions {
        truncation: TruncationStrategy::DoNotTruncate,
        ..EncodeOptions::default()
    }
}

/// The `EncodeOptions` a reference case was produced with (`max_length`, `truncation`,
/// `add_special_tokens` when the case records them; `transformers`' defaults otherwise).
fn case_options(case: &Value) -> EncodeOptions {
    let mut options = plain();
    if let Some(add) = case["add_special_tokens"].as_bool() {
        options.add_special_tokens = add;
    }
    options.truncation = match &case["truncation"] {
        Value::Bool(true) => TruncationStrategy::LongestFirst,
        Value::String(s) if s == "longest_first" => TruncationStrategy::LongestFirst,
        Value::String(s) if s == "only_first" => TruncationStrategy::OnlyFirst,
        Value::String(s) if s == "only_second" => TruncationStrategy::OnlySecond,
        _ => TruncationStrategy::DoNotTruncate,
    };
    options.max_length = case["max_length"].as_u64().map(|n| n as usize);
    options
}

fn ids_of(value: &Value) -> Vec<u32> {
    value
        .as_array()
        .expect("an array of ids")
        .iter()
        .map(|v| v.as_u64().expect("an id") as u32)
        .collect()
}

/// Every case of the reference file (`tests/fixtures/reference/minilm.json`, made with
/// `transformers`' `AutoTokenizer`; `$BURNISH_MINILM_REFERENCE` overrides the path) gives the
/// same `input_ids` and `token_type_ids` with both loaders.
#[test]
fn matches_transformers_reference_ids() {
    let tokenizers = minilm_both();
    let path = std::env::var_os("BURNISH_MINILM_REFERENCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("tests/fixtures/reference/minilm.json"));
    let path = require(
        path,
        "the transformers reference ids",
        "generate them with the reference scripts in scripts/",
    );
    let reference: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let cases = reference["cases"].as_array().expect("`cases` array");
    assert!(!cases.is_empty(), "{}: no cases", path.display());

    for (name, tokenizer) in &tokenizers {
        for (i, case) in cases.iter().enumerate() {
            let text = case["text"].as_str().expect("`text` string");
            let input = match case["text_pair"].as_str() {
                Some(pair) => Input::Pair(text, pair),
                None => Input::Single(text),
            };
            let encoding = tokenizer
                .encode_input(input, &case_options(case))
                .unwrap_or_else(|e| panic!("{name}, case {i}: {e}"));
            assert_eq!(
                encoding.ids,
                ids_of(&case["input_ids"]),
                "{name}, case {i} ({input:?}): input_ids"
            );
            assert_eq!(
                encoding.type_ids,
                ids_of(&case["token_type_ids"]),
                "{name}, case {i} ({input:?}): token_type_ids"
            );
        }
    }
}

#[test]
fn special_ids_and_max_length() {
    let tokenizers = minilm_both();
    for (name, tokenizer) in &tokenizers {
        assert_eq!(tokenizer.vocab_size(), 30522, "{name}");
        assert_eq!(tokenizer.pad_id(), Some(0), "{name}");
        assert_eq!(tokenizer.unk_id(), Some(100), "{name}");
        assert_eq!(tokenizer.cls_id(), Some(101), "{name}");
        assert_eq!(tokenizer.sep_id(), Some(102), "{name}");
        assert_eq!(tokenizer.mask_id(), Some(103), "{name}");
        assert_eq!(tokenizer.model_max_length(), Some(512), "{name}");
        assert!(tokenizer.is_wordpiece(), "{name}");
    }
}

/// Question-answering windows: `only_second` truncation with a stride gives windows over the
/// context, each carrying the question. The expected ids come from
///
/// ```python
/// from transformers import AutoTokenizer
/// t = AutoTokenizer.from_pretrained("assets/all-MiniLM-L6-v2")
/// e = t(QUESTION, CONTEXT, truncation="only_second", max_length=32, stride=6,
///       return_overflowing_tokens=True)
/// e["input_ids"], e["token_type_ids"]
/// ```
/// (transformers 4.57.1, tokenizers 0.22.2).
#[test]
fn overflow_windows_match_transformers() {
    const QUESTION: &str = "Where do unaffable llamas live?";
    const CONTEXT: &str = "Llamas are domesticated South American camelids. They live in the \
        Andes mountains of Peru, Bolivia, Chile and Argentina, where herders keep them for wool \
        and as pack animals. An unaffable llama may spit when annoyed.";
    const QUESTION_IDS: [u32; 12] = [
        101, 2073, 2079, 14477, 20961, 3468, 2222, 8067, 2015, 2444, 1029, 102,
    ];
    let contexts: [&[u32]; 4] = [
        &[
            2222, 8067, 2015, 2024, 4968, 4383, 2148, 2137, 19130, 9821, 1012, 2027, 2444, 1999,
            1996, 18096, 4020, 1997, 7304, 102,
        ],
        &[
            1999, 1996, 18096, 4020, 1997, 7304, 1010, 11645, 1010, 7029, 1998, 5619, 1010, 2073,
            14906, 2545, 2562, 2068, 2005, 102,
        ],
        &[
            2073, 14906, 2545, 2562, 2068, 2005, 12121, 1998, 2004, 5308, 4176, 1012, 2019, 14477,
            20961, 3468, 2222, 8067, 2089, 102,
        ],
        &[
            14477, 20961, 3468, 2222, 8067, 2089, 13183, 2043, 11654, 1012, 102,
        ],
    ];
    let tokenizers = minilm_both();
    let options = EncodeOptions {
        max_length: Some(32),
        truncation: TruncationStrategy::OnlySecond,
        stride: 6,
        return_overflowing: true,
        add_special_tokens: true,
    };
    for (name, tokenizer) in &tokenizers {
        let encoding = tokenizer.encode_pair(QUESTION, CONTEXT, &options).unwrap();
        let windows: Vec<_> = std::iter::once(&encoding)
            .chain(&encoding.overflowing)
            .collect();
        assert_eq!(windows.len(), contexts.len(), "{name}");
        for (window, context) in windows.iter().zip(contexts) {
            assert_eq!(window.ids, [&QUESTION_IDS[..], context].concat(), "{name}");
            let type_ids = [vec![0; QUESTION_IDS.len()], vec![1; context.len()]].concat();
            assert_eq!(window.type_ids, type_ids, "{name}");
            // Offsets of context tokens point into the context.
            let (start, end) = window.offsets[QUESTION_IDS.len()];
            assert!(end <= CONTEXT.len() && start < end, "{name}");
        }

        // The same through a batch: one row per window, all mapped to input 0.
        let batch = tokenizer
            .encode_batch(
                &[Input::Pair(QUESTION, CONTEXT)],
                &options,
                Padding::Longest,
            )
            .unwrap();
        assert_eq!(batch.sample_mapping, [0, 0, 0, 0], "{name}");
        assert!(batch.ids.iter().all(|row| row.len() == 32), "{name}");
        assert_eq!(batch.ids[3][23..], [0; 9], "{name}");
    }
}

/// Sub-words of one word share a word id; offsets are those of `transformers`'
/// `offset_mapping` (`t("The unaffable llama", return_offsets_mapping=True)`; ASCII, so byte
/// and character offsets agree).
#[test]
fn word_ids_and_offsets_match_transformers() {
    let tokenizers = minilm_both();
    for (name, tokenizer) in &tokenizers {
        let encoding = tokenizer.encode("The unaffable llama", &plain()).unwrap();
        assert_eq!(
            encoding.tokens,
            [
                "[CLS]", "the", "una", "##ffa", "##ble", "ll", "##ama", "[SEP]"
            ],
            "{name}"
        );
        assert_eq!(
            encoding.word_ids,
            [
                None,
                Some(0),
                Some(1),
                Some(1),
                Some(1),
                Some(2),
                Some(2),
                None
            ],
            "{name}"
        );
        assert_eq!(
            encoding.offsets,
            [
                (0, 0),
                (0, 3),
                (4, 7),
                (7, 10),
                (10, 13),
                (14, 16),
                (16, 19),
                (0, 0)
            ],
            "{name}"
        );
        assert_eq!(
            tokenizer.decode(&encoding.ids, true).unwrap(),
            "the unaffable llama"
        );
    }
}

/// The default options truncate to `model_max_length` (512).
#[test]
fn default_truncates_to_model_max_length() {
    let tokenizers = minilm_both();
    let long = "word ".repeat(1000);
    for (name, tokenizer) in &tokenizers {
        let encoding = tokenizer.encode(&long, &EncodeOptions::default()).unwrap();
        assert_eq!(encoding.len(), 512, "{name}");
        assert_eq!(encoding.ids.last(), Some(&102), "{name}");
    }
}

/// `save_dir` then `from_dir` gives the same ids, for both loaders; the MiniLM files survive.
#[test]
fn save_and_reload_round_trip() {
    let dir = minilm_dir();
    let tokenizers = minilm_both();
    let texts = [
        Input::Single("Héllo, WORLD! 北京 unaffable [MASK]"),
        Input::Pair("A question?", "Some context, with punctuation."),
    ];
    for (name, tokenizer) in &tokenizers {
        let out = tempfile::tempdir().unwrap();
        tokenizer.save_dir(out.path()).unwrap();
        let reloaded = Tokenizer::from_dir(out.path()).unwrap();
        for input in texts {
            assert_eq!(
                reloaded.encode_input(input, &plain()).unwrap(),
                tokenizer.encode_input(input, &plain()).unwrap(),
                "{name}: {input:?}"
            );
        }
        assert_eq!(reloaded.model_max_length(), Some(512), "{name}");
        assert_eq!(
            std::fs::read_to_string(out.path().join("vocab.txt")).unwrap(),
            std::fs::read_to_string(dir.join("vocab.txt")).unwrap(),
            "{name}: vocab.txt"
        );
        let config: Value = serde_json::from_slice(
            &std::fs::read(out.path().join("tokenizer_config.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(config["do_lower_case"], true, "{name}");
        assert_eq!(config["strip_accents"], Value::Null, "{name}");
        assert_eq!(config["tokenizer_class"], "BertTokenizer", "{name}");
        assert_eq!(config["mask_token"], "[MASK]", "{name}");
        assert_eq!(config["model_max_length"], 512, "{name}");
        let map: Value = serde_json::from_slice(
            &std::fs::read(out.path().join("special_tokens_map.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(map["pad_token"], "[PAD]", "{name}");
        // Nothing but the four files: no temporary file left behind.
        let mut names: Vec<String> = std::fs::read_dir(out.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "special_tokens_map.json",
                "tokenizer.json",
                "tokenizer_config.json",
                "vocab.txt"
            ]
        );
    }

    // tokenizer.json keeps the truncation and padding the original file had.
    let out = tempfile::tempdir().unwrap();
    tokenizers[0].1.save_dir(out.path()).unwrap();
    let saved: Value =
        serde_json::from_slice(&std::fs::read(out.path().join("tokenizer.json")).unwrap()).unwrap();
    assert_eq!(saved["truncation"]["max_length"], 128);
    assert_eq!(saved["padding"]["pad_token"], "[PAD]");
}
