//! # burnish
//!
//! Pre-train and fine-tune BERT-style transformer encoders (BERT, RoBERTa, DistilBERT) in Rust
//! on [Burn](https://burn.dev), with one code path for CPU (`flex`, `tch`), WGPU and CUDA.
//! Model folders are Hugging Face's: burnish loads what `transformers` saves, and what burnish
//! saves loads in `transformers` with the same outputs.
//!
//! This crate is the library's front door:
//!
//! - [`Pretrained`]: a model folder (config, tokenizer, weights) and a constructor per head
//!   ([`Pretrained::sequence_classifier`], [`Pretrained::token_classifier`],
//!   [`Pretrained::question_answering`], [`Pretrained::masked_lm`], ...).
//! - [`Trainer`]: fine-tuning with the field's recipe ([`TrainConfig`]'s defaults), into a
//!   ready pipeline, with evaluation and saving in the Hugging Face layout.
//! - Pipelines that take text and hide tensors, batching and padding: [`TextClassifier`],
//!   [`TokenClassifier`] (entities with character offsets), [`QuestionAnswerer`] (answer
//!   spans over windows), [`FillMask`], [`SentenceEmbedder`]. Each has
//!   `from_dir(path, &device)` and `predict`.
//! - [`backend`]: the one place a Burn backend is chosen (cargo features `flex` (default),
//!   `tch`, `wgpu`, `vulkan`, `metal`, `cuda`; a runtime name such as `"wgpu"`).
//! - One error type, [`Error`], wrapping every crate's errors.
//!
//! The workspace's crates are re-exported for everything else: [`tokenizer`], [`encoder`],
//! [`heads`], [`data`], [`train`], and [`burn`] itself.
//!
//! ## Fine-tune, evaluate, predict, save
//!
//! ```
//! # fn main() -> burnish::Result<()> {
//! use burnish::prelude::*;
//!
//! let device = burnish::backend::device("flex")?;
//! // A tiny random-weight BERT from the test fixtures; use a real model such as
//! // sentence-transformers/all-MiniLM-L6-v2 (scripts/fetch-assets.sh) for real work.
//! let base = Pretrained::from_dir(
//!     concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tiny-bert"),
//!     &device,
//! )?;
//! let data = TextDataset::from_labelled([
//!     ("what a great film", "pos"), ("a dull, lifeless mess", "neg"),
//!     ("great fun", "pos"),         ("dull and far too long", "neg"),
//!     ("a great cast", "pos"),      ("the plot is a mess", "neg"),
//! ])?;
//! let (train, valid) = data.split(1.0 / 3.0, 7)?;
//!
//! let run_dir = tempfile::tempdir().unwrap();
//! let config = TrainConfig { epochs: 1, batch_size: 4, max_length: 32, ..TrainConfig::default() };
//! let trained = Trainer::new(config, run_dir.path())?
//!     .with_progress(false)
//!     .classifier(&base, &train, &valid)?;
//! let classifier = trained.model;
//!
//! let metrics = classifier.evaluate(&valid)?.metrics;
//! assert!((0.0..=1.0).contains(&metrics["accuracy"]));
//! let predictions = classifier.predict(&["great", "a mess"])?;
//! assert!(["neg", "pos"].contains(&predictions[0].label().unwrap()));
//!
//! // A Hugging Face folder: `transformers`' AutoModelForSequenceClassification loads it.
//! classifier.save(run_dir.path().join("model"))?;
//! assert!(run_dir.path().join("model/model.safetensors").is_file());
//! # Ok(()) }
//! ```
//!
//! ## Inference pipelines
//!
//! ```
//! # fn main() -> burnish::Result<()> {
//! use burnish::prelude::*;
//!
//! let device = burnish::backend::device("flex")?;
//! let fixture = |name: &str| format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
//!
//! let ner = TokenClassifier::from_dir(fixture("tiny-bert-ner"), &device)?;
//! let tagged = ner.predict(&["Angela Merkel visited Paris."])?;
//! assert_eq!(tagged[0].words.len(), 5); // "Angela", "Merkel", "visited", "Paris", "."
//!
//! let qa = QuestionAnswerer::from_dir(fixture("tiny-bert-qa"), &device)?;
//! let answer = &qa.predict(&[("Who?", "Marie Curie won two Nobel prizes.")])?[0];
//! assert!(answer.end > answer.start);
//!
//! let fill = FillMask::from_dir(fixture("tiny-bert-mlm"), &device)?;
//! assert_eq!(fill.predict(&["paris is the [MASK] of france"])?[0].len(), 5);
//!
//! let embedder = SentenceEmbedder::from_dir(fixture("tiny-bert"), &device)?;
//! assert_eq!(embedder.predict(&["hello world"])?[0].len(), 16);
//! # Ok(()) }
//! ```
//!
//! The guides in `docs/guide/` walk through each task from the command line and from Rust.
#![warn(missing_docs)]

pub mod adapter;
pub mod backend;
mod error;
pub mod export;
pub mod pipelines;
mod pretrained;
mod text_dataset;
mod trainer;
pub mod vocab;

pub use burnish_encoder::{Backbone, HfModel};
pub use burnish_heads::WithBackbone;
pub use error::{Error, Result};
pub use pipelines::{
    Classification, ClassifierModel, FillMask, MaskFill, QuestionAnswerer, SentenceEmbedder,
    TaggedText, TaggedWord, TextClassifier, TokenClassifier, TokenInput,
};
pub use pretrained::{Pretrained, SaveHf};
pub use text_dataset::TextDataset;
pub use trainer::{TrainReport, Trained, Trainer};

pub use burnish_train::TrainConfig;

/// Readers, labels, tokenized examples, batching.
pub use burnish_data as data;
/// The BERT encoder: configuration, modules, Hugging Face weights.
pub use burnish_encoder as encoder;
/// Files written whole or not at all (`burnish-fs`).
pub use burnish_fs as fs;
/// Task heads: sequence classification and more.
pub use burnish_heads as heads;
/// Models by Hugging Face Hub id (`ORG/NAME[@REVISION]`): the Hub cache lookup.
pub use burnish_hub as hub;
/// ONNX export: the graph writer (`burnish-onnx`); [`export::export_onnx`] for a folder.
pub use burnish_onnx as onnx;
/// Tokenization: `tokenizer.json` / `vocab.txt`, pairs, windows, WordPiece training.
pub use burnish_tokenizer as tokenizer;
/// The training loop, optimizer, schedules, metrics, plots.
pub use burnish_train as train;

/// Burn itself, as burnish uses it.
pub use burn;

/// What most programs need: `use burnish::prelude::*;`.
pub mod prelude {
    pub use crate::backend::{BackendKind, device};
    pub use crate::data::{LabelMap, NerDataset, NerReadOptions, SquadDataset, Task};
    pub use crate::train::tasks::qa::{Answer, PostProcess};
    pub use crate::{
        Classification, Error, FillMask, HfModel, MaskFill, Pretrained, QuestionAnswerer, Result,
        SaveHf, SentenceEmbedder, TaggedText, TaggedWord, TextClassifier, TextDataset,
        TokenClassifier, TokenInput, TrainConfig, TrainReport, Trained, Trainer,
    };
    pub use burn::tensor::Device;
}
