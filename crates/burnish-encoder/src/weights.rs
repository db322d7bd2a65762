//! Reading and writing Hugging Face checkpoints.
//!
//! The single place where burnish's parameter paths and `transformers`' names meet is
//! [`NameMap`] ([`NAME_MAP`] and the tables of each family, [`crate::family`]'s
//! [`WeightNames`](crate::family::WeightNames) and head tables): it is used in both
//! directions, for loading and for saving.
//! Burn's own conventions (Linear weights stored `[in, out]`, LayerNorm `gamma`/`beta`) are
//! converted by burn-store's PyTorch adapters.
//!
//! Loading never executes code: `model.safetensors` is parsed by the `safetensors` crate and
//! `pytorch_model.bin` by burn-store's pickle reader, which only reads data.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::store::{BurnToPyTorchAdapter, ModuleSnapshot, PyTorchToBurnAdapter, bridge};
use burn::tensor::{DType, TensorData};

use crate::config::write_atomic;
use crate::error::{EncoderError, Result};
use crate::family::Family;

/// burnish path segment <-> `transformers` name segment, for every family. Used for loading
/// and saving.
pub const NAME_MAP: &[(&str, &str)] = &[("layer_norm", "LayerNorm"), ("self_attn", "self")];

/// The mapping between a module's burnish parameter paths and its `transformers` names: the
/// family's encoder names ([`crate::family::WeightNames`]: the encoder `bert.` is `roberta.` /
/// `distilbert.`, DistilBERT's layer names; GPT-2's modules carry `transformers`' names already,
/// only their `Conv1D` layout differs), [`NAME_MAP`] everywhere, and, for a head whose modules
/// `transformers` names differently per family, the head's prefixes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NameMap {
    /// The family whose names the checkpoint uses.
    pub family: &'static Family,
    /// Head parameters: burnish path prefix <-> `transformers` prefix, matched at the start of
    /// the path on whole segments, before anything else.
    pub head: &'static [(&'static str, &'static str)],
}

impl NameMap {
    /// The names of `family`, with no head-specific table.
    pub fn new(family: &'static Family) -> Self {
        Self { family, head: &[] }
    }

    /// The same map with a head's prefix table.
    pub fn with_head(self, head: &'static [(&'static str, &'static str)]) -> Self {
        Self { head, ..self }
    }

    /// A burnish parameter path to its `transformers` name.
    pub fn burn_to_hf(&self, path: &str) -> String {
        self.map(path, true)
    }

    /// A `transformers` parameter name to its burnish path.
    pub fn hf_to_burn(&self, name: &str) -> String {
        self.map(name, false)
    }

    /// Whether the checkpoint stores the tensor `hf_name` transposed relative to PyTorch's
    /// `nn.Linear` layout: the weight of a GPT-2 `Conv1D`
    /// ([`WeightNames::stored_transposed`](crate::family::WeightNames)), `[in, out]`. Loading
    /// transposes it to `[out, in]` before Burn's adapter reads it, saving back.
    pub fn stored_transposed(&self, hf_name: &str) -> bool {
        hf_name.strip_suffix(".weight").is_some_and(|module| {
            self.family.weights.stored_transposed.iter().any(|conv| {
                module
                    .strip_suffix(conv)
                    .is_some_and(|rest| rest.is_empty() || rest.ends_with('.'))
            })
        })
    }

    fn map(&self, name: &str, to_hf: bool) -> String {
        let orient = |&(burn, hf): &(&'static str, &'static str)| {
            if to_hf { (burn, hf) } else { (hf, burn) }
        };
        for (from, to) in self.head.iter().map(orient) {
            if let Some(rest) = name.strip_prefix(from)
                && (rest.is_empty() || rest.starts_with('.'))
            {
                return format!("{to}{rest}");
            }
        }
        let weights = &self.family.weights;
        let table = weights.layers;
        let (base_from, base_to) = orient(&(weights.burnish_base, weights.base_prefix));
        let segments: Vec<&str> = name.split('.').collect();
        let mut out: Vec<&str> = Vec::with_capacity(segments.len());
        let mut i = 0;
        'segments: while i < segments.len() {
            if i == 0 && segments[0] == base_from {
                out.push(base_to);
                i = 1;
                continue;
            }
            for (from, to) in table.iter().map(orient) {
                let from: Vec<&str> = from.split('.').collect();
                if segments[i..].starts_with(&from) {
                    out.extend(to.split('.'));
                    i += from.len();
                    continue 'segments;
                }
            }
            let seg = segments[i];
            out.push(
                NAME_MAP
                    .iter()
                    .map(orient)
                    .find(|(from, _)| *from == seg)
                    .map_or(seg, |(_, to)| to),
            );
            i += 1;
        }
        out.join(".")
    }
}

/// Names older checkpoints (TF-converted) use for LayerNorm parameters, mapped to today's.
pub(crate) const LEGACY_LAYER_NORM: &[(&str, &str)] = &[("gamma", "weight"), ("beta", "bias")];

/// The file names of a model folder, in order of preference.
pub const SAFETENSORS_FILE: &str = "model.safetensors";
/// PyTorch's pickle checkpoint, read as data only.
pub const PYTORCH_FILE: &str = "pytorch_model.bin";

/// A burnish parameter path to its BERT `transformers` name (see [`NameMap`] for the others).
pub fn burn_to_hf(path: &str) -> String {
    NameMap::default().burn_to_hf(path)
}

/// A BERT `transformers` parameter name to its burnish path (see [`NameMap`] for the others).
pub fn hf_to_burn(name: &str) -> String {
    NameMap::default().hf_to_burn(name)
}

/// `...LayerNorm.gamma` -> `...LayerNorm.weight`, as `transformers` renames on load.
fn modernise(name: &str) -> String {
    if let Some((head, last)) = name.rsplit_once('.')
        && head.ends_with("LayerNorm")
        && let Some((_, new)) = LEGACY_LAYER_NORM.iter().find(|(old, _)| *old == last)
    {
        return format!("{head}.{new}");
    }
    name.to_string()
}

/// The tensors of one checkpoint file, by `transformers` name, converted to `f32`.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    /// The file they were read from.
    pub path: PathBuf,
    /// Tensors by (modernised) name.
    pub tensors: BTreeMap<String, TensorData>,
}

/// How many more parameters than its weights hold a config may describe before
/// [`check_config`] refuses it: a factor, plus room for new heads.
const PARAMETER_SLACK: (u64, u64) = (4, 1 << 26);

/// Checks `config` against the shapes of `checkpoint` before a model is built from it, so a
/// `config.json` that does not belong to the weights is an error instead of an allocation the
/// machine cannot make: the word, position and token-type embeddings must have the shapes
/// `[vocab_size, E]`, `[max_position_embeddings, E]` and `[type_vocab_size, E]` (`E` the
/// embeddings' width, [`BertConfig::embedding_size`](crate::config::BertConfig::embedding_size)), and the encoder the config describes may not have many
/// more parameters than the file holds (more layers or a wider feed-forward than the weights).
/// Smaller disagreements (one layer more than the file holds) are left to
/// [`load_checkpoint`], which names each missing or mismatched tensor.
///
/// # Errors
/// [`EncoderError::ShapeMismatch`] naming the embedding tensor, or
/// [`EncoderError::ConfigValue`] naming `config.json` (beside the weights) and the field.
pub fn check_config(config: &crate::config::BertConfig, checkpoint: &Checkpoint) -> Result<()> {
    let h = config.embedding_size();
    for (suffix, rows) in [
        ("embeddings.word_embeddings.weight", config.vocab_size),
        (
            "embeddings.position_embeddings.weight",
            config.max_position_embeddings,
        ),
        (
            "embeddings.token_type_embeddings.weight",
            config.type_vocab_size,
        ),
    ] {
        let found = checkpoint
            .tensors
            .iter()
            .find(|(name, _)| *name == suffix || name.ends_with(&format!(".{suffix}")));
        if let Some((name, data)) = found
            && data.shape().as_slice() != [rows, h]
        {
            return Err(EncoderError::ShapeMismatch {
                path: checkpoint.path.clone(),
                tensor: name.clone(),
                expected: vec![rows, h],
                found: data.shape().to_vec(),
            });
        }
    }
    let in_file: u64 = checkpoint
        .tensors
        .values()
        .map(|d| d.shape().iter().map(|&x| x as u64).product::<u64>())
        .sum();
    let wanted = config.num_encoder_parameters();
    let (factor, extra) = PARAMETER_SLACK;
    if wanted <= in_file.saturating_mul(factor).saturating_add(extra) {
        return Ok(());
    }
    let layers_in_file = checkpoint
        .tensors
        .keys()
        .filter_map(|name| {
            let rest = &name[name.find("layer.")? + "layer.".len()..];
            rest.split('.').next()?.parse::<usize>().ok()
        })
        .max()
        .map_or(0, |last| last + 1);
    let config_path = checkpoint.path.with_file_name(crate::CONFIG_FILE);
    let (field, value) = if config.num_hidden_layers > layers_in_file {
        ("num_hidden_layers", config.num_hidden_layers)
    } else {
        ("intermediate_size", config.intermediate_size)
    };
    Err(EncoderError::ConfigValue {
        path: config_path,
        field,
        reason: format!(
            "{value} describes an encoder of {wanted} parameters, but {} holds {in_file} \
             (with {layers_in_file} layers): does config.json belong to these weights?",
            checkpoint.path.display()
        ),
    })
}

impl Checkpoint {
    /// [`from_dir`](Self::from_dir), then [`check_config`]: the weights of a model folder,
    /// checked against its config before a model is built.
    ///
    /// # Errors
    /// As both.
    pub fn for_config(dir: impl AsRef<Path>, config: &crate::config::BertConfig) -> Result<Self> {
        let checkpoint = Self::from_dir(dir)?;
        check_config(config, &checkpoint)?;
        Ok(checkpoint)
    }

    /// Makes the tied decoder tensors fit a model whose decoder is the word embeddings
    /// ([`crate::family::TiedDecoder`]): drops the decoder weight (BERT's
    /// `cls.predictions.decoder.weight`) and turns the bias alias
    /// (`cls.predictions.decoder.bias`) into the output bias when that is absent, dropping it
    /// otherwise, as the same parameter; the same under `family`'s names (RoBERTa's
    /// `lm_head.decoder.*`, DistilBERT's `vocab_projector.weight`). Returns the names that were
    /// dropped or renamed.
    pub fn drop_tied_decoder(&mut self, family: &Family) -> Vec<String> {
        let tied = family.heads.tied_decoder;
        let mut touched = Vec::new();
        if self.tensors.remove(tied.weight).is_some() {
            touched.push(tied.weight.to_string());
        }
        if let Some(alias) = tied.bias_alias
            && let Some(bias) = self.tensors.remove(alias)
        {
            self.tensors.entry(tied.bias.to_string()).or_insert(bias);
            touched.push(alias.to_string());
        }
        touched
    }

    /// Reads `model.safetensors`, or else `pytorch_model.bin`, from a model folder.
    ///
    /// # Errors
    /// [`EncoderError::NoWeights`] if neither exists; otherwise as the readers.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        let st = dir.join(SAFETENSORS_FILE);
        if st.is_file() {
            return Self::read_safetensors(&st);
        }
        let pt = dir.join(PYTORCH_FILE);
        if pt.is_file() {
            return Self::read_pytorch(&pt);
        }
        Err(EncoderError::NoWeights {
            dir: dir.to_path_buf(),
        })
    }

    /// Reads a safetensors file.
    ///
    /// # Errors
    /// [`EncoderError::Io`], [`EncoderError::Safetensors`] for a truncated or malformed file,
    /// [`EncoderError::TensorData`] for a tensor of an unsupported dtype.
    pub fn read_safetensors(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|source| EncoderError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let file = safetensors::SafeTensors::deserialize(&bytes).map_err(|source| {
            EncoderError::Safetensors {
                path: path.to_path_buf(),
                source,
            }
        })?;
        let mut tensors = BTreeMap::new();
        for (name, view) in file.tensors() {
            let dtype = match view.dtype() {
                safetensors::Dtype::F32 => DType::F32,
                safetensors::Dtype::F16 => DType::F16,
                safetensors::Dtype::BF16 => DType::BF16,
                safetensors::Dtype::F64 => DType::F64,
                safetensors::Dtype::I64 => DType::I64,
                other => {
                    return Err(EncoderError::TensorData {
                        path: path.to_path_buf(),
                        tensor: name,
                        reason: format!("unsupported dtype {other:?}"),
                    });
                }
            };
            let data =
                TensorData::from_bytes_vec(view.data().to_vec(), view.shape().to_vec(), dtype);
            tensors.insert(modernise(&name), data);
        }
        Self::finish(path, tensors)
    }

    /// Reads a PyTorch `pytorch_model.bin` (zip or legacy format) as data only: no pickle code
    /// is executed.
    ///
    /// # Errors
    /// [`EncoderError::Pytorch`] for a truncated or malformed file, [`EncoderError::TensorData`]
    /// for a tensor whose storage cannot be read.
    pub fn read_pytorch(path: &Path) -> Result<Self> {
        let reader = burn::store::pytorch_reader::PytorchReader::new(path).map_err(|source| {
            EncoderError::Pytorch {
                path: path.to_path_buf(),
                source,
            }
        })?;
        let mut tensors = BTreeMap::new();
        for (name, tensor) in reader.into_tensors() {
            let data = bridge::into_data(bridge::from_pytorch(tensor)).map_err(|e| {
                EncoderError::TensorData {
                    path: path.to_path_buf(),
                    tensor: name.clone(),
                    reason: e.to_string(),
                }
            })?;
            tensors.insert(modernise(&name), data);
        }
        Self::finish(path, tensors)
    }

    fn finish(path: &Path, tensors: BTreeMap<String, TensorData>) -> Result<Self> {
        let mut converted = BTreeMap::new();
        for (name, data) in tensors {
            let data = match data.dtype() {
                DType::F32 => data,
                DType::F16 | DType::BF16 | DType::F64 => data.convert::<f32>(),
                // Integer buffers (`position_ids`) are not parameters; keep them as they are.
                _ => data,
            };
            converted.insert(name, data);
        }
        Ok(Self {
            path: path.to_path_buf(),
            tensors: converted,
        })
    }
}

/// What a load did besides loading: tensors that were freshly initialised or left unused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// The checkpoint file.
    pub path: PathBuf,
    /// Parameters not in the checkpoint, left at their fresh initialisation (allowed ones only,
    /// such as a new task head).
    pub newly_initialized: Vec<String>,
    /// Checkpoint tensors the model has no place for (another head, say).
    pub unused: Vec<String>,
}

/// How a checkpoint's names relate to the module being loaded.
#[derive(Clone, Copy)]
pub struct LoadSpec<'a> {
    /// Prefix of the encoder's parameters in this module, in burnish's naming: `""` for a bare
    /// `BertModel`, `"bert."` for a head (the checkpoint's is the family's, `roberta.`, ...).
    /// Checkpoints of either kind load into both.
    pub encoder_prefix: &'a str,
    /// Parameter paths (in burnish's naming, `bert.pooler.dense.weight`) that may be missing
    /// from the checkpoint and then keep their fresh initialisation: a new head, the pooler.
    pub may_be_fresh: &'a dyn Fn(&str) -> bool,
    /// The checkpoint's naming.
    pub names: NameMap,
}

/// Names of buffers that checkpoints carry and models recompute (BERT's `position_ids`,
/// older GPT-2 checkpoints' causal masks `attn.bias` / `attn.masked_bias`).
fn is_buffer(name: &str) -> bool {
    name.ends_with("position_ids")
        || name.ends_with(".attn.bias")
        || name.ends_with(".attn.masked_bias")
}

/// A 2-D `f32` tensor transposed (`[r, c]` to `[c, r]`).
pub(crate) fn transpose_2d(data: &TensorData) -> std::result::Result<TensorData, String> {
    let shape = data.shape().to_vec();
    let [rows, cols] = shape[..] else {
        return Err(format!("expected a 2-D tensor, found shape {shape:?}"));
    };
    let values = data
        .try_to_vec::<f32>()
        .map_err(|e| format!("cannot read as f32: {e:?}"))?;
    let mut out = vec![0.0f32; values.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = values[r * cols + c];
        }
    }
    Ok(TensorData::new(out, [cols, rows]))
}

/// BERT `transformers` name and shape of every float parameter of `module`, in that naming
/// and layout (Linear weights `[out, in]`).
pub fn expected_tensors<M: Module + ModuleSnapshot>(module: &M) -> Vec<(String, Vec<usize>)> {
    expected_tensors_as(module, &NameMap::default())
}

/// As [`expected_tensors`], in the naming of `names`.
pub fn expected_tensors_as<M: Module + ModuleSnapshot>(
    module: &M,
    names: &NameMap,
) -> Vec<(String, Vec<usize>)> {
    module
        .collect(None, Some(Box::new(BurnToPyTorchAdapter)), false)
        .into_iter()
        .filter(|t| t.dtype.is_float())
        .map(|t| (names.burn_to_hf(&t.name), t.shape.to_vec()))
        .collect()
}

/// Loads `checkpoint` into `module`, checking every name and shape first.
///
/// # Errors
/// [`EncoderError::ShapeMismatch`] for the first tensor whose shape disagrees with the
/// module's configuration; [`EncoderError::MissingTensors`] if parameters other than those
/// `spec.may_be_fresh` allows are absent; [`EncoderError::TensorData`] if a tensor cannot be
/// applied.
pub fn load_checkpoint<M: Module + ModuleSnapshot>(
    module: &mut M,
    checkpoint: &Checkpoint,
    spec: LoadSpec<'_>,
) -> Result<LoadReport> {
    let names = &spec.names;
    let expected = expected_tensors_as(module, names);
    let hf_prefix = match spec.encoder_prefix.strip_suffix('.') {
        Some(prefix) => names.burn_to_hf(prefix) + ".",
        None => spec.encoder_prefix.to_string(),
    };
    let renamed = align_prefix(checkpoint, &hf_prefix, names.family);

    let mut missing = Vec::new();
    let mut newly_initialized = Vec::new();
    let mut to_apply = Vec::new();
    for (name, shape) in &expected {
        match renamed.get(name.as_str()) {
            Some((file_name, data)) => {
                // A `Conv1D` weight is stored `[in, out]`: compare and load it in that layout.
                let transposed = names.stored_transposed(name) && shape.len() == 2;
                let file_shape = if transposed {
                    shape.iter().rev().copied().collect()
                } else {
                    shape.clone()
                };
                if data.shape().as_slice() != file_shape.as_slice() {
                    return Err(EncoderError::ShapeMismatch {
                        path: checkpoint.path.clone(),
                        tensor: file_name.to_string(),
                        expected: file_shape,
                        found: data.shape().to_vec(),
                    });
                }
                if !data.dtype().is_float() {
                    return Err(EncoderError::TensorData {
                        path: checkpoint.path.clone(),
                        tensor: file_name.to_string(),
                        reason: format!("expected a float tensor, found {:?}", data.dtype()),
                    });
                }
                let data = if transposed {
                    transpose_2d(data).map_err(|reason| EncoderError::TensorData {
                        path: checkpoint.path.clone(),
                        tensor: file_name.to_string(),
                        reason,
                    })?
                } else {
                    (*data).clone()
                };
                to_apply.push(bridge::from_data(data, names.hf_to_burn(name), None));
            }
            None if (spec.may_be_fresh)(&names.hf_to_burn(name)) => {
                newly_initialized.push(name.clone())
            }
            None => missing.push(name.clone()),
        }
    }
    if !missing.is_empty() {
        return Err(EncoderError::MissingTensors {
            path: checkpoint.path.clone(),
            tensors: missing,
        });
    }
    let known: BTreeSet<&str> = expected.iter().map(|(n, _)| n.as_str()).collect();
    let unused = renamed
        .iter()
        .filter(|(name, (file_name, _))| !known.contains(name.as_str()) && !is_buffer(file_name))
        .map(|(_, (file_name, _))| file_name.to_string())
        .collect();

    let result = module.apply(to_apply, None, Some(Box::new(PyTorchToBurnAdapter)), false);
    if let Some(err) = result.errors.first() {
        return Err(EncoderError::TensorData {
            path: checkpoint.path.clone(),
            tensor: names.burn_to_hf(&err.to_string()),
            reason: err.to_string(),
        });
    }
    Ok(LoadReport {
        path: checkpoint.path.clone(),
        newly_initialized,
        unused,
    })
}

/// Maps each checkpoint tensor to the name the module would give it, handling checkpoints of
/// a bare `BertModel` loaded under a `bert.` prefix and the reverse. Values keep the file's
/// own name for messages.
fn align_prefix<'c>(
    checkpoint: &'c Checkpoint,
    encoder_prefix: &str,
    family: &Family,
) -> BTreeMap<String, (&'c str, &'c TensorData)> {
    // A tensor every checkpoint of the family has, and the first segments of a bare encoder's
    // names.
    let (probe, bare_starts) = (family.weights.probe, family.weights.bare_starts);
    let bases = family.weights.head_bases;
    let has = |n: &str| checkpoint.tensors.contains_key(n);
    let base = bases
        .iter()
        .copied()
        .find(|base| has(&format!("{base}{probe}")))
        .unwrap_or(bases[0]);
    let mut out = BTreeMap::new();
    for (name, data) in &checkpoint.tensors {
        let mapped = if encoder_prefix.is_empty() && !has(probe) && has(&format!("{base}{probe}")) {
            // A head checkpoint (`BertFor*`, `RobertaFor*`, `GPT2LMHeadModel`, ...) loaded as a
            // bare encoder: drop the prefix.
            match name.strip_prefix(base) {
                Some(rest) => rest.to_string(),
                None => name.clone(),
            }
        } else if !encoder_prefix.is_empty()
            && !has(&format!("{encoder_prefix}{probe}"))
            && has(probe)
            && bare_starts.iter().any(|p| name.starts_with(p))
        {
            // A bare encoder checkpoint loaded under a head: add the prefix.
            format!("{encoder_prefix}{name}")
        } else {
            name.clone()
        };
        out.insert(mapped, (name.as_str(), data));
    }
    out
}

/// Writes every float parameter of `module` to a safetensors file in BERT's `transformers`
/// naming and layout, atomically (temporary file, then rename). Checkpoints of any family
/// written this way load back with [`load_checkpoint`] and the default [`NameMap`].
///
/// # Errors
/// [`EncoderError::Serialize`] if a tensor cannot be read back or serialised;
/// [`EncoderError::Io`] if the file cannot be written.
pub fn save_safetensors<M: Module + ModuleSnapshot>(module: &M, path: &Path) -> Result<()> {
    save_safetensors_as(module, path, &NameMap::default())
}

/// Every float tensor of `module` as f32 in PyTorch's layout (`nn.Linear` weights `[out, in]`;
/// a GPT-2 `Conv1D` back in its `[in, out]`), named as `names` names it: what
/// [`save_safetensors_as`] writes, and what the ONNX export reads (`burnish-onnx`).
///
/// # Errors
/// The name and reason of a tensor that cannot be read back.
pub fn float_tensors_as<M: Module + ModuleSnapshot>(
    module: &M,
    names: &NameMap,
) -> std::result::Result<Vec<(String, TensorData)>, String> {
    let mut named = Vec::new();
    for tensor in module.collect(None, Some(Box::new(BurnToPyTorchAdapter)), false) {
        if !tensor.dtype.is_float() {
            continue;
        }
        let name = names.burn_to_hf(&tensor.name);
        let data = bridge::into_data(tensor).map_err(|e| format!("{name}: {e}"))?;
        let data = if data.dtype() == DType::F32 {
            data
        } else {
            data.convert::<f32>()
        };
        // GPT-2's `Conv1D` weights go back to their `[in, out]` layout.
        let data = if names.stored_transposed(&name) && data.shape().len() == 2 {
            transpose_2d(&data).map_err(|e| format!("{name}: {e}"))?
        } else {
            data
        };
        named.push((name, data));
    }
    Ok(named)
}

/// As [`save_safetensors`], in the naming of `names` (a family's `transformers` names).
///
/// # Errors
/// As [`save_safetensors`].
pub fn save_safetensors_as<M: Module + ModuleSnapshot>(
    module: &M,
    path: &Path,
    names: &NameMap,
) -> Result<()> {
    let named = float_tensors_as(module, names).map_err(|reason| EncoderError::Serialize {
        path: path.to_path_buf(),
        reason,
    })?;
    write_safetensors(path, &named)
}

/// Writes named tensors as a safetensors file of f32 tensors (metadata `format: pt`, as
/// PyTorch's `save_file` writes it), atomically.
///
/// # Errors
/// [`EncoderError::Serialize`] if a tensor cannot be serialised; [`EncoderError::Io`] if the
/// file cannot be written.
pub fn write_safetensors(path: &Path, tensors: &[(String, TensorData)]) -> Result<()> {
    let ser = |reason: String| EncoderError::Serialize {
        path: path.to_path_buf(),
        reason,
    };
    let owned: Vec<_> = tensors
        .iter()
        .map(|(name, data)| {
            let data = data.clone().convert::<f32>();
            (name, data.shape().to_vec(), data.into_bytes())
        })
        .collect();
    let views = owned
        .iter()
        .map(|(name, shape, bytes)| {
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), bytes)
                .map(|view| (name.to_string(), view))
                .map_err(|e| ser(format!("{name}: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    let metadata = Some(std::collections::HashMap::from([(
        "format".to_string(),
        "pt".to_string(),
    )]));
    let bytes = safetensors::tensor::serialize(views, metadata).map_err(|e| ser(e.to_string()))?;
    write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_map_round_trips() {
        let hf = "bert.encoder.layer.3.attention.self.query.weight";
        let burn = hf_to_burn(hf);
        assert_eq!(
            burn,
            "bert.encoder.layer.3.attention.self_attn.query.weight"
        );
        assert_eq!(burn_to_hf(&burn), hf);
        assert_eq!(
            hf_to_burn("embeddings.LayerNorm.weight"),
            "embeddings.layer_norm.weight"
        );
    }

    #[test]
    fn family_names_round_trip() {
        let distil = NameMap::new(&crate::family::distilbert::DISTILBERT);
        for (burn, hf) in [
            (
                "bert.encoder.layer.1.attention.self_attn.query.weight",
                "distilbert.transformer.layer.1.attention.q_lin.weight",
            ),
            (
                "bert.encoder.layer.0.attention.output.dense.bias",
                "distilbert.transformer.layer.0.attention.out_lin.bias",
            ),
            (
                "bert.encoder.layer.0.attention.output.layer_norm.weight",
                "distilbert.transformer.layer.0.sa_layer_norm.weight",
            ),
            (
                "bert.encoder.layer.0.intermediate.dense.weight",
                "distilbert.transformer.layer.0.ffn.lin1.weight",
            ),
            (
                "bert.encoder.layer.0.output.dense.weight",
                "distilbert.transformer.layer.0.ffn.lin2.weight",
            ),
            (
                "bert.encoder.layer.0.output.layer_norm.bias",
                "distilbert.transformer.layer.0.output_layer_norm.bias",
            ),
            (
                "bert.embeddings.layer_norm.weight",
                "distilbert.embeddings.LayerNorm.weight",
            ),
            ("pre_classifier.weight", "pre_classifier.weight"),
        ] {
            assert_eq!(distil.burn_to_hf(burn), hf);
            assert_eq!(distil.hf_to_burn(hf), burn);
        }
        let roberta = NameMap::new(&crate::family::roberta::ROBERTA)
            .with_head(crate::family::roberta::CLASSIFIER_NAMES);
        for (burn, hf) in [
            (
                "bert.encoder.layer.1.attention.self_attn.key.bias",
                "roberta.encoder.layer.1.attention.self.key.bias",
            ),
            ("pre_classifier.weight", "classifier.dense.weight"),
            ("classifier.bias", "classifier.out_proj.bias"),
        ] {
            assert_eq!(roberta.burn_to_hf(burn), hf);
            assert_eq!(roberta.hf_to_burn(hf), burn);
        }
    }

    #[test]
    fn gpt2_names_are_transformers_and_only_conv1d_weights_are_transposed() {
        let gpt2 = NameMap::new(&crate::family::gpt2::GPT2);
        for name in [
            "transformer.h.0.attn.c_attn.weight",
            "transformer.h.1.ln_1.weight",
            "transformer.wte.weight",
            "score.weight",
            "h.0.mlp.c_fc.bias",
        ] {
            assert_eq!(gpt2.burn_to_hf(name), name);
            assert_eq!(gpt2.hf_to_burn(name), name);
        }
        for name in [
            "transformer.h.0.attn.c_attn.weight",
            "transformer.h.11.attn.c_proj.weight",
            "h.0.mlp.c_fc.weight",
            "h.0.mlp.c_proj.weight",
        ] {
            assert!(gpt2.stored_transposed(name), "{name}");
        }
        for name in [
            "transformer.h.0.attn.c_attn.bias",
            "transformer.wte.weight",
            "score.weight",
            "transformer.h.0.ln_1.weight",
        ] {
            assert!(!gpt2.stored_transposed(name), "{name}");
        }
        // Other families never transpose.
        assert!(!NameMap::default().stored_transposed("h.0.mlp.c_fc.weight"));
        let t = transpose_2d(&TensorData::new(vec![1.0f32, 2., 3., 4., 5., 6.], [2, 3])).unwrap();
        assert_eq!(t.shape().to_vec(), vec![3, 2]);
        assert_eq!(t.try_to_vec::<f32>().unwrap(), vec![1., 4., 2., 5., 3., 6.]);
    }

    #[test]
    fn legacy_layer_norm_names_are_modernised() {
        assert_eq!(
            modernise("encoder.layer.0.output.LayerNorm.gamma"),
            "encoder.layer.0.output.LayerNorm.weight"
        );
        assert_eq!(
            modernise("embeddings.LayerNorm.beta"),
            "embeddings.LayerNorm.bias"
        );
        assert_eq!(modernise("classifier.beta"), "classifier.beta");
    }
}
