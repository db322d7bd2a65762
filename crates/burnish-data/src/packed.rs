//! Pre-training sequences on disk: a corpus is tokenized and packed once, streamed into a
//! compact file ([`PackedWriter`]), and training reads its batches from that file by offset
//! ([`PackedSequences`]), so memory does not grow with the corpus.
//!
//! The file (little-endian throughout):
//!
//! | part | content |
//! | --- | --- |
//! | tokens | per token: its id (`u16` if the vocabulary has at most 65,536 tokens, else `u32`), then a flag byte |
//! | index | per sequence, 24 bytes: first token (`u64`), length (`u32`), next-sentence label (`u8`, 255 for none), 3 zero bytes, the sequence's number in its stream (`u64`) |
//! | trailer | 48 bytes: magic `BNSHPACK`, format version (`u32`), id width in bytes (`u32`), sequences (`u64`), tokens (`u64`), the index's offset (`u64`), the caller's key (`u64`) |
//!
//! A token's flags say whether it is a special token (its word id is `None`), whether it starts
//! a new word (word ids are numbered 0, 1, 2, ... within a sequence, as
//! [`PretrainSequence::word_ids`] requires), and whether it is in the second segment (type id
//! 1). A [`PretrainSequence`] read back equals the one written.
//!
//! A file is written under a temporary name in its folder, `fsync`ed and renamed into place by
//! [`PackedWriter::finish`], so a file under its final name is always complete: packing that is
//! interrupted leaves only a temporary file (removed when the writer is dropped, or by the next
//! run), and is redone. The key in the trailer (a hash of whatever produced the sequences:
//! corpus, tokenizer, options) lets a caller tell a file it can reuse from a stale one.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{DataError, Result};
use crate::pretrain::PretrainSequence;

const MAGIC: &[u8; 8] = b"BNSHPACK";
const VERSION: u32 = 1;
const TRAILER_LEN: u64 = 48;
const INDEX_RECORD: u64 = 24;
/// No next-sentence label.
const NO_LABEL: u8 = 255;
/// Sequences read per call while iterating.
const ITER_CHUNK: usize = 256;
/// The longest sequence a file may hold (a sanity bound for reading damaged files).
const MAX_SEQUENCE_TOKENS: u32 = 1 << 20;

/// The token is a special token (`[CLS]`, `[SEP]`): its word id is `None`.
const SPECIAL: u8 = 1;
/// The token starts a new word.
const NEW_WORD: u8 = 2;
/// The token is in the second segment (type id 1).
const SECOND_SEGMENT: u8 = 4;

/// Streams [`PretrainSequence`]s into a packed-sequence file (format: each token's id and a
/// flag byte, then a 24-byte index entry per sequence, then a 48-byte trailer with the magic
/// `BNSHPACK`; [`PackedSequences`] reads it).
///
/// Nothing appears under the final name until [`finish`](Self::finish); dropping the writer
/// before that removes its temporary files.
#[derive(Debug)]
pub struct PackedWriter {
    path: PathBuf,
    index_temp: PathBuf,
    /// The file itself, renamed into place by `finish` (removed if the writer is dropped).
    tokens: Option<burnish_fs::AtomicFile>,
    index: Option<BufWriter<File>>,
    id_width: u32,
    key: u64,
    sequences: u64,
    num_tokens: u64,
}

/// `.NAME.tmpPID` (and `.NAME.index.tmpPID`) beside `path`.
fn temp_name(path: &Path, extra: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}{extra}.tmp{}", std::process::id()))
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> DataError + '_ {
    move |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl PackedWriter {
    /// Starts a file at `path` for token ids below `vocab_size`, tagged with `key`.
    ///
    /// # Errors
    /// [`DataError::Io`] if the temporary files cannot be created.
    pub fn create(path: &Path, key: u64, vocab_size: usize) -> Result<Self> {
        let index_temp = temp_name(path, ".index");
        let tokens =
            burnish_fs::AtomicFile::with_capacity(1 << 20, path).map_err(io_error(path))?;
        let index = File::create(&index_temp).map_err(io_error(&index_temp))?;
        Ok(Self {
            path: path.to_path_buf(),
            index_temp,
            tokens: Some(tokens),
            index: Some(BufWriter::with_capacity(1 << 16, index)),
            id_width: if vocab_size <= 1 << 16 { 2 } else { 4 },
            key,
            sequences: 0,
            num_tokens: 0,
        })
    }

    /// Sequences written so far.
    pub fn len(&self) -> u64 {
        self.sequences
    }

    /// Whether no sequence has been written.
    pub fn is_empty(&self) -> bool {
        self.sequences == 0
    }

    /// Appends a sequence.
    ///
    /// # Errors
    /// [`DataError::Io`] if writing fails; [`DataError::InvalidOptions`] for a sequence the
    /// format cannot hold (an id too large for the vocabulary size given, a type id above 1,
    /// word ids not numbered in order, mismatched lengths).
    pub fn push(&mut self, sequence: &PretrainSequence) -> Result<()> {
        let n = sequence.ids.len();
        if sequence.type_ids.len() != n || sequence.word_ids.len() != n {
            return Err(DataError::options(
                "a pre-training sequence's ids, type ids and word ids differ in length",
            ));
        }
        if n as u64 > u64::from(MAX_SEQUENCE_TOKENS) {
            return Err(DataError::options(format!(
                "a pre-training sequence of {n} tokens is longer than a packed file holds"
            )));
        }
        let label = match sequence.next_sentence_label {
            None => NO_LABEL,
            Some(l) if l < u32::from(NO_LABEL) => l as u8,
            Some(l) => {
                return Err(DataError::options(format!(
                    "next-sentence label {l} does not fit a packed file"
                )));
            }
        };
        let tokens = self.tokens.as_mut().expect("writer not finished");
        let mut next_word = 0u32;
        let mut previous: Option<u32> = None;
        for t in 0..n {
            let id = sequence.ids[t];
            let mut flags = 0u8;
            match sequence.type_ids[t] {
                0 => {}
                1 => flags |= SECOND_SEGMENT,
                other => {
                    return Err(DataError::options(format!(
                        "type id {other} does not fit a packed file (0 or 1)"
                    )));
                }
            }
            match sequence.word_ids[t] {
                None => {
                    flags |= SPECIAL;
                    previous = None;
                }
                Some(word) => {
                    if previous != Some(word) {
                        if word != next_word {
                            return Err(DataError::options(
                                "a pre-training sequence's word ids are not numbered in order",
                            ));
                        }
                        flags |= NEW_WORD;
                        next_word += 1;
                    }
                    previous = Some(word);
                }
            }
            let written = if self.id_width == 2 {
                let id = u16::try_from(id).map_err(|_| {
                    DataError::options(format!("token id {id} exceeds the vocabulary size"))
                })?;
                tokens.write_all(&id.to_le_bytes())
            } else {
                tokens.write_all(&id.to_le_bytes())
            };
            written
                .and_then(|()| tokens.write_all(&[flags]))
                .map_err(io_error(&self.path))?;
        }
        let mut record = [0u8; INDEX_RECORD as usize];
        record[0..8].copy_from_slice(&self.num_tokens.to_le_bytes());
        record[8..12].copy_from_slice(&(n as u32).to_le_bytes());
        record[12] = label;
        record[16..24].copy_from_slice(&sequence.index.to_le_bytes());
        self.index
            .as_mut()
            .expect("writer not finished")
            .write_all(&record)
            .map_err(io_error(&self.index_temp))?;
        self.sequences += 1;
        self.num_tokens += n as u64;
        Ok(())
    }

    /// Appends the index and the trailer, `fsync`s the file and renames it to its final name;
    /// returns it opened for reading.
    ///
    /// # Errors
    /// [`DataError::Io`] if writing, syncing or renaming fails (the temporary files are then
    /// removed).
    pub fn finish(mut self) -> Result<PackedSequences> {
        let index = self.index.take().expect("writer not finished");
        index
            .into_inner()
            .map_err(|e| e.into_error())
            .and_then(|f| f.sync_all())
            .map_err(io_error(&self.index_temp))?;
        let mut tokens = self.tokens.take().expect("writer not finished");
        let index_offset = self.num_tokens * (u64::from(self.id_width) + 1);
        let mut index = File::open(&self.index_temp).map_err(io_error(&self.index_temp))?;
        std::io::copy(&mut index, &mut tokens).map_err(io_error(&self.path))?;
        drop(index);
        let mut trailer = Vec::with_capacity(TRAILER_LEN as usize);
        trailer.extend_from_slice(MAGIC);
        trailer.extend_from_slice(&VERSION.to_le_bytes());
        trailer.extend_from_slice(&self.id_width.to_le_bytes());
        trailer.extend_from_slice(&self.sequences.to_le_bytes());
        trailer.extend_from_slice(&self.num_tokens.to_le_bytes());
        trailer.extend_from_slice(&index_offset.to_le_bytes());
        trailer.extend_from_slice(&self.key.to_le_bytes());
        tokens.write_all(&trailer).map_err(io_error(&self.path))?;
        tokens.commit().map_err(io_error(&self.path))?;
        let _ = std::fs::remove_file(&self.index_temp);
        PackedSequences::open(&self.path)
    }
}

impl Drop for PackedWriter {
    fn drop(&mut self) {
        // An unfinished file's `AtomicFile` removes itself when dropped.
        let _ = std::fs::remove_file(&self.index_temp);
    }
}

/// A packed-sequence file opened for reading: sequences are read by position, a few at a
/// time, so only the batch being built is in memory.
#[derive(Debug)]
pub struct PackedSequences {
    path: PathBuf,
    file: Mutex<File>,
    id_width: u32,
    len: u64,
    num_tokens: u64,
    index_offset: u64,
    key: u64,
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

impl PackedSequences {
    /// Opens a file written by [`PackedWriter`], checking its trailer against its size.
    ///
    /// # Errors
    /// [`DataError::Io`] if it cannot be read; [`DataError::Packed`] if it is not a complete
    /// packed-sequence file of this version.
    pub fn open(path: &Path) -> Result<Self> {
        let bad = |reason: String| DataError::Packed {
            path: path.to_path_buf(),
            reason,
        };
        let mut file = File::open(path).map_err(io_error(path))?;
        let size = file.metadata().map_err(io_error(path))?.len();
        if size < TRAILER_LEN {
            return Err(bad(format!("{size} bytes, shorter than its trailer")));
        }
        let mut trailer = [0u8; TRAILER_LEN as usize];
        file.seek(SeekFrom::Start(size - TRAILER_LEN))
            .and_then(|_| file.read_exact(&mut trailer))
            .map_err(io_error(path))?;
        if &trailer[0..8] != MAGIC {
            return Err(bad("no packed-sequence trailer".into()));
        }
        let version = u32_at(&trailer, 8);
        if version != VERSION {
            return Err(bad(format!("format version {version}, expected {VERSION}")));
        }
        let id_width = u32_at(&trailer, 12);
        if id_width != 2 && id_width != 4 {
            return Err(bad(format!("token id width {id_width}")));
        }
        let len = u64_at(&trailer, 16);
        let num_tokens = u64_at(&trailer, 24);
        let index_offset = u64_at(&trailer, 32);
        let key = u64_at(&trailer, 40);
        let expected = num_tokens
            .checked_mul(u64::from(id_width) + 1)
            .filter(|&tokens_end| tokens_end == index_offset)
            .and_then(|_| len.checked_mul(INDEX_RECORD))
            .and_then(|index| index.checked_add(index_offset))
            .and_then(|end| end.checked_add(TRAILER_LEN));
        if expected != Some(size) {
            return Err(bad(format!(
                "{size} bytes do not match the trailer ({len} sequences, {num_tokens} tokens)"
            )));
        }
        Ok(Self {
            path: path.to_path_buf(),
            file: Mutex::new(file),
            id_width,
            len,
            num_tokens,
            index_offset,
            key,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The key it was written with.
    pub fn key(&self) -> u64 {
        self.key
    }

    /// Number of sequences.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether it holds no sequence.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of tokens of all sequences.
    pub fn num_tokens(&self) -> u64 {
        self.num_tokens
    }

    fn bad(&self, reason: String) -> DataError {
        DataError::Packed {
            path: self.path.clone(),
            reason,
        }
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        file.seek(SeekFrom::Start(offset))
            .and_then(|_| file.read_exact(buf))
            .map_err(io_error(&self.path))
    }

    /// The index records of sequences `start..end`.
    fn records(&self, start: usize, end: usize) -> Result<Vec<u8>> {
        let mut buf = vec![0u8; (end - start) * INDEX_RECORD as usize];
        self.read_at(self.index_offset + start as u64 * INDEX_RECORD, &mut buf)?;
        Ok(buf)
    }

    /// Decodes the sequence of one index record from its tokens' bytes.
    fn decode(&self, record: &[u8], bytes: &[u8]) -> Result<PretrainSequence> {
        let width = self.id_width as usize;
        let n = bytes.len() / (width + 1);
        let mut ids = Vec::with_capacity(n);
        let mut type_ids = Vec::with_capacity(n);
        let mut word_ids = Vec::with_capacity(n);
        let mut next_word = 0u32;
        let mut previous: Option<u32> = None;
        for token in bytes.chunks_exact(width + 1) {
            ids.push(if width == 2 {
                u32::from(u16::from_le_bytes([token[0], token[1]]))
            } else {
                u32_at(token, 0)
            });
            let flags = token[width];
            type_ids.push(u32::from(flags & SECOND_SEGMENT != 0));
            if flags & SPECIAL != 0 {
                word_ids.push(None);
                previous = None;
            } else {
                let word = match previous {
                    Some(word) if flags & NEW_WORD == 0 => word,
                    _ => {
                        next_word += 1;
                        next_word - 1
                    }
                };
                word_ids.push(Some(word));
                previous = Some(word);
            }
        }
        let label = record[12];
        Ok(PretrainSequence {
            ids,
            type_ids,
            word_ids,
            next_sentence_label: (label != NO_LABEL).then_some(u32::from(label)),
            index: u64_at(record, 16),
        })
    }

    /// Where a record's tokens lie: (byte offset, byte length).
    fn token_span(&self, record: &[u8]) -> Result<(u64, usize)> {
        let start = u64_at(record, 0);
        let n = u32_at(record, 8);
        if n > MAX_SEQUENCE_TOKENS || start.saturating_add(u64::from(n)) > self.num_tokens {
            return Err(self.bad(format!(
                "a sequence of {n} tokens at token {start} runs past the {} tokens",
                self.num_tokens
            )));
        }
        let width = u64::from(self.id_width) + 1;
        Ok((start * width, n as usize * width as usize))
    }

    /// The sequence at `position`.
    ///
    /// # Errors
    /// [`DataError::Io`] if reading fails; [`DataError::Packed`] for a position past the end
    /// or a damaged index.
    pub fn get(&self, position: usize) -> Result<PretrainSequence> {
        if position as u64 >= self.len {
            return Err(self.bad(format!(
                "sequence {position} asked for, the file holds {}",
                self.len
            )));
        }
        let record = self.records(position, position + 1)?;
        let (offset, len) = self.token_span(&record)?;
        let mut bytes = vec![0u8; len];
        self.read_at(offset, &mut bytes)?;
        self.decode(&record, &bytes)
    }

    /// The sequences at `positions`, in that order.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub fn get_many(&self, positions: &[usize]) -> Result<Vec<PretrainSequence>> {
        positions.iter().map(|&p| self.get(p)).collect()
    }

    /// The sequences `start..end`, in order, with one read for their index records and one
    /// for their tokens (they are stored one after the other).
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub fn range(&self, start: usize, end: usize) -> Result<Vec<PretrainSequence>> {
        let end = end.min(self.len());
        if start >= end {
            return Ok(Vec::new());
        }
        let records = self.records(start, end)?;
        let spans = records
            .chunks_exact(INDEX_RECORD as usize)
            .map(|r| self.token_span(r))
            .collect::<Result<Vec<_>>>()?;
        let first = spans[0].0;
        let last = spans[spans.len() - 1];
        let total = (last.0 + last.1 as u64)
            .checked_sub(first)
            .ok_or_else(|| self.bad("sequences out of order in the index".into()))?;
        let mut bytes = vec![0u8; total as usize];
        self.read_at(first, &mut bytes)?;
        records
            .chunks_exact(INDEX_RECORD as usize)
            .zip(spans)
            .map(|(record, (offset, len))| {
                let from = (offset - first) as usize;
                let slice = bytes
                    .get(from..from + len)
                    .ok_or_else(|| self.bad("sequences out of order in the index".into()))?;
                self.decode(record, slice)
            })
            .collect()
    }

    /// All sequences in order, read from the file a fixed-size chunk at a time.
    pub fn iter(&self) -> impl Iterator<Item = Result<PretrainSequence>> + '_ {
        (0..self.len()).step_by(ITER_CHUNK).flat_map(move |start| {
            match self.range(start, start + ITER_CHUNK) {
                Ok(chunk) => chunk.into_iter().map(Ok).collect::<Vec<_>>(),
                Err(error) => vec![Err(error)],
            }
        })
    }

    /// Writes `sequences` to `path` (see [`PackedWriter`]), stopping after `limit` of them,
    /// and opens the result.
    ///
    /// # Errors
    /// The first error of `sequences`, or of [`PackedWriter`]; nothing is left at `path` then.
    pub fn write(
        path: &Path,
        key: u64,
        vocab_size: usize,
        sequences: impl Iterator<Item = Result<PretrainSequence>>,
        limit: Option<usize>,
    ) -> Result<Self> {
        let mut writer = PackedWriter::create(path, key, vocab_size)?;
        for sequence in sequences.take(limit.unwrap_or(usize::MAX)) {
            writer.push(&sequence?)?;
        }
        writer.finish()
    }
}

/// Pre-training sequences that can be read by position: in memory (a slice) or on disk
/// ([`PackedSequences`]).
pub trait SequenceStore {
    /// Number of sequences.
    fn num_sequences(&self) -> usize;

    /// The sequences at `positions`, in that order.
    ///
    /// # Errors
    /// A read error of a store on disk.
    fn fetch(&self, positions: &[usize]) -> Result<Vec<PretrainSequence>>;

    /// The sequences `start..end` (clamped to the store), in order.
    ///
    /// # Errors
    /// A read error of a store on disk.
    fn fetch_range(&self, start: usize, end: usize) -> Result<Vec<PretrainSequence>> {
        let end = end.min(self.num_sequences());
        self.fetch(&(start..end.max(start)).collect::<Vec<_>>())
    }
}

impl SequenceStore for [PretrainSequence] {
    fn num_sequences(&self) -> usize {
        self.len()
    }

    fn fetch(&self, positions: &[usize]) -> Result<Vec<PretrainSequence>> {
        positions
            .iter()
            .map(|&p| {
                self.get(p).cloned().ok_or_else(|| {
                    DataError::options(format!("sequence {p} of {} asked for", self.len()))
                })
            })
            .collect()
    }
}

impl SequenceStore for PackedSequences {
    fn num_sequences(&self) -> usize {
        self.len()
    }

    fn fetch(&self, positions: &[usize]) -> Result<Vec<PretrainSequence>> {
        self.get_many(positions)
    }

    fn fetch_range(&self, start: usize, end: usize) -> Result<Vec<PretrainSequence>> {
        self.range(start, end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sequence(index: u64, ids: &[u32], words: &[Option<u32>], types: &[u32]) -> PretrainSequence {
        PretrainSequence {
            ids: ids.to_vec(),
            type_ids: types.to_vec(),
            word_ids: words.to_vec(),
            next_sentence_label: (index % 3 == 1).then_some((index % 2) as u32),
            index,
        }
    }

    fn examples(big_ids: bool) -> Vec<PretrainSequence> {
        let high = if big_ids { 70_000 } else { 7 };
        vec![
            sequence(
                0,
                &[101, 5, 6, high, 102],
                &[None, Some(0), Some(0), Some(1), None],
                &[0; 5],
            ),
            sequence(
                1,
                &[101, 8, 102, 9, 9, 102],
                &[None, Some(0), None, Some(1), Some(1), None],
                &[0, 0, 0, 1, 1, 1],
            ),
            sequence(2, &[101, 102], &[None, None], &[0, 0]),
            sequence(
                7,
                &[101, 3, 102, 4, 102],
                &[None, Some(0), None, Some(1), None],
                &[0; 5],
            ),
        ]
    }

    #[test]
    fn sequences_read_back_equal_what_was_written() {
        for big in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("p.bin");
            let vocab = if big { 100_000 } else { 30_000 };
            let written = examples(big);
            let packed =
                PackedSequences::write(&path, 99, vocab, written.clone().into_iter().map(Ok), None)
                    .unwrap();
            assert_eq!(packed.len(), 4);
            assert_eq!(packed.key(), 99);
            assert_eq!(packed.num_tokens(), 18);
            let width = if big { 5 } else { 3 };
            assert_eq!(
                std::fs::metadata(&path).unwrap().len(),
                18 * width + 4 * INDEX_RECORD + TRAILER_LEN
            );
            assert_eq!(packed.range(0, 10).unwrap(), written);
            assert_eq!(packed.iter().collect::<Result<Vec<_>>>().unwrap(), written);
            assert_eq!(
                packed.get_many(&[3, 0, 3]).unwrap(),
                vec![written[3].clone(), written[0].clone(), written[3].clone()]
            );
            assert!(packed.get(4).is_err());
            // Only the final file is left.
            let names: Vec<_> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert_eq!(names, vec![std::ffi::OsString::from("p.bin")]);
        }
    }

    #[test]
    fn an_interrupted_or_damaged_file_is_never_taken_for_a_complete_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.bin");
        // A writer dropped before finishing leaves nothing.
        let mut writer = PackedWriter::create(&path, 1, 100).unwrap();
        writer.push(&examples(false)[0]).unwrap();
        drop(writer);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        // An error in the stream leaves nothing either.
        let failing = examples(false)
            .into_iter()
            .map(Ok)
            .chain(std::iter::once(Err(DataError::options("boom"))));
        assert!(PackedSequences::write(&path, 1, 100, failing, None).is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        // A truncated file is refused, naming the file.
        PackedSequences::write(&path, 1, 100, examples(false).into_iter().map(Ok), None).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        for cut in [0, 10, bytes.len() - 1] {
            std::fs::write(&path, &bytes[..cut]).unwrap();
            let error = PackedSequences::open(&path).unwrap_err().to_string();
            assert!(error.starts_with(&path.display().to_string()), "{error}");
        }
        // An id too large for a u16 file is refused at write time.
        let mut writer = PackedWriter::create(&path, 1, 100).unwrap();
        assert!(writer.push(&examples(true)[0]).is_err());
    }
}
