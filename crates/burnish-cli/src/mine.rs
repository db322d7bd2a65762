//! `burnish mine`: hard negatives for embedding training, retrieved with an embedding model.
//! Each query (a pair's anchor) is scored against the corpus (every positive and the
//! `--corpus` texts) by exact cosine search on the model's backend; the best-ranked texts
//! that are not its positive become its negatives, one `(anchor, positive, negative)` row
//! each, the triplets `burnish finetune --task embedding` reads
//! (`sentence-transformers`' `mine_hard_negatives` with `output_format="triplet"`).

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::{Result, bail};
use burnish::data::{ColumnSpec, Dataset, ReadOptions};
use burnish::train::tasks::embedding;
use clap::Args;

use crate::embed::{Embedder, read_pairs, tokenize};
use crate::run_dir::EmbeddingInfo;
use crate::runtime::output_writer;

/// Arguments of `burnish mine`.
#[derive(Debug, Args)]
pub struct MineArgs {
    /// The embedding model (a `sentence-transformers` folder or an embedding run).
    #[arg(long)]
    pub(crate) model: PathBuf,
    /// Pairs whose anchors are the queries (CSV/TSV/JSONL, `--anchor-column`,
    /// `--positive-column`).
    #[arg(long)]
    queries: PathBuf,
    /// More texts to draw negatives from (a `--corpus-column` column); the positives always
    /// are.
    #[arg(long)]
    corpus: Option<PathBuf>,
    /// The text column of `--corpus`.
    #[arg(long, default_value = "text")]
    corpus_column: String,
    /// The anchor column.
    #[arg(long, default_value = "anchor")]
    anchor_column: String,
    /// The positive column.
    #[arg(long, default_value = "positive")]
    positive_column: String,
    /// Output JSON lines `{"anchor", "positive", "negative"}` (default: stdout).
    #[arg(long)]
    output: Option<PathBuf>,
    /// Negatives per pair.
    #[arg(long, default_value_t = 1)]
    negatives: usize,
    /// Leave out the best-ranked N non-positives (likely unlabelled positives).
    #[arg(long, default_value_t = 0)]
    skip_top: usize,
    /// Backend.
    #[arg(long, default_value = "flex")]
    backend: String,
    /// Texts per forward pass.
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
}

/// Runs `burnish mine`.
pub fn run(args: MineArgs) -> Result<()> {
    if args.negatives == 0 {
        bail!("--negatives must be positive");
    }
    let Embedder {
        model,
        tokenizer,
        pad_id,
        max_length,
        device,
    } = Embedder::load(&args.model, &args.backend, None)?;
    let info = EmbeddingInfo {
        anchor_column: args.anchor_column.clone(),
        positive_column: args.positive_column.clone(),
        negative_column: "negative".into(),
        score_column: None,
    };
    let pairs = read_pairs(&args.queries, &info, false)?;
    let corpus = match &args.corpus {
        Some(path) => {
            let columns = ColumnSpec::new(&args.corpus_column, None);
            Some((path, Dataset::read(path, &ReadOptions::new(columns))?))
        }
        None => None,
    };
    // The corpus: each distinct text once, positives first, with the file and line it was
    // first read at (for errors).
    let mut texts: Vec<(String, &PathBuf, usize)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut add = |text: &str, path, line| -> usize {
        *index.entry(text.to_owned()).or_insert_with(|| {
            texts.push((text.to_owned(), path, line));
            texts.len() - 1
        })
    };
    let positives: Vec<usize> = (pairs.records.iter())
        .map(|r| {
            add(
                r.text_pair.as_deref().unwrap_or_default(),
                &args.queries,
                r.line,
            )
        })
        .collect();
    if let Some((path, data)) = &corpus {
        for record in &data.records {
            add(&record.text, *path, record.line);
        }
    }
    let queries = (pairs.records.iter())
        .map(|r| tokenize(&tokenizer, &r.text, max_length, &args.queries, r.line))
        .collect::<Result<Vec<_>>>()?;
    let corpus_ids = (texts.iter())
        .map(|(text, path, line)| tokenize(&tokenizer, text, max_length, path, *line))
        .collect::<Result<Vec<_>>>()?;
    eprintln!(
        "mining {} negatives for {} queries among {} texts",
        args.negatives,
        queries.len(),
        texts.len()
    );
    let query_vectors = embedding::embed(&model, &queries, args.batch_size, pad_id, &device);
    let corpus_vectors = embedding::embed(&model, &corpus_ids, args.batch_size, pad_id, &device);
    let depth = args.skip_top + args.negatives + 1;
    let rankings = embedding::rank(&query_vectors, &corpus_vectors, depth, &device);
    let mut out = output_writer(args.output.as_deref())?;
    let mut rows = 0;
    for ((record, &positive), ranking) in pairs.records.iter().zip(&positives).zip(&rankings) {
        let negatives = ranking
            .iter()
            .filter(|&&doc| doc != positive)
            .skip(args.skip_top)
            .take(args.negatives);
        for &doc in negatives {
            let row = serde_json::json!({
                "anchor": record.text,
                "positive": texts[positive].0,
                "negative": texts[doc].0,
            });
            serde_json::to_writer(&mut out, &row)?;
            out.write_all(b"\n")?;
            rows += 1;
        }
    }
    out.finish()?;
    eprintln!("wrote {rows} triplets");
    Ok(())
}
