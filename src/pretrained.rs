//! [`Pretrained`]: a model folder (configuration, tokenizer, weights) to build models from, and
//! [`SaveHf`], saving any of them back in the Hugging Face layout.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use burnish_data::{LabelMap, Task};
use burnish_encoder::weights::{PYTORCH_FILE, SAFETENSORS_FILE};
use burnish_encoder::{BertConfig, BertModel, CONFIG_FILE, EncoderError, Family};
use burnish_encoder::{HfModel, NameMap};
use burnish_heads::{
    BertForMaskedLM, BertForPreTraining, BertForQuestionAnswering, BertForSequenceClassification,
    BertForTokenClassification, BertLMHeadModel, CrossEncoder, Gpt2ForSequenceClassification,
    SentenceEncoder,
};
use burnish_tokenizer::Tokenizer;
use burnish_train::tasks::classification::problem_type;

use crate::error::Result;

/// A pre-trained model folder in the Hugging Face layout, ready to build models from.
///
/// [`Pretrained::from_dir`] reads `config.json` (the family, BERT, RoBERTa or DistilBERT,
/// comes from its `model_type`), the tokenizer (`tokenizer.json`, or `vocab.txt`, or RoBERTa's
/// `vocab.json` + `merges.txt`) and checks that the folder has weights (`model.safetensors` or
/// `pytorch_model.bin`). Each constructor ([`Pretrained::encoder`],
/// [`Pretrained::sequence_classifier`], ...) then reads the weights it needs: the encoder from
/// any checkpoint of the family, its head when the checkpoint has one, a freshly initialised
/// head (as `transformers` does) when it does not.
///
/// ```
/// # fn main() -> burnish::Result<()> {
/// use burnish::prelude::*;
///
/// let device = burnish::backend::device("flex")?;
/// let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tiny-bert");
/// let base = Pretrained::from_dir(dir, &device)?;
/// assert_eq!(base.config().hidden_size, 16);
/// assert_eq!(base.max_length(), 64);
///
/// // A 3-way classifier on top of the pre-trained encoder (the head is new).
/// let task = Task::SingleLabel(LabelMap::from_names(["neg", "neu", "pos"])?);
/// let model = base.sequence_classifier(&task)?;
/// assert_eq!(model.num_labels, 3);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Pretrained {
    dir: PathBuf,
    config: BertConfig,
    tokenizer: Tokenizer,
    device: Device,
}

impl Pretrained {
    /// Reads the configuration and tokenizer of the model folder `dir` and checks that it has
    /// weights; models are built on `device`. `dir` may also be a Hugging Face Hub id
    /// (`ORG/NAME[@REVISION]`), found in the Hub cache or downloaded ([`crate::hub`]); an
    /// existing folder always wins.
    ///
    /// # Errors
    /// [`crate::Error::Hub`] for a path that does not exist and an id that is not cached
    /// (and cannot be downloaded); [`crate::Error::Model`] for a missing or invalid `config.json` (an unsupported family
    /// included) or a folder without weights; [`crate::Error::Tokenizer`] for missing or
    /// invalid tokenizer files.
    pub fn from_dir(dir: impl AsRef<Path>, device: &Device) -> Result<Self> {
        let dir = burnish_hub::resolve_model(dir)?;
        let config = BertConfig::from_file(dir.join(CONFIG_FILE))?;
        if !dir.join(SAFETENSORS_FILE).is_file() && !dir.join(PYTORCH_FILE).is_file() {
            return Err(EncoderError::NoWeights { dir }.into());
        }
        let tokenizer = Tokenizer::from_dir(&dir)?;
        Ok(Self {
            dir,
            config,
            tokenizer,
            device: device.clone(),
        })
    }

    /// The model folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The configuration (`config.json`).
    pub fn config(&self) -> &BertConfig {
        &self.config
    }

    /// The model family (from `model_type`).
    pub fn family(&self) -> &'static Family {
        self.config.family
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// The device models are built on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The longest input, in tokens, the model takes: its position table's length, or the
    /// tokenizer's `model_max_length` when that is smaller.
    pub fn max_length(&self) -> usize {
        max_length(&self.config, &self.tokenizer)
    }

    /// The id padding uses: the tokenizer's pad token, else the config's `pad_token_id`.
    pub fn pad_id(&self) -> u32 {
        pad_id(&self.config, &self.tokenizer)
    }

    /// The bare encoder (`BertModel`; a checkpoint without a pooler gets a fresh one).
    ///
    /// # Errors
    /// [`crate::Error::Model`] for unreadable weights or weights that do not fit the config.
    pub fn encoder(&self) -> Result<BertModel> {
        Ok(BertModel::from_pretrained(&self.dir, &self.device)?.0)
    }

    /// A sequence classifier for `task` (its number of labels and problem type): the
    /// checkpoint's head when it has one of that size, else a new one.
    ///
    /// # Errors
    /// As [`Pretrained::encoder`]; a checkpoint head of another size is an error naming it.
    pub fn sequence_classifier(&self, task: &Task) -> Result<BertForSequenceClassification> {
        let (model, _, _) = BertForSequenceClassification::from_pretrained(
            &self.dir,
            Some(task.num_labels()),
            Some(problem_type(task)),
            &self.device,
        )?;
        Ok(model)
    }

    /// A token classifier (NER) with one output per tag of `tags`.
    ///
    /// # Errors
    /// As [`Pretrained::sequence_classifier`].
    pub fn token_classifier(&self, tags: &LabelMap) -> Result<BertForTokenClassification> {
        let (model, _, _) =
            BertForTokenClassification::from_pretrained(&self.dir, Some(tags.len()), &self.device)?;
        Ok(model)
    }

    /// An extractive question answering model (start / end logits per token).
    ///
    /// # Errors
    /// As [`Pretrained::encoder`].
    pub fn question_answering(&self) -> Result<BertForQuestionAnswering> {
        Ok(BertForQuestionAnswering::from_pretrained(&self.dir, &self.device)?.0)
    }

    /// A masked language model (decoder tied to the word embeddings), for (continued)
    /// pre-training or fill-mask.
    ///
    /// # Errors
    /// As [`Pretrained::encoder`]; an untied decoder (`tie_word_embeddings: false`) is an error.
    pub fn masked_lm(&self) -> Result<BertForMaskedLM> {
        Ok(BertForMaskedLM::from_pretrained(&self.dir, &self.device)?.0)
    }

    /// BERT's pre-training model: masked LM plus next-sentence prediction.
    ///
    /// # Errors
    /// As [`Pretrained::masked_lm`].
    pub fn pretraining(&self) -> Result<BertForPreTraining> {
        Ok(BertForPreTraining::from_pretrained(&self.dir, &self.device)?.0)
    }

    /// A causal (left-to-right) language model on the encoder (`BertLMHeadModel`).
    ///
    /// # Errors
    /// As [`Pretrained::masked_lm`].
    pub fn causal_lm(&self) -> Result<BertLMHeadModel> {
        Ok(BertLMHeadModel::from_pretrained(&self.dir, &self.device)?.0)
    }

    /// Saves `model` with this folder's configuration and tokenizer as a Hugging Face model
    /// folder `dir` (created if needed) that `transformers` loads with the matching class;
    /// every file is written atomically.
    ///
    /// A classifier saved this way gets generic label names (`LABEL_0`, ...) unless the
    /// configuration already has as many; the pipelines ([`crate::TextClassifier::save`], ...)
    /// write the real ones.
    ///
    /// # Errors
    /// [`crate::Error::Model`] or [`crate::Error::Tokenizer`] naming the file that could not be
    /// written.
    pub fn save<M: SaveHf>(&self, model: &M, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        model.save_hf(&self.config, dir)?;
        self.tokenizer.save_dir(dir)?;
        Ok(())
    }
}

/// A model that saves itself as a Hugging Face model folder (`config.json` with its
/// `architectures` class, `model.safetensors` in `transformers`' names).
pub trait SaveHf {
    /// The `transformers` class that loads the saved folder (for the BERT family;
    /// `Roberta...` / `DistilBert...` for the others).
    const HF_CLASS: &'static str;

    /// Writes `config.json` (from `config`, with the architecture set) and
    /// `model.safetensors` into `dir`, creating it if needed.
    ///
    /// # Errors
    /// [`crate::Error::Model`] naming the file that could not be written.
    fn save_hf(&self, config: &BertConfig, dir: &Path) -> Result<()>;

    /// The `transformers` names of this model's parameters in `config`'s family (what
    /// [`SaveHf::save_hf`] writes them as; a LoRA adapter folder names them the same way).
    fn hf_names(&self, config: &BertConfig) -> NameMap;
}

macro_rules! save_hf {
    ($($model:ty => $class:literal, |$m:ident, $family:ident| $names:expr),* $(,)?) => {$(
        impl SaveHf for $model {
            const HF_CLASS: &'static str = $class;
            fn save_hf(&self, config: &BertConfig, dir: &Path) -> Result<()> {
                Ok(self.save_pretrained(config, dir)?)
            }
            fn hf_names(&self, config: &BertConfig) -> NameMap {
                let ($m, $family) = (self, config.family);
                let _ = $m;
                $names
            }
        }
    )*};
}

save_hf!(
    BertModel => "BertModel", |_m, f| <BertModel as HfModel>::names(f),
    BertForSequenceClassification => "BertForSequenceClassification", |m, _f| m.names(),
    BertForTokenClassification => "BertForTokenClassification", |_m, f| NameMap::new(f),
    BertForQuestionAnswering => "BertForQuestionAnswering",
        |_m, f| <BertForQuestionAnswering as HfModel>::names(f),
    BertForMaskedLM => "BertForMaskedLM", |_m, f| <BertForMaskedLM as HfModel>::names(f),
    BertForPreTraining => "BertForPreTraining",
        |_m, f| <BertForPreTraining as HfModel>::names(f),
    BertLMHeadModel => "BertLMHeadModel", |_m, f| <BertLMHeadModel as HfModel>::names(f),
    Gpt2ForSequenceClassification => "GPT2ForSequenceClassification", |_m, f| NameMap::new(f),
);

/// A sentence embedder saves its encoder as the bare model folder; the
/// `sentence-transformers` modules around it are [`burnish_heads::SentenceConfig::write`]'s.
impl SaveHf for SentenceEncoder {
    const HF_CLASS: &'static str = "BertModel";
    fn save_hf(&self, config: &BertConfig, dir: &Path) -> Result<()> {
        Ok(self.bert.save_pretrained(config, dir)?)
    }
    fn hf_names(&self, config: &BertConfig) -> NameMap {
        NameMap::new(config.family)
    }
}

/// A reranker saves the folder `CrossEncoder(path)` loads: its classifier, with the score
/// activation in `config.json` ([`CrossEncoder::save_pretrained`]).
impl SaveHf for CrossEncoder {
    const HF_CLASS: &'static str = "BertForSequenceClassification";
    fn save_hf(&self, config: &BertConfig, dir: &Path) -> Result<()> {
        Ok(self.save_pretrained(config, dir)?)
    }
    fn hf_names(&self, _config: &BertConfig) -> NameMap {
        self.classifier.names()
    }
}

/// The longest input `config` and `tokenizer` allow.
pub(crate) fn max_length(config: &BertConfig, tokenizer: &Tokenizer) -> usize {
    let positions = config.max_sequence_length();
    tokenizer
        .model_max_length()
        .map_or(positions, |m| m.min(positions))
}

/// The padding id of a model folder.
pub(crate) fn pad_id(config: &BertConfig, tokenizer: &Tokenizer) -> u32 {
    tokenizer.pad_id().unwrap_or(config.pad_token_id as u32)
}
