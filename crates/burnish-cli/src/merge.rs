//! `burnish merge`: a LoRA adapter folder folded into its base model
//! (`burnish::adapter::merge_adapter`), and `--adapter` of `evaluate` / `predict`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burnish::adapter::AdapterTask;
use burnish::encoder::{BertConfig, CONFIG_FILE};
use burnish::train::TrainConfig;
use clap::Args;

use crate::args::{InitArg, TaskArg};
use crate::run_dir::{self, NerInfo, QaInfo, RunInfo};

/// Arguments of `burnish merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The base model folder the adapter was trained on (or a Hugging Face Hub id).
    #[arg(long)]
    pub(crate) model: PathBuf,
    /// The adapter folder: `RUN_DIR/adapter` of `burnish finetune --lora`, or one `peft`
    /// saved (`adapter_config.json`, `adapter_model.safetensors`).
    #[arg(long)]
    adapter: PathBuf,
    /// The merged model folder to write: a plain Hugging Face folder.
    #[arg(long)]
    out: PathBuf,
    /// The backend that reads the weights.
    #[arg(long, default_value = "flex")]
    backend: String,
}

/// Runs `burnish merge`.
pub fn run(args: MergeArgs) -> Result<()> {
    let device = burnish::backend::device(&args.backend)?;
    let task = burnish::adapter::merge_adapter(&args.model, &args.adapter, &device, &args.out)?;
    eprintln!(
        "wrote {} ({task:?}: {} with {} merged in)",
        args.out.display(),
        args.model.display(),
        args.adapter.display()
    );
    Ok(())
}

/// `--model BASE --adapter DIR` of `evaluate` / `predict`: the merged model (read on the
/// command's `backend`) in a temporary folder, which replaces `model` (and lives as long as the returned guard). How to read data
/// comes from the burnish run folder holding the adapter (`RUN_DIR/adapter`); an adapter from
/// elsewhere (`peft`) gets the defaults of `burnish finetune` for its task (columns `text` and
/// `label`; NER in IOB2; QA's window settings).
pub(crate) fn merged(
    model: &mut PathBuf,
    adapter: &Path,
    backend: &str,
) -> Result<tempfile::TempDir> {
    let dir = tempfile::tempdir().context("creating a folder for the merged model")?;
    let device = burnish::backend::device(backend)?;
    let task = burnish::adapter::merge_adapter(&*model, adapter, &device, dir.path())?;
    let run = adapter
        .parent()
        .filter(|p| p.join(run_dir::TRAINING_CONFIG).is_file());
    let info = match run {
        Some(run) => RunInfo::read(run)?,
        None => {
            let task = match task {
                AdapterTask::SequenceClassification => TaskArg::Classification,
                AdapterTask::TokenClassification => TaskArg::Ner,
                AdapterTask::QuestionAnswering => TaskArg::Qa,
                AdapterTask::Encoder => bail!(
                    "{}: an adapter of an encoder (no task head): evaluate and predict need \
                     one of a classifier, token classifier or QA model",
                    adapter.display()
                ),
            };
            RunInfo {
                task,
                base_model: model.clone(),
                train_file: PathBuf::new(),
                valid_file: None,
                text_column: "text".into(),
                text_pair_column: None,
                label_column: "label".into(),
                label_kind: "class".into(),
                ner: (task == TaskArg::Ner).then(|| NerInfo {
                    source_scheme: "iob2".into(),
                    tag_scheme: "iob2".into(),
                    label_all_subwords: false,
                }),
                qa: (task == TaskArg::Qa).then(|| QaInfo {
                    doc_stride: 128,
                    max_answer_length: 30,
                    n_best: 20,
                    null_threshold: None,
                }),
                embedding: None,
                init: InitArg::Pretrained,
                train: TrainConfig {
                    // The default, or what the model's positions cover.
                    max_length: TrainConfig::default().max_length.min(
                        BertConfig::from_file(dir.path().join(CONFIG_FILE))?.max_sequence_length(),
                    ),
                    ..TrainConfig::default()
                },
            }
        }
    };
    run_dir::write_json(&dir.path().join(run_dir::TRAINING_CONFIG), &info)?;
    *model = dir.path().to_path_buf();
    Ok(dir)
}
