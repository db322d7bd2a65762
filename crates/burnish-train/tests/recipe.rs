//! The two-stage recipe freezes what it says, the best checkpoint is the one kept, early
//! stopping stops, and the run directory holds the log and the plot.

mod common;

use burn::tensor::Device;
use burnish_train::tasks::classification::{ExampleBatches, evaluate};
use burnish_train::trainer::files;
use burnish_train::{Outcome, TrainConfig, Trainer};

#[test]
fn frozen_encoder_does_not_change_while_the_head_trains() {
    let Some((examples, task, pad)) = common::examples(64) else {
        return;
    };
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
    let Some((examples, task, pad)) = common::examples(64) else {
        return;
    };
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
