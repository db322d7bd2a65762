//! Token classification features: sentences of words (and their tags) become sub-word ids and
//! per-token labels.
//!
//! - Words are tokenized one by one (`is_split_into_words` in `transformers`), so each token
//!   knows its word ([`TokenFeature::word_ids`]).
//! - The first sub-word of each word carries the word's label; the others carry
//!   [`IGNORE_INDEX`] (skipped by the loss), or, with [`SubwordLabels::All`], the word's label
//!   too (`B-X` continued as `I-X`, like `label_all_tokens` in `transformers`' `run_ner.py`).
//! - A sentence longer than the model's positions is split into consecutive windows at word
//!   boundaries, each as long as fits: every word is labelled exactly once, nothing is cut.
//!   (Only a single word longer than a whole window loses its trailing sub-words; its label
//!   sits on the first one.)

use std::path::Path;

use burnish_tokenizer::{EncodeOptions, Tokenizer, TruncationStrategy};

use crate::conll::TaggedSentence;
use crate::error::{DataError, Result};
use crate::labels::LabelMap;

/// The label of tokens the loss ignores (special tokens, continuation sub-words).
pub const IGNORE_INDEX: i64 = -100;

/// Which sub-words of a word carry its label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SubwordLabels {
    /// Only the first sub-word; the rest are [`IGNORE_INDEX`] (`transformers`' default).
    #[default]
    First,
    /// Every sub-word (continuations of a `B-X` word get `I-X`).
    All,
}

/// One sentence to featurize.
#[derive(Debug, Clone, Copy)]
pub struct WordsInput<'a> {
    /// The words.
    pub words: &'a [String],
    /// The words' tag ids (as long as `words`), or `None` for prediction.
    pub tags: Option<&'a [u32]>,
    /// The 1-based line of the sentence in its file (for errors).
    pub line: usize,
}

/// How sentences become features.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenFeatureOptions {
    /// The most tokens a window may have, special tokens included.
    pub max_length: usize,
    /// Which sub-words carry labels.
    pub subword_labels: SubwordLabels,
    /// For [`SubwordLabels::All`]: the tag id a continuation sub-word gets, indexed by its
    /// word's tag id (`B-X` -> `I-X`). Empty means the word's own tag.
    pub continuation: Vec<u32>,
}

impl TokenFeatureOptions {
    /// First-sub-word labels in windows of `max_length` tokens.
    pub fn new(max_length: usize) -> Self {
        Self {
            max_length,
            subword_labels: SubwordLabels::First,
            continuation: Vec::new(),
        }
    }
}

/// One window of one sentence, ready to batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenFeature {
    /// Token ids, special tokens included.
    pub ids: Vec<u32>,
    /// Segment ids (all 0).
    pub type_ids: Vec<u32>,
    /// Per-token labels: a tag id, or [`IGNORE_INDEX`]; all [`IGNORE_INDEX`] without tags.
    pub labels: Vec<i64>,
    /// Per token, the index of its word in the whole sentence; `None` for special tokens.
    pub word_ids: Vec<Option<usize>>,
    /// Index of the sentence in the input.
    pub sentence: usize,
}

impl TokenFeature {
    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no tokens.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// The features of a set of sentences.
#[derive(Debug, Clone, Default)]
pub struct TokenFeatures {
    /// The windows, sentence by sentence, in order.
    pub features: Vec<TokenFeature>,
    /// How many sentences needed more than one window.
    pub split_sentences: usize,
    /// How many words produced no token at all (e.g. only characters the normaliser drops);
    /// they are predicted `O`.
    pub empty_words: usize,
    /// How many sentences had no words (no feature is made for them).
    pub empty_sentences: usize,
}

/// The labelled windows of tagged sentences (as [`NerDataset`](crate::NerDataset) reads them),
/// each tag given its id in `tags`: what training and evaluating a token classifier both read.
///
/// # Errors
/// [`DataError::UnknownLabel`] for a tag `tags` lacks, naming `path` and the sentence's line;
/// as [`token_features`] otherwise.
pub fn tagged_features(
    tokenizer: &Tokenizer,
    sentences: &[TaggedSentence],
    tags: &LabelMap,
    options: &TokenFeatureOptions,
    path: &Path,
) -> Result<TokenFeatures> {
    let ids: Vec<Vec<u32>> = sentences
        .iter()
        .map(|s| {
            s.tags
                .iter()
                .map(|tag| tags.lookup(tag, path, s.line))
                .collect::<Result<Vec<u32>>>()
        })
        .collect::<Result<_>>()?;
    let inputs: Vec<WordsInput<'_>> = sentences
        .iter()
        .zip(&ids)
        .map(|(s, t)| WordsInput {
            words: &s.tokens,
            tags: Some(t),
            line: s.line,
        })
        .collect();
    token_features(tokenizer, &inputs, options, path)
}

/// Tokenizes sentences of words into labelled windows.
///
/// # Errors
/// [`DataError::Tokenize`] naming `path` and the sentence's line;
/// [`DataError::InvalidOptions`] if `max_length` leaves no room for a word or tags and words
/// differ in length.
pub fn token_features(
    tokenizer: &Tokenizer,
    sentences: &[WordsInput<'_>],
    options: &TokenFeatureOptions,
    path: &Path,
) -> Result<TokenFeatures> {
    let added = tokenizer.num_special_tokens(false);
    if options.max_length <= added {
        return Err(DataError::options(format!(
            "max length {} leaves no room for words after {added} special tokens",
            options.max_length
        )));
    }
    let room = options.max_length - added;
    let bare = EncodeOptions {
        truncation: TruncationStrategy::DoNotTruncate,
        add_special_tokens: false,
        ..EncodeOptions::default()
    };
    let windowed = EncodeOptions {
        max_length: Some(options.max_length),
        truncation: TruncationStrategy::LongestFirst,
        ..EncodeOptions::default()
    };
    let tokenize_error = |line: usize, source| DataError::Tokenize {
        path: path.to_path_buf(),
        line,
        source,
    };

    let mut out = TokenFeatures::default();
    for (index, sentence) in sentences.iter().enumerate() {
        if let Some(tags) = sentence.tags
            && tags.len() != sentence.words.len()
        {
            return Err(DataError::options(format!(
                "{}:{}: {} words but {} tags",
                path.display(),
                sentence.line,
                sentence.words.len(),
                tags.len()
            )));
        }
        if sentence.words.is_empty() {
            out.empty_sentences += 1;
            continue;
        }
        let words: Vec<&str> = sentence.words.iter().map(String::as_str).collect();
        // Tokens per word, from one pass over the whole sentence.
        let whole = tokenizer
            .encode_words(&words, &bare)
            .map_err(|e| tokenize_error(sentence.line, e))?;
        let mut counts = vec![0usize; words.len()];
        for w in whole.word_ids.iter().flatten() {
            counts[*w as usize] += 1;
        }
        out.empty_words += counts.iter().filter(|&&c| c == 0).count();

        // Greedy windows of whole words.
        let mut windows = Vec::new();
        let (mut start, mut used) = (0usize, 0usize);
        for (w, &count) in counts.iter().enumerate() {
            if used + count > room && w > start {
                windows.push(start..w);
                start = w;
                used = 0;
            }
            used += count;
        }
        windows.push(start..words.len());
        if windows.len() > 1 {
            out.split_sentences += 1;
        }

        for window in windows {
            let encoding = tokenizer
                .encode_words(&words[window.clone()], &windowed)
                .map_err(|e| tokenize_error(sentence.line, e))?;
            let word_ids: Vec<Option<usize>> = encoding
                .word_ids
                .iter()
                .map(|w| w.map(|w| w as usize + window.start))
                .collect();
            let mut labels = vec![IGNORE_INDEX; word_ids.len()];
            if let Some(tags) = sentence.tags {
                let mut previous = None;
                for (label, word) in labels.iter_mut().zip(&word_ids) {
                    let Some(word) = *word else {
                        previous = None;
                        continue;
                    };
                    let tag = tags[word];
                    if previous != Some(word) {
                        *label = i64::from(tag);
                    } else if options.subword_labels == SubwordLabels::All {
                        let continued = options
                            .continuation
                            .get(tag as usize)
                            .copied()
                            .unwrap_or(tag);
                        *label = i64::from(continued);
                    }
                    previous = Some(word);
                }
            }
            out.features.push(TokenFeature {
                type_ids: encoding.type_ids,
                ids: encoding.ids,
                labels,
                word_ids,
                sentence: index,
            });
        }
    }
    Ok(out)
}
