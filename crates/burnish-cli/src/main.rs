//! `burnish`: pre-train and fine-tune BERT-style encoders from the command line.
//!
//! Subcommands:
//! - `burnish encode --model DIR --input FILE --output FILE.jsonl [--backend NAME] [--max-length N]`

mod encode;

use clap::{Parser, Subcommand};

/// burnish: BERT-style encoders on Burn (CPU, WGPU, CUDA).
#[derive(Debug, Parser)]
#[command(name = "burnish", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Encode text lines with a model folder into JSON lines of hidden states and embeddings.
    Encode(encode::EncodeArgs),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Encode(args) => encode::run(args),
    };
    if let Err(err) = result {
        // One line: the error and its causes, outermost first.
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}
