//! Loading a model from, and saving it to, a Hugging Face model folder: [`HfModel`], with
//! [`load_folder`] and [`save_folder`].

use std::path::Path;

use burn::module::Module;
use burn::store::ModuleSnapshot;
use burn::tensor::Device;

use crate::config::BertConfig;
use crate::error::{EncoderError, Result};
use crate::family::gpt2::model::Gpt2Model;
use crate::family::{FAMILIES, Family};
use crate::model::BertModel;
use crate::weights::{
    Checkpoint, LoadReport, LoadSpec, NameMap, SAFETENSORS_FILE, check_config, load_checkpoint,
    save_safetensors_as,
};

/// The configuration file of a model folder.
pub const CONFIG_FILE: &str = "config.json";

/// A model that is a Hugging Face model folder: burnish's one way to load one (config checked
/// against the class, weights checked by name and shape, then applied) and to save one (the
/// class in `architectures`, `model.safetensors` in the family's names). Implemented by the
/// encoders and by every head whose constructor needs only the config; the sequence and token
/// classifiers, which also take a label count, load through [`read_config`] and
/// [`load_weights`] and save through [`save_folder`].
pub trait HfModel: Module + ModuleSnapshot + Sized {
    /// The `transformers` class, as a suffix of the family's prefix (`"ForQuestionAnswering"`).
    const CLASS: &'static str;
    /// Whether the model is a decoder family's (GPT-2) rather than an encoder's.
    const IS_DECODER: bool = false;
    /// The encoder's place in this model's parameter paths (`"bert."`; `""` for a bare one).
    const ENCODER_PREFIX: &'static str;
    /// Whether the model's language-model decoder is the word embeddings (the checkpoint's
    /// decoder tensors are then dropped, and `tie_word_embeddings: false` refused).
    const TIED_DECODER: bool = false;

    /// A freshly initialised model for `config`.
    fn build(config: &BertConfig, device: &Device) -> Self;

    /// Whether a parameter (burnish path) the checkpoint lacks is freshly initialised and
    /// reported, rather than an error.
    fn may_be_fresh(name: &str) -> bool;

    /// The checkpoint names of this model in `family` (a head whose `transformers` names
    /// differ by family adds its table).
    fn names(family: &'static Family) -> NameMap {
        NameMap::new(family)
    }

    /// The `config.json` written beside the weights: the class set, plus what the head adds.
    fn folder_config(&self, config: &BertConfig) -> BertConfig {
        let mut config = config.clone();
        config.set_architecture(Self::CLASS);
        config
    }

    /// Loads a model folder: `config.json` and `model.safetensors` or `pytorch_model.bin`, a
    /// checkpoint of this class or of another class of the family (tensors this model has no
    /// place for are listed in the report's `unused`; those [`Self::may_be_fresh`] allows to be
    /// missing are freshly initialised and listed in `newly_initialized`, as `transformers`
    /// warns). See [`load_folder`].
    ///
    /// # Errors
    /// As [`load_folder`].
    fn from_pretrained(
        dir: impl AsRef<Path>,
        device: &Device,
    ) -> Result<(Self, BertConfig, LoadReport)> {
        load_folder(dir.as_ref(), device)
    }

    /// Builds the model for `config` and loads `checkpoint` into it (what
    /// [`Self::from_pretrained`] does after reading the files). See [`load_weights`].
    ///
    /// # Errors
    /// As [`load_weights`].
    fn from_checkpoint(
        config: &BertConfig,
        checkpoint: Checkpoint,
        device: &Device,
    ) -> Result<(Self, LoadReport)> {
        load_weights(config, checkpoint, device, Self::build)
    }

    /// Writes `config.json` ([`Self::folder_config`]) and `model.safetensors` in the family's
    /// names into `dir`, creating it if needed; each file atomically. See [`save_folder`].
    ///
    /// # Errors
    /// As [`save_folder`].
    fn save_pretrained(&self, config: &BertConfig, dir: impl AsRef<Path>) -> Result<()> {
        save_folder(self, config, dir.as_ref())
    }
}

/// Reads `dir/config.json` for a model of the class `class` (`"ForMaskedLM"`), an encoder's
/// (`decoder` false) or a decoder's.
///
/// # Errors
/// As [`BertConfig::from_file`]; [`EncoderError::ConfigValue`] naming `model_type` when the
/// folder's family has no such class in burnish (the message lists the families that have it
/// and the classes the folder's family loads as).
pub fn read_config(dir: &Path, class: &str, decoder: bool) -> Result<BertConfig> {
    let path = dir.join(CONFIG_FILE);
    let config = BertConfig::from_file(&path)?;
    let fits = |family: &Family| family.has_class(class) && family.is_decoder == decoder;
    if !fits(config.family) {
        let family = config.family;
        let supported: Vec<&str> = (FAMILIES.iter())
            .filter(|f| fits(f))
            .map(|f| f.model_type)
            .collect();
        let classes: Vec<String> = (family.heads.classes.iter())
            .map(|suffix| family.class_name(suffix))
            .collect();
        return Err(EncoderError::ConfigValue {
            path,
            field: "model_type",
            reason: format!(
                "`{}` is {}: it loads as {}; this model needs model_type {}",
                family.model_type,
                if family.is_decoder {
                    "a decoder"
                } else {
                    "an encoder"
                },
                classes.join(", "),
                supported.join(", ")
            ),
        });
    }
    Ok(config)
}

/// Reads `dir/config.json` for an encoder model (BERT, RoBERTa, DistilBERT).
///
/// # Errors
/// As [`read_config`], for a decoder family.
pub fn encoder_config(dir: &Path) -> Result<BertConfig> {
    read_config(dir, "Model", false)
}

/// Reads `dir/config.json` for a decoder model (GPT-2).
///
/// # Errors
/// As [`read_config`], for an encoder family.
pub fn decoder_config(dir: &Path) -> Result<BertConfig> {
    read_config(dir, "Model", true)
}

/// Loads a model folder: `config.json` (a family with the class `M::CLASS`), then the weights
/// (`model.safetensors` or `pytorch_model.bin`), checked against the config before the model
/// is built and by name and shape before they are applied (see [`load_weights`]).
///
/// # Errors
/// See [`read_config`], [`Checkpoint::from_dir`] and [`load_weights`];
/// [`EncoderError::ConfigValue`] for `tie_word_embeddings: false` on a model whose decoder is
/// tied (an untied decoder is not supported).
pub fn load_folder<M: HfModel>(dir: &Path, device: &Device) -> Result<(M, BertConfig, LoadReport)> {
    let config = read_config(dir, M::CLASS, M::IS_DECODER)?;
    if M::TIED_DECODER
        && config.extra.get("tie_word_embeddings") == Some(&serde_json::Value::Bool(false))
    {
        return Err(EncoderError::ConfigValue {
            path: dir.join(CONFIG_FILE),
            field: "tie_word_embeddings",
            reason: "burnish's language-model heads always tie the decoder to the word \
                     embeddings; an untied decoder is not supported"
                .into(),
        });
    }
    let checkpoint = Checkpoint::from_dir(dir)?;
    let (model, report) = load_weights(&config, checkpoint, device, M::build)?;
    Ok((model, config, report))
}

/// Builds a model for `config` with `build` and loads `checkpoint` into it: the tied decoder's
/// tensors dropped when `M` ties it, the embeddings and parameter count checked against the
/// config (encoders; [`crate::weights::check_config`]), then every name and shape
/// ([`load_checkpoint`]).
///
/// # Errors
/// As [`crate::weights::check_config`] and [`load_checkpoint`].
pub fn load_weights<M: HfModel>(
    config: &BertConfig,
    mut checkpoint: Checkpoint,
    device: &Device,
    build: impl FnOnce(&BertConfig, &Device) -> M,
) -> Result<(M, LoadReport)> {
    if M::TIED_DECODER {
        checkpoint.drop_tied_decoder(config.family);
    }
    if !M::IS_DECODER {
        check_config(config, &checkpoint)?;
    }
    let mut model = build(config, device);
    let report = load_checkpoint(
        &mut model,
        &checkpoint,
        LoadSpec {
            encoder_prefix: M::ENCODER_PREFIX,
            may_be_fresh: &M::may_be_fresh,
            names: M::names(config.family),
        },
    )?;
    Ok((model, report))
}

/// Writes `model` as a Hugging Face model folder: [`HfModel::folder_config`] as `config.json`
/// and `model.safetensors` in the family's names ([`HfModel::names`]), creating `dir` if
/// needed; each file is written atomically.
///
/// # Errors
/// [`EncoderError::Io`] or [`EncoderError::Serialize`] naming the file.
pub fn save_folder<M: HfModel>(model: &M, config: &BertConfig, dir: &Path) -> Result<()> {
    let config = model.folder_config(config);
    save_hf_folder_as(model, &config, dir, &M::names(config.family))
}

/// A bare encoder (`BertModel`, `RobertaModel`, `DistilBertModel`): loads from any checkpoint of
/// the family (a head's too: the encoder is taken from under its prefix, the head's tensors
/// listed as unused); a checkpoint without a pooler gets a fresh one, listed in the report
/// (as `transformers` warns).
impl HfModel for BertModel {
    const CLASS: &'static str = "Model";
    const ENCODER_PREFIX: &'static str = "";

    fn build(config: &BertConfig, device: &Device) -> Self {
        BertModel::new(config, device)
    }

    fn may_be_fresh(name: &str) -> bool {
        name.starts_with("pooler.")
    }
}

/// GPT-2's decoder (`GPT2Model`): names `wte.weight`, `h.0...`, or a head's under
/// `transformer.` (the `GPT2LMHeadModel` / `GPT2ForSequenceClassification` head tensors are
/// listed as unused); `Conv1D` weights are `[in, out]` in the file.
impl HfModel for Gpt2Model {
    const CLASS: &'static str = "Model";
    const IS_DECODER: bool = true;
    const ENCODER_PREFIX: &'static str = "";

    fn build(config: &BertConfig, device: &Device) -> Self {
        Gpt2Model::new(config, device)
    }

    fn may_be_fresh(_: &str) -> bool {
        false
    }
}

/// Writes `model` (any burnish module with HF-named parameters) and `config` as a Hugging Face
/// model folder (`model.safetensors` in the names of `config.family` + `config.json`), creating
/// `dir` if needed; each file is written atomically. Heads call this after setting their
/// architecture in `config`.
///
/// # Errors
/// [`EncoderError::Io`] or [`EncoderError::Serialize`] naming the file.
pub fn save_hf_folder<M: Module + ModuleSnapshot>(
    model: &M,
    config: &BertConfig,
    dir: &Path,
) -> Result<()> {
    save_hf_folder_as(model, config, dir, &NameMap::new(config.family))
}

/// As [`save_hf_folder`], with the parameter names of `names` (a head whose `transformers`
/// names differ by family).
///
/// # Errors
/// As [`save_hf_folder`].
pub fn save_hf_folder_as<M: Module + ModuleSnapshot>(
    model: &M,
    config: &BertConfig,
    dir: &Path,
    names: &NameMap,
) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| EncoderError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    save_safetensors_as(model, &dir.join(SAFETENSORS_FILE), names)?;
    config.save(dir.join(CONFIG_FILE))
}
