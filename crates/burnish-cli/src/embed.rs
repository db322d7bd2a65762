//! `burnish finetune --task embedding`, and `evaluate` / `predict` of its runs: a sentence
//! embedding model trained on pairs, saved as a `sentence-transformers` folder.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use burnish::burn::tensor::Device;
use burnish::data::{BadRowPolicy, ColumnSpec, Dataset, LabelKind, RawLabel, ReadOptions};
use burnish::heads::sentence::LossKind;
use burnish::heads::{SentenceConfig, SentenceEncoder};
use burnish::tokenizer::{EncodeOptions, Tokenizer, TruncationStrategy};
use burnish::train::TrainConfig;
use burnish::train::tasks::embedding::{
    self, EmbeddingEval, PairBatches, PairFeature, RetrievalSet, ScoredPairs,
};

use crate::args::{EvaluateArgs, FinetuneArgs, PredictArgs, TaskArg};
use crate::run_dir::{self, EmbeddingInfo, RunInfo};
use crate::runtime::{
    RunFolder, check_task_model, fit_and_save, hold_out, output_writer, print_summary, run_metrics,
    start_finetune,
};

/// The columns an embedding file is read with.
pub(crate) fn read_pairs(
    path: &Path,
    info: &EmbeddingInfo,
    skip_bad_rows: bool,
) -> Result<Dataset> {
    let columns = ColumnSpec::pair(
        &info.anchor_column,
        &info.positive_column,
        info.score_column.as_deref(),
    )
    .with_extra([info.negative_column.clone()]);
    let mut read = ReadOptions::new(columns);
    read.label_kind = LabelKind::Regression;
    read.bad_rows = if skip_bad_rows {
        BadRowPolicy::Skip
    } else {
        BadRowPolicy::Fail
    };
    let data = Dataset::read(path, &read)?;
    if let Some(summary) = data.bad_rows_summary(5) {
        eprintln!("warning: {summary}");
    }
    Ok(data)
}

/// Token ids of one text, truncated to `max_length`; errors name the file and line.
pub(crate) fn tokenize(
    tokenizer: &Tokenizer,
    text: &str,
    max_length: usize,
    path: &Path,
    line: usize,
) -> Result<Vec<u32>> {
    let options = EncodeOptions {
        max_length: Some(max_length),
        truncation: TruncationStrategy::LongestFirst,
        ..EncodeOptions::default()
    };
    Ok(tokenizer
        .encode(text, &options)
        .with_context(|| format!("{}:{line}", path.display()))?
        .ids)
}

/// The tokenized pairs of a file.
fn pair_features(
    tokenizer: &Tokenizer,
    data: &Dataset,
    max_length: usize,
) -> Result<Vec<PairFeature>> {
    data.records
        .iter()
        .map(|r| {
            let tok = |text: &str| tokenize(tokenizer, text, max_length, &data.path, r.line);
            let positive = r
                .text_pair
                .as_deref()
                .context("pairs are read with a positive column")?;
            Ok(PairFeature {
                anchor: tok(&r.text)?,
                positive: tok(positive)?,
                negatives: r
                    .extra
                    .iter()
                    .flatten()
                    .map(|t| tok(t))
                    .collect::<Result<_>>()?,
                score: match r.label {
                    Some(RawLabel::Value(v)) => Some(v as f32),
                    _ => None,
                },
            })
        })
        .collect()
}

/// The texts of a corpus file's `column`, tokenized.
fn corpus_texts(
    tokenizer: &Tokenizer,
    path: &Path,
    column: &str,
    max_length: usize,
) -> Result<Vec<Vec<u32>>> {
    let data = Dataset::read(path, &ReadOptions::new(ColumnSpec::new(column, None)))?;
    data.records
        .iter()
        .map(|r| tokenize(tokenizer, &r.text, max_length, path, r.line))
        .collect()
}

/// What an embedding model is validated on: retrieval (pairs) or Spearman (scored pairs).
enum Validation {
    Retrieval(RetrievalSet),
    Scored(ScoredPairs),
}

impl Validation {
    fn new(features: &[PairFeature], corpus: &[Vec<u32>], scored: bool) -> Self {
        if scored {
            Validation::Scored(ScoredPairs {
                a: features.iter().map(|f| f.anchor.clone()).collect(),
                b: features.iter().map(|f| f.positive.clone()).collect(),
                scores: features.iter().map(|f| f.score.unwrap_or(0.0)).collect(),
            })
        } else {
            let pairs: Vec<(Vec<u32>, Vec<u32>)> = features
                .iter()
                .map(|f| (f.anchor.clone(), f.positive.clone()))
                .collect();
            Validation::Retrieval(RetrievalSet::from_pairs(&pairs, corpus))
        }
    }

    fn evaluate(
        &self,
        model: &SentenceEncoder,
        batch_size: usize,
        pad_id: u32,
        device: &Device,
    ) -> std::result::Result<EmbeddingEval, String> {
        match self {
            Validation::Retrieval(set) => {
                embedding::evaluate_retrieval(model, set, batch_size, pad_id, device)
            }
            Validation::Scored(pairs) => {
                embedding::evaluate_scored(model, pairs, batch_size, pad_id, device)
            }
        }
    }

    fn describe(&self) -> String {
        match self {
            Validation::Retrieval(set) => format!(
                "{} queries against {} texts",
                set.queries.len(),
                set.corpus.len()
            ),
            Validation::Scored(pairs) => format!("{} scored pairs", pairs.scores.len()),
        }
    }
}

fn info(args: &FinetuneArgs) -> EmbeddingInfo {
    EmbeddingInfo {
        anchor_column: args.anchor_column.clone(),
        positive_column: args.positive_column.clone(),
        negative_column: args.negative_column.clone(),
        score_column: args.score_column.clone(),
    }
}

/// `burnish finetune --task embedding`.
pub fn finetune(args: &FinetuneArgs) -> Result<()> {
    if args.lora || args.adapter.is_some() {
        bail!("--lora is not available for --task embedding yet");
    }
    let (started, mut cfg, device, resuming, tokenizer) = start_finetune(args)?;
    let (mut model, sentence, config, report) = {
        device.seed(cfg.seed);
        SentenceEncoder::from_pretrained(&args.model, &device)?
    };
    // The folder's own length (`max_seq_length`, 256 for all-MiniLM-L6-v2) unless given.
    if args.max_length.is_none() && args.config.is_none() {
        if let Some(n) = sentence.max_seq_length {
            cfg.max_length = n.min(config.max_sequence_length());
        }
    }
    if let Some(&dim) = (cfg.embedding.matryoshka_dims.iter()).find(|&&d| d > config.hidden_size) {
        bail!(
            "--matryoshka-dims {dim}: larger than the model's embedding ({})",
            config.hidden_size
        );
    }
    let scored = cfg.embedding.loss == LossKind::Cosent;
    let info = info(args);
    if scored != info.score_column.is_some() {
        bail!("--loss cosent trains scored pairs: give it with --score-column (and only then)");
    }
    let mut train = read_pairs(&args.train, &info, args.skip_bad_rows)?;
    if let Some(n) = args.max_train_rows {
        train.records.truncate(n);
    }
    let all_train = pair_features(&tokenizer, &train, cfg.max_length)?;
    let (train_features, valid_features) = match &args.valid {
        Some(path) => {
            let valid = read_pairs(path, &info, args.skip_bad_rows)?;
            (
                all_train,
                pair_features(&tokenizer, &valid, cfg.max_length)?,
            )
        }
        None => hold_out(all_train, args, cfg.seed, "pairs")?,
    };
    if train_features.is_empty() || valid_features.is_empty() {
        bail!("no training or validation pairs");
    }
    let corpus = match &args.corpus {
        Some(path) => corpus_texts(&tokenizer, path, &args.corpus_column, cfg.max_length)?,
        None => Vec::new(),
    };
    let validation = Validation::new(&valid_features, &corpus, scored);

    let pooling = args.pooling.map_or(sentence.pooling, |p| p.pooling());
    let normalize = sentence.normalize && !args.no_normalize;
    model.pooling = pooling;
    model.normalize = normalize;
    model.loss = cfg.embedding.clone();
    let pad_id = check_task_model(&cfg, &config, &report, &tokenizer, resuming)?;
    let batches = PairBatches::new(&train_features, cfg.batch_size, cfg.seed, pad_id);
    let trainer = args.trainer(&cfg, resuming)?;
    eprintln!(
        "fine-tuning {} as a sentence embedder ({pooling} pooling{}, {:?} loss) on {} pairs; \
         validation: {}; backend {}",
        args.model.display(),
        if normalize { ", normalised" } else { "" },
        cfg.embedding.loss,
        train_features.len(),
        validation.describe(),
        args.backend
    );
    let evaluate =
        |m: &SentenceEncoder, batch_size| validation.evaluate(m, batch_size, pad_id, &device);
    let folder = RunFolder::new(args, &config, &tokenizer);
    let (result, final_eval) = fit_and_save(&trainer, model, &batches, evaluate, folder)?;
    // The `sentence-transformers` modules beside the encoder: `SentenceTransformer(OUT)`.
    SentenceConfig {
        pooling,
        normalize,
        max_seq_length: Some(cfg.max_length),
    }
    .write(&args.out, config.hidden_size)?;
    let run_info = RunInfo {
        embedding: Some(info),
        ..RunInfo::new(TaskArg::Embedding, args, &cfg)
    };
    let mut metrics = run_metrics(&result, &final_eval.metrics, started, &args.backend);
    metrics["train_pairs"] = train_features.len().into();
    metrics["valid_pairs"] = valid_features.len().into();
    run_dir::finish(&args.out, &run_info, &metrics)?;
    print_summary(&cfg, &result, started, &args.out);
    Ok(())
}

/// The run information of a `sentence-transformers` folder that no `burnish finetune` wrote
/// (all-MiniLM-L6-v2 as shipped): evaluated as an embedding run with the default columns.
pub fn sentence_folder_info(dir: &Path) -> Option<RunInfo> {
    let plain = !dir.join(run_dir::TRAINING_CONFIG).exists()
        && dir.join(burnish::heads::sentence::MODULES_FILE).is_file();
    plain.then(|| RunInfo {
        embedding: Some(EmbeddingInfo {
            anchor_column: "anchor".into(),
            positive_column: "positive".into(),
            negative_column: "negative".into(),
            score_column: None,
        }),
        ..RunInfo::bare(TaskArg::Embedding, dir.to_owned(), TrainConfig::default())
    })
}

/// A loaded embedding model: the model, its tokenizer, padding id and longest input, on
/// its device (`evaluate`, `predict`, `burnish mine`).
pub(crate) struct Embedder {
    pub(crate) model: SentenceEncoder,
    pub(crate) tokenizer: Tokenizer,
    pub(crate) pad_id: u32,
    pub(crate) max_length: usize,
    pub(crate) device: Device,
}

impl Embedder {
    /// Loads `dir` on `backend`; the longest input is the folder's `max_seq_length`, else
    /// `fallback`, else what the positions cover.
    pub(crate) fn load(dir: &Path, backend: &str, fallback: Option<usize>) -> Result<Self> {
        let device = burnish::backend::device(backend)?;
        let (model, sentence, config, _) = SentenceEncoder::from_pretrained(dir, &device)?;
        let tokenizer = Tokenizer::from_dir(dir)?;
        Ok(Self {
            pad_id: tokenizer.pad_id().unwrap_or(config.pad_token_id as u32),
            max_length: sentence.max_length(&config, fallback),
            model,
            tokenizer,
            device,
        })
    }
}

/// A run's pair columns and its embedder.
fn load(dir: &Path, info: RunInfo, backend: &str) -> Result<(EmbeddingInfo, Embedder)> {
    let embedder = Embedder::load(dir, backend, Some(info.train.max_length))?;
    let embedding = info
        .embedding
        .context("training_config.json has no `embedding` settings")?;
    Ok((embedding, embedder))
}

/// `burnish evaluate` of an embedding run: retrieval metrics of `--data`'s pairs (against
/// their positives and `--corpus`), or Spearman of its scored pairs; JSON on stdout.
pub fn evaluate(args: &EvaluateArgs, info: RunInfo) -> Result<()> {
    let (info, run) = load(&args.model, info, &args.backend)?;
    let data = read_pairs(&args.data, &info, args.skip_bad_rows)?;
    let features = pair_features(&run.tokenizer, &data, run.max_length)?;
    let corpus = match &args.corpus {
        Some(path) => corpus_texts(&run.tokenizer, path, &args.corpus_column, run.max_length)?,
        None => Vec::new(),
    };
    let validation = Validation::new(&features, &corpus, info.score_column.is_some());
    eprintln!("evaluating on {}", validation.describe());
    let eval = validation
        .evaluate(&run.model, args.batch_size, run.pad_id, &run.device)
        .map_err(anyhow::Error::msg)?;
    let out = serde_json::json!({
        "data": args.data,
        "corpus": args.corpus,
        "pairs": features.len(),
        "metrics": eval.metrics,
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

/// `burnish predict` of an embedding run: `{"text", "embedding"}` per input line.
pub fn predict(args: &PredictArgs, info: RunInfo) -> Result<()> {
    let (_, run) = load(&args.model, info, &args.backend)?;
    let text = std::fs::read_to_string(&args.input)
        .with_context(|| format!("cannot read {}", args.input.display()))?;
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .collect();
    let ids = lines
        .iter()
        .map(|&(i, l)| tokenize(&run.tokenizer, l, run.max_length, &args.input, i + 1))
        .collect::<Result<Vec<_>>>()?;
    let embeddings = embedding::embed(&run.model, &ids, args.batch_size, run.pad_id, &run.device);
    let mut out = output_writer(args.output.as_deref())?;
    for ((_, text), vector) in lines.iter().zip(&embeddings) {
        serde_json::to_writer(
            &mut out,
            &serde_json::json!({"text": text, "embedding": vector}),
        )?;
        out.write_all(b"\n")?;
    }
    out.finish()
}
