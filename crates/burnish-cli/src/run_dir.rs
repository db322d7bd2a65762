//! Run directories: what `burnish finetune` writes and `evaluate` / `predict` read back.
//!
//! A finished run directory is a Hugging Face model folder (`config.json` with `id2label`,
//! `model.safetensors`, tokenizer files) plus `training_config.json` (how it was trained),
//! `labels.json`, `metrics.json`, `log.jsonl` and `training.png`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use burnish::train::TrainConfig;
use serde::{Deserialize, Serialize};

/// `training_config.json`.
pub const TRAINING_CONFIG: &str = "training_config.json";
/// `metrics.json`.
pub const METRICS: &str = "metrics.json";
/// `labels.json`.
pub const LABELS: &str = "labels.json";

/// How a run was trained: enough to read new data the same way.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunInfo {
    /// `classification`.
    pub task: String,
    /// The pre-trained model folder it started from.
    pub base_model: PathBuf,
    /// Training data file.
    pub train_file: PathBuf,
    /// Validation data file (`None`: carved from the training file).
    pub valid_file: Option<PathBuf>,
    /// Column holding the text.
    pub text_column: String,
    /// Column holding the second text of a pair.
    pub text_pair_column: Option<String>,
    /// Column holding the label.
    pub label_column: String,
    /// `class`, `multi-label` or `regression`.
    pub label_kind: String,
    /// The training hyper-parameters.
    pub train: TrainConfig,
}

impl RunInfo {
    /// Reads `training_config.json` from a run directory.
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(TRAINING_CONFIG);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("{}: not a burnish run directory", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("{}", path.display()))
    }
}

/// Writes JSON atomically (temporary file, then rename).
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    burnish::encoder::config::write_atomic(path, text.as_bytes())?;
    Ok(())
}
