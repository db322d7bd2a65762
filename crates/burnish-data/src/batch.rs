//! Batching: dynamic padding ([`collate`]), seeded and length-bucketed training batches
//! ([`BatchPlan`]) and length-sorted evaluation batches ([`eval_batches`]).
//!
//! Padding every batch to a fixed maximum length wastes most of the compute on short texts;
//! [`collate`] pads a batch only to its own longest example. Length bucketing goes further:
//! examples are shuffled, cut into pools of `batch_size * pool_factor`, each pool is sorted by
//! length and cut into batches, and the batch order is shuffled. Batches then hold examples of
//! similar length (little padding) while every epoch still sees a different, random order.
//!
//! An epoch's plan is a pure function of `(seed, epoch)` and the lengths, so a resumed run
//! rebuilds the same plan and skips the batches it has already done.

use crate::error::{DataError, Result};
use crate::examples::Example;
use crate::labels::Label;
use crate::rng::Rng;

/// A batch of examples padded to its longest, ready to become tensors.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// Token ids, one row per example, padded on the right with the pad id.
    pub input_ids: Vec<Vec<u32>>,
    /// Segment ids, padded with 0.
    pub token_type_ids: Vec<Vec<u32>>,
    /// 1 for real tokens, 0 for padding.
    pub attention_mask: Vec<Vec<u32>>,
    /// The examples' labels.
    pub labels: Vec<Label>,
    /// How many real (non-padding) tokens the batch holds.
    pub real_tokens: usize,
    /// How many token positions the batch holds after padding (rows x longest row), i.e. what
    /// the model computes on; `padded_tokens - real_tokens` are padding.
    pub padded_tokens: usize,
}

/// A batch of sequences padded to its longest: token ids, segment ids and attention masks, one
/// row each per sequence, and how many of their tokens are real. Every task's batch is one.
pub trait PaddedBatch {
    /// Token ids, segment ids and attention masks, `[B][S]` each.
    fn rows(&self) -> [&[Vec<u32>]; 3];

    /// Real (non-padding) tokens.
    fn real_tokens(&self) -> usize;

    /// Number of sequences.
    fn len(&self) -> usize {
        self.rows()[0].len()
    }

    /// Whether the batch has no sequences.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The padded sequence length (0 for an empty batch).
    fn seq_len(&self) -> usize {
        self.rows()[0].first().map_or(0, Vec::len)
    }

    /// How many padding tokens the batch holds.
    fn padding_tokens(&self) -> usize {
        (self.len() * self.seq_len()).saturating_sub(self.real_tokens())
    }
}

/// Implements [`PaddedBatch`] for structs with the fields `input_ids`, `token_type_ids`,
/// `attention_mask` (`Vec<Vec<u32>>`) and `real_tokens` (`usize`).
#[macro_export]
macro_rules! padded_batch {
    ($($batch:ty),+) => {$(
        impl $crate::PaddedBatch for $batch {
            fn rows(&self) -> [&[Vec<u32>]; 3] {
                [&self.input_ids, &self.token_type_ids, &self.attention_mask]
            }
            fn real_tokens(&self) -> usize {
                self.real_tokens
            }
        }
    )+};
}

padded_batch!(Batch);

/// Pads examples to the longest of them (dynamic padding) and gathers their labels.
pub fn collate(examples: &[&Example], pad_id: u32) -> Batch {
    let seq_len = examples.iter().map(|e| e.ids.len()).max().unwrap_or(0);
    let mut batch = Batch {
        input_ids: Vec::with_capacity(examples.len()),
        token_type_ids: Vec::with_capacity(examples.len()),
        attention_mask: Vec::with_capacity(examples.len()),
        labels: Vec::with_capacity(examples.len()),
        real_tokens: 0,
        padded_tokens: seq_len * examples.len(),
    };
    for example in examples {
        let len = example.ids.len();
        let pad = seq_len - len;
        let mut ids = Vec::with_capacity(seq_len);
        ids.extend_from_slice(&example.ids);
        ids.resize(seq_len, pad_id);
        let mut type_ids = Vec::with_capacity(seq_len);
        // A type id per token; an example built by hand may lack them.
        type_ids.extend(example.type_ids.iter().copied().take(len));
        type_ids.resize(seq_len, 0);
        let mut mask = vec![1; len];
        mask.resize(len + pad, 0);
        batch.input_ids.push(ids);
        batch.token_type_ids.push(type_ids);
        batch.attention_mask.push(mask);
        batch.labels.push(example.label.clone());
        batch.real_tokens += len;
    }
    batch
}

/// Length bucketing options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BucketOptions {
    /// Whether to group examples of similar length (else batches are plain shuffled slices).
    pub bucketing: bool,
    /// How many batches' worth of examples are sorted together: larger pools pad less but make
    /// batches less random.
    pub pool_factor: usize,
}

impl Default for BucketOptions {
    /// Bucketing on, pools of 50 batches.
    fn default() -> Self {
        Self {
            bucketing: true,
            pool_factor: 50,
        }
    }
}

/// The batches of every training epoch, as lists of example indices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchPlan {
    lengths: Vec<usize>,
    batch_size: usize,
    options: BucketOptions,
}

impl BatchPlan {
    /// A plan for examples of these lengths (in tokens), `batch_size` examples a batch (the
    /// last batch of an epoch may be smaller).
    ///
    /// # Errors
    /// [`DataError::InvalidOptions`] if `batch_size` is 0, or `pool_factor` is 0 with bucketing.
    pub fn new(lengths: Vec<usize>, batch_size: usize, options: BucketOptions) -> Result<Self> {
        if batch_size == 0 {
            return Err(DataError::options("the batch size is 0"));
        }
        if options.bucketing && options.pool_factor == 0 {
            return Err(DataError::options("the bucketing pool factor is 0"));
        }
        Ok(Self {
            lengths,
            batch_size,
            options,
        })
    }

    /// Number of examples.
    pub fn num_examples(&self) -> usize {
        self.lengths.len()
    }

    /// Examples per batch.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Number of batches in every epoch.
    pub fn num_batches(&self) -> usize {
        self.lengths.len().div_ceil(self.batch_size)
    }

    /// The batches of epoch `epoch`: every example index exactly once, in an order that
    /// depends only on `(seed, epoch)` and the lengths.
    pub fn epoch(&self, epoch: u64, seed: u64) -> Vec<Vec<usize>> {
        let mut rng = Rng::derive(seed, epoch);
        let mut order: Vec<usize> = (0..self.lengths.len()).collect();
        rng.shuffle(&mut order);
        if !self.options.bucketing {
            return order
                .chunks(self.batch_size)
                .map(<[usize]>::to_vec)
                .collect();
        }
        let pool_size = self.batch_size.saturating_mul(self.options.pool_factor);
        let mut batches = Vec::with_capacity(self.num_batches());
        for pool in order.chunks_mut(pool_size) {
            // Stable: examples of equal length stay in shuffled order.
            pool.sort_by_key(|&i| self.lengths[i]);
            batches.extend(pool.chunks(self.batch_size).map(<[usize]>::to_vec));
        }
        rng.shuffle(&mut batches);
        batches
    }

    /// The token positions these batches compute on once padded (each batch's size times its
    /// longest example), for comparing plans.
    pub fn padded_tokens(&self, batches: &[Vec<usize>]) -> usize {
        padded_tokens(&self.lengths, batches)
    }
}

/// The token positions `batches` compute on once padded.
fn padded_tokens(lengths: &[usize], batches: &[Vec<usize>]) -> usize {
    batches
        .iter()
        .map(|batch| batch.len() * batch.iter().map(|&i| lengths[i]).max().unwrap_or(0))
        .sum()
}

/// Evaluation batches: every index once, longest examples first (so batches pad little, and
/// the largest batch comes first), `batch_size` a batch.
///
/// The batches are lists of indices into `lengths`: write each prediction to its index, or use
/// [`restore_order`], to get the original order back.
///
/// # Errors
/// [`DataError::InvalidOptions`] if `batch_size` is 0.
pub fn eval_batches(lengths: &[usize], batch_size: usize) -> Result<Vec<Vec<usize>>> {
    if batch_size == 0 {
        return Err(DataError::options("the batch size is 0"));
    }
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    // Stable: equal lengths stay in file order.
    order.sort_by_key(|&i| std::cmp::Reverse(lengths[i]));
    Ok(order.chunks(batch_size).map(<[usize]>::to_vec).collect())
}

/// Puts outputs produced batch by batch (in the order of `batches`, flattened) back in the
/// original example order. `None` if the outputs do not match the batches one to one (a wrong
/// count, or an index twice).
pub fn restore_order<T>(
    batches: &[Vec<usize>],
    outputs: impl IntoIterator<Item = T>,
) -> Option<Vec<T>> {
    let n = batches.iter().map(Vec::len).sum();
    let mut slots: Vec<Option<T>> = std::iter::repeat_with(|| None).take(n).collect();
    let mut outputs = outputs.into_iter();
    for &index in batches.iter().flatten() {
        let slot = slots.get_mut(index)?;
        if slot.is_some() {
            return None;
        }
        *slot = Some(outputs.next()?);
    }
    if outputs.next().is_some() {
        return None;
    }
    slots.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(ids: &[u32], label: Label) -> Example {
        Example {
            ids: ids.to_vec(),
            type_ids: vec![0; ids.len()],
            label,
            line: 2,
        }
    }

    #[test]
    fn collate_pads_to_the_longest() {
        let a = example(&[101, 7, 8, 102], Label::Class(1));
        let b = Example {
            ids: vec![101, 5, 102, 6, 102],
            type_ids: vec![0, 0, 0, 1, 1],
            label: Label::Class(0),
            line: 3,
        };
        let c = example(&[101, 102], Label::Class(1));
        let batch = collate(&[&a, &b, &c], 0);
        assert_eq!(
            batch.input_ids,
            vec![
                vec![101, 7, 8, 102, 0],
                vec![101, 5, 102, 6, 102],
                vec![101, 102, 0, 0, 0],
            ]
        );
        assert_eq!(
            batch.token_type_ids,
            vec![vec![0; 5], vec![0, 0, 0, 1, 1], vec![0; 5]]
        );
        assert_eq!(
            batch.attention_mask,
            vec![vec![1, 1, 1, 1, 0], vec![1; 5], vec![1, 1, 0, 0, 0]]
        );
        assert_eq!(
            batch.labels,
            vec![Label::Class(1), Label::Class(0), Label::Class(1)]
        );
        assert_eq!(batch.real_tokens, 11);
        assert_eq!(batch.padded_tokens, 15);
        assert_eq!(batch.padding_tokens(), 4);
        assert_eq!((batch.len(), batch.seq_len()), (3, 5));
        // A batch of one is not padded; an empty batch is empty.
        let one = collate(&[&c], 0);
        assert_eq!(one.input_ids, vec![vec![101, 102]]);
        assert_eq!(one.padding_tokens(), 0);
        assert!(collate(&[], 0).is_empty());
    }

    /// Lengths with a wide spread, like real text.
    fn lengths(n: usize) -> Vec<usize> {
        let mut rng = Rng::new(5);
        (0..n).map(|_| 3 + rng.gen_index(120)).collect()
    }

    fn assert_permutation(batches: &[Vec<usize>], n: usize) {
        let mut all: Vec<usize> = batches.iter().flatten().copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..n).collect::<Vec<_>>());
    }

    #[test]
    fn every_index_once_per_epoch_with_and_without_bucketing() {
        for bucketing in [true, false] {
            let options = BucketOptions {
                bucketing,
                pool_factor: 4,
            };
            let plan = BatchPlan::new(lengths(1003), 16, options).unwrap();
            assert_eq!(plan.num_batches(), 63);
            for epoch in 0..3 {
                let batches = plan.epoch(epoch, 42);
                assert_eq!(batches.len(), 63);
                assert_permutation(&batches, 1003);
                // Only one batch is short.
                assert_eq!(batches.iter().filter(|b| b.len() < 16).count(), 1);
            }
        }
    }

    #[test]
    fn plans_depend_on_seed_and_epoch_only() {
        let plan = BatchPlan::new(lengths(500), 8, BucketOptions::default()).unwrap();
        let same = BatchPlan::new(lengths(500), 8, BucketOptions::default()).unwrap();
        assert_eq!(plan.epoch(3, 7), plan.epoch(3, 7));
        assert_eq!(plan.epoch(3, 7), same.epoch(3, 7));
        assert_ne!(plan.epoch(3, 7), plan.epoch(4, 7));
        assert_ne!(plan.epoch(3, 7), plan.epoch(3, 8));
    }

    #[test]
    fn bucketed_batches_have_similar_lengths() {
        let lengths = lengths(4000);
        let bucketed = BatchPlan::new(lengths.clone(), 32, BucketOptions::default()).unwrap();
        let plain = BatchPlan::new(
            lengths.clone(),
            32,
            BucketOptions {
                bucketing: false,
                ..BucketOptions::default()
            },
        )
        .unwrap();
        let real: usize = lengths.iter().sum();
        let with = bucketed.padded_tokens(&bucketed.epoch(0, 1));
        let without = plain.padded_tokens(&plain.epoch(0, 1));
        assert!(with >= real && without >= real);
        // Padding (positions beyond the real tokens) drops by far more than half.
        assert!(
            (with - real) * 5 < without - real,
            "{with} vs {without} ({real} real)"
        );
        // Within a batch, lengths are close.
        for batch in bucketed.epoch(0, 1) {
            let min = batch.iter().map(|&i| lengths[i]).min().unwrap();
            let max = batch.iter().map(|&i| lengths[i]).max().unwrap();
            assert!(max - min <= 10, "{min}..{max}");
        }
    }

    #[test]
    fn bad_options_are_errors() {
        assert!(BatchPlan::new(vec![1, 2], 0, BucketOptions::default()).is_err());
        let no_pool = BucketOptions {
            bucketing: true,
            pool_factor: 0,
        };
        assert!(BatchPlan::new(vec![1, 2], 2, no_pool).is_err());
        assert!(eval_batches(&[1, 2], 0).is_err());
        // An empty plan has no batches.
        let empty = BatchPlan::new(Vec::new(), 4, BucketOptions::default()).unwrap();
        assert!(empty.epoch(0, 0).is_empty());
    }

    #[test]
    fn eval_batches_sort_by_length_and_restore_order() {
        let lengths = [5, 9, 2, 9, 7, 1, 3];
        let batches = eval_batches(&lengths, 3).unwrap();
        assert_eq!(batches, vec![vec![1, 3, 4], vec![0, 6, 2], vec![5]]);
        // Outputs in batch order (here: the length of each example) come back in input order.
        let outputs: Vec<usize> = batches.iter().flatten().map(|&i| lengths[i]).collect();
        assert_eq!(restore_order(&batches, outputs).unwrap(), lengths.to_vec());
        assert!(restore_order(&batches, [1, 2, 3]).is_none());
        assert!(restore_order(&batches, 0..8).is_none());
        assert!(restore_order(&[vec![0, 0]], [1, 2]).is_none());
    }
}
