//! The data crate's error type, and [`BadRow`], one unreadable row of a data file.

use std::path::PathBuf;

use burnish_tokenizer::TokenizerError;

/// How many names an error message lists before it says "and N more".
const MAX_LISTED: usize = 20;

/// A row of a data file that could not be read: ragged, badly quoted, not UTF-8, not JSON, with
/// an empty text, a missing field or an unusable label.
///
/// Displayed as `path:line: reason`, the reason naming the column or field where there is one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}: {reason}", path.display())]
pub struct BadRow {
    /// The data file.
    pub path: PathBuf,
    /// The 1-based line the row starts on.
    pub line: usize,
    /// What is wrong with it.
    pub reason: String,
}

impl BadRow {
    /// The message a dataset gives for its skipped rows: `file: skipped {skipped}N bad {row}s`,
    /// then the first `max_shown` of `rows`, one per line as `file:line: reason`; `None` when
    /// nothing was skipped. CSV-like files skip rows, CoNLL files the sentences of lines: the
    /// caller names them.
    pub(crate) fn summary(
        rows: &[BadRow],
        max_shown: usize,
        skipped: &str,
        row: &str,
    ) -> Option<String> {
        let first = rows.first()?;
        let count = rows.len();
        let mut out = format!(
            "{}: skipped {skipped}{count} bad {row}{}",
            first.path.display(),
            if count == 1 { "" } else { "s" }
        );
        for row in rows.iter().take(max_shown) {
            out.push_str(&format!("\n  {row}"));
        }
        if count > max_shown {
            out.push_str(&format!("\n  ... and {} more", count - max_shown));
        }
        Some(out)
    }
}

/// Everything that can go wrong while reading, labelling, tokenizing, batching or splitting data.
///
/// Every variant that concerns a file names it, and the line and column or field where there is
/// one.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A packed pre-training sequence file ([`PackedSequences`](crate::PackedSequences)) that
    /// is incomplete, damaged or of another format version.
    #[error("{}: not a usable packed-sequence file: {reason}", path.display())]
    Packed {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A file could not be opened or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The format of a data file could not be told from its extension.
    #[error(
        "{}: unknown data format: expected a .csv, .tsv, .jsonl, .ndjson or .json (JSON Lines) \
         file, or an explicit format",
        path.display()
    )]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// A data file holds no data rows (it is empty, has only a header, or every row was bad).
    #[error("{}: {reason}", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
        /// What was found instead.
        reason: String,
    },
    /// A column asked for is not in the file's header (for JSON Lines: not a field of the
    /// first record).
    #[error(
        "{}:{line}: no column `{column}` (available: {})",
        path.display(),
        list(available)
    )]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The line of the header (or of the first record).
        line: usize,
        /// The column asked for.
        column: String,
        /// The columns the file has.
        available: Vec<String>,
    },
    /// The file as a whole is not in the expected shape (a header that cannot be read, a
    /// column named twice, a JSON array where JSON Lines were expected).
    #[error("{}:{line}: {reason}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The line where the problem is.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A field of a JSON document is missing or unusable (a SQuAD file's question without
    /// `answers`, an `answer_start` that is not a non-negative integer, ...).
    #[error("{}: {location}: {reason}", path.display())]
    JsonField {
        /// The file.
        path: PathBuf,
        /// Where the field is in the document, as a path from its root, e.g.
        /// `data[3].paragraphs[1].qas[0].answers`.
        location: String,
        /// What is wrong.
        reason: String,
    },
    /// A row could not be read, under [`BadRowPolicy::Fail`](crate::BadRowPolicy::Fail).
    #[error(transparent)]
    BadRow(#[from] BadRow),
    /// A record's label is not in the label map (typically a validation label never seen in
    /// training).
    #[error(
        "{}:{line}: unknown label {label:?} (known: {})",
        path.display(),
        list(known)
    )]
    UnknownLabel {
        /// The file.
        path: PathBuf,
        /// The record's line.
        line: usize,
        /// The label.
        label: String,
        /// The labels of the map.
        known: Vec<String>,
    },
    /// A record's label does not fit the task (a list for single-label classification, a
    /// class name for regression, ...).
    #[error("{}:{line}: {reason}", path.display())]
    Label {
        /// The file.
        path: PathBuf,
        /// The record's line.
        line: usize,
        /// What does not fit.
        reason: String,
    },
    /// A record could not be tokenized.
    #[error("{}:{line}: cannot tokenize: {source}", path.display())]
    Tokenize {
        /// The file.
        path: PathBuf,
        /// The record's line.
        line: usize,
        /// The tokenizer's error.
        #[source]
        source: TokenizerError,
    },
    /// A label map (`id2label` / `label2id`, or a list of names) is unusable.
    #[error("invalid label map: {reason}")]
    LabelMap {
        /// What is wrong.
        reason: String,
    },
    /// A corpus file could not be read past a line (an I/O or gzip decompression error in the
    /// middle of a file).
    #[error("{}:{line}: cannot read: {source}", path.display())]
    ReadLine {
        /// The file.
        path: PathBuf,
        /// The 1-based line that could not be read.
        line: usize,
        /// The underlying I/O (or decompression) error.
        #[source]
        source: std::io::Error,
    },
    /// The tokenizer has no special token that pre-training needs (`[CLS]`, `[SEP]`, `[PAD]`,
    /// `[MASK]`).
    #[error("the tokenizer has no {token} token, which {purpose} needs")]
    MissingSpecialToken {
        /// The token's text.
        token: String,
        /// What needs it.
        purpose: String,
    },
    /// A corpus has too few documents for what was asked (next-sentence prediction needs a
    /// second document to draw random segments from).
    #[error("{purpose} needs at least {needed} documents with text, the corpus has {found}")]
    TooFewDocuments {
        /// What needs them.
        purpose: String,
        /// How many are needed.
        needed: usize,
        /// How many there are.
        found: usize,
    },
    /// Options are out of range (a batch size of 0, a validation fraction outside `[0, 1)`, ...).
    #[error("invalid options: {reason}")]
    InvalidOptions {
        /// What is wrong.
        reason: String,
    },
}

/// Short for `std::result::Result<T, DataError>`.
pub type Result<T> = std::result::Result<T, DataError>;

impl DataError {
    /// Invalid options.
    pub(crate) fn options(reason: impl Into<String>) -> Self {
        Self::InvalidOptions {
            reason: reason.into(),
        }
    }

    /// An unusable label map.
    pub(crate) fn label_map(reason: impl Into<String>) -> Self {
        Self::LabelMap {
            reason: reason.into(),
        }
    }
}

/// Lists names for a message: quoted, comma separated, the first [`MAX_LISTED`] only.
fn list(names: &[String]) -> String {
    if names.is_empty() {
        return "none".to_owned();
    }
    let mut out = names
        .iter()
        .take(MAX_LISTED)
        .map(|name| format!("{name:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > MAX_LISTED {
        out.push_str(&format!(" and {} more", names.len() - MAX_LISTED));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_file_line_and_what() {
        let row = BadRow {
            path: "data/train.tsv".into(),
            line: 7,
            reason: "expected 2 fields (as in the header), found 3".into(),
        };
        assert_eq!(
            row.to_string(),
            "data/train.tsv:7: expected 2 fields (as in the header), found 3"
        );
        assert_eq!(DataError::from(row.clone()).to_string(), row.to_string());

        let missing = DataError::MissingColumn {
            path: "a.csv".into(),
            line: 1,
            column: "text".into(),
            available: vec!["sentence".into(), "label".into()],
        };
        assert_eq!(
            missing.to_string(),
            "a.csv:1: no column `text` (available: \"sentence\", \"label\")"
        );
    }

    #[test]
    fn long_lists_are_cut() {
        let names: Vec<String> = (0..25).map(|i| i.to_string()).collect();
        let text = list(&names);
        assert!(text.ends_with("\"19\" and 5 more"), "{text}");
        assert_eq!(list(&[]), "none");
    }
}
