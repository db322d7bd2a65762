//! Model families (issues 10, 23): RoBERTa, XLM-RoBERTa, CamemBERT, ELECTRA and DistilBERT checkpoints
//! go through the same encoder, heads and tokenizer as BERT, with `transformers`' outputs;
//! GPT-2 checkpoints through the decoder (`Gpt2Model`) and its heads, reusing the encoder's
//! attention, LayerNorm and embeddings.
//!
//! The fixtures (tiny random-weight `RobertaForSequenceClassification` with a byte-level BPE
//! tokenizer trained by the `tokenizers` package, `XLMRobertaForSequenceClassification` and
//! `CamembertForSequenceClassification` with SentencePiece Unigram tokenizers trained by it,
//! `DistilBertForSequenceClassification`, `GPT2LMHeadModel` and `GPT2ForSequenceClassification`
//! with a GPT-2 byte-level BPE tokenizer) and their reference outputs are written by
//! `scripts/make_reference.py`. Run with `--nocapture` to see the measured max |diff| per
//! family, output and backend.

mod common;

use std::path::Path;

use burnish::HfModel;
use burnish::burn::tensor::{Device, Tensor};
use burnish::encoder::family::{
    Family, camembert::CAMEMBERT, distilbert::DISTILBERT, electra::ELECTRA, gpt2::GPT2,
    roberta::ROBERTA, xlm_roberta::XLM_ROBERTA,
};
use burnish::encoder::model::{BertInput, mean_pool_normalized};
use burnish::encoder::{BertConfig, BertModel, Gpt2Model};
use burnish::heads::{
    BertForSequenceClassification, Gpt2ForSequenceClassification, Gpt2LMHeadModel,
};
use burnish::tokenizer::{EncodeOptions, Tokenizer};
use common::{backends, max_abs_diff};
use serde::Deserialize;

/// Tolerance on hidden states and logits (float32 end to end).
const TOL: f32 = 1e-4;

/// One case of a family fixture's `reference.json`.
#[derive(Debug, Deserialize)]
struct Case {
    text: String,
    text_pair: Option<String>,
    input_ids: Vec<u32>,
    token_type_ids: Vec<u32>,
    /// `[tokens][H]`.
    last_hidden_state: Vec<Vec<f32>>,
    sentence_embedding: Vec<f32>,
    /// `[num_labels]`.
    logits: Vec<f32>,
    /// Character offsets, as `transformers`' `offset_mapping`.
    offsets: Vec<(usize, usize)>,
}

/// The padded batch of a family fixture's `reference.json`.
#[derive(Debug, Deserialize)]
struct Batch {
    input_ids: Vec<Vec<u32>>,
    token_type_ids: Vec<Vec<u32>>,
    attention_mask: Vec<Vec<u32>>,
    /// `[B][S][H]`, padded positions included.
    last_hidden_state: Vec<Vec<Vec<f32>>>,
    /// `[B][num_labels]`.
    logits: Vec<Vec<f32>>,
}

#[derive(Debug, Deserialize)]
struct Reference {
    cases: Vec<Case>,
    batch: Batch,
}

fn reference(dir: &Path) -> Reference {
    let path = dir.join("reference.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/make_reference.py)", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn flat<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap()
}

fn single(case: &Case, device: &Device) -> BertInput {
    let n = case.input_ids.len();
    BertInput::from_rows(
        std::slice::from_ref(&case.input_ids),
        std::slice::from_ref(&case.token_type_ids),
        &[vec![1; n]],
        device,
    )
}

fn batch_input(batch: &Batch, device: &Device) -> BertInput {
    BertInput::from_rows(
        &batch.input_ids,
        &batch.token_type_ids,
        &batch.attention_mask,
        device,
    )
}

/// The encoder of `dir` (a `*ForSequenceClassification` checkpoint, loaded as a bare encoder)
/// against the reference's hidden states and sentence embeddings, single cases and the padded
/// batch (real positions; RoBERTa's position ids depend on the padding), on every backend.
fn check_encoder(dir: &Path, family: &'static Family) {
    let reference = reference(dir);
    for (backend, device) in backends() {
        let (model, config, report) =
            BertModel::from_pretrained(dir, &device).unwrap_or_else(|e| panic!("{backend}: {e}"));
        assert_eq!(config.family, family);
        // The classifier checkpoints have no pooler (transformers builds their encoders
        // without one); DistilBERT has none at all.
        let fresh_pooler = family.has_pooler;
        assert_eq!(
            !report.newly_initialized.is_empty(),
            fresh_pooler,
            "{report:?}"
        );
        assert!(
            report
                .newly_initialized
                .iter()
                .all(|n| n.starts_with("pooler.")),
            "{report:?}"
        );
        let (mut d_hidden, mut d_emb) = (0.0f32, 0.0f32);
        for case in &reference.cases {
            let input = single(case, &device);
            let mask = input.attention_mask.clone();
            let hidden = model.forward(input).last_hidden_state;
            let emb = mean_pool_normalized(hidden.clone(), mask);
            let expected: Vec<f32> = case.last_hidden_state.concat();
            d_hidden = d_hidden.max(max_abs_diff(&flat(hidden), &expected));
            d_emb = d_emb.max(max_abs_diff(&flat(emb), &case.sentence_embedding));
        }
        let batch = &reference.batch;
        let hidden = flat(model.forward(batch_input(batch, &device)).last_hidden_state);
        let width = config.hidden_size;
        let mut d_batch = 0.0f32;
        for (row, mask) in batch.attention_mask.iter().enumerate() {
            let seq = mask.len();
            for (pos, _) in mask.iter().enumerate().filter(|(_, m)| **m == 1) {
                let at = (row * seq + pos) * width;
                let expected = &batch.last_hidden_state[row][pos];
                d_batch = d_batch.max(max_abs_diff(&hidden[at..at + width], expected));
            }
        }
        println!(
            "parity {} encoder on {backend}: max|diff| hidden {d_hidden:.2e}, embedding \
             {d_emb:.2e}, padded batch hidden {d_batch:.2e}",
            family.model_type
        );
        assert!(
            d_hidden <= TOL && d_emb <= TOL && d_batch <= TOL,
            "{backend}: {d_hidden} {d_emb} {d_batch} exceed {TOL}"
        );
    }
}

/// The sequence classifier of `dir` against the reference logits, single cases and the padded
/// batch, on every backend.
fn check_classifier(dir: &Path, family: &'static Family) {
    let reference = reference(dir);
    for (backend, device) in backends() {
        let (model, config, report) =
            BertForSequenceClassification::from_pretrained(dir, None, None, &device)
                .unwrap_or_else(|e| panic!("{backend}: {e}"));
        assert_eq!(config.family, family);
        assert!(report.newly_initialized.is_empty(), "{report:?}");
        assert!(report.unused.is_empty(), "{report:?}");
        assert_eq!(model.num_labels, 3);
        let mut d_cases = 0.0f32;
        for case in &reference.cases {
            let logits = flat(model.forward(single(case, &device)));
            d_cases = d_cases.max(max_abs_diff(&logits, &case.logits));
        }
        let logits = flat(model.forward(batch_input(&reference.batch, &device)));
        let d_batch = max_abs_diff(&logits, &reference.batch.logits.concat());
        println!(
            "parity {} sequence classifier on {backend}: max|diff| logits {d_cases:.2e}, \
             padded batch logits {d_batch:.2e}",
            family.model_type
        );
        assert!(
            d_cases <= TOL && d_batch <= TOL,
            "{backend}: {d_cases} {d_batch} exceed {TOL}"
        );
    }
}

/// Python's character offsets to byte offsets into `text`.
fn byte_offsets(text: &str, (start, end): (usize, usize)) -> (usize, usize) {
    let byte = |chars: usize| {
        text.char_indices()
            .nth(chars)
            .map_or(text.len(), |(at, _)| at)
    };
    (byte(start), byte(end))
}

#[test]
fn tiny_roberta_encoder_matches_transformers() {
    check_encoder(&common::fixture("tiny-roberta"), &ROBERTA);
}

#[test]
fn tiny_roberta_sequence_classifier_matches_transformers() {
    check_classifier(&common::fixture("tiny-roberta"), &ROBERTA);
}

/// XLM-RoBERTa and CamemBERT: RoBERTa's architecture under their own names, loaded by their
/// family's data alone (issue 23).
#[test]
fn tiny_xlm_roberta_encoder_matches_transformers() {
    check_encoder(&common::fixture("tiny-xlm-roberta"), &XLM_ROBERTA);
}

#[test]
fn tiny_xlm_roberta_sequence_classifier_matches_transformers() {
    check_classifier(&common::fixture("tiny-xlm-roberta"), &XLM_ROBERTA);
}

#[test]
fn tiny_camembert_encoder_matches_transformers() {
    check_encoder(&common::fixture("tiny-camembert"), &CAMEMBERT);
}

#[test]
fn tiny_camembert_sequence_classifier_matches_transformers() {
    check_classifier(&common::fixture("tiny-camembert"), &CAMEMBERT);
}

/// ELECTRA's discriminator: BERT's layers behind embeddings narrower than the hidden states
/// (`embedding_size` 8, projected to 16 by `embeddings_project`), no pooler, and a classifier
/// with GELU where RoBERTa's has `tanh` (issue 23).
#[test]
fn tiny_electra_encoder_matches_transformers() {
    check_encoder(&common::fixture("tiny-electra"), &ELECTRA);
}

#[test]
fn tiny_electra_sequence_classifier_matches_transformers() {
    check_classifier(&common::fixture("tiny-electra"), &ELECTRA);
}

/// A classifier of the family saved by burnish and read back: the same config (family, class),
/// the same tensors, and still transformers' logits.
fn check_save_round_trip(dir: &Path, family: &'static Family, class: &str) {
    let device = Device::flex();
    let reference = reference(dir);
    let (model, config, _) =
        BertForSequenceClassification::from_pretrained(dir, None, None, &device).unwrap();
    let out = tempfile::tempdir().unwrap();
    model.save_pretrained(&config, out.path()).unwrap();
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("config.json")).unwrap())
            .unwrap();
    assert_eq!(written["architectures"], serde_json::json!([class]));
    assert_eq!(written["model_type"], family.model_type);
    let (back, back_config, report) =
        BertForSequenceClassification::from_pretrained(out.path(), None, None, &device).unwrap();
    assert_eq!(back_config.family, family);
    assert!(
        report.newly_initialized.is_empty() && report.unused.is_empty(),
        "{report:?}"
    );
    let mut d = 0.0f32;
    for case in &reference.cases {
        let logits = flat(back.forward(single(case, &device)));
        d = d.max(max_abs_diff(&logits, &case.logits));
    }
    let logits = flat(back.forward(batch_input(&reference.batch, &device)));
    d = d.max(max_abs_diff(&logits, &reference.batch.logits.concat()));
    println!(
        "parity {} saved and reloaded sequence classifier on flex: max|diff| logits {d:.2e}",
        family.model_type
    );
    assert!(d <= TOL, "{d} exceeds {TOL}");
}

#[test]
fn xlm_roberta_camembert_and_electra_classifiers_survive_save_and_reload() {
    check_save_round_trip(
        &common::fixture("tiny-xlm-roberta"),
        &XLM_ROBERTA,
        "XLMRobertaForSequenceClassification",
    );
    check_save_round_trip(
        &common::fixture("tiny-camembert"),
        &CAMEMBERT,
        "CamembertForSequenceClassification",
    );
    check_save_round_trip(
        &common::fixture("tiny-electra"),
        &ELECTRA,
        "ElectraForSequenceClassification",
    );
}

/// The SentencePiece Unigram tokenizer.json (Metaspace, `<s> A </s>` / `<s> A </s> </s> B </s>`
/// as a TemplateProcessing): transformers' ids, token types and offsets, the special ids read
/// from tokenizer_config.json (CamemBERT's `<s>` is 5, its `<mask>` the last id).
#[test]
fn sentencepiece_unigram_tokenizers_match_transformers() {
    for (name, (cls, sep, pad)) in [
        ("tiny-xlm-roberta", (0, 2, 1)),
        ("tiny-camembert", (5, 6, 1)),
    ] {
        let dir = common::fixture(name);
        let tokenizer = Tokenizer::from_dir(&dir).unwrap();
        check_roberta_tokenizer(&tokenizer, &dir, (cls, sep, pad));
        let ids = tokenizer
            .encode("Hello, <mask>!", &EncodeOptions::default())
            .unwrap()
            .ids;
        let mask = tokenizer.mask_id().unwrap();
        assert_eq!(mask as usize, tokenizer.vocab_size() - 1, "{name}");
        assert_eq!(ids.iter().filter(|&&id| id == mask).count(), 1, "{ids:?}");
    }
}

#[test]
fn tiny_distilbert_encoder_matches_transformers() {
    check_encoder(&common::fixture("tiny-distilbert"), &DISTILBERT);
}

#[test]
fn tiny_distilbert_sequence_classifier_matches_transformers() {
    check_classifier(&common::fixture("tiny-distilbert"), &DISTILBERT);
}

/// The byte-level BPE tokenizer.json: `<s> A </s>` and `<s> A </s></s> B </s>`, one token type,
/// the same ids and offsets as `transformers`' RobertaTokenizerFast.
#[test]
fn roberta_tokenizer_matches_transformers() {
    let dir = common::fixture("tiny-roberta");
    check_roberta_tokenizer(&Tokenizer::from_dir(&dir).unwrap(), &dir, (0, 2, 1));
}

/// Without `tokenizer.json`, the same pipeline is built from `vocab.json` + `merges.txt` (and
/// the special tokens of `tokenizer_config.json`).
#[test]
fn roberta_tokenizer_from_vocab_json_and_merges_matches_transformers() {
    let src = common::fixture("tiny-roberta");
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "vocab.json",
        "merges.txt",
        "tokenizer_config.json",
        "special_tokens_map.json",
    ] {
        std::fs::copy(src.join(name), dir.path().join(name)).unwrap();
    }
    let tokenizer = Tokenizer::from_dir(dir.path()).unwrap();
    assert_eq!(tokenizer.model_max_length(), Some(64));
    check_roberta_tokenizer(&tokenizer, &src, (0, 2, 1));
    let ids = tokenizer
        .encode("Hello, <mask>!", &EncodeOptions::default())
        .unwrap()
        .ids;
    assert_eq!(ids.iter().filter(|&&id| id == 4).count(), 1, "{ids:?}");
}

/// `<s> A </s>` / `<s> A </s></s> B </s>` tokenizers (RoBERTa's, XLM-RoBERTa's, CamemBERT's)
/// against the reference's ids and offsets; `(cls, sep, pad)` are the special ids.
fn check_roberta_tokenizer(tokenizer: &Tokenizer, dir: &Path, (cls, sep, pad): (u32, u32, u32)) {
    assert_eq!(
        (tokenizer.cls_id(), tokenizer.sep_id(), tokenizer.pad_id()),
        (Some(cls), Some(sep), Some(pad))
    );
    let options = EncodeOptions::default();
    for case in reference(dir).cases {
        let encoding = match &case.text_pair {
            Some(pair) => tokenizer.encode_pair(&case.text, pair, &options),
            None => tokenizer.encode(&case.text, &options),
        }
        .unwrap();
        assert_eq!(encoding.ids, case.input_ids, "{}", case.text);
        assert_eq!(encoding.type_ids, case.token_type_ids, "{}", case.text);
        assert!(encoding.type_ids.iter().all(|&t| t == 0));
        // Offsets are into the text each token comes from (the pair's second text after the
        // first `</s></s>`).
        let second_starts = encoding
            .ids
            .windows(2)
            .position(|w| w == [sep, sep])
            .map(|p| p + 2);
        let expected: Vec<(usize, usize)> = case
            .offsets
            .iter()
            .enumerate()
            .map(|(i, &o)| {
                let text = match (&case.text_pair, second_starts) {
                    (Some(pair), Some(start)) if i >= start => pair,
                    _ => &case.text,
                };
                byte_offsets(text, o)
            })
            .collect();
        assert_eq!(encoding.offsets, expected, "{}", case.text);
    }
}

#[test]
fn distilbert_tokenizer_gives_transformers_ids() {
    let dir = common::fixture("tiny-distilbert");
    let tokenizer = Tokenizer::from_dir(&dir).unwrap();
    let options = EncodeOptions::default();
    for case in reference(&dir).cases {
        let encoding = match &case.text_pair {
            Some(pair) => tokenizer.encode_pair(&case.text, pair, &options),
            None => tokenizer.encode(&case.text, &options),
        }
        .unwrap();
        assert_eq!(encoding.ids, case.input_ids, "{}", case.text);
    }
}

#[test]
fn an_unknown_family_is_an_error_listing_the_supported_ones() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        common::fixture("tiny-roberta/model.safetensors"),
        dir.path().join("model.safetensors"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("config.json"),
        r#"{"model_type": "llama", "architectures": ["LlamaForCausalLM"]}"#,
    )
    .unwrap();
    let err = BertModel::from_pretrained(dir.path(), &Device::flex())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("config.json")
            && err.contains("llama")
            && err.contains("gpt2")
            && err.contains(&burnish::encoder::family::supported()),
        "{err}"
    );
    let err =
        BertForSequenceClassification::from_pretrained(dir.path(), None, None, &Device::flex())
            .unwrap_err()
            .to_string();
    assert!(
        err.contains(&burnish::encoder::family::supported()),
        "{err}"
    );
}

/// The saved config keeps the family: RoBERTa's `model_type` and class, DistilBERT's field
/// names, and it reads back equal.
#[test]
fn saved_configs_keep_their_family() {
    let device = Device::flex();
    for (name, class) in [
        ("tiny-roberta", "RobertaForSequenceClassification"),
        ("tiny-distilbert", "DistilBertForSequenceClassification"),
        ("tiny-xlm-roberta", "XLMRobertaForSequenceClassification"),
        ("tiny-camembert", "CamembertForSequenceClassification"),
        ("tiny-electra", "ElectraForSequenceClassification"),
    ] {
        let (model, config, _) = BertForSequenceClassification::from_pretrained(
            common::fixture(name),
            None,
            None,
            &device,
        )
        .unwrap();
        let out = tempfile::tempdir().unwrap();
        model.save_pretrained(&config, out.path()).unwrap();
        let written: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.path().join("config.json")).unwrap())
                .unwrap();
        assert_eq!(written["architectures"], serde_json::json!([class]));
        assert_eq!(written["model_type"], config.family.model_type);
        let back = BertConfig::from_file(out.path().join("config.json")).unwrap();
        assert_eq!(back.family, config.family);
        assert_eq!(back.hidden_size, config.hidden_size);
    }
}

// ------------------------------------------------------------------------------------------
// GPT-2
// ------------------------------------------------------------------------------------------

/// A reference file read loosely (the LM fixture's logits are `[tokens][V]`).
fn reference_json(dir: &Path) -> serde_json::Value {
    let path = dir.join("reference.json");
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every number of a nested JSON array, row-major.
fn numbers(v: &serde_json::Value) -> Vec<f32> {
    match v {
        serde_json::Value::Array(items) => items.iter().flat_map(numbers).collect(),
        other => vec![other.as_f64().unwrap() as f32],
    }
}

fn ids_of(v: &serde_json::Value) -> Vec<u32> {
    serde_json::from_value(v.clone()).unwrap()
}

fn rows_of(v: &serde_json::Value) -> Vec<Vec<u32>> {
    serde_json::from_value(v.clone()).unwrap()
}

/// A single unpadded case (GPT-2 has no token types: zeros).
fn gpt2_case(case: &serde_json::Value, device: &Device) -> BertInput {
    let ids = ids_of(&case["input_ids"]);
    let n = ids.len();
    BertInput::from_rows(&[ids], &[vec![0; n]], &[vec![1; n]], device)
}

fn gpt2_batch(batch: &serde_json::Value, device: &Device) -> BertInput {
    let ids = rows_of(&batch["input_ids"]);
    let zeros: Vec<Vec<u32>> = ids.iter().map(|r| vec![0; r.len()]).collect();
    BertInput::from_rows(&ids, &zeros, &rows_of(&batch["attention_mask"]), device)
}

/// Max |diff| of `[B, S, W]` values against the reference at the real (mask 1) positions.
fn real_positions_diff(got: &[f32], want: &serde_json::Value, mask: &[Vec<u32>]) -> f32 {
    let want = want.as_array().unwrap();
    let mut worst = 0.0f32;
    for (row, m) in mask.iter().enumerate() {
        let seq = m.len();
        for pos in (0..seq).filter(|&p| m[p] == 1) {
            let expected = numbers(&want[row][pos]);
            let width = expected.len();
            let at = (row * seq + pos) * width;
            worst = worst.max(max_abs_diff(&got[at..at + width], &expected));
        }
    }
    worst
}

/// The GPT-2 tokenizer (tokenizer.json of GPT2TokenizerFast, byte-level BPE, no special tokens
/// added, pairs concatenated): transformers' ids and character offsets.
#[test]
fn gpt2_tokenizer_matches_transformers() {
    for name in ["tiny-gpt2", "tiny-gpt2-cls"] {
        let dir = common::fixture(name);
        let tokenizer = Tokenizer::from_dir(&dir).unwrap();
        // <|endoftext|> starts and ends documents and pads (tokenizer_config's bos/eos/pad).
        assert_eq!(
            (tokenizer.cls_id(), tokenizer.sep_id(), tokenizer.pad_id()),
            (Some(0), Some(0), Some(0))
        );
        let options = EncodeOptions::default();
        for case in reference_json(&dir)["cases"].as_array().unwrap() {
            let text = case["text"].as_str().unwrap();
            let encoding = match case["text_pair"].as_str() {
                Some(pair) => tokenizer.encode_pair(text, pair, &options),
                None => tokenizer.encode(text, &options),
            }
            .unwrap();
            assert_eq!(encoding.ids, ids_of(&case["input_ids"]), "{name}: {text}");
            if case["text_pair"].is_null() {
                let offsets: Vec<(usize, usize)> =
                    serde_json::from_value(case["offsets"].clone()).unwrap();
                let expected: Vec<(usize, usize)> =
                    offsets.iter().map(|&o| byte_offsets(text, o)).collect();
                assert_eq!(encoding.offsets, expected, "{name}: {text}");
            }
        }
    }
}

/// The decoder (`GPT2Model`, loaded from a `GPT2LMHeadModel` checkpoint: Conv1D weights
/// transposed on load) gives transformers' hidden states after `ln_f`, single cases and the
/// right-padded batch (real positions), on every backend.
#[test]
fn tiny_gpt2_decoder_matches_transformers() {
    for name in ["tiny-gpt2", "tiny-gpt2-cls"] {
        let dir = common::fixture(name);
        let reference = reference_json(&dir);
        for (backend, device) in backends() {
            let (model, config, report) = Gpt2Model::from_pretrained(&dir, &device)
                .unwrap_or_else(|e| panic!("{backend}: {e}"));
            assert_eq!(config.family, &GPT2);
            assert!(report.newly_initialized.is_empty(), "{report:?}");
            // The classifier's `score` has no place in the bare decoder.
            let unused: Vec<&str> = report.unused.iter().map(String::as_str).collect();
            let expected_unused: &[&str] = if name == "tiny-gpt2-cls" {
                &["score.weight"]
            } else {
                &[]
            };
            assert_eq!(unused, expected_unused);
            let mut d_hidden = 0.0f32;
            for case in reference["cases"].as_array().unwrap() {
                let hidden = flat(model.forward(gpt2_case(case, &device)));
                d_hidden =
                    d_hidden.max(max_abs_diff(&hidden, &numbers(&case["last_hidden_state"])));
            }
            let batch = &reference["batch"];
            let hidden = flat(model.forward(gpt2_batch(batch, &device)));
            let d_batch = real_positions_diff(
                &hidden,
                &batch["last_hidden_state"],
                &rows_of(&batch["attention_mask"]),
            );
            println!(
                "parity gpt2 decoder ({name}) on {backend}: max|diff| hidden {d_hidden:.2e}, \
                 padded batch hidden {d_batch:.2e}"
            );
            assert!(
                d_hidden <= TOL && d_batch <= TOL,
                "{backend}: {d_hidden} {d_batch} exceed {TOL}"
            );
        }
    }
}

/// `GPT2LMHeadModel`: logits through the tied head (the token embedding matrix), the
/// padded batch's logits at real positions and transformers' shifted next-token loss; the
/// gathered path agrees.
#[test]
fn tiny_gpt2_lm_head_matches_transformers() {
    let dir = common::fixture("tiny-gpt2");
    let reference = reference_json(&dir);
    for (backend, device) in backends() {
        let (model, config, report) = Gpt2LMHeadModel::from_pretrained(&dir, &device)
            .unwrap_or_else(|e| panic!("{backend}: {e}"));
        assert!(
            report.newly_initialized.is_empty() && report.unused.is_empty(),
            "{report:?}"
        );
        assert_eq!(config.intermediate_size, 4 * config.hidden_size);
        let mut d_logits = 0.0f32;
        for case in reference["cases"].as_array().unwrap() {
            let logits = flat(model.forward(gpt2_case(case, &device)));
            d_logits = d_logits.max(max_abs_diff(&logits, &numbers(&case["logits"])));
        }
        let batch = &reference["batch"];
        let mask = rows_of(&batch["attention_mask"]);
        let logits = model.forward(gpt2_batch(batch, &device));
        let d_batch = real_positions_diff(&flat(logits.clone()), &batch["logits"], &mask);
        let labels: Vec<Vec<i64>> = serde_json::from_value(batch["labels"].clone()).unwrap();
        let [b, s] = [labels.len(), labels[0].len()];
        let labels = Tensor::<2, burnish::burn::tensor::Int>::from_data(
            burnish::burn::tensor::TensorData::new(labels.concat(), [b, s]),
            &device,
        );
        let loss = model.loss(logits, labels).into_scalar::<f32>();
        let want = batch["loss"].as_f64().unwrap() as f32;
        // The gathered path: the positions with a real next token.
        let targets = burnish::heads::NextTokenTargets::from_rows(
            &rows_of(&batch["input_ids"]),
            &mask,
            &device,
        )
        .unwrap();
        let rows = model.forward_at(gpt2_batch(batch, &device), targets.positions);
        let loss_at = model.loss_at(rows, targets.labels).into_scalar::<f32>();
        println!(
            "parity gpt2 LM head on {backend}: max|diff| logits {d_logits:.2e}, padded batch \
             logits {d_batch:.2e}, loss {:.2e} (gathered {:.2e})",
            (loss - want).abs(),
            (loss_at - want).abs()
        );
        assert!(
            d_logits <= TOL && d_batch <= TOL,
            "{backend}: {d_logits} {d_batch}"
        );
        assert!(
            (loss - want).abs() <= TOL && (loss_at - want).abs() <= TOL,
            "{loss} {loss_at} {want}"
        );
    }
}

/// `GPT2ForSequenceClassification`: the logits of each row's last non-padding token, single
/// cases and the right-padded batch, on every backend.
#[test]
fn tiny_gpt2_sequence_classifier_matches_transformers() {
    let dir = common::fixture("tiny-gpt2-cls");
    let reference = reference_json(&dir);
    for (backend, device) in backends() {
        let (model, config, report) =
            Gpt2ForSequenceClassification::from_pretrained(&dir, None, None, &device)
                .unwrap_or_else(|e| panic!("{backend}: {e}"));
        assert!(
            report.newly_initialized.is_empty() && report.unused.is_empty(),
            "{report:?}"
        );
        assert_eq!((model.num_labels, model.pad_token_id), (3, 0));
        assert_eq!(config.intermediate_size, 32);
        let mut d_cases = 0.0f32;
        for case in reference["cases"].as_array().unwrap() {
            let logits = flat(model.forward(gpt2_case(case, &device)));
            d_cases = d_cases.max(max_abs_diff(&logits, &numbers(&case["logits"])));
        }
        let batch = &reference["batch"];
        let logits = flat(model.forward(gpt2_batch(batch, &device)));
        let d_batch = max_abs_diff(&logits, &numbers(&batch["logits"]));
        println!(
            "parity gpt2 sequence classifier on {backend}: max|diff| logits {d_cases:.2e}, \
             padded batch logits {d_batch:.2e}"
        );
        assert!(
            d_cases <= TOL && d_batch <= TOL,
            "{backend}: {d_cases} {d_batch}"
        );
    }
}

/// Left padding too: the classifier reads the rightmost non-padding token of each row, as
/// transformers does (the reference batch padded on the left, with transformers' logits).
#[test]
fn gpt2_classifier_reads_the_last_real_token_with_left_padding() {
    let dir = common::fixture("tiny-gpt2-cls");
    let left = &reference_json(&dir)["batch"]["left"];
    let mask = rows_of(&left["attention_mask"]);
    assert!(
        mask.iter().any(|row| row[0] == 0),
        "the reference is left-padded"
    );
    for (backend, device) in backends() {
        let (model, _, _) =
            Gpt2ForSequenceClassification::from_pretrained(&dir, None, None, &device).unwrap();
        let logits = flat(model.forward(gpt2_batch(left, &device)));
        let d = max_abs_diff(&logits, &numbers(&left["logits"]));
        println!("parity gpt2 sequence classifier, left-padded batch on {backend}: {d:.2e}");
        assert!(d <= TOL, "{backend}: {d}");
    }
}

/// GPT-2 folders are refused by the encoder heads with a message naming the decoder classes,
/// and encoder folders by the decoder.
#[test]
fn encoder_and_decoder_families_are_not_mixed_up() {
    let device = Device::flex();
    let err = BertModel::from_pretrained(common::fixture("tiny-gpt2"), &device)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("model_type") && err.contains("GPT2LMHeadModel"),
        "{err}"
    );
    let err = BertForSequenceClassification::from_pretrained(
        common::fixture("tiny-gpt2-cls"),
        None,
        None,
        &device,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("decoder"), "{err}");
    let err = Gpt2Model::from_pretrained(common::fixture("tiny-roberta"), &device)
        .unwrap_err()
        .to_string();
    assert!(err.contains("model_type") && err.contains("gpt2"), "{err}");
}

/// Words already split (token classification) through the byte-level BPE tokenizers of
/// RoBERTa and GPT-2: a space before every word, the first included, as transformers'
/// `is_split_into_words=True` with `add_prefix_space=True` gives (ids and word ids from
/// `scripts/make_reference.py --only bpe-words`).
#[test]
fn byte_level_pre_split_words_match_transformers_with_add_prefix_space() {
    let path = common::fixture("reference/bpe-words.json");
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for name in ["tiny-roberta", "tiny-gpt2"] {
        let tokenizer = Tokenizer::from_dir(common::fixture(name)).unwrap();
        for case in reference[name].as_array().unwrap() {
            let words: Vec<String> = serde_json::from_value(case["words"].clone()).unwrap();
            let words: Vec<&str> = words.iter().map(String::as_str).collect();
            let encoding = tokenizer
                .encode_words(&words, &EncodeOptions::default())
                .unwrap();
            assert_eq!(
                encoding.ids,
                ids_of(&case["input_ids"]),
                "{name}: {words:?}"
            );
            let word_ids: Vec<Option<u32>> =
                serde_json::from_value(case["word_ids"].clone()).unwrap();
            assert_eq!(encoding.word_ids, word_ids, "{name}: {words:?}");
        }
    }
}
