//! `BertForQuestionAnswering` loads an HF checkpoint with its head and reproduces
//! `transformers`' start/end logits and span loss (out-of-range positions included); other
//! checkpoints load with a fresh `qa_outputs` and their pooler / other head reported as unused;
//! what it saves loads back with identical logits.

use burn::tensor::{Device, Int, Tensor, TensorData};
use burnish_encoder::config::BertConfig;
use burnish_encoder::model::BertInput;
use burnish_heads::BertForQuestionAnswering;
use burnish_heads::HfModel;

mod common;
use common::{fixture, flat, max_diff, reference, values};

fn ids(v: &serde_json::Value) -> Vec<u32> {
    serde_json::from_value(v.clone()).unwrap()
}

fn rows(v: &serde_json::Value) -> Vec<Vec<u32>> {
    serde_json::from_value(v.clone()).unwrap()
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

fn int1(values: &[i64], device: &Device) -> Tensor<1, Int> {
    Tensor::from_data(TensorData::new(values.to_vec(), [values.len()]), device)
}

#[test]
fn hf_qa_checkpoint_gives_transformers_logits_and_loss() {
    check_hf_qa("tiny-bert-qa");
}

#[test]
fn roberta_qa_checkpoint_gives_transformers_logits_and_loss() {
    check_hf_qa("tiny-roberta-qa");
}

#[test]
fn xlm_roberta_and_camembert_qa_checkpoints_give_transformers_logits_and_loss() {
    check_hf_qa("tiny-xlm-roberta-qa");
    check_hf_qa("tiny-camembert-qa");
}

#[test]
fn electra_qa_checkpoint_gives_transformers_logits_and_loss() {
    check_hf_qa("tiny-electra-qa");
}

#[test]
fn distilbert_qa_checkpoint_gives_transformers_logits_and_loss() {
    check_hf_qa("tiny-distilbert-qa");
}

/// A `*ForQuestionAnswering` fixture of any family: span logits of each case and of the padded
/// batch, and the batch loss, as transformers computes them.
fn check_hf_qa(name: &str) {
    let device = Device::flex();
    let dir = fixture(name);
    let (model, _, report) = BertForQuestionAnswering::from_pretrained(&dir, &device).unwrap();
    assert!(report.newly_initialized.is_empty(), "{report:?}");
    assert!(report.unused.is_empty(), "{report:?}");
    assert!(model.bert.pooler.is_none());

    let reference = reference(&dir);
    let (mut worst_start, mut worst_end) = (0.0f32, 0.0f32);
    for case in reference["cases"].as_array().unwrap() {
        let (start, end) = model.forward(case_input(case, &device));
        let n = case["input_ids"].as_array().unwrap().len();
        assert_eq!(start.dims(), [1, n]);
        assert_eq!(end.dims(), [1, n]);
        worst_start = worst_start.max(max_diff(&values(start), &flat(&case["start_logits"])));
        worst_end = worst_end.max(max_diff(&values(end), &flat(&case["end_logits"])));
    }
    let batch = &reference["batch"];
    let (start, end) = model.forward(batch_input(batch, &device));
    let batch_start = max_diff(&values(start.clone()), &flat(&batch["start_logits"]));
    let batch_end = max_diff(&values(end.clone()), &flat(&batch["end_logits"]));
    println!(
        "{name}: max |diff|: start_logits {worst_start:.3e}, end_logits {worst_end:.3e}; \
         padded batch {batch_start:.3e}, {batch_end:.3e}"
    );
    for d in [worst_start, worst_end, batch_start, batch_end] {
        assert!(d <= 1e-4, "max |diff| of span logits {d}");
    }

    // transformers' loss for positions past the end, exactly S and negative.
    let seq_len = start.dims()[1] as i64;
    let starts: Vec<i64> = serde_json::from_value(batch["start_positions"].clone()).unwrap();
    let ends: Vec<i64> = serde_json::from_value(batch["end_positions"].clone()).unwrap();
    assert!(starts.contains(&seq_len) && ends.iter().any(|&e| e > seq_len));
    assert!(starts.iter().any(|&s| s < 0));
    let loss = model
        .loss(start, end, int1(&starts, &device), int1(&ends, &device))
        .into_scalar::<f32>();
    let expected = batch["loss"].as_f64().unwrap() as f32;
    println!("loss {loss} vs transformers {expected}");
    assert!((loss - expected).abs() <= 1e-5, "{loss} vs {expected}");
}

#[test]
fn other_checkpoints_get_a_fresh_head_and_their_extra_tensors_are_unused() {
    let device = Device::flex();
    let (model, _, report) =
        BertForQuestionAnswering::from_pretrained(fixture("tiny-bert"), &device).unwrap();
    assert_eq!(
        report.newly_initialized,
        vec!["qa_outputs.weight", "qa_outputs.bias"]
    );
    assert_eq!(
        report.unused,
        vec!["pooler.dense.bias", "pooler.dense.weight"]
    );
    let dir = fixture("tiny-bert");
    let case = &reference(&dir)["cases"][0];
    let hidden = model
        .bert
        .forward(case_input(case, &device))
        .last_hidden_state;
    let diff = max_diff(&values(hidden), &flat(&case["last_hidden_state"]));
    assert!(diff <= 1e-4, "max |diff| of hidden states {diff}");
    let bias = model.qa_outputs.bias.as_ref().unwrap().val();
    assert_eq!(bias.abs().sum().into_scalar::<f32>(), 0.0);

    // A sequence classifier: its pooler and its classifier have no place here.
    let (_, _, report) =
        BertForQuestionAnswering::from_pretrained(fixture("tiny-bert-bin"), &device).unwrap();
    assert_eq!(
        report.newly_initialized,
        vec!["qa_outputs.weight", "qa_outputs.bias"]
    );
    assert_eq!(
        report.unused,
        vec![
            "bert.pooler.dense.bias",
            "bert.pooler.dense.weight",
            "classifier.bias",
            "classifier.weight"
        ]
    );
}

#[test]
fn loss_clamps_positions_and_ignores_those_at_the_sequence_length() {
    let device = Device::flex();
    let config: BertConfig = serde_json::from_str(
        r#"{"hidden_size": 8, "num_attention_heads": 2, "num_hidden_layers": 1,
            "intermediate_size": 8, "vocab_size": 10}"#,
    )
    .unwrap();
    let model = BertForQuestionAnswering::new(&config, &device);
    // [B=3, S=3]
    let xs = [[2.0f64, 0.5, -1.0], [0.0, 0.0, 3.0], [1.0, -2.0, 0.5]];
    let xe = [[-0.5f64, 4.0, 0.25], [0.1, -0.2, 0.3], [5.0, -5.0, 0.0]];
    let t = |x: [[f64; 3]; 3]| {
        let flat: Vec<f32> = x.iter().flatten().map(|&v| v as f32).collect();
        Tensor::<2>::from_data(TensorData::new(flat, [3, 3]), &device)
    };
    let ce = |v: [f64; 3], i: usize| v.iter().map(|x| x.exp()).sum::<f64>().ln() - v[i];
    // start: 1 kept; 3 = S ignored; 7 -> clamped to 3 = S, ignored.
    // end: -1 -> clamped to 0, kept; 2 kept; 3 = S ignored.
    let starts = [1i64, 3, 7];
    let ends = [-1i64, 2, 3];
    let start_loss = ce(xs[0], 1);
    let end_loss = (ce(xe[0], 0) + ce(xe[1], 2)) / 2.0;
    let expected = (start_loss + end_loss) / 2.0;
    let got = model
        .loss(t(xs), t(xe), int1(&starts, &device), int1(&ends, &device))
        .into_scalar::<f32>();
    assert!(
        (f64::from(got) - expected).abs() < 1e-6,
        "{got} vs {expected}"
    );

    // Every start ignored: that side contributes 0 (PyTorch: NaN).
    let got = model
        .loss(
            t(xs),
            t(xe),
            int1(&[3, 3, 9], &device),
            int1(&ends, &device),
        )
        .into_scalar::<f32>();
    assert!((f64::from(got) - end_loss / 2.0).abs() < 1e-6, "{got}");
}

#[test]
fn saved_model_reloads_with_identical_logits() {
    let device = Device::flex();
    let dir = fixture("tiny-bert-qa");
    let (model, config, _) = BertForQuestionAnswering::from_pretrained(&dir, &device).unwrap();
    let out = tempfile::tempdir().unwrap();
    model.save_pretrained(&config, out.path()).unwrap();
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("config.json")).unwrap())
            .unwrap();
    assert_eq!(saved["architectures"][0], "BertForQuestionAnswering");
    assert_eq!(saved["id2label"].as_object().unwrap().len(), 2);

    let (reloaded, _, report) =
        BertForQuestionAnswering::from_pretrained(out.path(), &device).unwrap();
    assert!(
        report.newly_initialized.is_empty() && report.unused.is_empty(),
        "{report:?}"
    );
    let batch = &reference(&dir)["batch"];
    let (s0, e0) = model.forward(batch_input(batch, &device));
    let (s1, e1) = reloaded.forward(batch_input(batch, &device));
    assert_eq!(values(s0), values(s1));
    assert_eq!(values(e0), values(e1));
}

#[test]
fn saving_over_a_config_with_other_labels_keeps_two_outputs_for_transformers() {
    let device = Device::flex();
    // tiny-bert-ner's config has 5 labels; transformers sizes qa_outputs by num_labels.
    let (model, mut config, _) =
        BertForQuestionAnswering::from_pretrained(fixture("tiny-bert"), &device).unwrap();
    let ner = BertConfig::from_file(fixture("tiny-bert-ner").join("config.json")).unwrap();
    config
        .extra
        .insert("id2label".into(), ner.extra["id2label"].clone());
    let out = tempfile::tempdir().unwrap();
    model.save_pretrained(&config, out.path()).unwrap();
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("config.json")).unwrap())
            .unwrap();
    assert_eq!(saved["id2label"].as_object().unwrap().len(), 2);
    assert_eq!(saved["label2id"].as_object().unwrap().len(), 2);
}
