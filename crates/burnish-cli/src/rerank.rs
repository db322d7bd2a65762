//! `burnish finetune --task rerank`, and `evaluate` / `predict` of its runs: a cross-encoder
//! trained on (query, passage, label) rows, saved as a folder `CrossEncoder(path)` loads.
//! The rows of one query (the same query text) form its group: the passages it reranks.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use anyhow::{Result, bail};
use burnish::burn::tensor::Device;
use burnish::data::{
    BadRowPolicy, ColumnSpec, Dataset, LabelKind, ReadOptions, Task, TokenizeOptions,
    tokenize_dataset,
};
use burnish::encoder::CONFIG_FILE;
use burnish::heads::CrossEncoder;
use burnish::tokenizer::Tokenizer;
use burnish::train::TrainConfig;
use burnish::train::tasks::batches::Batches;
use burnish::train::tasks::rerank::{self, RerankGroup};

use crate::args::{EvaluateArgs, FinetuneArgs, PredictArgs, TaskArg};
use crate::run_dir::{self, RunInfo};
use crate::runtime::{
    RunFolder, check_task_model, fit_and_save, hold_out, output_writer, print_summary, run_metrics,
    start_finetune,
};

/// How rerank rows are read: the query, passage and (when `labelled`) label columns.
struct Columns<'a> {
    query: &'a str,
    passage: &'a str,
    label: Option<&'a str>,
}

impl<'a> Columns<'a> {
    fn of(info: &'a RunInfo, labelled: bool) -> Self {
        Self {
            query: &info.text_column,
            passage: info.text_pair_column.as_deref().unwrap_or("passage"),
            label: labelled.then_some(info.label_column.as_str()),
        }
    }
}

/// The rows of `path` grouped by query (groups in order of first appearance, rows in file
/// order), tokenized as pairs up to `max_length`, with the texts of each group's rows.
fn read_groups(
    tokenizer: &Tokenizer,
    path: &Path,
    columns: &Columns<'_>,
    max_length: usize,
    skip_bad_rows: bool,
    max_rows: Option<usize>,
) -> Result<(Vec<RerankGroup>, Vec<(String, Vec<String>)>)> {
    let mut read = ReadOptions::new(ColumnSpec::pair(
        columns.query,
        columns.passage,
        columns.label,
    ));
    read.label_kind = LabelKind::Regression;
    read.bad_rows = if skip_bad_rows {
        BadRowPolicy::Skip
    } else {
        BadRowPolicy::Fail
    };
    let mut data = Dataset::read(path, &read)?;
    if let Some(summary) = data.bad_rows_summary(5) {
        eprintln!("warning: {summary}");
    }
    if let Some(n) = max_rows {
        data.records.truncate(n);
    }
    let task = columns.label.map(|_| Task::Regression);
    let examples = tokenize_dataset(
        tokenizer,
        &data,
        task.as_ref(),
        &TokenizeOptions::new(max_length),
    )?;
    if let Some(note) = examples.truncation_note() {
        eprintln!("note: {}: {note}", path.display());
    }
    let mut groups: Vec<RerankGroup> = Vec::new();
    let mut texts: Vec<(String, Vec<String>)> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (record, example) in data.records.iter().zip(examples.examples) {
        let g = *index.entry(record.text.as_str()).or_insert_with(|| {
            groups.push(RerankGroup { pairs: Vec::new() });
            texts.push((record.text.clone(), Vec::new()));
            groups.len() - 1
        });
        groups[g].pairs.push(example);
        texts[g]
            .1
            .push(record.text_pair.clone().unwrap_or_default());
    }
    Ok((groups, texts))
}

/// `burnish finetune --task rerank`.
pub fn finetune(args: &FinetuneArgs) -> Result<()> {
    if args.lora || args.adapter.is_some() {
        bail!("--lora is not available for --task rerank yet");
    }
    let (started, cfg, device, resuming, mut tokenizer) = start_finetune(args)?;
    // The saved tokenizer truncates where training did: `CrossEncoder(OUT)` reads its pairs
    // up to `model_max_length`.
    tokenizer.set_model_max_length(Some(cfg.max_length));
    let (mut model, config, report) = {
        device.seed(cfg.seed);
        CrossEncoder::from_pretrained(&args.model, &device)?
    };
    model.loss = cfg.rerank.clone();
    let info = RunInfo {
        text_column: args.query_column.clone(),
        text_pair_column: Some(args.passage_column.clone()),
        label_column: args.label_column.clone(),
        label_kind: "relevance".into(),
        ..RunInfo::new(TaskArg::Rerank, args, &cfg)
    };
    let columns = Columns::of(&info, true);
    let (all_train, _) = read_groups(
        &tokenizer,
        &args.train,
        &columns,
        cfg.max_length,
        args.skip_bad_rows,
        args.max_train_rows,
    )?;
    let (train, valid) = match &args.valid {
        Some(path) => {
            let (valid, _) = read_groups(
                &tokenizer,
                path,
                &columns,
                cfg.max_length,
                args.skip_bad_rows,
                None,
            )?;
            (all_train, valid)
        }
        None => hold_out(all_train, args, cfg.seed, "queries")?,
    };
    if train.is_empty() || valid.is_empty() {
        bail!("no training or validation queries");
    }
    let pad_id = check_task_model(&cfg, &config, &report, &tokenizer, resuming)?;
    let batches = Batches::for_config(&train, &cfg, pad_id)?;
    let trainer = args.trainer(&cfg, resuming)?;
    let pairs = |groups: &[RerankGroup]| groups.iter().map(|g| g.pairs.len()).sum::<usize>();
    eprintln!(
        "fine-tuning {} as a reranker ({:?} loss) on {} queries ({} pairs), validating on {} \
         queries ({} pairs); backend {}",
        args.model.display(),
        cfg.rerank.loss,
        train.len(),
        pairs(&train),
        valid.len(),
        pairs(&valid),
        args.backend
    );
    let evaluate =
        |m: &CrossEncoder, batch_size| rerank::evaluate(m, &valid, batch_size, pad_id, &device);
    let folder = RunFolder::new(args, &config, &tokenizer);
    let (result, final_eval) = fit_and_save(&trainer, model, &batches, evaluate, folder)?;
    let mut metrics = run_metrics(&result, &final_eval.metrics, started, &args.backend);
    metrics["train_queries"] = train.len().into();
    metrics["train_pairs"] = pairs(&train).into();
    metrics["valid_queries"] = valid.len().into();
    run_dir::finish(&args.out, &info, &metrics)?;
    print_summary(&cfg, &result, started, &args.out);
    Ok(())
}

/// The run information of a cross-encoder folder that no `burnish finetune` wrote (one
/// `CrossEncoder.save` wrote): evaluated as a rerank run with the default columns.
pub fn cross_encoder_folder_info(dir: &Path) -> Option<RunInfo> {
    if dir.join(run_dir::TRAINING_CONFIG).exists() {
        return None;
    }
    let text = std::fs::read_to_string(dir.join(CONFIG_FILE)).ok()?;
    let config: serde_json::Value = serde_json::from_str(&text).ok()?;
    config.get("sentence_transformers")?.get("activation_fn")?;
    Some(RunInfo {
        text_column: "query".into(),
        text_pair_column: Some("passage".into()),
        label_column: "label".into(),
        ..RunInfo::bare(TaskArg::Rerank, dir.to_owned(), TrainConfig::default())
    })
}

/// A loaded reranker: the model, its tokenizer, padding id and longest input (the
/// tokenizer's `model_max_length`, as `CrossEncoder` reads it), on its device.
struct Reranker {
    model: CrossEncoder,
    tokenizer: Tokenizer,
    pad_id: u32,
    max_length: usize,
    device: Device,
}

impl Reranker {
    fn load(dir: &Path, info: &RunInfo, backend: &str) -> Result<Self> {
        let device = burnish::backend::device(backend)?;
        let (mut model, config, _) = CrossEncoder::from_pretrained(dir, &device)?;
        model.loss = info.train.rerank.clone();
        let tokenizer = Tokenizer::from_dir(dir)?;
        Ok(Self {
            pad_id: tokenizer.pad_id().unwrap_or(config.pad_token_id as u32),
            max_length: (tokenizer.model_max_length())
                .unwrap_or(info.train.max_length)
                .min(config.max_sequence_length()),
            model,
            tokenizer,
            device,
        })
    }
}

/// `burnish evaluate` of a rerank run: each query's passages of `--data` sorted by score,
/// NDCG@10 / MRR@10 / MAP against the labels, beside the same of the file's own order; JSON
/// on stdout.
pub fn evaluate(args: &EvaluateArgs, info: RunInfo) -> Result<()> {
    let run = Reranker::load(&args.model, &info, &args.backend)?;
    let (groups, _) = read_groups(
        &run.tokenizer,
        &args.data,
        &Columns::of(&info, true),
        run.max_length,
        args.skip_bad_rows,
        None,
    )?;
    let pairs: usize = groups.iter().map(|g| g.pairs.len()).sum();
    eprintln!("reranking {pairs} passages of {} queries", groups.len());
    let eval = rerank::evaluate(
        &run.model,
        &groups,
        args.batch_size,
        run.pad_id,
        &run.device,
    )
    .map_err(anyhow::Error::msg)?;
    let out = serde_json::json!({
        "data": args.data,
        "queries": groups.len(),
        "pairs": pairs,
        "metrics": eval.metrics,
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

/// `burnish predict` of a rerank run: per query of `--input` (query and passage columns), its
/// passages best first, `{"query", "results": [{"passage", "score"}]}`, the score through the
/// model's activation (as `CrossEncoder.rank` gives it).
pub fn predict(args: &PredictArgs, info: RunInfo) -> Result<()> {
    let run = Reranker::load(&args.model, &info, &args.backend)?;
    let (groups, texts) = read_groups(
        &run.tokenizer,
        &args.input,
        &Columns::of(&info, false),
        run.max_length,
        false,
        None,
    )?;
    let logits = rerank::predict_logits(
        &run.model,
        &groups,
        args.batch_size,
        run.pad_id,
        &run.device,
    );
    let mut out = output_writer(args.output.as_deref())?;
    for (((query, passages), logits), order) in texts.iter().zip(&logits).zip(rerank::rank(&logits))
    {
        let results: Vec<serde_json::Value> = order
            .iter()
            .map(|&i| {
                serde_json::json!({
                    "passage": passages[i],
                    "score": run.model.activation.apply(logits[i]),
                    "index": i,
                })
            })
            .collect();
        serde_json::to_writer(
            &mut out,
            &serde_json::json!({"query": query, "results": results}),
        )?;
        out.write_all(b"\n")?;
    }
    out.finish()
}
