//! TensorBoard scalars (`TrainConfig::report_to = ["tensorboard"]`, `--report-to tensorboard`):
//! the values of `log.jsonl` as event files that TensorBoard's own reader loads.
//!
//! An event file is a sequence of TFRecords, each a serialised `tensorflow.Event` protobuf
//! (tensorflow/core/util/event.proto): `u64` length, masked CRC-32C of the length, the bytes,
//! masked CRC-32C of the bytes (tensorflow/core/lib/io/record_writer.cc). The first event of a
//! file holds `file_version = "brain.Event:2"`; every later one a `Summary` of
//! `simple_value` scalars. Only these few protobuf fields are written, so they are encoded here
//! rather than through a protobuf code generator.
//!
//! Each process of a run writes its own file into `OUT/tensorboard/` (TensorBoard reads every
//! `events.out.tfevents.*` of a folder as one run), appending one record per log line and
//! flushing it, so an interrupted run keeps every scalar written so far and a resumed one adds
//! a file. Tags: `train/loss`, `train/learning_rate`, `train/tokens_per_s`, `eval/<metric>`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::log::LogEvent;

/// The folder of a run's event files.
pub const DIR: &str = "tensorboard";

/// The TensorBoard scalars of one log line: `(tag, value)`; a `skipped` line has none.
pub fn scalars(event: &LogEvent) -> (usize, Vec<(String, f64)>) {
    match event {
        LogEvent::Train {
            step,
            loss,
            lr,
            tokens_per_s,
            ..
        } => (
            *step,
            vec![
                ("train/loss".into(), *loss),
                ("train/learning_rate".into(), *lr),
                ("train/tokens_per_s".into(), *tokens_per_s),
            ],
        ),
        LogEvent::Eval { step, metrics, .. } => (
            *step,
            metrics
                .iter()
                .map(|(name, &v)| (format!("eval/{name}"), v))
                .collect(),
        ),
        LogEvent::Skipped { step, .. } => (*step, Vec::new()),
    }
}

/// One process's event file, appended to record by record.
#[derive(Debug, Clone)]
pub struct EventWriter {
    path: PathBuf,
}

impl EventWriter {
    /// Creates `DIR/events.out.tfevents.<seconds>.<host>.<pid>` under `run_dir` with its
    /// `file_version` record.
    ///
    /// # Errors
    /// The I/O error of creating the folder or the file.
    pub fn create(run_dir: &Path) -> std::io::Result<Self> {
        let dir = run_dir.join(DIR);
        std::fs::create_dir_all(&dir)?;
        let now = wall_time();
        let host = std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
            .map(|h| h.trim().replace(['/', ' '], "_"))
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".into());
        let path = dir.join(format!(
            "events.out.tfevents.{}.{host}.{}",
            now as u64,
            std::process::id()
        ));
        let writer = Self { path };
        writer.append(&Event {
            wall_time: now,
            step: 0,
            file_version: Some("brain.Event:2".into()),
            summary: None,
        })?;
        Ok(writer)
    }

    /// The event file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one event holding `values` as `simple_value` scalars at `step` (values are
    /// stored as `f32`, as TensorBoard keeps scalars).
    ///
    /// # Errors
    /// The I/O error of appending to the file.
    pub fn write_scalars(&self, step: usize, values: &[(String, f64)]) -> std::io::Result<()> {
        if values.is_empty() {
            return Ok(());
        }
        self.append(&Event {
            wall_time: wall_time(),
            step: step as i64,
            file_version: None,
            summary: Some(Summary {
                value: values
                    .iter()
                    .map(|(tag, value)| SummaryValue {
                        tag: tag.clone(),
                        simple_value: Some(*value as f32),
                    })
                    .collect(),
            }),
        })
    }

    /// Appends one TFRecord holding `event` and flushes it to the file.
    fn append(&self, event: &Event) -> std::io::Result<()> {
        let data = &prost::Message::encode_to_vec(event)[..];
        let len = (data.len() as u64).to_le_bytes();
        let mut record = Vec::with_capacity(data.len() + 16);
        record.extend_from_slice(&len);
        record.extend_from_slice(&masked_crc(&len).to_le_bytes());
        record.extend_from_slice(data);
        record.extend_from_slice(&masked_crc(data).to_le_bytes());
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        file.write_all(&record)?;
        file.flush()
    }
}

fn wall_time() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// TFRecord's CRC: CRC-32C rotated right by 15 bits plus a constant.
fn masked_crc(bytes: &[u8]) -> u32 {
    let crc = crc32c::crc32c(bytes);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// `tensorflow.Event`.
#[derive(Clone, PartialEq, prost::Message)]
struct Event {
    /// Seconds since the epoch.
    #[prost(double, tag = "1")]
    wall_time: f64,
    /// The optimizer step.
    #[prost(int64, tag = "2")]
    step: i64,
    /// The file's format version (first event only).
    #[prost(string, optional, tag = "3")]
    file_version: Option<String>,
    /// The scalars.
    #[prost(message, optional, tag = "5")]
    summary: Option<Summary>,
}

/// `tensorflow.Summary`.
#[derive(Clone, PartialEq, prost::Message)]
struct Summary {
    #[prost(message, repeated, tag = "1")]
    value: Vec<SummaryValue>,
}

/// `tensorflow.Summary.Value` with a `simple_value`.
#[derive(Clone, PartialEq, prost::Message)]
struct SummaryValue {
    #[prost(string, tag = "1")]
    tag: String,
    #[prost(float, optional, tag = "2")]
    simple_value: Option<f32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_and_value_encoding_match_the_formats_definitions() {
        // CRC-32C check value of "123456789" (RFC 3720 B.4), then masked as TFRecord does.
        assert_eq!(crc32c::crc32c(b"123456789"), 0xe306_9283);
        assert_eq!(
            masked_crc(b"123456789"),
            0xe306_9283u32.rotate_right(15).wrapping_add(0xa282_ead8)
        );
        // Field 1 "a" (length 1), field 2 as a 32-bit float 1.0.
        let value = SummaryValue {
            tag: "a".into(),
            simple_value: Some(1.0),
        };
        assert_eq!(
            prost::Message::encode_to_vec(&value),
            [0x0a, 1, b'a', 0x15, 0, 0, 0x80, 0x3f]
        );
    }

    #[test]
    fn records_are_framed_and_appended() {
        let tmp = tempfile::tempdir().unwrap();
        let writer = EventWriter::create(tmp.path()).unwrap();
        writer
            .write_scalars(3, &[("train/loss".into(), 0.5)])
            .unwrap();
        let bytes = std::fs::read(writer.path()).unwrap();
        // Two records, each length + crc + data + crc, lengths matching the file's size.
        let mut at = 0;
        let mut records = 0;
        while at < bytes.len() {
            let len = u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap()) as usize;
            let len_crc = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap());
            assert_eq!(len_crc, masked_crc(&bytes[at..at + 8]));
            let data = &bytes[at + 12..at + 12 + len];
            let crc = u32::from_le_bytes(bytes[at + 12 + len..at + 16 + len].try_into().unwrap());
            assert_eq!(crc, masked_crc(data));
            at += 16 + len;
            records += 1;
        }
        assert_eq!((at, records), (bytes.len(), 2));
        assert!(bytes.windows(13).any(|w| w == b"brain.Event:2"));
        assert!(bytes.windows(10).any(|w| w == b"train/loss"));
    }
}
