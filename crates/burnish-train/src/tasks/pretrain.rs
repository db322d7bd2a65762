//! Pre-training: masked LM, masked LM + next-sentence prediction, and causal LM on packed
//! sequences ([`PretrainSequence`]s from [`burnish_data::Packer`] or [`burnish_data::NspPairs`]).
//!
//! Masks are drawn at batch time from `(seed, epoch, sequence)` ([`MlmMasker`]), so every epoch
//! sees fresh masks and a resumed run sees the same ones. The trainer's batch plan only carries
//! indices, so a plan entry is `epoch * N + sequence`: the epoch travels with the index.
//!
//! The MLM decoder runs on the masked positions only (gathered before the vocabulary
//! projection); causal LM predicts every next token.

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Int, Tensor, TensorData};
use burnish_data::{
    MlmMasker, Permutation, PretrainBatch, PretrainSequence, Rng, SequenceStore, collate_clm,
    collate_mlm,
};
use burnish_encoder::model::BertInput;
use burnish_heads::{
    BertForMaskedLM, BertForPreTraining, BertLMHeadModel, Gpt2LMHeadModel, MaskedTargets,
};

use crate::checkpointing::{CheckpointedStep, checkpointed_grads};
use crate::tasks::batches::{ModelInput, labelled};
use crate::trainer::{BatchSource, FineTune, Metrics};

/// What the model learns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Objective {
    /// Masked language modelling.
    Mlm,
    /// Masked language modelling and next-sentence prediction (BERT's original recipe).
    MlmNsp,
    /// Causal (next-token) language modelling.
    Clm,
}

impl Objective {
    /// The CLI name: `mlm`, `mlm+nsp`, `clm`.
    pub fn name(self) -> &'static str {
        match self {
            Objective::Mlm => "mlm",
            Objective::MlmNsp => "mlm+nsp",
            Objective::Clm => "clm",
        }
    }

    /// Parses a CLI name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "mlm" => Some(Objective::Mlm),
            "mlm+nsp" | "mlm-nsp" | "nsp" => Some(Objective::MlmNsp),
            "clm" => Some(Objective::Clm),
            _ => None,
        }
    }
}

/// Batches of pre-training sequences, masked afresh each epoch.
///
/// The sequences come from a [`SequenceStore`]: a slice in memory, or a
/// [`PackedSequences`](burnish_data::PackedSequences) file read a batch at a time; the
/// epoch's order is a permutation computed batch by batch, so the memory a run needs does not
/// grow with its corpus.
#[derive(Debug)]
pub struct PretrainBatches<'a, S: SequenceStore + ?Sized> {
    sequences: &'a S,
    masker: Option<&'a MlmMasker>,
    batch_size: usize,
    seed: u64,
    pad_id: u32,
}

impl<'a, S: SequenceStore + ?Sized> PretrainBatches<'a, S> {
    /// Shuffled batches of `batch_size` sequences; `masker` for the MLM objectives, `None` for
    /// causal LM.
    ///
    /// # Errors
    /// A zero batch size.
    pub fn new(
        sequences: &'a S,
        masker: Option<&'a MlmMasker>,
        batch_size: usize,
        seed: u64,
        pad_id: u32,
    ) -> Result<Self, burnish_data::DataError> {
        if batch_size == 0 {
            return Err(burnish_data::DataError::InvalidOptions {
                reason: "the batch size is 0".into(),
            });
        }
        Ok(Self {
            sequences,
            masker,
            batch_size,
            seed,
            pad_id,
        })
    }
}

/// Masks (for MLM) and pads `sequences` as seen in `epoch`.
pub fn collate_epoch(
    sequences: &[PretrainSequence],
    masker: Option<&MlmMasker>,
    epoch: u64,
    pad_id: u32,
) -> PretrainBatch {
    match masker {
        Some(masker) => {
            let masked: Vec<_> = sequences.iter().map(|s| masker.mask(s, epoch)).collect();
            collate_mlm(&masked, pad_id)
        }
        None => collate_clm(sequences, pad_id),
    }
}

impl<S: SequenceStore + ?Sized> BatchSource for PretrainBatches<'_, S> {
    type Batch = PretrainBatch;

    fn plan(&self, epoch: u64) -> Vec<Vec<usize>> {
        self.batches_from(epoch, 0).collect()
    }

    fn num_batches(&self, _epoch: u64) -> usize {
        self.sequences.num_sequences().div_ceil(self.batch_size)
    }

    /// Batch `b` of epoch `e` holds the sequences at positions `b * batch_size ..` of a
    /// seeded permutation ([`Permutation`]) of the sequences, computed as it is asked for:
    /// nothing is held per sequence, whatever the size of the corpus.
    fn batches_from(&self, epoch: u64, start: usize) -> Box<dyn Iterator<Item = Vec<usize>> + '_> {
        let n = self.sequences.num_sequences();
        let offset = epoch as usize * n;
        let order = Permutation::new(n as u64, Rng::derive(self.seed, epoch).next_u64());
        let size = self.batch_size;
        Box::new((start..self.num_batches(epoch)).map(move |b| {
            (b * size..((b + 1) * size).min(n))
                .map(|p| offset + order.get(p as u64) as usize)
                .collect()
        }))
    }

    fn collate(&self, indices: &[usize]) -> PretrainBatch {
        self.try_collate(indices)
            .unwrap_or_else(|error| panic!("cannot read a pre-training batch: {error}"))
    }

    fn try_collate(&self, indices: &[usize]) -> Result<PretrainBatch, String> {
        let n = self.sequences.num_sequences().max(1);
        let epoch = indices.first().map_or(0, |&i| i / n) as u64;
        let positions: Vec<usize> = indices.iter().map(|&i| i % n).collect();
        let sequences = self
            .sequences
            .fetch(&positions)
            .map_err(|error| error.to_string())?;
        Ok(collate_epoch(&sequences, self.masker, epoch, self.pad_id))
    }

    fn real_tokens(&self, batch: &PretrainBatch) -> usize {
        batch.real_tokens
    }
}

fn int_rows(rows: &[Vec<i64>], device: &Device) -> Tensor<2, Int> {
    let cols = rows.first().map_or(0, Vec::len);
    let flat: Vec<i64> = rows.iter().flatten().copied().collect();
    Tensor::from_data(TensorData::new(flat, [rows.len(), cols]), device)
}

fn int_vec(values: &[u32], device: &Device) -> Tensor<1, Int> {
    let data: Vec<i64> = values.iter().map(|&v| i64::from(v)).collect();
    Tensor::from_data(TensorData::new(data, [values.len()]), device)
}

/// The masked positions of a batch.
///
/// # Panics
/// If nothing is masked (the collator masks at least one token of every sequence with text).
fn masked_targets(batch: &PretrainBatch, device: &Device) -> MaskedTargets {
    MaskedTargets::from_label_rows(&batch.labels, device)
        .expect("an MLM batch masks at least one token")
}

/// The next-token predictions a causal-LM loss averages: every labelled token but each row's
/// first (the model shifts the labels by one).
fn shifted_terms(batch: &PretrainBatch) -> usize {
    labelled(&batch.labels, 1)
}

impl FineTune<PretrainBatch> for BertForMaskedLM {
    fn loss(&self, batch: &PretrainBatch, device: &Device) -> Tensor<1> {
        let targets = masked_targets(batch, device);
        let logits = self.forward_masked(batch.input(device), targets.positions);
        BertForMaskedLM::loss(self, logits, targets.labels)
    }

    fn checkpointed_grads(
        &self,
        batch: &PretrainBatch,
        step: CheckpointedStep<'_>,
    ) -> Option<(f64, Option<GradientsParams>)> {
        let device = step.device;
        let targets = masked_targets(batch, device);
        Some(checkpointed_grads(
            self,
            step,
            batch.input(device),
            |m, hidden| {
                let logits = m.forward_masked_hidden(hidden, targets.positions);
                Self::loss(m, logits, targets.labels)
            },
        ))
    }

    /// The masked tokens.
    fn loss_terms(&self, batch: &PretrainBatch) -> Option<usize> {
        Some(labelled(&batch.labels, 0))
    }
}

impl FineTune<PretrainBatch> for BertForPreTraining {
    fn loss(&self, batch: &PretrainBatch, device: &Device) -> Tensor<1> {
        let targets = masked_targets(batch, device);
        let (mlm, nsp) = self.forward_masked(batch.input(device), targets.positions);
        let nsp_labels = batch
            .next_sentence_labels
            .as_deref()
            .expect("an MLM+NSP batch has next-sentence labels");
        BertForPreTraining::loss(self, mlm, targets.labels, nsp, int_vec(nsp_labels, device))
    }
}

impl FineTune<PretrainBatch> for BertLMHeadModel {
    fn loss(&self, batch: &PretrainBatch, device: &Device) -> Tensor<1> {
        let logits = self.forward(batch.input(device));
        BertLMHeadModel::loss(self, logits, int_rows(&batch.labels, device))
    }

    fn loss_terms(&self, batch: &PretrainBatch) -> Option<usize> {
        Some(shifted_terms(batch))
    }
}

impl FineTune<PretrainBatch> for Gpt2LMHeadModel {
    fn loss(&self, batch: &PretrainBatch, device: &Device) -> Tensor<1> {
        let logits = self.forward(batch.input(device));
        Gpt2LMHeadModel::loss(self, logits, int_rows(&batch.labels, device))
    }

    fn loss_terms(&self, batch: &PretrainBatch) -> Option<usize> {
        Some(shifted_terms(batch))
    }
}

/// Counts accumulated over evaluation batches.
#[derive(Debug, Default)]
pub struct Tally {
    loss_sum: f64,
    predicted: usize,
    correct: usize,
    nsp_correct: usize,
    nsp_total: usize,
}

impl Tally {
    /// `loss` (mean cross-entropy per predicted token), `perplexity`, `accuracy` (of the
    /// predicted tokens) and, with pairs, `nsp_accuracy`.
    pub fn metrics(&self) -> Metrics {
        let mut m = Metrics::new();
        let n = self.predicted.max(1) as f64;
        m.insert("loss".into(), self.loss_sum / n);
        m.insert("perplexity".into(), (self.loss_sum / n).exp());
        m.insert("accuracy".into(), self.correct as f64 / n);
        if self.nsp_total > 0 {
            m.insert(
                "nsp_accuracy".into(),
                self.nsp_correct as f64 / self.nsp_total as f64,
            );
        }
        m
    }
}

/// Sum of cross-entropies and number of correct argmax predictions of `[M, V]` logits.
fn score_rows(logits: Tensor<2>, labels: Tensor<1, Int>) -> (f64, usize) {
    let [m, _] = logits.dims();
    let log_probs = burn::tensor::activation::log_softmax(logits.clone(), 1);
    let picked = log_probs.gather(1, labels.clone().reshape([m, 1]));
    let loss = -picked.sum().into_scalar::<f64>();
    let predicted = logits.argmax(1).reshape([m]);
    let correct = predicted.equal(labels).int().sum().into_scalar::<i64>();
    (loss, correct as usize)
}

/// Evaluates a pre-training model on held-out sequences, masked as in epoch 0 (the same masks
/// at every evaluation): mean loss per predicted token, perplexity, token accuracy and (for
/// MLM+NSP) next-sentence accuracy. The sequences are read `batch_size` at a time.
pub fn evaluate<M: PretrainModel, S: SequenceStore + ?Sized>(
    model: &M,
    sequences: &S,
    masker: Option<&MlmMasker>,
    batch_size: usize,
    pad_id: u32,
    device: &Device,
) -> Result<Metrics, String> {
    let n = sequences.num_sequences();
    if n == 0 {
        return Err("no held-out sequences".into());
    }
    let model = model.valid_model();
    let mut tally = Tally::default();
    let batch_size = batch_size.max(1);
    for start in (0..n).step_by(batch_size) {
        let chunk = sequences
            .fetch_range(start, start + batch_size)
            .map_err(|error| error.to_string())?;
        let batch = collate_epoch(&chunk, masker, 0, pad_id);
        model.score(&batch, device, &mut tally);
    }
    Ok(tally.metrics())
}

/// A model [`evaluate`] can score.
pub trait PretrainModel: Module + Clone {
    /// The model without dropout or autodiff.
    fn valid_model(&self) -> Self {
        self.valid()
    }

    /// Adds a batch's loss sum and correct predictions to the tally.
    fn score(&self, batch: &PretrainBatch, device: &Device, tally: &mut Tally);
}

impl PretrainModel for BertForMaskedLM {
    fn score(&self, batch: &PretrainBatch, device: &Device, tally: &mut Tally) {
        let Some(targets) = MaskedTargets::from_label_rows(&batch.labels, device) else {
            return;
        };
        let m = targets.labels.dims()[0];
        let logits = self.forward_masked(batch.input(device), targets.positions);
        let (loss, correct) = score_rows(logits, targets.labels);
        tally.loss_sum += loss;
        tally.predicted += m;
        tally.correct += correct;
    }
}

impl PretrainModel for BertForPreTraining {
    fn score(&self, batch: &PretrainBatch, device: &Device, tally: &mut Tally) {
        let Some(targets) = MaskedTargets::from_label_rows(&batch.labels, device) else {
            return;
        };
        let m = targets.labels.dims()[0];
        let (mlm, nsp) = self.forward_masked(batch.input(device), targets.positions);
        let (loss, correct) = score_rows(mlm, targets.labels);
        tally.loss_sum += loss;
        tally.predicted += m;
        tally.correct += correct;
        if let Some(labels) = &batch.next_sentence_labels {
            let b = labels.len();
            let predicted = nsp.argmax(1).reshape([b]);
            let hits = predicted
                .equal(int_vec(labels, device))
                .int()
                .sum()
                .into_scalar::<i64>();
            tally.nsp_correct += hits as usize;
            tally.nsp_total += b;
        }
    }
}

impl PretrainModel for BertLMHeadModel {
    fn score(&self, batch: &PretrainBatch, device: &Device, tally: &mut Tally) {
        score_next_tokens(|input| self.forward(input), batch, device, tally);
    }
}

impl PretrainModel for Gpt2LMHeadModel {
    fn score(&self, batch: &PretrainBatch, device: &Device, tally: &mut Tally) {
        score_next_tokens(|input| self.forward(input), batch, device, tally);
    }
}

/// Scores a causal LM: every position with a real next token predicts it. `forward` gives
/// the `[B, S, V]` logits of a batch.
fn score_next_tokens(
    forward: impl FnOnce(BertInput) -> Tensor<3>,
    batch: &PretrainBatch,
    device: &Device,
    tally: &mut Tally,
) {
    let mut positions = Vec::new();
    let mut labels = Vec::new();
    let seq_len = batch.input_ids.first().map_or(0, Vec::len);
    for (row, (ids, mask)) in batch.labels.iter().zip(&batch.attention_mask).enumerate() {
        for t in 0..seq_len.saturating_sub(1) {
            if mask[t + 1] == 1 && ids[t + 1] >= 0 {
                positions.push((row * seq_len + t) as i64);
                labels.push(ids[t + 1]);
            }
        }
    }
    if positions.is_empty() {
        return;
    }
    let m = positions.len();
    let logits = forward(batch.input(device));
    let [b, s, v] = logits.dims();
    let rows = logits.reshape([b * s, v]).select(
        0,
        Tensor::<1, Int>::from_data(TensorData::new(positions, [m]), device),
    );
    let labels = Tensor::<1, Int>::from_data(TensorData::new(labels, [m]), device);
    let (loss, correct) = score_rows(rows, labels);
    tally.loss_sum += loss;
    tally.predicted += m;
    tally.correct += correct;
}
