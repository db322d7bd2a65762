//! Encoding: single texts and pairs, truncation with stride windows, batches with padding.

use tokenizers::utils::parallelism::MaybeParallelIterator;
use tokenizers::utils::truncation::TruncationDirection;
use tokenizers::{Encoding as HfEncoding, PostProcessor};

use crate::Tokenizer;
use crate::error::{Result, TokenizerError};

/// Which sequence to shorten when an input is longer than the maximum length; the same choices
/// as `transformers`' `truncation=` argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TruncationStrategy {
    /// Take tokens from the longer sequence of a pair until both fit, splitting the room evenly
    /// when both are long (`"longest_first"`, `truncation=True`).
    #[default]
    LongestFirst,
    /// Only shorten the first sequence (`"only_first"`).
    OnlyFirst,
    /// Only shorten the second sequence of a pair (`"only_second"`), e.g. the context in
    /// question answering.
    OnlySecond,
    /// Never truncate (`"do_not_truncate"`, `truncation=False`).
    DoNotTruncate,
}

/// How to encode an input.
///
/// The default truncates with [`TruncationStrategy::LongestFirst`] to the model's maximum
/// length (when known), adds the special tokens and drops the overflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeOptions {
    /// The most tokens an encoding may have, special tokens included. `None` means the
    /// tokenizer's [`model_max_length`](Tokenizer::model_max_length); when that is unknown too,
    /// nothing is truncated.
    pub max_length: Option<usize>,
    /// Which sequence to shorten.
    pub truncation: TruncationStrategy,
    /// How many tokens consecutive overflow windows share (only used with
    /// `return_overflowing`). Must be smaller than the room the truncated sequence gets.
    pub stride: usize,
    /// Keep what truncation cut off, as further windows in [`Encoding::overflowing`] (the
    /// truncated sequence advances by `room - stride` tokens a window; the other sequence of a
    /// pair is repeated in each window), like `return_overflowing_tokens=True`.
    pub return_overflowing: bool,
    /// Add `[CLS]` / `[SEP]` (or what the tokenizer's post-processor adds).
    pub add_special_tokens: bool,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        Self {
            max_length: None,
            truncation: TruncationStrategy::LongestFirst,
            stride: 0,
            return_overflowing: false,
            add_special_tokens: true,
        }
    }
}

/// One text or a pair of texts to encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input<'a> {
    /// A single sequence.
    Single(&'a str),
    /// A pair of sequences (sentence pair, question and context, ...).
    Pair(&'a str, &'a str),
}

impl<'a> From<&'a str> for Input<'a> {
    fn from(text: &'a str) -> Self {
        Self::Single(text)
    }
}

impl<'a> From<(&'a str, &'a str)> for Input<'a> {
    fn from((a, b): (&'a str, &'a str)) -> Self {
        Self::Pair(a, b)
    }
}

/// How [`Tokenizer::encode_batch`] pads its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding {
    /// No padding: rows keep their own length.
    None,
    /// Pad every row to the longest row of the batch.
    Longest,
    /// Pad every row to exactly this length (a longer row is an error: truncate first).
    Fixed(usize),
}

/// An encoded input. All the per-token vectors have the same length.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Encoding {
    /// Token ids.
    pub ids: Vec<u32>,
    /// Segment ids: 0 for the first sequence and its special tokens, 1 for the second sequence
    /// of a pair and its final `[SEP]`.
    pub type_ids: Vec<u32>,
    /// Token texts (`##` marks a continuation of the previous token's word).
    pub tokens: Vec<String>,
    /// 1 for real tokens, 0 for padding.
    pub attention_mask: Vec<u32>,
    /// Each token's span as **byte** offsets `(start, end)` into the original `&str` of the
    /// sequence it comes from (the second text of a pair for its tokens); `(0, 0)` for special
    /// and padding tokens. (Python's `offset_mapping` counts characters instead; the two agree
    /// on ASCII text.)
    pub offsets: Vec<(usize, usize)>,
    /// Index of the word (within its sequence) each token comes from; `None` for special and
    /// padding tokens. The sub-words of one word share an index.
    pub word_ids: Vec<Option<u32>>,
    /// Which sequence each token comes from (0 or 1); `None` for special and padding tokens.
    pub sequence_ids: Vec<Option<usize>>,
    /// 1 for special and padding tokens, 0 for tokens of the text.
    pub special_tokens_mask: Vec<u32>,
    /// The further windows over what truncation cut off, when
    /// [`EncodeOptions::return_overflowing`] is set; each window's own `overflowing` is empty.
    pub overflowing: Vec<Encoding>,
}

impl Encoding {
    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no tokens.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Converts a `tokenizers` encoding; its overflowing windows (flattened) only if `overflow`.
    ///
    /// A pair's second text enters post-processing with segment id 1, which only the first
    /// window gets replaced by the template's: where the template gives every token segment 0
    /// (XLM-RoBERTa's `<s> A </s></s> B </s>`, for models with one token type), the further
    /// windows get 0 too.
    fn from_hf(encoding: &HfEncoding, overflow: bool) -> Self {
        let untyped = encoding.get_type_ids().iter().all(|&t| t == 0);
        let overflowing = if overflow {
            encoding
                .get_overflowing()
                .iter()
                .map(|window| {
                    let mut window = Self::from_hf(window, false);
                    if untyped {
                        window.type_ids.fill(0);
                    }
                    window
                })
                .collect()
        } else {
            Vec::new()
        };
        Self {
            ids: encoding.get_ids().to_vec(),
            type_ids: encoding.get_type_ids().to_vec(),
            tokens: encoding.get_tokens().to_vec(),
            attention_mask: encoding.get_attention_mask().to_vec(),
            offsets: encoding.get_offsets().to_vec(),
            word_ids: encoding.get_word_ids().to_vec(),
            sequence_ids: encoding.get_sequence_ids(),
            special_tokens_mask: encoding.get_special_tokens_mask().to_vec(),
            overflowing,
        }
    }

    /// Appends padding tokens up to `len` (does nothing if already that long).
    fn pad_to(&mut self, len: usize, pad_id: u32, pad_token: &str) {
        let n = len.saturating_sub(self.len());
        self.ids.extend(std::iter::repeat_n(pad_id, n));
        self.type_ids.extend(std::iter::repeat_n(0, n));
        self.tokens
            .extend(std::iter::repeat_n(pad_token.to_owned(), n));
        self.attention_mask.extend(std::iter::repeat_n(0, n));
        self.offsets.extend(std::iter::repeat_n((0, 0), n));
        self.word_ids.extend(std::iter::repeat_n(None, n));
        self.sequence_ids.extend(std::iter::repeat_n(None, n));
        self.special_tokens_mask.extend(std::iter::repeat_n(1, n));
    }
}

/// A batch of encoded inputs, ready to become tensors.
///
/// With overflow windows, each window is its own row and [`BatchEncoding::sample_mapping`] says
/// which input it came from (Python's `overflow_to_sample_mapping`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BatchEncoding {
    /// Token ids, one row per encoding; rectangular unless [`Padding::None`] was asked for.
    pub ids: Vec<Vec<u32>>,
    /// Segment ids, same shape as `ids`.
    pub type_ids: Vec<Vec<u32>>,
    /// 1 for real tokens, 0 for padding, same shape as `ids`.
    pub attention_mask: Vec<Vec<u32>>,
    /// The rows' full encodings (padded like the matrices, with empty `overflowing`).
    pub encodings: Vec<Encoding>,
    /// For each row, the index of the input it encodes.
    pub sample_mapping: Vec<usize>,
}

impl BatchEncoding {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The length of the rows (of the longest row with [`Padding::None`]).
    pub fn seq_len(&self) -> usize {
        self.ids.iter().map(Vec::len).max().unwrap_or(0)
    }
}

/// Splits raw text into words as BERT's pre-tokenizer does (at whitespace, and every
/// punctuation character a word of its own), with each word's **byte** span in `text`.
///
/// These are the "words" of token classification on raw text (`burnish predict` for NER):
/// CoNLL-style data separates punctuation the same way.
pub fn split_words(text: &str) -> Vec<(String, (usize, usize))> {
    use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
    use tokenizers::{OffsetReferential, OffsetType, PreTokenizedString, PreTokenizer};
    let mut split = PreTokenizedString::from(text);
    if BertPreTokenizer.pre_tokenize(&mut split).is_err() {
        // BERT's pre-tokenizer cannot fail on a `&str`; fall back to whitespace anyway.
        let mut words = Vec::new();
        let mut start = None;
        for (i, c) in text
            .char_indices()
            .chain(std::iter::once((text.len(), ' ')))
        {
            match (c.is_whitespace(), start) {
                (true, Some(s)) => {
                    words.push((text[s..i].to_owned(), (s, i)));
                    start = None;
                }
                (false, None) => start = Some(i),
                _ => {}
            }
        }
        return words;
    }
    split
        .get_splits(OffsetReferential::Original, OffsetType::Byte)
        .into_iter()
        .map(|(_, (start, end), _)| (text[start..end].to_owned(), (start, end)))
        .collect()
}

/// What truncation does to one input.
struct Truncation {
    /// How many tokens of text fit (the maximum length minus the special tokens).
    room: usize,
    strategy: TruncationStrategy,
    /// Stride between windows (0 when overflow is not returned).
    stride: usize,
}

impl Tokenizer {
    /// Encodes one text.
    ///
    /// # Errors
    /// [`TokenizerError::InvalidOptions`] for unusable options (a `max_length` that leaves no
    /// room for text, a stride as long as the room), [`TokenizerError::Truncation`] if the text
    /// cannot be truncated as asked, [`TokenizerError::Encode`] if the `tokenizers` crate fails.
    pub fn encode(&self, text: &str, options: &EncodeOptions) -> Result<Encoding> {
        self.encode_input(Input::Single(text), options)
    }

    /// Encodes a pair of texts as `[CLS] a [SEP] b [SEP]` (type ids 0 then 1).
    ///
    /// # Errors
    /// As [`Tokenizer::encode`].
    pub fn encode_pair(&self, a: &str, b: &str, options: &EncodeOptions) -> Result<Encoding> {
        self.encode_input(Input::Pair(a, b), options)
    }

    /// Encodes a single text or a pair.
    ///
    /// # Errors
    /// As [`Tokenizer::encode`].
    pub fn encode_input(&self, input: Input<'_>, options: &EncodeOptions) -> Result<Encoding> {
        self.encode_at(input, options, 0)
    }

    /// How many special tokens encoding adds to a single text (`pair = false`) or a pair: 2 and
    /// 3 for BERT's `[CLS] a [SEP]` / `[CLS] a [SEP] b [SEP]`.
    pub fn num_special_tokens(&self, pair: bool) -> usize {
        self.inner
            .get_post_processor()
            .map_or(0, |processor| processor.added_tokens(pair))
    }

    /// Encodes a text already split into words (Python's `is_split_into_words=True`), as for
    /// token classification: each word is normalised and pre-tokenized on its own (BERT's
    /// pre-tokenizer may still split a word at punctuation), so [`Encoding::word_ids`] index
    /// `words` and every word gets at least one token (`[UNK]` at worst).
    ///
    /// Offsets are relative to each word, as in `transformers`. A byte-level BPE tokenizer
    /// (RoBERTa, GPT-2) puts a space before every word, the first included, as `transformers`
    /// does for `is_split_into_words=True` with `add_prefix_space=True` (which it requires for
    /// them): each word is encoded as it would be inside a sentence.
    ///
    /// # Errors
    /// As [`Tokenizer::encode`].
    pub fn encode_words(&self, words: &[&str], options: &EncodeOptions) -> Result<Encoding> {
        let truncation = self.truncation(options, false)?;
        let mut first = self
            .words
            .encode(tokenizers::InputSequence::from(words), false)
            .map_err(|source| TokenizerError::Encode { input: 0, source })?;
        if let Some(truncation) = truncation {
            truncate(&mut first, None, &truncation)
                .map_err(|reason| TokenizerError::Truncation { input: 0, reason })?;
        }
        let encoding = self
            .inner
            .post_process(first, None, options.add_special_tokens)
            .map_err(|source| TokenizerError::Encode { input: 0, source })?;
        Ok(Encoding::from_hf(&encoding, options.return_overflowing))
    }

    /// Encodes a batch (in parallel unless `TOKENIZERS_PARALLELISM=false`) and pads the rows.
    ///
    /// Overflow windows become rows of their own, right after their input's first window.
    /// Padding uses the tokenizer's pad token ([`Tokenizer::pad_id`]) on the right, type id 0.
    ///
    /// # Errors
    /// As [`Tokenizer::encode`] (naming the failing input's index), plus
    /// [`TokenizerError::NoPadToken`] if padding is needed but the vocabulary has no pad token,
    /// and [`TokenizerError::RowTooLong`] if a row is longer than [`Padding::Fixed`]'s length.
    pub fn encode_batch(
        &self,
        inputs: &[Input<'_>],
        options: &EncodeOptions,
        padding: Padding,
    ) -> Result<BatchEncoding> {
        let encoded: Vec<Encoding> = (0..inputs.len())
            .into_maybe_par_iter()
            .map(|index| self.encode_at(inputs[index], options, index))
            .collect::<Result<_>>()?;

        let mut encodings = Vec::with_capacity(encoded.len());
        let mut sample_mapping = Vec::with_capacity(encoded.len());
        for (index, mut encoding) in encoded.into_iter().enumerate() {
            let windows = std::mem::take(&mut encoding.overflowing);
            encodings.push(encoding);
            sample_mapping.push(index);
            for window in windows {
                encodings.push(window);
                sample_mapping.push(index);
            }
        }

        let longest = encodings.iter().map(Encoding::len).max().unwrap_or(0);
        let target = match padding {
            Padding::None => None,
            Padding::Longest => Some(longest),
            Padding::Fixed(fixed) => {
                if let Some((row, encoding)) =
                    encodings.iter().enumerate().find(|(_, e)| e.len() > fixed)
                {
                    return Err(TokenizerError::RowTooLong {
                        row,
                        len: encoding.len(),
                        fixed,
                    });
                }
                Some(fixed)
            }
        };
        if let Some(target) = target
            && encodings.iter().any(|e| e.len() < target)
        {
            let pad_id = self.pad_id().ok_or_else(|| TokenizerError::NoPadToken {
                token: self.special.pad.clone(),
            })?;
            for encoding in &mut encodings {
                encoding.pad_to(target, pad_id, &self.special.pad);
            }
        }

        Ok(BatchEncoding {
            ids: encodings.iter().map(|e| e.ids.clone()).collect(),
            type_ids: encodings.iter().map(|e| e.type_ids.clone()).collect(),
            attention_mask: encodings.iter().map(|e| e.attention_mask.clone()).collect(),
            encodings,
            sample_mapping,
        })
    }

    /// Encodes input number `index` of a batch.
    fn encode_at(
        &self,
        input: Input<'_>,
        options: &EncodeOptions,
        index: usize,
    ) -> Result<Encoding> {
        let is_pair = matches!(input, Input::Pair(..));
        let truncation = self.truncation(options, is_pair)?;
        let raw = |text: &str| {
            self.unprocessed
                .encode(text, false)
                .map_err(|source| TokenizerError::Encode {
                    input: index,
                    source,
                })
        };

        let (mut first, mut second) = match input {
            Input::Single(text) => (raw(text)?, None),
            Input::Pair(a, b) => {
                let mut second = raw(b)?;
                second.set_type_ids(vec![1; second.len()]);
                (raw(a)?, Some(second))
            }
        };
        if let Some(truncation) = truncation {
            truncate(&mut first, second.as_mut(), &truncation).map_err(|reason| {
                TokenizerError::Truncation {
                    input: index,
                    reason,
                }
            })?;
        }
        let encoding = self
            .inner
            .post_process(first, second, options.add_special_tokens)
            .map_err(|source| TokenizerError::Encode {
                input: index,
                source,
            })?;
        Ok(Encoding::from_hf(&encoding, options.return_overflowing))
    }

    /// Resolves the truncation an input gets from the options; `None` for no truncation.
    fn truncation(&self, options: &EncodeOptions, is_pair: bool) -> Result<Option<Truncation>> {
        if options.truncation == TruncationStrategy::DoNotTruncate {
            return Ok(None);
        }
        let Some(max_length) = options.max_length.or(self.model_max_length) else {
            return Ok(None);
        };
        let added = match (options.add_special_tokens, self.inner.get_post_processor()) {
            (true, Some(processor)) => processor.added_tokens(is_pair),
            _ => 0,
        };
        if max_length <= added {
            return Err(TokenizerError::options(format!(
                "max_length {max_length} leaves no room for text after the {added} special tokens"
            )));
        }
        let room = max_length - added;
        let stride = if options.return_overflowing {
            options.stride
        } else {
            0
        };
        if stride >= room {
            return Err(TokenizerError::options(format!(
                "stride {stride} must be smaller than max_length {max_length} minus the {added} \
                 special tokens"
            )));
        }
        Ok(Some(Truncation {
            room,
            strategy: options.truncation,
            stride,
        }))
    }
}

/// Truncates the sequences of one input in place, keeping the cut-off parts as overflow windows.
/// The error is a reason for [`TokenizerError::Truncation`].
fn truncate(
    first: &mut HfEncoding,
    second: Option<&mut HfEncoding>,
    truncation: &Truncation,
) -> std::result::Result<(), String> {
    let (first_len, second_len) =
        truncated_lengths(first.len(), second.as_ref().map(|e| e.len()), truncation)?;
    cut(first, first_len, truncation.stride, "first")?;
    if let (Some(second), Some(second_len)) = (second, second_len) {
        cut(second, second_len, truncation.stride, "second")?;
    }
    Ok(())
}

/// Truncates one sequence to `len` tokens (if longer), with windows `stride` tokens apart.
fn cut(
    encoding: &mut HfEncoding,
    len: usize,
    stride: usize,
    which: &str,
) -> std::result::Result<(), String> {
    if len >= encoding.len() {
        return Ok(());
    }
    // `tokenizers` asserts this (a panic); check it first.
    if len > 0 && stride >= len {
        return Err(format!(
            "the {which} sequence is truncated to {len} tokens, which is not more than the \
             stride {stride}"
        ));
    }
    encoding.truncate(len, stride, TruncationDirection::Right);
    Ok(())
}

/// The lengths the two sequences are truncated to so that they fit in `room` tokens; the same
/// rules as the `tokenizers` crate (and so as `transformers`' fast tokenizers).
fn truncated_lengths(
    first: usize,
    second: Option<usize>,
    truncation: &Truncation,
) -> std::result::Result<(usize, Option<usize>), String> {
    let room = truncation.room;
    let total = first + second.unwrap_or(0);
    if total <= room {
        return Ok((first, second));
    }
    let excess = total - room;
    match (truncation.strategy, second) {
        (TruncationStrategy::DoNotTruncate, _) => Ok((first, second)),
        (TruncationStrategy::LongestFirst | TruncationStrategy::OnlyFirst, None) => {
            Ok((room, None))
        }
        (TruncationStrategy::LongestFirst, Some(second)) => {
            // Shorten the longer one alone if that is enough, else give each half the room.
            let short = first.min(second);
            let (mut short_len, mut long_len) = (short, short.max(room.saturating_sub(short)));
            if short_len + long_len > room {
                short_len = room / 2;
                long_len = short_len + room % 2;
            }
            Ok(if first > second {
                (long_len, Some(short_len))
            } else {
                (short_len, Some(long_len))
            })
        }
        (TruncationStrategy::OnlyFirst, Some(second)) => {
            if first > excess {
                Ok((first - excess, Some(second)))
            } else {
                Err(format!(
                    "only the first sequence may be truncated, but it has {first} tokens and \
                     {excess} must go"
                ))
            }
        }
        (TruncationStrategy::OnlySecond, None) => {
            Err("`OnlySecond` truncation needs a pair of sequences".into())
        }
        (TruncationStrategy::OnlySecond, Some(second)) => {
            if second > excess {
                Ok((first, Some(second - excess)))
            } else {
                Err(format!(
                    "only the second sequence may be truncated, but it has {second} tokens and \
                     {excess} must go"
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lengths(
        first: usize,
        second: Option<usize>,
        room: usize,
        strategy: TruncationStrategy,
    ) -> std::result::Result<(usize, Option<usize>), String> {
        truncated_lengths(
            first,
            second,
            &Truncation {
                room,
                strategy,
                stride: 0,
            },
        )
    }

    #[test]
    fn longest_first_lengths_match_tokenizers() {
        use TruncationStrategy::LongestFirst;
        // Fits: unchanged.
        assert_eq!(lengths(3, Some(4), 7, LongestFirst), Ok((3, Some(4))));
        // Only the longer one needs cutting.
        assert_eq!(lengths(3, Some(10), 8, LongestFirst), Ok((3, Some(5))));
        assert_eq!(lengths(10, Some(3), 8, LongestFirst), Ok((5, Some(3))));
        // Both long: split the room, the odd token to the longer one.
        assert_eq!(lengths(10, Some(12), 7, LongestFirst), Ok((3, Some(4))));
        assert_eq!(lengths(12, Some(10), 7, LongestFirst), Ok((4, Some(3))));
        // Single sequence.
        assert_eq!(lengths(10, None, 7, LongestFirst), Ok((7, None)));
    }

    #[test]
    fn only_strategies_fail_when_they_cannot_fit() {
        use TruncationStrategy::{OnlyFirst, OnlySecond};
        assert_eq!(lengths(10, Some(3), 8, OnlyFirst), Ok((5, Some(3))));
        assert!(lengths(3, Some(10), 8, OnlyFirst).is_err());
        assert_eq!(lengths(3, Some(10), 8, OnlySecond), Ok((3, Some(5))));
        assert!(lengths(10, Some(3), 8, OnlySecond).is_err());
        assert!(lengths(10, None, 8, OnlySecond).is_err());
        assert_eq!(lengths(3, None, 8, OnlySecond), Ok((3, None)));
    }
}
