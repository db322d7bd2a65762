//! An interrupted run resumed from its checkpoint ends with the same weights as the same run
//! uninterrupted (dropout on: the backend RNG is re-seeded per batch, the data order is a
//! function of (seed, epoch)). Alone in its test binary so nothing else seeds the RNG meanwhile.

mod common;

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use burn::tensor::Device;
use burnish_data::Batch;
use burnish_train::tasks::classification::{ExampleBatches, evaluate};
use burnish_train::trainer::files;
use burnish_train::{BatchSource, Outcome, TrainConfig, Trainer};

/// Raises the stop flag when the `n`-th batch is collated.
struct StopAfter<'a> {
    inner: ExampleBatches<'a>,
    remaining: Cell<usize>,
    stop: Arc<AtomicBool>,
}

impl BatchSource for StopAfter<'_> {
    type Batch = Batch;
    fn plan(&self, epoch: u64) -> Vec<Vec<usize>> {
        self.inner.plan(epoch)
    }
    fn collate(&self, indices: &[usize]) -> Batch {
        let left = self.remaining.get();
        if left == 1 {
            self.stop.store(true, Ordering::SeqCst);
        }
        self.remaining.set(left.saturating_sub(1));
        self.inner.collate(indices)
    }
    fn real_tokens(&self, batch: &Batch) -> usize {
        self.inner.real_tokens(batch)
    }
}

#[test]
fn resumed_run_matches_uninterrupted_run() {
    let (examples, task, pad) = common::examples(96);
    let device = Device::flex();
    let config = TrainConfig {
        epochs: 2,
        batch_size: 8,
        learning_rate: 1e-3,
        checkpoint_every: Some(4),
        log_every: 2,
        ..TrainConfig::default()
    };
    let eval_examples = examples[..16].to_vec();
    let mut eval = |m: &burnish_heads::BertForSequenceClassification| {
        evaluate(m, &eval_examples, &task, 16, pad, &Device::flex()).map(|e| e.metrics)
    };

    let full_dir = tempfile::tempdir().unwrap();
    let data = ExampleBatches::new(&examples, 8, true, 42, pad).unwrap();
    let trainer = Trainer::new(config.clone(), full_dir.path(), &device)
        .unwrap()
        .with_progress(false);
    let full = trainer
        .fit(common::tiny_classifier(&device), &data, &mut eval)
        .unwrap();
    assert_eq!(full.outcome, Outcome::Finished);
    assert_eq!(full.state.global_step, 24);

    // Interrupt in the middle of the first epoch (after the 7th batch), then resume twice-over:
    // a fresh Trainer on the same run directory.
    let run_dir = tempfile::tempdir().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let source = StopAfter {
        inner: ExampleBatches::new(&examples, 8, true, 42, pad).unwrap(),
        remaining: Cell::new(7),
        stop: stop.clone(),
    };
    let trainer = Trainer::new(config.clone(), run_dir.path(), &device)
        .unwrap()
        .with_progress(false)
        .with_stop_flag(stop);
    let first = trainer
        .fit(common::tiny_classifier(&device), &source, &mut eval)
        .unwrap();
    assert_eq!(first.outcome, Outcome::Interrupted);
    assert_eq!(first.state.global_step, 7);

    // Resume from a model with other (fresh) weights: the checkpoint must overwrite them.
    device.seed(999);
    let other_start = burnish_heads::BertForSequenceClassification::new(
        &burnish_encoder::BertConfig::from_file(common::tiny_model_dir().join("config.json"))
            .unwrap(),
        2,
        burnish_heads::ProblemType::SingleLabel,
        &device,
    );
    let trainer = Trainer::new(config, run_dir.path(), &device)
        .unwrap()
        .with_progress(false);
    let resumed = trainer.fit(other_start, &data, &mut eval).unwrap();
    assert_eq!(resumed.outcome, Outcome::Finished);
    assert_eq!(resumed.state.global_step, 24);
    assert_eq!(resumed.state.evals.len(), full.state.evals.len());

    let a = common::params(&full.model);
    let b = common::params(&resumed.model);
    assert_eq!(a.len(), b.len());
    let mut worst = 0.0f32;
    for ((na, va), (nb, vb)) in a.iter().zip(&b) {
        assert_eq!(na, nb);
        for (x, y) in va.iter().zip(vb) {
            worst = worst.max((x - y).abs());
        }
    }
    assert!(worst <= 1e-6, "resumed weights differ by {worst}");
    // And the last checkpoints agree too (not only the best models).
    let ckpt = |d: &std::path::Path| {
        std::fs::read(d.join(files::CHECKPOINT_DIR).join(files::MODEL)).unwrap()
    };
    assert_eq!(ckpt(full_dir.path()), ckpt(run_dir.path()));
}
