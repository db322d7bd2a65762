//! `burnish evaluate` and `burnish predict` on a fine-tuned run directory.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burnish::data::{
    BadRowPolicy, ColumnSpec, Dataset, Example, Format, Label, LabelKind, ReadOptions, Task,
    TokenizeOptions, tokenize_dataset,
};
use burnish::heads::{BertForSequenceClassification, Gpt2ForSequenceClassification};
use burnish::tokenizer::{EncodeOptions, Tokenizer};
use burnish::train::tasks::classification;
use clap::Args;

use crate::run_dir::RunInfo;

/// A run's classifier: an encoder family's or GPT-2's.
enum Classifier {
    Bert(Box<BertForSequenceClassification>),
    Gpt2(Box<Gpt2ForSequenceClassification>),
}

/// A loaded run directory.
struct Run {
    info: RunInfo,
    task: Task,
    tokenizer: Tokenizer,
    model: Classifier,
    device: burnish::burn::tensor::Device,
    pad_id: u32,
}

fn load_run(dir: &Path, backend: &str) -> Result<Run> {
    let info = RunInfo::read(dir)?;
    let device = burnish::backend::device(backend)?;
    let config_path = dir.join(burnish::encoder::CONFIG_FILE);
    let config: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&config_path)
            .with_context(|| format!("cannot read {}", config_path.display()))?,
    )
    .with_context(|| format!("{}", config_path.display()))?;
    let task =
        Task::from_hf_config(&config).with_context(|| format!("{}", config_path.display()))?;
    let tokenizer = Tokenizer::from_dir(dir)?;
    let (num_labels, problem) = (
        Some(task.num_labels()),
        Some(classification::problem_type(&task)),
    );
    let family = burnish::encoder::BertConfig::from_file(&config_path)?.family;
    let (model, bert_config, report) = if family.is_decoder() {
        let (model, config, report) =
            Gpt2ForSequenceClassification::from_pretrained(dir, num_labels, problem, &device)?;
        (Classifier::Gpt2(Box::new(model)), config, report)
    } else {
        let (model, config, report) =
            BertForSequenceClassification::from_pretrained(dir, num_labels, problem, &device)?;
        (Classifier::Bert(Box::new(model)), config, report)
    };
    if !report.newly_initialized.is_empty() {
        bail!(
            "{}: the run's weights lack {}",
            dir.display(),
            report.newly_initialized.join(", ")
        );
    }
    let pad_id = tokenizer
        .pad_id()
        .unwrap_or(bert_config.pad_token_id as u32);
    Ok(Run {
        info,
        task,
        tokenizer,
        model,
        device,
        pad_id,
    })
}

fn label_kind(task: &Task) -> LabelKind {
    task.label_kind()
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
    let run = load_run(&args.model, &args.backend)?;
    let columns = columns(&run.info, true);
    let mut read = ReadOptions::new(columns);
    read.label_kind = label_kind(&run.task);
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
        &run.tokenizer,
        &data,
        Some(&run.task),
        &TokenizeOptions::new(run.info.train.max_length),
    )?;
    if let Some(note) = examples.truncation_note() {
        eprintln!("note: {}: {note}", args.data.display());
    }
    let (batch, pad, device) = (args.batch_size, run.pad_id, &run.device);
    let eval = match &run.model {
        Classifier::Bert(m) => classification::evaluate(
            m.as_ref(),
            &examples.examples,
            &run.task,
            batch,
            pad,
            device,
        ),
        Classifier::Gpt2(m) => classification::evaluate(
            m.as_ref(),
            &examples.examples,
            &run.task,
            batch,
            pad,
            device,
        ),
    }
    .map_err(anyhow::Error::msg)?;
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
    let run = load_run(&args.model, &args.backend)?;
    let max_length = run.info.train.max_length;
    let (texts, examples): (Vec<(String, Option<String>)>, Vec<Example>) =
        if Format::from_path(&args.input).is_some() {
            let data = Dataset::read(&args.input, &ReadOptions::new(columns(&run.info, false)))?;
            let ex = tokenize_dataset(
                &run.tokenizer,
                &data,
                None,
                &TokenizeOptions::new(max_length),
            )?;
            (
                data.records
                    .iter()
                    .map(|r| (r.text.clone(), r.text_pair.clone()))
                    .collect(),
                ex.examples,
            )
        } else {
            let text = std::fs::read_to_string(&args.input)
                .with_context(|| format!("cannot read {}", args.input.display()))?;
            let options = EncodeOptions {
                max_length: Some(max_length),
                ..EncodeOptions::default()
            };
            let mut texts = Vec::new();
            let mut examples = Vec::new();
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let (a, b) = match line.split_once('\t') {
                    Some((a, b)) => (a, Some(b)),
                    None => (line, None),
                };
                let enc = match b {
                    Some(b) => run.tokenizer.encode_pair(a, b, &options),
                    None => run.tokenizer.encode(a, &options),
                }
                .with_context(|| format!("{}:{}", args.input.display(), i + 1))?;
                texts.push((a.to_string(), b.map(str::to_string)));
                examples.push(Example {
                    ids: enc.ids,
                    type_ids: enc.type_ids,
                    label: Label::None,
                    line: i + 1,
                });
            }
            (texts, examples)
        };
    let (batch, pad, device) = (args.batch_size, run.pad_id, &run.device);
    let logits = match &run.model {
        Classifier::Bert(m) => {
            classification::predict_logits(m.as_ref(), &examples, batch, pad, device)
        }
        Classifier::Gpt2(m) => {
            classification::predict_logits(m.as_ref(), &examples, batch, pad, device)
        }
    };
    let names: Vec<String> = match run.task.label_map() {
        Some(map) => map.names().to_vec(),
        None => vec!["value".into()],
    };
    let mut out = output_writer(args.output.as_deref())?;
    for ((text, pair), row) in texts.iter().zip(&logits) {
        let object = match &run.task {
            Task::SingleLabel(_) => {
                let probs = classification::softmax(row);
                let best = classification::argmax(row);
                serde_json::json!({
                    "text": text, "text_pair": pair,
                    "label": names[best], "score": probs[best],
                    "probabilities": names.iter().zip(&probs).map(|(n, p)| (n.clone(), serde_json::Value::from(*p))).collect::<serde_json::Map<String, serde_json::Value>>(),
                })
            }
            Task::MultiLabel(_) => {
                let probs: Vec<f32> = row.iter().map(|&x| 1.0 / (1.0 + (-x).exp())).collect();
                let labels: Vec<&String> = names
                    .iter()
                    .zip(&probs)
                    .filter(|(_, p)| **p >= 0.5)
                    .map(|(n, _)| n)
                    .collect();
                serde_json::json!({
                    "text": text, "text_pair": pair, "labels": labels,
                    "probabilities": names.iter().zip(&probs).map(|(n, p)| (n.clone(), serde_json::Value::from(*p))).collect::<serde_json::Map<String, serde_json::Value>>(),
                })
            }
            Task::Regression => {
                serde_json::json!({"text": text, "text_pair": pair, "value": row[0]})
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
