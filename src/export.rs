//! Export a model folder to other runtimes: [`export_onnx`] (ONNX, through `burnish-onnx`).

use std::collections::BTreeMap;
use std::path::Path;

use burn::tensor::Device;
use burnish_encoder::weights::{NameMap, float_tensors_as};
use burnish_encoder::{BertConfig, BertModel, CONFIG_FILE, HfModel, LoadReport};
use burnish_heads::{
    BertForQuestionAnswering, BertForSequenceClassification, BertForTokenClassification,
};
use burnish_onnx::{Head, Options, Weight};

use crate::error::{Error, Result};
use crate::pipelines::require_head;

/// Which head an export writes; [`OnnxHead::Auto`] reads it from the folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnnxHead {
    /// The head `config.json`'s `architectures` names (`BertForSequenceClassification`, ...);
    /// an encoder folder exports as [`OnnxHead::Embedding`] when it is a sentence-transformers
    /// folder (`modules.json`), else as [`OnnxHead::Encoder`].
    Auto,
    /// The encoder: `last_hidden_state`.
    Encoder,
    /// Mean-pooled sentence embeddings (`sentence_embedding`), normalised when the folder's
    /// `modules.json` has a `Normalize` module.
    Embedding,
    /// Sequence classification `logits`.
    SequenceClassification,
    /// Token classification `logits`.
    TokenClassification,
    /// Question answering `start_logits`, `end_logits`.
    QuestionAnswering,
}

/// Writes the model folder `dir` (a fine-tuned run folder or any Hugging Face folder burnish
/// loads) as an ONNX model (see [`burnish_onnx`]) to `out`; returns the head written. The
/// weights are read on `device`.
///
/// # Errors
/// [`Error::Model`] for a folder that does not load; [`Error::MissingHead`] when the head asked
/// for has no trained weights in the folder; [`Error::Onnx`] when the graph cannot be written;
/// [`Error::Io`] when `out` cannot be written (nothing is left half-written).
pub fn export_onnx(
    dir: impl AsRef<Path>,
    head: OnnxHead,
    options: &Options,
    device: &Device,
    out: impl AsRef<Path>,
) -> Result<Head> {
    let dir = dir.as_ref();
    let config = BertConfig::from_file(dir.join(CONFIG_FILE))?;
    let head = match head {
        OnnxHead::Auto => auto_head(dir, &config),
        other => other,
    };
    let (config, tensors, head) = match head {
        OnnxHead::SequenceClassification => {
            let (m, config, report) =
                BertForSequenceClassification::from_pretrained(dir, None, None, device)?;
            require_head(&report, dir, "text classification")?;
            let kind = config.family.heads.classifier;
            (config, tensors(&m)?, Head::SequenceClassification(kind))
        }
        OnnxHead::TokenClassification => {
            let (m, config, report) =
                BertForTokenClassification::from_pretrained(dir, None, device)?;
            require_head(&report, dir, "token classification")?;
            (config, tensors(&m)?, Head::TokenClassification)
        }
        OnnxHead::QuestionAnswering => {
            let (m, config, report) =
                <BertForQuestionAnswering as HfModel>::from_pretrained(dir, device)?;
            require_head(&report, dir, "question answering")?;
            (config, tensors(&m)?, Head::QuestionAnswering)
        }
        OnnxHead::Encoder | OnnxHead::Embedding | OnnxHead::Auto => {
            let (m, config, _): (BertModel, BertConfig, LoadReport) =
                HfModel::from_pretrained(dir, device)?;
            let head = if head == OnnxHead::Embedding {
                Head::Embedding {
                    normalize: normalizes(dir),
                }
            } else {
                Head::Encoder
            };
            (config, tensors(&m)?, head)
        }
    };
    let mut options = options.clone();
    options
        .metadata
        .push(("source".into(), dir.display().to_string()));
    let bytes = burnish_onnx::export(&config, head, &tensors, &options)?;
    let out = out.as_ref();
    burnish_fs::write_atomic(out, &bytes).map_err(|source| Error::Io {
        path: out.to_path_buf(),
        source,
    })?;
    Ok(head)
}

/// The head a folder's `architectures` names; a sentence-transformers folder's encoder is an
/// embedding model.
fn auto_head(dir: &Path, config: &BertConfig) -> OnnxHead {
    let class = config
        .extra
        .get("architectures")
        .and_then(|a| a.get(0))
        .and_then(|c| c.as_str())
        .unwrap_or("");
    if class.ends_with("ForSequenceClassification") {
        OnnxHead::SequenceClassification
    } else if class.ends_with("ForTokenClassification") {
        OnnxHead::TokenClassification
    } else if class.ends_with("ForQuestionAnswering") {
        OnnxHead::QuestionAnswering
    } else if dir.join("modules.json").is_file() {
        OnnxHead::Embedding
    } else {
        OnnxHead::Encoder
    }
}

/// Whether a sentence-transformers folder normalises its embeddings.
fn normalizes(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("modules.json"))
        .is_ok_and(|text| text.contains("sentence_transformers.models.Normalize"))
}

/// The model's float tensors by BERT's `transformers` names, the encoder's without `bert.`.
fn tensors<M: burn::module::Module + burn::store::ModuleSnapshot>(
    model: &M,
) -> Result<BTreeMap<String, Weight>> {
    let named = float_tensors_as(model, &NameMap::default()).map_err(|reason| Error::Setting {
        name: "weights",
        reason,
    })?;
    Ok(named
        .into_iter()
        .map(|(name, data)| {
            let name = name.strip_prefix("bert.").unwrap_or(&name).to_string();
            let shape = data.shape().to_vec();
            let values = data.try_to_vec::<f32>().map_err(|e| Error::Setting {
                name: "weights",
                reason: format!("{name}: {e:?}"),
            })?;
            Ok((name, Weight { shape, values }))
        })
        .collect::<Result<_>>()?)
}
