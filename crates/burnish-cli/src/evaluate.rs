//! `burnish evaluate` and `burnish predict` on a fine-tuned run directory.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use burnish::data::{
    BadRowPolicy, ColumnSpec, Dataset, Format, ReadOptions, TokenizeOptions, tokenize_dataset,
};
use burnish::tokenizer::Input;
use burnish::{Classification, TextClassifier};
use clap::Args;

use crate::run_dir::RunInfo;

/// A loaded run directory: how it was trained, and its classifier (with the run's maximum
/// length).
struct Run {
    info: RunInfo,
    classifier: TextClassifier,
}

fn load_run(dir: &Path, backend: &str, batch_size: usize) -> Result<Run> {
    let info = RunInfo::read(dir)?;
    let device = burnish::backend::device(backend)?;
    let classifier = TextClassifier::from_dir(dir, &device)?
        .with_max_length(info.train.max_length)?
        .with_batch_size(batch_size);
    Ok(Run { info, classifier })
}

/// Arguments of `burnish evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// Run directory written by `burnish finetune`.
    #[arg(long)]
    pub(crate) model: PathBuf,
    /// Labelled data (CSV, TSV or JSONL) with the run's columns.
    #[arg(long)]
    pub(crate) data: PathBuf,
    /// Backend.
    #[arg(long, default_value = "flex")]
    pub(crate) backend: String,
    /// Batch size.
    #[arg(long, default_value_t = 64)]
    pub(crate) batch_size: usize,
    /// Skip unreadable rows instead of stopping.
    #[arg(long)]
    pub(crate) skip_bad_rows: bool,
}

/// Runs `burnish evaluate`: prints the metrics as JSON on stdout.
pub fn run_evaluate(args: EvaluateArgs) -> Result<()> {
    let info = RunInfo::read(&args.model)?;
    match info.task.as_str() {
        "ner" => return crate::ner::evaluate(&args, info),
        "qa" => return crate::qa::evaluate(&args, info),
        _ => {}
    }
    let run = load_run(&args.model, &args.backend, args.batch_size)?;
    let classifier = &run.classifier;
    let columns = columns(&run.info, true);
    let mut read = ReadOptions::new(columns);
    read.label_kind = classifier.task().label_kind();
    read.bad_rows = if args.skip_bad_rows {
        BadRowPolicy::Skip
    } else {
        BadRowPolicy::Fail
    };
    let data = Dataset::read(&args.data, &read)?;
    if let Some(summary) = data.bad_rows_summary(5) {
        eprintln!("warning: {summary}");
    }
    let examples = tokenize_dataset(
        classifier.tokenizer(),
        &data,
        Some(classifier.task()),
        &TokenizeOptions::new(classifier.max_length()),
    )?;
    if let Some(note) = examples.truncation_note() {
        eprintln!("note: {}: {note}", args.data.display());
    }
    let eval = classifier.model().evaluate(
        &examples.examples,
        classifier.task(),
        args.batch_size,
        classifier.pad_id(),
        classifier.device(),
    )?;
    if let Some(report) = &eval.report {
        eprintln!("{report}");
    }
    let out = serde_json::json!({
        "data": args.data,
        "examples": examples.examples.len(),
        "metrics": eval.metrics,
        "report": eval.report,
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

fn columns(info: &RunInfo, with_label: bool) -> ColumnSpec {
    let label = with_label.then_some(info.label_column.as_str());
    match &info.text_pair_column {
        Some(pair) => ColumnSpec::pair(&info.text_column, pair, label),
        None => ColumnSpec::new(&info.text_column, label),
    }
}

/// Arguments of `burnish predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// Run directory written by `burnish finetune`.
    #[arg(long)]
    pub(crate) model: PathBuf,
    /// Input: a CSV/TSV/JSONL file with the run's text column(s), or any other file with one
    /// text per line (`a<TAB>b` for a pair).
    #[arg(long)]
    pub(crate) input: PathBuf,
    /// Output JSON-lines file (default: stdout).
    #[arg(long)]
    pub(crate) output: Option<PathBuf>,
    /// Backend.
    #[arg(long, default_value = "flex")]
    pub(crate) backend: String,
    /// Batch size.
    #[arg(long, default_value_t = 64)]
    pub(crate) batch_size: usize,
}

/// Runs `burnish predict`: one JSON object per input (`text`, `label`, `score`,
/// `probabilities`).
pub fn run_predict(args: PredictArgs) -> Result<()> {
    let info = RunInfo::read(&args.model)?;
    match info.task.as_str() {
        "ner" => return crate::ner::predict(&args, info),
        "qa" => return crate::qa::predict(&args, info),
        _ => {}
    }
    let run = load_run(&args.model, &args.backend, args.batch_size)?;
    let texts: Vec<(String, Option<String>)> = if Format::from_path(&args.input).is_some() {
        let data = Dataset::read(&args.input, &ReadOptions::new(columns(&run.info, false)))?;
        data.records
            .into_iter()
            .map(|r| (r.text, r.text_pair))
            .collect()
    } else {
        let text = std::fs::read_to_string(&args.input)
            .with_context(|| format!("cannot read {}", args.input.display()))?;
        text.lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| match line.split_once('\t') {
                Some((a, b)) => (a.to_string(), Some(b.to_string())),
                None => (line.to_string(), None),
            })
            .collect()
    };
    let inputs: Vec<Input<'_>> = texts
        .iter()
        .map(|(a, b)| match b {
            Some(b) => Input::Pair(a, b),
            None => Input::Single(a),
        })
        .collect();
    let predictions = run.classifier.predict_inputs(&inputs)?;
    let mut out = output_writer(args.output.as_deref())?;
    let map = |probabilities: &[(String, f32)]| {
        probabilities
            .iter()
            .map(|(n, p)| (n.clone(), serde_json::Value::from(*p)))
            .collect::<serde_json::Map<String, serde_json::Value>>()
    };
    for ((text, pair), prediction) in texts.iter().zip(&predictions) {
        let object = match prediction {
            Classification::Single {
                label,
                score,
                probabilities,
            } => serde_json::json!({
                "text": text, "text_pair": pair, "label": label, "score": score,
                "probabilities": map(probabilities),
            }),
            Classification::Multi {
                labels,
                probabilities,
            } => serde_json::json!({
                "text": text, "text_pair": pair, "labels": labels,
                "probabilities": map(probabilities),
            }),
            Classification::Value { value } => {
                serde_json::json!({"text": text, "text_pair": pair, "value": value})
            }
        };
        serde_json::to_writer(&mut out, &object)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

/// Where `predict` writes: the file (created) or stdout.
pub(crate) fn output_writer(path: Option<&Path>) -> Result<Box<dyn Write>> {
    Ok(match path {
        Some(path) => Box::new(BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    })
}
