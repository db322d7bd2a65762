//! Two ways of training that must take the steps plain training takes: data-parallel training
//! ([`Trainer::with_devices`]) and layer-wise gradient checkpointing
//! (`TrainConfig::gradient_checkpointing`).
//!
//! The tiny classifier (dropout off, so nothing random is drawn) fine-tunes on 40 real movie
//! review sentences (`assets/vader-movies/train.tsv`), batch 10, two epochs, with gradient
//! accumulation over 2 batches, once plainly on one device and once per variant:
//! - 2 replicas sharing the CPU (5 + 5 rows of every batch, run one after another);
//! - 3 replicas sharing the CPU (4 + 3 + 3 rows: unequal weights);
//! - flex and LibTorch, and flex and WGPU: distinct devices, so each replica runs in its own
//!   thread and the second one's gradients cross backends to be summed on the first;
//! - gradient checkpointing on each backend, and with 2 replicas;
//! - bf16 mixed precision on each backend that computes in bf16 (a configuration error on the
//!   others): the losses within 5e-3 and the update of the pre-trained weights in the same
//!   direction (cosine above 0.95), as bf16 rounding allows; the weights stay f32; with
//!   gradient checkpointing as well, the bf16 run's steps bit for bit.
//!
//! Every logged loss and every final parameter (but the key biases, whose exact gradient is
//! zero) must agree with the plain run within float rounding (losses 1e-5; parameters 1e-5,
//! and 6e-4 with WGPU, whose reductions round differently), while training moves the
//! parameters by up to 2.5e-3. Dropping the second replica's gradients makes the losses
//! differ by 2.2e-3 and the parameters by 4.9e-3.
//!
//! Measured (`cargo test --features flex,tch,wgpu --test training_variants -- --nocapture`):
//! losses within 4.5e-8 in every set-up; parameters within 8.5e-7 (flex x2), 1.1e-6 (flex x3),
//! 1.4e-6 (flex + tch) and 3.1e-4 (flex + wgpu); checkpointing bit for bit. bf16: losses within
//! 6.9e-5 (flex) and 6.6e-5 (tch), update cosine 0.991 and 0.996; WGPU refuses bf16.
//!
//! Alone in its test binary: the backends' RNGs are process-wide.

mod common;

use std::path::Path;

use burnish::backend::BackendKind;
use burnish::burn::tensor::{DType, Device};
use burnish::data::{
    ColumnSpec, Dataset, Example, LabelKind, ReadOptions, Task, TokenizeOptions, tokenize_dataset,
};
use burnish::encoder::weights::Checkpoint;
use burnish::heads::{BertForSequenceClassification, ProblemType};
use burnish::tokenizer::Tokenizer;
use burnish::train::tasks::classification::ExampleBatches;
use burnish::train::{TrainConfig, Trainer};

/// The first 40 training sentences of vader-movies, tokenized by the tiny fixture's tokenizer.
fn examples() -> (Vec<Example>, u32) {
    let path = common::asset("vader-movies/train.tsv");
    let tokenizer = Tokenizer::from_dir(common::fixture("tiny-bert")).unwrap();
    let mut data = Dataset::read(
        &path,
        &ReadOptions::new(ColumnSpec::new("sentence", Some("label"))),
    )
    .unwrap();
    data.records.truncate(40);
    let task = Task::from_dataset(LabelKind::Class, &data).unwrap();
    let tokenized =
        tokenize_dataset(&tokenizer, &data, Some(&task), &TokenizeOptions::new(32)).unwrap();
    (tokenized.examples, tokenizer.pad_id().unwrap())
}

/// The tiny fixture with dropout off, in `dir`.
fn fixture_without_dropout(dir: &Path) {
    let src = common::fixture("tiny-bert");
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(src.join("config.json")).unwrap()).unwrap();
    config["hidden_dropout_prob"] = 0.0.into();
    config["attention_probs_dropout_prob"] = 0.0.into();
    std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
    std::fs::copy(src.join("model.safetensors"), dir.join("model.safetensors")).unwrap();
}

/// Fine-tunes on `devices` (data-parallel when more than one), with the recipe changed by
/// `variant` (gradient checkpointing, bf16); returns the logged training losses and the final
/// parameters, which must still be f32.
fn train(
    examples: &[Example],
    pad: u32,
    devices: &[Device],
    variant: fn(&mut TrainConfig),
) -> (Vec<f64>, Checkpoint) {
    let model_dir = tempfile::tempdir().unwrap();
    fixture_without_dropout(model_dir.path());
    // The new head is initialised from the backend's RNG: seed it, so every run starts alike.
    devices[0].seed(7);
    let (model, config, _) = BertForSequenceClassification::from_pretrained(
        model_dir.path(),
        Some(2),
        Some(ProblemType::SingleLabel),
        &devices[0],
    )
    .unwrap();
    let mut train_config = TrainConfig {
        epochs: 2,
        batch_size: 10,
        grad_accum_steps: 2,
        learning_rate: 1e-3,
        warmup_ratio: 0.0,
        weight_decay: 0.01,
        log_every: 1,
        metric: "loss".into(),
        ..TrainConfig::default()
    };
    variant(&mut train_config);
    let data = ExampleBatches::new(examples, 10, true, 3, pad).unwrap();
    let run = tempfile::tempdir().unwrap();
    let trainer = Trainer::new(train_config, run.path(), &devices[0])
        .unwrap()
        .with_devices(devices)
        .unwrap();
    let last = common::fit_keep_last(trainer, model, &data);
    let weight = last.bert.embeddings.word_embeddings.weight.val();
    assert_eq!(weight.dtype(), DType::F32, "the trained weights stay f32");
    let saved = tempfile::tempdir().unwrap();
    last.save_pretrained(&config, saved.path()).unwrap();
    let weights = Checkpoint::read_safetensors(&saved.path().join("model.safetensors")).unwrap();
    let losses = common::train_log(run.path())
        .into_iter()
        .map(|(loss, _)| loss)
        .collect();
    (losses, weights)
}

/// One test: the variants seed the backends' process-wide RNGs (the new head's initialisation),
/// so they must not run side by side.
#[test]
fn variants_follow_plain_training() {
    data_parallel_and_checkpointed_training_match_plain_training();
    bf16_mixed_precision_follows_f32_training();
}

fn data_parallel_and_checkpointed_training_match_plain_training() {
    let (examples, pad) = examples();
    let plain: fn(&mut TrainConfig) = |_| {};
    let checkpointing: fn(&mut TrainConfig) = |c| c.gradient_checkpointing = true;
    let flex = BackendKind::Flex.device().expect("the tests build flex");
    let reference = train(&examples, pad, std::slice::from_ref(&flex), plain);
    let mut setups = vec![
        ("flex x2".to_string(), vec![flex.clone(); 2], plain),
        ("flex x3".to_string(), vec![flex.clone(); 3], plain),
        (
            "flex x2, checkpointing".to_string(),
            vec![flex.clone(); 2],
            checkpointing,
        ),
    ];
    for (kind, device) in common::backends() {
        setups.push((
            format!("{kind}, checkpointing"),
            vec![device.clone()],
            checkpointing,
        ));
        if kind != BackendKind::Flex {
            setups.push((format!("flex + {kind}"), vec![flex.clone(), device], plain));
        }
    }
    for (label, devices, variant) in setups {
        let got = train(&examples, pad, &devices, variant);
        // A backend's checkpointed run is compared with the same backend's plain run.
        let want = if devices.len() == 1 && devices[0] != flex {
            &train(&examples, pad, &devices, plain)
        } else {
            &reference
        };
        compare(&label, want, &got, Tolerance::Rounding);
    }
}

/// Mixed precision (`TrainConfig::bf16`) follows f32 training: the same steps up to bf16's
/// rounding (8 bits of mantissa), with f32 weights at the end. On a device without bf16 it
/// is a configuration error naming the field.
fn bf16_mixed_precision_follows_f32_training() {
    let (examples, pad) = examples();
    let bf16: fn(&mut TrainConfig) = |c| c.bf16 = true;
    for (kind, device) in common::backends() {
        let devices = std::slice::from_ref(&device);
        if !device.supports_dtype(burnish::burn::tensor::FloatDType::BF16) {
            let run = tempfile::tempdir().unwrap();
            let config = TrainConfig {
                bf16: true,
                ..TrainConfig::default()
            };
            let model = BertForSequenceClassification::from_pretrained(
                common::fixture("tiny-bert"),
                Some(2),
                Some(ProblemType::SingleLabel),
                &device,
            )
            .unwrap()
            .0;
            let data = ExampleBatches::new(&examples, 10, true, 3, pad).unwrap();
            let err = Trainer::new(config, run.path(), &device)
                .unwrap()
                .with_progress(false)
                .fit(model, &data, &mut |_| Ok(Default::default()))
                .unwrap_err()
                .to_string();
            println!("{kind}, bf16: {err}");
            assert!(err.contains("bf16"), "{kind}: {err}");
            continue;
        }
        let want = train(&examples, pad, devices, |_| {});
        let got = train(&examples, pad, devices, bf16);
        compare(&format!("{kind}, bf16"), &want, &got, Tolerance::Bf16);
        // Checkpointing recomputes the same bf16 arithmetic.
        let both = train(&examples, pad, devices, |c| {
            c.bf16 = true;
            c.gradient_checkpointing = true;
        });
        compare(
            &format!("{kind}, bf16 + checkpointing"),
            &got,
            &both,
            Tolerance::Rounding,
        );
    }
}

/// How closely a variant must follow the plain run.
#[derive(Clone, Copy, PartialEq)]
enum Tolerance {
    /// Float rounding: the same arithmetic in another order.
    Rounding,
    /// bf16 rounding of the forward and backward passes.
    Bf16,
}

/// Checks `got` against the plain run `want` (see the module docs).
fn compare(
    label: &str,
    want: &(Vec<f64>, Checkpoint),
    got: &(Vec<f64>, Checkpoint),
    tolerance: Tolerance,
) {
    let ((want_losses, want), (losses, weights)) = (want, got);
    let before =
        Checkpoint::read_safetensors(&common::fixture("tiny-bert/model.safetensors")).unwrap();
    // 40 rows in batches of 10, 2 per step, 2 epochs.
    assert_eq!(losses.len(), 4, "{label}: optimizer steps logged");
    assert_eq!(losses.len(), want_losses.len(), "{label}: steps");
    let loss_diff = losses
        .iter()
        .zip(want_losses)
        .map(|(a, b)| (a - b).abs())
        .fold(0f64, f64::max);
    let (mut param_diff, mut moved) = ((0f32, String::new()), 0f32);
    // The two runs' updates of the pre-trained weights: dot product and squared norms.
    let (mut dot, mut norm_want, mut norm_got) = (0f64, 0f64, 0f64);
    for (name, w) in &want.tensors {
        // The key biases' exact gradient is zero (adding `q . b_k` to every score of a query
        // leaves its softmax unchanged), so AdamW steps them by its reaction to rounding
        // noise, a full learning rate in either direction: see training_parity.rs.
        if name.ends_with("attention.self.key.bias") {
            continue;
        }
        let got = weights.tensors[name].try_to_vec::<f32>().unwrap();
        let w = w.try_to_vec::<f32>().unwrap();
        let d = common::max_abs_diff(&got, &w);
        if d > param_diff.0 {
            param_diff = (d, name.clone());
        }
        // The fixture is a `BertModel` checkpoint: its names lack the `bert.` prefix.
        let fixture_name = name.strip_prefix("bert.").unwrap_or(name);
        if let Some(b) = before.tensors.get(fixture_name) {
            let b = b.try_to_vec::<f32>().unwrap();
            moved = moved.max(common::max_abs_diff(&w, &b));
            for ((g, w), b) in got.iter().zip(&w).zip(&b) {
                let (dg, dw) = (f64::from(g - b), f64::from(w - b));
                dot += dg * dw;
                norm_got += dg * dg;
                norm_want += dw * dw;
            }
        }
    }
    let cosine = dot / (norm_got.sqrt() * norm_want.sqrt());
    println!(
        "{label}: max |loss diff| {loss_diff:.2e}, max |parameter diff| {:.2e} ({}) \
         (training moved parameters by up to {moved:.2e}); update cosine {cosine:.4}",
        param_diff.0, param_diff.1
    );
    assert!(moved > 1e-3, "training moved parameters by {moved} only");
    if tolerance == Tolerance::Bf16 {
        // bf16 keeps 3 significant digits. AdamW normalises each gradient element, so where a
        // gradient is tiny its rounding noise decides the step: single weights can differ by
        // more than a learning rate. What must hold is the loss curve and the direction of
        // the update as a whole.
        assert!(loss_diff < 5e-3, "{label}: loss differs by {loss_diff}");
        assert!(cosine > 0.95, "{label}: update cosine {cosine}");
        return;
    }
    // WGPU's reductions round differently; AdamW turns that into parameter differences of up
    // to about 3e-4 at this learning rate on weights whose gradient is tiny. The losses, which
    // every parameter feeds, still agree to 5e-8.
    let tolerance: f32 = if label.contains(BackendKind::Wgpu.name()) {
        6e-4
    } else {
        1e-5
    };
    assert!(loss_diff < 1e-5, "{label}: loss differs by {loss_diff}");
    assert!(
        param_diff.0 < tolerance,
        "{label}: {} differs by {}",
        param_diff.1,
        param_diff.0
    );
}
