//! What the trainer needs to know about each task: how a batch becomes a loss, how a model is
//! evaluated, and how predictions are read.

pub mod batches;
pub mod classification;
pub mod ner;
pub mod pretrain;
pub mod qa;
