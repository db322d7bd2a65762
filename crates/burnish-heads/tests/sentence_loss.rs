//! The contrastive losses of `burnish_heads::sentence` (issue 27) against
//! `sentence-transformers`' own loss classes on fixed embeddings: the reference values are
//! written by `scripts/make_sentence_loss_reference.py` (sentence-transformers 5.1.2, torch
//! 2.9.0) into `tests/fixtures/reference/sentence_loss.json`.

mod common;

use burn::tensor::{Device, Tensor, TensorData};
use burnish_heads::sentence::{EmbeddingLoss, LossKind};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    name: String,
    anchors: Vec<Vec<f64>>,
    positives: Vec<Vec<f64>>,
    negatives: Option<Vec<Vec<f64>>>,
    scores: Option<Vec<f64>>,
    loss: LossKind,
    scale: f32,
    symmetric: bool,
    #[serde(default)]
    matryoshka_dims: Vec<usize>,
    #[serde(default)]
    matryoshka_weights: Vec<f32>,
    value: f64,
}

#[derive(Deserialize)]
struct Reference {
    cases: Vec<Case>,
}

fn matrix(rows: &[Vec<f64>], device: &Device) -> Tensor<2> {
    let flat: Vec<f32> = rows.iter().flatten().map(|&x| x as f32).collect();
    Tensor::from_data(TensorData::new(flat, [rows.len(), rows[0].len()]), device)
}

fn reference() -> Reference {
    let path = common::fixture("reference/sentence_loss.json");
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

#[test]
fn contrastive_losses_equal_sentence_transformers() {
    let device = Device::default();
    let reference = reference();
    assert_eq!(
        reference.cases.len(),
        6,
        "every loss and setting has a case"
    );
    for case in &reference.cases {
        let loss = EmbeddingLoss {
            loss: case.loss,
            scale: case.scale,
            symmetric: case.symmetric,
            matryoshka_dims: case.matryoshka_dims.clone(),
            matryoshka_weights: case.matryoshka_weights.clone(),
        };
        let mut candidates = case.positives.clone();
        candidates.extend(case.negatives.clone().unwrap_or_default());
        let scores = case.scores.as_ref().map(|s| {
            let s: Vec<f32> = s.iter().map(|&x| x as f32).collect();
            Tensor::from_data(TensorData::new(s.clone(), [s.len()]), &device)
        });
        let value = loss
            .compute(
                matrix(&case.anchors, &device),
                matrix(&candidates, &device),
                scores,
            )
            .into_scalar::<f32>() as f64;
        let error = (value - case.value).abs();
        assert!(
            error <= 1e-6 * case.value.abs().max(1.0),
            "{}: burnish {value} vs sentence-transformers {} (error {error:.2e})",
            case.name,
            case.value
        );
    }
}

#[test]
fn losses_fall_when_positives_match_their_anchors() {
    // A positive equal to its anchor scores cos = 1 against < 1 for the others: the loss is
    // lower than with the reference's noisy positives, for MNRL and for CoSENT's ordering.
    let device = Device::default();
    let case = &reference().cases[0];
    let loss = EmbeddingLoss::default();
    let noisy = loss
        .compute(
            matrix(&case.anchors, &device),
            matrix(&case.positives, &device),
            None,
        )
        .into_scalar::<f32>();
    let exact = loss
        .compute(
            matrix(&case.anchors, &device),
            matrix(&case.anchors, &device),
            None,
        )
        .into_scalar::<f32>();
    assert!(exact < noisy * 0.5, "exact {exact} vs noisy {noisy}");
}
