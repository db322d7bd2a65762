//! `burnish finetune|evaluate|predict` for extractive question answering (SQuAD).

use std::io::Write;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use burnish::HfModel;
use burnish::QuestionAnswerer;
use burnish::data::{
    QaExample, QaFeatureOptions, QaFeatures, SquadDataset, SquadVersion, qa_features, qa_inputs,
};
use burnish::heads::BertForQuestionAnswering;
use burnish::tokenizer::Tokenizer;
use burnish::train::tasks::qa::{self, PostProcess, QaBatches};

use crate::args::{EvaluateArgs, FinetuneArgs, PredictArgs, TaskArg};
use crate::run_dir::{self, QaInfo, RunInfo};
use crate::runtime::{
    RunFolder, check_task_model, fit_and_save, output_writer, print_summary, run_metrics,
    start_finetune,
};

/// Parses `A:B` (0-based articles, B excluded).
fn parse_range(flag: &str, text: &str) -> Result<Range<usize>> {
    let parsed = text.split_once(':').and_then(|(a, b)| {
        let a = a.trim().parse::<usize>().ok()?;
        let b = b.trim().parse::<usize>().ok()?;
        (a < b).then_some(a..b)
    });
    parsed.with_context(|| format!("{flag} {text}: expected A:B with A < B (0-based articles)"))
}

fn read(path: &Path, articles: Option<Range<usize>>) -> Result<SquadDataset> {
    let mut data = SquadDataset::read(path)?;
    if let Some(range) = articles {
        if range.end > data.articles {
            bail!(
                "{}: has {} articles, fewer than the range {}..{} asks for",
                path.display(),
                data.articles,
                range.start,
                range.end
            );
        }
        data = data.articles_range(range);
    }
    let place = |e: &QaExample| match e.line {
        Some(line) => format!("{}:{line}: question {:?}", path.display(), e.id),
        None => format!(
            "{}: data[{}].paragraphs[{}]: question {:?}",
            path.display(),
            e.article,
            e.paragraph,
            e.id
        ),
    };
    // An answer past the end of its context cannot be labelled: stop, naming it.
    for e in &data.examples {
        for a in &e.answers {
            if a.byte_span(&e.context).is_none() {
                bail!(
                    "{}: answer {:?} at answer_start {} runs past the end of its context \
                     ({} characters)",
                    place(e),
                    a.text,
                    a.char_start,
                    e.context.chars().count()
                );
            }
        }
    }
    if data.misaligned_answers > 0 {
        let first = data
            .examples
            .iter()
            .find(|e| e.answers.iter().any(|a| !a.is_aligned(&e.context)))
            .map(|e| format!("; the first: {}", place(e)))
            .unwrap_or_default();
        eprintln!(
            "note: {}: {} answers do not match the context's text at their `answer_start`; \
             their spans are taken from the offset, as `transformers` does{first}",
            path.display(),
            data.misaligned_answers
        );
    }
    Ok(data)
}

/// Windows of `examples` labelled with their first answer.
fn featurize(
    tokenizer: &Tokenizer,
    examples: &[QaExample],
    options: QaFeatureOptions,
    path: &Path,
) -> Result<QaFeatures> {
    let inputs = qa_inputs(examples);
    let features = qa_features(tokenizer, &inputs, options, path)?;
    if features.truncated_questions > 0 {
        eprintln!(
            "note: {}: {} questions are longer than half of the {}-token window and were cut to it",
            path.display(),
            features.truncated_questions,
            options.max_length
        );
    }
    if features.reduced_stride > 0 {
        eprintln!(
            "note: {}: {} questions are so long that their context windows overlap by less than \
             the stride {}",
            path.display(),
            features.reduced_stride,
            options.stride
        );
    }
    Ok(features)
}

/// Splits the last tenth of the articles (at least one) off for validation.
fn split_articles(data: &SquadDataset) -> Result<(SquadDataset, SquadDataset)> {
    if data.articles < 2 {
        bail!(
            "{}: one article only; give --valid or --valid-articles",
            data.path.display()
        );
    }
    let held = (data.articles / 10).max(1);
    let cut = data.articles - held;
    Ok((
        data.articles_range(0..cut),
        data.articles_range(cut..data.articles),
    ))
}

/// `burnish finetune --task qa`.
pub fn finetune(args: &FinetuneArgs) -> Result<()> {
    let (started, cfg, device, resuming, tokenizer) = start_finetune(args)?;

    let train_range = args
        .train_articles
        .as_deref()
        .map(|r| parse_range("--train-articles", r))
        .transpose()?;
    let valid_range = args
        .valid_articles
        .as_deref()
        .map(|r| parse_range("--valid-articles", r))
        .transpose()?;
    let (mut train, valid) = match (&args.valid, valid_range) {
        (Some(path), range) => (read(&args.train, train_range)?, read(path, range)?),
        (None, Some(range)) => (
            read(&args.train, train_range)?,
            read(&args.train, Some(range))?,
        ),
        (None, None) => {
            let data = read(&args.train, train_range)?;
            let (t, v) = split_articles(&data)?;
            eprintln!(
                "note: no --valid file: holding out the last {} of {} articles ({} questions) \
                 for validation",
                v.articles,
                data.articles,
                v.len()
            );
            (t, v)
        }
    };
    if let Some(n) = args.max_train_rows {
        train.examples.truncate(n);
    }
    if train.is_empty() || valid.is_empty() {
        bail!("no training or validation questions");
    }
    let options = QaFeatureOptions {
        max_length: cfg.max_length,
        stride: args.doc_stride,
    };
    let train_features = featurize(&tokenizer, &train.examples, options, &args.train)?;
    let valid_path = args.valid.clone().unwrap_or_else(|| args.train.clone());
    let valid_features = featurize(&tokenizer, &valid.examples, options, &valid_path)?;
    let v2 = train.version == SquadVersion::V2 || valid.version == SquadVersion::V2;
    let post = PostProcess {
        n_best: args.n_best,
        max_answer_length: args.max_answer_length,
        null_threshold: v2.then_some(args.null_threshold),
    };

    device.seed(cfg.seed);
    let (model, config, report) = BertForQuestionAnswering::from_pretrained(&args.model, &device)?;
    let pad_id = check_task_model(&cfg, &config, &report, &tokenizer, resuming)?;
    let batches = QaBatches::for_config(&train_features.features, &cfg, pad_id)?;
    let trainer = args.trainer(&cfg, resuming)?;
    eprintln!(
        "fine-tuning {} for QA on {} questions ({} windows; {} validation questions), SQuAD {}, \
         backend {}",
        args.model.display(),
        train.len(),
        train_features.features.len(),
        valid.len(),
        if v2 { "v2.0" } else { "v1.1" },
        args.backend
    );
    let evaluate = |m: &BertForQuestionAnswering, batch_size| {
        let windows = &valid_features.features;
        qa::evaluate(
            m,
            windows,
            &valid.examples,
            post,
            batch_size,
            pad_id,
            &device,
        )
    };
    let folder = RunFolder::new(args, &config, &tokenizer);
    let (result, final_eval) = fit_and_save(&trainer, model, &batches, evaluate, folder)?;
    let info = RunInfo {
        qa: Some(QaInfo {
            doc_stride: args.doc_stride,
            max_answer_length: args.max_answer_length,
            n_best: args.n_best,
            null_threshold: post.null_threshold,
        }),
        ..RunInfo::new(TaskArg::Qa, args, &cfg)
    };
    let mut metrics = run_metrics(&result, &final_eval.metrics, started, &args.backend);
    metrics["train_questions"] = train.len().into();
    metrics["train_windows"] = train_features.features.len().into();
    metrics["valid_questions"] = valid.len().into();
    metrics["valid_windows"] = valid_features.features.len().into();
    run_dir::finish(&args.out, &info, &metrics)?;
    let predictions: serde_json::Map<String, serde_json::Value> = valid
        .examples
        .iter()
        .zip(&final_eval.answers)
        .map(|(e, a)| (e.id.clone(), a.text.clone().into()))
        .collect();
    run_dir::write_json(&args.out.join(PREDICTIONS), &predictions)?;
    eprintln!(
        "validation: exact match {:.2}, F1 {:.2}",
        final_eval
            .metrics
            .get("exact_match")
            .copied()
            .unwrap_or(f64::NAN),
        final_eval.metrics.get("f1").copied().unwrap_or(f64::NAN)
    );
    print_summary(&cfg, &result, started, &args.out);
    Ok(())
}

/// The best model's answers to the validation questions (`id -> text`, as the official SQuAD
/// script reads predictions).
pub const PREDICTIONS: &str = "predictions.json";

/// A loaded QA run directory: its settings and its question answerer (the run's windows).
struct QaRun {
    qa: QaInfo,
    answerer: QuestionAnswerer,
}

fn load(dir: &Path, info: RunInfo, backend: &str, batch_size: usize) -> Result<QaRun> {
    let device = burnish::backend::device(backend)?;
    let qa = info.qa.clone().with_context(|| {
        format!(
            "{}: no `qa` settings",
            dir.join(run_dir::TRAINING_CONFIG).display()
        )
    })?;
    let answerer = QuestionAnswerer::from_dir(dir, &device)?
        .with_windows(info.train.max_length, qa.doc_stride)?
        .with_batch_size(batch_size);
    Ok(QaRun { qa, answerer })
}

impl QaRun {
    fn post(&self, v2: bool) -> PostProcess {
        PostProcess {
            n_best: self.qa.n_best,
            max_answer_length: self.qa.max_answer_length,
            null_threshold: if v2 {
                Some(self.qa.null_threshold.unwrap_or(0.0))
            } else {
                None
            },
        }
    }
}

/// `burnish evaluate` on a QA run: SQuAD exact match and F1 (v1.1, or v2.0 for v2 data).
pub fn evaluate(args: &EvaluateArgs, info: RunInfo) -> Result<()> {
    let run = load(&args.model, info, &args.backend, args.batch_size)?;
    let answerer = &run.answerer;
    let data = read(&args.data, None)?;
    let features = featurize(
        answerer.tokenizer(),
        &data.examples,
        answerer.windows(),
        &args.data,
    )?;
    let eval = qa::evaluate(
        answerer.model(),
        &features.features,
        &data.examples,
        run.post(data.version == SquadVersion::V2),
        args.batch_size,
        answerer.pad_id(),
        answerer.device(),
    )
    .map_err(anyhow::Error::msg)?;
    let out = serde_json::json!({
        "data": args.data,
        "questions": data.len(),
        "windows": features.features.len(),
        "metrics": eval.metrics,
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

/// Reads `predict` inputs: a SQuAD file, or JSON lines `{"question", "context"[, "id"]}`.
fn read_inputs(path: &Path) -> Result<(Vec<QaExample>, bool)> {
    let jsonl = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("jsonl"));
    if !jsonl {
        let data = read(path, None)?;
        let v2 = data.version == SquadVersion::V2;
        return Ok((data.examples, v2));
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = || format!("{}:{}", path.display(), i + 1);
        let value: serde_json::Value = serde_json::from_str(line).with_context(at)?;
        let field = |name: &str| {
            value
                .get(name)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
                .with_context(|| format!("{}: expected a `{name}` string", at()))
        };
        out.push(QaExample {
            id: value
                .get("id")
                .and_then(|v| v.as_str())
                .map_or_else(|| (i + 1).to_string(), str::to_owned),
            article: 0,
            paragraph: 0,
            title: String::new(),
            context: Arc::from(field("context")?),
            question: field("question")?,
            answers: Vec::new(),
            is_impossible: false,
            line: Some(i + 1),
        });
    }
    Ok((out, false))
}

/// `burnish predict` on a QA run: per question, the answer with its character offsets in the
/// context and its score.
pub fn predict(args: &PredictArgs, info: RunInfo) -> Result<()> {
    let run = load(&args.model, info, &args.backend, args.batch_size)?;
    let (examples, v2_file) = read_inputs(&args.input)?;
    let v2 = v2_file || run.qa.null_threshold.is_some();
    let pairs: Vec<(&str, &str)> = examples
        .iter()
        .map(|e| (e.question.as_str(), &*e.context))
        .collect();
    let post = run.post(v2);
    let answers = run.answerer.with_post_process(post).predict(&pairs)?;
    let mut out = output_writer(args.output.as_deref())?;
    for (example, answer) in examples.iter().zip(&answers) {
        let object = serde_json::json!({
            "id": example.id,
            "question": example.question,
            "answer": answer.text,
            "start": answer.start,
            "end": answer.end,
            "score": answer.score,
            "probability": answer.probability,
            "null_score_diff": answer.null_score_diff,
        });
        serde_json::to_writer(&mut out, &object)?;
        out.write_all(b"\n")?;
    }
    out.finish()?;
    Ok(())
}
