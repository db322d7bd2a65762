//! Reading and writing Hugging Face checkpoints.
//!
//! The single place where burnish's parameter paths and `transformers`' names meet is
//! [`NAME_MAP`]: it is used in both directions, for loading and for saving. Burn's own
//! conventions (Linear weights stored `[in, out]`, LayerNorm `gamma`/`beta`) are converted by
//! burn-store's PyTorch adapters.
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

/// burnish path segment <-> `transformers` name segment. Used for loading and saving.
pub const NAME_MAP: &[(&str, &str)] = &[("layer_norm", "LayerNorm"), ("self_attn", "self")];

/// Names older checkpoints (TF-converted) use for LayerNorm parameters, mapped to today's.
const LEGACY_LAYER_NORM: &[(&str, &str)] = &[("gamma", "weight"), ("beta", "bias")];

/// The file names of a model folder, in order of preference.
pub const SAFETENSORS_FILE: &str = "model.safetensors";
/// PyTorch's pickle checkpoint, read as data only.
pub const PYTORCH_FILE: &str = "pytorch_model.bin";

/// A burnish parameter path to its `transformers` name.
pub fn burn_to_hf(path: &str) -> String {
    map_segments(path, |seg| {
        NAME_MAP
            .iter()
            .find(|(burn, _)| *burn == seg)
            .map(|(_, hf)| *hf)
    })
}

/// A `transformers` parameter name to its burnish path.
pub fn hf_to_burn(name: &str) -> String {
    map_segments(name, |seg| {
        NAME_MAP
            .iter()
            .find(|(_, hf)| *hf == seg)
            .map(|(burn, _)| *burn)
    })
}

fn map_segments<'a>(name: &'a str, f: impl Fn(&'a str) -> Option<&'static str>) -> String {
    name.split('.')
        .map(|seg| f(seg).unwrap_or(seg))
        .collect::<Vec<_>>()
        .join(".")
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

impl Checkpoint {
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
    /// Prefix of the encoder's parameters in this module: `""` for a bare `BertModel`,
    /// `"bert."` for a `BertFor*` head. Checkpoints of either kind load into both.
    pub encoder_prefix: &'a str,
    /// Parameter names (in `transformers`' naming) that may be missing from the checkpoint and
    /// then keep their fresh initialisation: a new head, the pooler.
    pub may_be_fresh: &'a dyn Fn(&str) -> bool,
}

/// Names of buffers that checkpoints carry and models recompute.
fn is_buffer(name: &str) -> bool {
    name.ends_with("position_ids")
}

/// `transformers` name and shape of every float parameter of `module`, in that naming and
/// layout (Linear weights `[out, in]`).
pub fn expected_tensors<M: Module + ModuleSnapshot>(module: &M) -> Vec<(String, Vec<usize>)> {
    module
        .collect(None, Some(Box::new(BurnToPyTorchAdapter)), false)
        .into_iter()
        .filter(|t| t.dtype.is_float())
        .map(|t| (burn_to_hf(&t.name), t.shape.to_vec()))
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
    let expected = expected_tensors(module);
    let renamed = align_prefix(checkpoint, spec.encoder_prefix);

    let mut missing = Vec::new();
    let mut newly_initialized = Vec::new();
    let mut to_apply = Vec::new();
    for (name, shape) in &expected {
        match renamed.get(name.as_str()) {
            Some((file_name, data)) => {
                if data.shape().as_slice() != shape.as_slice() {
                    return Err(EncoderError::ShapeMismatch {
                        path: checkpoint.path.clone(),
                        tensor: file_name.to_string(),
                        expected: shape.clone(),
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
                to_apply.push(bridge::from_data((*data).clone(), hf_to_burn(name), None));
            }
            None if (spec.may_be_fresh)(name) => newly_initialized.push(name.clone()),
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
            tensor: burn_to_hf(&err.to_string()),
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
) -> BTreeMap<String, (&'c str, &'c TensorData)> {
    const PROBE: &str = "embeddings.word_embeddings.weight";
    const BASE: &str = "bert.";
    let has = |n: &str| checkpoint.tensors.contains_key(n);
    let mut out = BTreeMap::new();
    for (name, data) in &checkpoint.tensors {
        let mapped = if encoder_prefix.is_empty() && !has(PROBE) && has(&format!("{BASE}{PROBE}")) {
            // A BertFor* checkpoint loaded as a bare encoder: drop the prefix.
            match name.strip_prefix(BASE) {
                Some(rest) => rest.to_string(),
                None => name.clone(),
            }
        } else if !encoder_prefix.is_empty()
            && !has(&format!("{encoder_prefix}{PROBE}"))
            && has(PROBE)
            && ["embeddings.", "encoder.", "pooler."]
                .iter()
                .any(|p| name.starts_with(p))
        {
            // A bare BertModel checkpoint loaded under a head: add the prefix.
            format!("{encoder_prefix}{name}")
        } else {
            name.clone()
        };
        out.insert(mapped, (name.as_str(), data));
    }
    out
}

/// Writes every float parameter of `module` to a safetensors file in `transformers`' naming
/// and layout, atomically (temporary file, then rename).
///
/// # Errors
/// [`EncoderError::Serialize`] if a tensor cannot be read back or serialised;
/// [`EncoderError::Io`] if the file cannot be written.
pub fn save_safetensors<M: Module + ModuleSnapshot>(module: &M, path: &Path) -> Result<()> {
    let ser = |reason: String| EncoderError::Serialize {
        path: path.to_path_buf(),
        reason,
    };
    let mut named = Vec::new();
    for tensor in module.collect(None, Some(Box::new(BurnToPyTorchAdapter)), false) {
        if !tensor.dtype.is_float() {
            continue;
        }
        let name = burn_to_hf(&tensor.name);
        let data = bridge::into_data(tensor).map_err(|e| ser(format!("{name}: {e}")))?;
        let data = if data.dtype() == DType::F32 {
            data
        } else {
            data.convert::<f32>()
        };
        let shape = data.shape().to_vec();
        named.push((name, shape, data.into_bytes()));
    }
    let views = named
        .iter()
        .map(|(name, shape, bytes)| {
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), bytes)
                .map(|view| (name.clone(), view))
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
