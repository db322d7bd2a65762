//! Tokenization of records into model-ready examples: token ids, segment ids and the label as
//! the model sees it, truncated to a maximum length.
//!
//! Sentence pairs are truncated longest-first (tokens are taken from the longer text until the
//! pair fits), as `transformers` does by default. How many texts were truncated is counted and
//! returned ([`Examples::truncated`]), so the caller can tell the user.

use std::path::Path;

use burnish_tokenizer::{
    EncodeOptions, Input, Padding, Tokenizer, TokenizerError, TruncationStrategy,
};

use crate::error::{DataError, Result};
use crate::labels::{Label, Task};
use crate::reader::{Dataset, Record};

/// How many records are encoded per call to the (parallel) batch encoder.
const CHUNK: usize = 1024;

/// One tokenized record.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// Token ids, special tokens included, not padded.
    pub ids: Vec<u32>,
    /// Segment ids (0 for the first text, 1 for the second text of a pair), as long as `ids`.
    pub type_ids: Vec<u32>,
    /// The label.
    pub label: Label,
    /// The 1-based line of the record in its file.
    pub line: usize,
}

impl Example {
    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no tokens.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// How records are tokenized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenizeOptions {
    /// The most tokens an example may have, special tokens included.
    pub max_length: usize,
    /// Which text of a pair is shortened; [`TruncationStrategy::DoNotTruncate`] keeps every
    /// text whole (and ignores `max_length`).
    pub truncation: TruncationStrategy,
}

impl TokenizeOptions {
    /// Truncation to `max_length` tokens, longest text first.
    pub fn new(max_length: usize) -> Self {
        Self {
            max_length,
            truncation: TruncationStrategy::LongestFirst,
        }
    }
}

/// The examples of a dataset, and how many of them were truncated.
#[derive(Debug, Clone, PartialEq)]
pub struct Examples {
    /// The examples, in record order.
    pub examples: Vec<Example>,
    /// How many records were longer than `max_length` and were truncated.
    pub truncated: usize,
    /// The maximum length they were truncated to.
    pub max_length: usize,
}

impl Examples {
    /// The examples' lengths in tokens, for [`BatchPlan`](crate::BatchPlan).
    pub fn lengths(&self) -> Vec<usize> {
        self.examples.iter().map(Example::len).collect()
    }

    /// `"N texts truncated to M tokens"`, or `None` when nothing was truncated.
    pub fn truncation_note(&self) -> Option<String> {
        (self.truncated > 0).then(|| {
            format!(
                "{} text{} truncated to {} tokens",
                self.truncated,
                if self.truncated == 1 { "" } else { "s" },
                self.max_length
            )
        })
    }
}

/// Tokenizes a dataset's records; see [`tokenize_records`].
///
/// # Errors
/// As [`tokenize_records`].
pub fn tokenize_dataset(
    tokenizer: &Tokenizer,
    dataset: &Dataset,
    task: Option<&Task>,
    options: &TokenizeOptions,
) -> Result<Examples> {
    tokenize_records(tokenizer, &dataset.path, &dataset.records, task, options)
}

/// Tokenizes records (texts or pairs, with special tokens) into examples, truncated to
/// `options.max_length`, with their labels mapped by `task` ([`Label::None`] for every record
/// when `task` is `None`, or for records without a label). `path` is the records' file, for
/// messages.
///
/// # Errors
/// [`DataError::UnknownLabel`] / [`DataError::Label`] for a label the task cannot use,
/// [`DataError::InvalidOptions`] for a `max_length` that leaves no room for text,
/// [`DataError::Tokenize`] (with the record's line) if the tokenizer fails.
pub fn tokenize_records(
    tokenizer: &Tokenizer,
    path: &Path,
    records: &[Record],
    task: Option<&Task>,
    options: &TokenizeOptions,
) -> Result<Examples> {
    let truncating = options.truncation != TruncationStrategy::DoNotTruncate;
    let encode_options = EncodeOptions {
        max_length: Some(options.max_length),
        truncation: options.truncation,
        ..EncodeOptions::default()
    };
    let whole = EncodeOptions {
        truncation: TruncationStrategy::DoNotTruncate,
        ..EncodeOptions::default()
    };

    let mut examples = Vec::with_capacity(records.len());
    let mut truncated = 0;
    for chunk in records.chunks(CHUNK) {
        let inputs: Vec<Input<'_>> = chunk.iter().map(input).collect();
        let lines: Vec<usize> = chunk.iter().map(|record| record.line).collect();
        let encoded = encode(tokenizer, path, &lines, &inputs, &encode_options)?;
        // An encoding at the maximum length may or may not have been cut: encode those again
        // whole to tell (only texts at the limit pay for this).
        let at_limit: Vec<usize> = if truncating {
            (0..encoded.len())
                .filter(|&i| encoded[i].0.len() >= options.max_length)
                .collect()
        } else {
            Vec::new()
        };
        if !at_limit.is_empty() {
            let again: Vec<Input<'_>> = at_limit.iter().map(|&i| inputs[i]).collect();
            let lines_again: Vec<usize> = at_limit.iter().map(|&i| lines[i]).collect();
            let whole_lengths = encode(tokenizer, path, &lines_again, &again, &whole)?;
            truncated += whole_lengths
                .iter()
                .filter(|(ids, _)| ids.len() > options.max_length)
                .count();
        }
        for (record, (ids, type_ids)) in chunk.iter().zip(encoded) {
            let label = match task {
                Some(task) => task.label(record.label.as_ref(), path, record.line)?,
                None => Label::None,
            };
            examples.push(Example {
                ids,
                type_ids,
                label,
                line: record.line,
            });
        }
    }
    Ok(Examples {
        examples,
        truncated,
        max_length: options.max_length,
    })
}

/// The tokenizer input of a record.
fn input(record: &Record) -> Input<'_> {
    match &record.text_pair {
        Some(pair) => Input::Pair(&record.text, pair),
        None => Input::Single(&record.text),
    }
}

/// Encodes inputs (from the records at `lines`) in one batch, without padding; returns ids and
/// type ids.
fn encode(
    tokenizer: &Tokenizer,
    path: &Path,
    lines: &[usize],
    inputs: &[Input<'_>],
    options: &EncodeOptions,
) -> Result<Vec<(Vec<u32>, Vec<u32>)>> {
    match tokenizer.encode_batch(inputs, options, Padding::None) {
        Ok(batch) => Ok(batch.ids.into_iter().zip(batch.type_ids).collect()),
        Err(TokenizerError::InvalidOptions { reason }) => Err(DataError::options(reason)),
        Err(batch_error) => {
            // Find the record that fails, for its line.
            for (&line, input) in lines.iter().zip(inputs) {
                if let Err(source) = tokenizer.encode_input(*input, options) {
                    return Err(DataError::Tokenize {
                        path: path.to_owned(),
                        line,
                        source,
                    });
                }
            }
            Err(DataError::Tokenize {
                path: path.to_owned(),
                line: lines.first().copied().unwrap_or(0),
                source: batch_error,
            })
        }
    }
}
