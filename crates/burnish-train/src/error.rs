//! The training crate's error type.

use std::path::PathBuf;

/// What can stop a training run other than finishing.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A configuration value is unusable.
    #[error("invalid training config `{field}`: {reason}")]
    Config {
        /// The field.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// Reading or writing model weights failed.
    #[error(transparent)]
    Weights(#[from] burnish_encoder::EncoderError),
    /// A file of the run directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A JSON file of the run directory is malformed.
    #[error("{path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The JSON error (with line and column).
        #[source]
        source: serde_json::Error,
    },
    /// The run directory's checkpoint does not fit this run.
    #[error("{path}: cannot resume: {reason}")]
    Resume {
        /// The checkpoint folder.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A batch of training data could not be read (data streamed from disk).
    #[error("cannot read a training batch: {0}")]
    Data(String),
    /// There is nothing to train on.
    #[error("the training data is empty")]
    EmptyData,
    /// The evaluation callback failed.
    #[error("evaluation failed: {0}")]
    Evaluation(String),
    /// The loss or the gradients stayed non-finite for `max_bad_steps` consecutive steps.
    #[error(
        "training stopped at step {step}: the loss or gradient norm was not finite for {steps} \
         consecutive steps ({reason}); {kept}; try a lower learning rate than {lr:e}"
    )]
    NonFinite {
        /// Consecutive bad steps.
        steps: usize,
        /// Optimizer steps done (the last good one).
        step: usize,
        /// What the last bad step had (`loss NaN`, `gradient norm inf`).
        reason: String,
        /// The peak learning rate of the stage that diverged.
        lr: f64,
        /// Where the last good checkpoint was left, and how to resume from it (or that there
        /// is none yet).
        kept: String,
    },
    /// Writing the plot failed.
    #[error(transparent)]
    Plot(#[from] crate::plot::PlotError),
}

/// Shorthand for results in this crate.
pub type Result<T, E = TrainError> = std::result::Result<T, E>;
