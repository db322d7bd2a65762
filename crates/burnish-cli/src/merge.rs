//! `burnish merge`: a LoRA adapter folder folded into its base model
//! (`burnish::adapter::merge_adapter`), and `--adapter` of `evaluate` / `predict`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;

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

/// `--model BASE --adapter DIR` of `evaluate` / `predict`: the merged model in a temporary
/// folder, which replaces `model` (and lives as long as the returned guard).
pub(crate) fn merged(model: &mut PathBuf, adapter: &Path) -> Result<tempfile::TempDir> {
    let dir = tempfile::tempdir().context("creating a folder for the merged model")?;
    let device = burnish::backend::device("flex")?;
    burnish::adapter::merge_adapter(&*model, adapter, &device, dir.path())?;
    *model = dir.path().to_path_buf();
    Ok(dir)
}
