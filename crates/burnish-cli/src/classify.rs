//! `burnish finetune --task classification`, and `evaluate` / `predict` of its runs.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burnish::burn::tensor::Device;
use burnish::data::{
    BadRowPolicy, ColumnSpec, Dataset, Format, ReadOptions, Task, TokenizeOptions,
    stratified_split, tokenize_dataset, train_valid_split,
};
use burnish::data::{Batch, Example};
use burnish::encoder::weights::LoadReport;
use burnish::encoder::{BertConfig, CONFIG_FILE};
use burnish::heads::{
    BertForSequenceClassification, Gpt2ForSequenceClassification, SequenceClassifier,
};
use burnish::tokenizer::{Input, Tokenizer};
use burnish::train::tasks::classification::{self, ExampleBatches};
use burnish::train::trainer::FineTune;
use burnish::{Classification, SaveHf, TextClassifier};

use burnish::train::TrainConfig;

use crate::args::{EvaluateArgs, FinetuneArgs, InitArg, PredictArgs, TaskArg};
use crate::run_dir::{self, RunInfo};
use crate::runtime::{
    RunFolder, check_task_model, fit_and_save, output_writer, print_summary, run_metrics,
    start_finetune, with_labels,
};

pub fn run_classification(args: FinetuneArgs) -> Result<()> {
    let (started, cfg, device, resuming, tokenizer) = start_finetune(&args)?;
    let columns = match &args.text_pair_column {
        Some(pair) => ColumnSpec::pair(&args.text_column, pair, Some(&args.label_column)),
        None => ColumnSpec::new(&args.text_column, Some(&args.label_column)),
    };
    let mut read = ReadOptions::new(columns);
    read.label_kind = args.label_kind.kind();
    read.bad_rows = if args.skip_bad_rows {
        BadRowPolicy::Skip
    } else {
        BadRowPolicy::Fail
    };
    let mut train = Dataset::read(&args.train, &read)?;
    report_bad_rows(&train);
    if let Some(n) = args.max_train_rows {
        train.records.truncate(n);
    }
    let task = Task::from_dataset(args.label_kind.kind(), &train)?;
    let tokenize = TokenizeOptions::new(cfg.max_length);
    let all_train = tokenize_dataset(&tokenizer, &train, Some(&task), &tokenize)?;
    if let Some(note) = all_train.truncation_note() {
        eprintln!("note: {}: {note}", args.train.display());
    }
    let (train_examples, valid_examples) = match &args.valid {
        Some(path) => {
            let valid = Dataset::read(path, &read)?;
            report_bad_rows(&valid);
            let v = tokenize_dataset(&tokenizer, &valid, Some(&task), &tokenize)?;
            if let Some(note) = v.truncation_note() {
                eprintln!("note: {}: {note}", path.display());
            }
            (all_train.examples, v.examples)
        }
        None => {
            let (train_idx, valid_idx) = match &task {
                Task::SingleLabel(_) => {
                    let keys: Vec<u32> = all_train
                        .examples
                        .iter()
                        .map(|e| match e.label {
                            burnish::data::Label::Class(c) => c,
                            _ => 0,
                        })
                        .collect();
                    stratified_split(
                        &keys,
                        args.valid_fraction,
                        args.split_seed.unwrap_or(cfg.seed),
                    )?
                }
                _ => train_valid_split(
                    all_train.examples.len(),
                    args.valid_fraction,
                    args.split_seed.unwrap_or(cfg.seed),
                )?,
            };
            let pick = |idx: &[usize]| {
                idx.iter()
                    .map(|&i| all_train.examples[i].clone())
                    .collect::<Vec<_>>()
            };
            eprintln!(
                "note: no --valid file: holding out {} of {} training rows for validation",
                valid_idx.len(),
                all_train.examples.len()
            );
            (pick(&train_idx), pick(&valid_idx))
        }
    };
    if train_examples.is_empty() {
        bail!("{}: no training examples", args.train.display());
    }
    if valid_examples.is_empty() {
        bail!("the validation set is empty (give --valid or a larger --valid-fraction)");
    }
    if cfg.batch_size > train_examples.len() {
        eprintln!(
            "note: batch size {} exceeds the {} training examples: every step uses all of them",
            cfg.batch_size,
            train_examples.len()
        );
    }

    // The new head's initialisation follows the seed: a run restarted from scratch (killed
    // before its first checkpoint) starts from the same weights.
    device.seed(cfg.seed);
    let run = ClassifierRun {
        args: &args,
        cfg: &cfg,
        device: &device,
        resuming,
        started,
        tokenizer: &tokenizer,
        task: &task,
        train_examples: &train_examples,
        valid_examples: &valid_examples,
    };
    let num_labels = Some(task.num_labels());
    let problem = Some(classification::problem_type(&task));
    // The family picks the architecture: a GPT-2 folder is a decoder with its own head.
    let family = BertConfig::from_file(args.model.join(CONFIG_FILE))?.family;
    if args.init == InitArg::Random && !resuming {
        eprintln!(
            "note: --init random: {}'s architecture with freshly initialised weights",
            args.model.display()
        );
    }
    if family.is_decoder {
        let (mut model, mut config, report) = match args.init {
            InitArg::Pretrained => Gpt2ForSequenceClassification::from_pretrained(
                &args.model,
                num_labels,
                problem,
                &device,
            )?,
            InitArg::Random => {
                let config = burnish::encoder::pretrained::decoder_config(&args.model)?;
                let model = Gpt2ForSequenceClassification::new(
                    &config,
                    task.num_labels(),
                    classification::problem_type(&task),
                    &device,
                );
                (model, config, LoadReport::default())
            }
        };
        // GPT-2 reads the last real token off the padding id: it must be the one the batches
        // are padded with (and the saved config says so, for transformers).
        if let Some(pad) = tokenizer.pad_id().map(|p| p as usize)
            && pad != config.pad_token_id
        {
            eprintln!(
                "note: pad_token_id {} of {} replaced by the tokenizer's padding id {pad}",
                config.pad_token_id,
                args.model.display()
            );
            config.pad_token_id = pad;
            model.pad_token_id = pad;
        }
        fit_classifier(run, (model, config, report))
    } else {
        let loaded = match args.init {
            InitArg::Pretrained => BertForSequenceClassification::from_pretrained(
                &args.model,
                num_labels,
                problem,
                &device,
            )?,
            InitArg::Random => {
                let config = burnish::encoder::pretrained::encoder_config(&args.model)?;
                let model = BertForSequenceClassification::new(
                    &config,
                    task.num_labels(),
                    classification::problem_type(&task),
                    &device,
                );
                (model, config, LoadReport::default())
            }
        };
        fit_classifier(run, loaded)
    }
}

/// What [`fit_classifier`] needs besides the model: the prepared data and settings.
struct ClassifierRun<'a> {
    args: &'a FinetuneArgs,
    cfg: &'a TrainConfig,
    device: &'a Device,
    resuming: bool,
    started: Instant,
    tokenizer: &'a Tokenizer,
    task: &'a Task,
    train_examples: &'a [Example],
    valid_examples: &'a [Example],
}

/// Fine-tunes a loaded sequence classifier (any family) and writes the run directory.
fn fit_classifier<M>(run: ClassifierRun<'_>, loaded: (M, BertConfig, LoadReport)) -> Result<()>
where
    M: SequenceClassifier + FineTune<Batch> + SaveHf,
{
    let ClassifierRun {
        args,
        cfg,
        device,
        resuming,
        started,
        tokenizer,
        task,
        train_examples,
        valid_examples,
    } = run;
    let (model, config, report) = loaded;
    let pad_id = check_task_model(cfg, &config, &report, tokenizer, resuming)?;
    let model = classification::with_class_loss(model, cfg, task, train_examples)?;
    let batches = ExampleBatches::for_config(train_examples, cfg, pad_id)?;

    let trainer = args.trainer(cfg, resuming)?;
    eprintln!(
        "fine-tuning {} on {} examples ({} validation), {} labels, backend {}",
        args.model.display(),
        train_examples.len(),
        valid_examples.len(),
        task.num_labels(),
        args.backend
    );
    let evaluate = |m: &M, batch_size| {
        classification::evaluate(m, valid_examples, task, batch_size, pad_id, device)
    };
    // The finished run directory: a Hugging Face folder plus how it was made.
    let config = with_labels(config, &task.to_hf_json());
    let folder = RunFolder::new(args, &config, tokenizer);
    let (result, final_eval) = fit_and_save(&trainer, model, &batches, evaluate, folder)?;
    let info = RunInfo {
        text_column: args.text_column.clone(),
        text_pair_column: args.text_pair_column.clone(),
        label_column: args.label_column.clone(),
        label_kind: args.label_kind.name().into(),
        init: args.init,
        ..RunInfo::new(TaskArg::Classification, args, cfg)
    };
    run_dir::write_json(&args.out.join(run_dir::LABELS), &task.to_hf_json())?;
    let mut metrics = run_metrics(&result, &final_eval.metrics, started, &args.backend);
    metrics["report"] = serde_json::to_value(&final_eval.report)?;
    metrics["train_examples"] = train_examples.len().into();
    metrics["valid_examples"] = valid_examples.len().into();
    run_dir::finish(&args.out, &info, &metrics)?;

    if let Some(report) = &final_eval.report {
        eprintln!("\n{report}");
    }
    print_summary(cfg, &result, started, &args.out);
    Ok(())
}

fn report_bad_rows(dataset: &Dataset) {
    if let Some(summary) = dataset.bad_rows_summary(5) {
        eprintln!("warning: {summary}");
    }
}
/// A loaded run directory: how it was trained, and its classifier (with the run's maximum
/// length).
struct Run {
    info: RunInfo,
    classifier: TextClassifier,
}

fn load_run(dir: &Path, info: RunInfo, backend: &str, batch_size: usize) -> Result<Run> {
    let device = burnish::backend::device(backend)?;
    let classifier = TextClassifier::from_dir(dir, &device)?
        .with_max_length(info.train.max_length)?
        .with_batch_size(batch_size);
    Ok(Run { info, classifier })
}

/// `burnish evaluate` of a classification run: prints the metrics as JSON on stdout.
pub fn evaluate(args: &EvaluateArgs, info: RunInfo) -> Result<()> {
    let run = load_run(&args.model, info, &args.backend, args.batch_size)?;
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

/// `burnish predict` of a classification run: one JSON object per input (`text`, `label`, `score`,
/// `probabilities`).
pub fn predict(args: &PredictArgs, info: RunInfo) -> Result<()> {
    let run = load_run(&args.model, info, &args.backend, args.batch_size)?;
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
    out.finish()?;
    Ok(())
}
