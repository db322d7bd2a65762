//! Task heads on burnish's BERT encoder.
//!
//! Each head is a `#[derive(Module)]` struct whose field names are `transformers`' (`bert`,
//! `classifier`, ...), so Hugging Face `BertFor*` checkpoints load into it and what burnish
//! saves loads back in `transformers`. Each has a typed `forward` (documented shapes) and its
//! loss.
#![warn(missing_docs)]

pub mod classification;
pub mod loss;

pub use burnish_encoder::{EncoderError, Result};
pub use classification::{BertForSequenceClassification, ClassificationTargets, ProblemType};
