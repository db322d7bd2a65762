//! # burnish
//!
//! Pre-train and fine-tune BERT-style transformer encoders in Rust on [Burn](https://burn.dev),
//! with one code path for CPU (`flex`, `tch`), WGPU and CUDA.
//!
//! This facade re-exports the workspace's crates and is the only crate that chooses a Burn
//! backend (see [`backend`]).
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use burnish::encoder::BertModel;
//! let device = burnish::backend::device("flex")?;
//! let (model, config, _report) = BertModel::from_pretrained("assets/all-MiniLM-L6-v2", &device)?;
//! assert_eq!(config.hidden_size, 384);
//! # let _ = model; Ok(()) }
//! ```
#![warn(missing_docs)]

pub mod backend;

/// Readers, labels, tokenized examples, batching.
pub use burnish_data as data;
/// The BERT encoder: configuration, modules, Hugging Face weights.
pub use burnish_encoder as encoder;
/// Task heads: sequence classification and more.
pub use burnish_heads as heads;
/// Tokenization: `tokenizer.json` / `vocab.txt`, pairs, windows, WordPiece training.
pub use burnish_tokenizer as tokenizer;
/// The training loop, optimizer, schedules, metrics, plots.
pub use burnish_train as train;

/// Burn itself, as burnish uses it.
pub use burn;
