//! `burnish finetune`: one run, or one per seed (`--seeds`), of the chosen task.

use anyhow::{Result, bail};

use crate::args::{FinetuneArgs, InitArg, TaskArg};

/// Runs `burnish finetune`.
pub fn run(args: FinetuneArgs) -> Result<()> {
    if args.seeds > 1 {
        return crate::seeds::run(args, run_one);
    }
    if args.seeds == 0 {
        bail!("--seeds 0: expected at least one seed");
    }
    run_one(args)
}

/// One fine-tuning run (one seed) into `args.out`.
fn run_one(args: FinetuneArgs) -> Result<()> {
    if args.init != InitArg::Pretrained && args.task != TaskArg::Classification {
        bail!(
            "--init {} is for --task classification only",
            args.init.name()
        );
    }
    match args.task {
        TaskArg::Classification => crate::classify::run_classification(args),
        TaskArg::Ner => crate::ner::finetune(&args),
        TaskArg::Qa => crate::qa::finetune(&args),
        TaskArg::Embedding => crate::embed::finetune(&args),
        TaskArg::Rerank => crate::rerank::finetune(&args),
    }
}
