//! Run directories: what `burnish finetune` writes and `evaluate` / `predict` read back.
//!
//! A finished run directory is a Hugging Face model folder (`config.json` with `id2label`,
//! `model.safetensors`, tokenizer files) plus `training_config.json` (how it was trained),
//! `labels.json`, `metrics.json`, `log.jsonl`, `training.png` and the model card `README.md`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use burnish::train::TrainConfig;
use serde::{Deserialize, Serialize};

use crate::args::{FinetuneArgs, InitArg, TaskArg};

/// `training_config.json`.
pub const TRAINING_CONFIG: &str = "training_config.json";
/// `metrics.json`.
pub const METRICS: &str = "metrics.json";
/// `labels.json`.
pub const LABELS: &str = "labels.json";

/// How a run was trained: enough to read new data the same way.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunInfo {
    /// The task, which decides how `evaluate` and `predict` read the folder.
    pub task: TaskArg,
    /// The pre-trained model folder it started from.
    pub base_model: PathBuf,
    /// Training data file.
    pub train_file: PathBuf,
    /// Validation data file (`None`: carved from the training file).
    pub valid_file: Option<PathBuf>,
    /// Column holding the text (classification).
    #[serde(default)]
    pub text_column: String,
    /// Column holding the second text of a pair (classification).
    #[serde(default)]
    pub text_pair_column: Option<String>,
    /// Column holding the label (classification).
    #[serde(default)]
    pub label_column: String,
    /// `class`, `multi-label` or `regression` (classification).
    #[serde(default)]
    pub label_kind: String,
    /// Token classification settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ner: Option<NerInfo>,
    /// Question answering settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qa: Option<QaInfo>,
    /// Embedding settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding: Option<EmbeddingInfo>,
    /// Where the weights started: `pretrained` (the base model's) or `random` (runs written
    /// before `--init` existed have none: pretrained).
    #[serde(default = "pretrained")]
    pub init: InitArg,
    /// The training hyper-parameters.
    pub train: TrainConfig,
}

fn pretrained() -> InitArg {
    InitArg::Pretrained
}

/// How an embedding run reads its pairs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EmbeddingInfo {
    /// The anchor column.
    pub anchor_column: String,
    /// The positive column.
    pub positive_column: String,
    /// The hard-negative column (read where a file has it).
    pub negative_column: String,
    /// The score column of scored pairs.
    pub score_column: Option<String>,
}

/// How a token classifier reads its data.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NerInfo {
    /// The tag scheme of the training files (`iob1`, `iob2`, `bioes`).
    pub source_scheme: String,
    /// The scheme the model's tags use (`iob2`).
    pub tag_scheme: String,
    /// Whether every sub-word was labelled (else only the first of each word).
    pub label_all_subwords: bool,
}

/// How a question answering model reads contexts and picks answers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QaInfo {
    /// Tokens shared by consecutive context windows.
    pub doc_stride: usize,
    /// The longest answer in tokens.
    pub max_answer_length: usize,
    /// Best start / end tokens paired per window.
    pub n_best: usize,
    /// For SQuAD v2 models: the null-score margin that answers nothing; `None` always answers.
    pub null_threshold: Option<f32>,
}

impl RunInfo {
    /// What every fine-tuning run records, from `burnish finetune`'s arguments and the run's
    /// configuration; the task's own settings (columns, NER or QA settings, `--init`) are left
    /// empty for the task to fill.
    pub fn new(task: TaskArg, args: &FinetuneArgs, train: &TrainConfig) -> Self {
        Self {
            train_file: args.train.clone(),
            valid_file: args.valid.clone(),
            ..Self::bare(task, args.model.clone(), train.clone())
        }
    }

    /// A run of `task` from `base_model` with `train`'s settings, nothing else known (no data
    /// files, no columns, no task settings).
    pub fn bare(task: TaskArg, base_model: PathBuf, train: TrainConfig) -> Self {
        Self {
            task,
            base_model,
            train_file: PathBuf::new(),
            valid_file: None,
            text_column: String::new(),
            text_pair_column: None,
            label_column: String::new(),
            label_kind: String::new(),
            ner: None,
            qa: None,
            embedding: None,
            init: InitArg::Pretrained,
            train,
        }
    }

    /// Reads `training_config.json` from a run directory.
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(TRAINING_CONFIG);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("{}: not a burnish run directory", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("{}", path.display()))
    }
}

/// Ends a fine-tuning run's folder: `training_config.json`, the model card (`README.md`,
/// [`crate::card`]) and, last because it marks the run finished, `metrics.json`.
pub fn finish(out: &Path, info: &RunInfo, metrics: &serde_json::Value) -> Result<()> {
    write_json(&out.join(TRAINING_CONFIG), info)?;
    write_card(out, &crate::card::Card::finetune(info), metrics)?;
    write_json(&out.join(METRICS), metrics)
}

/// Writes the model card `README.md` of the run folder `out` ([`crate::card`]).
pub fn write_card(
    out: &Path,
    card: &crate::card::Card<'_>,
    metrics: &serde_json::Value,
) -> Result<()> {
    let path = out.join(crate::card::README);
    burnish::fs::write_atomic(&path, crate::card::render(out, card, metrics).as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Writes JSON atomically (temporary file, then rename).
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    burnish::fs::write_atomic(path, text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}
