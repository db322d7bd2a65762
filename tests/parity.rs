//! Parity with PyTorch + `transformers`: hidden states, pooled outputs and sentence embeddings
//! of real and tiny random-weight checkpoints, on every backend this build includes, against
//! reference outputs written by `scripts/make_reference.py`.
//!
//! Run with `--nocapture` to see the measured max |diff| per backend.

mod common;

use std::path::Path;

use burnish::HfModel;
use burnish::burn::tensor::{Device, Tensor};
use burnish::encoder::BertModel;
use burnish::encoder::model::{BertInput, mean_pool_normalized};
use common::{Case, backends, max_abs_diff, read_reference};

/// Tolerance on hidden states, pooled outputs and embeddings (float32 end to end).
const TOL: f32 = 1e-4;

fn to_vec2(t: Tensor<2>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap()
}

/// Runs one reference case through `model` and returns the worst difference of
/// (last_hidden_state, pooler_output, sentence_embedding).
fn case_diff(model: &BertModel, case: &Case, device: &Device) -> (f32, f32, f32) {
    let n = case.input_ids.len();
    let input = BertInput::from_rows(
        std::slice::from_ref(&case.input_ids),
        std::slice::from_ref(&case.token_type_ids),
        &[vec![1; n]],
        device,
    );
    let mask = input.attention_mask.clone();
    let out = model.forward(input);
    let emb = mean_pool_normalized(out.last_hidden_state.clone(), mask);
    let [_, s, h] = out.last_hidden_state.dims();
    let hidden = to_vec2(out.last_hidden_state.reshape([s, h]));
    let expected: Vec<f32> = case.last_hidden_state.iter().flatten().copied().collect();
    let d_hidden = max_abs_diff(&hidden, &expected);
    let d_pool = match (&out.pooler_output, &case.pooler_output) {
        (Some(p), Some(e)) => max_abs_diff(&to_vec2(p.clone()), e),
        _ => 0.0,
    };
    let d_emb = match &case.sentence_embedding {
        Some(e) => max_abs_diff(&to_vec2(emb), e),
        None => 0.0,
    };
    (d_hidden, d_pool, d_emb)
}

fn check_folder(dir: &Path, reference: &Path) {
    let reference = read_reference(reference);
    assert!(!reference.cases.is_empty());
    for (backend, device) in backends() {
        let (model, _, report) =
            BertModel::from_pretrained(dir, &device).unwrap_or_else(|e| panic!("{backend}: {e}"));
        assert!(report.newly_initialized.is_empty(), "{report:?}");
        let mut worst = (0.0f32, 0.0f32, 0.0f32);
        for case in &reference.cases {
            let d = case_diff(&model, case, &device);
            worst = (worst.0.max(d.0), worst.1.max(d.1), worst.2.max(d.2));
        }
        println!(
            "parity {} on {backend}: max|diff| hidden {:.2e}, pooler {:.2e}, embedding {:.2e} over {} cases",
            dir.file_name().unwrap().to_string_lossy(),
            worst.0,
            worst.1,
            worst.2,
            reference.cases.len()
        );
        assert!(
            worst.0 <= TOL && worst.1 <= TOL && worst.2 <= TOL,
            "{backend}: {worst:?} exceeds {TOL}"
        );
    }
}

#[test]
fn tiny_bert_safetensors_matches_transformers() {
    let dir = common::fixture("tiny-bert");
    check_folder(&dir, &dir.join("reference.json"));
}

#[test]
fn tiny_bert_pytorch_bin_with_bert_prefix_matches_transformers() {
    let dir = common::fixture("tiny-bert-bin");
    check_folder(&dir, &dir.join("reference.json"));
}

#[test]
fn tiny_bert_relu_with_legacy_layer_norm_names_matches_transformers() {
    let dir = common::fixture("tiny-bert-relu");
    check_folder(&dir, &dir.join("reference.json"));
}

#[test]
fn minilm_matches_transformers() {
    let dir = common::minilm();
    check_folder(&dir, &common::fixture("reference/minilm.json"));
}

/// Padding must not change the real tokens' hidden states: a padded batch gives each row the
/// hidden states it has alone.
#[test]
fn padded_batch_matches_rows_alone() {
    let dir = common::fixture("tiny-bert");
    let reference = read_reference(&dir.join("reference.json"));
    let device = Device::flex();
    let (model, _, _) = BertModel::from_pretrained(&dir, &device).unwrap();
    let cases = &reference.cases;
    let len = cases.iter().map(|c| c.input_ids.len()).max().unwrap();
    let pad = |v: &Vec<u32>| {
        let mut v = v.clone();
        v.resize(len, 0);
        v
    };
    let ids: Vec<_> = cases.iter().map(|c| pad(&c.input_ids)).collect();
    let types: Vec<_> = cases.iter().map(|c| pad(&c.token_type_ids)).collect();
    let mask: Vec<_> = cases
        .iter()
        .map(|c| pad(&vec![1; c.input_ids.len()]))
        .collect();
    let out = model.forward(BertInput::from_rows(&ids, &types, &mask, &device));
    let [b, s, h] = out.last_hidden_state.dims();
    assert_eq!((b, s), (cases.len(), len));
    let all = to_vec2(out.last_hidden_state.reshape([b * s, h]));
    let mut shortest_padded = false;
    for (row, case) in cases.iter().enumerate() {
        let n = case.input_ids.len();
        shortest_padded |= n < len;
        let got = &all[row * s * h..(row * s + n) * h];
        let expected: Vec<f32> = case.last_hidden_state.iter().flatten().copied().collect();
        let d = max_abs_diff(got, &expected);
        assert!(d <= TOL, "row {row}: {d}");
    }
    assert!(shortest_padded, "fixture cases should differ in length");
}
