//! The encoder crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong while reading a configuration, reading or writing weights.
///
/// Every variant names the file it concerns and, where there is one, the tensor.
#[derive(Debug, thiserror::Error)]
pub enum EncoderError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// `config.json` is not valid JSON or has a field of the wrong type.
    #[error("{path}: invalid config: {source}")]
    ConfigJson {
        /// The configuration file.
        path: PathBuf,
        /// The JSON error (it carries the line and column).
        #[source]
        source: serde_json::Error,
    },
    /// `config.json` parsed but one of its values is unusable.
    #[error("{path}: invalid config field `{field}`: {reason}")]
    ConfigValue {
        /// The configuration file (or `<memory>` for a config built in code).
        path: PathBuf,
        /// The offending field.
        field: &'static str,
        /// Why it is unusable.
        reason: String,
    },
    /// `config.json` names a model family burnish does not implement.
    #[error(
        "{path}: unsupported model family {found} (from `model_type` or `architectures`); \
         supported model_type values: {supported}"
    )]
    UnsupportedFamily {
        /// The configuration file.
        path: PathBuf,
        /// The `model_type` (or class name) found, as written in the file.
        found: String,
        /// The `model_type` values burnish loads (`family::supported()`).
        supported: String,
    },
    /// The model folder has neither `model.safetensors` nor `pytorch_model.bin`.
    #[error("{dir}: no weights found (expected model.safetensors or pytorch_model.bin)")]
    NoWeights {
        /// The model folder.
        dir: PathBuf,
    },
    /// A safetensors file is truncated or malformed.
    #[error("{path}: corrupt safetensors file: {source}")]
    Safetensors {
        /// The weights file.
        path: PathBuf,
        /// The safetensors error (it names the tensor where there is one).
        #[source]
        source: safetensors::SafeTensorError,
    },
    /// A `pytorch_model.bin` file is truncated or malformed.
    #[error("{path}: corrupt PyTorch checkpoint: {source}")]
    Pytorch {
        /// The weights file.
        path: PathBuf,
        /// The reader's error.
        #[source]
        source: burn::store::pytorch_reader::PytorchError,
    },
    /// One tensor's data could not be read or converted.
    #[error("{path}: tensor `{tensor}`: {reason}")]
    TensorData {
        /// The weights file.
        path: PathBuf,
        /// The tensor's name in the file.
        tensor: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A tensor in the file does not have the shape the configuration implies.
    #[error(
        "{path}: tensor `{tensor}` has shape {found:?}, but config.json implies {expected:?} \
         (does config.json belong to these weights?)"
    )]
    ShapeMismatch {
        /// The weights file.
        path: PathBuf,
        /// The tensor's name in the file.
        tensor: String,
        /// The shape implied by the configuration.
        expected: Vec<usize>,
        /// The shape in the file.
        found: Vec<usize>,
    },
    /// Tensors the model needs are absent from the file.
    #[error("{path}: missing tensors: {}", .tensors.join(", "))]
    MissingTensors {
        /// The weights file.
        path: PathBuf,
        /// Their names, in the checkpoint's naming.
        tensors: Vec<String>,
    },
    /// flex's thread pool already runs with another number of threads.
    #[error(
        "cannot use {wanted} CPU threads: flex's thread pool already runs with {running} \
         (set the thread count before the first tensor operation, once per process)"
    )]
    ThreadPool {
        /// The number asked for.
        wanted: usize,
        /// The number the pool runs with.
        running: usize,
    },
    /// The device cannot compute in the asked-for float type.
    #[error("{device} cannot compute in {precision} (use f32{hint})")]
    UnsupportedPrecision {
        /// The precision asked for (`bf16`, `f16`).
        precision: &'static str,
        /// The device, as Burn names it.
        device: String,
        /// Another precision the device does support, as advice (may be empty).
        hint: String,
    },
    /// Weights could not be serialised.
    #[error("{path}: cannot serialise weights: {reason}")]
    Serialize {
        /// The file being written.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

/// Shorthand for results in this crate.
pub type Result<T, E = EncoderError> = std::result::Result<T, E>;
