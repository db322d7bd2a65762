//! `BertForSequenceClassification` loads an HF checkpoint with its head and reproduces
//! `transformers`' logits; a bare encoder gets a fresh head; losses match PyTorch's formulas.

use std::path::{Path, PathBuf};

use burn::tensor::{Device, Int, Tensor, TensorData};
use burnish_encoder::model::BertInput;
use burnish_heads::{BertForSequenceClassification, ClassificationTargets, ProblemType, loss};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name)
}

fn cases(dir: &Path) -> Vec<serde_json::Value> {
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("reference.json")).unwrap())
            .unwrap();
    json["cases"].as_array().unwrap().clone()
}

fn ids(v: &serde_json::Value) -> Vec<u32> {
    serde_json::from_value(v.clone()).unwrap()
}

#[test]
fn hf_classifier_checkpoint_gives_transformers_logits() {
    let device = Device::flex();
    let dir = fixture("tiny-bert-bin");
    let (model, _, report) =
        BertForSequenceClassification::from_pretrained(&dir, None, None, &device).unwrap();
    assert!(report.newly_initialized.is_empty(), "{report:?}");
    assert!(report.unused.is_empty(), "{report:?}");
    assert_eq!(model.num_labels, 3);
    let mut worst = 0.0f32;
    for case in cases(&dir) {
        let input_ids = ids(&case["input_ids"]);
        let n = input_ids.len();
        let input = BertInput::from_rows(
            &[input_ids],
            &[ids(&case["token_type_ids"])],
            &[vec![1; n]],
            &device,
        );
        let logits = model.forward(input).into_data().convert::<f32>();
        let logits = logits.try_into_vec::<f32>().unwrap();
        let expected: Vec<f32> = serde_json::from_value(case["logits"].clone()).unwrap();
        for (a, b) in logits.iter().zip(&expected) {
            worst = worst.max((a - b).abs());
        }
    }
    assert!(worst <= 1e-4, "max |diff| of logits {worst}");
}

#[test]
fn bare_encoder_gets_a_fresh_head_of_the_requested_size() {
    let device = Device::flex();
    let (model, _, report) = BertForSequenceClassification::from_pretrained(
        fixture("tiny-bert"),
        Some(4),
        Some(ProblemType::MultiLabel),
        &device,
    )
    .unwrap();
    assert_eq!(model.num_labels, 4);
    assert_eq!(
        report.newly_initialized,
        vec!["classifier.weight", "classifier.bias"]
    );
}

#[test]
fn head_of_another_size_is_an_error_naming_the_tensor() {
    let err = BertForSequenceClassification::from_pretrained(
        fixture("tiny-bert-bin"),
        Some(5),
        None,
        &Device::flex(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("classifier."), "{err}");
}

#[test]
fn losses_match_their_closed_forms() {
    let device = Device::flex();
    let logits = Tensor::<2>::from_data(
        TensorData::new(vec![2.0f32, 0.5, -1.0, 0.0, 0.0, 3.0], [2, 3]),
        &device,
    );
    let targets = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, 2], [2]), &device);
    // -(log softmax([2, .5, -1])[0] + log softmax([0, 0, 3])[2]) / 2
    let lse = |v: [f64; 3]| v.iter().map(|x| x.exp()).sum::<f64>().ln();
    let expected = -((2.0 - lse([2.0, 0.5, -1.0])) + (3.0 - lse([0.0, 0.0, 3.0]))) / 2.0;
    let ce = loss::cross_entropy(logits.clone(), targets.clone()).into_scalar::<f32>();
    assert!(
        (f64::from(ce) - expected).abs() < 1e-6,
        "{ce} vs {expected}"
    );

    let ignored = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, -100], [2]), &device);
    let ce1 = loss::cross_entropy_ignoring(logits.clone(), ignored, -100).into_scalar::<f32>();
    assert!((f64::from(ce1) - -(2.0 - lse([2.0, 0.5, -1.0]))).abs() < 1e-6);

    let y = Tensor::<2>::from_data(
        TensorData::new(vec![1.0f32, 0.0, 1.0, 0.0, 1.0, 1.0], [2, 3]),
        &device,
    );
    let bce = loss::bce_with_logits(logits.clone(), y).into_scalar::<f32>();
    let x = [2.0f64, 0.5, -1.0, 0.0, 0.0, 3.0];
    let t = [1.0f64, 0.0, 1.0, 0.0, 1.0, 1.0];
    let expected: f64 = x
        .iter()
        .zip(t)
        .map(|(&x, t)| {
            let p = 1.0 / (1.0 + (-x).exp());
            -(t * p.ln() + (1.0 - t) * (1.0 - p).ln())
        })
        .sum::<f64>()
        / 6.0;
    assert!(
        (f64::from(bce) - expected).abs() < 1e-6,
        "{bce} vs {expected}"
    );

    let model = BertForSequenceClassification::new(
        &serde_json::from_str(r#"{"hidden_size": 8, "num_attention_heads": 2, "num_hidden_layers": 1, "intermediate_size": 8, "vocab_size": 10}"#).unwrap(),
        3,
        ProblemType::SingleLabel,
        &device,
    );
    let via_model = model
        .loss(logits, ClassificationTargets::Classes(targets))
        .into_scalar::<f32>();
    assert_eq!(via_model, ce);
}
