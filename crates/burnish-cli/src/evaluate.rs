//! `burnish evaluate` and `burnish predict` on a fine-tuned run directory: each run's task
//! reads and writes its own.

use anyhow::Result;

use crate::args::{EvaluateArgs, PredictArgs, TaskArg};
use crate::run_dir::RunInfo;

/// Runs `burnish evaluate`: prints the metrics as JSON on stdout.
pub fn run_evaluate(args: EvaluateArgs) -> Result<()> {
    if let Some(info) = crate::embed::sentence_folder_info(&args.model) {
        return crate::embed::evaluate(&args, info);
    }
    if let Some(info) = crate::rerank::cross_encoder_folder_info(&args.model) {
        return crate::rerank::evaluate(&args, info);
    }
    let info = RunInfo::read(&args.model)?;
    match info.task {
        TaskArg::Ner => crate::ner::evaluate(&args, info),
        TaskArg::Qa => crate::qa::evaluate(&args, info),
        TaskArg::Embedding => crate::embed::evaluate(&args, info),
        TaskArg::Rerank => crate::rerank::evaluate(&args, info),
        TaskArg::Classification => crate::classify::evaluate(&args, info),
    }
}

/// Runs `burnish predict`: one JSON object per input, as the run's task writes it.
pub fn run_predict(args: PredictArgs) -> Result<()> {
    let info = match crate::rerank::cross_encoder_folder_info(&args.model) {
        Some(info) => info,
        None => RunInfo::read(&args.model)?,
    };
    match info.task {
        TaskArg::Ner => crate::ner::predict(&args, info),
        TaskArg::Qa => crate::qa::predict(&args, info),
        TaskArg::Embedding => crate::embed::predict(&args, info),
        TaskArg::Rerank => crate::rerank::predict(&args, info),
        TaskArg::Classification => crate::classify::predict(&args, info),
    }
}
