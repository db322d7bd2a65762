//! Parquet and Arrow files (`.parquet`; `.arrow` as `datasets.save_to_disk` writes it, Arrow
//! IPC stream or file) read as the JSON Lines every reader already takes: one JSON object per
//! row, so classification, NER, QA and pre-training corpora read them with the same columns,
//! checks and messages. A row's number is its "line" (1-based, over the whole file).
//!
//! Columns become JSON by `arrow-json` (strings, numbers, lists, structs: SQuAD's nested
//! `answers` included). Class labels: `datasets` stores a `ClassLabel` column as integers and
//! its names in the schema metadata (`huggingface` → `info.features`); such integers (also
//! inside a `Sequence(ClassLabel)`, as CoNLL's `ner_tags`) become their names, and an integer
//! with no name (`-1`, "no label" in `datasets`) becomes `null`, which the readers refuse where
//! a label is needed. Without that metadata the integers stay numbers, read as their decimal
//! strings, as a TSV would give them.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::Path;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use serde_json::Value;

use crate::error::{DataError, Result};

/// The columnar formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Columnar {
    /// Apache Parquet.
    Parquet,
    /// Arrow IPC (stream, as `datasets` writes, or file).
    Arrow,
}

impl Columnar {
    /// The columnar format a file's extension names (`.parquet`, `.arrow`, `.feather`,
    /// case-insensitive).
    pub fn from_path(path: &Path) -> Option<Self> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        match extension.as_str() {
            "parquet" => Some(Self::Parquet),
            "arrow" | "feather" => Some(Self::Arrow),
            _ => None,
        }
    }
}

/// The rows of a Parquet or Arrow file as JSON Lines bytes (see the module docs).
///
/// # Errors
/// [`DataError::Io`] when the file cannot be opened; [`DataError::Malformed`] naming the row
/// group (Parquet) or record batch (Arrow) and, where known, the column, when it cannot be
/// decoded.
pub fn to_json_lines(path: &Path, format: Columnar) -> Result<Vec<u8>> {
    let file = File::open(path).map_err(|source| DataError::Io {
        path: path.to_owned(),
        source,
    })?;
    let malformed = |line: usize, reason: String| DataError::Malformed {
        path: path.to_owned(),
        line,
        reason,
    };
    let (schema, batches): (SchemaRef, Vec<(String, RecordBatch)>) = match format {
        Columnar::Parquet => {
            use parquet::arrow::arrow_reader::{
                ArrowReaderMetadata, ParquetRecordBatchReaderBuilder,
            };
            // The footer is read once; each row group's reader reuses it.
            let footer = ArrowReaderMetadata::load(&file, Default::default())
                .map_err(|e| malformed(0, format!("not a readable Parquet file: {e}")))?;
            let mut schema = footer.schema().clone();
            if !schema.metadata().contains_key(HF_KEY) {
                // Older writers keep `datasets`' metadata only in the file's key-value pairs.
                let pairs = footer.metadata().file_metadata().key_value_metadata();
                if let Some(value) = pairs
                    .and_then(|kv| kv.iter().find(|kv| kv.key == HF_KEY))
                    .and_then(|kv| kv.value.clone())
                {
                    let mut metadata = schema.metadata().clone();
                    metadata.insert(HF_KEY.to_string(), value);
                    schema = std::sync::Arc::new(schema.as_ref().clone().with_metadata(metadata));
                }
            }
            let groups: Vec<usize> = footer
                .metadata()
                .row_groups()
                .iter()
                .map(|g| g.num_rows() as usize)
                .collect();
            let mut batches = Vec::new();
            // One row group at a time, so a decoding error names its group.
            let mut first_row = 1;
            for (group, rows) in groups.iter().enumerate() {
                let file = file.try_clone().map_err(|source| DataError::Io {
                    path: path.to_owned(),
                    source,
                })?;
                let reader =
                    ParquetRecordBatchReaderBuilder::new_with_metadata(file, footer.clone())
                        .with_row_groups(vec![group])
                        .build()
                        .map_err(|e| {
                            malformed(first_row, format!("row group {group}: cannot decode: {e}"))
                        })?;
                for batch in reader {
                    let batch = batch.map_err(|e| {
                        malformed(first_row, format!("row group {group}: cannot decode: {e}"))
                    })?;
                    batches.push((format!("row group {group}"), batch));
                }
                first_row += rows;
            }
            (schema, batches)
        }
        Columnar::Arrow => read_ipc(BufReader::new(file))
            .map_err(|reason| malformed(0, format!("not a readable Arrow IPC file: {reason}")))?,
    };
    let labels = class_labels(&schema);
    let mut out = Vec::new();
    let mut row = 0;
    for (place, batch) in &batches {
        let mut writer = arrow_json::LineDelimitedWriter::new(Vec::new());
        writer
            .write(batch)
            .and_then(|()| writer.finish())
            .map_err(|e| malformed(row + 1, format!("{place}: cannot convert to JSON: {e}")))?;
        let lines = writer.into_inner();
        if labels.is_empty() {
            out.extend_from_slice(&lines);
            row += batch.num_rows();
            continue;
        }
        for line in lines.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            row += 1;
            let mut object: serde_json::Map<String, Value> = serde_json::from_slice(line)
                .map_err(|e| malformed(row, format!("{place}: {e}")))?;
            for (column, label) in &labels {
                if let Some(value) = object.get_mut(column) {
                    label.name(value);
                }
            }
            serde_json::to_writer(&mut out, &object)
                .map_err(|e| malformed(row, format!("{place}: {e}")))?;
            out.push(b'\n');
        }
    }
    Ok(out)
}

/// The schema-metadata key under which `datasets` stores its features.
const HF_KEY: &str = "huggingface";

/// Arrow IPC: the stream format (`datasets.save_to_disk`), else the file format.
fn read_ipc<R: Read + Seek>(
    mut reader: R,
) -> std::result::Result<(SchemaRef, Vec<(String, RecordBatch)>), String> {
    let mut magic = [0u8; 6];
    let is_file = reader.read_exact(&mut magic).is_ok() && &magic == b"ARROW1";
    reader.rewind().map_err(|e| e.to_string())?;
    let collect = |batches: Vec<std::result::Result<RecordBatch, arrow_schema::ArrowError>>| {
        batches
            .into_iter()
            .enumerate()
            .map(|(i, b)| {
                b.map(|b| (format!("record batch {i}"), b))
                    .map_err(|e| format!("record batch {i}: {e}"))
            })
            .collect::<std::result::Result<Vec<_>, String>>()
    };
    if is_file {
        let file =
            arrow_ipc::reader::FileReader::try_new(reader, None).map_err(|e| e.to_string())?;
        let schema = file.schema();
        Ok((schema, collect(file.collect())?))
    } else {
        let stream =
            arrow_ipc::reader::StreamReader::try_new(reader, None).map_err(|e| e.to_string())?;
        let schema = stream.schema();
        Ok((schema, collect(stream.collect())?))
    }
}

/// A `ClassLabel` column's names, for a single label or a list of them.
#[derive(Debug, Clone, PartialEq)]
enum ClassLabel {
    Single(Vec<String>),
    List(Vec<String>),
}

impl ClassLabel {
    /// Replaces the integer(s) of `value` by their names (`null` for an integer without one).
    fn name(&self, value: &mut Value) {
        let name = |names: &[String], v: &mut Value| {
            if let Some(id) = v.as_i64() {
                *v = usize::try_from(id)
                    .ok()
                    .and_then(|i| names.get(i))
                    .map_or(Value::Null, |n| Value::String(n.clone()));
            }
        };
        match (self, value) {
            (Self::Single(names), v) => name(names, v),
            (Self::List(names), Value::Array(items)) => {
                items.iter_mut().for_each(|v| name(names, v));
            }
            (Self::List(_), _) => {}
        }
    }
}

/// The `ClassLabel` columns `datasets` recorded in the schema metadata, by column name.
fn class_labels(schema: &SchemaRef) -> HashMap<String, ClassLabel> {
    let Some(features) = schema
        .metadata()
        .get(HF_KEY)
        .and_then(|text| serde_json::from_str::<Value>(text).ok())
        .map(|v| v["info"]["features"].clone())
    else {
        return HashMap::new();
    };
    let names = |feature: &Value| -> Option<Vec<String>> {
        (feature["_type"] == "ClassLabel").then(|| {
            feature["names"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|n| n.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        })
    };
    let Some(features) = features.as_object() else {
        return HashMap::new();
    };
    features
        .iter()
        .filter_map(|(column, feature)| {
            let label = if let Some(n) = names(feature) {
                ClassLabel::Single(n)
            } else if let Some(inner) = feature.get("feature") {
                // `Sequence(ClassLabel)` / `List(ClassLabel)`.
                ClassLabel::List(names(inner)?)
            } else {
                // Older `datasets`: a list feature written as `[ClassLabel]`.
                ClassLabel::List(names(feature.as_array()?.first()?)?)
            };
            Some((column.clone(), label))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn class_label_ids_become_names_and_unnamed_ids_null() {
        let single = ClassLabel::Single(vec!["negative".into(), "positive".into()]);
        let mut v = json!(1);
        single.name(&mut v);
        assert_eq!(v, json!("positive"));
        let mut v = json!(-1);
        single.name(&mut v);
        assert_eq!(v, Value::Null);
        let list = ClassLabel::List(vec!["O".into(), "B-PER".into()]);
        let mut v = json!([0, 1, 0]);
        list.name(&mut v);
        assert_eq!(v, json!(["O", "B-PER", "O"]));
    }

    #[test]
    fn formats_from_extensions() {
        assert_eq!(
            Columnar::from_path(Path::new("a/train.Parquet")),
            Some(Columnar::Parquet)
        );
        assert_eq!(
            Columnar::from_path(Path::new("data-00000-of-00001.arrow")),
            Some(Columnar::Arrow)
        );
        assert_eq!(Columnar::from_path(Path::new("x.tsv")), None);
    }
}
