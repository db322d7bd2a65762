//! Plain-text corpora for pre-training, read as streams (see [`Corpus`]).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use burnish_tokenizer::json_kind;
use flate2::bufread::MultiGzDecoder;
use serde_json::Value;

use crate::error::{BadRow, DataError, Result};
use crate::reader::BadRowPolicy;
use crate::rng::Rng;

/// The first two bytes of every gzip member.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// The read buffer of a corpus file (and of its decompressed stream).
const BUFFER_BYTES: usize = 1 << 16;
/// How many skipped lines a stream keeps to show (it counts them all).
const MAX_KEPT_BAD_LINES: usize = 100;

/// The format of a corpus file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CorpusFormat {
    /// Plain text: each non-empty line is a sentence.
    #[default]
    Text,
    /// JSON Lines: one document per line, as an object with a string text field.
    Jsonl,
}

impl CorpusFormat {
    /// The format a file name says, ignoring a final `.gz` (case-insensitive): `.jsonl`,
    /// `.ndjson` and `.json` are JSON Lines, as are Parquet and Arrow files (their rows, read
    /// whole into memory, [`crate::to_json_lines`]); everything else is plain text.
    pub fn from_path(path: &Path) -> Self {
        let name = path
            .file_name()
            .map(|name| name.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        match name.rsplit_once('.') {
            Some((_, "jsonl" | "ndjson" | "json" | "parquet" | "arrow" | "feather")) => Self::Jsonl,
            _ => Self::Text,
        }
    }
}

/// Where one document ends and the next begins in a plain-text file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DocumentSplit {
    /// Each file is one document (blank lines are ignored).
    File,
    /// One or more blank lines end a document (the format of Google's BERT pre-training
    /// data); the end of a file ends one too.
    #[default]
    BlankLine,
}

/// How to read a corpus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorpusOptions {
    /// The format of every file; `None` to tell each file's from its name
    /// ([`CorpusFormat::from_path`]).
    pub format: Option<CorpusFormat>,
    /// How plain-text files are cut into documents (JSON Lines: one record, one document).
    pub document_split: DocumentSplit,
    /// The field of a JSON Lines record that holds the text.
    pub text_field: String,
    /// What to do with a line that cannot be read (not UTF-8, not JSON, no text field).
    pub bad_lines: BadRowPolicy,
}

impl Default for CorpusOptions {
    /// Formats from the file names, blank lines between documents, the `"text"` field, fail
    /// on the first bad line.
    fn default() -> Self {
        Self {
            format: None,
            document_split: DocumentSplit::BlankLine,
            text_field: "text".to_owned(),
            bad_lines: BadRowPolicy::Fail,
        }
    }
}

/// A corpus: a list of files and how to read them. Cheap to keep; every call to
/// [`Corpus::sentences`] or [`Corpus::documents`] reads the files again from the start (once
/// per epoch, say).
///
/// - **Formats** ([`CorpusFormat`]): plain text (`.txt`, or any name that is not JSON Lines),
///   where every non-empty line is a sentence and documents are either whole files or runs of
///   lines separated by blank lines ([`DocumentSplit`]); or JSON Lines (`.jsonl`, `.ndjson`,
///   `.json`) with one document per record, its text in a string field (`"text"` by default),
///   and the text's non-empty lines as its sentences.
/// - **Compression**: any file may be gzip-compressed; it is recognised by its first two bytes
///   (the gzip magic number), so `.gz` or not does not matter, and the format is told by the
///   name without the `.gz` (`books.txt.gz` is plain text).
/// - **Streaming**: files are read lazily, line by line through a buffered reader (or gzip
///   decoder), one file after the other; nothing holds more than one line (one record) of a
///   file at a time, except [`Documents`], which holds one document.
/// - **Bad lines** (not UTF-8, not JSON, no text field) are an error naming the file and line,
///   or, under [`BadRowPolicy::Skip`], left out and counted ([`Sentences::skipped`]).
/// - **Held-out split** ([`HeldOutSplit`]): every document has an index (its position in the
///   corpus, counting from 0 across the files in order), and whether it is held out is a hash
///   of `(seed, index)` compared with the fraction. That needs no pass over the corpus and no
///   memory, gives the same split on every run, and the training and held-out parts are exact
///   complements.
///
/// Text is trimmed: a line of only whitespace is blank, and a byte-order mark at the start of a
/// file is dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corpus {
    files: Vec<PathBuf>,
    options: CorpusOptions,
}

impl Corpus {
    /// A corpus of these files, read in this order.
    ///
    /// # Errors
    /// [`DataError::InvalidOptions`] for an empty list or an empty JSON text field name;
    /// [`DataError::Io`] for a file that does not exist or is a folder.
    pub fn new<P: Into<PathBuf>>(
        files: impl IntoIterator<Item = P>,
        options: CorpusOptions,
    ) -> Result<Self> {
        let files: Vec<PathBuf> = files.into_iter().map(Into::into).collect();
        if files.is_empty() {
            return Err(DataError::options("the corpus has no files"));
        }
        if options.text_field.is_empty() {
            return Err(DataError::options("the corpus text field name is empty"));
        }
        for path in &files {
            let metadata = std::fs::metadata(path).map_err(|source| DataError::Io {
                path: path.clone(),
                source,
            })?;
            if metadata.is_dir() {
                return Err(DataError::Io {
                    path: path.clone(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::IsADirectory,
                        "a folder, not a corpus file",
                    ),
                });
            }
        }
        Ok(Self { files, options })
    }

    /// The files.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// The options.
    pub fn options(&self) -> &CorpusOptions {
        &self.options
    }

    /// A stream of every sentence, from the start of the first file.
    pub fn sentences(&self) -> Sentences {
        Sentences {
            files: self.files.clone().into(),
            options: self.options.clone(),
            next_file: 0,
            current: None,
            pending: VecDeque::new(),
            next_document: 0,
            document: None,
            filter: None,
            skipped: 0,
            bad_lines: Vec::new(),
            done: false,
        }
    }

    /// A stream of every document, from the start of the first file.
    pub fn documents(&self) -> Documents {
        Documents::new(self.sentences())
    }
}

/// One part of a corpus split by [`HeldOutSplit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    /// The documents trained on.
    Train,
    /// The documents held out (for evaluation).
    HeldOut,
}

/// A deterministic, streaming train / held-out split of a corpus by document.
///
/// Document `i` (its index in the corpus, [`Sentence::document`]) is held out if and only if
/// `u(seed, i) < fraction`, where `u(seed, i)` is the first float of
/// [`Rng::derive(seed, i)`](Rng::derive), a hash of `(seed, i)` uniform in `[0, 1)`. So:
/// - the decision for a document needs nothing but its index (no pass over the corpus, no
///   memory, and a stream can be filtered as it is read);
/// - the held-out part is about `fraction` of the documents (exactly `fraction` in
///   expectation, binomially spread), and the same on every run and platform;
/// - [`Part::Train`] and [`Part::HeldOut`] are exact complements;
/// - adding documents at the end of a corpus does not move earlier documents between parts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeldOutSplit {
    fraction: f64,
    seed: u64,
}

impl HeldOutSplit {
    /// Holds out about `fraction` of the documents.
    ///
    /// # Errors
    /// [`DataError::InvalidOptions`] if `fraction` is not in `[0, 1)`.
    pub fn new(fraction: f64, seed: u64) -> Result<Self> {
        if !(0.0..1.0).contains(&fraction) {
            return Err(DataError::options(format!(
                "the held-out fraction {fraction} is not in [0, 1)"
            )));
        }
        Ok(Self { fraction, seed })
    }

    /// The fraction held out.
    pub fn fraction(&self) -> f64 {
        self.fraction
    }

    /// Whether document `document` is held out.
    pub fn is_held_out(&self, document: u64) -> bool {
        Rng::derive(self.seed, document).gen_f64() < self.fraction
    }

    /// The part document `document` belongs to.
    pub fn part(&self, document: u64) -> Part {
        if self.is_held_out(document) {
            Part::HeldOut
        } else {
            Part::Train
        }
    }
}

/// One sentence (a non-empty, trimmed line) of a corpus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sentence {
    /// The text.
    pub text: String,
    /// The index of its document in the corpus (from 0, across the files in order; the same
    /// whether or not the stream is filtered by [`Sentences::part`]).
    pub document: u64,
    /// The file.
    pub path: Arc<Path>,
    /// The 1-based line (for JSON Lines: the record's line).
    pub line: usize,
}

/// A stream of a corpus's sentences, file after file, read lazily; see [`Corpus`].
///
/// After an error the stream ends.
pub struct Sentences {
    files: Arc<[PathBuf]>,
    options: CorpusOptions,
    next_file: usize,
    current: Option<FileLines>,
    /// The sentences of a JSON Lines record not yet returned.
    pending: VecDeque<Sentence>,
    /// The index the next new document gets.
    next_document: u64,
    /// The document the current plain-text lines belong to (`None` after a blank line or at
    /// the start of a file).
    document: Option<u64>,
    filter: Option<(HeldOutSplit, Part)>,
    skipped: usize,
    bad_lines: Vec<BadRow>,
    done: bool,
}

impl std::fmt::Debug for Sentences {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sentences")
            .field("files", &self.files)
            .field("next_file", &self.next_file)
            .field("next_document", &self.next_document)
            .field("filter", &self.filter)
            .field("skipped", &self.skipped)
            .finish_non_exhaustive()
    }
}

impl Sentences {
    /// Keeps only the sentences of the documents in `part` of `split`. Document indices are
    /// still those of the whole corpus.
    pub fn part(mut self, split: HeldOutSplit, part: Part) -> Self {
        self.filter = Some((split, part));
        self
    }

    /// How many bad lines were skipped so far (under [`BadRowPolicy::Skip`]).
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// The first skipped lines (up to 100), as `file:line: reason`.
    pub fn bad_lines(&self) -> &[BadRow] {
        &self.bad_lines
    }

    /// How many documents have been started so far (the index the next one will get).
    pub fn documents_seen(&self) -> u64 {
        self.next_document
    }

    /// Whether a sentence of `document` passes the filter.
    fn keeps(&self, document: u64) -> bool {
        self.filter
            .is_none_or(|(split, part)| split.part(document) == part)
    }

    /// A bad line: the error under `Fail`, counted (and `None`) under `Skip`.
    fn bad(&mut self, path: &Path, line: usize, reason: String) -> Option<DataError> {
        let row = BadRow {
            path: path.to_owned(),
            line,
            reason,
        };
        match self.options.bad_lines {
            BadRowPolicy::Fail => Some(DataError::BadRow(row)),
            BadRowPolicy::Skip => {
                self.skipped += 1;
                if self.bad_lines.len() < MAX_KEPT_BAD_LINES {
                    self.bad_lines.push(row);
                }
                None
            }
        }
    }

    /// The next sentence of any document, before filtering.
    fn next_unfiltered(&mut self) -> Option<Result<Sentence>> {
        loop {
            if let Some(sentence) = self.pending.pop_front() {
                return Some(Ok(sentence));
            }
            let Some(file) = self.current.as_mut() else {
                let path = self.files.get(self.next_file)?;
                self.next_file += 1;
                let format = self
                    .options
                    .format
                    .unwrap_or_else(|| CorpusFormat::from_path(path));
                match FileLines::open(path, format) {
                    Ok(file) => self.current = Some(file),
                    Err(error) => return Some(Err(error)),
                }
                // A new file starts a new document.
                self.document = None;
                continue;
            };
            let range = match file.next_line() {
                Ok(Some(range)) => range,
                Ok(None) => {
                    self.current = None;
                    continue;
                }
                Err(error) => return Some(Err(error)),
            };
            let (path, number, format) = (Arc::clone(&file.path), file.line, file.format);
            // The line's buffer is lent out while the line is handled, and then given back.
            let buffer = std::mem::take(&mut file.buffer);
            let line = &buffer[range];
            let outcome = match format {
                CorpusFormat::Text => self.text_line(&path, number, line),
                CorpusFormat::Jsonl => self.jsonl_line(&path, number, line),
            };
            if let Some(file) = self.current.as_mut() {
                file.buffer = buffer;
            }
            match outcome {
                Ok(Some(sentence)) => return Some(Ok(sentence)),
                Ok(None) => {}
                Err(reason) => {
                    if let Some(error) = self.bad(&path, number, reason) {
                        return Some(Err(error));
                    }
                }
            }
        }
    }

    /// One line of a plain-text file: a sentence, nothing (a blank line), or why it is bad.
    fn text_line(
        &mut self,
        path: &Arc<Path>,
        line: usize,
        bytes: &[u8],
    ) -> std::result::Result<Option<Sentence>, String> {
        let text = utf8(bytes)?;
        let text = text.trim();
        if text.is_empty() {
            if self.options.document_split == DocumentSplit::BlankLine {
                self.document = None;
            }
            return Ok(None);
        }
        let document = match self.document {
            Some(document) => document,
            None => {
                let document = self.next_document;
                self.next_document += 1;
                self.document = Some(document);
                document
            }
        };
        Ok(Some(Sentence {
            text: text.to_owned(),
            document,
            path: Arc::clone(path),
            line,
        }))
    }

    /// One line of a JSON Lines file: its first sentence (the others wait in `pending`),
    /// nothing (a blank line or a record with an empty text), or why it is bad.
    fn jsonl_line(
        &mut self,
        path: &Arc<Path>,
        line: usize,
        bytes: &[u8],
    ) -> std::result::Result<Option<Sentence>, String> {
        let bytes = bytes.trim_ascii();
        if bytes.is_empty() {
            return Ok(None);
        }
        let value: Value =
            serde_json::from_slice(bytes).map_err(|e| format!("not a JSON record: {e}"))?;
        let field = &self.options.text_field;
        let Value::Object(record) = value else {
            return Err(format!(
                "expected a JSON object with a `{field}` field, found {}",
                json_kind(&value)
            ));
        };
        let text = match record.get(field) {
            Some(Value::String(text)) => text,
            Some(other) => {
                return Err(format!(
                    "field `{field}` is {}, not a string",
                    json_kind(other)
                ));
            }
            None => return Err(format!("no field `{field}`")),
        };
        let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
        let Some(first) = lines.next() else {
            return Ok(None);
        };
        let document = self.next_document;
        self.next_document += 1;
        let sentence = |text: &str| Sentence {
            text: text.to_owned(),
            document,
            path: Arc::clone(path),
            line,
        };
        self.pending.extend(lines.map(sentence));
        Ok(Some(sentence(first)))
    }
}

impl Iterator for Sentences {
    type Item = Result<Sentence>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        loop {
            match self.next_unfiltered() {
                None => {
                    self.done = true;
                    return None;
                }
                Some(Err(error)) => {
                    self.done = true;
                    self.current = None;
                    self.pending.clear();
                    return Some(Err(error));
                }
                Some(Ok(sentence)) => {
                    if self.keeps(sentence.document) {
                        return Some(Ok(sentence));
                    }
                }
            }
        }
    }
}

/// The lines of one corpus file, decompressed if it is gzip.
struct FileLines {
    path: Arc<Path>,
    format: CorpusFormat,
    reader: Box<dyn BufRead + Send>,
    /// The number of the last line read (1-based; 0 before the first).
    line: usize,
    buffer: Vec<u8>,
}

impl FileLines {
    /// Opens a file; gzip is recognised by its magic number.
    fn open(path: &Path, format: CorpusFormat) -> Result<Self> {
        let io_error = |source| DataError::Io {
            path: path.to_owned(),
            source,
        };
        if let Some(kind) = crate::columnar::Columnar::from_path(path) {
            let rows = crate::columnar::to_json_lines(path, kind)?;
            return Ok(Self {
                path: Arc::from(path),
                format: CorpusFormat::Jsonl,
                reader: Box::new(std::io::Cursor::new(rows)),
                line: 0,
                buffer: Vec::new(),
            });
        }
        let file = File::open(path).map_err(io_error)?;
        let mut reader = BufReader::with_capacity(BUFFER_BYTES, file);
        let is_gzip = reader
            .fill_buf()
            .map_err(io_error)?
            .starts_with(&GZIP_MAGIC);
        let reader: Box<dyn BufRead + Send> = if is_gzip {
            Box::new(BufReader::with_capacity(
                BUFFER_BYTES,
                MultiGzDecoder::new(reader),
            ))
        } else {
            Box::new(reader)
        };
        Ok(Self {
            path: Arc::from(path),
            format,
            reader,
            line: 0,
            buffer: Vec::new(),
        })
    }

    /// Reads the next line into `buffer`; returns where it is in `buffer` without its line
    /// ending (`\n` or `\r\n`) and a leading byte-order mark, or `None` at the end.
    fn next_line(&mut self) -> Result<Option<std::ops::Range<usize>>> {
        self.buffer.clear();
        let read = self
            .reader
            .read_until(b'\n', &mut self.buffer)
            .map_err(|source| DataError::ReadLine {
                path: self.path.to_path_buf(),
                line: self.line + 1,
                source,
            })?;
        if read == 0 {
            return Ok(None);
        }
        self.line += 1;
        let mut end = self.buffer.len();
        if self.buffer[..end].ends_with(b"\n") {
            end -= 1;
        }
        if self.buffer[..end].ends_with(b"\r") {
            end -= 1;
        }
        let bom = "\u{feff}".as_bytes();
        let start = if self.line == 1 && self.buffer[..end].starts_with(bom) {
            bom.len()
        } else {
            0
        };
        Ok(Some(start..end))
    }
}

/// A line as UTF-8, or why it is not.
fn utf8(bytes: &[u8]) -> std::result::Result<&str, String> {
    std::str::from_utf8(bytes)
        .map_err(|e| format!("invalid UTF-8 at byte {} of the line", e.valid_up_to()))
}

/// One document of a corpus: its sentences, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The sentences (non-empty, trimmed lines); never empty.
    pub sentences: Vec<String>,
    /// The index of the document in the corpus (see [`Sentence::document`]).
    pub index: u64,
    /// The file.
    pub path: Arc<Path>,
    /// The 1-based line of its first sentence.
    pub line: usize,
}

/// A stream of documents, grouped from a stream of sentences; holds one document at a time.
///
/// An error comes after the sentences read before it (as a document, which the error may
/// have cut short), and then the stream ends.
#[derive(Debug)]
pub struct Documents {
    sentences: Sentences,
    /// The first sentence of the next document, read while finishing the previous one.
    peeked: Option<Sentence>,
    /// An error met while finishing the previous document.
    error: Option<DataError>,
}

impl Documents {
    /// Groups `sentences` into documents.
    pub fn new(sentences: Sentences) -> Self {
        Self {
            sentences,
            peeked: None,
            error: None,
        }
    }

    /// The sentence stream underneath (for [`Sentences::skipped`] and
    /// [`Sentences::bad_lines`]).
    pub fn sentences(&self) -> &Sentences {
        &self.sentences
    }
}

impl Iterator for Documents {
    type Item = Result<Document>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(error) = self.error.take() {
            return Some(Err(error));
        }
        let first = match self.peeked.take() {
            Some(sentence) => sentence,
            None => match self.sentences.next()? {
                Ok(sentence) => sentence,
                Err(error) => return Some(Err(error)),
            },
        };
        let mut document = Document {
            sentences: vec![first.text],
            index: first.document,
            path: first.path,
            line: first.line,
        };
        loop {
            match self.sentences.next() {
                None => break,
                Some(Err(error)) => {
                    self.error = Some(error);
                    break;
                }
                Some(Ok(sentence)) if sentence.document == document.index => {
                    document.sentences.push(sentence.text);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_come_from_the_name_without_gz() {
        let format = |name: &str| CorpusFormat::from_path(Path::new(name));
        assert_eq!(format("a.txt"), CorpusFormat::Text);
        assert_eq!(format("a.TXT.gz"), CorpusFormat::Text);
        assert_eq!(format("wiki"), CorpusFormat::Text);
        assert_eq!(format("a.jsonl"), CorpusFormat::Jsonl);
        assert_eq!(format("dir/a.JSONL.GZ"), CorpusFormat::Jsonl);
        assert_eq!(format("a.ndjson"), CorpusFormat::Jsonl);
        assert_eq!(format("a.json.gz"), CorpusFormat::Jsonl);
    }

    #[test]
    fn held_out_split_is_deterministic_complementary_and_near_the_fraction() {
        let split = HeldOutSplit::new(0.1, 7).unwrap();
        let held: Vec<u64> = (0..100_000).filter(|&i| split.is_held_out(i)).collect();
        // Binomial(100000, 0.1): standard deviation ~95.
        assert!((9_600..10_400).contains(&held.len()), "{}", held.len());
        let again = HeldOutSplit::new(0.1, 7).unwrap();
        assert!(held.iter().all(|&i| again.part(i) == Part::HeldOut));
        let other_seed = HeldOutSplit::new(0.1, 8).unwrap();
        let moved = held.iter().filter(|&&i| !other_seed.is_held_out(i)).count();
        assert!(moved > held.len() / 2, "{moved}");
        assert!((0..1000).all(|i| !HeldOutSplit::new(0.0, 1).unwrap().is_held_out(i)));
        assert!(HeldOutSplit::new(1.0, 1).is_err());
        assert!(HeldOutSplit::new(-0.1, 1).is_err());
        assert!(HeldOutSplit::new(f64::NAN, 1).is_err());
    }
}
