//! `BertForPreTraining` loads transformers' `pytorch_model.bin` (tied decoder tensors stored,
//! sharing storage) and reproduces its MLM and NSP logits and its total loss, on the full and
//! the masked-only path; other checkpoints get the missing heads / pooler fresh and reported;
//! what it saves reloads identically.

use burn::tensor::{Device, Int, Tensor, TensorData};
use burnish_encoder::weights::Checkpoint;
use burnish_heads::{BertForPreTraining, MaskedTargets};
use burnish_heads::{HfModel, WithBackbone};

mod common;
use common::{batch_input, case_input, fixture, flat, from_json, max_diff, reference, values};

fn int1(values: &[i64], device: &Device) -> Tensor<1, Int> {
    Tensor::from_data(TensorData::new(values.to_vec(), [values.len()]), device)
}

fn int2(rows: &[Vec<i64>], device: &Device) -> Tensor<2, Int> {
    let flat: Vec<i64> = rows.concat();
    Tensor::from_data(TensorData::new(flat, [rows.len(), rows[0].len()]), device)
}

#[test]
fn hf_pretraining_checkpoint_gives_transformers_logits_and_losses() {
    let device = Device::flex();
    let dir = fixture("tiny-bert-pretraining");
    // The file carries cls.predictions.decoder.weight / .bias (tied, shared storage).
    let names = Checkpoint::from_dir(&dir).unwrap().tensors;
    assert!(names.contains_key("cls.predictions.decoder.weight"));
    assert!(names.contains_key("cls.predictions.decoder.bias"));
    let (model, _, report) = BertForPreTraining::from_pretrained(&dir, &device).unwrap();
    assert!(report.newly_initialized.is_empty(), "{report:?}");
    assert!(report.unused.is_empty(), "{report:?}");
    assert!(model.bert.pooler.is_some());
    assert_eq!(model.encoder_layers(), 2);

    let reference = reference(&dir);
    let (mut worst_mlm, mut worst_nsp) = (0.0f32, 0.0f32);
    for case in reference["cases"].as_array().unwrap() {
        let (mlm, nsp) = model.forward(case_input(case, &device));
        let n = case["input_ids"].as_array().unwrap().len();
        assert_eq!(mlm.dims(), [1, n, 160]);
        assert_eq!(nsp.dims(), [1, 2]);
        worst_mlm = worst_mlm.max(max_diff(&values(mlm), &flat(&case["prediction_logits"])));
        worst_nsp = worst_nsp.max(max_diff(
            &values(nsp),
            &flat(&case["seq_relationship_logits"]),
        ));
    }
    let batch = &reference["batch"];
    let (mlm, nsp) = model.forward(batch_input(batch, &device));
    worst_mlm = worst_mlm.max(max_diff(
        &values(mlm.clone()),
        &flat(&batch["prediction_logits"]),
    ));
    worst_nsp = worst_nsp.max(max_diff(
        &values(nsp.clone()),
        &flat(&batch["seq_relationship_logits"]),
    ));
    println!(
        "max |diff| vs transformers: prediction_logits {worst_mlm:.3e}, \
         seq_relationship_logits {worst_nsp:.3e}"
    );
    assert!(worst_mlm <= 1e-4, "MLM logits {worst_mlm}");
    assert!(worst_nsp <= 1e-4, "NSP logits {worst_nsp}");

    let labels: Vec<Vec<i64>> = from_json(&batch["labels"]);
    let nsp_labels: Vec<i64> = from_json(&batch["next_sentence_label"]);
    let expected = |k: &str| batch[k].as_f64().unwrap() as f32;
    let full = model.loss_full(
        mlm,
        int2(&labels, &device),
        nsp.clone(),
        int1(&nsp_labels, &device),
    );
    let targets = MaskedTargets::from_label_rows(&labels, &device).unwrap();
    let (mlm_rows, nsp2) = model.forward_masked(batch_input(batch, &device), targets.positions);
    assert_eq!(mlm_rows.dims(), [4, 160]);
    let masked = model.loss_parts(
        mlm_rows.clone(),
        targets.labels.clone(),
        nsp2.clone(),
        int1(&nsp_labels, &device),
    );
    let total = model
        .loss(mlm_rows, targets.labels, nsp2, int1(&nsp_labels, &device))
        .into_scalar::<f32>();
    for (name, full, masked) in [
        ("loss", full.total, masked.total),
        ("mlm_loss", full.mlm, masked.mlm),
        ("nsp_loss", full.nsp, masked.nsp),
    ] {
        let (f, m) = (full.into_scalar::<f32>(), masked.into_scalar::<f32>());
        println!(
            "{name}: full {f}, masked-only {m}, transformers {}",
            expected(name)
        );
        assert!((f - expected(name)).abs() <= 1e-5, "{name}: {f}");
        assert!((m - expected(name)).abs() <= 1e-5, "{name}: {m}");
    }
    assert!((total - expected("loss")).abs() <= 1e-5, "{total}");
}

#[test]
fn other_checkpoints_get_fresh_heads_and_pooler_reported() {
    let device = Device::flex();
    // A bare BertModel (with pooler): both heads fresh.
    let (_, _, report) =
        BertForPreTraining::from_pretrained(fixture("tiny-bert"), &device).unwrap();
    assert_eq!(
        report.newly_initialized,
        vec![
            "cls.predictions.transform.dense.weight",
            "cls.predictions.transform.dense.bias",
            "cls.predictions.transform.LayerNorm.weight",
            "cls.predictions.transform.LayerNorm.bias",
            "cls.predictions.bias",
            "cls.seq_relationship.weight",
            "cls.seq_relationship.bias",
        ]
    );
    assert!(report.unused.is_empty(), "{report:?}");

    // A BertForMaskedLM (no pooler): MLM head loaded, pooler and NSP head fresh.
    let dir = fixture("tiny-bert-mlm");
    let (model, _, report) = BertForPreTraining::from_pretrained(&dir, &device).unwrap();
    assert_eq!(
        report.newly_initialized,
        vec![
            "bert.pooler.dense.weight",
            "bert.pooler.dense.bias",
            "cls.seq_relationship.weight",
            "cls.seq_relationship.bias",
        ]
    );
    assert!(report.unused.is_empty(), "{report:?}");
    let case = &reference(&dir)["cases"][0];
    let (mlm, _) = model.forward(case_input(case, &device));
    let d = max_diff(&values(mlm), &flat(&case["logits"]));
    assert!(d <= 1e-4, "MLM logits of a BertForMaskedLM checkpoint: {d}");
}

#[test]
fn saved_model_reloads_with_identical_logits_without_tied_copies() {
    let device = Device::flex();
    let dir = fixture("tiny-bert-pretraining");
    let (model, config, _) = BertForPreTraining::from_pretrained(&dir, &device).unwrap();
    let out = tempfile::tempdir().unwrap();
    model.save_pretrained(&config, out.path()).unwrap();
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("config.json")).unwrap())
            .unwrap();
    assert_eq!(saved["architectures"][0], "BertForPreTraining");
    assert_eq!(saved["is_decoder"], false);
    let names = Checkpoint::from_dir(out.path()).unwrap().tensors;
    assert!(names.contains_key("cls.predictions.bias"));
    assert!(names.contains_key("cls.seq_relationship.weight"));
    assert!(names.contains_key("bert.pooler.dense.weight"));
    assert!(
        !names.keys().any(|n| n.contains("decoder")),
        "{:?}",
        names.keys()
    );

    let (reloaded, _, report) = BertForPreTraining::from_pretrained(out.path(), &device).unwrap();
    assert!(
        report.newly_initialized.is_empty() && report.unused.is_empty(),
        "{report:?}"
    );
    let batch = &reference(&dir)["batch"];
    let (m0, n0) = model.forward(batch_input(batch, &device));
    let (m1, n1) = reloaded.forward(batch_input(batch, &device));
    assert_eq!(values(m0), values(m1));
    assert_eq!(values(n0), values(n1));
}
