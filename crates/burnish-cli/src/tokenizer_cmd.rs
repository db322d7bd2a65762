//! `burnish tokenizer train`: learn a BERT WordPiece vocabulary from text files;
//! `burnish tokenizer extend`: add a corpus's frequent, much-split words to a model's
//! vocabulary (`burnish::vocab::extend_vocabulary`).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Result, bail};
use burnish::data::{Corpus, CorpusOptions};
use burnish::tokenizer::{WordPieceTrainOptions, train_wordpiece};
use burnish::vocab::extend_vocabulary;
use clap::{Args, Subcommand};

/// `burnish tokenizer ...`.
#[derive(Debug, Subcommand)]
pub enum TokenizerCommand {
    /// Train a WordPiece vocabulary (BERT normaliser and pre-tokenizer) on text files and write
    /// `tokenizer.json`, `vocab.txt` and the tokenizer configs that `transformers` loads.
    Train(TrainArgs),
    /// Add the words of a domain corpus that the tokenizer splits into the most pieces to a
    /// model's WordPiece vocabulary, with embedding rows from the mean of their pieces, and
    /// write the extended model folder (continue with `burnish pretrain --objective mlm`).
    Extend(ExtendArgs),
}

/// Arguments of `burnish tokenizer extend`.
#[derive(Debug, Args)]
pub struct ExtendArgs {
    /// The model folder (or Hugging Face Hub id) whose vocabulary grows.
    #[arg(long)]
    pub(crate) model: PathBuf,
    /// The domain corpus (text, JSON Lines, `.gz`), as `burnish pretrain` reads it.
    #[arg(long, required = true, num_args = 1..)]
    corpus: Vec<PathBuf>,
    /// How many words to add (those saving the most tokens over the corpus).
    #[arg(long, default_value_t = 1000)]
    add: usize,
    /// Only words seen at least this often.
    #[arg(long, default_value_t = 5)]
    min_count: u64,
    /// The extended model folder.
    #[arg(long)]
    out: PathBuf,
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
        TokenizerCommand::Extend(args) => extend(args),
    }
}

fn extend(args: ExtendArgs) -> Result<()> {
    let corpus = Corpus::new(&args.corpus, CorpusOptions::default())?;
    let texts: Vec<String> = corpus
        .sentences()
        .map(|s| s.map(|s| s.text))
        .collect::<std::result::Result<_, _>>()?;
    let report = extend_vocabulary(
        &args.model,
        texts.iter().map(String::as_str),
        args.add,
        args.min_count,
        &args.out,
    )?;
    let examples: Vec<String> = report
        .added
        .iter()
        .take(8)
        .map(|w| format!("{} ({}x, {} pieces)", w.word, w.count, w.pieces.len()))
        .collect();
    println!(
        "{}",
        serde_json::json!({
            "added": report.added.len(),
            "vocab_size": [report.vocab_size.0, report.vocab_size.1],
            "tokens_per_word": [report.tokens_per_word.0, report.tokens_per_word.1],
            "resized": report.resized,
            "words": report.added.iter().map(|w| &w.word).collect::<Vec<_>>(),
        })
    );
    eprintln!(
        "added {} words ({}, ...); tokens per word on the corpus {:.4} -> {:.4}; wrote {}",
        report.added.len(),
        examples.join(", "),
        report.tokens_per_word.0,
        report.tokens_per_word.1,
        args.out.display()
    );
    Ok(())
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
