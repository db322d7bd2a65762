//! The BERT encoder of burnish, shared by the BERT, RoBERTa and DistilBERT families, and the
//! GPT-2 decoder ([`decoder`]), which reuses its attention, LayerNorm and embeddings.
//!
//! - [`BertConfig`]: hyper-parameters from a Hugging Face `config.json`.
//! - [`model`]: one struct per `transformers` module ([`BertModel`] at the top), each with a
//!   `forward` whose doc gives the shapes.
//! - [`weights`]: reading `model.safetensors` / `pytorch_model.bin` and writing
//!   `model.safetensors`, through one name table.
//!
//! This crate never enables a Burn backend: every constructor takes a `&Device`.
#![warn(missing_docs)]

pub mod config;
pub mod decoder;
pub mod error;
pub mod fused;
pub mod model;
pub mod precision;
pub mod pretrained;
pub mod threads;
pub mod weights;

pub use config::{BertConfig, HiddenAct, ModelFamily};
pub use decoder::Gpt2Model;
pub use error::{EncoderError, Result};
pub use model::{BertInput, BertModel, BertModelOutput};
pub use pretrained::CONFIG_FILE;
pub use weights::{Checkpoint, LoadReport, NameMap};
