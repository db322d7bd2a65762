//! A run folder's `README.md`: a model card in the Hugging Face Hub's format
//! (<https://huggingface.co/docs/hub/model-cards>), which `huggingface_hub.ModelCard.load`
//! parses and the Hub renders.
//!
//! YAML front matter (`library_name`, `base_model` when the model was named by a Hub id,
//! `pipeline_tag`, `tags`, `datasets` when the data came from the Hub cache, and a
//! `model-index` holding the final validation metrics), then the training hyper-parameters,
//! the evaluations of `log.jsonl` as a table, and the curves (`training.png`). The front matter
//! is written from a JSON value: every scalar as a JSON string or number, which YAML reads as
//! the same value, so no YAML crate is needed to write it.

use std::path::Path;

use burnish::train::LogEvent;
use serde_json::{Value, json};

use crate::args::TaskArg;
use crate::run_dir::RunInfo;

/// What a card says of a run, whatever trained it.
pub struct Card<'a> {
    /// The Hub's `pipeline_tag` and the task's name (`text-classification`, `Text
    /// Classification`).
    pub pipeline: (&'static str, &'static str),
    /// The model it started from (`None`: trained from scratch).
    pub base_model: Option<&'a Path>,
    /// The training data, as the card shows it.
    pub train_data: String,
    /// The file the reported metrics come from (`None`: a split held out of the training
    /// data).
    pub eval_data: Option<&'a Path>,
    /// The hyper-parameters (`TrainConfig` as JSON).
    pub train: Value,
}

impl<'a> Card<'a> {
    /// A fine-tuning run's card.
    pub fn finetune(info: &'a RunInfo) -> Self {
        Self {
            pipeline: pipeline(info.task),
            base_model: Some(&info.base_model),
            train_data: format!("`{}`", info.train_file.display()),
            eval_data: info.valid_file.as_deref(),
            train: json!(info.train),
        }
    }

    /// A pre-training run's card: `objective` is `mlm`, `mlm+nsp` or `clm`.
    pub fn pretrain(
        objective: &str,
        base_model: Option<&'a Path>,
        corpus: &[std::path::PathBuf],
        train: Value,
    ) -> Self {
        let pipeline = if objective == "clm" {
            ("text-generation", "Causal Language Modeling")
        } else {
            ("fill-mask", "Masked Language Modeling")
        };
        let files: Vec<String> = corpus
            .iter()
            .map(|p| format!("`{}`", p.display()))
            .collect();
        Self {
            pipeline,
            base_model,
            train_data: files.join(", "),
            eval_data: None,
            train,
        }
    }
}

/// The card's file name.
pub const README: &str = "README.md";

/// The Hub's pipeline tag and task name of a burnish task.
fn pipeline(task: TaskArg) -> (&'static str, &'static str) {
    match task {
        TaskArg::Classification => ("text-classification", "Text Classification"),
        TaskArg::Ner => ("token-classification", "Token Classification"),
        TaskArg::Qa => ("question-answering", "Question Answering"),
        TaskArg::Embedding => ("sentence-similarity", "Sentence Similarity"),
        TaskArg::Rerank => ("text-ranking", "Text Ranking"),
    }
}

/// The Hub id of a model or dataset given as `ORG/NAME[@REV]`, or held in the Hub cache
/// (`.../models--ORG--NAME/snapshots/...`, `.../datasets--ORG--NAME/...`).
fn hub_id(path: &Path, kind: &str) -> Option<String> {
    let prefix = format!("{kind}--");
    for part in path.components().rev() {
        let part = part.as_os_str().to_str()?;
        if let Some(rest) = part.strip_prefix(&prefix) {
            return Some(rest.replacen("--", "/", 1));
        }
    }
    let text = path.to_str()?;
    (kind == "models" && burnish::hub::is_hub_id(text) && !path.exists())
        .then(|| text.split('@').next().unwrap_or(text).to_string())
}

/// The card of the finished run folder `out`, from how it was trained (`card`), its
/// `metrics.json` value (`metrics`) and its `log.jsonl`.
pub fn render(out: &Path, card: &Card<'_>, metrics: &Value) -> String {
    let (pipeline_tag, task_name) = card.pipeline;
    let name = out
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("model")
        .to_string();
    let model_type = std::fs::read_to_string(out.join("config.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|c| c["model_type"].as_str().map(str::to_string));
    let base_model = card.base_model.and_then(|b| hub_id(b, "models"));
    let dataset_id = card.eval_data.and_then(|d| hub_id(d, "datasets"));
    let dataset_name = dataset_id.clone().unwrap_or_else(|| match card.eval_data {
        Some(data) => data
            .file_name()
            .map_or("data".into(), |n| n.to_string_lossy().into_owned()),
        None => "held-out split".into(),
    });
    let final_metrics = metrics["final_validation"]
        .as_object()
        .cloned()
        .unwrap_or_default();

    let mut front = serde_json::Map::new();
    front.insert("library_name".into(), json!("burnish"));
    if let Some(base) = &base_model {
        front.insert("base_model".into(), json!(base));
    }
    front.insert("pipeline_tag".into(), json!(pipeline_tag));
    let mut tags = vec![json!("burnish"), json!(pipeline_tag)];
    if let Some(t) = &model_type {
        tags.push(json!(t));
    }
    front.insert("tags".into(), Value::Array(tags));
    if let Some(id) = &dataset_id {
        front.insert("datasets".into(), json!([id]));
    }
    let metric_entries: Vec<Value> = final_metrics
        .iter()
        .filter(|(_, v)| v.as_f64().is_some_and(f64::is_finite))
        .map(|(k, v)| json!({"type": k, "value": v, "name": format!("validation {k}")}))
        .collect();
    front.insert(
        "model-index".into(),
        json!([{
            "name": name,
            "results": [{
                "task": {"type": pipeline_tag, "name": task_name},
                "dataset": {"name": dataset_name, "type": dataset_id.clone().unwrap_or_else(|| dataset_name.clone()), "split": "validation"},
                "metrics": metric_entries,
            }],
        }]),
    );

    let mut text = String::from("---\n");
    yaml(&Value::Object(front), 0, &mut text);
    text.push_str("---\n\n");
    text.push_str(&format!("# {name}\n\n"));
    let base = match (&base_model, card.base_model) {
        (Some(id), _) => format!("fine-tuned from [{id}](https://huggingface.co/{id})"),
        (None, Some(path)) => format!("fine-tuned from `{}`", path.display()),
        (None, None) => "trained from scratch".into(),
    };
    text.push_str(&format!(
        "A {} model {base} with [burnish](https://crates.io/crates/burnish) on {}{}.\n\n",
        task_name.to_lowercase(),
        card.train_data,
        card.eval_data
            .map(|v| format!(", validated on `{}`", v.display()))
            .unwrap_or_default()
    ));
    text.push_str("## Results\n\nFinal validation metrics:\n\n| metric | value |\n| --- | --- |\n");
    for (k, v) in &final_metrics {
        text.push_str(&format!("| {k} | {} |\n", number(v)));
    }
    let evals: Vec<(usize, usize, burnish::train::Metrics)> =
        std::fs::read_to_string(out.join("log.jsonl"))
            .ok()
            .and_then(|t| LogEvent::parse_all(&t).ok())
            .unwrap_or_default()
            .into_iter()
            .filter_map(|e| match e {
                LogEvent::Eval {
                    step,
                    epoch,
                    metrics,
                } => Some((step, epoch, metrics)),
                _ => None,
            })
            .collect();
    if let Some((_, _, first)) = evals.first() {
        let names: Vec<&String> = first.keys().collect();
        text.push_str("\nEvery evaluation during training:\n\n| step | epoch |");
        for n in &names {
            text.push_str(&format!(" {n} |"));
        }
        text.push_str("\n| --- | --- |");
        text.push_str(&" --- |".repeat(names.len()));
        text.push('\n');
        for (step, epoch, m) in &evals {
            text.push_str(&format!("| {step} | {epoch} |"));
            for n in &names {
                text.push_str(&format!(
                    " {} |",
                    m.get(*n).map_or("".into(), |v| number(&json!(v)))
                ));
            }
            text.push('\n');
        }
    }
    if out.join("training.png").is_file() {
        text.push_str("\n![Training and validation curves](training.png)\n");
    }
    text.push_str("\n## Training hyper-parameters\n\n| setting | value |\n| --- | --- |\n");
    if let Value::Object(train) = &card.train {
        for (k, v) in train {
            let shown = match v {
                Value::Null => "none".to_string(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            text.push_str(&format!("| {k} | {shown} |\n"));
        }
    }
    text.push_str(&format!(
        "\nTrained on the `{}` backend; {} optimizer steps in {:.1} s of training.\n\n",
        metrics["backend"].as_str().unwrap_or("?"),
        metrics["steps"],
        metrics["train_seconds"].as_f64().unwrap_or(f64::NAN)
    ));
    text.push_str(&format!(
        "## Framework versions\n\n- burnish {}\n- Burn 0.22.1\n",
        env!("CARGO_PKG_VERSION")
    ));
    text
}

/// A metric value as the tables show it.
fn number(v: &Value) -> String {
    match v.as_f64() {
        Some(x) if x.is_finite() => format!("{x:.4}"),
        Some(_) | None => "n/a".into(),
    }
}

/// Block-style YAML of a JSON value at `indent` spaces: maps as `key: value`, lists as
/// `- item`, scalars as JSON (a JSON string or number is the same YAML scalar).
fn yaml(value: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if k
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
                {
                    k.clone()
                } else {
                    Value::String(k.clone()).to_string()
                };
                match v {
                    Value::Object(m) if !m.is_empty() => {
                        out.push_str(&format!("{pad}{key}:\n"));
                        yaml(v, indent + 2, out);
                    }
                    Value::Array(a) if !a.is_empty() => {
                        out.push_str(&format!("{pad}{key}:\n"));
                        yaml(v, indent, out);
                    }
                    scalar => out.push_str(&format!("{pad}{key}: {}\n", inline(scalar))),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                match item {
                    Value::Object(m) if !m.is_empty() => {
                        // The first key on the dash's line, the rest aligned under it.
                        let mut inner = String::new();
                        yaml(item, indent + 2, &mut inner);
                        let trimmed = &inner[indent + 2..];
                        out.push_str(&format!("{pad}- {trimmed}"));
                    }
                    Value::Array(a) if !a.is_empty() => {
                        out.push_str(&format!("{pad}-\n"));
                        yaml(item, indent + 2, out);
                    }
                    scalar => out.push_str(&format!("{pad}- {}\n", inline(scalar))),
                }
            }
        }
        scalar => out.push_str(&format!("{pad}{}\n", inline(scalar))),
    }
}

/// A scalar (or empty collection) on one line; non-finite numbers as YAML's `.nan`.
fn inline(value: &Value) -> String {
    match value {
        Value::Object(_) => "{}".into(),
        Value::Array(_) => "[]".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_nests_maps_and_lists() {
        let mut out = String::new();
        yaml(
            &json!({"a": "x: y", "b": [1, {"c": 2, "d": [true]}], "e": {}}),
            0,
            &mut out,
        );
        assert_eq!(out, "a: \"x: y\"\nb:\n- 1\n- c: 2\n  d:\n  - true\ne: {}\n");
    }

    #[test]
    fn hub_ids_from_names_and_cache_paths() {
        assert_eq!(
            hub_id(
                Path::new("/c/hub/models--google-bert--bert-base-uncased/snapshots/abc"),
                "models"
            ),
            Some("google-bert/bert-base-uncased".into())
        );
        assert_eq!(
            hub_id(
                Path::new("/c/datasets--stanfordnlp--sst2/x/train.parquet"),
                "datasets"
            ),
            Some("stanfordnlp/sst2".into())
        );
        assert_eq!(
            hub_id(
                Path::new("sentence-transformers/all-MiniLM-L6-v2@main"),
                "models"
            ),
            Some("sentence-transformers/all-MiniLM-L6-v2".into())
        );
        assert_eq!(hub_id(Path::new("runs/mine"), "datasets"), None);
    }
}
