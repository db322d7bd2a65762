//! Loading a [`BertModel`] from, and saving it to, a Hugging Face model folder.

use std::path::Path;

use burn::module::Module;
use burn::store::ModuleSnapshot;
use burn::tensor::Device;

use crate::config::BertConfig;
use crate::error::{EncoderError, Result};
use crate::family::gpt2::model::Gpt2Model;
use crate::model::BertModel;
use crate::weights::{
    Checkpoint, LoadReport, LoadSpec, NameMap, SAFETENSORS_FILE, load_checkpoint,
    save_safetensors_as,
};

/// The configuration file of a model folder.
pub const CONFIG_FILE: &str = "config.json";

impl BertModel {
    /// Loads `config.json` and the weights of a model folder (`model.safetensors` or
    /// `pytorch_model.bin`, from a `BertModel` or any `BertFor*` checkpoint, or the same of
    /// RoBERTa or DistilBERT: `model_type` picks the family).
    ///
    /// A checkpoint without a pooler gets a fresh one (listed in the report, as
    /// `transformers` warns); any other missing or wrong-shaped tensor is an error naming it.
    ///
    /// # Errors
    /// See [`BertConfig::from_file`], [`Checkpoint::from_dir`] and
    /// [`crate::weights::load_checkpoint`].
    pub fn from_pretrained(
        dir: impl AsRef<Path>,
        device: &Device,
    ) -> Result<(Self, BertConfig, LoadReport)> {
        let dir = dir.as_ref();
        let config = encoder_config(dir)?;
        let checkpoint = Checkpoint::for_config(dir, &config)?;
        let mut model = BertModel::new(&config, device);
        let report = load_checkpoint(
            &mut model,
            &checkpoint,
            LoadSpec {
                encoder_prefix: "",
                may_be_fresh: &|name| name.starts_with("pooler."),
                names: NameMap::new(config.family),
            },
        )?;
        Ok((model, config, report))
    }

    /// Writes `config.json` (with `architectures: ["BertModel"]`, or the family's class) and
    /// `model.safetensors` into `dir`, creating it if needed. Each file is written atomically.
    ///
    /// # Errors
    /// [`EncoderError::Io`] or [`EncoderError::Serialize`] naming the file.
    pub fn save_pretrained(&self, config: &BertConfig, dir: impl AsRef<Path>) -> Result<()> {
        let mut config = config.clone();
        config.set_architecture("Model");
        save_hf_folder(self, &config, dir.as_ref())
    }
}

/// Reads `dir/config.json` for an encoder model (BERT, RoBERTa, DistilBERT).
///
/// # Errors
/// As [`BertConfig::from_file`]; [`EncoderError::ConfigValue`] naming `model_type` for a
/// decoder family (GPT-2), which the encoder heads cannot load.
pub fn encoder_config(dir: &Path) -> Result<BertConfig> {
    let path = dir.join(CONFIG_FILE);
    let config = BertConfig::from_file(&path)?;
    if config.family.is_decoder {
        let classes: Vec<String> = (config.family.heads.classes.iter())
            .map(|suffix| config.family.class_name(suffix))
            .collect();
        return Err(EncoderError::ConfigValue {
            path,
            field: "model_type",
            reason: format!(
                "`{}` is a decoder: it loads as {}, not as an encoder with this head",
                config.family.model_type,
                classes.join(", ")
            ),
        });
    }
    Ok(config)
}

/// Reads `dir/config.json` for a decoder model (GPT-2).
///
/// # Errors
/// As [`BertConfig::from_file`]; [`EncoderError::ConfigValue`] naming `model_type` for an
/// encoder family.
pub fn decoder_config(dir: &Path) -> Result<BertConfig> {
    let path = dir.join(CONFIG_FILE);
    let config = BertConfig::from_file(&path)?;
    if !config.family.is_decoder {
        let decoders: Vec<&str> = (crate::family::FAMILIES.iter())
            .filter(|f| f.is_decoder)
            .map(|f| f.model_type)
            .collect();
        return Err(EncoderError::ConfigValue {
            path,
            field: "model_type",
            reason: format!(
                "`{}` is an encoder family; this model needs model_type `{}`",
                config.family.model_type,
                decoders.join("` or `")
            ),
        });
    }
    Ok(config)
}

impl Gpt2Model {
    /// Loads `config.json` (a GPT-2 one) and the weights of a model folder: a `GPT2Model`
    /// checkpoint (names `wte.weight`, `h.0...`) or a head's (`transformer.` prefix: the
    /// `GPT2LMHeadModel` / `GPT2ForSequenceClassification` head tensors are listed as unused).
    ///
    /// # Errors
    /// See [`decoder_config`], [`Checkpoint::from_dir`] and
    /// [`crate::weights::load_checkpoint`].
    pub fn from_pretrained(
        dir: impl AsRef<Path>,
        device: &Device,
    ) -> Result<(Self, BertConfig, LoadReport)> {
        let dir = dir.as_ref();
        let config = decoder_config(dir)?;
        let checkpoint = Checkpoint::from_dir(dir)?;
        let mut model = Gpt2Model::new(&config, device);
        let report = load_checkpoint(
            &mut model,
            &checkpoint,
            LoadSpec {
                encoder_prefix: "",
                may_be_fresh: &|_| false,
                names: NameMap::new(config.family),
            },
        )?;
        Ok((model, config, report))
    }

    /// Writes `config.json` (`architectures: ["GPT2Model"]`) and `model.safetensors` (names
    /// `wte.weight`, `h.0.attn.c_attn.weight`, ...; `Conv1D` weights `[in, out]`) into `dir`.
    ///
    /// # Errors
    /// [`EncoderError::Io`] or [`EncoderError::Serialize`] naming the file.
    pub fn save_pretrained(&self, config: &BertConfig, dir: impl AsRef<Path>) -> Result<()> {
        let mut config = config.clone();
        config.set_architecture("Model");
        save_hf_folder(self, &config, dir.as_ref())
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
