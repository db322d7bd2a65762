//! Reranker losses and ranking (issue 27): binary cross-entropy (with and without
//! `pos_weight`) and ListNet over ragged groups against `sentence-transformers`' own loss
//! classes on fixed logits (reference values from `scripts/make_rerank_loss_reference.py`,
//! sentence-transformers 5.1.2, torch 2.9.0, in `tests/fixtures/reference/rerank_loss.json`).

mod common;

use burn::tensor::{Device, Tensor, TensorData};
use burnish_heads::rerank::{RerankLoss, RerankLossKind};
use burnish_train::tasks::rerank::{rank, rerank_loss};
use serde::Deserialize;

#[derive(Deserialize)]
struct Group {
    logits: Vec<f32>,
    labels: Vec<f32>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    loss: RerankLossKind,
    pos_weight: Option<f32>,
    groups: Vec<Group>,
    value: f64,
}

#[derive(Deserialize)]
struct Reference {
    cases: Vec<Case>,
}

#[test]
fn rerank_losses_equal_sentence_transformers() {
    let path = common::workspace().join("tests/fixtures/reference/rerank_loss.json");
    let reference: Reference =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        reference.cases.len(),
        3,
        "bce, bce with pos_weight, listnet"
    );
    let device = Device::default();
    for case in &reference.cases {
        let logits: Vec<f32> = case.groups.iter().flat_map(|g| g.logits.clone()).collect();
        let labels: Vec<f32> = case.groups.iter().flat_map(|g| g.labels.clone()).collect();
        let sizes: Vec<usize> = case.groups.iter().map(|g| g.logits.len()).collect();
        assert!(sizes.windows(2).any(|w| w[0] != w[1]), "ragged groups");
        let loss = RerankLoss {
            loss: case.loss,
            pos_weight: case.pos_weight,
        };
        let n = logits.len();
        let value = rerank_loss(
            &loss,
            Tensor::from_data(TensorData::new(logits, [n]), &device),
            &labels,
            &sizes,
            &device,
        )
        .into_scalar::<f64>();
        assert!(
            (value - case.value).abs() < 1e-6,
            "{}: burnish {value}, sentence-transformers {}",
            case.name,
            case.value
        );
    }
}

#[test]
fn ranking_sorts_by_score_and_keeps_ties_in_order() {
    let ranked = rank(&[vec![0.1, 0.9, 0.5, 0.9], vec![]]);
    assert_eq!(ranked, vec![vec![1, 3, 2, 0], vec![]]);
}
