//! Tokenization for burnish: a thin, typed layer over the Hugging Face [`tokenizers`] crate.
//!
//! - Load a model folder in the Hugging Face layout ([`Tokenizer::from_dir`]): `tokenizer.json`
//!   when there is one, else the BERT WordPiece pipeline built from `vocab.txt` and
//!   `tokenizer_config.json`, exactly as `transformers`' `BertTokenizerFast` builds it.
//! - Encode single texts and pairs ([`Tokenizer::encode`], [`Tokenizer::encode_pair`]) with
//!   truncation, stride windows, offsets and word ids ([`EncodeOptions`], [`Encoding`]), or whole
//!   batches with padding ([`Tokenizer::encode_batch`]).
//! - Save in a layout `transformers.AutoTokenizer.from_pretrained` loads ([`Tokenizer::save_dir`]).
//! - Train a BERT WordPiece vocabulary on text files ([`train_wordpiece`]); extend one with a
//!   corpus's words ([`Tokenizer::count_words`], [`Tokenizer::with_words`]).
//!
//! This crate does not depend on burn.

#![warn(missing_docs)]

mod config;
mod encode;
mod error;
mod extend;
mod load;
mod save;
mod train;

pub use config::{
    BertTokenizerOptions, SPECIAL_TOKENS_MAP_FILE, SpecialTokens, TOKENIZER_CONFIG_FILE, json_kind,
};
pub use encode::{
    BatchEncoding, EncodeOptions, Encoding, Input, Padding, TruncationStrategy, split_words,
};
pub use error::{HfError, Result, TokenizerError};
pub use extend::{SplitWord, WordCounts};
pub use load::{BPE_MERGES_FILE, BPE_VOCAB_FILE, SENTENCEPIECE_FILES, TOKENIZER_FILE, VOCAB_FILE};
pub use train::{
    ByteLevelBpeTrainOptions, WordPieceTrainOptions, train_byte_level_bpe, train_wordpiece,
};

use serde_json::{Map, Value};
use tokenizers::models::ModelWrapper;
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::{PaddingParams, TruncationParams};

/// A loaded (or trained) tokenizer with its special tokens and maximum length.
///
/// It is immutable once built and cheap to share: every method takes `&self`, and it is `Send`
/// and `Sync`. Truncation and padding are per call ([`EncodeOptions`], [`Padding`]), never state.
#[derive(Clone)]
pub struct Tokenizer {
    /// The `tokenizers` pipeline, always with truncation and padding turned off.
    inner: tokenizers::Tokenizer,
    /// The same pipeline without its post-processor: the first step of encoding, before
    /// truncation. (`tokenizers`' `encode` runs the post-processor even without special tokens,
    /// and RoBERTa's / byte-level's trim offsets there, so post-processing again after
    /// truncating would trim them twice.)
    unprocessed: tokenizers::Tokenizer,
    /// `unprocessed` for text already split into words ([`Tokenizer::encode_words`]): a
    /// byte-level pre-tokenizer (RoBERTa, GPT-2) adds a prefix space to every word, as
    /// `transformers` does with `is_split_into_words=True` (which requires
    /// `add_prefix_space=True` for these tokenizers); other pipelines as `unprocessed`.
    words: tokenizers::Tokenizer,
    /// The special tokens' text.
    special: SpecialTokens,
    /// The longest input the model accepts, if known.
    model_max_length: Option<usize>,
    /// `tokenizer_config.json` as it was loaded, so that saving keeps keys this crate ignores.
    config_json: Option<Map<String, Value>>,
    /// The truncation `tokenizer.json` had when it was loaded; written back on save.
    file_truncation: Option<TruncationParams>,
    /// The padding `tokenizer.json` had when it was loaded; written back on save.
    file_padding: Option<PaddingParams>,
}

impl std::fmt::Debug for Tokenizer {
    /// A summary: the whole pipeline (with its vocabulary) would be tens of thousands of lines.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let model = match self.inner.get_model() {
            ModelWrapper::BPE(_) => "BPE",
            ModelWrapper::WordPiece(_) => "WordPiece",
            ModelWrapper::WordLevel(_) => "WordLevel",
            ModelWrapper::Unigram(_) => "Unigram",
        };
        f.debug_struct("Tokenizer")
            .field("model", &model)
            .field("vocab_size", &self.vocab_size())
            .field("special", &self.special)
            .field("model_max_length", &self.model_max_length)
            .finish_non_exhaustive()
    }
}

impl Tokenizer {
    /// A tokenizer around a `tokenizers` pipeline (truncation and padding already off).
    fn assemble(
        inner: tokenizers::Tokenizer,
        special: SpecialTokens,
        model_max_length: Option<usize>,
        file_settings: (Option<TruncationParams>, Option<PaddingParams>),
    ) -> Self {
        let mut unprocessed = inner.clone();
        unprocessed.with_post_processor(None::<tokenizers::PostProcessorWrapper>);
        let mut words = unprocessed.clone();
        let byte_level = match words.get_pre_tokenizer() {
            Some(PreTokenizerWrapper::ByteLevel(byte_level)) => Some(*byte_level),
            _ => None,
        };
        if let Some(byte_level) = byte_level {
            let with_space = byte_level.add_prefix_space(true);
            words.with_pre_tokenizer(Some(PreTokenizerWrapper::ByteLevel(with_space)));
        }
        Self {
            inner,
            unprocessed,
            words,
            special,
            model_max_length,
            config_json: None,
            file_truncation: file_settings.0,
            file_padding: file_settings.1,
        }
    }

    /// Number of distinct tokens, added tokens included (Python's `len(tokenizer)`).
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// The id of `token`, if it is in the vocabulary.
    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    /// The token with id `id`, if there is one.
    pub fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }

    /// The special tokens' text.
    pub fn special_tokens(&self) -> &SpecialTokens {
        &self.special
    }

    /// The id of the padding token (`[PAD]`), if the vocabulary has it.
    pub fn pad_id(&self) -> Option<u32> {
        self.token_to_id(&self.special.pad)
    }

    /// The id of the classification token (`[CLS]`), if the vocabulary has it.
    pub fn cls_id(&self) -> Option<u32> {
        self.token_to_id(&self.special.cls)
    }

    /// The id of the separator token (`[SEP]`), if the vocabulary has it.
    pub fn sep_id(&self) -> Option<u32> {
        self.token_to_id(&self.special.sep)
    }

    /// The id of the mask token (`[MASK]`), if the vocabulary has it.
    pub fn mask_id(&self) -> Option<u32> {
        self.token_to_id(&self.special.mask)
    }

    /// The id of the unknown token (`[UNK]`), if the vocabulary has it.
    pub fn unk_id(&self) -> Option<u32> {
        self.token_to_id(&self.special.unk)
    }

    /// The longest input (in tokens, special tokens included) the model accepts, from
    /// `tokenizer_config.json`'s `model_max_length`; `None` when unknown.
    pub fn model_max_length(&self) -> Option<usize> {
        self.model_max_length
    }

    /// Sets (or clears) the longest input the model accepts; saved as `model_max_length`.
    pub fn set_model_max_length(&mut self, length: Option<usize>) {
        self.model_max_length = length;
    }

    /// Whether the model is WordPiece (BERT-style vocabulary with `##` continuations).
    pub fn is_wordpiece(&self) -> bool {
        matches!(self.inner.get_model(), ModelWrapper::WordPiece(_))
    }

    /// Turns ids back into text. With `skip_special_tokens`, special tokens (`[CLS]`, `[PAD]`,
    /// ...) are left out. Unknown ids are skipped.
    ///
    /// # Errors
    /// [`TokenizerError::Decode`] if the decoder fails.
    pub fn decode(&self, ids: &[u32], skip_special_tokens: bool) -> Result<String> {
        self.inner
            .decode(ids, skip_special_tokens)
            .map_err(|source| TokenizerError::Decode { source })
    }

    /// The underlying `tokenizers` pipeline (truncation and padding turned off), for what this
    /// crate does not wrap.
    pub fn hf(&self) -> &tokenizers::Tokenizer {
        &self.inner
    }
}
