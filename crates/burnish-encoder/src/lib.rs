//! The BERT encoder of burnish, shared by the BERT, RoBERTa and DistilBERT families, and the
//! GPT-2 decoder ([`decoder`]), which reuses its attention, LayerNorm and embeddings.
//!
//! - [`family`]: what differs between the families, one module each (GPT-2's decoder lives in
//!   its own), and [`Family::detect`], the one place `model_type` picks a family.
//! - [`BertConfig`]: hyper-parameters from a Hugging Face `config.json`.
//! - [`model`]: one struct per `transformers` module ([`BertModel`] at the top), each with a
//!   `forward` whose doc gives the shapes.
//! - [`weights`]: reading `model.safetensors` / `pytorch_model.bin` and writing
//!   `model.safetensors`, through one name table.
//!
//! This crate never enables a Burn backend: every constructor takes a `&Device`.
#![warn(missing_docs)]

pub mod activation;
pub mod backbone;
pub mod config;
pub mod error;
pub mod family;
pub mod fused;
pub mod lora;
pub mod model;
pub mod precision;
pub mod pretrained;
pub mod threads;
pub mod weights;

pub use backbone::Backbone;
pub use config::{BertConfig, HiddenAct};
pub use error::{EncoderError, Result};
pub use family::gpt2::model as decoder;
pub use family::gpt2::model::Gpt2Model;
pub use family::{FAMILIES, Family};
pub use model::{BertInput, BertModel, BertModelOutput};
pub use pretrained::{CONFIG_FILE, HfModel};
pub use weights::{Checkpoint, LoadReport, NameMap};
