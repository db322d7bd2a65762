//! `burnish finetune|evaluate|predict` for token classification (named entities).

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use burnish::data::{
    BadRowPolicy, LabelMap, NerDataset, NerReadOptions, SubwordLabels, TagScheme, TaggedSentence,
    TokenFeatureOptions, TokenFeatures, tagged_features,
};
use burnish::heads::BertForTokenClassification;
use burnish::train::metrics::entities::EntityReport;
use burnish::train::tasks::ner::{self, TokenBatches};
use burnish::{TokenClassifier, TokenInput};

use crate::args::{EvaluateArgs, FinetuneArgs, PredictArgs, TagSchemeArg, TaskArg};
use crate::run_dir::{self, NerInfo, RunInfo};
use crate::runtime::{
    RunFolder, check_task_model, fit_and_save, hold_out, output_writer, print_summary, run_metrics,
    start_finetune, with_labels,
};

/// How NER files are read: tags converted to IOB2 from the given (or detected) scheme.
fn read_options(scheme: Option<TagSchemeArg>, skip_bad_rows: bool) -> Result<NerReadOptions> {
    let source_scheme = scheme.map(TagSchemeArg::scheme);
    Ok(NerReadOptions {
        source_scheme,
        target_scheme: TagScheme::Iob2,
        bad_rows: if skip_bad_rows {
            BadRowPolicy::Skip
        } else {
            BadRowPolicy::Fail
        },
        ..NerReadOptions::default()
    })
}

fn read(path: &Path, options: &NerReadOptions) -> Result<NerDataset> {
    let data = NerDataset::read(path, options)?;
    if let Some(summary) = data.bad_rows_summary(5) {
        eprintln!("warning: {summary}");
    }
    if let Some(first) = data.inconsistent_tags.first() {
        let n = data.inconsistent_tags.len();
        eprintln!(
            "warning: {first}{}; read as the start of an entity, as conlleval does              (give --tag-scheme iob1 if the file is IOB1)",
            if n > 1 {
                format!(" (and {} more such tags)", n - 1)
            } else {
                String::new()
            }
        );
    }
    Ok(data)
}

/// Notes the sentences of `path` that windows of `max_length` tokens split.
fn note_split_sentences(features: &TokenFeatures, path: &Path, max_length: usize) {
    if features.split_sentences > 0 {
        eprintln!(
            "note: {}: {} sentences are longer than {} tokens and are read in several windows",
            path.display(),
            features.split_sentences,
            max_length
        );
    }
}

fn feature_options(max_length: usize, all_subwords: bool, tags: &LabelMap) -> TokenFeatureOptions {
    TokenFeatureOptions {
        max_length,
        subword_labels: if all_subwords {
            SubwordLabels::All
        } else {
            SubwordLabels::First
        },
        continuation: ner::continuation_tags(tags),
    }
}

/// Prints the entity report as a table on stderr.
fn print_report(report: &EntityReport) {
    eprintln!(
        "\n{:>12} {:>9} {:>9} {:>9} {:>8}",
        "type", "precision", "recall", "f1", "support"
    );
    for (kind, s) in &report.per_type {
        eprintln!(
            "{kind:>12} {:>9.4} {:>9.4} {:>9.4} {:>8}",
            s.precision, s.recall, s.f1, s.support
        );
    }
    let m = &report.micro;
    eprintln!(
        "{:>12} {:>9.4} {:>9.4} {:>9.4} {:>8}\ntoken accuracy {:.4}",
        "micro avg", m.precision, m.recall, m.f1, m.support, report.token_accuracy
    );
}

/// `burnish finetune --task ner`.
pub fn finetune(args: &FinetuneArgs) -> Result<()> {
    let (started, cfg, device, resuming, tokenizer) = start_finetune(args)?;
    let read_opts = read_options(args.tag_scheme, args.skip_bad_rows)?;

    let mut train = read(&args.train, &read_opts)?;
    if let Some(n) = args.max_train_rows {
        train.sentences.truncate(n);
    }
    let tags = LabelMap::new(train.tag_set())?;
    let (train_sentences, valid_sentences, valid_path) = match &args.valid {
        Some(path) => {
            let mut opts = read_opts.clone();
            // The validation file may use its own scheme; it is converted all the same.
            opts.source_scheme = None;
            let valid = read(path, &opts)?;
            (train.sentences.clone(), valid.sentences, path.clone())
        }
        None => {
            let (t, v) = hold_out(train.sentences.clone(), args, cfg.seed, "sentences")?;
            (t, v, args.train.clone())
        }
    };
    if train_sentences.is_empty() || valid_sentences.is_empty() {
        bail!("no training or validation sentences");
    }
    let options = feature_options(cfg.max_length, args.label_all_subwords, &tags);
    // A tag the model does not know is an error naming the sentence's line.
    let featurize = |sentences: &[TaggedSentence], path: &Path| -> Result<TokenFeatures> {
        let features = tagged_features(&tokenizer, sentences, &tags, &options, path)?;
        note_split_sentences(&features, path, options.max_length);
        Ok(features)
    };
    let train_features = featurize(&train_sentences, &args.train)?;
    let valid_features = featurize(&valid_sentences, &valid_path)?;
    let valid_gold: Vec<Vec<String>> = valid_sentences.iter().map(|s| s.tags.clone()).collect();

    device.seed(cfg.seed);
    let (model, config, report) =
        BertForTokenClassification::from_pretrained(&args.model, Some(tags.len()), &device)?;
    let pad_id = check_task_model(&cfg, &config, &report, &tokenizer, resuming)?;
    let model = ner::with_class_loss(model, &cfg, &tags, &train_features.features)?;
    let batches = TokenBatches::for_config(&train_features.features, &cfg, pad_id)?;
    let trainer = args.trainer(&cfg, resuming)?;
    eprintln!(
        "fine-tuning {} for NER on {} sentences ({} validation), {} tags ({} scheme in the file), \
         backend {}",
        args.model.display(),
        train_sentences.len(),
        valid_sentences.len(),
        tags.len(),
        train.source_scheme.name(),
        args.backend
    );
    let valid = &valid_features.features;
    let evaluate = |m: &BertForTokenClassification, batch_size| {
        ner::evaluate(m, valid, &valid_gold, &tags, batch_size, pad_id, &device)
    };
    let config = with_labels(config, &tags.to_hf_json());
    let folder = RunFolder::new(args, &config, &tokenizer);
    let (result, final_eval) = fit_and_save(&trainer, model, &batches, evaluate, folder)?;
    let info = RunInfo {
        ner: Some(NerInfo {
            source_scheme: train.source_scheme.name().into(),
            tag_scheme: TagScheme::Iob2.name().into(),
            label_all_subwords: args.label_all_subwords,
        }),
        ..RunInfo::new(TaskArg::Ner, args, &cfg)
    };
    run_dir::write_json(&args.out.join(run_dir::LABELS), &tags.to_hf_json())?;
    let mut metrics = run_metrics(&result, &final_eval.metrics, started, &args.backend);
    metrics["report"] = serde_json::to_value(&final_eval.report)?;
    metrics["train_sentences"] = train_sentences.len().into();
    metrics["valid_sentences"] = valid_sentences.len().into();
    metrics["train_windows"] = train_features.features.len().into();
    run_dir::finish(&args.out, &info, &metrics)?;
    print_report(&final_eval.report);
    print_summary(&cfg, &result, started, &args.out);
    Ok(())
}

/// A loaded NER run directory: how it was trained, and its token classifier (windows of the
/// run's maximum length).
struct NerRun {
    info: RunInfo,
    classifier: TokenClassifier,
}

fn load(dir: &Path, info: RunInfo, backend: &str, batch_size: usize) -> Result<NerRun> {
    let device = burnish::backend::device(backend)?;
    let classifier = TokenClassifier::from_dir(dir, &device)?
        .with_max_length(info.train.max_length)?
        .with_batch_size(batch_size);
    Ok(NerRun { info, classifier })
}

/// `burnish evaluate` on a NER run: entity-level scores (seqeval's) and token accuracy.
pub fn evaluate(args: &EvaluateArgs, info: RunInfo) -> Result<()> {
    let run = load(&args.model, info, &args.backend, args.batch_size)?;
    let classifier = &run.classifier;
    let data = read(&args.data, &read_options(None, args.skip_bad_rows)?)?;
    let all_subwords = run.info.ner.as_ref().is_some_and(|n| n.label_all_subwords);
    let options = feature_options(classifier.max_length(), all_subwords, classifier.tags());
    let features = tagged_features(
        classifier.tokenizer(),
        &data.sentences,
        classifier.tags(),
        &options,
        &args.data,
    )?;
    note_split_sentences(&features, &args.data, options.max_length);
    let gold: Vec<Vec<String>> = data.sentences.iter().map(|s| s.tags.clone()).collect();
    let eval = ner::evaluate(
        classifier.model(),
        &features.features,
        &gold,
        classifier.tags(),
        args.batch_size,
        classifier.pad_id(),
        classifier.device(),
    )
    .map_err(anyhow::Error::msg)?;
    print_report(&eval.report);
    let out = serde_json::json!({
        "data": args.data,
        "sentences": data.sentences.len(),
        "source_scheme": data.source_scheme.name(),
        "metrics": eval.metrics,
        "report": eval.report,
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

/// One input of `burnish predict`: a text, or words given as tokens.
enum PredictInput {
    Text(String),
    Tokens(Vec<String>),
}

/// Reads `predict` inputs: JSON lines with `"text"` or `"tokens"`, or one text per line.
fn read_inputs(path: &Path) -> Result<Vec<PredictInput>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let jsonl = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("jsonl"));
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        if !jsonl {
            out.push(PredictInput::Text(line.to_owned()));
            continue;
        }
        let at = || format!("{}:{}", path.display(), i + 1);
        let value: serde_json::Value = serde_json::from_str(line).with_context(at)?;
        if let Some(tokens) = value.get("tokens") {
            let tokens: Vec<String> = serde_json::from_value(tokens.clone())
                .with_context(|| format!("{}: `tokens` is not a list of strings", at()))?;
            out.push(PredictInput::Tokens(tokens));
        } else if let Some(text) = value.get("text").and_then(|t| t.as_str()) {
            out.push(PredictInput::Text(text.to_owned()));
        } else {
            bail!("{}: expected a `text` string or a `tokens` list", at());
        }
    }
    Ok(out)
}

/// `burnish predict` on a NER run: per input, the entities with character offsets, and each
/// word's tag ([`TokenClassifier::predict_inputs`]).
pub fn predict(args: &PredictArgs, info: RunInfo) -> Result<()> {
    let run = load(&args.model, info, &args.backend, args.batch_size)?;
    let inputs = read_inputs(&args.input)?;
    let inputs: Vec<TokenInput<'_>> = inputs
        .iter()
        .map(|i| match i {
            PredictInput::Text(text) => TokenInput::Text(text),
            PredictInput::Tokens(tokens) => TokenInput::Words(tokens),
        })
        .collect();
    let tagged = run.classifier.predict_inputs(&inputs)?;
    let mut out = output_writer(args.output.as_deref())?;
    for sentence in &tagged {
        let words: Vec<&str> = sentence.words.iter().map(|w| w.text.as_str()).collect();
        let tags: Vec<&str> = sentence.words.iter().map(|w| w.tag.as_str()).collect();
        let object = serde_json::json!({
            "text": sentence.text,
            "entities": sentence.entities,
            "words": words,
            "tags": tags,
        });
        serde_json::to_writer(&mut out, &object)?;
        out.write_all(b"\n")?;
    }
    out.finish()?;
    Ok(())
}
