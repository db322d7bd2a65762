//! The facade's error type: one enum wrapping every crate's errors.

use std::path::PathBuf;

use crate::backend::BackendError;

/// Everything the facade can fail with.
///
/// Each workspace crate's own error is wrapped as it is (its message names the file, line,
/// field or tensor), so `?` works across the whole API; the facade adds the few failures of
/// its own (a model folder without the head a pipeline needs, an unusable input).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The backend asked for is unknown or not compiled in.
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// Reading a `config.json` or reading / writing weights failed.
    #[error(transparent)]
    Model(#[from] burnish_encoder::EncoderError),
    /// Loading, using or saving a tokenizer failed.
    #[error(transparent)]
    Tokenizer(#[from] burnish_tokenizer::TokenizerError),
    /// Reading, labelling, tokenizing or batching data failed.
    #[error(transparent)]
    Data(#[from] burnish_data::DataError),
    /// A Hub id is not cached (and could not be downloaded), or a path does not exist.
    #[error(transparent)]
    Hub(#[from] burnish_hub::HubError),
    /// An ONNX export cannot write the model's graph.
    #[error(transparent)]
    Onnx(#[from] burnish_onnx::OnnxError),
    /// Training failed (a bad configuration, a run directory that cannot be written, a
    /// diverging run).
    #[error(transparent)]
    Train(#[from] burnish_train::TrainError),
    /// A model folder lacks the trained weights a pipeline needs: it is not a model of that
    /// task (a bare encoder where a classifier was expected, say).
    #[error(
        "{}: not a {task} model: its weights lack {} (fine-tune it first, or load it with \
         `Pretrained` to start from the encoder)",
        .dir.display(),
        .missing.join(", ")
    )]
    MissingHead {
        /// The model folder.
        dir: PathBuf,
        /// The task the pipeline does (`text classification`, ...).
        task: &'static str,
        /// The tensors that are not in the folder's weights.
        missing: Vec<String>,
    },
    /// One of the inputs given to a pipeline cannot be used.
    #[error("input {index}: {reason}")]
    Input {
        /// Its index in the slice passed to `predict`.
        index: usize,
        /// Why.
        reason: String,
    },
    /// A setting of a pipeline or of the trainer is unusable.
    #[error("invalid setting `{name}`: {reason}")]
    Setting {
        /// The setting.
        name: &'static str,
        /// Why.
        reason: String,
    },
    /// Evaluation could not be computed (no examples, unlabelled examples).
    #[error("evaluation failed: {0}")]
    Evaluation(String),
    /// A tensor's values could not be read back from the device.
    #[error("cannot read a tensor back: {0}")]
    TensorData(String),
    /// A file could not be read or written.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// Shorthand for results of the facade.
pub type Result<T, E = Error> = std::result::Result<T, E>;
