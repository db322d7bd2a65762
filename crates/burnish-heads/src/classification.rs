//! `BertForSequenceClassification`: single-label, multi-label classification and regression
//! on the first token, as in `transformers`' `BertForSequenceClassification`,
//! `RobertaForSequenceClassification` and `DistilBertForSequenceClassification`.

use std::path::Path;

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Linear};
use burn::tensor::activation;
use burn::tensor::{Device, Int, Tensor, TensorData};
use burnish_encoder::config::BertConfig;
use burnish_encoder::family::{ClassifierHead, Family};
use burnish_encoder::fused;
use burnish_encoder::model::{BertInput, BertModel};
use burnish_encoder::pretrained::{encoder_config, save_hf_folder_as};
use burnish_encoder::weights::{Checkpoint, LoadReport, LoadSpec, NameMap, load_checkpoint};
use burnish_encoder::{CONFIG_FILE, EncoderError, Result};
use serde::{Deserialize, Serialize};

use crate::loss::ClassLoss;
use crate::{head_linear, loss};

/// What the logits mean and which loss trains them (`problem_type` in `config.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum ProblemType {
    /// One class per example; softmax + cross-entropy.
    #[default]
    #[serde(rename = "single_label_classification")]
    SingleLabel,
    /// Any number of classes per example; sigmoid + binary cross-entropy.
    #[serde(rename = "multi_label_classification")]
    MultiLabel,
    /// Real-valued targets (one per output); mean squared error.
    #[serde(rename = "regression")]
    Regression,
}

impl ProblemType {
    /// The name `transformers` writes in `config.json`.
    pub fn as_hf(self) -> &'static str {
        match self {
            ProblemType::SingleLabel => "single_label_classification",
            ProblemType::MultiLabel => "multi_label_classification",
            ProblemType::Regression => "regression",
        }
    }
}

/// Training targets for a batch.
#[derive(Debug, Clone)]
pub enum ClassificationTargets {
    /// Class ids, `[B]`.
    Classes(Tensor<1, Int>),
    /// Multi-hot rows, `[B, L]`.
    MultiHot(Tensor<2>),
    /// Regression targets, `[B, L]`.
    Values(Tensor<2>),
}

impl ClassificationTargets {
    /// Class ids from a slice.
    pub fn classes(ids: &[u32], device: &Device) -> Self {
        let data: Vec<i64> = ids.iter().map(|&i| i64::from(i)).collect();
        Self::Classes(Tensor::from_data(
            TensorData::new(data, [ids.len()]),
            device,
        ))
    }

    /// Float rows (multi-hot or regression values), each of `width` values.
    ///
    /// # Panics
    /// If a row is not `width` long.
    pub fn rows(rows: &[Vec<f32>], width: usize, multi_hot: bool, device: &Device) -> Self {
        assert!(rows.iter().all(|r| r.len() == width), "rows of equal width");
        let flat: Vec<f32> = rows.iter().flatten().copied().collect();
        let t = Tensor::from_data(TensorData::new(flat, [rows.len(), width]), device);
        if multi_hot {
            Self::MultiHot(t)
        } else {
            Self::Values(t)
        }
    }
}

/// A classifier on the encoder's first token, in the form of the checkpoint's family:
///
/// - BERT (`BertForSequenceClassification`): `classifier(dropout(pooler(h)))`, the pooler
///   being the encoder's `tanh(dense(h_[CLS]))`.
/// - RoBERTa (`RobertaForSequenceClassification`, HF `RobertaClassificationHead`):
///   `out_proj(dropout(tanh(dense(dropout(h_<s>)))))`; `dense` is [`Self::pre_classifier`]
///   (HF `classifier.dense`), `out_proj` is [`Self::classifier`] (HF `classifier.out_proj`).
/// - DistilBERT (`DistilBertForSequenceClassification`):
///   `classifier(dropout(relu(pre_classifier(h_[CLS]))))`.
#[derive(Module, Debug)]
pub struct BertForSequenceClassification {
    /// The encoder (HF prefix `bert.`, `roberta.`, `distilbert.`).
    pub bert: BertModel,
    /// `classifier_dropout` (or `hidden_dropout_prob`; DistilBERT's `seq_classif_dropout`).
    pub dropout: Dropout,
    /// `H -> H` on the first token: RoBERTa's `classifier.dense`, DistilBERT's
    /// `pre_classifier`; `None` for BERT, whose pooler plays this part.
    pub pre_classifier: Option<Linear>,
    /// `H -> num_labels` (HF `classifier`; RoBERTa's `classifier.out_proj`).
    pub classifier: Linear,
    /// Number of outputs.
    #[module(skip)]
    pub num_labels: usize,
    /// How the logits are trained and read.
    #[module(skip)]
    pub problem_type: ProblemType,
    /// The family whose head this is.
    #[module(skip)]
    pub family: &'static Family,
    /// Class weights and label smoothing of the single-label loss (default: plain
    /// cross-entropy); set by the trainer from its config, not saved.
    #[module(skip)]
    pub class_loss: ClassLoss,
}

impl BertForSequenceClassification {
    /// A fresh model (encoder and head initialised as `transformers` does; the encoder has a
    /// pooler for BERT only, as in `transformers`).
    pub fn new(
        config: &BertConfig,
        num_labels: usize,
        problem_type: ProblemType,
        device: &Device,
    ) -> Self {
        let pooler = config.family.heads.classifier == ClassifierHead::Pooler;
        Self::with_encoder(
            BertModel::new_with_pooler(config, pooler, device),
            config,
            num_labels,
            problem_type,
            device,
        )
    }

    /// A new head on an existing encoder.
    pub fn with_encoder(
        bert: BertModel,
        config: &BertConfig,
        num_labels: usize,
        problem_type: ProblemType,
        device: &Device,
    ) -> Self {
        Self {
            bert,
            dropout: DropoutConfig::new(config.classifier_dropout_prob()).init(),
            pre_classifier: (config.family.heads.classifier != ClassifierHead::Pooler)
                .then(|| head_linear(config, config.hidden_size, device)),
            classifier: head_linear(config, num_labels, device),
            num_labels,
            problem_type,
            family: config.family,
            class_loss: ClassLoss::default(),
        }
    }

    /// The checkpoint names of this head's family.
    pub fn names(&self) -> NameMap {
        names_for(self.family)
    }

    /// Loads a model folder: a `BertForSequenceClassification` checkpoint (head included) or a
    /// bare encoder (`BertModel`, `BertForMaskedLM`, ...), which gets a fresh head, listed in
    /// the report's `newly_initialized`; the same for RoBERTa and DistilBERT (`model_type`
    /// picks the family).
    ///
    /// `num_labels` defaults to the config's `id2label` size (or 2); a checkpoint head of
    /// another size is an error naming `classifier.weight`. `problem_type` defaults to the
    /// config's, else single-label.
    ///
    /// # Errors
    /// As [`burnish_encoder::pretrained::load_folder`].
    pub fn from_pretrained(
        dir: impl AsRef<Path>,
        num_labels: Option<usize>,
        problem_type: Option<ProblemType>,
        device: &Device,
    ) -> Result<(Self, BertConfig, LoadReport)> {
        let dir = dir.as_ref();
        let config = encoder_config(dir)?;
        let (num_labels, problem_type) =
            classifier_settings(&config, &dir.join(CONFIG_FILE), num_labels, problem_type)?;
        let checkpoint = Checkpoint::for_config(dir, &config)?;
        let mut model = Self::new(&config, num_labels, problem_type, device);
        let report = load_checkpoint(
            &mut model,
            &checkpoint,
            LoadSpec {
                encoder_prefix: "bert.",
                may_be_fresh: &|name| {
                    name.starts_with("classifier.")
                        || name.starts_with("pre_classifier.")
                        || name.starts_with("bert.pooler.")
                },
                names: names_for(config.family),
            },
        )?;
        Ok((model, config, report))
    }

    /// Logits `[B, num_labels]` for a batch of `[B, S]` inputs.
    ///
    /// # Panics
    /// For a BERT head whose encoder was built without a pooler (a programming error).
    pub fn forward(&self, input: BertInput) -> Tensor<2> {
        self.forward_hidden(self.bert.encode(input))
    }

    /// The head alone: logits `[B, num_labels]` from the encoder's `[B, S, H]` last hidden
    /// state (the pooler, for BERT, runs here).
    ///
    /// # Panics
    /// For a BERT head whose encoder was built without a pooler (a programming error).
    pub fn forward_hidden(&self, last_hidden_state: Tensor<3>) -> Tensor<2> {
        let first = || {
            let [batch, _, width] = last_hidden_state.dims();
            last_hidden_state
                .clone()
                .narrow(1, 0, 1)
                .reshape([batch, width])
        };
        let features = match (self.family.heads.classifier, &self.pre_classifier) {
            (ClassifierHead::DenseTanh, Some(dense)) => {
                let hidden = dense.forward(fused::dropout(&self.dropout, first()));
                fused::dropout(&self.dropout, activation::tanh(hidden))
            }
            (ClassifierHead::DenseGelu, Some(dense)) => {
                let hidden = dense.forward(fused::dropout(&self.dropout, first()));
                fused::dropout(&self.dropout, fused::gelu(hidden))
            }
            (ClassifierHead::DenseRelu, Some(pre)) => {
                fused::dropout(&self.dropout, activation::relu(pre.forward(first())))
            }
            _ => {
                let pooler = self
                    .bert
                    .pooler
                    .as_ref()
                    .expect("a BERT sequence classifier's encoder has a pooler");
                self.dropout
                    .forward(pooler.forward(last_hidden_state.clone()))
            }
        };
        self.classifier.forward(features)
    }

    /// The loss for `problem_type`: cross-entropy, binary cross-entropy with logits, or MSE.
    ///
    /// # Panics
    /// If the targets' kind does not fit the problem type (a programming error).
    pub fn loss(&self, logits: Tensor<2>, targets: ClassificationTargets) -> Tensor<1> {
        classification_loss(self.problem_type, &self.class_loss, logits, targets)
    }

    /// Writes `config.json` (architecture, `num_labels`' `id2label`/`label2id` when absent,
    /// `problem_type`) and `model.safetensors` in `transformers`' layout, atomically.
    ///
    /// # Errors
    /// [`EncoderError::Io`] or [`EncoderError::Serialize`] naming the file.
    pub fn save_pretrained(&self, config: &BertConfig, dir: impl AsRef<Path>) -> Result<()> {
        let config = classifier_config(config, self.num_labels, self.problem_type);
        save_hf_folder_as(self, &config, dir.as_ref(), &self.names())
    }
}

/// The checkpoint names of `family`'s sequence classifier (RoBERTa's head is
/// `classifier.dense` + `classifier.out_proj`).
fn names_for(family: &'static Family) -> NameMap {
    NameMap::new(family).with_head(family.heads.classifier_names)
}

/// `num_labels` (the argument, else the size of the config's `id2label`, else 2) and
/// `problem_type` (the argument, else the config's, else single-label) of a sequence
/// classifier loaded from a folder; `config_path` is only used in error messages.
///
/// # Errors
/// [`EncoderError::ConfigValue`] for zero labels or an unknown `problem_type`.
pub fn classifier_settings(
    config: &BertConfig,
    config_path: &Path,
    num_labels: Option<usize>,
    problem_type: Option<ProblemType>,
) -> Result<(usize, ProblemType)> {
    let config_labels = config
        .extra
        .get("id2label")
        .and_then(|v| v.as_object())
        .map(|m| m.len());
    let num_labels = num_labels.or(config_labels).unwrap_or(2);
    if num_labels == 0 {
        return Err(EncoderError::ConfigValue {
            path: config_path.to_path_buf(),
            field: "num_labels",
            reason: "a classifier needs at least one output".into(),
        });
    }
    let problem_type = match problem_type {
        Some(p) => p,
        None => match config.extra.get("problem_type") {
            Some(v) if !v.is_null() => {
                serde_json::from_value(v.clone()).map_err(|e| EncoderError::ConfigValue {
                    path: config_path.to_path_buf(),
                    field: "problem_type",
                    reason: e.to_string(),
                })?
            }
            _ => ProblemType::SingleLabel,
        },
    };
    Ok((num_labels, problem_type))
}

/// The loss for `problem`: cross-entropy (with `class_loss`' class weights and label
/// smoothing), binary cross-entropy with logits, or MSE, of `[B, num_labels]` logits.
///
/// # Panics
/// If the targets' kind does not fit the problem type, or `class_loss` is not plain for a
/// multi-label or regression problem (the trainer refuses that configuration first).
pub fn classification_loss(
    problem: ProblemType,
    class_loss: &ClassLoss,
    logits: Tensor<2>,
    targets: ClassificationTargets,
) -> Tensor<1> {
    assert!(
        problem == ProblemType::SingleLabel || class_loss.is_plain(),
        "class weights and label smoothing apply to single-label classification"
    );
    match (problem, targets) {
        (ProblemType::SingleLabel, ClassificationTargets::Classes(t)) => {
            loss::cross_entropy_with(logits, t, None, class_loss)
        }
        (ProblemType::MultiLabel, ClassificationTargets::MultiHot(t)) => {
            loss::bce_with_logits(logits, t)
        }
        (ProblemType::Regression, ClassificationTargets::Values(t)) => loss::mse(logits, t),
        (p, t) => panic!("targets {t:?} do not fit problem type {p:?}"),
    }
}

/// `config` prepared for saving a sequence classifier: the family's
/// `...ForSequenceClassification` architecture, `id2label`/`label2id` for `num_labels` when
/// absent, and `problem_type`.
pub fn classifier_config(
    config: &BertConfig,
    num_labels: usize,
    problem_type: ProblemType,
) -> BertConfig {
    let mut config = config.clone();
    config.set_architecture("ForSequenceClassification");
    crate::token_classification::ensure_label_maps(&mut config, num_labels);
    config
        .extra
        .insert("problem_type".into(), problem_type.as_hf().into());
    config
}

/// What training, evaluation and prediction need of a sequence classifier, whatever its
/// architecture: [`BertForSequenceClassification`] (BERT, RoBERTa, DistilBERT) and
/// [`crate::Gpt2ForSequenceClassification`].
pub trait SequenceClassifier: Module {
    /// Logits `[B, num_labels]` for a batch of `[B, S]` inputs.
    fn logits(&self, input: BertInput) -> Tensor<2>;
    /// Number of outputs.
    fn num_labels(&self) -> usize;
    /// How the logits are trained and read.
    fn problem_type(&self) -> ProblemType;
    /// Writes the model as a Hugging Face folder (`config.json` + `model.safetensors`).
    ///
    /// # Errors
    /// [`EncoderError::Io`] or [`EncoderError::Serialize`] naming the file.
    fn save_folder(&self, config: &BertConfig, dir: &Path) -> Result<()>;

    /// Class weights and label smoothing of the training loss.
    fn class_loss(&self) -> &ClassLoss;
    /// Sets them (the trainer does, from its config and the training labels).
    fn set_class_loss(&mut self, class_loss: ClassLoss);

    /// The training loss of `[B, num_labels]` logits ([`classification_loss`]).
    fn classifier_loss(&self, logits: Tensor<2>, targets: ClassificationTargets) -> Tensor<1> {
        classification_loss(self.problem_type(), self.class_loss(), logits, targets)
    }
}

impl SequenceClassifier for BertForSequenceClassification {
    fn logits(&self, input: BertInput) -> Tensor<2> {
        self.forward(input)
    }

    fn num_labels(&self) -> usize {
        self.num_labels
    }

    fn problem_type(&self) -> ProblemType {
        self.problem_type
    }

    fn class_loss(&self) -> &ClassLoss {
        &self.class_loss
    }

    fn set_class_loss(&mut self, class_loss: ClassLoss) {
        self.class_loss = class_loss;
    }

    fn save_folder(&self, config: &BertConfig, dir: &Path) -> Result<()> {
        self.save_pretrained(config, dir)
    }
}
