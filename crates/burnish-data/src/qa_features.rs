//! Extractive question answering features: question + context pairs become windows over the
//! context, as `transformers`' `run_qa.py` prepares them.
//!
//! - The pair is encoded `[CLS] question [SEP] context [SEP]`; only the context is truncated
//!   (`only_second`), and what does not fit continues in further windows that overlap by
//!   `stride` tokens, so a long context is read in full.
//! - Each context token keeps its byte span in the context, to cut the answer out of the text.
//! - Training labels: the first and last token of the (first) answer when it lies wholly inside
//!   the window; otherwise, and for unanswerable questions, both point at `[CLS]` (index 0).

use std::path::Path;

use burnish_tokenizer::{EncodeOptions, Encoding, Tokenizer, TokenizerError, TruncationStrategy};

use crate::error::{DataError, Result};

/// One question to featurize.
#[derive(Debug, Clone, Copy)]
pub struct QaInput<'a> {
    /// The question (leading whitespace is dropped, as `run_qa.py` does).
    pub question: &'a str,
    /// The context the answer is cut from.
    pub context: &'a str,
    /// The byte span of the (first) answer in `context`; `None` for an unanswerable question
    /// or when predicting.
    pub answer: Option<(usize, usize)>,
    /// The 1-based line (or question number) for errors.
    pub line: usize,
}

/// How questions become windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QaFeatureOptions {
    /// The most tokens a window may have, special tokens included (384 in `run_qa.py`).
    pub max_length: usize,
    /// How many context tokens consecutive windows share (`doc_stride`, 128).
    pub stride: usize,
}

impl Default for QaFeatureOptions {
    /// 384 tokens, stride 128.
    fn default() -> Self {
        Self {
            max_length: 384,
            stride: 128,
        }
    }
}

/// One window of one question's context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QaFeature {
    /// Token ids, special tokens included.
    pub ids: Vec<u32>,
    /// Segment ids: 0 for the question, 1 for the context.
    pub type_ids: Vec<u32>,
    /// Per token, its byte span in the context for context tokens; `None` for question and
    /// special tokens.
    pub context_offsets: Vec<Option<(usize, usize)>>,
    /// Index of the question in the input.
    pub example: usize,
    /// Training label: the answer's first token (0, the `[CLS]` token, when the window does not
    /// hold the answer).
    pub start: usize,
    /// Training label: the answer's last token (0 likewise).
    pub end: usize,
}

impl QaFeature {
    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no tokens.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Whether the window holds the answer (its labels are not `[CLS]`).
    pub fn has_answer(&self) -> bool {
        self.start != 0 || self.end != 0
    }
}

/// The features of a set of questions.
#[derive(Debug, Clone, Default)]
pub struct QaFeatures {
    /// The windows, question by question, in order.
    pub features: Vec<QaFeature>,
    /// How many questions needed more than one window.
    pub split_examples: usize,
    /// How many questions were so long that their windows overlap by less than the stride
    /// (halved until the context advances).
    pub reduced_stride: usize,
    /// How many questions were cut to half the window to leave room for their context.
    pub truncated_questions: usize,
}

/// Encodes questions with their contexts into (overlapping) windows.
///
/// # Errors
/// [`DataError::Tokenize`] naming `path` and the question's line (e.g. a question so long that
/// no context fits), [`DataError::InvalidOptions`] for a stride that does not fit.
pub fn qa_features(
    tokenizer: &Tokenizer,
    inputs: &[QaInput<'_>],
    options: QaFeatureOptions,
    path: &Path,
) -> Result<QaFeatures> {
    if options.stride >= options.max_length {
        return Err(DataError::options(format!(
            "doc stride {} must be smaller than the max length {}",
            options.stride, options.max_length
        )));
    }
    let encode = EncodeOptions {
        max_length: Some(options.max_length),
        truncation: TruncationStrategy::OnlySecond,
        stride: options.stride,
        return_overflowing: true,
        add_special_tokens: true,
    };
    let mut out = QaFeatures::default();
    for (index, input) in inputs.iter().enumerate() {
        let mut question = input.question.trim_start();
        // When the pair cannot be windowed (`transformers` fails on both): a question longer
        // than half the window is cut to that, then a stride not smaller than the context's
        // room is halved until the windows advance.
        let mut options = encode.clone();
        let mut tried_cut = false;
        let mut first = loop {
            match tokenizer.encode_pair(question, input.context, &options) {
                Ok(encoding) => break encoding,
                Err(TokenizerError::Truncation { .. }) if !tried_cut => {
                    tried_cut = true;
                    let keep = (options.max_length.unwrap_or(512)
                        - tokenizer.num_special_tokens(true))
                        / 2;
                    let shorter = cut_question(tokenizer, question, keep);
                    if shorter.len() < question.len() {
                        question = shorter;
                        out.truncated_questions += 1;
                    }
                }
                Err(TokenizerError::Truncation { .. }) if options.stride > 0 => {
                    options.stride /= 2;
                }
                Err(source) => {
                    return Err(DataError::Tokenize {
                        path: path.to_path_buf(),
                        line: input.line,
                        source,
                    });
                }
            }
        };
        if options.stride != encode.stride {
            out.reduced_stride += 1;
        }
        let rest = std::mem::take(&mut first.overflowing);
        if !rest.is_empty() {
            out.split_examples += 1;
        }
        for window in std::iter::once(first).chain(rest) {
            out.features.push(feature(window, index, input.answer));
        }
    }
    Ok(out)
}

/// The beginning of `question` that makes at most `keep` tokens.
fn cut_question<'a>(tokenizer: &Tokenizer, question: &'a str, keep: usize) -> &'a str {
    let bare = EncodeOptions {
        truncation: TruncationStrategy::DoNotTruncate,
        add_special_tokens: false,
        ..EncodeOptions::default()
    };
    match tokenizer.encode(question, &bare) {
        Ok(encoding) if encoding.len() > keep => {
            let end = encoding
                .offsets
                .get(keep.saturating_sub(1))
                .map_or(0, |o| o.1);
            &question[..end]
        }
        _ => question,
    }
}

/// One window and its labels.
fn feature(window: Encoding, example: usize, answer: Option<(usize, usize)>) -> QaFeature {
    let context_offsets: Vec<Option<(usize, usize)>> = window
        .sequence_ids
        .iter()
        .zip(&window.offsets)
        .map(|(seq, &offset)| (*seq == Some(1)).then_some(offset))
        .collect();
    let (start, end) = answer
        .and_then(|span| answer_tokens(&context_offsets, span))
        .unwrap_or((0, 0));
    QaFeature {
        ids: window.ids,
        type_ids: window.type_ids,
        context_offsets,
        example,
        start,
        end,
    }
}

/// The first and last context token of the byte span `(start, end)`, if the window's context
/// covers the whole span.
pub fn answer_tokens(
    context_offsets: &[Option<(usize, usize)>],
    (start, end): (usize, usize),
) -> Option<(usize, usize)> {
    let tokens: Vec<(usize, (usize, usize))> = context_offsets
        .iter()
        .enumerate()
        .filter_map(|(i, o)| o.map(|o| (i, o)))
        .collect();
    let (_, first) = tokens.first()?;
    let (_, last) = tokens.last()?;
    if first.0 > start || last.1 < end {
        return None;
    }
    // The last token starting at or before the answer, and the first ending at or after it.
    let start_token = tokens.iter().rev().find(|(_, o)| o.0 <= start)?.0;
    let end_token = tokens.iter().find(|(_, o)| o.1 >= end)?.0;
    (end_token >= start_token).then_some((start_token, end_token))
}

#[cfg(test)]
mod tests {
    use super::answer_tokens;

    #[test]
    fn answer_tokens_cover_the_span() {
        // Context "The cat sat": tokens at bytes 0..3, 4..7, 8..11 (positions 5, 6, 7).
        let offsets = [
            None,
            None,
            None,
            None,
            None,
            Some((0, 3)),
            Some((4, 7)),
            Some((8, 11)),
            None,
        ];
        assert_eq!(answer_tokens(&offsets, (4, 7)), Some((6, 6)));
        assert_eq!(answer_tokens(&offsets, (4, 11)), Some((6, 7)));
        // A span starting inside a token still starts at that token.
        assert_eq!(answer_tokens(&offsets, (5, 7)), Some((6, 6)));
        // Not inside the window's context.
        assert_eq!(answer_tokens(&offsets, (8, 15)), None);
        assert_eq!(answer_tokens(&[None, None], (0, 1)), None);
    }
}
