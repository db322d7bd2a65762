//! `burnish`: pre-train and fine-tune BERT-style encoders from the command line.
//!
//! Subcommands:
//! - `burnish encode --model DIR --input FILE --output FILE.jsonl [--backend NAME] [--max-length N]`
//! - `burnish finetune --task classification|ner|qa|embedding --model DIR --train FILE [--valid FILE] --out RUN_DIR`
//! - `burnish evaluate --model RUN_DIR --data FILE`
//! - `burnish predict --model RUN_DIR --input FILE [--output FILE.jsonl]`
//! - `burnish tokenizer train --corpus FILES --vocab-size N --out DIR`
//! - `burnish pretrain --objective mlm|mlm+nsp|clm --corpus FILES --out RUN_DIR [--model DIR]`
//! - `burnish export --model RUN_DIR --format onnx --out model.onnx [--quantize int8]`
//! - `burnish merge --model BASE --adapter RUN_DIR/adapter --out DIR`
//! - `burnish mine --model EMBEDDER --queries PAIRS [--corpus FILE] --output TRIPLETS.jsonl`
//! - `burnish bench [--backends flex,tch,wgpu] [--shapes minilm,bert-base] [--batch 32] [--seq 128]`

mod args;
mod bench;
mod card;
mod classify;
mod embed;
mod encode;
mod evaluate;
mod export;
mod finetune;
mod merge;
mod mine;
mod ner;
mod pretrain;
mod qa;
mod rerank;
mod run_dir;
mod runtime;
mod seeds;
mod tokenizer_cmd;

use clap::{Parser, Subcommand};

/// burnish: BERT-style encoders on Burn (CPU, WGPU, CUDA).
#[derive(Debug, Parser)]
#[command(name = "burnish", version, about)]
struct Cli {
    /// CPU threads for the CPU backends (flex's pool, LibTorch's intra-op pool; `bench`: both
    /// sides). 0: every core.
    #[arg(long, global = true, default_value_t = 0)]
    threads: usize,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Encode text lines with a model folder into JSON lines of hidden states and embeddings.
    Encode(encode::EncodeArgs),
    /// Fine-tune a pre-trained model on labelled data; writes a run directory.
    Finetune(Box<args::FinetuneArgs>),
    /// Evaluate a fine-tuned run directory on labelled data; prints metrics as JSON.
    Evaluate(args::EvaluateArgs),
    /// Predict with a fine-tuned run directory; writes JSON lines.
    Predict(args::PredictArgs),
    /// Pre-train (MLM, MLM+NSP, CLM) on text corpora, from scratch or from a checkpoint.
    Pretrain(Box<pretrain::PretrainArgs>),
    /// Tokenizer tools: train a WordPiece vocabulary on a corpus, extend a model's.
    #[command(subcommand)]
    Tokenizer(tokenizer_cmd::TokenizerCommand),
    /// Inference and training-step tokens/s per backend beside PyTorch + transformers.
    Bench(bench::BenchArgs),
    /// Export a model or run folder to ONNX (ONNX Runtime, dynamic batch and sequence axes).
    Export(export::ExportArgs),
    /// Fold a LoRA adapter folder (burnish's or peft's) into its base model: a plain folder.
    Merge(merge::MergeArgs),
    /// Hard negatives for embedding training, retrieved with an embedding model.
    Mine(mine::MineArgs),
}

/// Has glibc's allocator keep freed memory for reuse. Every step of a flex forward pass
/// allocates and frees the same large activation buffers; by default glibc maps the largest
/// afresh and returns freed memory at the top of its heap to the kernel, so each step faults
/// them in again as zeroed pages (half the time of a MiniLM inference step). Every block now
/// comes from the heap (`M_MMAP_MAX` 0: not even the 75 MB vocabulary logits of an MLM step
/// are mapped afresh each time), and up to 1 GiB of free heap is kept. The peak resident
/// memory does not grow from this: a freed block is reused before the heap grows
/// (`burnish bench` prints it for every row).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keep_freed_memory() {
    // SAFETY: `mallopt` only sets allocator parameters; it runs before any other thread.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_MMAP_MAX, 0);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn keep_freed_memory() {}

fn main() {
    keep_freed_memory();
    let cli = Cli::parse();
    // Before any tensor exists: flex's pool takes its size once.
    let threads = burnish::encoder::threads::set_cpu_threads(cli.threads);
    let result = threads
        .map_err(anyhow::Error::from)
        .and_then(|threads| match cli.command {
            Command::Encode(mut args) => {
                hub(&mut args.model)?;
                encode::run(args)
            }
            Command::Finetune(mut args) => {
                hub(&mut args.model)?;
                finetune::run(*args)
            }
            Command::Evaluate(mut args) => {
                hub(&mut args.model)?;
                let _merged = match &args.adapter {
                    Some(adapter) => Some(merge::merged(&mut args.model, adapter, &args.backend)?),
                    None => None,
                };
                evaluate::run_evaluate(args)
            }
            Command::Predict(mut args) => {
                hub(&mut args.model)?;
                let _merged = match &args.adapter {
                    Some(adapter) => Some(merge::merged(&mut args.model, adapter, &args.backend)?),
                    None => None,
                };
                evaluate::run_predict(args)
            }
            Command::Tokenizer(mut command) => {
                if let tokenizer_cmd::TokenizerCommand::Extend(args) = &mut command {
                    hub(&mut args.model)?;
                }
                tokenizer_cmd::run(command)
            }
            Command::Pretrain(mut args) => {
                if let Some(model) = &mut args.model {
                    hub(model)?;
                }
                pretrain::run(*args)
            }
            Command::Bench(args) => bench::run(args, threads),
            Command::Export(mut args) => {
                hub(&mut args.model)?;
                export::run(args)
            }
            Command::Mine(mut args) => {
                hub(&mut args.model)?;
                mine::run(args)
            }
            Command::Merge(mut args) => {
                hub(&mut args.model)?;
                merge::run(args)
            }
        });
    if let Err(err) = result {
        eprintln!("error: {}", one_line(&err));
        std::process::exit(1);
    }
}

/// A `--model` given as a Hugging Face Hub id (`ORG/NAME[@REVISION]`) replaced by its folder
/// in the Hub cache (downloaded when missing and allowed); an existing path is kept.
fn hub(model: &mut std::path::PathBuf) -> anyhow::Result<()> {
    *model = burnish::hub::resolve_model(&*model)?;
    Ok(())
}

/// The error and its causes on one line, outermost first, leaving out a cause whose text the
/// line already holds (the library errors quote their source in their own message).
fn one_line(err: &anyhow::Error) -> String {
    let mut line = err.to_string();
    for cause in err.chain().skip(1) {
        let text = cause.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
    }
    line.replace('\n', " ")
}
