//! [`TextClassifier`]: labels (single-label, multi-label) or values (regression) for texts.

use std::path::Path;

use burn::tensor::Device;
use burnish_data::Example;
use burnish_data::{Task, TokenizeOptions, tokenize_records};
use burnish_encoder::{BertConfig, CONFIG_FILE};
use burnish_heads::{BertForSequenceClassification, Gpt2ForSequenceClassification};
use burnish_tokenizer::{Input, Tokenizer};
use burnish_train::tasks::classification::{
    self, ClassificationEval, argmax, predict_logits, softmax,
};
use serde::Serialize;

use super::{DEFAULT_BATCH_SIZE, check_max_length, encode_inputs, require_head};
use crate::error::{Error, Result};
use crate::pretrained::{SaveHf, max_length, pad_id};
use crate::text_dataset::TextDataset;

/// What a [`TextClassifier`] says about one input.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Classification {
    /// Single-label: the most probable class.
    Single {
        /// Its name.
        label: String,
        /// Its softmax probability.
        score: f32,
        /// Every class with its probability, in label-id order.
        probabilities: Vec<(String, f32)>,
    },
    /// Multi-label: every class whose sigmoid probability is at least 0.5.
    Multi {
        /// Their names, in label-id order.
        labels: Vec<String>,
        /// Every class with its probability, in label-id order.
        probabilities: Vec<(String, f32)>,
    },
    /// Regression: the predicted value.
    Value {
        /// The value.
        value: f32,
    },
}

impl Classification {
    /// The predicted class of a single-label model (`None` otherwise).
    pub fn label(&self) -> Option<&str> {
        match self {
            Self::Single { label, .. } => Some(label),
            _ => None,
        }
    }

    /// The probability of the predicted class (single-label), else `None`.
    pub fn score(&self) -> Option<f32> {
        match self {
            Self::Single { score, .. } => Some(*score),
            _ => None,
        }
    }
}

/// The model behind a [`TextClassifier`]: an encoder family's classifier (BERT, RoBERTa,
/// DistilBERT) or GPT-2's (which reads the last real token).
#[derive(Debug, Clone)]
pub enum ClassifierModel {
    /// `BertForSequenceClassification` and its RoBERTa / DistilBERT equivalents.
    Encoder(Box<BertForSequenceClassification>),
    /// `GPT2ForSequenceClassification`.
    Gpt2(Box<Gpt2ForSequenceClassification>),
}

impl From<BertForSequenceClassification> for ClassifierModel {
    fn from(model: BertForSequenceClassification) -> Self {
        Self::Encoder(Box::new(model))
    }
}

impl From<Gpt2ForSequenceClassification> for ClassifierModel {
    fn from(model: Gpt2ForSequenceClassification) -> Self {
        Self::Gpt2(Box::new(model))
    }
}

impl ClassifierModel {
    /// Loads the classifier of a model folder, of the family its `config.json` names.
    fn from_dir(
        dir: &Path,
        task: &Task,
        family_is_decoder: bool,
        device: &Device,
    ) -> Result<(Self, BertConfig, burnish_encoder::LoadReport)> {
        let (num_labels, problem) = (
            Some(task.num_labels()),
            Some(classification::problem_type(task)),
        );
        Ok(if family_is_decoder {
            let (model, config, report) =
                Gpt2ForSequenceClassification::from_pretrained(dir, num_labels, problem, device)?;
            (model.into(), config, report)
        } else {
            let (model, config, report) =
                BertForSequenceClassification::from_pretrained(dir, num_labels, problem, device)?;
            (model.into(), config, report)
        })
    }

    /// Logits of `examples`, `[num_labels]` each (see
    /// [`burnish_train::tasks::classification::predict_logits`]).
    pub fn predict_logits(
        &self,
        examples: &[Example],
        batch_size: usize,
        pad_id: u32,
        device: &Device,
    ) -> Vec<Vec<f32>> {
        match self {
            Self::Encoder(m) => predict_logits(m.as_ref(), examples, batch_size, pad_id, device),
            Self::Gpt2(m) => predict_logits(m.as_ref(), examples, batch_size, pad_id, device),
        }
    }

    /// Scores labelled `examples` (see [`burnish_train::tasks::classification::evaluate`]).
    ///
    /// # Errors
    /// [`Error::Evaluation`] for empty or unlabelled examples.
    pub fn evaluate(
        &self,
        examples: &[Example],
        task: &Task,
        batch_size: usize,
        pad_id: u32,
        device: &Device,
    ) -> Result<ClassificationEval> {
        match self {
            Self::Encoder(m) => {
                classification::evaluate(m.as_ref(), examples, task, batch_size, pad_id, device)
            }
            Self::Gpt2(m) => {
                classification::evaluate(m.as_ref(), examples, task, batch_size, pad_id, device)
            }
        }
        .map_err(Error::Evaluation)
    }

    fn save_hf(&self, config: &BertConfig, dir: &Path) -> Result<()> {
        match self {
            Self::Encoder(m) => m.save_hf(config, dir),
            Self::Gpt2(m) => Ok(m.save_pretrained(config, dir)?),
        }
    }
}

/// A fine-tuned sequence classifier with its tokenizer and labels.
///
/// ```
/// # fn main() -> burnish::Result<()> {
/// use burnish::prelude::*;
///
/// let device = burnish::backend::device("flex")?;
/// // A (random-weight) BertForSequenceClassification with labels LABEL_0..LABEL_2.
/// let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tiny-bert-bin");
/// let classifier = TextClassifier::from_dir(dir, &device)?;
/// let out = classifier.predict(&["a gorgeous movie", "the plot is a mess"])?;
/// assert_eq!(out.len(), 2);
/// let label = out[0].label().unwrap();
/// assert!(label.starts_with("LABEL_"));
/// assert!(out[0].score().unwrap() > 1.0 / 3.0); // the argmax of three classes
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct TextClassifier {
    model: ClassifierModel,
    config: BertConfig,
    tokenizer: Tokenizer,
    task: Task,
    device: Device,
    max_length: usize,
    batch_size: usize,
}

impl TextClassifier {
    /// Loads a fine-tuned classifier folder (a `BertForSequenceClassification` or the
    /// RoBERTa / DistilBERT equivalent, as `burnish finetune` or `transformers` writes it):
    /// its labels come from `config.json`'s `id2label` and `problem_type`.
    ///
    /// # Errors
    /// [`Error::Model`] / [`Error::Tokenizer`] for unreadable files, [`Error::Data`] for
    /// unusable labels, [`Error::MissingHead`] for a folder without a trained classifier.
    pub fn from_dir(dir: impl AsRef<Path>, device: &Device) -> Result<Self> {
        let dir = dir.as_ref();
        let config = BertConfig::from_file(dir.join(CONFIG_FILE))?;
        let task = Task::from_hf_config(&serde_json::Value::Object(config.extra.clone())).map_err(
            |e| Error::Setting {
                name: "id2label",
                reason: format!("{}: {e}", dir.join(CONFIG_FILE).display()),
            },
        )?;
        let tokenizer = Tokenizer::from_dir(dir)?;
        let (model, config, report) =
            ClassifierModel::from_dir(dir, &task, config.family.is_decoder, device)?;
        require_head(&report, dir, "text classification")?;
        Ok(Self::from_parts(model, config, tokenizer, task, device))
    }

    /// A classifier from a model (on `device`, without autodiff), its configuration, tokenizer
    /// and task.
    pub fn from_parts(
        model: impl Into<ClassifierModel>,
        config: BertConfig,
        tokenizer: Tokenizer,
        task: Task,
        device: &Device,
    ) -> Self {
        let mut config = config;
        if let Some(map) = task.to_hf_json().as_object() {
            config.extra.extend(map.clone());
        }
        let max_length = max_length(&config, &tokenizer);
        Self {
            model: model.into(),
            config,
            tokenizer,
            task,
            device: device.clone(),
            max_length,
            batch_size: DEFAULT_BATCH_SIZE,
        }
    }

    /// Truncates inputs to `max_length` tokens (default: the longest the model takes).
    ///
    /// # Errors
    /// [`Error::Setting`] for 0 or more than the model takes.
    pub fn with_max_length(mut self, max_length: usize) -> Result<Self> {
        self.max_length = check_max_length(max_length, max_length_of(&self))?;
        Ok(self)
    }

    /// Predicts `batch_size` inputs per forward pass (default 32; 0 counts as 1).
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    /// The task: label names and problem type.
    pub fn task(&self) -> &Task {
        &self.task
    }

    /// The label names, in id order (empty for regression).
    pub fn labels(&self) -> &[String] {
        self.task.label_map().map(|m| m.names()).unwrap_or(&[])
    }

    /// The model.
    pub fn model(&self) -> &ClassifierModel {
        &self.model
    }

    /// The configuration (with the labels).
    pub fn config(&self) -> &BertConfig {
        &self.config
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// The device the model runs on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The padding id.
    pub fn pad_id(&self) -> u32 {
        pad_id(&self.config, &self.tokenizer)
    }

    /// The longest input in tokens; longer ones are truncated.
    pub fn max_length(&self) -> usize {
        self.max_length
    }

    /// Classifies texts.
    ///
    /// # Errors
    /// [`Error::Input`] for a text the tokenizer cannot encode, naming its index.
    pub fn predict(&self, texts: &[&str]) -> Result<Vec<Classification>> {
        let inputs: Vec<Input<'_>> = texts.iter().map(|t| Input::Single(t)).collect();
        self.predict_inputs(&inputs)
    }

    /// Classifies text pairs (sentence pairs: entailment, paraphrase, ...).
    ///
    /// # Errors
    /// As [`TextClassifier::predict`].
    pub fn predict_pairs(&self, pairs: &[(&str, &str)]) -> Result<Vec<Classification>> {
        let inputs: Vec<Input<'_>> = pairs.iter().map(|&(a, b)| Input::Pair(a, b)).collect();
        self.predict_inputs(&inputs)
    }

    /// Classifies texts and pairs.
    ///
    /// # Errors
    /// As [`TextClassifier::predict`].
    pub fn predict_inputs(&self, inputs: &[Input<'_>]) -> Result<Vec<Classification>> {
        Ok(self
            .logits(inputs)?
            .iter()
            .map(|row| self.classify(row))
            .collect())
    }

    /// The raw logits of each input, `[num_labels]` each.
    ///
    /// # Errors
    /// As [`TextClassifier::predict`].
    pub fn logits(&self, inputs: &[Input<'_>]) -> Result<Vec<Vec<f32>>> {
        let examples = encode_inputs(&self.tokenizer, inputs, self.max_length)?;
        Ok(self
            .model
            .predict_logits(&examples, self.batch_size, self.pad_id(), &self.device))
    }

    /// Reads one row of logits as the task says.
    fn classify(&self, row: &[f32]) -> Classification {
        let names = self.labels();
        match &self.task {
            Task::SingleLabel(_) => {
                let probs = softmax(row);
                let best = argmax(row);
                Classification::Single {
                    label: names.get(best).cloned().unwrap_or_default(),
                    score: probs[best],
                    probabilities: names.iter().cloned().zip(probs).collect(),
                }
            }
            Task::MultiLabel(_) => {
                let probs: Vec<f32> = row.iter().map(|&x| 1.0 / (1.0 + (-x).exp())).collect();
                Classification::Multi {
                    labels: names
                        .iter()
                        .zip(&probs)
                        .filter(|(_, p)| **p >= 0.5)
                        .map(|(n, _)| n.clone())
                        .collect(),
                    probabilities: names.iter().cloned().zip(probs).collect(),
                }
            }
            Task::Regression => Classification::Value { value: row[0] },
        }
    }

    /// Scores the classifier on labelled data: loss and accuracy, precision, recall, F1
    /// (macro), MCC and the per-class report for single-label data; micro / macro F1 for
    /// multi-label; MSE, RMSE, MAE, Pearson and Spearman for regression (scikit-learn's
    /// definitions).
    ///
    /// # Errors
    /// [`Error::Data`] for a label the classifier does not know (naming its line),
    /// [`Error::Evaluation`] for empty data.
    pub fn evaluate(&self, data: &TextDataset) -> Result<ClassificationEval> {
        let examples = tokenize_records(
            &self.tokenizer,
            data.path(),
            data.records(),
            Some(&self.task),
            &TokenizeOptions::new(self.max_length),
        )?;
        self.model.evaluate(
            &examples.examples,
            &self.task,
            self.batch_size,
            self.pad_id(),
            &self.device,
        )
    }

    /// Saves the classifier as a Hugging Face model folder (`config.json` with `id2label`,
    /// `label2id` and `problem_type`, `model.safetensors`, tokenizer files) that
    /// [`TextClassifier::from_dir`] and `transformers`' `AutoModelForSequenceClassification`
    /// load.
    ///
    /// # Errors
    /// [`Error::Model`] / [`Error::Tokenizer`] naming the file that could not be written.
    pub fn save(&self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        self.model.save_hf(&self.config, dir)?;
        self.tokenizer.save_dir(dir)?;
        Ok(())
    }
}

/// The longest input a pipeline's model and tokenizer take.
fn max_length_of(classifier: &TextClassifier) -> usize {
    max_length(&classifier.config, &classifier.tokenizer)
}
