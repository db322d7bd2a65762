//! [`SentenceEmbedder`]: one vector per text, pooled (and normalised) as the folder's
//! `sentence-transformers` modules say (mean pooling + L2 normalisation for a plain folder).

use std::path::Path;

use burn::tensor::Device;
use burnish_encoder::BertConfig;
use burnish_encoder::BertModel;
use burnish_heads::{SentenceConfig, SentenceEncoder};
use burnish_tokenizer::{Input, Tokenizer};

use super::{DEFAULT_BATCH_SIZE, batched, check_max_length, encode_inputs, values};
use crate::error::Result;
use crate::pretrained::pad_id;

/// Sentence embeddings from an encoder, as `SentenceTransformer(path).encode` computes them:
/// the folder's pooling (`1_Pooling/config.json`: mean, CLS or last token) and, where it has a
/// `Normalize` module, L2 normalisation; a plain model folder gets mean pooling + normalisation
/// (the recipe of `all-MiniLM-L6-v2`), where the dot product of two embeddings is their cosine
/// similarity. Inputs are truncated to the folder's `max_seq_length` by default.
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
    model: SentenceEncoder,
    config: BertConfig,
    tokenizer: Tokenizer,
    device: Device,
    max_length: usize,
    batch_size: usize,
}

impl SentenceEmbedder {
    /// Loads an encoder folder (any checkpoint of the family: its encoder is used, a head is
    /// ignored), with its `sentence-transformers` modules where it has them.
    ///
    /// # Errors
    /// [`crate::Error::Model`] / [`crate::Error::Tokenizer`] for unreadable files, or modules
    /// burnish does not run.
    pub fn from_dir(dir: impl AsRef<Path>, device: &Device) -> Result<Self> {
        let dir = dir.as_ref();
        let tokenizer = Tokenizer::from_dir(dir)?;
        let (model, sentence, config, _) = SentenceEncoder::from_pretrained(dir, device)?;
        let mut embedder = Self::with_encoder(model, config, tokenizer, device);
        if let Some(n) = sentence.max_seq_length {
            embedder.max_length = n.min(embedder.max_length);
        }
        Ok(embedder)
    }

    /// An embedder from an encoder (on `device`, without autodiff), its configuration and
    /// tokenizer.
    pub fn from_parts(
        model: BertModel,
        config: BertConfig,
        tokenizer: Tokenizer,
        device: &Device,
    ) -> Self {
        let sentence = SentenceConfig::default();
        let model = SentenceEncoder::new(model, sentence.pooling, sentence.normalize);
        Self::with_encoder(model, config, tokenizer, device)
    }

    /// An embedder from a sentence encoder (its pooling and normalisation), its
    /// configuration and tokenizer.
    pub fn with_encoder(
        model: SentenceEncoder,
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
        &self.model.bert
    }

    /// How token states are pooled and whether embeddings are normalised.
    pub fn sentence_config(&self) -> SentenceConfig {
        SentenceConfig {
            pooling: self.model.pooling,
            normalize: self.model.normalize,
            max_seq_length: Some(self.max_length),
        }
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
                let pooled = self.model.forward(input);
                Ok(values(pooled)?.chunks(width).map(<[f32]>::to_vec).collect())
            },
        )
    }
}
