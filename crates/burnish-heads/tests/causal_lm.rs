//! `BertLMHeadModel` reproduces `transformers`' `BertLMHeadModel` (`is_decoder: true`): causal
//! hidden states, logits and the shifted next-token loss; the gathered path gives the same loss;
//! a position never sees later tokens; what it saves (with `is_decoder: true`) reloads
//! identically.

use burn::tensor::{Device, Int, Tensor};
use burnish_encoder::model::BertInput;
use burnish_encoder::weights::Checkpoint;
use burnish_heads::HfModel;
use burnish_heads::{BertLMHeadModel, NextTokenTargets};

mod common;
use common::{batch_input, fixture, flat, from_json, max_diff, reference, values};

fn ints<const D: usize>(t: Tensor<D, Int>) -> Vec<i64> {
    t.into_data().convert::<i64>().try_into_vec().unwrap()
}

fn input(ids: Vec<u32>, types: Vec<u32>, device: &Device) -> BertInput {
    let n = ids.len();
    BertInput::from_rows(&[ids], &[types], &[vec![1; n]], device)
}

fn case_input(case: &serde_json::Value, device: &Device) -> BertInput {
    input(
        from_json(&case["input_ids"]),
        from_json(&case["token_type_ids"]),
        device,
    )
}

#[test]
fn hf_causal_lm_checkpoint_gives_transformers_logits_and_loss() {
    let device = Device::flex();
    let dir = fixture("tiny-bert-clm");
    // This file also carries the tied cls.predictions.decoder.weight: accepted, not reported.
    assert!(
        Checkpoint::from_dir(&dir)
            .unwrap()
            .tensors
            .contains_key("cls.predictions.decoder.weight")
    );
    let (model, config, report) = BertLMHeadModel::from_pretrained(&dir, &device).unwrap();
    assert_eq!(config.extra["is_decoder"], true);
    assert!(report.newly_initialized.is_empty(), "{report:?}");
    assert!(report.unused.is_empty(), "{report:?}");
    assert!(model.bert.pooler.is_none());

    let reference = reference(&dir);
    let (mut worst_logits, mut worst_hidden) = (0.0f32, 0.0f32);
    for case in reference["cases"].as_array().unwrap() {
        let hidden = model
            .bert
            .forward_causal(case_input(case, &device))
            .last_hidden_state;
        worst_hidden =
            worst_hidden.max(max_diff(&values(hidden), &flat(&case["last_hidden_state"])));
        let logits = model.forward(case_input(case, &device));
        worst_logits = worst_logits.max(max_diff(&values(logits), &flat(&case["logits"])));
    }
    let batch = &reference["batch"];
    let hidden = model
        .bert
        .forward_causal(batch_input(batch, &device))
        .last_hidden_state;
    worst_hidden = worst_hidden.max(max_diff(
        &values(hidden),
        &flat(&batch["last_hidden_state"]),
    ));
    let logits = model.forward(batch_input(batch, &device));
    worst_logits = worst_logits.max(max_diff(&values(logits.clone()), &flat(&batch["logits"])));
    println!(
        "max |diff| vs transformers BertLMHeadModel: logits {worst_logits:.3e}, \
         causal hidden states {worst_hidden:.3e}"
    );
    assert!(worst_logits <= 1e-4, "logits {worst_logits}");
    assert!(worst_hidden <= 1e-4, "hidden states {worst_hidden}");

    // Labels: the input ids with -100 at padding, as transformers' collator makes them.
    let labels = BertLMHeadModel::labels_from_input(&batch_input(batch, &device));
    let expected_labels: Vec<Vec<i64>> = from_json(&batch["labels"]);
    assert_eq!(ints(labels.clone()), expected_labels.concat());
    let expected = batch["loss"].as_f64().unwrap() as f32;
    let loss = model.loss(logits, labels).into_scalar::<f32>();

    let ids: Vec<Vec<u32>> = from_json(&batch["input_ids"]);
    let mask: Vec<Vec<u32>> = from_json(&batch["attention_mask"]);
    let targets = NextTokenTargets::from_rows(&ids, &mask, &device).unwrap();
    let real: usize = mask.iter().flatten().filter(|&&m| m == 1).count();
    assert_eq!(targets.positions.dims(), [real - ids.len()]);
    let gathered = model.forward_at(batch_input(batch, &device), targets.positions);
    let gathered_loss = model.loss_at(gathered, targets.labels).into_scalar::<f32>();
    println!("next-token loss {loss}, gathered {gathered_loss}, transformers {expected}");
    assert!((loss - expected).abs() <= 1e-5, "{loss} vs {expected}");
    assert!((gathered_loss - expected).abs() <= 1e-5, "{gathered_loss}");
}

#[test]
fn a_position_never_sees_later_tokens() {
    let device = Device::flex();
    let (model, _, _) =
        BertLMHeadModel::from_pretrained(fixture("tiny-bert-clm"), &device).unwrap();
    let a = values(model.forward(input(vec![2, 93, 94, 95, 96, 3], vec![0; 6], &device)));
    let b = values(model.forward(input(vec![2, 93, 94, 120, 121, 3], vec![0; 6], &device)));
    let v = 160;
    // Positions 0..=2 are identical (inputs equal up to 2), position 3 on differ.
    assert!(max_diff(&a[..3 * v], &b[..3 * v]) <= 1e-6);
    assert!(max_diff(&a[3 * v..4 * v], &b[3 * v..4 * v]) > 1e-3);

    // A padded row gives its real positions the unpadded row's logits.
    let padded = BertInput::from_rows(
        &[vec![2, 93, 94, 95, 96, 3, 0, 0]],
        &[vec![0; 8]],
        &[vec![1, 1, 1, 1, 1, 1, 0, 0]],
        &device,
    );
    let p = values(model.forward(padded));
    assert!(max_diff(&a, &p[..6 * v]) <= 1e-5);
}

#[test]
fn loss_shifts_and_ignores_padding() {
    let device = Device::flex();
    let (model, _, _) =
        BertLMHeadModel::from_pretrained(fixture("tiny-bert-clm"), &device).unwrap();
    let ids = vec![vec![2u32, 93, 94, 3], vec![2, 95, 3, 0]];
    let mask = vec![vec![1u32, 1, 1, 1], vec![1, 1, 1, 0]];
    let batch = BertInput::from_rows(&ids, &[vec![0; 4], vec![0; 4]], &mask, &device);
    let logits = model.forward(batch.clone());
    let labels = BertLMHeadModel::labels_from_input(&batch);
    assert_eq!(ints(labels.clone()), vec![2, 93, 94, 3, 2, 95, 3, -100]);
    let loss = f64::from(model.loss(logits.clone(), labels).into_scalar::<f32>());

    // By hand: logits[b, s] scored against ids[b, s + 1] for the 5 real next tokens.
    let all = values(logits);
    let v = 160;
    let ce = |b: usize, s: usize, target: usize| {
        let row: Vec<f64> = all[(b * 4 + s) * v..(b * 4 + s + 1) * v]
            .iter()
            .map(|&x| f64::from(x))
            .collect();
        let lse = row.iter().map(|x| x.exp()).sum::<f64>().ln();
        lse - row[target]
    };
    let pairs = [(0, 0, 93), (0, 1, 94), (0, 2, 3), (1, 0, 95), (1, 1, 3)];
    let expected = pairs.iter().map(|&(b, s, t)| ce(b, s, t)).sum::<f64>() / 5.0;
    assert!((loss - expected).abs() < 1e-5, "{loss} vs {expected}");

    let targets = NextTokenTargets::from_rows(&ids, &mask, &device).unwrap();
    assert_eq!(ints(targets.positions), vec![0, 1, 2, 4, 5]);
    assert_eq!(ints(targets.labels), vec![93, 94, 3, 95, 3]);
    assert!(NextTokenTargets::from_rows(&[vec![2]], &[vec![1]], &device).is_none());
}

#[test]
fn saved_model_is_a_decoder_and_reloads_with_identical_logits() {
    let device = Device::flex();
    let dir = fixture("tiny-bert-clm");
    let (model, mut config, _) = BertLMHeadModel::from_pretrained(&dir, &device).unwrap();
    // Even from a config without the flag, the saved one says is_decoder: true.
    config.extra.remove("is_decoder");
    let out = tempfile::tempdir().unwrap();
    model.save_pretrained(&config, out.path()).unwrap();
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("config.json")).unwrap())
            .unwrap();
    assert_eq!(saved["architectures"][0], "BertLMHeadModel");
    assert_eq!(saved["is_decoder"], true);
    let names = Checkpoint::from_dir(out.path()).unwrap().tensors;
    assert!(names.contains_key("cls.predictions.bias"));
    assert!(!names.keys().any(|n| n.contains("decoder")));

    let (reloaded, _, report) = BertLMHeadModel::from_pretrained(out.path(), &device).unwrap();
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
fn a_bare_encoder_gets_a_fresh_lm_head() {
    let device = Device::flex();
    let (_, _, report) = BertLMHeadModel::from_pretrained(fixture("tiny-bert"), &device).unwrap();
    assert_eq!(report.newly_initialized.len(), 5);
    assert!(
        report
            .newly_initialized
            .iter()
            .all(|n| n.starts_with("cls.predictions."))
    );
    assert_eq!(
        report.unused,
        vec!["pooler.dense.bias", "pooler.dense.weight"]
    );
}
