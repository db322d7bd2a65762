//! Class weights and label smoothing (`loss::cross_entropy_with`, issue 24) against
//! `torch.nn.functional.cross_entropy(weight=..., ignore_index=-100, label_smoothing=...)`:
//! the reference values are written by `scripts/make_loss_reference.py` (torch 2.9.0) into
//! `tests/fixtures/reference/class_loss.json`.

mod common;

use burn::tensor::{Device, Int, Tensor, TensorData};
use burnish_heads::ClassLoss;
use burnish_heads::loss::{cross_entropy, cross_entropy_with};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    logits: Vec<Vec<f64>>,
    targets: Vec<i64>,
    class_weights: Option<Vec<f32>>,
    label_smoothing: f32,
    ignore_index: Option<i64>,
    loss: f64,
}

#[derive(Deserialize)]
struct Reference {
    cases: Vec<Case>,
}

fn tensors(case: &Case, device: &Device) -> (Tensor<2>, Tensor<1, Int>) {
    let (n, c) = (case.logits.len(), case.logits[0].len());
    let flat: Vec<f32> = case.logits.iter().flatten().map(|&x| x as f32).collect();
    (
        Tensor::from_data(TensorData::new(flat, [n, c]), device),
        Tensor::from_data(TensorData::new(case.targets.clone(), [n]), device),
    )
}

#[test]
fn weighted_and_smoothed_cross_entropy_equals_pytorchs() {
    let path = common::fixture("reference/class_loss.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let reference: Reference = serde_json::from_str(&text).unwrap();
    assert_eq!(reference.cases.len(), 6);
    let device = Device::flex();
    let mut worst = 0.0f64;
    for (i, case) in reference.cases.iter().enumerate() {
        let (logits, targets) = tensors(case, &device);
        let options = ClassLoss {
            class_weights: case.class_weights.clone(),
            label_smoothing: case.label_smoothing,
        };
        let loss =
            cross_entropy_with(logits, targets, case.ignore_index, &options).into_scalar::<f32>();
        let diff = (f64::from(loss) - case.loss).abs();
        println!(
            "case {i}: weights {:?}, smoothing {}, ignored {:?}: burnish {loss:.7}, torch {:.7}, |diff| {diff:.1e}",
            case.class_weights, case.label_smoothing, case.ignore_index, case.loss
        );
        worst = worst.max(diff);
        assert!(diff <= 1e-6, "case {i}: {loss} vs PyTorch's {}", case.loss);
    }
    println!("max |diff| against PyTorch: {worst:.1e}");
}

/// The plain options are the plain loss, and smoothing moves it (so the cases above cannot
/// pass with the options ignored).
#[test]
fn plain_options_give_the_plain_loss_and_smoothing_changes_it() {
    let path = common::fixture("reference/class_loss.json");
    let reference: Reference =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let device = Device::flex();
    let case = &reference.cases[0];
    let (logits, targets) = tensors(case, &device);
    let plain = cross_entropy(logits.clone(), targets.clone()).into_scalar::<f32>();
    let with = cross_entropy_with(logits.clone(), targets.clone(), None, &ClassLoss::default())
        .into_scalar::<f32>();
    assert_eq!(plain, with);
    let smoothed = ClassLoss {
        class_weights: None,
        label_smoothing: 0.1,
    };
    let smoothed = cross_entropy_with(logits, targets, None, &smoothed).into_scalar::<f32>();
    assert!((smoothed - plain).abs() > 1e-3, "{smoothed} vs {plain}");
}
