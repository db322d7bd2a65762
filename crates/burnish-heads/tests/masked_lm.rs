//! `BertForMaskedLM` loads an HF checkpoint and reproduces `transformers`' logits and loss; the
//! masked-only path gives the full decoder's loss; the decoder is the word-embedding matrix (no
//! copy: no decoder parameter, gradients reach embedding rows only the decoder uses); tied and
//! aliased checkpoint tensors load; a bare encoder gets a fresh head reported as such; what it
//! saves is what `transformers` writes and reloads identically.

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData};
use burnish_encoder::EncoderError;
use burnish_encoder::config::BertConfig;
use burnish_encoder::model::BertInput;
use burnish_encoder::weights::{Checkpoint, expected_tensors};
use burnish_heads::masked_lm::{BIAS_NAME, DECODER_BIAS_NAME, DECODER_WEIGHT_NAME};
use burnish_heads::{BertForMaskedLM, MaskedTargets};
use burnish_heads::{HfModel, WithBackbone};

mod common;
use common::{batch_input, case_input, fixture, flat, from_json, max_diff, reference, values};

fn int2(rows: &[Vec<i64>], device: &Device) -> Tensor<2, Int> {
    let flat: Vec<i64> = rows.concat();
    Tensor::from_data(TensorData::new(flat, [rows.len(), rows[0].len()]), device)
}

/// Max |diff| of the model's logits against the reference's, over every case and the padded
/// batch (padded positions included).
fn worst_logit_diff(
    model: &BertForMaskedLM,
    reference: &serde_json::Value,
    device: &Device,
) -> f32 {
    let mut worst = 0.0f32;
    for case in reference["cases"].as_array().unwrap() {
        let logits = model.forward(case_input(case, device));
        let n = case["input_ids"].as_array().unwrap().len();
        let vocab = model.word_embeddings().dims()[0];
        assert_eq!(logits.dims(), [1, n, vocab]);
        worst = worst.max(max_diff(&values(logits), &flat(&case["logits"])));
    }
    let batch = &reference["batch"];
    let logits = model.forward(batch_input(batch, device));
    worst.max(max_diff(&values(logits), &flat(&batch["logits"])))
}

#[test]
fn hf_mlm_checkpoint_gives_transformers_logits_and_loss() {
    check_hf_mlm("tiny-bert-mlm");
}

#[test]
fn roberta_mlm_checkpoint_gives_transformers_logits_and_loss() {
    check_hf_mlm("tiny-roberta-mlm");
}

#[test]
fn electra_mlm_checkpoint_gives_transformers_logits_and_loss() {
    check_hf_mlm("tiny-electra-mlm");
}

#[test]
fn distilbert_mlm_checkpoint_gives_transformers_logits_and_loss() {
    check_hf_mlm("tiny-distilbert-mlm");
}

/// A `*ForMaskedLM` fixture of any family: hidden states, logits of each case and of the padded
/// batch, and the batch loss on the full and the masked-only path, as transformers computes them.
fn check_hf_mlm(name: &str) {
    let device = Device::flex();
    let dir = fixture(name);
    let (model, _, report) = BertForMaskedLM::from_pretrained(&dir, &device).unwrap();
    assert!(report.newly_initialized.is_empty(), "{report:?}");
    assert!(report.unused.is_empty(), "{report:?}");
    assert!(model.bert.pooler.is_none());
    assert_eq!(model.encoder_layers(), 2);

    let reference = reference(&dir);
    let mut worst_hidden = 0.0f32;
    for case in reference["cases"].as_array().unwrap() {
        let hidden = model
            .bert
            .forward(case_input(case, &device))
            .last_hidden_state;
        worst_hidden =
            worst_hidden.max(max_diff(&values(hidden), &flat(&case["last_hidden_state"])));
    }
    let worst = worst_logit_diff(&model, &reference, &device);
    println!(
        "{name}: max |diff| vs transformers: logits {worst:.3e}, hidden states {worst_hidden:.3e}"
    );
    assert!(worst <= 1e-4, "max |diff| of MLM logits {worst}");
    assert!(
        worst_hidden <= 1e-4,
        "max |diff| of hidden states {worst_hidden}"
    );

    // transformers' loss for the batch's labels, on both paths.
    let batch = &reference["batch"];
    let labels: Vec<Vec<i64>> = from_json(&batch["labels"]);
    let expected = batch["loss"].as_f64().unwrap() as f32;
    let full = model
        .loss_full(
            model.forward(batch_input(batch, &device)),
            int2(&labels, &device),
        )
        .into_scalar::<f32>();
    let targets = MaskedTargets::from_label_rows(&labels, &device).unwrap();
    assert_eq!(targets.positions.dims(), [4]);
    let masked_logits = model.forward_masked(batch_input(batch, &device), targets.positions);
    assert_eq!(masked_logits.dims(), [4, model.word_embeddings().dims()[0]]);
    let masked = model
        .loss(masked_logits, targets.labels)
        .into_scalar::<f32>();
    println!("{name}: loss: full {full}, masked-only {masked}, transformers {expected}");
    assert!((full - expected).abs() <= 1e-5, "{full} vs {expected}");
    assert!((masked - expected).abs() <= 1e-5, "{masked} vs {expected}");
}

#[test]
fn masked_only_path_gives_the_full_decoders_logits_and_loss() {
    let device = Device::flex();
    let dir = fixture("tiny-bert-mlm");
    let (model, _, _) = BertForMaskedLM::from_pretrained(&dir, &device).unwrap();
    let batch = &reference(&dir)["batch"];
    let ids: Vec<Vec<i64>> = from_json(&batch["input_ids"]);
    let mask: Vec<Vec<i64>> = from_json(&batch["attention_mask"]);
    let seq_len = ids[0].len();
    // Predict every third real token (some [MASK], some not), with varied targets.
    let labels: Vec<Vec<i64>> = ids
        .iter()
        .zip(&mask)
        .enumerate()
        .map(|(b, (row, m))| {
            (0..seq_len)
                .map(|s| {
                    if m[s] == 1 && (b + s) % 3 == 0 {
                        (row[s] * 7 + s as i64) % 160
                    } else {
                        -100
                    }
                })
                .collect()
        })
        .collect();
    let full_logits = model.forward(batch_input(batch, &device));
    let full = model
        .loss_full(full_logits.clone(), int2(&labels, &device))
        .into_scalar::<f32>();
    let targets = MaskedTargets::from_label_rows(&labels, &device).unwrap();
    let positions: Vec<i64> = targets
        .positions
        .clone()
        .into_data()
        .convert::<i64>()
        .try_into_vec()
        .unwrap();
    assert!(positions.len() >= 5, "{positions:?}");
    let masked_logits = model.forward_masked(batch_input(batch, &device), targets.positions);
    let masked = model
        .loss(masked_logits.clone(), targets.labels)
        .into_scalar::<f32>();
    println!("full-decoder loss {full}, masked-only loss {masked}");
    assert!((full - masked).abs() <= 1e-5, "{full} vs {masked}");

    // Row m of the masked path is the full path's row at positions[m].
    let [b, s, v] = full_logits.dims();
    let all = values(full_logits.reshape([b * s, v]));
    let rows = values(masked_logits);
    let picked: Vec<f32> = positions
        .iter()
        .flat_map(|&p| all[p as usize * v..(p as usize + 1) * v].to_vec())
        .collect();
    let d = max_diff(&rows, &picked);
    assert!(
        d <= 1e-5,
        "masked-only logits differ from the full ones by {d}"
    );
}

#[test]
fn the_decoder_is_the_word_embedding_matrix_not_a_copy() {
    let device = Device::flex();
    let dir = fixture("tiny-bert-mlm");
    let (model, _, _) = BertForMaskedLM::from_pretrained(&dir, &device).unwrap();

    // Exactly the parameters transformers saves: no decoder weight of our own.
    let ours: Vec<String> = expected_tensors(&model)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert!(!ours.iter().any(|n| n.contains("decoder")), "{ours:?}");
    let mut ours_sorted = ours.clone();
    ours_sorted.sort();
    let file: Vec<String> = Checkpoint::from_dir(&dir)
        .unwrap()
        .tensors
        .into_keys()
        .collect();
    assert_eq!(ours_sorted, file);

    // Training the MLM loss sends gradient to embedding rows of tokens absent from the input:
    // only the decoder reads them.
    let ad = device.clone().autodiff();
    let model = model.fork(&ad).train();
    let batch = &reference(&dir)["batch"];
    let labels: Vec<Vec<i64>> = from_json(&batch["labels"]);
    let targets = MaskedTargets::from_label_rows(&labels, &ad).unwrap();
    let logits = model.forward_masked(batch_input(batch, &ad), targets.positions);
    let grads = model.loss(logits, targets.labels).backward();
    let grad = model
        .bert
        .embeddings
        .word_embeddings
        .weight
        .val()
        .grad(&grads)
        .expect("word embeddings get a gradient");
    let ids: Vec<Vec<u32>> = from_json(&batch["input_ids"]);
    let unused_row = (0..160u32)
        .find(|t| !ids.iter().flatten().any(|i| i == t))
        .unwrap() as usize;
    let row = values(grad.narrow(0, unused_row, 1));
    let norm: f32 = row.iter().map(|x| x.abs()).sum();
    assert!(
        norm > 0.0,
        "no decoder gradient reached embedding row {unused_row}"
    );
    let bias_grad = model.cls.predictions.bias.val().grad(&grads).unwrap();
    assert!(values(bias_grad).iter().any(|&x| x != 0.0));
}

#[test]
fn a_bare_encoder_gets_a_fresh_head_reported_as_newly_initialized() {
    let device = Device::flex();
    let dir = fixture("tiny-bert");
    let (model, config, report) = BertForMaskedLM::from_pretrained(&dir, &device).unwrap();
    assert_eq!(
        report.newly_initialized,
        vec![
            "cls.predictions.transform.dense.weight",
            "cls.predictions.transform.dense.bias",
            "cls.predictions.transform.LayerNorm.weight",
            "cls.predictions.transform.LayerNorm.bias",
            "cls.predictions.bias",
        ]
    );
    assert_eq!(
        report.unused,
        vec!["pooler.dense.bias", "pooler.dense.weight"]
    );
    // The encoder is the checkpoint's.
    let case = &reference(&dir)["cases"][0];
    let hidden = model
        .bert
        .forward(case_input(case, &device))
        .last_hidden_state;
    let d = max_diff(&values(hidden), &flat(&case["last_hidden_state"]));
    assert!(d <= 1e-4, "hidden states {d}");

    // transformers' init: dense ~ N(0, initializer_range), zero biases, LayerNorm 1 / 0.
    let p = &model.cls.predictions;
    let zero = |t: Tensor<1>| values(t).iter().all(|&x| x == 0.0);
    assert!(zero(p.bias.val()));
    assert!(zero(p.transform.dense.bias.as_ref().unwrap().val()));
    assert!(
        values(p.transform.layer_norm.gamma.val())
            .iter()
            .all(|&x| x == 1.0)
    );
    assert!(zero(p.transform.layer_norm.beta.as_ref().unwrap().val()));
    let w = values(p.transform.dense.weight.val());
    let mean = w.iter().sum::<f32>() / w.len() as f32;
    let std = (w.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / w.len() as f32).sqrt();
    let range = config.initializer_range as f32;
    assert!(
        (std - range).abs() < 0.3 * range && mean.abs() < 0.3 * range,
        "dense init mean {mean} std {std}, expected N(0, {range})"
    );
}

#[test]
fn tied_decoder_tensors_in_a_checkpoint_are_accepted() {
    let device = Device::flex();
    let dir = fixture("tiny-bert-mlm");
    let reference = reference(&dir);
    let config = BertConfig::from_file(dir.join("config.json")).unwrap();

    // The bias only under its alias cls.predictions.decoder.bias, plus the tied weight: both
    // accepted, the alias used (logits still match), nothing reported.
    let mut checkpoint = Checkpoint::from_dir(&dir).unwrap();
    let bias = checkpoint.tensors.remove(BIAS_NAME).unwrap();
    let embeddings = checkpoint.tensors["bert.embeddings.word_embeddings.weight"].clone();
    checkpoint
        .tensors
        .insert(DECODER_BIAS_NAME.into(), bias.clone());
    checkpoint
        .tensors
        .insert(DECODER_WEIGHT_NAME.into(), embeddings);
    let (model, report) = BertForMaskedLM::from_checkpoint(&config, checkpoint, &device).unwrap();
    assert!(
        report.newly_initialized.is_empty() && report.unused.is_empty(),
        "{report:?}"
    );
    let d = worst_logit_diff(&model, &reference, &device);
    assert!(d <= 1e-4, "decoder.bias alias: max |diff| {d}");

    // Without any bias the head's bias is fresh (zero), reported, and the logits differ: the
    // bias matters, so the check above can fail.
    let mut checkpoint = Checkpoint::from_dir(&dir).unwrap();
    checkpoint.tensors.remove(BIAS_NAME);
    let (model, report) = BertForMaskedLM::from_checkpoint(&config, checkpoint, &device).unwrap();
    assert_eq!(report.newly_initialized, vec![BIAS_NAME]);
    assert!(worst_logit_diff(&model, &reference, &device) > 1e-2);

    // A BertForPreTraining pytorch_model.bin (decoder.weight and decoder.bias stored, sharing
    // storage with the embeddings and the bias): its NSP head and pooler are unused.
    let (model, _, report) =
        BertForMaskedLM::from_pretrained(fixture("tiny-bert-pretraining"), &device).unwrap();
    assert!(report.newly_initialized.is_empty(), "{report:?}");
    assert_eq!(
        report.unused,
        vec![
            "bert.pooler.dense.bias",
            "bert.pooler.dense.weight",
            "cls.seq_relationship.bias",
            "cls.seq_relationship.weight"
        ]
    );
    let pre = self::reference(&fixture("tiny-bert-pretraining"));
    let case = &pre["cases"][0];
    let logits = model.forward(case_input(case, &device));
    let d = max_diff(&values(logits), &flat(&case["prediction_logits"]));
    assert!(d <= 1e-4, "BertForPreTraining checkpoint as MLM: {d}");
}

#[test]
fn an_untied_config_is_refused_naming_the_field() {
    let device = Device::flex();
    let tmp = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(fixture("tiny-bert-mlm")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), tmp.path().join(entry.file_name())).unwrap();
    }
    let path = tmp.path().join("config.json");
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    config["tie_word_embeddings"] = false.into();
    std::fs::write(&path, config.to_string()).unwrap();
    let err = BertForMaskedLM::from_pretrained(tmp.path(), &device).unwrap_err();
    assert!(
        matches!(
            err,
            EncoderError::ConfigValue {
                field: "tie_word_embeddings",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn saved_model_is_what_transformers_writes_and_reloads_with_identical_logits() {
    let device = Device::flex();
    let dir = fixture("tiny-bert-mlm");
    let (model, config, _) = BertForMaskedLM::from_pretrained(&dir, &device).unwrap();
    let out = tempfile::tempdir().unwrap();
    model.save_pretrained(&config, out.path()).unwrap();
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("config.json")).unwrap())
            .unwrap();
    assert_eq!(saved["architectures"][0], "BertForMaskedLM");
    assert_eq!(saved["is_decoder"], false);

    // The same tensor names as transformers' own file: cls.predictions.bias, no decoder.*.
    let ours = Checkpoint::from_dir(out.path()).unwrap();
    let theirs = Checkpoint::from_dir(&dir).unwrap();
    assert_eq!(
        ours.tensors.keys().collect::<Vec<_>>(),
        theirs.tensors.keys().collect::<Vec<_>>()
    );

    let (reloaded, _, report) = BertForMaskedLM::from_pretrained(out.path(), &device).unwrap();
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
fn masked_targets_collect_row_major_positions() {
    let device = Device::flex();
    let labels = vec![vec![-100, 7, -100], vec![3, -100, 9]];
    let t = MaskedTargets::from_label_rows(&labels, &device).unwrap();
    let ints =
        |t: Tensor<1, Int>| -> Vec<i64> { t.into_data().convert::<i64>().try_into_vec().unwrap() };
    assert_eq!(ints(t.positions), vec![1, 3, 5]);
    assert_eq!(ints(t.labels), vec![7, 3, 9]);
    assert!(MaskedTargets::from_label_rows(&[vec![-100, -100]], &device).is_none());
}

#[test]
fn fresh_model_shapes() {
    let device = Device::flex();
    let config: BertConfig = serde_json::from_str(
        r#"{"hidden_size": 8, "num_attention_heads": 2, "num_hidden_layers": 1,
            "intermediate_size": 8, "vocab_size": 11}"#,
    )
    .unwrap();
    let model = BertForMaskedLM::new(&config, &device);
    let input = BertInput::from_rows(
        &[vec![2, 5, 6, 3], vec![2, 7, 3, 0]],
        &[vec![0; 4], vec![0; 4]],
        &[vec![1; 4], vec![1, 1, 1, 0]],
        &device,
    );
    assert_eq!(model.forward(input.clone()).dims(), [2, 4, 11]);
    let positions = Tensor::<1, Int>::from_data(TensorData::new(vec![1i64, 5], [2]), &device);
    assert_eq!(model.forward_masked(input, positions).dims(), [2, 11]);
}
