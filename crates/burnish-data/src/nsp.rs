//! Next-sentence prediction: sentence pairs `[CLS] A [SEP] B [SEP]` where B is either the text
//! that follows A in its document or a segment of another document ([`NspPairs`]).

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;

use crate::error::{DataError, Result};
use crate::pretrain::{PretrainSequence, SequenceBuilder, SpecialIds, TokenizedSentence, item_rng};
use crate::rng::Rng;

/// The NSP label of a pair whose B follows A in the document (`transformers`'
/// `next_sentence_label` 0).
pub const IS_NEXT: u32 = 0;
/// The NSP label of a pair whose B comes from another document (1).
pub const NOT_NEXT: u32 = 1;

/// The [`item_rng`] purpose of pair sampling.
const PAIRS: u64 = 2;

/// One document as tokenized sentences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenizedDocument {
    /// The sentences with at least one token, in order; never empty.
    pub sentences: Vec<TokenizedSentence>,
    /// The index of the document in the corpus.
    pub index: u64,
    /// The corpus file.
    pub path: Arc<Path>,
    /// The 1-based line of its first sentence.
    pub line: usize,
}

impl TokenizedDocument {
    /// Number of tokens.
    pub fn num_tokens(&self) -> usize {
        self.sentences.iter().map(TokenizedSentence::len).sum()
    }
}

/// Groups a stream of tokenized sentences into documents, leaving out sentences without
/// tokens (and so documents without any); holds one document at a time.
///
/// An error comes after the sentences read before it (as a document, which the error may
/// have cut short), and then the stream ends.
#[derive(Debug)]
pub struct TokenizedDocuments<I> {
    sentences: I,
    peeked: Option<TokenizedSentence>,
    error: Option<DataError>,
    done: bool,
}

impl<I: Iterator<Item = Result<TokenizedSentence>>> TokenizedDocuments<I> {
    /// Groups `sentences` by [`TokenizedSentence::document`].
    pub fn new(sentences: I) -> Self {
        Self {
            sentences,
            peeked: None,
            error: None,
            done: false,
        }
    }

    /// The sentence stream underneath.
    pub fn inner(&self) -> &I {
        &self.sentences
    }

    /// The next sentence with tokens, an error, or `None`.
    fn next_sentence(&mut self) -> Option<Result<TokenizedSentence>> {
        if let Some(sentence) = self.peeked.take() {
            return Some(Ok(sentence));
        }
        loop {
            match self.sentences.next()? {
                Ok(sentence) if sentence.is_empty() => {}
                other => return Some(other),
            }
        }
    }
}

impl<I: Iterator<Item = Result<TokenizedSentence>>> Iterator for TokenizedDocuments<I> {
    type Item = Result<TokenizedDocument>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(error) = self.error.take() {
            self.done = true;
            return Some(Err(error));
        }
        if self.done {
            return None;
        }
        let first = match self.next_sentence() {
            None => {
                self.done = true;
                return None;
            }
            Some(Err(error)) => {
                self.done = true;
                return Some(Err(error));
            }
            Some(Ok(sentence)) => sentence,
        };
        let mut document = TokenizedDocument {
            index: first.document,
            path: Arc::clone(&first.path),
            line: first.line,
            sentences: vec![first],
        };
        loop {
            match self.next_sentence() {
                None => break,
                Some(Err(error)) => {
                    self.error = Some(error);
                    break;
                }
                Some(Ok(sentence)) if sentence.document == document.index => {
                    document.sentences.push(sentence);
                }
                Some(Ok(sentence)) => {
                    self.peeked = Some(sentence);
                    break;
                }
            }
        }
        Some(Ok(document))
    }
}

/// How sentence pairs are made.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NspOptions {
    /// The longest pair, `[CLS]` and both `[SEP]`s included; at least 5.
    pub max_length: usize,
    /// The probability of a shorter target length for a pair (Google's `short_seq_prob`).
    pub short_seq_prob: f64,
    /// About how many documents are held to draw random segments from (at least 2).
    pub pool_documents: usize,
}

impl Default for NspOptions {
    /// 128 tokens, 10% short pairs, a window of 256 documents.
    fn default() -> Self {
        Self {
            max_length: 128,
            short_seq_prob: 0.1,
            pool_documents: 256,
        }
    }
}

/// A stream of NSP sentence pairs from a stream of tokenized documents.
///
/// This is a simplified, streaming version of `create_instances_from_document` in Google's
/// `create_pretraining_data.py`:
/// - Each document's sentences are gathered into a chunk until it holds the target number of
///   tokens (`max_length - 3`, or with probability `short_seq_prob` (10%) a random length from
///   2 up, so the model also sees short inputs) or the document ends.
/// - A coin decides the label first: [`IS_NEXT`] or [`NOT_NEXT`], 50/50.
/// - A chunk of several sentences is cut after a random sentence: A is the sentences before
///   the cut. For IsNext, B is the sentences after it; for NotNext, B is drawn from another
///   document, starting at a random sentence and filled up to the rest of the target, and the
///   sentences after the cut are put back to start the next chunk (nothing is wasted).
/// - A chunk of one sentence (a long sentence, or the last of a document) is cut at a random
///   word boundary for IsNext (A and B are then consecutive text too); for NotNext, or if the
///   sentence is a single word, A is the whole sentence and B comes from another document.
/// - The pair is truncated to `max_length - 3` tokens by taking tokens off the longer
///   segment, from its front or its back at random (Google's `truncate_seq_pair`).
///
/// What differs from Google's script, and why:
/// - Google draws the label after forcing NotNext for one-sentence chunks, which tilts the
///   labels towards NotNext; deciding first and cutting one-sentence chunks at a word keeps
///   them 50/50.
/// - Google draws the short target once per document; here it is drawn per pair.
/// - Google holds the whole corpus in memory and draws the random document from all of it;
///   here documents stream through a window of about [`NspOptions::pool_documents`] (the
///   document being paired, up to half of that before it and half after it), and the random
///   document is drawn uniformly from the window without the current one. The window's
///   documents are consecutive in the corpus: a corpus sorted by topic gives easier NotNext
///   pairs than a shuffled one.
/// - Google repeats the whole process `dupe_factor` times with different masks; here pairs
///   are drawn afresh in every epoch (the random stream depends on `(seed, epoch, document)`).
///
/// Pairs are numbered from 0 ([`PretrainSequence::index`]) in the order they come out.
/// An error of the input comes after the pairs of the documents before it, and then the
/// stream ends.
#[derive(Debug)]
pub struct NspPairs<I> {
    documents: I,
    specials: SpecialIds,
    options: NspOptions,
    seed: u64,
    epoch: u64,
    /// The window of documents: some already paired, the current one at `cursor`, some ahead.
    window: VecDeque<TokenizedDocument>,
    cursor: usize,
    /// How many paired documents the window keeps before the current one.
    behind: usize,
    /// How many documents the window reads ahead of the current one.
    ahead: usize,
    input_done: bool,
    error: Option<DataError>,
    ready: VecDeque<PretrainSequence>,
    next_index: u64,
    done: bool,
}

/// A segment of a pair: tokens with their word starts.
type Segment = VecDeque<(u32, bool)>;

impl<I: Iterator<Item = Result<TokenizedDocument>>> NspPairs<I> {
    /// Pairs from `documents`, for epoch `epoch` of a run seeded with `seed`.
    ///
    /// # Errors
    /// [`DataError::InvalidOptions`] if `max_length` is below 5, `short_seq_prob` is not in
    /// `[0, 1]` or `pool_documents` is below 2.
    pub fn new(
        documents: I,
        specials: SpecialIds,
        options: NspOptions,
        seed: u64,
        epoch: u64,
    ) -> Result<Self> {
        if options.max_length < 5 {
            return Err(DataError::options(format!(
                "the sentence-pair length {} leaves no room for two segments (at least 5)",
                options.max_length
            )));
        }
        if !(0.0..=1.0).contains(&options.short_seq_prob) {
            return Err(DataError::options(format!(
                "short_seq_prob {} is not in [0, 1]",
                options.short_seq_prob
            )));
        }
        if options.pool_documents < 2 {
            return Err(DataError::options(
                "the NSP document pool must hold at least 2 documents",
            ));
        }
        let ahead = (options.pool_documents / 2).max(1);
        Ok(Self {
            documents,
            specials,
            options,
            seed,
            epoch,
            window: VecDeque::new(),
            cursor: 0,
            behind: (options.pool_documents - ahead).max(1),
            ahead,
            input_done: false,
            error: None,
            ready: VecDeque::new(),
            next_index: 0,
            done: false,
        })
    }

    /// The document stream underneath.
    pub fn inner(&self) -> &I {
        &self.documents
    }

    /// Reads documents until the window holds `ahead` documents after the current one.
    fn fill(&mut self) {
        while !self.input_done && self.window.len() <= self.cursor + self.ahead {
            match self.documents.next() {
                Some(Ok(document)) => self.window.push_back(document),
                Some(Err(error)) => {
                    self.error = Some(error);
                    self.input_done = true;
                }
                None => self.input_done = true,
            }
        }
    }

    /// The most tokens of the two segments together.
    fn max_tokens(&self) -> usize {
        self.options.max_length - 3
    }

    /// A target length for the next pair.
    fn target(&self, rng: &mut Rng) -> usize {
        let max = self.max_tokens();
        if rng.gen_bool(self.options.short_seq_prob) {
            2 + rng.gen_index(max - 1)
        } else {
            max
        }
    }

    /// Up to `target` tokens from a random other document of the window, starting at a random
    /// sentence.
    fn random_segment(&self, rng: &mut Rng, target: usize) -> Segment {
        let other = rng.gen_index(self.window.len() - 1);
        let other = if other >= self.cursor {
            other + 1
        } else {
            other
        };
        let document = &self.window[other];
        let start = rng.gen_index(document.sentences.len());
        let mut segment = Segment::new();
        for sentence in &document.sentences[start..] {
            extend(&mut segment, sentence);
            if segment.len() >= target {
                break;
            }
        }
        segment
    }

    /// The pairs of the current document.
    fn document_pairs(&self) -> Vec<(Segment, Segment, u32)> {
        let document = &self.window[self.cursor];
        let sentences = &document.sentences;
        let mut rng = item_rng(self.seed, PAIRS, self.epoch, document.index);
        let mut pairs = Vec::new();
        let mut target = self.target(&mut rng);
        let mut chunk: Vec<usize> = Vec::new();
        let mut chunk_tokens = 0;
        let mut i = 0;
        while i < sentences.len() {
            chunk.push(i);
            chunk_tokens += sentences[i].len();
            if i + 1 == sentences.len() || chunk_tokens >= target {
                let is_next = rng.gen_bool(0.5);
                let mut a = Segment::new();
                let mut b = Segment::new();
                let mut label = NOT_NEXT;
                if chunk.len() >= 2 {
                    let a_end = 1 + rng.gen_index(chunk.len() - 1);
                    for &s in &chunk[..a_end] {
                        extend(&mut a, &sentences[s]);
                    }
                    if is_next {
                        for &s in &chunk[a_end..] {
                            extend(&mut b, &sentences[s]);
                        }
                        label = IS_NEXT;
                    } else {
                        b = self.random_segment(&mut rng, target.saturating_sub(a.len()).max(1));
                        // The sentences after the cut start the next chunk.
                        i -= chunk.len() - a_end;
                    }
                } else {
                    let sentence = &sentences[chunk[0]];
                    let cuts: Vec<usize> = (1..sentence.len())
                        .filter(|&p| sentence.word_starts.get(p).copied().unwrap_or(true))
                        .collect();
                    extend(&mut a, sentence);
                    if is_next && !cuts.is_empty() {
                        let cut = cuts[rng.gen_index(cuts.len())];
                        b = a.split_off(cut);
                        label = IS_NEXT;
                    } else {
                        b = self.random_segment(&mut rng, target.saturating_sub(a.len()).max(1));
                    }
                }
                truncate_pair(&mut a, &mut b, self.max_tokens(), &mut rng);
                pairs.push((a, b, label));
                chunk.clear();
                chunk_tokens = 0;
                target = self.target(&mut rng);
            }
            i += 1;
        }
        pairs
    }

    /// `[CLS] A [SEP] B [SEP]` with segment ids 0 then 1.
    fn sequence(&mut self, a: &Segment, b: &Segment, label: u32) -> PretrainSequence {
        let mut builder = SequenceBuilder::with_capacity(a.len() + b.len() + 3);
        builder.special(self.specials.cls, 0);
        for &(id, start) in a {
            builder.token(id, 0, start);
        }
        builder.special(self.specials.sep, 0);
        for &(id, start) in b {
            builder.token(id, 1, start);
        }
        builder.special(self.specials.sep, 1);
        self.next_index += 1;
        builder.finish(Some(label), self.next_index - 1)
    }
}

/// Appends a sentence's tokens to a segment.
fn extend(segment: &mut Segment, sentence: &TokenizedSentence) {
    segment.extend(
        sentence.ids.iter().copied().zip(
            // A sentence built without word starts makes each token a word.
            sentence
                .word_starts
                .iter()
                .copied()
                .chain(std::iter::repeat(true)),
        ),
    );
}

/// Takes tokens off the longer segment (from its front or back, at random) until the pair
/// holds at most `max_tokens`.
fn truncate_pair(a: &mut Segment, b: &mut Segment, max_tokens: usize, rng: &mut Rng) {
    while a.len() + b.len() > max_tokens {
        let longer = if a.len() > b.len() { &mut *a } else { &mut *b };
        if rng.gen_bool(0.5) {
            longer.pop_front();
        } else {
            longer.pop_back();
        }
    }
}

impl<I: Iterator<Item = Result<TokenizedDocument>>> Iterator for NspPairs<I> {
    type Item = Result<PretrainSequence>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(pair) = self.ready.pop_front() {
                return Some(Ok(pair));
            }
            if self.done {
                return None;
            }
            self.fill();
            // An error of the input comes after the pairs of the documents before it.
            if self.cursor >= self.window.len() {
                self.done = true;
                return self.error.take().map(Err);
            }
            if self.window.len() < 2 {
                self.done = true;
                let error = self.error.take().unwrap_or(DataError::TooFewDocuments {
                    purpose: "next-sentence prediction".to_owned(),
                    needed: 2,
                    found: self.window.len(),
                });
                return Some(Err(error));
            }
            for (a, b, label) in self.document_pairs() {
                let pair = self.sequence(&a, &b, label);
                self.ready.push_back(pair);
            }
            self.cursor += 1;
            while self.cursor > self.behind {
                self.window.pop_front();
                self.cursor -= 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPECIALS: SpecialIds = SpecialIds {
        cls: 101,
        sep: 102,
        pad: 0,
    };

    /// Document `index` of `sentences` sentences of `len` tokens; token ids encode the document
    /// (thousands) and the position (units).
    fn document(index: u64, sentences: usize, len: usize) -> Result<TokenizedDocument> {
        let path: Arc<Path> = Arc::from(Path::new("c.txt"));
        let sentences = (0..sentences)
            .map(|s| TokenizedSentence {
                ids: (0..len)
                    .map(|t| 1000 * (index as u32 + 1) + (s * len + t) as u32)
                    .collect(),
                word_starts: vec![true; len],
                document: index,
                path: Arc::clone(&path),
                line: s + 1,
            })
            .collect();
        Ok(TokenizedDocument {
            sentences,
            index,
            path,
            line: 1,
        })
    }

    #[test]
    fn truncation_keeps_both_segments_and_the_limit() {
        let mut rng = Rng::new(3);
        for (la, lb) in [(10, 1), (1, 10), (50, 50), (3, 2)] {
            let mut a: Segment = (0..la).map(|i| (i, true)).collect();
            let mut b: Segment = (0..lb).map(|i| (i, true)).collect();
            truncate_pair(&mut a, &mut b, 4, &mut rng);
            assert!(a.len() + b.len() <= 4 && !a.is_empty() && !b.is_empty());
        }
    }

    #[test]
    fn a_single_document_is_an_error() {
        let pairs: Vec<_> = NspPairs::new(
            vec![document(0, 5, 4)].into_iter(),
            SPECIALS,
            NspOptions::default(),
            1,
            0,
        )
        .unwrap()
        .collect();
        assert!(matches!(
            pairs.last(),
            Some(Err(DataError::TooFewDocuments { found: 1, .. }))
        ));
    }

    #[test]
    fn pairs_are_framed_typed_and_bounded() {
        let documents: Vec<_> = (0..20).map(|d| document(d, 12, 7)).collect();
        let options = NspOptions {
            max_length: 32,
            pool_documents: 4,
            ..NspOptions::default()
        };
        let pairs: Vec<PretrainSequence> =
            NspPairs::new(documents.into_iter(), SPECIALS, options, 5, 0)
                .unwrap()
                .map(Result::unwrap)
                .collect();
        assert!(pairs.len() > 40);
        for (n, pair) in pairs.iter().enumerate() {
            assert_eq!(pair.index, n as u64);
            assert!(pair.len() <= 32);
            let seps: Vec<usize> = (0..pair.len()).filter(|&i| pair.ids[i] == 102).collect();
            assert_eq!(pair.ids[0], 101);
            assert_eq!(seps.len(), 2);
            assert_eq!(seps[1], pair.len() - 1);
            let (a, b) = (&pair.ids[1..seps[0]], &pair.ids[seps[0] + 1..seps[1]]);
            assert!(!a.is_empty() && !b.is_empty());
            assert!(pair.type_ids[..=seps[0]].iter().all(|&t| t == 0));
            assert!(pair.type_ids[seps[0] + 1..].iter().all(|&t| t == 1));
            let same_document = a[0] / 1000 == b[0] / 1000;
            match pair.next_sentence_label {
                Some(IS_NEXT) => {
                    assert!(same_document);
                    // B comes after A (truncation may take tokens between them).
                    assert!(b[0] > a[a.len() - 1], "{pair:?}");
                }
                Some(NOT_NEXT) => assert!(!same_document),
                other => panic!("label {other:?}"),
            }
        }
    }
}
