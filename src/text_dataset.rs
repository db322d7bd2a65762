//! [`TextDataset`]: labelled texts (or text pairs) for sequence classification.

use std::path::{Path, PathBuf};

use burnish_data::{
    ColumnSpec, Dataset, LabelKind, RawLabel, ReadOptions, Record, Task, stratified_split,
    train_valid_split,
};

use crate::error::{Error, Result};

/// Labelled texts for a classifier: read from a CSV, TSV or JSON Lines file, or built in
/// memory.
///
/// ```
/// # fn main() -> burnish::Result<()> {
/// use burnish::TextDataset;
///
/// let data = TextDataset::from_labelled([
///     ("a gorgeous, witty movie", "pos"),
///     ("a mess from start to end", "neg"),
///     ("great fun", "pos"),
/// ])?;
/// assert_eq!(data.len(), 3);
/// assert_eq!(data.task()?.label_map().unwrap().names(), ["neg", "pos"]);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TextDataset {
    path: PathBuf,
    records: Vec<Record>,
    kind: LabelKind,
}

/// The name in-memory data goes by in messages.
const MEMORY: &str = "<memory>";

impl TextDataset {
    /// Reads single-label data: the `text_column` and `label_column` of a CSV, TSV or JSON Lines
    /// file (the format from the extension). A bad row is an error naming its line.
    ///
    /// # Errors
    /// [`Error::Data`] naming the file, and the line and column where there is one.
    pub fn read(path: impl AsRef<Path>, text_column: &str, label_column: &str) -> Result<Self> {
        let options = ReadOptions::new(ColumnSpec::new(text_column, Some(label_column)));
        Self::read_with(path, &options)
    }

    /// Reads data with full control over columns (pairs), label kind (multi-label,
    /// regression), format and bad-row handling.
    ///
    /// # Errors
    /// As [`TextDataset::read`].
    pub fn read_with(path: impl AsRef<Path>, options: &ReadOptions) -> Result<Self> {
        Ok(Self::from_dataset(
            Dataset::read(path, options)?,
            options.label_kind,
        ))
    }

    /// Wraps records already read (their labels of kind `kind`).
    pub fn from_dataset(dataset: Dataset, kind: LabelKind) -> Self {
        Self {
            path: dataset.path,
            records: dataset.records,
            kind,
        }
    }

    /// Single-label data from `(text, label)` pairs.
    ///
    /// # Errors
    /// [`Error::Input`] for an empty text, naming its index.
    pub fn from_labelled<T, L>(items: impl IntoIterator<Item = (T, L)>) -> Result<Self>
    where
        T: Into<String>,
        L: Into<String>,
    {
        let records = items
            .into_iter()
            .enumerate()
            .map(|(index, (text, label))| {
                let text: String = text.into();
                if text.trim().is_empty() {
                    return Err(Error::Input {
                        index,
                        reason: "the text is empty".into(),
                    });
                }
                Ok(Record {
                    text: text.trim_end().to_owned(),
                    text_pair: None,
                    label: Some(RawLabel::Class(label.into())),
                    extra: Vec::new(),
                    line: index + 1,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            path: PathBuf::from(MEMORY),
            records,
            kind: LabelKind::Class,
        })
    }

    /// The file the records come from (`<memory>` for in-memory data).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The records, in file order.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// How the labels are read.
    pub fn label_kind(&self) -> LabelKind {
        self.kind
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether there are no records.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Keeps the first `n` records.
    pub fn take(mut self, n: usize) -> Self {
        self.records.truncate(n);
        self
    }

    /// The task these labels define: the sorted class names (single- or multi-label) or
    /// regression.
    ///
    /// # Errors
    /// [`Error::Data`] if a classification dataset has no labels.
    pub fn task(&self) -> Result<Task> {
        Ok(match self.kind {
            LabelKind::Class => {
                Task::SingleLabel(burnish_data::LabelMap::from_records(&self.records)?)
            }
            LabelKind::MultiLabel => {
                Task::MultiLabel(burnish_data::LabelMap::from_records(&self.records)?)
            }
            LabelKind::Regression => Task::Regression,
        })
    }

    /// Splits off `valid_fraction` of the records for validation, `(train, valid)`: seeded,
    /// and stratified by class for single-label data (each class keeps its proportion).
    ///
    /// # Errors
    /// [`Error::Data`] if `valid_fraction` is not in `[0, 1)`.
    pub fn split(&self, valid_fraction: f64, seed: u64) -> Result<(Self, Self)> {
        let (train, valid) = match self.kind {
            LabelKind::Class => {
                let keys: Vec<&str> = self
                    .records
                    .iter()
                    .map(|r| match &r.label {
                        Some(RawLabel::Class(c)) => c.as_str(),
                        _ => "",
                    })
                    .collect();
                stratified_split(&keys, valid_fraction, seed)?
            }
            _ => train_valid_split(self.records.len(), valid_fraction, seed)?,
        };
        let pick = |idx: &[usize]| Self {
            path: self.path.clone(),
            records: idx.iter().map(|&i| self.records[i].clone()).collect(),
            kind: self.kind,
        };
        Ok((pick(&train), pick(&valid)))
    }
}
