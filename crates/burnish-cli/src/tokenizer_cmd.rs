//! `burnish tokenizer train`: learn a BERT WordPiece vocabulary from text files.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Result, bail};
use burnish::tokenizer::{WordPieceTrainOptions, train_wordpiece};
use clap::{Args, Subcommand};

/// `burnish tokenizer ...`.
#[derive(Debug, Subcommand)]
pub enum TokenizerCommand {
    /// Train a WordPiece vocabulary (BERT normaliser and pre-tokenizer) on text files and write
    /// `tokenizer.json`, `vocab.txt` and the tokenizer configs that `transformers` loads.
    Train(TrainArgs),
}

/// Arguments of `burnish tokenizer train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Text files (one or more sentences a line; `.gz` is decompressed).
    #[arg(long, required = true, num_args = 1..)]
    corpus: Vec<PathBuf>,
    /// Vocabulary size, special tokens included.
    #[arg(long, default_value_t = 30_522)]
    vocab_size: usize,
    /// A pair must occur this often to be merged.
    #[arg(long, default_value_t = 2)]
    min_frequency: u64,
    /// Keep case and accents (default: lower-case and strip accents, like `bert-base-uncased`).
    #[arg(long)]
    cased: bool,
    /// The model's maximum length, written as `model_max_length`.
    #[arg(long, default_value_t = 512)]
    max_length: usize,
    /// Output folder.
    #[arg(long)]
    out: PathBuf,
    /// Hide the progress bar.
    #[arg(long)]
    quiet: bool,
}

/// Runs a `burnish tokenizer` command.
pub fn run(command: TokenizerCommand) -> Result<()> {
    match command {
        TokenizerCommand::Train(args) => train(args),
    }
}

fn train(args: TrainArgs) -> Result<()> {
    let started = Instant::now();
    for file in &args.corpus {
        if !file.is_file() {
            bail!("{}: no such corpus file", file.display());
        }
    }
    let options = WordPieceTrainOptions {
        vocab_size: args.vocab_size,
        min_frequency: args.min_frequency,
        lowercase: !args.cased,
        show_progress: !args.quiet,
        ..WordPieceTrainOptions::default()
    };
    let mut tokenizer = train_wordpiece(&args.corpus, &options)?;
    tokenizer.set_model_max_length(Some(args.max_length));
    tokenizer.save_dir(&args.out)?;
    eprintln!(
        "trained a {}-token WordPiece vocabulary ({}) on {} file(s) in {:.1}s; wrote {}",
        tokenizer.vocab_size(),
        if args.cased { "cased" } else { "uncased" },
        args.corpus.len(),
        started.elapsed().as_secs_f64(),
        args.out.display()
    );
    Ok(())
}
