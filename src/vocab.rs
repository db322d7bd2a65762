//! Vocabulary extension of a model folder ([`extend_vocabulary`]): a domain corpus's words that
//! the tokenizer shreds into many pieces become whole tokens, and the model gets an embedding
//! row for each, initialised as the mean of the rows of the pieces it replaces (the tied
//! masked-LM decoder's bias likewise), so the extended model starts close to the original on
//! the new words. Continued pre-training (`burnish pretrain --objective mlm`) then adapts them.

use std::path::Path;

use burn::tensor::TensorData;
use burnish_encoder::weights::{Checkpoint, SAFETENSORS_FILE, write_safetensors};
use burnish_encoder::{BertConfig, CONFIG_FILE};
use burnish_tokenizer::{SplitWord, Tokenizer};

use crate::error::{Error, Result};

/// What [`extend_vocabulary`] did.
#[derive(Debug, Clone)]
pub struct VocabExtension {
    /// The tokens added, in id order, with their words' counts and the pieces they join (a
    /// BPE word's intermediate joins included).
    pub added: Vec<SplitWord>,
    /// Tokens per word over the corpus before and after.
    pub tokens_per_word: (f64, f64),
    /// The vocabulary size before and after.
    pub vocab_size: (usize, usize),
    /// The tensors that grew a row per word (`bert.embeddings.word_embeddings.weight`, ...).
    pub resized: Vec<String>,
}

/// Adds the `add` words of `texts` that save the most tokens (seen at least `min_count`
/// times, split into two pieces or more) to the vocabulary (WordPiece or BPE, see
/// [`Tokenizer::with_words`]) of the model folder `model`, grows its word embeddings (and a
/// tied masked-LM decoder's bias) by the mean of the pieces each new token joins, and writes
/// the extended folder to `out` (`config.json` with the new `vocab_size`, `model.safetensors`,
/// the tokenizer), which `transformers` loads.
///
/// # Errors
/// [`Error::Tokenizer`] for a Unigram tokenizer; [`Error::Model`] for a folder
/// whose weights do not load or whose word embeddings do not match its vocabulary;
/// [`Error::Io`] / [`Error::Model`] naming the file that cannot be written.
pub fn extend_vocabulary<'a>(
    model: impl AsRef<Path>,
    texts: impl IntoIterator<Item = &'a str> + Clone,
    add: usize,
    min_count: u64,
    out: impl AsRef<Path>,
) -> Result<VocabExtension> {
    let (model, out) = (model.as_ref(), out.as_ref());
    let tokenizer = Tokenizer::from_dir(model)?;
    let before = tokenizer.count_words(texts.clone())?;
    let words = before.split_words(add, min_count);
    let (extended, added) = tokenizer.with_words(&words)?;
    let after = extended.count_words(texts)?;

    let config_path = model.join(CONFIG_FILE);
    let mut config = BertConfig::from_file(&config_path)?;
    let old_vocab = config.vocab_size;
    // The new tokens' ids must be the new rows' indices.
    if let Some(first) = added.first()
        && extended.token_to_id(&first.word) != Some(old_vocab as u32)
    {
        return Err(burnish_encoder::EncoderError::ConfigValue {
            path: config_path,
            field: "vocab_size",
            reason: format!(
                "{old_vocab}, but the tokenizer's ids run to {} (extend a model whose \
                 embeddings have one row per token of its vocabulary)",
                extended.token_to_id(&first.word).unwrap_or(0)
            ),
        }
        .into());
    }
    let mut checkpoint = Checkpoint::from_dir(model)?;
    let tied = &config.family.heads.tied_decoder;
    let mut resized = Vec::new();
    for (name, data) in checkpoint.tensors.iter_mut() {
        let is_table = name.ends_with("word_embeddings.weight") || name == tied.weight;
        let is_bias = name == tied.bias || Some(name.as_str()) == tied.bias_alias;
        if !(is_table || is_bias) || data.shape()[0] != old_vocab {
            continue;
        }
        *data = with_mean_rows(data, &added).map_err(|reason| {
            burnish_encoder::EncoderError::Serialize {
                path: checkpoint.path.clone(),
                reason: format!("{name}: {reason}"),
            }
        })?;
        resized.push(name.clone());
    }
    if !resized
        .iter()
        .any(|n| n.ends_with("word_embeddings.weight"))
    {
        return Err(burnish_encoder::EncoderError::MissingTensors {
            path: checkpoint.path.clone(),
            tensors: vec![format!("word_embeddings.weight with {old_vocab} rows")],
        }
        .into());
    }
    config.vocab_size = old_vocab + added.len();
    std::fs::create_dir_all(out).map_err(|source| Error::Io {
        path: out.to_path_buf(),
        source,
    })?;
    let tensors: Vec<(String, TensorData)> = checkpoint.tensors.into_iter().collect();
    write_safetensors(&out.join(SAFETENSORS_FILE), &tensors)?;
    config.save(out.join(CONFIG_FILE))?;
    extended.save_dir(out)?;
    Ok(VocabExtension {
        added,
        tokens_per_word: (before.tokens_per_word(), after.tokens_per_word()),
        vocab_size: (old_vocab, config.vocab_size),
        resized,
    })
}

/// `data` (`[vocab, ...]`, f32) with one row per word appended: the mean of its pieces' rows.
fn with_mean_rows(
    data: &TensorData,
    words: &[SplitWord],
) -> std::result::Result<TensorData, String> {
    let shape = data.shape().to_vec();
    let width: usize = shape[1..].iter().product();
    let mut values = data
        .clone()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| format!("{e:?}"))?;
    for word in words {
        let mut row = vec![0.0f32; width];
        for &piece in &word.pieces {
            let start = piece as usize * width;
            let piece_row = values
                .get(start..start + width)
                .ok_or_else(|| format!("piece id {piece} is past the table's {} rows", shape[0]))?;
            for (r, v) in row.iter_mut().zip(piece_row) {
                *r += v / word.pieces.len() as f32;
            }
        }
        values.extend(row);
    }
    let mut new_shape = shape;
    new_shape[0] += words.len();
    Ok(TensorData::new(values, new_shape))
}
