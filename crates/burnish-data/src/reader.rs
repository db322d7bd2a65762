//! Readers for labelled text: CSV, TSV (split by the `csv` crate) and JSON Lines files, into
//! [`Record`]s that keep their source line.
//!
//! - CSV and TSV files start with a header row naming the columns; JSON Lines files hold one
//!   object per line, and the columns are its fields.
//! - [`ColumnSpec`] names the text column, an optional second text (sentence pairs) and an
//!   optional label column (none for prediction input).
//! - [`LabelKind`] says how the label is read: a class name (string or integer), a list of class
//!   names (multi-label: a JSON array, or a cell split on a separator, `|` by default) or a
//!   number (regression).
//! - Rows that cannot be read are [`BadRow`]s: [`BadRowPolicy::Fail`] stops at the first, with
//!   `file:line: reason`; [`BadRowPolicy::Skip`] leaves them out and returns them in
//!   [`Dataset::bad_rows`], so the caller can say how many were skipped and show the first few.
//!
//! Texts lose their trailing whitespace (GLUE's SST-2 ends every sentence with a space).

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde_json::{Map, Value};

use crate::columnar::Columnar;
use crate::delimited::{Parser, RawRow, RowError};
use crate::error::{BadRow, DataError, Result};
use crate::lines::{self, json_lines};

/// The format of a data file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Comma-separated values with a header row; fields may be quoted (RFC 4180).
    Csv,
    /// Tab-separated values with a header row; by default quotes are ordinary characters, as
    /// in the GLUE files (see [`ReadOptions::quoting`]).
    Tsv,
    /// JSON Lines: one JSON object per line.
    Jsonl,
    /// Apache Parquet: one row per record, columns by name ([`crate::to_json_lines`]).
    Parquet,
    /// Arrow IPC (`datasets.save_to_disk`'s `.arrow` files): as Parquet.
    Arrow,
}

impl Format {
    /// The format a file's extension names (case-insensitive): `.csv`, `.tsv`, `.jsonl`,
    /// `.ndjson` or `.json` (read as JSON Lines), `.parquet`, `.arrow` or `.feather`; `None`
    /// for anything else.
    pub fn from_path(path: &Path) -> Option<Self> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        extension.parse().ok()
    }

    /// The format's usual name: `csv`, `tsv` or `jsonl`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Tsv => "tsv",
            Self::Jsonl => "jsonl",
            Self::Parquet => "parquet",
            Self::Arrow => "arrow",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = DataError;

    /// Parses `csv`, `tsv`, `jsonl`, `ndjson`, `json`, `parquet`, `arrow` or `feather`
    /// (case-insensitive).
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Ok(Self::Csv),
            "tsv" => Ok(Self::Tsv),
            "jsonl" | "ndjson" | "json" => Ok(Self::Jsonl),
            "parquet" => Ok(Self::Parquet),
            "arrow" | "feather" => Ok(Self::Arrow),
            _ => Err(DataError::options(format!(
                "unknown data format {s:?} (expected csv, tsv, jsonl, parquet or arrow)"
            ))),
        }
    }
}

/// Which columns (CSV/TSV header names, or JSON Lines field names) hold what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnSpec {
    /// The text (the first text of a pair).
    pub text: String,
    /// The second text of a sentence pair, if any.
    pub text_pair: Option<String>,
    /// The label; `None` to read no labels (prediction input).
    pub label: Option<String>,
    /// Further text columns read where the file has them (an embedding pair's hard negative):
    /// a column absent from the file, or an empty cell, is `None` in [`Record::extra`].
    pub extra: Vec<String>,
}

impl ColumnSpec {
    /// A single text column and an optional label column.
    pub fn new(text: impl Into<String>, label: Option<&str>) -> Self {
        Self {
            text: text.into(),
            text_pair: None,
            label: label.map(str::to_owned),
            extra: Vec::new(),
        }
    }

    /// A sentence pair and an optional label column.
    pub fn pair(
        text: impl Into<String>,
        text_pair: impl Into<String>,
        label: Option<&str>,
    ) -> Self {
        Self {
            text: text.into(),
            text_pair: Some(text_pair.into()),
            label: label.map(str::to_owned),
            extra: Vec::new(),
        }
    }

    /// These columns, and `extra` read where the file has them.
    #[must_use]
    pub fn with_extra(mut self, extra: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.extra = extra.into_iter().map(Into::into).collect();
        self
    }

    /// The columns asked for, in the order text, pair, label.
    fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.text.as_str())
            .chain(self.text_pair.as_deref())
            .chain(self.label.as_deref())
    }
}

/// How the label column is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LabelKind {
    /// One class name per record: a string, or an integer (kept as its decimal text).
    #[default]
    Class,
    /// A list of class names per record (possibly empty): a JSON array, or a cell split on
    /// [`ReadOptions::label_separator`].
    MultiLabel,
    /// A finite number per record (regression).
    Regression,
}

/// What to do with rows that cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum BadRowPolicy {
    /// Stop at the first bad row with [`DataError::BadRow`].
    #[default]
    Fail,
    /// Leave bad rows out and return them in [`Dataset::bad_rows`].
    Skip,
}

impl BadRowPolicy {
    /// Handles the bad row `line` of `path`, as every reader does: an error under `Fail`; under
    /// `Skip`, added to `skipped` for the dataset to report.
    pub(crate) fn handle(
        self,
        path: &Path,
        line: usize,
        reason: String,
        skipped: &mut Vec<BadRow>,
    ) -> Result<()> {
        let row = BadRow {
            path: path.to_owned(),
            line,
            reason,
        };
        match self {
            BadRowPolicy::Fail => Err(DataError::BadRow(row)),
            BadRowPolicy::Skip => {
                skipped.push(row);
                Ok(())
            }
        }
    }
}

/// How to read a data file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOptions {
    /// The file's format; `None` to tell it from the extension ([`Format::from_path`]).
    pub format: Option<Format>,
    /// Which columns to read.
    pub columns: ColumnSpec,
    /// How to read the label column.
    pub label_kind: LabelKind,
    /// What separates the labels of a multi-label CSV/TSV cell (and of a JSON string label).
    pub label_separator: String,
    /// What to do with rows that cannot be read.
    pub bad_rows: BadRowPolicy,
    /// Whether `"` quotes fields in CSV/TSV; `None` for the format's default (CSV yes, TSV no).
    pub quoting: Option<bool>,
}

impl ReadOptions {
    /// Options for these columns: format from the extension, class labels, `|` between
    /// multi-labels, fail on the first bad row.
    pub fn new(columns: ColumnSpec) -> Self {
        Self {
            format: None,
            columns,
            label_kind: LabelKind::Class,
            label_separator: "|".to_owned(),
            bad_rows: BadRowPolicy::Fail,
            quoting: None,
        }
    }
}

/// A label as read, before it is mapped to an id (see [`Task`](crate::Task)).
#[derive(Debug, Clone, PartialEq)]
pub enum RawLabel {
    /// A class name (an integer label is kept as its decimal text, e.g. `"1"`).
    Class(String),
    /// The class names of a multi-label record (possibly none).
    Multi(Vec<String>),
    /// A regression target; always finite, also as an `f32`.
    Value(f64),
}

/// One row of a data file.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The text, without trailing whitespace; never empty.
    pub text: String,
    /// The second text of a pair, without trailing whitespace; never empty.
    pub text_pair: Option<String>,
    /// The label, when a label column was asked for.
    pub label: Option<RawLabel>,
    /// The [`ColumnSpec::extra`] columns' texts, in their order (`None`: absent or empty).
    pub extra: Vec<Option<String>>,
    /// The 1-based line the row starts on.
    pub line: usize,
}

/// The records of one data file, and the rows that were skipped.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// The file.
    pub path: PathBuf,
    /// Its format.
    pub format: Format,
    /// The columns it has: the header of a CSV/TSV file, the fields of the first record of a
    /// JSON Lines file.
    pub columns: Vec<String>,
    /// The records, in file order.
    pub records: Vec<Record>,
    /// The rows that could not be read (only under [`BadRowPolicy::Skip`]), in file order.
    pub bad_rows: Vec<BadRow>,
}

impl Dataset {
    /// Reads a data file.
    ///
    /// # Errors
    /// [`DataError::Io`] if it cannot be read, [`DataError::UnknownFormat`] if the format is
    /// neither given nor told by the extension, [`DataError::MissingColumn`] if a column asked
    /// for is not in the header, [`DataError::Malformed`] for an unreadable header or a column
    /// named twice, [`DataError::BadRow`] for the first bad row under [`BadRowPolicy::Fail`],
    /// [`DataError::Empty`] if there are no data rows, [`DataError::InvalidOptions`] for an
    /// empty label separator.
    pub fn read(path: impl AsRef<Path>, options: &ReadOptions) -> Result<Self> {
        let path = path.as_ref();
        let format = match options.format {
            Some(format) => format,
            None => Format::from_path(path).ok_or_else(|| DataError::UnknownFormat {
                path: path.to_owned(),
            })?,
        };
        if options.label_kind == LabelKind::MultiLabel && options.label_separator.is_empty() {
            return Err(DataError::options("the multi-label separator is empty"));
        }
        let data = match format {
            Format::Parquet => crate::columnar::to_json_lines(path, Columnar::Parquet)?,
            Format::Arrow => crate::columnar::to_json_lines(path, Columnar::Arrow)?,
            _ => std::fs::read(path).map_err(|source| DataError::Io {
                path: path.to_owned(),
                source,
            })?,
        };
        let mut reader = Reader {
            path,
            options,
            records: Vec::new(),
            bad_rows: Vec::new(),
        };
        let columns = match format {
            Format::Csv => reader.delimited(&data, b',', options.quoting.unwrap_or(true))?,
            Format::Tsv => reader.delimited(&data, b'\t', options.quoting.unwrap_or(false))?,
            Format::Jsonl | Format::Parquet | Format::Arrow => reader.jsonl(&data)?,
        };
        let Reader {
            records, bad_rows, ..
        } = reader;
        if records.is_empty() {
            let reason = match bad_rows.first() {
                Some(first) => format!(
                    "no readable data rows: all {} rows are bad, the first: line {}: {}",
                    bad_rows.len(),
                    first.line,
                    first.reason
                ),
                None => "no data rows".to_owned(),
            };
            return Err(DataError::Empty {
                path: path.to_owned(),
                reason,
            });
        }
        Ok(Self {
            path: path.to_owned(),
            format,
            columns,
            records,
            bad_rows,
        })
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether there are no records (never true for a dataset from [`Dataset::read`]).
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Whether the records have labels.
    pub fn has_labels(&self) -> bool {
        self.records.iter().any(|record| record.label.is_some())
    }

    /// A message for skipped rows: their count and the first `max_shown`, one per line as
    /// `file:line: reason`; `None` when no row was skipped.
    pub fn bad_rows_summary(&self, max_shown: usize) -> Option<String> {
        BadRow::summary(&self.bad_rows, max_shown, "", "row")
    }
}

/// The state of one read.
struct Reader<'a> {
    path: &'a Path,
    options: &'a ReadOptions,
    records: Vec<Record>,
    bad_rows: Vec<BadRow>,
}

/// Where each column asked for is in a CSV/TSV row.
struct ColumnIndex {
    text: usize,
    text_pair: Option<usize>,
    label: Option<usize>,
    extra: Vec<Option<usize>>,
}

impl Reader<'_> {
    /// Handles a bad row: an error under `Fail`, remembered under `Skip`.
    fn bad(&mut self, line: usize, reason: String) -> Result<()> {
        let policy = self.options.bad_rows;
        policy.handle(self.path, line, reason, &mut self.bad_rows)
    }

    /// Keeps a record, or handles the reason it is bad.
    fn push(&mut self, line: usize, record: std::result::Result<Record, String>) -> Result<()> {
        match record {
            Ok(record) => {
                self.records.push(record);
                Ok(())
            }
            Err(reason) => self.bad(line, reason),
        }
    }

    /// Reads CSV/TSV data; returns the header.
    fn delimited(&mut self, data: &[u8], delimiter: u8, quoting: bool) -> Result<Vec<String>> {
        let mut rows = Parser::new(data, delimiter, quoting);
        let header = match rows.next() {
            None => {
                return Err(DataError::Empty {
                    path: self.path.to_owned(),
                    reason: "empty file (expected a header row)".to_owned(),
                });
            }
            Some(Err(error)) => {
                return Err(DataError::Malformed {
                    path: self.path.to_owned(),
                    line: error.line,
                    reason: format!(
                        "cannot read the header: field {}: {}",
                        error.field + 1,
                        error.reason
                    ),
                });
            }
            Some(Ok(row)) => self.header(row)?,
        };
        let header_line = header.line;
        let columns = header.names;
        let index = self.column_index(&columns, header_line)?;
        for row in rows {
            match row {
                Ok(row) => {
                    let line = row.line;
                    let record = self.delimited_record(row, &columns, &index);
                    self.push(line, record)?;
                }
                Err(RowError {
                    line,
                    field,
                    reason,
                }) => {
                    let column = describe_column(&columns, field);
                    self.bad(line, format!("{column}: {reason}"))?;
                }
            }
        }
        Ok(columns)
    }

    /// Decodes the header row.
    fn header(&self, row: RawRow) -> Result<Header> {
        let mut names = Vec::with_capacity(row.fields.len());
        for (i, field) in row.fields.iter().enumerate() {
            let name = std::str::from_utf8(field).map_err(|e| DataError::Malformed {
                path: self.path.to_owned(),
                line: row.line,
                reason: format!(
                    "header field {}: invalid UTF-8 at byte {}",
                    i + 1,
                    e.valid_up_to()
                ),
            })?;
            names.push(name.trim().to_owned());
        }
        Ok(Header {
            line: row.line,
            names,
        })
    }

    /// Finds the columns asked for in the header.
    fn column_index(&self, columns: &[String], line: usize) -> Result<ColumnIndex> {
        let find = |name: &str| -> Result<usize> {
            let mut positions = columns
                .iter()
                .enumerate()
                .filter(|(_, column)| column.as_str() == name)
                .map(|(i, _)| i);
            let first = positions.next().ok_or_else(|| DataError::MissingColumn {
                path: self.path.to_owned(),
                line,
                column: name.to_owned(),
                available: columns.to_vec(),
            })?;
            if let Some(second) = positions.next() {
                return Err(DataError::Malformed {
                    path: self.path.to_owned(),
                    line,
                    reason: format!(
                        "column `{name}` appears twice in the header (fields {} and {})",
                        first + 1,
                        second + 1
                    ),
                });
            }
            Ok(first)
        };
        let spec = &self.options.columns;
        Ok(ColumnIndex {
            text: find(&spec.text)?,
            text_pair: spec.text_pair.as_deref().map(find).transpose()?,
            label: spec.label.as_deref().map(find).transpose()?,
            extra: spec
                .extra
                .iter()
                .map(|name| columns.iter().position(|c| c == name))
                .collect(),
        })
    }

    /// Turns a CSV/TSV row into a record, or says why it cannot be one.
    fn delimited_record(
        &self,
        row: RawRow,
        columns: &[String],
        index: &ColumnIndex,
    ) -> std::result::Result<Record, String> {
        if row.fields.len() != columns.len() {
            return Err(format!(
                "expected {} fields (as in the header), found {}",
                columns.len(),
                row.fields.len()
            ));
        }
        let cell = |i: usize| -> std::result::Result<&str, String> {
            std::str::from_utf8(&row.fields[i]).map_err(|e| {
                format!(
                    "column `{}`: invalid UTF-8 at byte {} of the field",
                    columns[i],
                    e.valid_up_to()
                )
            })
        };
        let spec = &self.options.columns;
        let text = text_cell(cell(index.text)?, &spec.text)?;
        let text_pair = match (index.text_pair, &spec.text_pair) {
            (Some(i), Some(name)) => Some(text_cell(cell(i)?, name)?),
            _ => None,
        };
        let label = match (index.label, &spec.label) {
            (Some(i), Some(name)) => Some(self.label_from_cell(cell(i)?, name)?),
            _ => None,
        };
        let extra = index
            .extra
            .iter()
            .map(|&i| {
                let Some(i) = i else { return Ok(None) };
                let text = cell(i)?.trim_end();
                Ok((!text.is_empty()).then(|| text.to_owned()))
            })
            .collect::<std::result::Result<_, String>>()?;
        Ok(Record {
            text,
            text_pair,
            label,
            extra,
            line: row.line,
        })
    }

    /// Reads a label from a CSV/TSV cell.
    fn label_from_cell(&self, cell: &str, column: &str) -> std::result::Result<RawLabel, String> {
        let value = cell.trim();
        match self.options.label_kind {
            LabelKind::Class => {
                if value.is_empty() {
                    Err(format!("column `{column}`: empty label"))
                } else {
                    Ok(RawLabel::Class(value.to_owned()))
                }
            }
            LabelKind::MultiLabel => Ok(RawLabel::Multi(split_labels(
                value,
                &self.options.label_separator,
            ))),
            LabelKind::Regression => {
                parse_target(value, &format!("column `{column}`")).map(RawLabel::Value)
            }
        }
    }

    /// Reads JSON Lines data; returns the fields of the first record.
    fn jsonl(&mut self, data: &[u8]) -> Result<Vec<String>> {
        let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
        if data.iter().all(u8::is_ascii_whitespace) {
            return Err(DataError::Empty {
                path: self.path.to_owned(),
                reason: "empty file".to_owned(),
            });
        }
        let records = json_lines(data, self.path, "JSON Lines (one object per line)")?;
        let mut columns: Option<Vec<String>> = None;
        for (line, raw) in records {
            let object = match parse_object(raw) {
                Ok(object) => object,
                Err(reason) => {
                    self.bad(line, reason)?;
                    continue;
                }
            };
            if columns.is_none() {
                let keys: Vec<String> = object.keys().cloned().collect();
                for name in self.options.columns.names() {
                    if !object.contains_key(name) {
                        return Err(DataError::MissingColumn {
                            path: self.path.to_owned(),
                            line,
                            column: name.to_owned(),
                            available: keys,
                        });
                    }
                }
                columns = Some(keys);
            }
            let record = self.json_record(&object, line);
            self.push(line, record)?;
        }
        Ok(columns.unwrap_or_default())
    }

    /// Turns a JSON object into a record, or says why it cannot be one.
    fn json_record(
        &self,
        object: &Map<String, Value>,
        line: usize,
    ) -> std::result::Result<Record, String> {
        let spec = &self.options.columns;
        let text = json_text(object, &spec.text)?;
        let text_pair = spec
            .text_pair
            .as_deref()
            .map(|name| json_text(object, name))
            .transpose()?;
        let label = spec
            .label
            .as_deref()
            .map(|name| self.json_label(object, name))
            .transpose()?;
        let extra = spec
            .extra
            .iter()
            .map(|name| match object.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(text)) => {
                    let text = text.trim_end();
                    Ok((!text.is_empty()).then(|| text.to_owned()))
                }
                Some(other) => Err(format!(
                    "field `{name}`: expected a string, found {}",
                    describe_json(other)
                )),
            })
            .collect::<std::result::Result<_, String>>()?;
        Ok(Record {
            text,
            text_pair,
            label,
            extra,
            line,
        })
    }

    /// Reads a label from a JSON field.
    fn json_label(
        &self,
        object: &Map<String, Value>,
        name: &str,
    ) -> std::result::Result<RawLabel, String> {
        let value = object
            .get(name)
            .ok_or_else(|| format!("no field `{name}`"))?;
        let field = format!("field `{name}`");
        match self.options.label_kind {
            LabelKind::Class => json_class(value).map(RawLabel::Class).map_err(|found| {
                let hint = if value.is_array() {
                    " (lists are multi-label labels)"
                } else if value.is_f64() {
                    " (fractional numbers are regression targets)"
                } else {
                    ""
                };
                format!(
                    "{field}: expected a class label (a string or an integer), found {found}{hint}"
                )
            }),
            LabelKind::MultiLabel => self.json_multi(value, &field).map(RawLabel::Multi),
            LabelKind::Regression => json_target(value, &field).map(RawLabel::Value),
        }
    }

    /// Reads a multi-label label from a JSON value: a list, a string split on the separator,
    /// or a single class label (a list of one).
    fn json_multi(&self, value: &Value, field: &str) -> std::result::Result<Vec<String>, String> {
        match value {
            Value::Array(items) => items
                .iter()
                .map(|item| {
                    json_class(item).map_err(|found| {
                        format!(
                            "{field}: expected a list of class labels, found {found} in the list"
                        )
                    })
                })
                .collect(),
            Value::String(s) => Ok(split_labels(s.trim(), &self.options.label_separator)),
            other => json_class(other).map(|label| vec![label]).map_err(|found| {
                format!("{field}: expected a list of class labels, found {found}")
            }),
        }
    }
}

/// Reads a regression target from a JSON value: a number, or a string holding one.
fn json_target(value: &Value, field: &str) -> std::result::Result<f64, String> {
    match value {
        Value::Number(n) => match n.as_f64() {
            Some(x) => check_target(x, &n.to_string(), field),
            None => Err(format!(
                "{field}: regression target {n} is not representable"
            )),
        },
        Value::String(s) => parse_target(s.trim(), field),
        other => Err(format!(
            "{field}: expected a number (regression target), found {}",
            describe_json(other)
        )),
    }
}

/// The header row, decoded.
struct Header {
    line: usize,
    names: Vec<String>,
}

/// Names field `field` (0-based) for a message: by its header name when there is one.
fn describe_column(columns: &[String], field: usize) -> String {
    match columns.get(field) {
        Some(name) => format!("column `{name}` (field {})", field + 1),
        None => format!("field {}", field + 1),
    }
}

/// A text cell without its trailing whitespace; an error if nothing is left.
fn text_cell(cell: &str, column: &str) -> std::result::Result<String, String> {
    let text = cell.trim_end();
    if text.is_empty() {
        Err(format!("column `{column}`: empty text"))
    } else {
        Ok(text.to_owned())
    }
}

/// Splits a multi-label cell on `separator`, trimming each label and dropping empty ones.
fn split_labels(cell: &str, separator: &str) -> Vec<String> {
    cell.split(separator)
        .map(str::trim)
        .filter(|label| !label.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Parses a regression target from text; `place` names the column or field for messages.
fn parse_target(text: &str, place: &str) -> std::result::Result<f64, String> {
    if text.is_empty() {
        return Err(format!("{place}: empty regression target"));
    }
    let value: f64 = text
        .parse()
        .map_err(|_| format!("{place}: regression target {text:?} is not a number"))?;
    check_target(value, text, place)
}

/// Checks that a regression target is finite, also as an `f32`.
fn check_target(value: f64, text: &str, place: &str) -> std::result::Result<f64, String> {
    if value.is_nan() {
        Err(format!("{place}: regression target {text:?} is NaN"))
    } else if value.is_infinite() {
        Err(format!("{place}: regression target {text:?} is infinite"))
    } else if (value as f32).is_infinite() {
        Err(format!(
            "{place}: regression target {text:?} is too large for a 32-bit float"
        ))
    } else {
        Ok(value)
    }
}

/// Parses one JSON Lines line into an object, or says why it is not one (naming what it is).
fn parse_object(raw: &[u8]) -> std::result::Result<Map<String, Value>, String> {
    lines::parse_object(raw, |other| {
        format!("expected a JSON object, found {}", describe_json(other))
    })
}

/// A text field without its trailing whitespace; an error if missing, not a string, or empty.
fn json_text(object: &Map<String, Value>, name: &str) -> std::result::Result<String, String> {
    match object.get(name) {
        None => Err(format!("no field `{name}`")),
        Some(Value::String(s)) => text_cell(s, name),
        Some(other) => Err(format!(
            "field `{name}`: expected a string, found {}",
            describe_json(other)
        )),
    }
}

/// A class name from a JSON value: a non-empty string, an integer (also written as `2.0`) or a
/// boolean; otherwise `Err` with a description of what was found.
fn json_class(value: &Value) -> std::result::Result<String, String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
        Value::String(_) => Err("an empty string".to_owned()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Ok(n.to_string()),
        Value::Number(n) => match n.as_f64() {
            // Exactly an integer (and small enough to print as one).
            Some(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => Ok(format!("{}", x as i64)),
            _ => Err(format!("the number {n}")),
        },
        other => Err(describe_json(other)),
    }
}

/// What kind of JSON value this is, for messages.
fn describe_json(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(_) => "a string".to_owned(),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}
