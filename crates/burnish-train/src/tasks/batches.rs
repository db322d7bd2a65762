//! Training batches over tokenized features, one source for every fine-tuning task: seeded,
//! length-bucketed ([`BatchPlan`]), padded per batch. A task says how its features collate
//! ([`Collate`]); [`Batches`] does the rest.

use burnish_data::{BatchPlan, BucketOptions, DataError};

use crate::trainer::BatchSource;

/// A tokenized feature (a classification example, a tagged window, a question window) and how
/// a list of them pads into one batch.
pub trait Collate: Sized {
    /// The padded batch.
    type Batch;
    /// The feature's length in tokens, special tokens included (what bucketing sorts by).
    fn tokens(&self) -> usize;
    /// Pads `features` into one batch with `pad_id`.
    fn collate(features: &[&Self], pad_id: u32) -> Self::Batch;
    /// Real (non-padding) tokens in a batch.
    fn real_tokens(batch: &Self::Batch) -> usize;
}

/// Training batches over `features`: seeded, length-bucketed, dynamically padded.
#[derive(Debug)]
pub struct Batches<'a, F> {
    features: &'a [F],
    plan: BatchPlan,
    seed: u64,
    pad_id: u32,
}

impl<'a, F: Collate> Batches<'a, F> {
    /// Batches of `batch_size` features; with `bucketing`, features of similar length share a
    /// batch (sorted inside shuffled pools). `seed` orders each epoch.
    ///
    /// # Errors
    /// A zero batch size.
    pub fn new(
        features: &'a [F],
        batch_size: usize,
        bucketing: bool,
        seed: u64,
        pad_id: u32,
    ) -> Result<Self, DataError> {
        let lengths = features.iter().map(F::tokens).collect();
        let plan = BatchPlan::new(
            lengths,
            batch_size,
            BucketOptions {
                bucketing,
                ..BucketOptions::default()
            },
        )?;
        Ok(Self {
            features,
            plan,
            seed,
            pad_id,
        })
    }
}

impl<F: Collate> BatchSource for Batches<'_, F> {
    type Batch = F::Batch;

    fn plan(&self, epoch: u64) -> Vec<Vec<usize>> {
        self.plan.epoch(epoch, self.seed)
    }

    fn collate(&self, indices: &[usize]) -> F::Batch {
        let refs: Vec<&F> = indices.iter().map(|&i| &self.features[i]).collect();
        F::collate(&refs, self.pad_id)
    }

    fn real_tokens(&self, batch: &F::Batch) -> usize {
        F::real_tokens(batch)
    }
}
