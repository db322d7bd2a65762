//! The two-stage recipe freezes what it says, the best checkpoint is the one kept, early
//! stopping stops, and the run directory holds the log and the plot.

mod common;

use burn::tensor::Device;
use burnish_train::tasks::classification::{ExampleBatches, evaluate};
use burnish_train::trainer::files;
use burnish_train::{Outcome, TrainConfig, Trainer};

#[test]
fn frozen_encoder_does_not_change_while_the_head_trains() {
    let (examples, task, pad) = common::examples(64);
    let device = Device::flex();
    let model = common::tiny_classifier(&device);
    let before = common::params(&model);
    let config = TrainConfig {
        epochs: 1,
        freeze_encoder_epochs: 1,
        batch_size: 16,
        ..TrainConfig::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let data = ExampleBatches::new(&examples, 16, true, 1, pad).unwrap();
    let eval_examples = examples[..16].to_vec();
    let mut eval = |m: &burnish_heads::BertForSequenceClassification| {
        evaluate(m, &eval_examples, &task, 16, pad, &Device::flex()).map(|e| e.metrics)
    };
    let trainer = Trainer::new(config, dir.path(), &device)
        .unwrap()
        .with_progress(false);
    let result = trainer.fit(model, &data, &mut eval).unwrap();
    let after = common::params(&result.model);
    let mut head_changed = false;
    for ((name, a), (_, b)) in before.iter().zip(&after) {
        if name.starts_with("bert.") {
            assert_eq!(a, b, "{name} changed while frozen");
        } else {
            head_changed |= a != b;
        }
    }
    assert!(head_changed, "the head should train");
    assert!(dir.path().join(files::LOG).is_file());
    assert!(dir.path().join(files::PLOT).is_file());
}

#[test]
fn best_checkpoint_is_kept_and_early_stopping_stops() {
    let (examples, task, pad) = common::examples(64);
    let device = Device::flex();
    // A learning rate far too high makes the validation loss worsen after the first
    // evaluations: the kept model must be the best one, not the last.
    let config = TrainConfig {
        epochs: 20,
        batch_size: 16,
        learning_rate: 5e-2,
        warmup_ratio: 0.0,
        eval_every: Some(1),
        metric: "loss".into(),
        early_stopping_patience: Some(3),
        max_grad_norm: None,
        ..TrainConfig::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let data = ExampleBatches::new(&examples, 16, true, 3, pad).unwrap();
    let eval_examples = examples.clone();
    let mut eval = |m: &burnish_heads::BertForSequenceClassification| {
        evaluate(m, &eval_examples, &task, 32, pad, &Device::flex()).map(|e| e.metrics)
    };
    let trainer = Trainer::new(config, dir.path(), &device)
        .unwrap()
        .with_progress(false);
    let result = trainer
        .fit(common::tiny_classifier(&device), &data, &mut eval)
        .unwrap();
    assert_eq!(result.outcome, Outcome::EarlyStopped);
    assert!(result.state.global_step < 20 * 4, "stopped early");
    let losses: Vec<f64> = result
        .state
        .evals
        .iter()
        .map(|e| e.metrics["loss"])
        .collect();
    let best = losses.iter().copied().fold(f64::INFINITY, f64::min);
    assert_eq!(result.state.best_metric, Some(best));
    // The last 3 evaluations did not improve on the best.
    assert!(losses[losses.len() - 3..].iter().all(|&l| l >= best));
    // The returned model is the best one: re-evaluating it gives the best loss.
    let again = evaluate(&result.model, &examples, &task, 32, pad, &Device::flex()).unwrap();
    assert!(
        (again.metrics["loss"] - best).abs() < 1e-5,
        "{} vs {best}",
        again.metrics["loss"]
    );
}

#[test]
fn gradient_accumulation_equals_the_larger_batch() {
    let (examples, task, pad) = common::examples(64);
    let device = Device::flex();
    // Without dropout the two runs see exactly the same computation: one batch of 16, or two
    // accumulated batches of 8 (unbucketed, the seeded order is the same permutation).
    let no_dropout = |m: burnish_heads::BertForSequenceClassification| {
        let mut config =
            burnish_encoder::BertConfig::from_file(common::tiny_model_dir().join("config.json"))
                .unwrap();
        config.hidden_dropout_prob = 0.0;
        config.attention_probs_dropout_prob = 0.0;
        let mut fresh = burnish_heads::BertForSequenceClassification::new(
            &config,
            2,
            burnish_heads::ProblemType::SingleLabel,
            &device,
        );
        let dir = tempfile::tempdir().unwrap();
        burnish_encoder::weights::save_safetensors(&m, &dir.path().join("w.safetensors")).unwrap();
        burnish_train::trainer::load_weights(&mut fresh, &dir.path().join("w.safetensors"))
            .unwrap();
        fresh
    };
    let eval_examples = examples[..16].to_vec();
    let mut eval = |m: &burnish_heads::BertForSequenceClassification| {
        evaluate(m, &eval_examples, &task, 16, pad, &Device::flex()).map(|e| e.metrics)
    };
    // One starting model for both runs (tests in parallel threads share the backend RNG).
    let start = no_dropout(common::tiny_classifier(&device));
    let mut run = |batch: usize, accum: usize| {
        let config = TrainConfig {
            epochs: 1,
            batch_size: batch,
            grad_accum_steps: accum,
            learning_rate: 1e-3,
            bucketing: false,
            ..TrainConfig::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let data = ExampleBatches::new(&examples, batch, false, 5, pad).unwrap();
        let trainer = Trainer::new(config, dir.path(), &device)
            .unwrap()
            .with_progress(false);
        let result = trainer.fit(start.clone(), &data, &mut eval).unwrap();
        assert_eq!(result.state.global_step, 4);
        common::params(&result.model)
    };
    let initial = common::params(&start);
    let big = run(16, 1);
    let accumulated = run(8, 2);
    let (mut worst, mut moved) = (0.0f32, 0.0f32);
    for (((_, a), (_, b)), (_, s)) in big.iter().zip(&accumulated).zip(&initial) {
        for ((x, y), z) in a.iter().zip(b).zip(s) {
            worst = worst.max((x - y).abs());
            moved = moved.max((x - z).abs());
        }
    }
    // Four AdamW steps at lr 1e-3 move parameters by up to ~4e-3; summation order differs
    // between the two runs, and Adam divides by sqrt(v), so float noise on near-zero gradients
    // shows up as a few 1e-5. A wrong accumulation (a dropped or doubled micro-batch,
    // an optimizer step per micro-batch) moves parameters by a sizeable fraction of the update.
    assert!(moved > 1e-3, "training moved parameters by only {moved}");
    assert!(
        worst < 0.02 * moved,
        "accumulated run differs by {worst} (parameters moved by {moved})"
    );
}
