//! Training batches over tokenized features, one source for every fine-tuning task: seeded,
//! length-bucketed ([`BatchPlan`]), padded per batch. A task says how its features collate
//! ([`Collate`]); [`Batches`] does the rest.

use burn::tensor::Device;
use burnish_data::{BatchPlan, BucketOptions, DataError, IGNORE_INDEX, PaddedBatch};
use burnish_encoder::model::BertInput;

use crate::config::TrainConfig;
use crate::trainer::BatchSource;

/// A padded batch as the model's input.
pub trait ModelInput: PaddedBatch {
    /// The model inputs, `[B, S]` tensors on `device`.
    fn input(&self, device: &Device) -> BertInput {
        let [input_ids, token_type_ids, attention_mask] = self.rows();
        BertInput::from_rows(input_ids, token_type_ids, attention_mask, device)
    }
}

impl<T: PaddedBatch> ModelInput for T {}

/// A tokenized feature (a classification example, a tagged window, a question window) and how
/// a list of them pads into one batch.
pub trait Collate: Sized {
    /// The padded batch.
    type Batch: PaddedBatch;
    /// The feature's length in tokens, special tokens included (what bucketing sorts by).
    fn tokens(&self) -> usize;
    /// Pads `features` into one batch with `pad_id`.
    fn collate(features: &[&Self], pad_id: u32) -> Self::Batch;
}

/// The labelled tokens (not [`IGNORE_INDEX`]) of per-token label rows, each row's first `skip`
/// left out: what a per-token loss averages.
pub fn labelled(rows: &[Vec<i64>], skip: usize) -> usize {
    rows.iter()
        .map(|row| {
            row.iter()
                .skip(skip)
                .filter(|&&l| l != IGNORE_INDEX)
                .count()
        })
        .sum()
}

/// The inputs of windows padded to the longest of them: token ids (with the pad id), segment ids
/// (with 0) and attention masks, and how many real tokens they hold. A task's batch is these
/// and its own labels.
#[derive(Debug, Default)]
pub(crate) struct PaddedInputs {
    pub(crate) input_ids: Vec<Vec<u32>>,
    pub(crate) token_type_ids: Vec<Vec<u32>>,
    pub(crate) attention_mask: Vec<Vec<u32>>,
    pub(crate) real_tokens: usize,
    /// The longest window's length, which every row now has.
    pub(crate) seq_len: usize,
}

impl PaddedInputs {
    /// Pads `features`, whose token ids and segment ids `rows` gives.
    pub(crate) fn new<F>(
        features: &[&F],
        pad_id: u32,
        rows: impl Fn(&F) -> (&[u32], &[u32]),
    ) -> Self {
        let seq_len = features.iter().map(|&f| rows(f).0.len()).max().unwrap_or(0);
        let mut inputs = Self {
            seq_len,
            ..Self::default()
        };
        for &f in features {
            let (ids, type_ids) = rows(f);
            let mut padded_ids = ids.to_vec();
            padded_ids.resize(seq_len, pad_id);
            let mut padded_type_ids = type_ids.to_vec();
            padded_type_ids.resize(seq_len, 0);
            let mask = (0..seq_len).map(|t| u32::from(t < ids.len())).collect();
            inputs.input_ids.push(padded_ids);
            inputs.token_type_ids.push(padded_type_ids);
            inputs.attention_mask.push(mask);
            inputs.real_tokens += ids.len();
        }
        inputs
    }
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

    /// Batches of `features` as a run's configuration asks: its batch size, bucketing and seed.
    ///
    /// # Errors
    /// A zero batch size.
    pub fn for_config(
        features: &'a [F],
        config: &TrainConfig,
        pad_id: u32,
    ) -> Result<Self, DataError> {
        Self::new(
            features,
            config.batch_size,
            config.bucketing,
            config.seed,
            pad_id,
        )
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
        batch.real_tokens()
    }
}
