//! `burnish mine`: hard negatives for embedding training, retrieved with an embedding model.
//! Each query (a pair's anchor) is scored against the corpus (every positive and the
//! `--corpus` texts) by exact cosine search on the model's backend; the best-ranked texts
//! that are not its positive become its negatives, one `(anchor, positive, negative)` row
//! each, the triplets `burnish finetune --task embedding` reads
//! (`sentence-transformers`' `mine_hard_negatives` with `output_format="triplet"`).
//! `--format labeled` writes the same as `(query, passage, label)` rows, the positive then its
//! negatives (`output_format="labeled-pair"`), what `--task rerank` trains on; `--format
//! ranked` writes each query's top `--top` texts in the model's order, labelled, the
//! candidates a reranker is evaluated on.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::{Result, bail};
use burnish::data::{ColumnSpec, Dataset, ReadOptions};
use burnish::train::tasks::embedding;
use clap::{Args, ValueEnum};

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
    /// Output JSON lines (default: stdout).
    #[arg(long)]
    output: Option<PathBuf>,
    /// What each output line is.
    #[arg(long, value_enum, default_value = "triplet")]
    format: MineFormat,
    /// `--format ranked`: texts per query.
    #[arg(long, default_value_t = 50)]
    top: usize,
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

/// `burnish mine --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MineFormat {
    /// `{"anchor", "positive", "negative"}`: one line per negative (embedding training).
    Triplet,
    /// `{"query", "passage", "label"}`: the positive (1), then its negatives (0) (rerank
    /// training).
    Labeled,
    /// `{"query", "passage", "label"}`: the `--top` best-ranked texts in order, 1 for the
    /// positive (rerank evaluation).
    Ranked,
}

/// Runs `burnish mine`.
pub fn run(args: MineArgs) -> Result<()> {
    if args.negatives == 0 || args.top == 0 {
        bail!("--negatives and --top must be positive");
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
        "mining {} for {} queries among {} texts",
        match args.format {
            MineFormat::Ranked => format!("the top {}", args.top),
            _ => format!("{} negatives", args.negatives),
        },
        queries.len(),
        texts.len()
    );
    let query_vectors = embedding::embed(&model, &queries, args.batch_size, pad_id, &device);
    let corpus_vectors = embedding::embed(&model, &corpus_ids, args.batch_size, pad_id, &device);
    let depth = match args.format {
        MineFormat::Ranked => args.top,
        _ => args.skip_top + args.negatives + 1,
    };
    let rankings = embedding::rank(&query_vectors, &corpus_vectors, depth, &device);
    let mut out = output_writer(args.output.as_deref())?;
    let mut rows = 0;
    let mut write = |row: serde_json::Value| -> Result<()> {
        serde_json::to_writer(&mut out, &row)?;
        out.write_all(b"\n")?;
        rows += 1;
        Ok(())
    };
    let labeled = |query: &str, doc: usize, label: u8| serde_json::json!({"query": query, "passage": texts[doc].0, "label": label});
    for ((record, &positive), ranking) in pairs.records.iter().zip(&positives).zip(&rankings) {
        if args.format == MineFormat::Ranked {
            for &doc in ranking {
                write(labeled(&record.text, doc, u8::from(doc == positive)))?;
            }
            continue;
        }
        let negatives = ranking
            .iter()
            .filter(|&&doc| doc != positive)
            .skip(args.skip_top)
            .take(args.negatives);
        if args.format == MineFormat::Labeled {
            write(labeled(&record.text, positive, 1))?;
        }
        for &doc in negatives {
            write(match args.format {
                MineFormat::Triplet => serde_json::json!({
                    "anchor": record.text,
                    "positive": texts[positive].0,
                    "negative": texts[doc].0,
                }),
                _ => labeled(&record.text, doc, 0),
            })?;
        }
    }
    out.finish()?;
    eprintln!("wrote {rows} rows");
    Ok(())
}
