//! What the trainer needs to know about each task: how a batch becomes a loss, how a model is
//! evaluated, and how predictions are read.

pub mod batches;
pub mod classification;
pub mod embedding;
pub mod ner;
pub mod pretrain;
pub mod qa;
pub mod rerank;

use crate::trainer::Metrics;

/// A task's evaluation of a model: the scalar metrics the trainer logs and selects the best
/// model by, besides whatever full report the task gives (per class, per entity type,
/// answers).
pub trait Evaluation {
    /// The scalar metrics (`loss` and the task's scores).
    fn metrics(&self) -> &Metrics;
}
