//! burnish's training loop.
//!
//! - [`Trainer`]: the fine-tuning recipe (two stages, AdamW, warmup + decay, clipping,
//!   accumulation, evaluation, early stopping, best model, exact resume, Ctrl-C).
//! - [`optim`]: AdamW as PyTorch computes it, with decay groups and layer-wise decay.
//! - [`schedule`]: warmup + linear/cosine schedules as `transformers` defines them.
//! - [`metrics`]: classification and regression metrics as scikit-learn computes them.
//! - [`log`]: the typed lines of a run's `log.jsonl` ([`LogEvent`]).
//! - [`plot`]: PNG loss and metric curves, no system fonts needed.
//! - [`tensorboard`]: the log's scalars as TensorBoard event files (`report_to`).
//! - [`bench`](mod@bench): inference and training-step throughput (`cargo bench`, `burnish bench`).
#![warn(missing_docs)]

pub mod bench;
pub mod checkpointing;
pub mod config;
pub mod error;
pub mod generalization;
pub mod log;
pub mod memory;
pub mod metrics;
pub mod optim;
pub mod plot;
pub mod schedule;
pub mod seed;
pub mod tasks;
pub mod tensorboard;
pub mod trainer;

pub use config::{ClassWeights, ReportTo, TrainConfig};
pub use error::{Result, TrainError};
pub use log::LogEvent;
pub use trainer::{
    BatchSource, EvalRecord, FineTune, FitResult, Metrics, Outcome, Trainer, TrainerState,
    fork_for_training, shard_rows,
};
