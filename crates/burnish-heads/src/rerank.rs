//! Cross-encoder rerankers as `sentence-transformers` trains and loads them: a sequence
//! classifier with one output reading a (query, passage) pair ([`CrossEncoder`]), the
//! activation its scores go through (`sentence_transformers.activation_fn` in `config.json`),
//! and the pointwise and listwise losses ([`binary_cross_entropy`], [`listnet_loss`]).
//!
//! Mirrors `sentence_transformers/cross_encoder/CrossEncoder.py` and
//! `sentence_transformers/cross_encoder/losses/{BinaryCrossEntropyLoss,ListNetLoss}.py`
//! (<https://github.com/UKPLab/sentence-transformers>, v5.1).

use std::path::Path;

use burn::module::Module;
use burn::tensor::{Bool, Device, Tensor};
use burnish_encoder::model::BertInput;
use burnish_encoder::pretrained::save_hf_folder_as;
use burnish_encoder::weights::LoadReport;
use burnish_encoder::{BertConfig, CONFIG_FILE, EncoderError, Result};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::classification::{BertForSequenceClassification, ProblemType, classifier_config};

/// The `sentence-transformers` version burnish writes its folders for.
pub const SENTENCE_TRANSFORMERS_VERSION: &str = "5.1.2";

/// What a cross-encoder's logit goes through to become its score
/// (`sentence_transformers.activation_fn`; sigmoid by default for one output).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScoreActivation {
    /// `torch.nn.Sigmoid`: scores in `(0, 1)`.
    #[default]
    Sigmoid,
    /// `torch.nn.Identity`: the raw logit.
    Identity,
}

impl ScoreActivation {
    /// The class path `sentence-transformers` stores.
    pub fn torch_path(self) -> &'static str {
        match self {
            ScoreActivation::Sigmoid => "torch.nn.modules.activation.Sigmoid",
            ScoreActivation::Identity => "torch.nn.modules.linear.Identity",
        }
    }

    /// The activation of a stored class path (`torch.nn.Sigmoid` or its module path, and
    /// the same for `Identity`).
    pub fn from_torch_path(path: &str) -> Option<Self> {
        match path.rsplit('.').next()? {
            "Sigmoid" => Some(ScoreActivation::Sigmoid),
            "Identity" => Some(ScoreActivation::Identity),
            _ => None,
        }
    }

    /// The score of one logit.
    pub fn apply(self, logit: f32) -> f32 {
        match self {
            ScoreActivation::Sigmoid => 1.0 / (1.0 + (-logit).exp()),
            ScoreActivation::Identity => logit,
        }
    }

    /// The activation a model folder's `config.json` names (`sentence_transformers.activation_fn`,
    /// or the pre-4.0 `sbert_ce_default_activation_function`), else sigmoid.
    ///
    /// # Errors
    /// [`EncoderError::ConfigValue`] for an activation other than sigmoid or identity.
    pub fn from_config(config: &BertConfig, config_path: &Path) -> Result<Self> {
        let stored = config
            .extra
            .get("sentence_transformers")
            .and_then(|s| s.get("activation_fn"))
            .or_else(|| config.extra.get("sbert_ce_default_activation_function"))
            .and_then(|v| v.as_str());
        match stored {
            None => Ok(ScoreActivation::Sigmoid),
            Some(path) => Self::from_torch_path(path).ok_or_else(|| EncoderError::ConfigValue {
                path: config_path.to_path_buf(),
                field: "sentence_transformers.activation_fn",
                reason: format!("{path}: burnish knows Sigmoid and Identity"),
            }),
        }
    }
}

/// The loss a reranker is trained with (`TrainConfig::rerank`, `[rerank]` in TOML).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RerankLoss {
    /// Pointwise or listwise.
    pub loss: RerankLossKind,
    /// Binary cross-entropy: the weight of positive pairs (`pos_weight`; none: 1).
    pub pos_weight: Option<f32>,
}

impl Default for RerankLoss {
    fn default() -> Self {
        Self {
            loss: RerankLossKind::Bce,
            pos_weight: None,
        }
    }
}

/// The reranking losses of `sentence-transformers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RerankLossKind {
    /// Binary cross-entropy on each (query, passage) pair's logit (`BinaryCrossEntropyLoss`).
    Bce,
    /// ListNet: cross-entropy between the softmax of a query's labels and of its passages'
    /// logits (`ListNetLoss`).
    Listnet,
}

/// Mean binary cross-entropy of `[N]` logits against `[N]` labels in `[0, 1]`, positives
/// weighted by `pos_weight` (PyTorch's `BCEWithLogitsLoss(pos_weight)`):
/// `-(w y log σ(x) + (1 - y) log(1 - σ(x)))`, computed with `log σ(x) = -softplus(-x)`.
pub fn binary_cross_entropy(
    logits: Tensor<1>,
    labels: Tensor<1>,
    pos_weight: Option<f32>,
) -> Tensor<1> {
    let softplus = |x: Tensor<1>| x.clone().clamp_min(0.0) + x.abs().neg().exp().log1p();
    let positive = softplus(logits.clone().neg()) * labels.clone();
    let positive = match pos_weight {
        Some(w) => positive.mul_scalar(w),
        None => positive,
    };
    let negative = softplus(logits) * labels.neg().add_scalar(1.0);
    (positive + negative).mean()
}

/// ListNet over `[G, D]` logits (a query per row, its passages along it): the mean over
/// queries of `-Σ p log softmax(logits)`, where `p` (`[G, D]`) is the softmax of each query's
/// labels ([`listnet_targets`]). `padding` (`[G, D]`, true where a query has fewer passages)
/// masks logits out of the softmax, as `ListNetLoss`' `-1e16` fill does.
pub fn listnet_loss(logits: Tensor<2>, targets: Tensor<2>, padding: Tensor<2, Bool>) -> Tensor<1> {
    let [groups, _] = logits.dims();
    let log_p = burn::tensor::activation::log_softmax(logits.mask_fill(padding, -1e16), 1);
    (log_p * targets).sum().neg().div_scalar(groups as f64)
}

/// The ListNet targets of `labels` (per query, its passages' labels) padded to `width`
/// passages: the softmax of each row, 0 on padding; row-major `[G, width]`.
pub fn listnet_targets(labels: &[Vec<f32>], width: usize) -> Vec<f32> {
    let mut out = vec![0.0; labels.len() * width];
    for (row, values) in labels.iter().enumerate() {
        let max = values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let exps: Vec<f64> = values.iter().map(|&v| f64::from(v - max).exp()).collect();
        let sum: f64 = exps.iter().sum();
        for (d, e) in exps.iter().enumerate() {
            out[row * width + d] = (e / sum) as f32;
        }
    }
    out
}

/// A cross-encoder: a sequence classifier with one output on `[CLS] query [SEP] passage [SEP]`
/// (BERT, RoBERTa, DistilBERT heads), whose logit, through [`Self::activation`], is the pair's
/// relevance score. Saved as a `*ForSequenceClassification` folder with the activation in
/// `config.json`, which `CrossEncoder(path)` loads.
#[derive(Module, Debug)]
pub struct CrossEncoder {
    /// The classifier (one label).
    pub classifier: BertForSequenceClassification,
    /// What scores are read through.
    #[module(skip)]
    pub activation: ScoreActivation,
    /// The training loss (set by the trainer from its config; not saved).
    #[module(skip)]
    pub loss: RerankLoss,
}

impl CrossEncoder {
    /// Loads a cross-encoder folder (a sequence classifier with one label, as
    /// `CrossEncoder.save` writes it) or an encoder folder, which gets a fresh one-output head
    /// (as `CrossEncoder(encoder_path)` does); the activation is the folder's, else sigmoid.
    ///
    /// # Errors
    /// As [`BertForSequenceClassification::from_pretrained`] (a classifier checkpoint with
    /// more than one label is a shape error naming `classifier.weight`);
    /// [`EncoderError::ConfigValue`] for an activation burnish does not know.
    pub fn from_pretrained(
        dir: impl AsRef<Path>,
        device: &Device,
    ) -> Result<(Self, BertConfig, LoadReport)> {
        let dir = dir.as_ref();
        // One output: a classifier checkpoint with more labels fails on `classifier.weight`.
        let (classifier, config, report) = BertForSequenceClassification::from_pretrained(
            dir,
            Some(1),
            Some(ProblemType::Regression),
            device,
        )?;
        let activation = ScoreActivation::from_config(&config, &dir.join(CONFIG_FILE))?;
        let model = Self {
            classifier,
            activation,
            loss: RerankLoss::default(),
        };
        Ok((model, config, report))
    }

    /// The logit of each pair, `[B]`, for `[B, S]` pair inputs.
    pub fn forward(&self, input: BertInput) -> Tensor<1> {
        let logits = self.classifier.forward(input);
        let [batch, _] = logits.dims();
        logits.reshape([batch])
    }

    /// Writes the folder `CrossEncoder(dir)` loads: `config.json` (one label, no
    /// `problem_type`, the activation under `sentence_transformers`) and `model.safetensors`.
    ///
    /// # Errors
    /// [`EncoderError::Io`] or [`EncoderError::Serialize`] naming the file.
    pub fn save_pretrained(&self, config: &BertConfig, dir: impl AsRef<Path>) -> Result<()> {
        let mut config = classifier_config(config, 1, ProblemType::Regression);
        config.extra.remove("problem_type");
        config.extra.remove("sbert_ce_default_activation_function");
        config.extra.insert(
            "sentence_transformers".into(),
            json!({
                "activation_fn": self.activation.torch_path(),
                "version": SENTENCE_TRANSFORMERS_VERSION,
            }),
        );
        save_hf_folder_as(
            &self.classifier,
            &config,
            dir.as_ref(),
            &self.classifier.names(),
        )
    }
}

impl crate::WithBackbone for CrossEncoder {
    type Backbone = burnish_encoder::BertModel;
    const BACKBONE_PATH: &'static str = "classifier.bert.";
    fn backbone(&self) -> &Self::Backbone {
        &self.classifier.bert
    }
    fn map_backbone(mut self, f: impl FnOnce(Self::Backbone) -> Self::Backbone) -> Self {
        self.classifier.bert = f(self.classifier.bert);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activation_paths_round_trip() {
        for a in [ScoreActivation::Sigmoid, ScoreActivation::Identity] {
            assert_eq!(ScoreActivation::from_torch_path(a.torch_path()), Some(a));
        }
        assert_eq!(
            ScoreActivation::from_torch_path("torch.nn.Sigmoid"),
            Some(ScoreActivation::Sigmoid)
        );
        assert_eq!(ScoreActivation::from_torch_path("torch.nn.Tanh"), None);
        assert!((ScoreActivation::Sigmoid.apply(0.0) - 0.5).abs() < 1e-7);
    }

    #[test]
    fn listnet_targets_are_row_softmaxes_padded_with_zeros() {
        let t = listnet_targets(&[vec![1.0, 0.0], vec![0.0, 0.0, 0.0]], 3);
        let e = std::f32::consts::E;
        assert!((t[0] - e / (e + 1.0)).abs() < 1e-6);
        assert!((t[1] - 1.0 / (e + 1.0)).abs() < 1e-6);
        assert_eq!(t[2], 0.0);
        for v in &t[3..] {
            assert!((v - 1.0 / 3.0).abs() < 1e-6);
        }
    }
}
