//! The arguments of `burnish finetune`, `evaluate` and `predict`, and their value enums.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burnish::data::{LabelKind, TagScheme};
use burnish::heads::rerank::RerankLossKind;
use burnish::heads::sentence::{LossKind, Pooling};
use burnish::train::schedule::ScheduleKind;
use burnish::train::tasks::pretrain::Objective;
use burnish::train::{ClassWeights, ReportTo, TrainConfig};

use clap::{Args, ValueEnum};
use serde::{Deserialize, Serialize};

/// The downstream task (also `training_config.json`'s `task`, by the same names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskArg {
    /// Sequence classification (sentiment, topic, sentence pairs, regression).
    Classification,
    /// Token classification (named entities): CoNLL or JSONL `{"tokens", "tags"}` files.
    Ner,
    /// Extractive question answering: SQuAD v1.1 / v2.0 JSON files.
    Qa,
    /// Sentence embeddings (bi-encoder): (anchor, positive[, negative]) pairs with the
    /// multiple-negatives ranking loss, or scored pairs with CoSENT; saved as a
    /// `sentence-transformers` folder.
    Embedding,
    /// A cross-encoder reranker: (query, passage, label) rows with binary cross-entropy or
    /// ListNet over each query's passages; saved as a folder `CrossEncoder` loads.
    Rerank,
}

/// How the label column is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LabelKindArg {
    /// One class per row.
    Class,
    /// Several classes per row (separated by `|` in CSV/TSV, a list in JSONL).
    MultiLabel,
    /// A number per row.
    Regression,
}

impl LabelKindArg {
    pub(crate) fn kind(self) -> LabelKind {
        match self {
            LabelKindArg::Class => LabelKind::Class,
            LabelKindArg::MultiLabel => LabelKind::MultiLabel,
            LabelKindArg::Regression => LabelKind::Regression,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            LabelKindArg::Class => "class",
            LabelKindArg::MultiLabel => "multi-label",
            LabelKindArg::Regression => "regression",
        }
    }
}

/// `--schedule`: the learning rate's shape after warmup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScheduleArg {
    /// Linear decay to zero at the last step.
    Linear,
    /// Half-cosine decay to zero at the last step.
    Cosine,
    /// Constant.
    Constant,
}

impl ScheduleArg {
    /// The trainer's schedule.
    pub(crate) fn kind(self) -> ScheduleKind {
        match self {
            ScheduleArg::Linear => ScheduleKind::Linear,
            ScheduleArg::Cosine => ScheduleKind::Cosine,
            ScheduleArg::Constant => ScheduleKind::Constant,
        }
    }
}

/// `--tag-scheme`: how the entity tags of NER files are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TagSchemeArg {
    /// IOB1 (the original CoNLL-2003 release).
    Iob1,
    /// IOB2, also called BIO.
    #[value(alias = "bio")]
    Iob2,
    /// BIOES, also called IOBES.
    #[value(alias = "iobes")]
    Bioes,
}

impl TagSchemeArg {
    /// The reader's scheme.
    pub(crate) fn scheme(self) -> TagScheme {
        match self {
            TagSchemeArg::Iob1 => TagScheme::Iob1,
            TagSchemeArg::Iob2 => TagScheme::Iob2,
            TagSchemeArg::Bioes => TagScheme::Bioes,
        }
    }
}

/// `--objective` of `burnish pretrain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ObjectiveArg {
    /// Masked language modelling.
    Mlm,
    /// Masked language modelling and next-sentence prediction (BERT's original recipe).
    #[value(name = "mlm+nsp", alias = "mlm-nsp", alias = "nsp")]
    MlmNsp,
    /// Causal (next-token) language modelling.
    Clm,
}

impl ObjectiveArg {
    /// The pre-training task's objective.
    pub(crate) fn objective(self) -> Objective {
        match self {
            ObjectiveArg::Mlm => Objective::Mlm,
            ObjectiveArg::MlmNsp => Objective::MlmNsp,
            ObjectiveArg::Clm => Objective::Clm,
        }
    }
}

/// Where the weights of a fine-tuning run start (also `training_config.json`'s `init`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InitArg {
    /// The `--model` checkpoint's weights (a new task head where it has none).
    Pretrained,
    /// The `--model` folder's architecture (`config.json`) and tokenizer, with every weight
    /// freshly initialised from the seed: the no-pre-training baseline.
    Random,
}

impl InitArg {
    /// The name written in `training_config.json`.
    pub fn name(self) -> &'static str {
        match self {
            InitArg::Pretrained => "pretrained",
            InitArg::Random => "random",
        }
    }
}

/// Arguments of `burnish finetune`.
#[derive(Debug, Clone, Args)]
pub struct FinetuneArgs {
    /// The task.
    #[arg(long, value_enum, default_value = "classification")]
    pub(crate) task: TaskArg,
    /// Pre-trained model folder (Hugging Face layout), or a Hugging Face Hub id
    /// `ORG/NAME[@REVISION]` found in the Hub cache (downloaded when missing, unless
    /// HF_HUB_OFFLINE=1).
    #[arg(long)]
    pub(crate) model: PathBuf,
    /// Classification: start from the checkpoint's weights (`pretrained`) or from a random
    /// initialisation of the same architecture (`random`, the baseline that shows what
    /// pre-training brings).
    #[arg(long, value_enum, default_value = "pretrained")]
    pub(crate) init: InitArg,
    /// Training data (CSV, TSV or JSONL with a header / keys).
    #[arg(long)]
    pub(crate) train: PathBuf,
    /// Validation data; without it, a stratified `--valid-fraction` of the training data.
    #[arg(long)]
    pub(crate) valid: Option<PathBuf>,
    /// Run directory to write (resumed if it holds an unfinished run).
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Replace an existing finished run directory.
    #[arg(long)]
    pub(crate) overwrite: bool,
    /// TOML file with training settings (the fields of `training_config.json`'s `train`);
    /// flags given on the command line win.
    #[arg(long)]
    pub(crate) config: Option<PathBuf>,
    /// Text column.
    #[arg(long, default_value = "text")]
    pub(crate) text_column: String,
    /// Second-text column, for sentence pairs.
    #[arg(long)]
    pub(crate) text_pair_column: Option<String>,
    /// Label column.
    #[arg(long, default_value = "label")]
    pub(crate) label_column: String,
    /// How the label column is read.
    #[arg(long, value_enum, default_value = "class")]
    pub(crate) label_kind: LabelKindArg,
    /// Skip unreadable rows (reported with file and line) instead of stopping at the first.
    #[arg(long)]
    pub(crate) skip_bad_rows: bool,
    /// Use only the first N training rows.
    #[arg(long)]
    pub(crate) max_train_rows: Option<usize>,
    /// Fraction of the training data held out for validation when `--valid` is absent.
    #[arg(long, default_value_t = 0.1)]
    pub(crate) valid_fraction: f64,
    /// Backend: flex, tch, tch-cuda, wgpu or cuda.
    #[arg(long, default_value = "flex")]
    pub(crate) backend: String,
    /// Epochs.
    #[arg(long)]
    pub(crate) epochs: Option<usize>,
    /// Batch size.
    #[arg(long)]
    pub(crate) batch_size: Option<usize>,
    /// Peak learning rate (whole model).
    #[arg(long)]
    pub(crate) lr: Option<f64>,
    /// Peak learning rate of the head while the encoder is frozen.
    #[arg(long)]
    pub(crate) head_lr: Option<f64>,
    /// Epochs training only the new head on a frozen encoder first.
    #[arg(long)]
    pub(crate) freeze_encoder_epochs: Option<usize>,
    /// Warmup fraction of each stage's steps.
    #[arg(long)]
    pub(crate) warmup_ratio: Option<f64>,
    /// The learning rate's shape after warmup.
    #[arg(long, value_enum)]
    pub(crate) schedule: Option<ScheduleArg>,
    /// AdamW weight decay.
    #[arg(long)]
    pub(crate) weight_decay: Option<f64>,
    /// Global-norm clipping threshold (0 disables).
    #[arg(long)]
    pub(crate) max_grad_norm: Option<f64>,
    /// Layer-wise learning-rate decay (1.0 = off).
    #[arg(long)]
    pub(crate) layer_lr_decay: Option<f64>,
    /// Gradient accumulation steps.
    #[arg(long)]
    pub(crate) grad_accum: Option<usize>,
    /// Longest input in tokens.
    #[arg(long)]
    pub(crate) max_length: Option<usize>,
    /// Evaluate every N optimizer steps (besides epoch ends).
    #[arg(long)]
    pub(crate) eval_every: Option<usize>,
    /// Stop after N evaluations without improvement.
    #[arg(long)]
    pub(crate) early_stopping_patience: Option<usize>,
    /// Metric selecting the best model (accuracy, f1_macro, mcc, loss, pearson, ...).
    #[arg(long)]
    pub(crate) metric: Option<String>,
    /// Write a resumable checkpoint every N optimizer steps.
    #[arg(long)]
    pub(crate) checkpoint_every: Option<usize>,
    /// Seed.
    #[arg(long)]
    pub(crate) seed: Option<u64>,
    /// Label smoothing of the classification / NER loss, in [0, 1) (PyTorch's
    /// `CrossEntropyLoss(label_smoothing=...)`).
    #[arg(long)]
    pub(crate) label_smoothing: Option<f64>,
    /// Class weights of the classification / NER loss: `balanced` (n / (classes x count) from
    /// the training labels) or a JSON file `{"label": weight, ...}` naming every label.
    #[arg(long, value_name = "balanced|FILE")]
    pub(crate) class_weights: Option<String>,
    /// Train with K seeds (the seed, seed+1, ...), each in RUN_DIR/seeds/seed-S; report the
    /// mean and standard deviation of the best validation metric in metrics.json and keep the
    /// best seed's model in RUN_DIR. Small data makes fine-tuning unstable across seeds.
    #[arg(long, default_value_t = 1)]
    pub(crate) seeds: usize,
    /// The seed of the held-out validation split (`None`: the run's seed). `--seeds` fixes it
    /// to the first seed so every seed is validated on the same examples.
    #[arg(skip)]
    pub(crate) split_seed: Option<u64>,
    /// Stop after N consecutive optimizer steps with a non-finite loss or gradient norm (each
    /// is skipped and logged in log.jsonl); the last good checkpoint is kept.
    #[arg(long)]
    pub(crate) max_bad_steps: Option<usize>,
    /// Plain shuffled batches instead of length-bucketed ones (the batches PyTorch's
    /// `DataLoader(shuffle=True)` makes; more padding).
    #[arg(long)]
    pub(crate) no_bucketing: bool,
    /// Recompute each encoder layer in the backward pass instead of keeping its activations
    /// (layer-wise gradient checkpointing): much less memory for long sequences, about a
    /// third more compute. BERT, RoBERTa and DistilBERT classification, NER and QA.
    #[arg(long)]
    pub(crate) gradient_checkpointing: bool,
    /// Mixed precision: forward and backward in bf16, weights, optimizer and loss in f32
    /// (`transformers`' `--bf16`). For devices that multiply bf16 natively (recent GPUs and
    /// CPUs with AMX / AVX-512 BF16).
    #[arg(long)]
    pub(crate) bf16: bool,
    /// Train data-parallel on these devices of the backend (`--devices 0,1`: CUDA devices 0
    /// and 1; wgpu: discrete GPUs). `--batch-size` stays the global batch: each device takes
    /// an equal share of every batch, gradients are summed on the first device, which steps
    /// the optimizer, evaluates and writes the run.
    #[arg(long, value_delimiter = ',')]
    pub(crate) devices: Vec<usize>,
    /// Report the training scalars (loss, learning rate, throughput, metrics) beside
    /// log.jsonl: `tensorboard` writes TensorBoard event files into RUN_DIR/tensorboard
    /// (`tensorboard --logdir RUN_DIR`); `none` reports nothing more.
    #[arg(long, value_delimiter = ',', value_name = "tensorboard|none")]
    pub(crate) report_to: Vec<String>,
    /// Train LoRA adapters and the task head instead of every weight (rank 8, alpha 16, on
    /// the family's default modules, as `peft`'s): RUN_DIR is the model with the adapters
    /// merged in, RUN_DIR/adapter the `peft` adapter folder. LoRA usually wants about 10x
    /// full fine-tuning's learning rate (--lr 2e-4 or more). Implied by the other --lora-*.
    #[arg(long)]
    pub(crate) lora: bool,
    /// LoRA: the adapters' rank.
    #[arg(long)]
    pub(crate) lora_r: Option<usize>,
    /// LoRA: the adapters' output is scaled by alpha / r.
    #[arg(long)]
    pub(crate) lora_alpha: Option<f64>,
    /// LoRA: dropout on the adapters' input; 0 only (Burn composes adapters into the weights).
    #[arg(long)]
    pub(crate) lora_dropout: Option<f64>,
    /// LoRA: the modules adapted, `transformers` module names (`query,key,value,dense`);
    /// default: the family's (BERT, RoBERTa, ELECTRA: query,value; DistilBERT: q_lin,v_lin).
    #[arg(long, value_delimiter = ',')]
    pub(crate) lora_targets: Vec<String>,
    /// LoRA: also train the LayerNorms fully.
    #[arg(long)]
    pub(crate) lora_train_layer_norms: bool,
    /// LoRA: go on training this adapter folder (made by `finetune --lora` or by `peft`) over
    /// `--model`, its base; its settings (rank, alpha, targets) replace the --lora-* ones.
    #[arg(long)]
    pub(crate) adapter: Option<PathBuf>,
    /// Hide the progress bar.
    #[arg(long)]
    pub(crate) quiet: bool,
    /// NER: the tag scheme of the files; detected when absent. Tags are converted to IOB2 for
    /// training.
    #[arg(long, value_enum)]
    pub(crate) tag_scheme: Option<TagSchemeArg>,
    /// NER: label every sub-word of a word (continuations of `B-X` as `I-X`), not only the
    /// first.
    #[arg(long)]
    pub(crate) label_all_subwords: bool,
    /// QA: tokens shared by consecutive windows over a long context.
    #[arg(long, default_value_t = 128)]
    pub(crate) doc_stride: usize,
    /// QA: the longest answer, in tokens.
    #[arg(long, default_value_t = 30)]
    pub(crate) max_answer_length: usize,
    /// QA: how many best start and end tokens are paired per window.
    #[arg(long, default_value_t = 20)]
    pub(crate) n_best: usize,
    /// QA (SQuAD v2 data): answer nothing when the null score beats the best span by more
    /// than this.
    #[arg(long, default_value_t = 0.0)]
    pub(crate) null_threshold: f32,
    /// QA: train on these articles of the training file only (`A:B`, 0-based, B excluded).
    #[arg(long)]
    pub(crate) train_articles: Option<String>,
    /// QA: validate on these articles of the validation file (or of the training file when
    /// there is no `--valid`), `A:B`.
    #[arg(long)]
    pub(crate) valid_articles: Option<String>,
    /// Embedding: the anchor (query) column.
    #[arg(long, default_value = "anchor")]
    pub(crate) anchor_column: String,
    /// Embedding: the positive (passage) column.
    #[arg(long, default_value = "positive")]
    pub(crate) positive_column: String,
    /// Embedding: the hard-negative column, read where the file has it.
    #[arg(long, default_value = "negative")]
    pub(crate) negative_column: String,
    /// Embedding: a score column makes the rows scored pairs, trained with CoSENT and
    /// validated by the Spearman correlation of cosine similarity and score.
    #[arg(long)]
    pub(crate) score_column: Option<String>,
    /// Embedding and rerank: the loss (embedding: mnrl for pairs, cosent with
    /// --score-column; rerank: bce).
    #[arg(long, value_enum)]
    pub(crate) loss: Option<LossArg>,
    /// Rerank: the weight of positive pairs in binary cross-entropy.
    #[arg(long)]
    pub(crate) pos_weight: Option<f32>,
    /// Rerank: the query column.
    #[arg(long, default_value = "query")]
    pub(crate) query_column: String,
    /// Rerank: the passage column (rows of one query form its group of passages).
    #[arg(long, default_value = "passage")]
    pub(crate) passage_column: String,
    /// Embedding: the factor on cosine similarities in the loss (sentence-transformers: 20).
    #[arg(long)]
    pub(crate) scale: Option<f32>,
    /// Embedding: also train the embeddings truncated to these dimensions (Matryoshka), e.g.
    /// `384,256,128,64`.
    #[arg(long, value_delimiter = ',')]
    pub(crate) matryoshka_dims: Vec<usize>,
    /// Embedding: how token states become one vector (default: the model folder's
    /// `sentence-transformers` pooling, else mean).
    #[arg(long, value_enum)]
    pub(crate) pooling: Option<PoolingArg>,
    /// Embedding: no L2 normalisation of the embeddings (default: the folder's, else
    /// normalised).
    #[arg(long)]
    pub(crate) no_normalize: bool,
    /// Embedding: texts added to the validation corpus (CSV/TSV/JSONL, `--corpus-column`):
    /// each validation anchor is ranked against every positive and these.
    #[arg(long)]
    pub(crate) corpus: Option<PathBuf>,
    /// Embedding: the text column of `--corpus`.
    #[arg(long, default_value = "text")]
    pub(crate) corpus_column: String,
}

/// `--loss` of an embedding or rerank run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LossArg {
    /// Embedding: multiple-negatives ranking loss (in-batch and hard negatives).
    Mnrl,
    /// Embedding: the same, averaged with the loss from each positive back to the anchors.
    MnrlSymmetric,
    /// Embedding: CoSENT, for scored pairs.
    Cosent,
    /// Rerank: binary cross-entropy on each pair.
    Bce,
    /// Rerank: ListNet over each query's passages.
    Listnet,
}

impl LossArg {
    /// Whether this is a reranker's loss.
    fn reranks(self) -> bool {
        matches!(self, LossArg::Bce | LossArg::Listnet)
    }
}

/// `--pooling` of an embedding run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PoolingArg {
    /// Mean over real tokens.
    Mean,
    /// The first token.
    Cls,
    /// The last real token.
    LastToken,
}

impl PoolingArg {
    pub(crate) fn pooling(self) -> Pooling {
        match self {
            PoolingArg::Mean => Pooling::Mean,
            PoolingArg::Cls => Pooling::Cls,
            PoolingArg::LastToken => Pooling::LastToken,
        }
    }
}

impl FinetuneArgs {
    /// The `[embedding]` settings and the selection metric of an embedding run.
    fn embedding_config(&self, cfg: &mut TrainConfig, defaults: bool) {
        let embedding = &mut cfg.embedding;
        let loss = self.loss.unwrap_or(if self.score_column.is_some() {
            LossArg::Cosent
        } else {
            LossArg::Mnrl
        });
        if self.loss.is_some() || defaults {
            embedding.loss = match loss {
                LossArg::Cosent => LossKind::Cosent,
                _ => LossKind::Mnrl,
            };
            embedding.symmetric = loss == LossArg::MnrlSymmetric;
        }
        if let Some(scale) = self.scale {
            embedding.scale = scale;
        }
        if !self.matryoshka_dims.is_empty() {
            embedding.matryoshka_dims = self.matryoshka_dims.clone();
        }
        if self.metric.is_none() && defaults {
            cfg.metric = match cfg.embedding.loss {
                LossKind::Cosent => "spearman".into(),
                LossKind::Mnrl => "ndcg@10".into(),
            };
        }
    }

    pub(crate) fn train_config(&self) -> Result<TrainConfig> {
        let mut cfg = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                toml::from_str::<TrainConfig>(&text)
                    .with_context(|| format!("{}: invalid training config", path.display()))?
            }
            None => TrainConfig::default(),
        };
        macro_rules! set {
            ($($flag:ident => $field:ident),*) => {$(
                if let Some(v) = self.$flag.clone() { cfg.$field = v; }
            )*};
        }
        set!(epochs => epochs, batch_size => batch_size, lr => learning_rate,
             head_lr => head_learning_rate, freeze_encoder_epochs => freeze_encoder_epochs,
             warmup_ratio => warmup_ratio, weight_decay => weight_decay,
             layer_lr_decay => layer_lr_decay, grad_accum => grad_accum_steps,
             max_length => max_length, metric => metric, seed => seed,
             max_bad_steps => max_bad_steps, label_smoothing => label_smoothing);
        if let Some(weights) = &self.class_weights {
            cfg.class_weights = Some(if weights == "balanced" {
                ClassWeights::Balanced
            } else {
                let path = Path::new(weights);
                let text = std::fs::read_to_string(path).with_context(|| {
                    format!(
                        "--class-weights: cannot read {} (or say `balanced`)",
                        path.display()
                    )
                })?;
                ClassWeights::PerLabel(serde_json::from_str(&text).with_context(|| {
                    format!("{}: not a JSON object of label weights", path.display())
                })?)
            });
        }
        if !self.report_to.is_empty() {
            cfg.report_to = Vec::new();
            for name in &self.report_to {
                match name.as_str() {
                    "tensorboard" => cfg.report_to.push(ReportTo::Tensorboard),
                    "none" => {}
                    other => bail!("--report-to {other}: expected tensorboard or none"),
                }
            }
        }
        if let Some(adapter) = &self.adapter {
            // The adapter's own settings: what its weights were made with.
            cfg.lora = Some(burnish::encoder::lora::read_adapter_config(adapter)?);
        } else if self.lora
            || self.lora_r.is_some()
            || self.lora_alpha.is_some()
            || self.lora_dropout.is_some()
            || !self.lora_targets.is_empty()
            || self.lora_train_layer_norms
        {
            let mut lora = cfg.lora.take().unwrap_or_default();
            if let Some(r) = self.lora_r {
                lora.r = r;
            }
            if let Some(alpha) = self.lora_alpha {
                lora.lora_alpha = alpha;
            }
            if let Some(dropout) = self.lora_dropout {
                lora.lora_dropout = dropout;
            }
            if !self.lora_targets.is_empty() {
                lora.target_modules = self.lora_targets.clone();
            }
            lora.train_layer_norms |= self.lora_train_layer_norms;
            cfg.lora = Some(lora);
        }
        if let Some(n) = self.max_grad_norm {
            cfg.max_grad_norm = (n > 0.0).then_some(n);
        }
        if self.no_bucketing {
            cfg.bucketing = false;
        }
        if self.gradient_checkpointing {
            cfg.gradient_checkpointing = true;
        }
        if self.bf16 {
            cfg.bf16 = true;
        }
        if self.eval_every.is_some() {
            cfg.eval_every = self.eval_every;
        }
        if self.early_stopping_patience.is_some() {
            cfg.early_stopping_patience = self.early_stopping_patience;
        }
        if self.checkpoint_every.is_some() {
            cfg.checkpoint_every = self.checkpoint_every;
        }
        if let Some(schedule) = self.schedule {
            cfg.schedule = schedule.kind();
        }
        let defaults = self.config.is_none();
        if let Some(loss) = self.loss {
            let fits = match self.task {
                TaskArg::Embedding => !loss.reranks(),
                TaskArg::Rerank => loss.reranks(),
                _ => false,
            };
            if !fits {
                bail!(
                    "--loss {}: not a loss of --task {}",
                    loss.to_possible_value()
                        .map_or_else(String::new, |v| v.get_name().into()),
                    self.task
                        .to_possible_value()
                        .map_or_else(String::new, |v| v.get_name().into())
                );
            }
        }
        if self.task == TaskArg::Embedding {
            self.embedding_config(&mut cfg, defaults);
        } else if self.task == TaskArg::Rerank {
            if let Some(loss) = self.loss {
                cfg.rerank.loss = match loss {
                    LossArg::Listnet => RerankLossKind::Listnet,
                    _ => RerankLossKind::Bce,
                };
            }
            if self.pos_weight.is_some() {
                cfg.rerank.pos_weight = self.pos_weight;
            }
            if self.metric.is_none() && defaults {
                cfg.metric = "ndcg@10".into();
            }
        } else if self.task != TaskArg::Classification && self.metric.is_none() && defaults {
            // Entity F1 for NER, SQuAD F1 for QA.
            cfg.metric = "f1".into();
        }
        if self.task == TaskArg::Qa && self.max_length.is_none() && defaults {
            cfg.max_length = 384;
        }
        if self.task == TaskArg::Classification
            && self.label_kind == LabelKindArg::Regression
            && self.metric.is_none()
            && defaults
        {
            cfg.metric = "loss".into();
        }
        if self.label_kind == LabelKindArg::MultiLabel
            && self.metric.is_none()
            && self.config.is_none()
        {
            cfg.metric = "f1_micro".into();
        }
        Ok(cfg)
    }
}

/// Arguments of `burnish evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// Run directory written by `burnish finetune`.
    #[arg(long)]
    pub(crate) model: PathBuf,
    /// A LoRA adapter folder to put on `--model` (then the base model): made by `burnish
    /// finetune --lora` (RUN_DIR/adapter) or by `peft`; merged in before use.
    #[arg(long)]
    pub(crate) adapter: Option<PathBuf>,
    /// Labelled data (CSV, TSV or JSONL) with the run's columns.
    #[arg(long)]
    pub(crate) data: PathBuf,
    /// Backend.
    #[arg(long, default_value = "flex")]
    pub(crate) backend: String,
    /// Batch size.
    #[arg(long, default_value_t = 64)]
    pub(crate) batch_size: usize,
    /// Skip unreadable rows instead of stopping.
    #[arg(long)]
    pub(crate) skip_bad_rows: bool,
    /// Embedding runs: texts added to the retrieval corpus (each `--data` anchor is ranked
    /// against every positive and these).
    #[arg(long)]
    pub(crate) corpus: Option<PathBuf>,
    /// Embedding runs: the text column of `--corpus`.
    #[arg(long, default_value = "text")]
    pub(crate) corpus_column: String,
}

/// Arguments of `burnish predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// Run directory written by `burnish finetune`.
    #[arg(long)]
    pub(crate) model: PathBuf,
    /// A LoRA adapter folder to put on `--model` (then the base model): made by `burnish
    /// finetune --lora` (RUN_DIR/adapter) or by `peft`; merged in before use.
    #[arg(long)]
    pub(crate) adapter: Option<PathBuf>,
    /// Input: a CSV/TSV/JSONL file with the run's text column(s), or any other file with one
    /// text per line (`a<TAB>b` for a pair).
    #[arg(long)]
    pub(crate) input: PathBuf,
    /// Output JSON-lines file (default: stdout).
    #[arg(long)]
    pub(crate) output: Option<PathBuf>,
    /// Backend.
    #[arg(long, default_value = "flex")]
    pub(crate) backend: String,
    /// Batch size.
    #[arg(long, default_value_t = 64)]
    pub(crate) batch_size: usize,
}
