//! [`TrainConfig`]: every knob of a fine-tuning run, with the field's recipe as defaults.
//! Serialisable (JSON in the run directory, TOML from `--config`).

use std::collections::BTreeMap;

use burnish_encoder::lora::LoraConfig;
use burnish_heads::ClassLoss;
use burnish_heads::rerank::RerankLoss;
use burnish_heads::sentence::EmbeddingLoss;
use serde::{Deserialize, Serialize};

use crate::error::TrainError;
use crate::schedule::ScheduleKind;

/// Hyper-parameters of a fine-tuning run.
///
/// Defaults follow the BERT fine-tuning recipe: AdamW (0.9, 0.999, eps 1e-8), weight decay
/// 0.01 except biases and LayerNorm, 10% linear warmup then linear decay, global-norm clipping
/// at 1.0, batch 32, 3 epochs, evaluation at each epoch end, best model kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Passes over the training data (the frozen-encoder epochs included).
    pub epochs: usize,
    /// Examples per optimizer step (before accumulation: per micro-batch).
    pub batch_size: usize,
    /// Micro-batches whose gradients are summed into one optimizer step.
    pub grad_accum_steps: usize,
    /// Peak learning rate when the whole model trains.
    pub learning_rate: f64,
    /// Peak learning rate of the head while the encoder is frozen.
    pub head_learning_rate: f64,
    /// Epochs that train only the new head on a frozen encoder before everything trains.
    pub freeze_encoder_epochs: usize,
    /// Fraction of each stage's optimizer steps spent warming up.
    pub warmup_ratio: f64,
    /// Decay after warmup.
    pub schedule: ScheduleKind,
    /// AdamW decoupled weight decay.
    pub weight_decay: f64,
    /// AdamW beta1.
    pub beta1: f64,
    /// AdamW beta2.
    pub beta2: f64,
    /// AdamW epsilon.
    pub eps: f64,
    /// Global-norm gradient clipping threshold (`None`: no clipping).
    pub max_grad_norm: Option<f64>,
    /// Layer-wise learning-rate decay factor (1.0 = off; 0.8-0.95 are common).
    pub layer_lr_decay: f64,
    /// Evaluate every N optimizer steps (besides each epoch end).
    pub eval_every: Option<usize>,
    /// Stop after this many evaluations without improvement of `metric`.
    pub early_stopping_patience: Option<usize>,
    /// Metric that selects the best model and drives early stopping; smaller is better for
    /// the losses and errors, larger for the rest
    /// ([`Metric::name_higher_is_better`](crate::metrics::Metric::name_higher_is_better)).
    pub metric: String,
    /// Write a resumable checkpoint every N optimizer steps (one is always written on Ctrl-C
    /// and at each epoch end).
    pub checkpoint_every: Option<usize>,
    /// Seed for data order, dropout and initialisation of new heads.
    pub seed: u64,
    /// Longest input in tokens.
    pub max_length: usize,
    /// Batch examples of similar length together (less padding).
    pub bucketing: bool,
    /// Log the training loss every N optimizer steps.
    pub log_every: usize,
    /// Stop after this many consecutive optimizer steps whose loss or gradient norm was not
    /// finite (each such step is skipped and logged); the last good checkpoint is kept.
    pub max_bad_steps: usize,
    /// End the run after this many optimizer steps (or at the end of `epochs`, whichever comes
    /// first); the learning-rate schedule spans the shorter of the two.
    pub max_steps: Option<usize>,
    /// Recompute each encoder layer in the backward pass instead of keeping its activations
    /// (layer-wise gradient checkpointing, as `transformers`' `gradient_checkpointing_enable()`):
    /// far less memory for long sequences, about one more forward pass of compute. Models
    /// without support (GPT-2, causal LM, MLM + NSP) train as usual.
    pub gradient_checkpointing: bool,
    /// Mixed precision: forward and backward in bf16, the weights, AdamW and the loss in f32
    /// (`transformers`' `bf16=True`). Faster where the device multiplies bf16 natively, half
    /// the activation memory; combines with `gradient_checkpointing`.
    pub bf16: bool,
    /// CPU threads for the CPU backends (flex's pool, LibTorch's intra-op pool); 0: every
    /// core. flex's pool takes its size once per process, before its first tensor operation
    /// (`burnish_encoder::threads::set_cpu_threads`).
    pub threads: usize,
    /// Label smoothing of the classification and token-classification loss, in `[0, 1)`
    /// (PyTorch's `CrossEntropyLoss(label_smoothing=...)`; single-label classification and
    /// NER only).
    pub label_smoothing: f64,
    /// Class weights of the same losses (PyTorch's `CrossEntropyLoss(weight=...)`); `None`:
    /// every class 1.
    pub class_weights: Option<ClassWeights>,
    /// Where the run reports its scalars besides `log.jsonl` (always written):
    /// `["tensorboard"]` adds TensorBoard event files in `OUT/tensorboard/`
    /// ([`crate::tensorboard`]), as `transformers`' `report_to`.
    pub report_to: Vec<ReportTo>,
    /// Train LoRA adapters (and the task head) instead of every weight (`[lora]` in TOML;
    /// [`burnish_encoder::lora`]); `None`: full fine-tuning.
    pub lora: Option<LoraConfig>,
    /// When not empty, only the parameters whose burnish path contains one of these train;
    /// every other one is frozen (no gradient, no optimizer state) for the whole run
    /// (`["word_embeddings", "cls.predictions.bias"]`: the word embeddings and the tied
    /// masked-LM decoder, the first stage after a vocabulary extension).
    pub train_only: Vec<String>,
    /// The objective of an embedding run (`[embedding]` in TOML; `--task embedding` only):
    /// MNRL or CoSENT, the similarity scale, Matryoshka dimensions.
    pub embedding: EmbeddingLoss,
    /// The objective of a reranker run (`[rerank]` in TOML; `--task rerank` only): binary
    /// cross-entropy or ListNet.
    pub rerank: RerankLoss,
}

/// A place a run reports its scalars to (`TrainConfig::report_to`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportTo {
    /// TensorBoard event files in `OUT/tensorboard/`.
    Tensorboard,
}

/// Class weights of a run: computed from the training labels, or given per label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ClassWeights {
    /// `n / (C * count_c)` from the training set's label counts (scikit-learn's
    /// `class_weight="balanced"`): rare classes weigh more. TOML / JSON: `"balanced"`.
    #[serde(rename = "balanced")]
    Balanced,
    /// A weight for every label, by name (TOML: `class_weights = { neg = 1.0, pos = 9.0 }`).
    #[serde(untagged)]
    PerLabel(BTreeMap<String, f64>),
}

impl TrainConfig {
    /// The loss options of a single-label classifier or a token classifier over `labels`
    /// (names in id order) whose training set holds `counts[i]` examples (or tokens) of label
    /// `i`.
    ///
    /// # Errors
    /// [`TrainError::Config`] naming `class_weights`: a label without a weight, a weight for an
    /// unknown label, or `balanced` with a label that has no training examples.
    pub fn class_loss(&self, labels: &[String], counts: &[usize]) -> Result<ClassLoss, TrainError> {
        let bad = |reason: String| TrainError::Config {
            field: "class_weights",
            reason,
        };
        let class_weights = match &self.class_weights {
            None => None,
            Some(ClassWeights::Balanced) => {
                let total: usize = counts.iter().sum();
                let weights = labels.iter().zip(counts).map(|(label, &count)| match count {
                    0 => Err(bad(format!(
                        "\"balanced\" needs every label in the training data; {label:?} has none"
                    ))),
                    _ => Ok((total as f64 / (labels.len() * count) as f64) as f32),
                });
                Some(weights.collect::<Result<Vec<_>, _>>()?)
            }
            Some(ClassWeights::PerLabel(given)) => {
                if let Some(unknown) = given.keys().find(|k| !labels.contains(k)) {
                    return Err(bad(format!(
                        "{unknown:?} is not a label of this task (labels: {})",
                        labels.join(", ")
                    )));
                }
                let weights = labels.iter().map(|label| {
                    given
                        .get(label)
                        .map(|&w| w as f32)
                        .ok_or_else(|| bad(format!("no weight for label {label:?}")))
                });
                Some(weights.collect::<Result<Vec<_>, _>>()?)
            }
        };
        Ok(ClassLoss {
            class_weights,
            label_smoothing: self.label_smoothing as f32,
        })
    }
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 3,
            batch_size: 32,
            grad_accum_steps: 1,
            learning_rate: 5e-5,
            head_learning_rate: 1e-3,
            freeze_encoder_epochs: 0,
            warmup_ratio: 0.1,
            schedule: ScheduleKind::Linear,
            weight_decay: 0.01,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            max_grad_norm: Some(1.0),
            layer_lr_decay: 1.0,
            eval_every: None,
            early_stopping_patience: None,
            metric: "accuracy".into(),
            checkpoint_every: None,
            seed: 42,
            max_length: 128,
            bucketing: true,
            log_every: 10,
            max_bad_steps: 5,
            max_steps: None,
            gradient_checkpointing: false,
            bf16: false,
            threads: 0,
            label_smoothing: 0.0,
            class_weights: None,
            report_to: Vec::new(),
            lora: None,
            train_only: Vec::new(),
            embedding: EmbeddingLoss::default(),
            rerank: RerankLoss::default(),
        }
    }
}

impl TrainConfig {
    /// Checks values a run cannot use, naming the field.
    ///
    /// # Errors
    /// `(field, reason)` of the first bad value.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let positive = [
            ("epochs", self.epochs),
            ("batch_size", self.batch_size),
            ("grad_accum_steps", self.grad_accum_steps),
            ("max_length", self.max_length),
            ("log_every", self.log_every),
            ("max_bad_steps", self.max_bad_steps),
        ];
        for (field, v) in positive {
            if v == 0 {
                return Err((field, "must be positive".into()));
            }
        }
        for (field, v) in [
            ("learning_rate", self.learning_rate),
            ("head_learning_rate", self.head_learning_rate),
        ] {
            if !(v > 0.0 && v.is_finite()) {
                return Err((field, format!("{v} is not a positive number")));
            }
        }
        if !(0.0..1.0).contains(&self.warmup_ratio) {
            return Err((
                "warmup_ratio",
                format!("{} is not in [0, 1)", self.warmup_ratio),
            ));
        }
        if !(self.layer_lr_decay > 0.0 && self.layer_lr_decay <= 1.0) {
            return Err((
                "layer_lr_decay",
                format!("{} is not in (0, 1]", self.layer_lr_decay),
            ));
        }
        let embedding = &self.embedding;
        if !(embedding.scale > 0.0 && embedding.scale.is_finite()) {
            return Err((
                "embedding.scale",
                format!("{} is not a positive number", embedding.scale),
            ));
        }
        if embedding.matryoshka_dims.contains(&0) {
            return Err(("embedding.matryoshka_dims", "a dimension is 0".into()));
        }
        if !embedding.matryoshka_weights.is_empty()
            && embedding.matryoshka_weights.len() != embedding.matryoshka_dims.len()
        {
            return Err((
                "embedding.matryoshka_weights",
                format!(
                    "{} weights for {} dimensions",
                    embedding.matryoshka_weights.len(),
                    embedding.matryoshka_dims.len()
                ),
            ));
        }
        if let Some(w) = self.rerank.pos_weight
            && !(w > 0.0 && w.is_finite())
        {
            return Err(("rerank.pos_weight", format!("{w} is not a positive number")));
        }
        if self.freeze_encoder_epochs > self.epochs {
            return Err((
                "freeze_encoder_epochs",
                format!(
                    "{} exceeds epochs {}",
                    self.freeze_encoder_epochs, self.epochs
                ),
            ));
        }
        if let Some(n) = self.max_grad_norm
            && (n.is_nan() || n <= 0.0)
        {
            return Err(("max_grad_norm", format!("{n} is not positive")));
        }
        if !(0.0..1.0).contains(&self.label_smoothing) {
            return Err((
                "label_smoothing",
                format!("{} is not in [0, 1)", self.label_smoothing),
            ));
        }
        if let Some(ClassWeights::PerLabel(given)) = &self.class_weights {
            if let Some((label, w)) = given.iter().find(|(_, w)| !(w.is_finite() && **w >= 0.0)) {
                return Err((
                    "class_weights",
                    format!("{label:?}: {w} is not a weight >= 0"),
                ));
            }
            if !given.values().any(|w| *w > 0.0) {
                return Err(("class_weights", "every weight is 0".into()));
            }
        }
        if let Some(lora) = &self.lora {
            lora.check()?;
            if self.freeze_encoder_epochs > 0 {
                return Err((
                    "freeze_encoder_epochs",
                    "LoRA keeps the encoder's weights frozen already; the frozen-encoder \
                     stage does not combine with it"
                        .into(),
                ));
            }
        }
        if !self.train_only.is_empty() && (self.lora.is_some() || self.freeze_encoder_epochs > 0) {
            return Err((
                "train_only",
                "freezes the model itself: it does not combine with LoRA or a frozen-encoder \
                 stage"
                    .into(),
            ));
        }
        if self.max_steps == Some(0) {
            return Err(("max_steps", "must be positive when given".into()));
        }
        if self.eval_every == Some(0) || self.checkpoint_every == Some(0) {
            return Err(("eval_every", "must be positive when given".into()));
        }
        Ok(())
    }
}
