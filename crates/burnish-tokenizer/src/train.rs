//! Training a BERT WordPiece vocabulary on text files.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use tokenizers::AddedToken;
use tokenizers::models::TrainerWrapper;
use tokenizers::models::bpe::{BPE, BpeTrainer};
use tokenizers::models::wordpiece::{WordPiece, WordPieceTrainer};
use tokenizers::normalizers::BertNormalizer;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::processors::bert::BertProcessing;

use crate::Tokenizer;
use crate::config::SpecialTokens;
use crate::error::{Result, TokenizerError};
use crate::load::{CONTINUING_SUBWORD_PREFIX, bert_pipeline};

/// How to train a WordPiece vocabulary; the defaults are those of the `tokenizers` Python
/// package's `BertWordPieceTokenizer.train`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WordPieceTrainOptions {
    /// Size of the vocabulary to learn, special tokens included (default 30 522, BERT's).
    pub vocab_size: usize,
    /// A pair must occur this many times to be merged into a new token (default 2).
    pub min_frequency: u64,
    /// Lowercase the text (default `true`).
    pub lowercase: bool,
    /// Remove accents; `None` follows `lowercase` (default `None`).
    pub strip_accents: Option<bool>,
    /// The special tokens, given ids 0, 1, 2, ... in this order. Must hold `[PAD]`, `[UNK]`,
    /// `[CLS]`, `[SEP]` and `[MASK]`; may hold more. Default: those five, so `[PAD]` is 0.
    pub special_tokens: Vec<String>,
    /// Keep at most this many distinct characters in the initial alphabet (default 1000).
    pub limit_alphabet: Option<usize>,
    /// Draw progress bars on the terminal (default `false`).
    pub show_progress: bool,
}

impl Default for WordPieceTrainOptions {
    fn default() -> Self {
        let special = SpecialTokens::default();
        Self {
            vocab_size: 30_522,
            min_frequency: 2,
            lowercase: true,
            strip_accents: None,
            special_tokens: vec![
                special.pad,
                special.unk,
                special.cls,
                special.sep,
                special.mask,
            ],
            limit_alphabet: Some(1000),
            show_progress: false,
        }
    }
}

/// Trains a BERT WordPiece tokenizer on text files, one or more sentences a line; files whose
/// name ends in `.gz` are decompressed on the fly.
///
/// The result has the whole BERT pipeline (as [`Tokenizer::from_vocab`] builds it): the
/// `BertNormalizer` with the asked lowercasing and accent stripping, the `BertPreTokenizer`,
/// the post-processor with the trained ids of `[CLS]` and `[SEP]`, and the WordPiece decoder.
/// Its `model_max_length` is unknown; set it with [`Tokenizer::set_model_max_length`].
///
/// # Errors
/// [`TokenizerError::InvalidTrainOptions`] for no files, a missing or repeated special token, or
/// a vocabulary size not above the number of special tokens; [`TokenizerError::Io`] if a file
/// cannot be opened; [`TokenizerError::Line`] if a line cannot be read (e.g. it is not UTF-8);
/// [`TokenizerError::Train`] if the trainer fails.
pub fn train_wordpiece(files: &[PathBuf], options: &WordPieceTrainOptions) -> Result<Tokenizer> {
    let special = validate(files, options)?;

    let model = WordPiece::builder()
        .unk_token(special.unk.clone())
        .continuing_subword_prefix(CONTINUING_SUBWORD_PREFIX.into())
        .build()
        .map_err(|source| TokenizerError::Train { source })?;
    let mut inner = bert_pipeline(
        model,
        BertNormalizer::new(true, true, options.strip_accents, options.lowercase),
    );
    let mut trainer = WordPieceTrainer::builder()
        .vocab_size(options.vocab_size)
        .min_frequency(options.min_frequency)
        .special_tokens(
            options
                .special_tokens
                .iter()
                .map(|token| AddedToken::from(token.clone(), true))
                .collect(),
        )
        .continuing_subword_prefix(CONTINUING_SUBWORD_PREFIX.into())
        .show_progress(options.show_progress)
        .build();
    trainer.set_limit_alphabet(options.limit_alphabet);
    train_on_files(&mut inner, trainer.into(), files)?;

    let id = |token: &str| {
        inner
            .token_to_id(token)
            .ok_or_else(|| TokenizerError::InvalidTrainOptions {
                reason: format!("the trained vocabulary lacks the special token `{token}`"),
            })
    };
    let (cls_id, sep_id) = (id(&special.cls)?, id(&special.sep)?);
    inner.with_post_processor(Some(BertProcessing::new(
        (special.sep.clone(), sep_id),
        (special.cls.clone(), cls_id),
    )));

    Ok(Tokenizer::assemble(inner, special, None, (None, None)))
}

/// Checks the options; returns the special tokens' roles.
fn validate(files: &[PathBuf], options: &WordPieceTrainOptions) -> Result<SpecialTokens> {
    let invalid = |reason: String| TokenizerError::InvalidTrainOptions { reason };
    if files.is_empty() {
        return Err(invalid("no training files".into()));
    }
    let special = SpecialTokens::default();
    for (role, _, token) in special.roles() {
        if !options.special_tokens.iter().any(|t| t == token) {
            return Err(invalid(format!(
                "special_tokens must hold the {role} token `{token}`"
            )));
        }
    }
    for (i, token) in options.special_tokens.iter().enumerate() {
        if options.special_tokens[..i].contains(token) {
            return Err(invalid(format!("special token `{token}` is listed twice")));
        }
    }
    if options.vocab_size <= options.special_tokens.len() {
        return Err(invalid(format!(
            "vocab_size {} leaves no room beside the {} special tokens",
            options.vocab_size,
            options.special_tokens.len()
        )));
    }
    Ok(special)
}

/// How to train a GPT-2-style byte-level BPE tokenizer ([`train_byte_level_bpe`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByteLevelBpeTrainOptions {
    /// Size of the vocabulary: the 256 byte symbols, the special token and the merges.
    pub vocab_size: usize,
    /// A pair is merged only if it occurs at least this often.
    pub min_frequency: u64,
    /// The one special token (GPT-2's `<|endoftext|>`): it starts and ends documents, pads,
    /// and is the unknown token.
    pub special_token: String,
    /// Show `tokenizers`' progress bar.
    pub show_progress: bool,
}

impl Default for ByteLevelBpeTrainOptions {
    fn default() -> Self {
        Self {
            vocab_size: 50_257,
            min_frequency: 2,
            special_token: "<|endoftext|>".into(),
            show_progress: false,
        }
    }
}

/// Trains a byte-level BPE tokenizer on text files (`.txt`, `.jsonl` with a `text` field, either
/// gzip-compressed), as GPT-2's: the byte-level pre-tokenizer (no prefix space) and decoder,
/// every byte in the initial alphabet (so nothing is ever unknown), no special tokens added
/// when encoding, and `options.special_token` (id 0) as beginning, end, unknown and padding
/// token. Saved with [`Tokenizer::save_dir`], `transformers` loads it as `GPT2TokenizerFast`.
///
/// # Errors
/// [`TokenizerError::InvalidTrainOptions`] for no files or a vocabulary too small for the 256
/// bytes and the special token; [`TokenizerError::Io`] naming a file that cannot be read;
/// [`TokenizerError::Train`] if training fails.
pub fn train_byte_level_bpe(
    files: &[PathBuf],
    options: &ByteLevelBpeTrainOptions,
) -> Result<Tokenizer> {
    let invalid = |reason: String| TokenizerError::InvalidTrainOptions { reason };
    if files.is_empty() {
        return Err(invalid("no training files".into()));
    }
    if options.vocab_size <= 257 {
        return Err(invalid(format!(
            "vocab_size {} leaves no room for merges beside the 256 bytes and `{}`",
            options.vocab_size, options.special_token
        )));
    }
    let mut inner = tokenizers::Tokenizer::new(BPE::default());
    inner.with_pre_tokenizer(Some(ByteLevel::new(false, true, true)));
    inner.with_decoder(Some(ByteLevel::default()));
    // GPT2TokenizerFast's post-processor: offsets only, nothing added, not trimmed.
    inner.with_post_processor(Some(ByteLevel::new(true, false, true)));
    let trainer = BpeTrainer::builder()
        .vocab_size(options.vocab_size)
        .min_frequency(options.min_frequency)
        .special_tokens(vec![AddedToken::from(options.special_token.clone(), true)])
        .initial_alphabet(ByteLevel::alphabet().into_iter().collect())
        .show_progress(options.show_progress)
        .build();
    train_on_files(&mut inner, trainer.into(), files)?;

    let token = options.special_token.clone();
    let special = SpecialTokens {
        unk: token.clone(),
        cls: token.clone(),
        sep: token.clone(),
        pad: token.clone(),
        // GPT-2 has no mask token; this one is not in the vocabulary.
        mask: "<mask>".into(),
    };
    let mut tokenizer = Tokenizer::assemble(inner, special, None, (None, None));
    // What `transformers` needs to rebuild it as GPT2TokenizerFast.
    let config = serde_json::json!({
        "tokenizer_class": "GPT2Tokenizer",
        "add_prefix_space": false,
        "bos_token": token,
        "eos_token": token,
        "unk_token": token,
        "pad_token": token,
        "clean_up_tokenization_spaces": false,
    });
    tokenizer.config_json = config.as_object().cloned();
    Ok(tokenizer)
}

/// Trains `inner`'s model with `trainer` on the lines of `files`.
///
/// # Errors
/// A read error ends the corpus early: it is reported rather than the (partial) training.
/// Otherwise the trainer's error.
fn train_on_files(
    inner: &mut tokenizers::Tokenizer,
    mut trainer: TrainerWrapper,
    files: &[PathBuf],
) -> Result<()> {
    let mut lines = CorpusLines::new(files);
    let trained = inner.train(&mut trainer, &mut lines).map(|_| ());
    if let Some(error) = lines.error {
        return Err(error);
    }
    trained.map_err(|source| TokenizerError::Train { source })
}

/// The lines of a list of files, read one at a time. A read error ends the iteration and is kept
/// in `error` (the trainer's iterator cannot fail).
struct CorpusLines<'a> {
    files: std::slice::Iter<'a, PathBuf>,
    current: Option<(&'a Path, Box<dyn BufRead + Send>)>,
    line: usize,
    buffer: String,
    error: Option<TokenizerError>,
}

impl<'a> CorpusLines<'a> {
    fn new(files: &'a [PathBuf]) -> Self {
        Self {
            files: files.iter(),
            current: None,
            line: 0,
            buffer: String::new(),
            error: None,
        }
    }

    /// Opens `path`, through a gzip decoder if its name ends in `.gz`.
    fn open(path: &Path) -> Result<Box<dyn BufRead + Send>> {
        let file = File::open(path).map_err(|e| TokenizerError::io(path, e))?;
        let gzipped = path.extension().is_some_and(|ext| ext == "gz");
        Ok(if gzipped {
            Box::new(BufReader::new(MultiGzDecoder::new(file)))
        } else {
            Box::new(BufReader::new(file))
        })
    }
}

impl Iterator for CorpusLines<'_> {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        if self.error.is_some() {
            return None;
        }
        loop {
            let Some((path, reader)) = &mut self.current else {
                let path = self.files.next()?;
                match Self::open(path) {
                    Ok(reader) => self.current = Some((path, reader)),
                    Err(error) => {
                        self.error = Some(error);
                        return None;
                    }
                }
                self.line = 0;
                continue;
            };
            self.buffer.clear();
            self.line += 1;
            match reader.read_line(&mut self.buffer) {
                Ok(0) => self.current = None,
                Ok(_) => return Some(self.buffer.clone()),
                Err(source) => {
                    self.error = Some(TokenizerError::Line {
                        path: path.to_path_buf(),
                        line: self.line,
                        source,
                    });
                    return None;
                }
            }
        }
    }
}
