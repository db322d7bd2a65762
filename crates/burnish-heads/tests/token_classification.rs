//! `BertForTokenClassification` loads an HF checkpoint with its head and reproduces
//! `transformers`' per-token logits and loss; other checkpoints (with a pooler, another head)
//! load with a fresh head and their extra tensors reported as unused; what it saves loads back
//! with identical logits.

use burn::tensor::{Device, Int, Tensor, TensorData};
use burnish_encoder::config::BertConfig;
use burnish_encoder::model::BertInput;
use burnish_heads::BertForTokenClassification;

mod common;
use common::{fixture, flat, max_diff, reference};

fn ids(v: &serde_json::Value) -> Vec<u32> {
    serde_json::from_value(v.clone()).unwrap()
}

fn rows(v: &serde_json::Value) -> Vec<Vec<u32>> {
    serde_json::from_value(v.clone()).unwrap()
}

fn values(t: Tensor<3>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap()
}

fn case_input(case: &serde_json::Value, device: &Device) -> BertInput {
    let input_ids = ids(&case["input_ids"]);
    let n = input_ids.len();
    BertInput::from_rows(
        &[input_ids],
        &[ids(&case["token_type_ids"])],
        &[vec![1; n]],
        device,
    )
}

fn batch_input(batch: &serde_json::Value, device: &Device) -> BertInput {
    BertInput::from_rows(
        &rows(&batch["input_ids"]),
        &rows(&batch["token_type_ids"]),
        &rows(&batch["attention_mask"]),
        device,
    )
}

fn int2(rows: &[Vec<i64>], device: &Device) -> Tensor<2, Int> {
    let flat: Vec<i64> = rows.iter().flatten().copied().collect();
    Tensor::from_data(TensorData::new(flat, [rows.len(), rows[0].len()]), device)
}

#[test]
fn hf_token_classifier_gives_transformers_logits_and_loss() {
    check_hf_token_classifier("tiny-bert-ner");
}

#[test]
fn roberta_token_classifier_gives_transformers_logits_and_loss() {
    check_hf_token_classifier("tiny-roberta-ner");
}

#[test]
fn xlm_roberta_and_camembert_token_classifiers_give_transformers_logits_and_loss() {
    check_hf_token_classifier("tiny-xlm-roberta-ner");
    check_hf_token_classifier("tiny-camembert-ner");
}

#[test]
fn electra_token_classifier_gives_transformers_logits_and_loss() {
    check_hf_token_classifier("tiny-electra-ner");
}

#[test]
fn distilbert_token_classifier_gives_transformers_logits_and_loss() {
    check_hf_token_classifier("tiny-distilbert-ner");
}

/// A `*ForTokenClassification` fixture of any family: logits of each case and of the padded
/// batch, and the batch loss, as transformers computes them.
fn check_hf_token_classifier(name: &str) {
    let device = Device::flex();
    let dir = fixture(name);
    let (model, config, report) =
        BertForTokenClassification::from_pretrained(&dir, None, &device).unwrap();
    assert!(report.newly_initialized.is_empty(), "{report:?}");
    assert!(report.unused.is_empty(), "{report:?}");
    assert_eq!(model.num_labels, 5);
    assert!(model.bert.pooler.is_none());
    assert_eq!(config.extra["id2label"]["1"], "B-PER");

    let reference = reference(&dir);
    let mut worst = 0.0f32;
    for case in reference["cases"].as_array().unwrap() {
        let logits = model.forward(case_input(case, &device));
        let n = case["input_ids"].as_array().unwrap().len();
        assert_eq!(logits.dims(), [1, n, 5]);
        worst = worst.max(max_diff(&values(logits), &flat(&case["logits"])));
    }
    // The padded batch: every position, padding included, as transformers computes it.
    let batch = &reference["batch"];
    let logits = model.forward(batch_input(batch, &device));
    let batch_diff = max_diff(&values(logits.clone()), &flat(&batch["logits"]));
    println!(
        "{name}: max |diff| of token logits: cases {worst:.3e}, padded batch {batch_diff:.3e}"
    );
    assert!(worst <= 1e-4, "max |diff| of logits {worst}");
    assert!(
        batch_diff <= 1e-4,
        "max |diff| of batch logits {batch_diff}"
    );

    // transformers' loss for the batch's labels (-100 at [CLS], [SEP] and padding).
    let labels: Vec<Vec<i64>> = serde_json::from_value(batch["labels"].clone()).unwrap();
    assert!(labels.iter().flatten().any(|&l| l == -100));
    let loss = model
        .loss(logits, int2(&labels, &device))
        .into_scalar::<f32>();
    let expected = batch["loss"].as_f64().unwrap() as f32;
    println!("{name}: loss {loss} vs transformers {expected}");
    assert!((loss - expected).abs() <= 1e-5, "{loss} vs {expected}");
}

#[test]
fn bare_encoder_with_pooler_gets_a_fresh_head_and_its_pooler_is_unused() {
    let device = Device::flex();
    let dir = fixture("tiny-bert");
    let (model, _, report) =
        BertForTokenClassification::from_pretrained(&dir, None, &device).unwrap();
    // No id2label in a BertModel's config: transformers' default of 2 labels.
    assert_eq!(model.num_labels, 2);
    assert_eq!(
        report.newly_initialized,
        vec!["classifier.weight", "classifier.bias"]
    );
    assert_eq!(
        report.unused,
        vec!["pooler.dense.bias", "pooler.dense.weight"]
    );
    // The encoder itself was loaded: its hidden states are transformers' BertModel's.
    let reference = reference(&dir);
    let case = &reference["cases"][0];
    let hidden = model
        .bert
        .forward(case_input(case, &device))
        .last_hidden_state;
    let diff = max_diff(&values(hidden), &flat(&case["last_hidden_state"]));
    assert!(diff <= 1e-4, "max |diff| of hidden states {diff}");
    // The fresh head is transformers' init: N(0, initializer_range) weights, zero bias.
    let bias = model.classifier.bias.as_ref().unwrap().val();
    assert_eq!(bias.abs().sum().into_scalar::<f32>(), 0.0);
}

#[test]
fn sequence_classifier_checkpoint_loads_its_encoder_and_reports_the_pooler_unused() {
    let device = Device::flex();
    // pytorch_model.bin of a BertForSequenceClassification with 3 labels: `classifier.*` has
    // the same names and, with 3 labels, the same shape, so it is loaded (as transformers
    // does); the pooler has no place in a token classifier.
    let (model, _, report) =
        BertForTokenClassification::from_pretrained(fixture("tiny-bert-bin"), None, &device)
            .unwrap();
    assert_eq!(model.num_labels, 3);
    assert!(report.newly_initialized.is_empty(), "{report:?}");
    assert_eq!(
        report.unused,
        vec!["bert.pooler.dense.bias", "bert.pooler.dense.weight"]
    );

    let err =
        BertForTokenClassification::from_pretrained(fixture("tiny-bert-bin"), Some(5), &device)
            .unwrap_err()
            .to_string();
    assert!(err.contains("classifier.weight"), "{err}");

    let err = BertForTokenClassification::from_pretrained(fixture("tiny-bert"), Some(0), &device)
        .unwrap_err()
        .to_string();
    assert!(err.contains("num_labels"), "{err}");
}

#[test]
fn loss_is_the_mean_cross_entropy_over_labelled_positions() {
    let device = Device::flex();
    let config: BertConfig = serde_json::from_str(
        r#"{"hidden_size": 8, "num_attention_heads": 2, "num_hidden_layers": 1,
            "intermediate_size": 8, "vocab_size": 10}"#,
    )
    .unwrap();
    let model = BertForTokenClassification::new(&config, 3, &device);
    // [B=2, S=3, L=3]
    let x = [
        [[2.0f64, 0.5, -1.0], [0.0, 0.0, 3.0], [1.0, 1.0, 1.0]],
        [[-0.5, 4.0, 0.25], [0.1, -0.2, 0.3], [5.0, -5.0, 0.0]],
    ];
    let labels = vec![vec![0i64, -100, 2], vec![1, 2, -100]];
    let flat_x: Vec<f32> = x.iter().flatten().flatten().map(|&v| v as f32).collect();
    let logits = Tensor::<3>::from_data(TensorData::new(flat_x, [2, 3, 3]), &device);
    let lse = |v: [f64; 3]| v.iter().map(|x| x.exp()).sum::<f64>().ln();
    let mut total = 0.0;
    let mut count = 0.0;
    for b in 0..2 {
        for s in 0..3 {
            let l = labels[b][s];
            if l != -100 {
                total += lse(x[b][s]) - x[b][s][l as usize];
                count += 1.0;
            }
        }
    }
    let expected = total / count;
    let got = model
        .loss(logits.clone(), int2(&labels, &device))
        .into_scalar::<f32>();
    assert!(
        (f64::from(got) - expected).abs() < 1e-6,
        "{got} vs {expected}"
    );

    // Ignoring nothing differs from ignoring the -100 positions.
    let all = vec![vec![0i64, 1, 2], vec![1, 2, 0]];
    let got_all = model
        .loss(logits.clone(), int2(&all, &device))
        .into_scalar::<f32>();
    assert!((got_all - got).abs() > 1e-3);

    // Every position ignored: 0, not NaN.
    let none = vec![vec![-100i64; 3]; 2];
    let got_none = model
        .loss(logits, int2(&none, &device))
        .into_scalar::<f32>();
    assert_eq!(got_none, 0.0);
}

#[test]
fn saved_model_reloads_with_identical_logits_and_label_names() {
    let device = Device::flex();
    let dir = fixture("tiny-bert-ner");
    let (model, config, _) =
        BertForTokenClassification::from_pretrained(&dir, None, &device).unwrap();
    let out = tempfile::tempdir().unwrap();
    model.save_pretrained(&config, out.path()).unwrap();

    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("config.json")).unwrap())
            .unwrap();
    assert_eq!(saved["architectures"][0], "BertForTokenClassification");
    assert_eq!(saved["id2label"]["3"], "B-LOC");
    assert_eq!(saved["label2id"]["I-LOC"], 4);

    let (reloaded, _, report) =
        BertForTokenClassification::from_pretrained(out.path(), None, &device).unwrap();
    assert!(
        report.newly_initialized.is_empty() && report.unused.is_empty(),
        "{report:?}"
    );
    let batch = &reference(&dir)["batch"];
    let a = values(model.forward(batch_input(batch, &device)));
    let b = values(reloaded.forward(batch_input(batch, &device)));
    assert_eq!(a, b);
}

#[test]
fn saving_a_head_without_label_names_writes_label_i() {
    let device = Device::flex();
    let (model, config, _) =
        BertForTokenClassification::from_pretrained(fixture("tiny-bert"), Some(3), &device)
            .unwrap();
    let out = tempfile::tempdir().unwrap();
    model.save_pretrained(&config, out.path()).unwrap();
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("config.json")).unwrap())
            .unwrap();
    assert_eq!(saved["id2label"].as_object().unwrap().len(), 3);
    assert_eq!(saved["id2label"]["2"], "LABEL_2");
    assert_eq!(saved["label2id"]["LABEL_0"], 0);
    // Built without a pooler, so none is saved: transformers would call it unexpected.
    let (reloaded, _, report) =
        BertForTokenClassification::from_pretrained(out.path(), None, &device).unwrap();
    assert_eq!(reloaded.num_labels, 3);
    assert!(report.unused.is_empty(), "{report:?}");
}
