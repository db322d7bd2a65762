//! The tokenizer crate's error type.

use std::path::PathBuf;

/// The error type of the `tokenizers` crate: a boxed error (a JSON error, a model error, ...).
pub type HfError = Box<dyn std::error::Error + Send + Sync>;

/// Everything that can go wrong while loading, using, saving or training a tokenizer.
///
/// Every variant that concerns a file names it, and the line or field where there is one.
#[derive(Debug, thiserror::Error)]
pub enum TokenizerError {
    /// The model folder given to [`Tokenizer::from_dir`](crate::Tokenizer::from_dir) does not exist.
    #[error("{dir}: tokenizer folder not found")]
    DirNotFound {
        /// The folder.
        dir: PathBuf,
    },
    /// The model folder holds neither `tokenizer.json`, `vocab.txt` nor `vocab.json` +
    /// `merges.txt`.
    #[error(
        "{dir}: no tokenizer found (expected tokenizer.json, vocab.txt, or vocab.json + merges.txt)"
    )]
    NoTokenizerFiles {
        /// The folder.
        dir: PathBuf,
    },
    /// The model folder holds a SentencePiece model (XLM-RoBERTa's and CamemBERT's
    /// `sentencepiece.bpe.model`, ...) but no `tokenizer.json`: burnish reads the fast
    /// tokenizer's `tokenizer.json`, which `transformers` converts from it.
    #[error(
        "{dir}: only a SentencePiece model ({file}), no tokenizer.json; burnish reads \
         tokenizer.json, which transformers writes from it. In Python (with the sentencepiece \
         and protobuf packages): `AutoTokenizer.from_pretrained(dir).save_pretrained(dir)` \
         (XLM-RoBERTa: `XLMRobertaTokenizerFast.from_pretrained(dir).save_pretrained(dir)`, \
         CamemBERT: `CamembertTokenizerFast`)"
    )]
    SentencePieceOnly {
        /// The folder.
        dir: PathBuf,
        /// The SentencePiece model's file name.
        file: String,
    },
    /// A file could not be opened, read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A JSON file is malformed, or does not have the expected shape (the message carries the
    /// line and column).
    #[error("{path}: invalid JSON: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// The `tokenizers` crate rejected a tokenizer (a `tokenizer.json` that is valid JSON, or a
    /// pipeline built from a vocabulary).
    #[error("{path}: invalid tokenizer: {source}")]
    InvalidTokenizer {
        /// The file.
        path: PathBuf,
        /// The error from the `tokenizers` crate.
        #[source]
        source: HfError,
    },
    /// A field of a configuration file (`tokenizer_config.json`, `special_tokens_map.json`,
    /// `tokenizer.json`) has an unusable value.
    #[error("{path}: invalid field `{field}`: {reason}")]
    ConfigField {
        /// The configuration file.
        path: PathBuf,
        /// The offending field.
        field: String,
        /// Why it is unusable.
        reason: String,
    },
    /// The vocabulary file has no tokens.
    #[error("{path}: empty vocabulary")]
    EmptyVocab {
        /// The vocabulary file.
        path: PathBuf,
    },
    /// A line of a text file (a vocabulary or a training corpus) could not be read, e.g. because
    /// it is not valid UTF-8.
    #[error("{path}, line {line}: {source}")]
    Line {
        /// The file.
        path: PathBuf,
        /// The line number, starting at 1.
        line: usize,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A special token the pipeline needs (`[CLS]`, `[SEP]`, `[UNK]`, ...) is not in the vocabulary.
    #[error("{path}: the vocabulary has no {role} token `{token}`")]
    MissingSpecialToken {
        /// The vocabulary file (or a description of where the vocabulary came from).
        path: PathBuf,
        /// The token's role: `unk`, `cls`, `sep`, `pad` or `mask`.
        role: &'static str,
        /// The token's text.
        token: String,
    },
    /// The encoding options are contradictory or out of range.
    #[error("invalid encoding options: {reason}")]
    InvalidOptions {
        /// What is wrong.
        reason: String,
    },
    /// An input cannot be truncated as asked (e.g. `OnlySecond` on a single sequence, or the
    /// sequence to truncate is shorter than the excess).
    #[error("input {input}: cannot truncate: {reason}")]
    Truncation {
        /// The input's index in its batch (0 for a single call).
        input: usize,
        /// Why not.
        reason: String,
    },
    /// Padding was asked for but the tokenizer has no padding token.
    #[error("cannot pad: the vocabulary has no pad token `{token}`")]
    NoPadToken {
        /// The configured pad token.
        token: String,
    },
    /// `Padding::Fixed(n)` was asked for but a row is longer than `n` (truncate first).
    #[error("row {row} has {len} tokens, more than the fixed padding length {fixed}")]
    RowTooLong {
        /// The row's index in the batch (after overflow windows are flattened).
        row: usize,
        /// The row's length.
        len: usize,
        /// The fixed length asked for.
        fixed: usize,
    },
    /// The `tokenizers` crate failed to encode an input.
    #[error("input {input}: encoding failed: {source}")]
    Encode {
        /// The input's index in its batch (0 for a single call).
        input: usize,
        /// The error from the `tokenizers` crate.
        #[source]
        source: HfError,
    },
    /// The `tokenizers` crate failed to decode ids.
    #[error("decoding failed: {source}")]
    Decode {
        /// The error from the `tokenizers` crate.
        #[source]
        source: HfError,
    },
    /// The training options are out of range.
    #[error("invalid training options: {reason}")]
    InvalidTrainOptions {
        /// What is wrong.
        reason: String,
    },
    /// WordPiece training failed inside the `tokenizers` crate.
    #[error("training failed: {source}")]
    Train {
        /// The error from the `tokenizers` crate.
        #[source]
        source: HfError,
    },
    /// The tokenizer could not be saved (serialisation failed, or it cannot be written in the
    /// asked format).
    #[error("{path}: cannot save: {reason}")]
    Save {
        /// The file being written.
        path: PathBuf,
        /// Why not.
        reason: String,
    },
}

/// Short for `std::result::Result<T, TokenizerError>`.
pub type Result<T> = std::result::Result<T, TokenizerError>;

impl TokenizerError {
    /// An I/O error about `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    /// A bad field in a configuration file.
    pub(crate) fn field(
        path: impl Into<PathBuf>,
        field: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self::ConfigField {
            path: path.into(),
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// Bad encoding options.
    pub(crate) fn options(reason: impl Into<String>) -> Self {
        Self::InvalidOptions {
            reason: reason.into(),
        }
    }
}
