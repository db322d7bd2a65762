//! Pre-training sequences: corpus sentences tokenized with their word boundaries
//! ([`TokenizedSentences`]), packed into full-length sequences for masked or causal language
//! modelling ([`Packer`]), and padded into batches ([`collate_clm`]; masked ones by
//! [`collate_mlm`](crate::collate_mlm)).
//!
//! Masking is in [`MlmMasker`](crate::MlmMasker), sentence pairs for next-sentence prediction
//! in [`NspPairs`](crate::NspPairs); both produce and consume the same [`PretrainSequence`].
//!
//! Packing (for MLM and CLM) is described at [`Packer`], what causal language modelling asks of
//! the model at [`collate_clm`].

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;

use burnish_tokenizer::{EncodeOptions, Input, Padding, Tokenizer, TruncationStrategy};

use crate::corpus::Sentence;
use crate::error::{DataError, Result};
use crate::rng::Rng;
use crate::token_features::IGNORE_INDEX;

/// How many sentences are tokenized per call to the (parallel) batch encoder.
const TOKENIZE_CHUNK: usize = 256;

/// The random stream of one use (`purpose`), epoch and item, so that masking and pair
/// sampling seeded with the same seed are still independent.
pub(crate) fn item_rng(seed: u64, purpose: u64, epoch: u64, item: u64) -> Rng {
    let purpose_seed = Rng::derive(seed, purpose).next_u64();
    let epoch_seed = Rng::derive(purpose_seed, epoch).next_u64();
    Rng::derive(epoch_seed, item)
}

/// The ids of the special tokens that frame pre-training sequences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SpecialIds {
    /// `[CLS]`: starts every sequence.
    pub cls: u32,
    /// `[SEP]`: ends every sequence (and every segment of a pair), and separates documents.
    pub sep: u32,
    /// `[PAD]`: pads batches.
    pub pad: u32,
}

impl SpecialIds {
    /// The tokenizer's `[CLS]`, `[SEP]` and `[PAD]` (or what its special tokens are called).
    ///
    /// # Errors
    /// [`DataError::MissingSpecialToken`] if its vocabulary lacks one of them.
    pub fn from_tokenizer(tokenizer: &Tokenizer) -> Result<Self> {
        let special = tokenizer.special_tokens();
        let need = |id: Option<u32>, token: &str| {
            id.ok_or_else(|| DataError::MissingSpecialToken {
                token: token.to_owned(),
                purpose: "building pre-training sequences".to_owned(),
            })
        };
        Ok(Self {
            cls: need(tokenizer.cls_id(), &special.cls)?,
            sep: need(tokenizer.sep_id(), &special.sep)?,
            pad: need(tokenizer.pad_id(), &special.pad)?,
        })
    }
}

/// One sentence of a corpus as tokens (no special tokens), with its word boundaries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenizedSentence {
    /// Token ids.
    pub ids: Vec<u32>,
    /// Per token, whether it starts a word (`false` for the second and later pieces of a
    /// word). Words are those of the tokenizer's pre-tokenizer (for BERT: runs of letters and
    /// digits, and each punctuation character), so for a WordPiece vocabulary a token starts
    /// a word exactly when it is not a `##` continuation.
    pub word_starts: Vec<bool>,
    /// The index of its document in the corpus.
    pub document: u64,
    /// The corpus file.
    pub path: Arc<Path>,
    /// The 1-based line in the file.
    pub line: usize,
}

impl TokenizedSentence {
    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no tokens (the text was only characters the normaliser drops).
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// Tokenizes a stream of sentences, a chunk of 256 at a time (so at most one chunk is held),
/// without special tokens and without truncation.
///
/// After an error the stream ends.
pub struct TokenizedSentences<I> {
    tokenizer: Tokenizer,
    sentences: I,
    ready: VecDeque<TokenizedSentence>,
    error: Option<DataError>,
    /// The input has ended (or failed): return what is ready, then the error, then `None`.
    input_done: bool,
    done: bool,
}

impl<I> std::fmt::Debug for TokenizedSentences<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenizedSentences")
            .field("ready", &self.ready.len())
            .field("input_done", &self.input_done)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<I: Iterator<Item = Result<Sentence>>> TokenizedSentences<I> {
    /// Tokenizes `sentences` with `tokenizer` (a clone is cheap next to a pass over a corpus).
    pub fn new(tokenizer: Tokenizer, sentences: I) -> Self {
        Self {
            tokenizer,
            sentences,
            ready: VecDeque::new(),
            error: None,
            input_done: false,
            done: false,
        }
    }

    /// The sentence stream underneath (e.g. for [`Sentences::skipped`](crate::Sentences::skipped)).
    pub fn inner(&self) -> &I {
        &self.sentences
    }

    /// Reads and tokenizes the next chunk.
    fn fill(&mut self) {
        let mut chunk = Vec::with_capacity(TOKENIZE_CHUNK);
        while chunk.len() < TOKENIZE_CHUNK {
            match self.sentences.next() {
                Some(Ok(sentence)) => chunk.push(sentence),
                Some(Err(error)) => {
                    self.error = Some(error);
                    self.input_done = true;
                    break;
                }
                None => {
                    self.input_done = true;
                    break;
                }
            }
        }
        if chunk.is_empty() {
            return;
        }
        match tokenize_chunk(&self.tokenizer, chunk) {
            Ok(tokenized) => self.ready.extend(tokenized),
            Err(error) => {
                // It comes before any error of the input.
                self.error = Some(error);
                self.input_done = true;
            }
        }
    }
}

impl<I: Iterator<Item = Result<Sentence>>> Iterator for TokenizedSentences<I> {
    type Item = Result<TokenizedSentence>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(sentence) = self.ready.pop_front() {
                return Some(Ok(sentence));
            }
            if self.done {
                return None;
            }
            if self.input_done {
                self.done = true;
                return self.error.take().map(Err);
            }
            self.fill();
        }
    }
}

/// Tokenizes sentences in one batch.
fn tokenize_chunk(tokenizer: &Tokenizer, chunk: Vec<Sentence>) -> Result<Vec<TokenizedSentence>> {
    let options = EncodeOptions {
        truncation: TruncationStrategy::DoNotTruncate,
        add_special_tokens: false,
        ..EncodeOptions::default()
    };
    let inputs: Vec<Input<'_>> = chunk.iter().map(|s| Input::Single(&s.text)).collect();
    let encodings = match tokenizer.encode_batch(&inputs, &options, Padding::None) {
        Ok(batch) => batch.encodings,
        Err(batch_error) => {
            // Find the sentence that fails, for its file and line.
            for sentence in &chunk {
                if let Err(source) = tokenizer.encode(&sentence.text, &options) {
                    return Err(DataError::Tokenize {
                        path: sentence.path.to_path_buf(),
                        line: sentence.line,
                        source,
                    });
                }
            }
            let first = &chunk[0];
            return Err(DataError::Tokenize {
                path: first.path.to_path_buf(),
                line: first.line,
                source: batch_error,
            });
        }
    };
    Ok(chunk
        .into_iter()
        .zip(encodings)
        .map(|(sentence, encoding)| TokenizedSentence {
            word_starts: word_starts(&encoding.word_ids),
            ids: encoding.ids,
            document: sentence.document,
            path: sentence.path,
            line: sentence.line,
        })
        .collect())
}

/// Which tokens start a word: the first, and every one whose word id differs from the previous
/// token's (a token without a word id is a word of its own).
fn word_starts(word_ids: &[Option<u32>]) -> Vec<bool> {
    word_ids
        .iter()
        .enumerate()
        .map(|(i, word)| i == 0 || word.is_none() || *word != word_ids[i - 1])
        .collect()
}

/// One pre-training sequence, special tokens included, not padded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PretrainSequence {
    /// Token ids.
    pub ids: Vec<u32>,
    /// Segment ids: all 0, except the second segment of a sentence pair (and its `[SEP]`).
    pub type_ids: Vec<u32>,
    /// Per token, its word's number within the sequence (0, 1, 2, ... in order; the pieces of
    /// one word share it); `None` for the special tokens this crate inserted (`[CLS]`,
    /// `[SEP]`), which are never masked.
    pub word_ids: Vec<Option<u32>>,
    /// For a sentence pair, [`IS_NEXT`](crate::IS_NEXT) or [`NOT_NEXT`](crate::NOT_NEXT).
    pub next_sentence_label: Option<u32>,
    /// The sequence's number in its stream (from 0), which with the seed and epoch seeds its
    /// masks ([`MlmMasker::mask`](crate::MlmMasker::mask)).
    pub index: u64,
}

impl PretrainSequence {
    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no tokens.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Per token, whether it is a special token (`[CLS]`, `[SEP]`).
    pub fn special_tokens_mask(&self) -> Vec<bool> {
        self.word_ids.iter().map(Option::is_none).collect()
    }

    /// The ids of the tokens that are not special tokens, in order.
    pub fn content_ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.ids
            .iter()
            .zip(&self.word_ids)
            .filter(|(_, word)| word.is_some())
            .map(|(&id, _)| id)
    }
}

/// Builds a sequence token by token, numbering words.
#[derive(Debug, Clone, Default)]
pub(crate) struct SequenceBuilder {
    ids: Vec<u32>,
    type_ids: Vec<u32>,
    word_ids: Vec<Option<u32>>,
    next_word: u32,
}

impl SequenceBuilder {
    /// An empty sequence with room for `capacity` tokens.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            ids: Vec::with_capacity(capacity),
            type_ids: Vec::with_capacity(capacity),
            word_ids: Vec::with_capacity(capacity),
            next_word: 0,
        }
    }

    /// Appends a special token.
    pub(crate) fn special(&mut self, id: u32, type_id: u32) {
        self.ids.push(id);
        self.type_ids.push(type_id);
        self.word_ids.push(None);
    }

    /// Appends a text token; it starts a new word if `word_start`, or if it follows a special
    /// token or nothing (a word cut at a sequence or segment boundary).
    pub(crate) fn token(&mut self, id: u32, type_id: u32, word_start: bool) {
        let word = match self.word_ids.last() {
            Some(Some(previous)) if !word_start => *previous,
            _ => {
                self.next_word += 1;
                self.next_word - 1
            }
        };
        self.ids.push(id);
        self.type_ids.push(type_id);
        self.word_ids.push(Some(word));
    }

    /// Number of tokens so far.
    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }

    /// The sequence.
    pub(crate) fn finish(self, next_sentence_label: Option<u32>, index: u64) -> PretrainSequence {
        PretrainSequence {
            ids: self.ids,
            type_ids: self.type_ids,
            word_ids: self.word_ids,
            next_sentence_label,
            index,
        }
    }
}

/// How [`Packer`] packs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PackOptions {
    /// The length of every sequence (but the last), special tokens included; at least 3.
    pub max_length: usize,
    /// Whether a sequence may continue into the next document (after a `[SEP]`); otherwise
    /// every document starts a new sequence.
    pub cross_documents: bool,
}

impl Default for PackOptions {
    /// 128 tokens, across documents.
    fn default() -> Self {
        Self {
            max_length: 128,
            cross_documents: true,
        }
    }
}

/// Packs a stream of tokenized sentences into `[CLS] ... [SEP]` sequences of exactly
/// `max_length` tokens, holding only the sequence being filled and the sentence being read.
///
/// Padding is compute spent on nothing, so MLM and CLM sequences are **packed**: the tokens of
/// consecutive sentences fill `[CLS] tokens... [SEP]` up to exactly
/// [`PackOptions::max_length`] tokens, across sentence boundaries and (by default) across
/// document boundaries, with a `[SEP]` between two documents. This is RoBERTa's
/// FULL-SENTENCES format (Liu et al. 2019, section 4.2), which trained as well as one document
/// per sequence and wastes no padding; only the very last sequence of the stream is shorter.
/// With [`PackOptions::cross_documents`] off a sequence never spans two documents
/// (DOC-SENTENCES), and the last sequence of every document is shorter.
///
/// Details of the format, which the tests pin:
/// - tokens are never dropped or repeated: the content tokens of all sequences, in order, with
///   the separators taken out, are the tokens of all sentences, in order;
/// - a sequence may start or end in the middle of a word (its pieces then form a partial word
///   of their own for whole-word masking) and in the middle of a sentence;
/// - a document separator that would be the first content token of a sequence is left out
///   (the sequence's `[CLS]` starts it anyway); one that falls on the last content position is
///   kept, so such a sequence ends `... [SEP] [SEP]`.
///
/// After an error the stream ends.
#[derive(Debug)]
pub struct Packer<I> {
    tokens: I,
    specials: SpecialIds,
    options: PackOptions,
    /// The sequence being filled: `[CLS]` and its content so far.
    current: SequenceBuilder,
    /// A document ended after the current content: write a `[SEP]` before the next token.
    separator: bool,
    /// The document of the last sentence read.
    document: Option<u64>,
    /// The sentence being read, and how many of its tokens are already packed.
    sentence: Option<(TokenizedSentence, usize)>,
    next_index: u64,
    done: bool,
}

impl<I: Iterator<Item = Result<TokenizedSentence>>> Packer<I> {
    /// A packer of `tokens`.
    ///
    /// # Errors
    /// [`DataError::InvalidOptions`] if `max_length` is below 3 (`[CLS]`, a token, `[SEP]`).
    pub fn new(tokens: I, specials: SpecialIds, options: PackOptions) -> Result<Self> {
        if options.max_length < 3 {
            return Err(DataError::options(format!(
                "the packed sequence length {} leaves no room for text between [CLS] and [SEP]",
                options.max_length
            )));
        }
        let mut packer = Self {
            tokens,
            specials,
            options,
            current: SequenceBuilder::default(),
            separator: false,
            document: None,
            sentence: None,
            next_index: 0,
            done: false,
        };
        packer.reset();
        Ok(packer)
    }

    /// The token stream underneath.
    pub fn inner(&self) -> &I {
        &self.tokens
    }

    /// How many sequences have been returned so far.
    pub fn sequences_done(&self) -> u64 {
        self.next_index
    }

    /// How many content tokens fit between `[CLS]` and `[SEP]`.
    fn capacity(&self) -> usize {
        self.options.max_length - 2
    }

    /// Number of content tokens in the current sequence.
    fn content(&self) -> usize {
        self.current.len() - 1
    }

    /// Starts a new sequence.
    fn reset(&mut self) {
        self.current = SequenceBuilder::with_capacity(self.options.max_length);
        self.current.special(self.specials.cls, 0);
        self.separator = false;
    }

    /// Closes the current sequence with `[SEP]` and starts the next.
    fn emit(&mut self) -> PretrainSequence {
        self.current.special(self.specials.sep, 0);
        let sequence = std::mem::take(&mut self.current).finish(None, self.next_index);
        self.next_index += 1;
        self.reset();
        sequence
    }
}

impl<I: Iterator<Item = Result<TokenizedSentence>>> Iterator for Packer<I> {
    type Item = Result<PretrainSequence>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let capacity = self.capacity();
        loop {
            if let Some((sentence, position)) = &mut self.sentence {
                while *position < sentence.ids.len() && self.current.len() - 1 < capacity {
                    if self.separator {
                        self.current.special(self.specials.sep, 0);
                        self.separator = false;
                    } else {
                        // A sentence built without word starts makes each token a word.
                        let word_start = sentence.word_starts.get(*position).copied();
                        self.current
                            .token(sentence.ids[*position], 0, word_start.unwrap_or(true));
                        *position += 1;
                    }
                }
                if *position == sentence.ids.len() {
                    self.sentence = None;
                }
                if self.content() == capacity {
                    return Some(Ok(self.emit()));
                }
                continue;
            }
            let sentence = match self.tokens.next() {
                Some(Ok(sentence)) => sentence,
                Some(Err(error)) => {
                    self.done = true;
                    return Some(Err(error));
                }
                None => {
                    self.done = true;
                    return (self.content() > 0).then(|| Ok(self.emit()));
                }
            };
            if sentence.is_empty() {
                continue;
            }
            let new_document = self.document != Some(sentence.document);
            self.document = Some(sentence.document);
            self.sentence = Some((sentence, 0));
            if new_document && self.content() > 0 {
                if self.options.cross_documents {
                    self.separator = true;
                } else {
                    return Some(Ok(self.emit()));
                }
            }
        }
    }
}

/// A batch of pre-training sequences padded to its longest, ready to become tensors.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PretrainBatch {
    /// Token ids (after masking, for MLM), one row per sequence, padded on the right.
    pub input_ids: Vec<Vec<u32>>,
    /// Segment ids, padded with 0.
    pub token_type_ids: Vec<Vec<u32>>,
    /// 1 for real tokens, 0 for padding.
    pub attention_mask: Vec<Vec<u32>>,
    /// Per token: for MLM the original id at masked positions and `-100` elsewhere; for CLM
    /// the input id (the model shifts), `-100` at padding.
    pub labels: Vec<Vec<i64>>,
    /// MLM: the masked positions, flattened as `row * seq_len + column` in row-major order
    /// (increasing), for gathering the encoder's output before the vocabulary projection.
    /// Empty for CLM.
    pub masked_positions: Vec<usize>,
    /// MLM: the original token id at each of [`masked_positions`](Self::masked_positions).
    pub masked_labels: Vec<u32>,
    /// For sentence pairs, each row's [`IS_NEXT`](crate::IS_NEXT) or
    /// [`NOT_NEXT`](crate::NOT_NEXT) (`transformers`' `next_sentence_label`).
    pub next_sentence_labels: Option<Vec<u32>>,
    /// How many real (non-padding) tokens the batch holds.
    pub real_tokens: usize,
    /// How many token positions it holds after padding (rows x longest row).
    pub padded_tokens: usize,
}

crate::padded_batch!(PretrainBatch);

impl PretrainBatch {
    /// An empty batch of `rows` rows padded to `seq_len` tokens, with the rows' NSP labels
    /// (see [`nsp_labels`]); the collators push the rows.
    pub(crate) fn with_rows(
        rows: usize,
        seq_len: usize,
        next_sentence_labels: impl Iterator<Item = Option<u32>>,
    ) -> Self {
        Self {
            next_sentence_labels: nsp_labels(next_sentence_labels),
            padded_tokens: seq_len * rows,
            ..Self::default()
        }
    }

    /// Adds a row's inputs, padded to `seq_len`: its token ids (with `pad_id`), segment ids
    /// (with 0) and attention mask; counts its real tokens.
    pub(crate) fn push_inputs(
        &mut self,
        ids: &[u32],
        type_ids: &[u32],
        seq_len: usize,
        pad_id: u32,
    ) {
        self.input_ids.push(padded(ids, seq_len, pad_id));
        self.token_type_ids.push(padded(type_ids, seq_len, 0));
        self.attention_mask.push(attention(ids.len(), seq_len));
        self.real_tokens += ids.len();
    }
}

/// The NSP labels of a batch: all of them, or `None` if no row has one.
///
/// # Panics
/// If some rows have one and others not.
fn nsp_labels(labels: impl Iterator<Item = Option<u32>>) -> Option<Vec<u32>> {
    let labels: Vec<Option<u32>> = labels.collect();
    let with = labels.iter().filter(|label| label.is_some()).count();
    assert!(
        with == 0 || with == labels.len(),
        "a pre-training batch mixes sentence pairs ({with}) with single sequences ({})",
        labels.len() - with
    );
    (with > 0).then(|| labels.into_iter().flatten().collect())
}

/// Pads sequences for causal language modelling: the labels are the input ids (`-100` at
/// padding); the model shifts them.
///
/// CLM uses the same packed sequences ([`Packer`]); the labels are the inputs themselves, as
/// `transformers`' `DataCollatorForLanguageModeling(mlm=False)` makes them.
/// **The model side must shift**: position `t`'s logits predict the label at `t + 1`
/// (`logits[:, :-1]` against `labels[:, 1:]`, as `BertLMHeadModel` does), and attention must
/// be causal (each position sees only itself and earlier ones) on top of the padding mask.
/// `[CLS]` then plays the beginning-of-sequence token and `[SEP]` the end of a document.
///
/// # Panics
/// If some sequences are sentence pairs (with an NSP label) and others not.
pub fn collate_clm(sequences: &[PretrainSequence], pad_id: u32) -> PretrainBatch {
    let seq_len = sequences
        .iter()
        .map(PretrainSequence::len)
        .max()
        .unwrap_or(0);
    let nsp = sequences.iter().map(|s| s.next_sentence_label);
    let mut batch = PretrainBatch::with_rows(sequences.len(), seq_len, nsp);
    for sequence in sequences {
        batch.push_inputs(&sequence.ids, &sequence.type_ids, seq_len, pad_id);
        let labels: Vec<i64> = sequence.ids.iter().map(|&id| i64::from(id)).collect();
        batch.labels.push(padded(&labels, seq_len, IGNORE_INDEX));
    }
    batch
}

/// `values` padded with `pad` to `len`.
pub(crate) fn padded<T: Copy>(values: &[T], len: usize, pad: T) -> Vec<T> {
    let mut row = Vec::with_capacity(len);
    row.extend_from_slice(values);
    row.resize(len, pad);
    row
}

/// An attention mask row: `len` ones, then zeros up to `seq_len`.
fn attention(len: usize, seq_len: usize) -> Vec<u32> {
    let mut mask = vec![1; len];
    mask.resize(seq_len, 0);
    mask
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PaddedBatch;

    const SPECIALS: SpecialIds = SpecialIds {
        cls: 101,
        sep: 102,
        pad: 0,
    };

    /// A tokenized sentence of `document` whose ids are `ids`; every id that is a multiple of
    /// 3 continues the previous word.
    fn sentence(document: u64, ids: &[u32]) -> Result<TokenizedSentence> {
        Ok(TokenizedSentence {
            ids: ids.to_vec(),
            word_starts: ids.iter().map(|id| id % 3 != 0).collect(),
            document,
            path: Arc::from(Path::new("corpus.txt")),
            line: 1,
        })
    }

    fn pack(
        sentences: Vec<Result<TokenizedSentence>>,
        max_length: usize,
        cross_documents: bool,
    ) -> Vec<Vec<u32>> {
        let options = PackOptions {
            max_length,
            cross_documents,
        };
        Packer::new(sentences.into_iter(), SPECIALS, options)
            .unwrap()
            .map(|sequence| sequence.unwrap().ids)
            .collect()
    }

    #[test]
    fn packs_across_sentences_and_documents() {
        let sentences = || {
            vec![
                sentence(0, &[1, 2, 4]),
                sentence(0, &[5]),
                sentence(1, &[7, 8]),
                sentence(1, &[]),
                sentence(2, &[10, 11, 13, 14, 16]),
            ]
        };
        assert_eq!(
            pack(sentences(), 6, true),
            vec![
                vec![101, 1, 2, 4, 5, 102],
                // The separator of documents 0 and 1 is not repeated at the start.
                vec![101, 7, 8, 102, 10, 102],
                vec![101, 11, 13, 14, 16, 102],
            ]
        );
        assert_eq!(
            pack(sentences(), 7, true),
            vec![
                vec![101, 1, 2, 4, 5, 102, 102],
                vec![101, 7, 8, 102, 10, 11, 102],
                vec![101, 13, 14, 16, 102],
            ]
        );
        assert_eq!(
            pack(sentences(), 6, false),
            vec![
                vec![101, 1, 2, 4, 5, 102],
                vec![101, 7, 8, 102],
                vec![101, 10, 11, 13, 14, 102],
                vec![101, 16, 102],
            ]
        );
        assert!(pack(Vec::new(), 6, true).is_empty());
        assert!(
            Packer::new(
                Vec::new().into_iter(),
                SPECIALS,
                PackOptions {
                    max_length: 2,
                    cross_documents: true
                }
            )
            .is_err()
        );
    }

    #[test]
    fn word_ids_number_words_and_restart_after_a_cut() {
        // 3 and 6 continue the previous word; the sequence cut falls inside word [5, 6].
        let sentences = vec![sentence(0, &[1, 3, 2, 5, 6, 7])];
        let options = PackOptions {
            max_length: 6,
            cross_documents: true,
        };
        let sequences: Vec<PretrainSequence> =
            Packer::new(sentences.into_iter(), SPECIALS, options)
                .unwrap()
                .map(Result::unwrap)
                .collect();
        assert_eq!(
            sequences[0].word_ids,
            vec![None, Some(0), Some(0), Some(1), Some(2), None]
        );
        assert_eq!(sequences[1].ids, vec![101, 6, 7, 102]);
        assert_eq!(sequences[1].word_ids, vec![None, Some(0), Some(1), None]);
        assert_eq!(
            (sequences[0].index, sequences[1].index),
            (0, 1),
            "sequences are numbered"
        );
        assert_eq!(
            sequences[0].special_tokens_mask(),
            vec![true, false, false, false, false, true]
        );
    }

    #[test]
    fn an_error_ends_the_stream_after_what_came_before() {
        let sentences = vec![
            sentence(0, &[1, 2, 4, 5, 7]),
            Err(DataError::options("broken")),
            sentence(0, &[8]),
        ];
        let options = PackOptions {
            max_length: 4,
            cross_documents: true,
        };
        let mut packer = Packer::new(sentences.into_iter(), SPECIALS, options).unwrap();
        assert_eq!(packer.next().unwrap().unwrap().ids, vec![101, 1, 2, 102]);
        assert_eq!(packer.next().unwrap().unwrap().ids, vec![101, 4, 5, 102]);
        assert!(packer.next().unwrap().is_err());
        assert!(packer.next().is_none());
    }

    #[test]
    fn clm_labels_are_the_inputs() {
        let a = SequenceBuilder::with_capacity(4);
        let mut a = a;
        a.special(101, 0);
        a.token(7, 0, true);
        a.special(102, 0);
        let a = a.finish(None, 0);
        let mut b = SequenceBuilder::with_capacity(4);
        b.special(101, 0);
        b.special(102, 0);
        let b = b.finish(None, 1);
        let batch = collate_clm(&[a, b], 0);
        assert_eq!(batch.input_ids, vec![vec![101, 7, 102], vec![101, 102, 0]]);
        assert_eq!(batch.labels, vec![vec![101, 7, 102], vec![101, 102, -100]]);
        assert_eq!(batch.attention_mask, vec![vec![1, 1, 1], vec![1, 1, 0]]);
        assert!(batch.masked_positions.is_empty());
        assert_eq!(batch.next_sentence_labels, None);
        assert_eq!((batch.real_tokens, batch.padding_tokens()), (5, 1));
    }
}
