//! LoRA adapter folders (`peft`'s layout; [`burnish_encoder::lora`]) over their base model:
//! [`merge_adapter`] folds one into the base and writes a plain model folder, which every
//! pipeline, `evaluate` and `predict` then load as any other.

use std::collections::BTreeMap;
use std::path::Path;

use burn::module::Module;
use burn::tensor::{Device, TensorData};
use burnish_encoder::lora::{self, ADAPTER_CONFIG_FILE};
use burnish_encoder::{BertConfig, BertModel, CONFIG_FILE, HfModel, LoadReport};
use burnish_heads::{
    BertForQuestionAnswering, BertForSequenceClassification, BertForTokenClassification,
};
use burnish_tokenizer::Tokenizer;

use crate::error::{Error, Result};
use crate::pretrained::SaveHf;

/// The task an adapter was trained for (`peft`'s `task_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdapterTask {
    /// `SEQ_CLS`: a sequence classifier.
    SequenceClassification,
    /// `TOKEN_CLS`: a token classifier.
    TokenClassification,
    /// `QUESTION_ANS`: extractive question answering.
    QuestionAnswering,
    /// Anything else: the encoder alone.
    Encoder,
}

impl AdapterTask {
    /// The task of the adapter folder `dir`, from its `adapter_config.json`.
    ///
    /// # Errors
    /// [`Error::Model`] naming the file when it cannot be read or parsed.
    pub fn of(dir: &Path) -> Result<Self> {
        let path = dir.join(ADAPTER_CONFIG_FILE);
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        let json: serde_json::Value = serde_json::from_str(&text).map_err(|source| {
            burnish_encoder::EncoderError::ConfigJson {
                path: path.clone(),
                source,
            }
        })?;
        Ok(match json.get("task_type").and_then(|t| t.as_str()) {
            Some("SEQ_CLS") => Self::SequenceClassification,
            Some("TOKEN_CLS") => Self::TokenClassification,
            Some("QUESTION_ANS") => Self::QuestionAnswering,
            _ => Self::Encoder,
        })
    }
}

/// Folds the LoRA adapter folder `adapter` (made by `burnish finetune --lora` or by `peft`)
/// into the base model folder `base` and writes the result to `out` as a plain model folder
/// (config, weights, the base's tokenizer). The head comes from the adapter's
/// `modules_to_save`; its labels from the base's `config.json` when their number fits, else
/// from the burnish run folder the adapter sits in, else `LABEL_0`, `LABEL_1`, ...
///
/// # Errors
/// [`Error::Model`] for a folder that does not load or an adapter that does not fit the base
/// (its settings, a missing or misshapen tensor); [`Error::MissingHead`] when the adapter does
/// not carry the trained head the task needs.
pub fn merge_adapter(
    base: impl AsRef<Path>,
    adapter: impl AsRef<Path>,
    device: &Device,
    out: impl AsRef<Path>,
) -> Result<AdapterTask> {
    let (base, adapter, out) = (base.as_ref(), adapter.as_ref(), out.as_ref());
    let task = AdapterTask::of(adapter)?;
    let weights = lora::read_adapter_weights(adapter)?;
    // The head's output size, from the adapter's copy of the head's last layer.
    let outputs = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| weights.get(*n))
            .map(|w| w.shape()[0])
    };
    match task {
        AdapterTask::SequenceClassification => {
            let n = outputs(&["classifier.weight", "classifier.out_proj.weight"]);
            let (model, config, report) =
                BertForSequenceClassification::from_pretrained(base, n, None, device)?;
            let config = labelled(config, model.num_labels, adapter);
            merge_into(
                model,
                config,
                report,
                (adapter, &weights),
                out,
                "text classification",
            )?;
        }
        AdapterTask::TokenClassification => {
            let n = outputs(&["classifier.weight"]);
            let (model, config, report) =
                BertForTokenClassification::from_pretrained(base, n, device)?;
            let config = labelled(config, model.num_labels, adapter);
            merge_into(
                model,
                config,
                report,
                (adapter, &weights),
                out,
                "token classification",
            )?;
        }
        AdapterTask::QuestionAnswering => {
            let (model, config, report) =
                <BertForQuestionAnswering as HfModel>::from_pretrained(base, device)?;
            merge_into(
                model,
                config,
                report,
                (adapter, &weights),
                out,
                "question answering",
            )?;
        }
        AdapterTask::Encoder => {
            let (model, config, report): (BertModel, BertConfig, LoadReport) =
                HfModel::from_pretrained(base, device)?;
            merge_into(model, config, report, (adapter, &weights), out, "encoder")?;
        }
    }
    Tokenizer::from_dir(base)?.save_dir(out)?;
    Ok(task)
}

/// Puts the adapter on `model`, checks that its `weights` (read once by [`merge_adapter`])
/// bring every freshly initialised head tensor, and writes the merged model.
fn merge_into<M: Module + SaveHf + burn::store::ModuleSnapshot>(
    model: M,
    config: BertConfig,
    report: LoadReport,
    (adapter, weights): (&Path, &BTreeMap<String, TensorData>),
    out: &Path,
    task: &'static str,
) -> Result<()> {
    let names = model.hf_names(&config);
    let missing: Vec<String> = report
        .newly_initialized
        .iter()
        .filter(|name| {
            !weights.contains_key(*name) && !weights.contains_key(&names.burn_to_hf(name))
        })
        .cloned()
        .collect();
    if !missing.is_empty() {
        return Err(Error::MissingHead {
            dir: adapter.to_path_buf(),
            task,
            missing,
        });
    }
    let (model, _, _) = lora::load_adapter(model, adapter, &names)?;
    model.materialize().save_hf(&config, out)
}

/// `config` with `num_labels` labels: its own when their number fits, else those of the run
/// folder holding the adapter (`RUN_DIR/adapter`), else none (saving names them `LABEL_i`).
fn labelled(mut config: BertConfig, num_labels: usize, adapter: &Path) -> BertConfig {
    let count = |c: &BertConfig| {
        c.extra
            .get("id2label")
            .and_then(|m| m.as_object())
            .map(|m| m.len())
    };
    if count(&config) == Some(num_labels) {
        return config;
    }
    let run = adapter.parent().map(|p| p.join(CONFIG_FILE));
    let from_run = run.and_then(|path| BertConfig::from_file(path).ok());
    for key in ["id2label", "label2id"] {
        config.extra.remove(key);
        if let Some(run) = from_run.as_ref().filter(|r| count(r) == Some(num_labels))
            && let Some(value) = run.extra.get(key)
        {
            config.extra.insert(key.into(), value.clone());
        }
    }
    config
}
