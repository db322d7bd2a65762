//! [`FillMask`]: the most probable tokens for the mask token of a text.

use std::path::Path;

use burn::tensor::{Device, Int, Tensor, TensorData};
use burnish_encoder::BertConfig;
use burnish_encoder::HfModel;
use burnish_heads::BertForMaskedLM;
use burnish_tokenizer::{Input, Tokenizer};
use burnish_train::tasks::classification::softmax;
use serde::Serialize;

use super::{DEFAULT_BATCH_SIZE, batched, check_max_length, encode_inputs, require_head, values};
use crate::error::{Error, Result};
use crate::pretrained::{max_length, pad_id};

/// One candidate for a masked token.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MaskFill {
    /// The token (`"paris"`, or a continuation such as `"##s"`).
    pub token: String,
    /// Its id.
    pub token_id: u32,
    /// Its softmax probability at the mask.
    pub score: f32,
    /// The input with the mask replaced by the token, decoded without special tokens.
    pub sequence: String,
}

/// A masked language model (`BertForMaskedLM` or the RoBERTa / DistilBERT equivalent) that
/// fills in the mask token (`[MASK]`, `<mask>`) of each text.
///
/// ```
/// # fn main() -> burnish::Result<()> {
/// use burnish::prelude::*;
///
/// let device = burnish::backend::device("flex")?;
/// // A (random-weight) BertForMaskedLM: the candidates are arbitrary but well formed.
/// let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tiny-bert-mlm");
/// let fill = FillMask::from_dir(dir, &device)?.with_top_k(3);
/// let out = fill.predict(&["the capital of france is [MASK] ."])?;
/// assert_eq!(out[0].len(), 3);
/// assert!(out[0][0].score >= out[0][1].score && out[0][1].score >= out[0][2].score);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct FillMask {
    model: BertForMaskedLM,
    config: BertConfig,
    tokenizer: Tokenizer,
    device: Device,
    mask_id: u32,
    top_k: usize,
    max_length: usize,
    batch_size: usize,
}

impl FillMask {
    /// Loads a masked language model folder.
    ///
    /// # Errors
    /// [`Error::Model`] / [`Error::Tokenizer`] for unreadable files, [`Error::MissingHead`] for
    /// a folder without a trained language-model head (a bare encoder),
    /// [`Error::Setting`] for a tokenizer without a mask token.
    pub fn from_dir(dir: impl AsRef<Path>, device: &Device) -> Result<Self> {
        let dir = dir.as_ref();
        let tokenizer = Tokenizer::from_dir(dir)?;
        let (model, config, report) = BertForMaskedLM::from_pretrained(dir, device)?;
        require_head(&report, dir, "fill-mask")?;
        Self::from_parts(model, config, tokenizer, device)
    }

    /// A fill-mask pipeline from a model (on `device`, without autodiff), its configuration and
    /// tokenizer.
    ///
    /// # Errors
    /// [`Error::Setting`] for a tokenizer without a mask token.
    pub fn from_parts(
        model: BertForMaskedLM,
        config: BertConfig,
        tokenizer: Tokenizer,
        device: &Device,
    ) -> Result<Self> {
        let mask_id = tokenizer.mask_id().ok_or_else(|| Error::Setting {
            name: "mask_token",
            reason: format!(
                "the vocabulary has no mask token {:?}",
                tokenizer.special_tokens().mask
            ),
        })?;
        let max_length = max_length(&config, &tokenizer);
        Ok(Self {
            model,
            config,
            tokenizer,
            device: device.clone(),
            mask_id,
            top_k: 5,
            max_length,
            batch_size: DEFAULT_BATCH_SIZE,
        })
    }

    /// Returns the `top_k` most probable tokens per mask (default 5; 0 counts as 1).
    pub fn with_top_k(mut self, top_k: usize) -> Self {
        self.top_k = top_k.max(1);
        self
    }

    /// Truncates inputs to `max_length` tokens (default: the longest the model takes).
    ///
    /// # Errors
    /// [`Error::Setting`] for 0 or more than the model takes.
    pub fn with_max_length(mut self, max_length: usize) -> Result<Self> {
        let limit = crate::pretrained::max_length(&self.config, &self.tokenizer);
        self.max_length = check_max_length(max_length, limit)?;
        Ok(self)
    }

    /// Predicts `batch_size` texts per forward pass (default 32; 0 counts as 1).
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    /// The mask token's text (`[MASK]` for BERT, `<mask>` for RoBERTa).
    pub fn mask_token(&self) -> &str {
        &self.tokenizer.special_tokens().mask
    }

    /// The model.
    pub fn model(&self) -> &BertForMaskedLM {
        &self.model
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// The `top_k` candidates for the mask of each text, most probable first. Each text must
    /// hold the mask token exactly once (within the maximum length).
    ///
    /// # Errors
    /// [`Error::Input`] for a text with no mask token or more than one, naming its index.
    pub fn predict(&self, texts: &[&str]) -> Result<Vec<Vec<MaskFill>>> {
        let inputs: Vec<Input<'_>> = texts.iter().map(|t| Input::Single(t)).collect();
        let examples = encode_inputs(&self.tokenizer, &inputs, self.max_length)?;
        let mut mask_at = Vec::with_capacity(examples.len());
        for (index, example) in examples.iter().enumerate() {
            let masks: Vec<usize> = (0..example.ids.len())
                .filter(|&t| example.ids[t] == self.mask_id)
                .collect();
            match masks.as_slice() {
                [one] => mask_at.push(*one),
                _ => {
                    return Err(Error::Input {
                        index,
                        reason: format!(
                            "expected the mask token {} once in the (truncated) text, found it \
                             {} times",
                            self.mask_token(),
                            masks.len()
                        ),
                    });
                }
            }
        }
        let rows: Vec<Vec<f32>> = batched(
            &examples,
            self.batch_size,
            pad_id(&self.config, &self.tokenizer),
            &self.device,
            |indices, input| {
                let [_, seq_len] = input.dims();
                let positions: Vec<i64> = indices
                    .iter()
                    .enumerate()
                    .map(|(row, &i)| (row * seq_len + mask_at[i]) as i64)
                    .collect();
                let n = positions.len();
                let positions: Tensor<1, Int> =
                    Tensor::from_data(TensorData::new(positions, [n]), &self.device);
                let logits = self.model.forward_masked(input, positions);
                let [_, vocab] = logits.dims();
                Ok(values(logits)?.chunks(vocab).map(<[f32]>::to_vec).collect())
            },
        )?;
        examples
            .iter()
            .zip(&rows)
            .zip(&mask_at)
            .map(|((example, row), &at)| -> Result<Vec<MaskFill>> {
                let probs = softmax(row);
                let mut order: Vec<usize> = (0..probs.len()).collect();
                order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]));
                order
                    .into_iter()
                    .take(self.top_k)
                    .map(|id| -> Result<MaskFill> {
                        let id = id as u32;
                        let mut ids = example.ids.clone();
                        ids[at] = id;
                        Ok(MaskFill {
                            token: self.tokenizer.id_to_token(id).unwrap_or_default(),
                            token_id: id,
                            score: probs[id as usize],
                            sequence: self.tokenizer.decode(&ids, true)?,
                        })
                    })
                    .collect()
            })
            .collect()
    }
}
