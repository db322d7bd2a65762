//! Throughput measurements shared by `cargo bench` and `burnish bench`: the encoder forward of a
//! sequence classifier (inference) and one full fine-tuning step (forward, backward, global-norm
//! clipping, AdamW), on synthetic full-length batches of model-sized shapes.
//!
//! A step here is exactly the step [`crate::Trainer`] takes (same loss, same clipping, same
//! optimizer), without data loading, logging or evaluation; `scripts/bench_torch.py` times the
//! same step in PyTorch + `transformers` so the two can be compared shape for shape.

use std::time::Instant;

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::Device;
use burnish_data::{Batch, Label};
use burnish_encoder::BertConfig;
use burnish_encoder::model::BertInput;
use burnish_heads::{BertForMaskedLM, BertForSequenceClassification, MaskedTargets, ProblemType};

use crate::config::TrainConfig;
use crate::optim::{AdamW, AdamWConfig, clip_scale, global_grad_norm};
use crate::tasks::batches::ModelInput;
use crate::trainer::{fork_for_training, replica_grads};

/// A model size to measure, by the shape of a well-known checkpoint (weights are random: speed
/// does not depend on their values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelShape {
    /// all-MiniLM-L6-v2: 6 layers, hidden 384, 12 heads, intermediate 1536.
    MiniLm,
    /// bert-base-uncased: 12 layers, hidden 768, 12 heads, intermediate 3072.
    BertBase,
}

impl ModelShape {
    /// Every shape, smallest first.
    pub const ALL: [ModelShape; 2] = [ModelShape::MiniLm, ModelShape::BertBase];

    /// The name used on command lines and in tables (`minilm`, `bert-base`).
    pub fn name(self) -> &'static str {
        match self {
            ModelShape::MiniLm => "minilm",
            ModelShape::BertBase => "bert-base",
        }
    }

    /// The shape named `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The configuration (vocabulary 30,522, 512 positions, GELU, dropout 0.1).
    pub fn config(self) -> BertConfig {
        let base = BertConfig::default();
        match self {
            ModelShape::BertBase => base,
            ModelShape::MiniLm => BertConfig {
                hidden_size: 384,
                num_hidden_layers: 6,
                num_attention_heads: 12,
                intermediate_size: 1536,
                ..base
            },
        }
    }

    /// Model FLOPs per token of one step at sequence length `seq`, for MFU: `2 N + 4 L S H`
    /// for a forward pass (`N` the parameters outside the embedding tables, the second term
    /// the attention scores and their weighted sum), three times that for a training step
    /// (forward and backward; a recomputed forward under gradient checkpointing is not
    /// counted, as MFU is defined). The encoder and a 2-class head; the MLM decoder is left
    /// out.
    pub fn flops_per_token(self, seq: usize, training: bool) -> f64 {
        let c = self.config();
        let embeddings =
            (c.vocab_size + c.max_position_embeddings + c.type_vocab_size) * c.hidden_size;
        let dense = (self.parameters() - embeddings) as f64;
        let attention = (4 * c.num_hidden_layers * seq * c.hidden_size) as f64;
        let forward = 2.0 * dense + attention;
        if training { 3.0 * forward } else { forward }
    }

    /// Number of parameters of the encoder plus a 2-class head (for FLOP estimates).
    pub fn parameters(self) -> usize {
        let c = self.config();
        let (h, i, l) = (c.hidden_size, c.intermediate_size, c.num_hidden_layers);
        let embeddings = (c.vocab_size + c.max_position_embeddings + c.type_vocab_size) * h + 2 * h;
        let layer = 4 * (h * h + h) + 2 * h * i + i + h + 4 * h;
        embeddings + l * layer + (h * h + h) + (2 * h + 2)
    }
}

/// A synthetic batch of `batch` rows of `seq` real tokens: `[CLS]`, random word pieces,
/// `[SEP]`, no padding, one class label (0 or 1) per row. Seeded, so both sides of a
/// comparison can build the same one.
pub fn synthetic_batch(batch: usize, seq: usize, vocab_size: usize, seed: u64) -> Batch {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        // xorshift64*: enough for token ids.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let low = 1000.min(vocab_size.saturating_sub(1)) as u64;
    let span = (vocab_size as u64).saturating_sub(low).max(1);
    let input_ids: Vec<Vec<u32>> = (0..batch)
        .map(|_| {
            (0..seq)
                .map(|p| match p {
                    0 => 101,
                    p if p + 1 == seq => 102,
                    _ => (low + next() % span) as u32,
                })
                .collect()
        })
        .collect();
    let labels = (0..batch)
        .map(|_| Label::Class((next() % 2) as u32))
        .collect();
    Batch {
        token_type_ids: vec![vec![0; seq]; batch],
        attention_mask: vec![vec![1; seq]; batch],
        input_ids,
        labels,
        real_tokens: batch * seq,
        padded_tokens: batch * seq,
    }
}

/// What one measured loop did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measurement {
    /// Steps timed (after warm-up).
    pub steps: usize,
    /// Mean wall seconds per step.
    pub seconds_per_step: f64,
    /// Tokens per second (batch x sequence per step).
    pub tokens_per_second: f64,
}

impl Measurement {
    fn new(steps: usize, seconds: f64, tokens_per_step: usize) -> Self {
        let per_step = seconds / steps.max(1) as f64;
        Self {
            steps,
            seconds_per_step: per_step,
            tokens_per_second: tokens_per_step as f64 / per_step.max(1e-12),
        }
    }
}

/// Runs `step` `warmup` times untimed, then `steps` times timed. `step` must block until its
/// result is on the host (read a value back), so asynchronous backends are timed fully.
pub fn measure(
    warmup: usize,
    steps: usize,
    tokens_per_step: usize,
    mut step: impl FnMut(),
) -> Measurement {
    for _ in 0..warmup {
        step();
    }
    let start = Instant::now();
    for _ in 0..steps {
        step();
    }
    Measurement::new(steps, start.elapsed().as_secs_f64(), tokens_per_step)
}

/// A two-class classifier of `shape` with random weights, in evaluation mode (no dropout, no
/// autodiff) on `device`, for inference timing.
pub fn inference_model(shape: ModelShape, device: &Device) -> BertForSequenceClassification {
    BertForSequenceClassification::new(&shape.config(), 2, ProblemType::SingleLabel, device).valid()
}

/// One inference forward: logits of `batch`, read back to the host.
///
/// Returns the first logit (so the compiler cannot drop the work).
pub fn inference_step(
    model: &BertForSequenceClassification,
    batch: &Batch,
    device: &Device,
) -> f32 {
    let logits = model.forward(batch.input(device));
    logits
        .slice([0..1, 0..1])
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .map_or(f32::NAN, |v| v[0])
}

/// A model and its optimizer, for timing training steps the way [`crate::Trainer`] takes them.
#[derive(Debug)]
pub struct TrainStep {
    model: Option<BertForSequenceClassification>,
    optim: AdamW,
    device: Device,
    max_grad_norm: f64,
    lr: f64,
    /// The trainer's switches the step follows: `gradient_checkpointing` and `bf16`.
    switches: TrainConfig,
}

/// Which gradient checkpointing a [`TrainStep`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checkpointing {
    /// None: every activation is kept for the backward pass.
    Off,
    /// burnish's layer-wise recomputation ([`crate::checkpointing`], what
    /// `TrainConfig::gradient_checkpointing` does).
    Layers,
    /// Burn's balanced strategy (`Device::gradient_checkpointing`), for comparison.
    BurnBalanced,
}

impl TrainStep {
    /// A two-class classifier of `shape` with random weights on `device`'s autodiff
    /// counterpart, dropout as configured (0.1), AdamW (weight decay 0.01), clipping at 1.0,
    /// learning rate 2e-5.
    pub fn new(shape: ModelShape, device: &Device) -> Self {
        Self::with_checkpointing(shape, device, Checkpointing::Off)
    }

    /// [`TrainStep::new`] with a kind of gradient checkpointing.
    pub fn with_checkpointing(
        shape: ModelShape,
        device: &Device,
        checkpointing: Checkpointing,
    ) -> Self {
        // Built on the plain device and forked, as the trainer does: parameters initialised on
        // an autodiff device would carry their initialisation's graph.
        let config = shape.config();
        let model =
            BertForSequenceClassification::new(&config, 2, ProblemType::SingleLabel, device);
        let device = device.clone().autodiff();
        let device = if checkpointing == Checkpointing::BurnBalanced {
            device.gradient_checkpointing()
        } else {
            device
        };
        let model = fork_for_training(model, &device);
        let optim = AdamW::new(AdamWConfig {
            num_layers: config.num_hidden_layers,
            ..AdamWConfig::default()
        });
        Self {
            model: Some(model),
            optim,
            device,
            max_grad_norm: 1.0,
            lr: 2e-5,
            switches: TrainConfig {
                gradient_checkpointing: checkpointing == Checkpointing::Layers,
                ..TrainConfig::default()
            },
        }
    }

    /// Mixed precision on (`TrainConfig::bf16`): forward and backward on a bf16 copy, the
    /// weights and AdamW in f32.
    pub fn with_bf16(mut self, bf16: bool) -> Self {
        self.switches.bf16 = bf16;
        self
    }

    /// One step on `batch`: forward, loss, backward, clipping, AdamW update. Returns the loss
    /// (read back to the host, which waits for the step on asynchronous backends).
    pub fn step(&mut self, batch: &Batch) -> f64 {
        let model = self.model.take().expect("the model is always put back");
        // The trainer's own micro-batch step (loss read back, then backward).
        let (value, grads) = replica_grads(&model, batch, &self.device, 1.0, 0, &self.switches);
        let grads = grads.unwrap_or_default();
        let scale = global_grad_norm(&model, &grads).map(|n| clip_scale(n, self.max_grad_norm));
        self.model = Some(self.optim.step(model, grads, self.lr, scale));
        value
    }

    /// The number of parameters being trained.
    pub fn num_params(&self) -> usize {
        self.model.as_ref().map_or(0, Module::num_params)
    }
}

/// The `[MASK]` id of BERT's uncased vocabulary.
const MASK_ID: u32 = 103;

/// MLM labels for a [`synthetic_batch`]: every 7th position of each row that is not `[CLS]`
/// or `[SEP]` (about 14%, BERT's 15% without randomness, so both sides predict the same
/// positions) is replaced by `[MASK]` in the returned batch and labelled with its original id;
/// every other label is `-100`.
pub fn synthetic_mlm_batch(batch: &Batch) -> (Batch, Vec<Vec<i64>>) {
    let mut masked = batch.clone();
    let labels = masked
        .input_ids
        .iter_mut()
        .map(|row| {
            let last = row.len() - 1;
            row.iter_mut()
                .enumerate()
                .map(|(p, id)| {
                    if p > 0 && p < last && p % 7 == 3 {
                        let label = i64::from(*id);
                        *id = MASK_ID;
                        label
                    } else {
                        -100
                    }
                })
                .collect()
        })
        .collect();
    (masked, labels)
}

/// A masked-LM model and its optimizer, for timing pre-training steps with the decoder run on
/// the masked positions only (burnish's way) or on every position (`transformers`' way).
#[derive(Debug)]
pub struct MlmStep {
    model: Option<BertForMaskedLM>,
    optim: AdamW,
    device: Device,
    masked_only: bool,
}

impl MlmStep {
    /// A [`BertForMaskedLM`] of `shape` with random weights on `device`'s autodiff
    /// counterpart; `masked_only` picks the decoder path.
    pub fn new(shape: ModelShape, masked_only: bool, device: &Device) -> Self {
        let config = shape.config();
        let model = BertForMaskedLM::new(&config, device);
        let device = device.clone().autodiff();
        Self {
            model: Some(fork_for_training(model, &device)),
            optim: AdamW::new(AdamWConfig {
                num_layers: config.num_hidden_layers,
                ..AdamWConfig::default()
            }),
            device,
            masked_only,
        }
    }

    /// One step: forward, MLM loss, backward, clipping at 1.0, AdamW at lr 1e-4. Returns the
    /// loss (read back to the host).
    pub fn step(&mut self, batch: &Batch, labels: &[Vec<i64>]) -> f64 {
        let model = self.model.take().expect("the model is always put back");
        let input = BertInput::from_rows(
            &batch.input_ids,
            &batch.token_type_ids,
            &batch.attention_mask,
            &self.device,
        );
        let loss = if self.masked_only {
            let targets = MaskedTargets::from_label_rows(labels, &self.device)
                .expect("synthetic MLM batches mask some positions");
            let logits = model.forward_masked(input, targets.positions);
            model.loss(logits, targets.labels)
        } else {
            let rows: Vec<i64> = labels.iter().flatten().copied().collect();
            let shape = [labels.len(), labels.first().map_or(0, Vec::len)];
            let labels = burn::tensor::Tensor::from_data(
                burn::tensor::TensorData::new(rows, shape),
                &self.device,
            );
            model.loss_full(model.forward(input), labels)
        };
        // Backward first: reading the value back does not need the graph, and the tape is
        // consumed by one backward pass.
        let grads = GradientsParams::from_grads(loss.clone().backward(), &model);
        let value = loss.into_scalar::<f64>();
        let scale = global_grad_norm(&model, &grads).map(|n| clip_scale(n, 1.0));
        self.model = Some(self.optim.step(model, grads, 1e-4, scale));
        value
    }
}

/// The peak resident memory of this process so far, in bytes (`VmHWM` of
/// `/proc/self/status`), where the platform reports it.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burnish_data::PaddedBatch;

    #[test]
    fn synthetic_batches_are_full_and_seeded() {
        let a = synthetic_batch(4, 16, 30522, 7);
        let b = synthetic_batch(4, 16, 30522, 7);
        let c = synthetic_batch(4, 16, 30522, 8);
        assert_eq!(a, b);
        assert_ne!(a.input_ids, c.input_ids);
        assert_eq!(a.real_tokens, 64);
        assert_eq!(a.padding_tokens(), 0);
        assert!(a.input_ids.iter().all(|r| r[0] == 101 && r[15] == 102));
        assert!(a.input_ids.iter().flatten().all(|&t| (t as usize) < 30522));
    }

    #[test]
    fn mlm_batches_mask_one_position_in_seven() {
        let batch = synthetic_batch(2, 64, 30522, 3);
        let (masked, labels) = synthetic_mlm_batch(&batch);
        let predicted: usize = labels.iter().flatten().filter(|&&l| l != -100).count();
        assert_eq!(predicted, 2 * 9); // p = 3, 10, ..., 59 in each row
        for ((row, orig), lab) in masked.input_ids.iter().zip(&batch.input_ids).zip(&labels) {
            for p in 0..64 {
                if lab[p] == -100 {
                    assert_eq!(row[p], orig[p]);
                } else {
                    assert_eq!((row[p], lab[p]), (103, i64::from(orig[p])));
                }
            }
        }
    }

    #[test]
    fn flops_per_token_follow_the_parameter_count() {
        // BERT-base: 85.6M parameters outside the embeddings (with pooler and head); at
        // S = 128 the attention adds 4 * 12 * 128 * 768 = 4.7M per forward token.
        let f = ModelShape::BertBase.flops_per_token(128, false);
        let dense = 2.0 * (109_482_240.0 + 1538.0 - (30522.0 + 512.0 + 2.0) * 768.0);
        assert!((f - dense - 4_718_592.0).abs() < 1.0, "{f}");
        assert_eq!(ModelShape::BertBase.flops_per_token(128, true), 3.0 * f);
    }

    #[test]
    fn parameter_counts_match_the_checkpoints() {
        // all-MiniLM-L6-v2 has 22,713,216 encoder parameters with its pooler (HF
        // `num_parameters()`); bert-base-uncased 109,482,240. The 2-class head adds 2h + 2.
        assert_eq!(ModelShape::MiniLm.parameters(), 22_713_216 + 770);
        assert_eq!(ModelShape::BertBase.parameters(), 109_482_240 + 1538);
        let model = inference_model(ModelShape::MiniLm, &Device::flex());
        assert_eq!(model.num_params(), ModelShape::MiniLm.parameters());
    }
}
