//! The numerical guard: a step whose loss is not finite is skipped (weights and optimizer
//! untouched) and logged; after `max_bad_steps` consecutive ones the run stops with
//! `TrainError::NonFinite`, leaving the last good checkpoint as it was. The NaN comes from a
//! regression target poisoned in chosen batches, so the test controls exactly which steps are
//! bad.

mod common;

use std::cell::Cell;
use std::collections::BTreeSet;

use burn::tensor::Device;
use burnish_data::{Batch, Example, Label, Task};
use burnish_heads::{BertForSequenceClassification, ProblemType};
use burnish_train::tasks::classification::{ExampleBatches, evaluate};
use burnish_train::trainer::files;
use burnish_train::{BatchSource, LogEvent, Outcome, TrainConfig, TrainError, Trainer};

/// Replaces the first target of the batches collated at the given calls (0-based) with NaN.
struct Poison<'a> {
    inner: ExampleBatches<'a>,
    calls: Cell<usize>,
    poisoned: BTreeSet<usize>,
}

impl BatchSource for Poison<'_> {
    type Batch = Batch;
    fn plan(&self, epoch: u64) -> Vec<Vec<usize>> {
        self.inner.plan(epoch)
    }
    fn collate(&self, indices: &[usize]) -> Batch {
        let call = self.calls.get();
        self.calls.set(call + 1);
        let mut batch = self.inner.collate(indices);
        if self.poisoned.contains(&call) {
            batch.labels[0] = Label::Value(f32::NAN);
        }
        batch
    }
    fn real_tokens(&self, batch: &Batch) -> usize {
        self.inner.real_tokens(batch)
    }
}

fn regression_examples(n: usize) -> (Vec<Example>, u32) {
    let (mut examples, _, pad) = common::examples(n);
    for e in &mut examples {
        if let Label::Class(c) = e.label {
            e.label = Label::Value(c as f32);
        }
    }
    (examples, pad)
}

fn regressor(device: &Device) -> BertForSequenceClassification {
    device.seed(7);
    BertForSequenceClassification::from_pretrained(
        common::tiny_model_dir(),
        Some(1),
        Some(ProblemType::Regression),
        device,
    )
    .unwrap()
    .0
}

/// `(step, batch, reason)` of every `Skipped` line of the run's log.
fn skipped_lines(dir: &std::path::Path) -> Vec<(usize, usize, String)> {
    let text = std::fs::read_to_string(dir.join(files::LOG)).unwrap();
    LogEvent::parse_all(&text)
        .unwrap()
        .into_iter()
        .filter_map(|event| match event {
            LogEvent::Skipped {
                step,
                batch,
                reason,
                ..
            } => Some((step, batch, reason)),
            _ => None,
        })
        .collect()
}

fn all_finite(model: &BertForSequenceClassification) -> bool {
    common::params(model)
        .iter()
        .all(|(_, v)| v.iter().all(|x| x.is_finite()))
}

#[test]
fn non_finite_steps_are_skipped_logged_and_stop_the_run_after_max_bad_steps() {
    let (examples, pad) = regression_examples(64);
    let device = Device::flex();
    let config = TrainConfig {
        epochs: 1,
        batch_size: 8,
        learning_rate: 1e-3,
        metric: "loss".into(),
        checkpoint_every: Some(2),
        max_bad_steps: 3,
        ..TrainConfig::default()
    };
    let eval_examples = examples[..16].to_vec();
    let mut eval = |m: &BertForSequenceClassification| {
        evaluate(
            m,
            &eval_examples,
            &Task::Regression,
            16,
            pad,
            &Device::flex(),
        )
        .map(|e| e.metrics)
    };

    // Two isolated bad batches (calls 2 and 5 of 8): both skipped, the run finishes.
    let dir = tempfile::tempdir().unwrap();
    let data = Poison {
        inner: ExampleBatches::new(&examples, 8, true, 42, pad).unwrap(),
        calls: Cell::new(0),
        poisoned: [2, 5].into(),
    };
    let trainer = Trainer::new(config.clone(), dir.path(), &device)
        .unwrap()
        .with_progress(false);
    let result = trainer.fit(regressor(&device), &data, &mut eval).unwrap();
    assert_eq!(result.outcome, Outcome::Finished);
    assert_eq!(result.state.skipped_steps, 2);
    assert_eq!(
        result.state.global_step,
        8 - 2,
        "skipped steps are not optimizer steps"
    );
    let skipped = skipped_lines(dir.path());
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    let (step, batch, reason) = &skipped[0];
    assert_eq!(*batch, 2);
    assert_eq!(*step, 2, "two good steps before it");
    assert!(reason.contains("NaN"), "{skipped:?}");
    assert!(all_finite(&result.model));

    // From the 5th batch on every batch is bad: steps 1-4 are good (checkpoints at 2 and 4),
    // then 3 bad steps in a row stop the run with the step-4 checkpoint intact.
    let dir = tempfile::tempdir().unwrap();
    let data = Poison {
        inner: ExampleBatches::new(&examples, 8, true, 42, pad).unwrap(),
        calls: Cell::new(0),
        poisoned: (4..100).collect(),
    };
    let trainer = Trainer::new(config.clone(), dir.path(), &device)
        .unwrap()
        .with_progress(false);
    let err = trainer
        .fit(regressor(&device), &data, &mut eval)
        .unwrap_err();
    let message = err.to_string();
    match &err {
        TrainError::NonFinite { steps, step, .. } => {
            assert_eq!((*steps, *step), (3, 4), "{message}");
        }
        other => panic!("expected NonFinite, got {other}"),
    }
    assert!(message.contains("lower learning rate"), "{message}");
    assert!(message.contains("checkpoint"), "{message}");
    assert!(!message.contains('\n'), "one line: {message}");
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join(files::CHECKPOINT_DIR).join(files::STATE))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(state["global_step"], 4);
    assert_eq!(state["done"], false);
    assert_eq!(skipped_lines(dir.path()).len(), 3);
    // The checkpoint's weights are finite and load.
    let mut model = regressor(&device);
    burnish_train::trainer::load_weights(
        &mut model,
        &dir.path().join(files::CHECKPOINT_DIR).join(files::MODEL),
    )
    .unwrap();
    assert!(all_finite(&model));

    // The stopped run resumes from that checkpoint with clean data and finishes.
    let clean = ExampleBatches::new(&examples, 8, true, 42, pad).unwrap();
    let trainer = Trainer::new(config, dir.path(), &device)
        .unwrap()
        .with_progress(false);
    let resumed = trainer.fit(regressor(&device), &clean, &mut eval).unwrap();
    assert_eq!(resumed.outcome, Outcome::Finished);
    assert_eq!(resumed.state.global_step, 8);
    assert!(all_finite(&resumed.model));
}
