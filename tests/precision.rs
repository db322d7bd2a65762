//! Inference in bf16 and f16 (`burnish_encoder::precision::cast_floats`, `burnish encode
//! --dtype`): the real all-MiniLM-L6-v2 against `transformers`' f32 outputs
//! (`scripts/make_reference.py`), on every CPU-side backend that computes in the type.
//!
//! bf16 keeps 8 bits of mantissa and f16 11, so the hidden states move by about 1% and 0.1%
//! of their largest value. The bounds are 2.5% and 0.4%. The sentence embeddings, what
//! MiniLM is used for, must keep a cosine similarity above 0.999 with f32's.
//! A backend that cannot compute in a type (WGPU's WGSL has no bf16) must say so as an
//! error, not panic in a shader compiler.
//!
//! Measured (`cargo test --features flex,tch,wgpu --test precision -- --nocapture`), largest
//! hidden-state difference over the largest value, and the lowest embedding cosine, 8 texts:
//! bf16 0.86% / 0.999924 (flex), 0.73% / 0.999929 (tch), not supported (wgpu); f16 0.13% /
//! 0.999999 (flex), 0.11% / 0.999998 (tch), 0.16% / 0.999998 (wgpu on lavapipe).

mod common;

use burnish::HfModel;
use burnish::burn::tensor::Tensor;
use burnish::encoder::BertModel;
use burnish::encoder::EncoderError;
use burnish::encoder::model::{BertInput, mean_pool_normalized};
use burnish::encoder::precision::{Precision, cast_floats};
use common::{max_abs_diff, read_reference};

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap()
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

#[test]
fn minilm_in_bf16_and_f16_stays_close_to_f32() {
    let dir = common::minilm();
    let reference = read_reference(&common::fixture("reference/minilm.json"));
    for (kind, device) in common::backends() {
        for precision in [Precision::Bf16, Precision::F16] {
            let (model, _, _) = BertModel::from_pretrained(&dir, &device).unwrap();
            let model = match cast_floats(model, precision, &device) {
                Ok(model) => model,
                Err(e @ EncoderError::UnsupportedPrecision { .. }) => {
                    assert!(
                        !device.supports_dtype(precision.dtype()),
                        "{kind}: {e} although the device supports it"
                    );
                    println!("{kind} {}: not supported ({e})", precision.name());
                    continue;
                }
                Err(e) => panic!("{kind}: {e}"),
            };
            let (mut hidden_rel, mut min_cos) = (0f32, 1f32);
            for case in &reference.cases {
                let n = case.input_ids.len();
                let input = BertInput::from_rows(
                    std::slice::from_ref(&case.input_ids),
                    std::slice::from_ref(&case.token_type_ids),
                    &[vec![1; n]],
                    &device,
                );
                let mask = input.attention_mask.clone();
                let out = model.forward(input);
                assert_eq!(
                    out.last_hidden_state.dtype(),
                    precision.dtype().into(),
                    "{kind}: computed in another type"
                );
                let embedding = to_vec(mean_pool_normalized(out.last_hidden_state.clone(), mask));
                let hidden = to_vec(out.last_hidden_state);
                let expected: Vec<f32> = case.last_hidden_state.iter().flatten().copied().collect();
                let scale = expected.iter().fold(0f32, |m, v| m.max(v.abs()));
                hidden_rel = hidden_rel.max(max_abs_diff(&hidden, &expected) / scale);
                let want = case
                    .sentence_embedding
                    .as_ref()
                    .expect("the MiniLM reference has sentence embeddings");
                min_cos = min_cos.min(cosine(&embedding, want));
            }
            println!(
                "{kind} {}: hidden states within {:.2}% of the largest; sentence-embedding \
                 cosine >= {min_cos:.6} over {} texts",
                precision.name(),
                100.0 * hidden_rel,
                reference.cases.len()
            );
            let bound = if precision == Precision::Bf16 {
                0.025
            } else {
                0.004
            };
            assert!(
                hidden_rel < bound,
                "{kind} {}: {hidden_rel}",
                precision.name()
            );
            assert!(
                min_cos > 0.999,
                "{kind} {}: cosine {min_cos}",
                precision.name()
            );
        }
    }
}
