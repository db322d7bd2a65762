//! [`SentenceEmbedder`]: one unit-length vector per text (mean pooling + L2 normalisation).

use std::path::Path;

use burn::tensor::Device;
use burnish_encoder::BertConfig;
use burnish_encoder::BertModel;
use burnish_encoder::HfModel;
use burnish_encoder::model::mean_pool_normalized;
use burnish_tokenizer::{Input, Tokenizer};

use super::{DEFAULT_BATCH_SIZE, batched, check_max_length, encode_inputs, values};
use crate::error::Result;
use crate::pretrained::pad_id;

/// Sentence embeddings from an encoder: the mean of the last hidden states over the real
/// tokens, divided by its L2 norm, as sentence-transformers' mean pooling + `Normalize`
/// modules compute them (the recipe of `all-MiniLM-L6-v2`). The dot product of two embeddings
/// is their cosine similarity.
///
/// ```
/// # fn main() -> burnish::Result<()> {
/// use burnish::prelude::*;
///
/// let device = burnish::backend::device("flex")?;
/// let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tiny-bert");
/// let embedder = SentenceEmbedder::from_dir(dir, &device)?;
/// let vectors = embedder.predict(&["a short text", "and a somewhat longer second text"])?;
/// assert_eq!(vectors.len(), 2);
/// assert_eq!(vectors[0].len(), embedder.dimension());
/// let norm: f32 = vectors[1].iter().map(|x| x * x).sum::<f32>().sqrt();
/// assert!((norm - 1.0).abs() < 1e-5);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct SentenceEmbedder {
    model: BertModel,
    config: BertConfig,
    tokenizer: Tokenizer,
    device: Device,
    max_length: usize,
    batch_size: usize,
}

impl SentenceEmbedder {
    /// Loads an encoder folder (any checkpoint of the family: its encoder is used, a head is
    /// ignored).
    ///
    /// # Errors
    /// [`crate::Error::Model`] / [`crate::Error::Tokenizer`] for unreadable files.
    pub fn from_dir(dir: impl AsRef<Path>, device: &Device) -> Result<Self> {
        let dir = dir.as_ref();
        let tokenizer = Tokenizer::from_dir(dir)?;
        let (model, config, _) = BertModel::from_pretrained(dir, device)?;
        Ok(Self::from_parts(model, config, tokenizer, device))
    }

    /// An embedder from an encoder (on `device`, without autodiff), its configuration and
    /// tokenizer.
    pub fn from_parts(
        model: BertModel,
        config: BertConfig,
        tokenizer: Tokenizer,
        device: &Device,
    ) -> Self {
        let max_length = crate::pretrained::max_length(&config, &tokenizer);
        Self {
            model,
            config,
            tokenizer,
            device: device.clone(),
            max_length,
            batch_size: DEFAULT_BATCH_SIZE,
        }
    }

    /// Truncates inputs to `max_length` tokens (default: the longest the model takes;
    /// sentence-transformers' `all-MiniLM-L6-v2` uses 256).
    ///
    /// # Errors
    /// [`crate::Error::Setting`] for 0 or more than the model takes.
    pub fn with_max_length(mut self, max_length: usize) -> Result<Self> {
        let limit = crate::pretrained::max_length(&self.config, &self.tokenizer);
        self.max_length = check_max_length(max_length, limit)?;
        Ok(self)
    }

    /// Embeds `batch_size` texts per forward pass (default 32; 0 counts as 1).
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    /// The embeddings' length (the hidden size).
    pub fn dimension(&self) -> usize {
        self.config.hidden_size
    }

    /// The encoder.
    pub fn model(&self) -> &BertModel {
        &self.model
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// One embedding of [`SentenceEmbedder::dimension`] values per text.
    ///
    /// # Errors
    /// [`crate::Error::Input`] for a text the tokenizer cannot encode, naming its index.
    pub fn predict(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let inputs: Vec<Input<'_>> = texts.iter().map(|t| Input::Single(t)).collect();
        let examples = encode_inputs(&self.tokenizer, &inputs, self.max_length)?;
        let width = self.dimension();
        batched(
            &examples,
            self.batch_size,
            pad_id(&self.config, &self.tokenizer),
            &self.device,
            |_, input| {
                let mask = input.attention_mask.clone();
                let hidden = self.model.forward(input).last_hidden_state;
                let pooled = mean_pool_normalized(hidden, mask);
                Ok(values(pooled)?.chunks(width).map(<[f32]>::to_vec).collect())
            },
        )
    }
}
