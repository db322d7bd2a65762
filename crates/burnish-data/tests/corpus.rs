//! Plain-text corpora on real text: the 10,566 vader-movies review sentences of the assets folder
//! (`$BURNISH_ASSETS`, made by `scripts/fetch-assets.sh`) written as blank-line separated
//! documents, as one document per file, as JSON Lines and gzip-compressed, and read back as
//! streams; bad lines named by file and line; the held-out split.
//!
//! A missing asset fails the test: run `scripts/fetch-assets.sh`.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use burnish_data::{
    BadRowPolicy, ColumnSpec, Corpus, CorpusFormat, CorpusOptions, DataError, Dataset, Document,
    DocumentSplit, HeldOutSplit, Part, ReadOptions,
};
use common::asset;
use flate2::Compression;
use flate2::write::GzEncoder;

/// The first `n` (at most 10,566) vader-movies sentences (trimmed): the training split's, then
/// the test split's.
fn review_sentences(n: usize) -> Vec<String> {
    let mut sentences = Vec::with_capacity(n);
    for split in ["train", "test"] {
        let path = asset(&format!("vader-movies/{split}.tsv"));
        let dataset = Dataset::read(&path, &ReadOptions::new(ColumnSpec::new("sentence", None)))
            .expect("read the vader-movies sentences");
        sentences.extend(
            dataset
                .records
                .into_iter()
                .map(|record| record.text.trim().to_owned()),
        );
    }
    assert!(
        sentences.len() >= n,
        "{} sentences, not {n}",
        sentences.len()
    );
    sentences.truncate(n);
    sentences
}

/// Cuts sentences into documents of 1 to 9 sentences (a fixed pattern).
fn documents_of(sentences: &[String]) -> Vec<Vec<String>> {
    let mut documents = Vec::new();
    let mut rest = sentences;
    let mut k = 0;
    while !rest.is_empty() {
        let size = (1 + (k * 7) % 9).min(rest.len());
        documents.push(rest[..size].to_vec());
        rest = &rest[size..];
        k += 1;
    }
    documents
}

/// The documents as a plain-text file: one sentence a line, with a mix of separators (one
/// blank line, several, a line of spaces) and line endings (`\n`, `\r\n`).
fn as_text(documents: &[Vec<String>]) -> String {
    let mut text = String::new();
    for (d, document) in documents.iter().enumerate() {
        if d > 0 {
            text.push_str(match d % 3 {
                0 => "\n",
                1 => "\n\n\n",
                _ => "   \t\n",
            });
        }
        for (s, sentence) in document.iter().enumerate() {
            text.push_str(sentence);
            text.push_str(if (d + s) % 4 == 0 { "\r\n" } else { "\n" });
        }
    }
    text
}

/// The documents as JSON Lines: `{"id": .., "text": "sentence\nsentence..."}`.
fn as_jsonl(documents: &[Vec<String>]) -> String {
    documents
        .iter()
        .enumerate()
        .map(|(d, document)| {
            let record = serde_json::json!({ "id": d, "text": document.join("\n") });
            format!("{record}\n")
        })
        .collect()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn read_documents(files: &[PathBuf], options: CorpusOptions) -> Vec<Document> {
    Corpus::new(files.iter().cloned(), options)
        .unwrap()
        .documents()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

fn texts(documents: &[Document]) -> Vec<Vec<String>> {
    documents.iter().map(|d| d.sentences.clone()).collect()
}

#[test]
fn blank_line_documents_of_real_text_read_back_exactly() {
    let sentences = review_sentences(5000);
    let expected = documents_of(&sentences);
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "reviews.txt", as_text(&expected));
    let documents = read_documents(std::slice::from_ref(&path), CorpusOptions::default());
    assert_eq!(texts(&documents), expected);
    // Indices count documents; lines point at each document's first sentence.
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    for (i, document) in documents.iter().enumerate() {
        assert_eq!(document.index, i as u64);
        assert_eq!(&*document.path, path.as_path());
        assert_eq!(lines[document.line - 1].trim(), document.sentences[0]);
    }
    // Sentences carry the same documents and their own lines.
    let sentences_read: Vec<_> = Corpus::new([&path], CorpusOptions::default())
        .unwrap()
        .sentences()
        .map(Result::unwrap)
        .collect();
    assert_eq!(sentences_read.len(), 5000);
    for sentence in &sentences_read {
        assert_eq!(lines[sentence.line - 1].trim(), sentence.text);
        assert!(expected[sentence.document as usize].contains(&sentence.text));
    }
}

#[test]
fn gzip_and_jsonl_corpora_read_the_same_documents_as_the_plain_file() {
    let sentences = review_sentences(3000);
    let expected = documents_of(&sentences);
    let dir = tempfile::tempdir().unwrap();
    let text = as_text(&expected);
    let jsonl = as_jsonl(&expected);
    let files = [
        write(dir.path(), "c.txt", &text),
        write(dir.path(), "c.txt.gz", gzip(text.as_bytes())),
        // Recognised as gzip by its magic number, whatever the name says.
        write(dir.path(), "c-compressed.txt", gzip(text.as_bytes())),
        write(dir.path(), "c.jsonl", &jsonl),
        write(dir.path(), "c.jsonl.gz", gzip(jsonl.as_bytes())),
    ];
    for file in &files {
        let documents = read_documents(std::slice::from_ref(file), CorpusOptions::default());
        assert_eq!(texts(&documents), expected, "{}", file.display());
        let indices: Vec<u64> = documents.iter().map(|d| d.index).collect();
        assert_eq!(indices, (0..expected.len() as u64).collect::<Vec<_>>());
    }
    // A gzip file of several members (as `cat a.gz b.gz` makes) is read to its end.
    let half = expected.len() / 2;
    let mut two_members = gzip(as_jsonl(&expected[..half]).as_bytes());
    two_members.extend(gzip(as_jsonl(&expected[half..]).as_bytes()));
    let path = write(dir.path(), "members.jsonl.gz", two_members);
    let documents = read_documents(&[path], CorpusOptions::default());
    assert_eq!(texts(&documents), expected);
    // An explicit format overrides the name.
    let path = write(dir.path(), "records.data", &jsonl);
    let options = CorpusOptions {
        format: Some(CorpusFormat::Jsonl),
        ..CorpusOptions::default()
    };
    assert_eq!(texts(&read_documents(&[path], options)), expected);
}

#[test]
fn one_document_per_file_ignores_blank_lines_and_counts_across_files() {
    let sentences = review_sentences(600);
    let expected = documents_of(&sentences);
    let dir = tempfile::tempdir().unwrap();
    // Three files, each holding several blank-line separated groups.
    let files: Vec<PathBuf> = expected
        .chunks(expected.len().div_ceil(3))
        .enumerate()
        .map(|(i, group)| write(dir.path(), &format!("part{i}.txt"), as_text(group)))
        .collect();
    let options = CorpusOptions {
        document_split: DocumentSplit::File,
        ..CorpusOptions::default()
    };
    let documents = read_documents(&files, options);
    assert_eq!(documents.len(), 3);
    for (i, (document, group)) in documents
        .iter()
        .zip(expected.chunks(expected.len().div_ceil(3)))
        .enumerate()
    {
        assert_eq!(document.index, i as u64);
        assert_eq!(&*document.path, files[i].as_path());
        assert_eq!(document.sentences, group.concat());
    }
    // With blank-line splitting the same files give the groups, numbered across files.
    let documents = read_documents(&files, CorpusOptions::default());
    assert_eq!(texts(&documents), expected);
    assert_eq!(documents.last().unwrap().index, expected.len() as u64 - 1);
    // A document never continues into the next file.
    let a = write(dir.path(), "a.txt", "one\ntwo\n");
    let b = write(dir.path(), "b.txt", "three\n");
    let documents = read_documents(&[a, b], CorpusOptions::default());
    assert_eq!(texts(&documents), [vec!["one", "two"], vec!["three"]]);
}

#[test]
fn bad_lines_are_errors_naming_file_and_line_after_the_documents_before_them() {
    let sentences = review_sentences(40);
    let dir = tempfile::tempdir().unwrap();
    // Line 41 of a plain-text file is not UTF-8.
    let mut bytes = sentences.join("\n").into_bytes();
    bytes.extend_from_slice(b"\nbad \xff byte\nlast line\n");
    let path = write(dir.path(), "bad.txt", &bytes);
    let corpus = Corpus::new([&path], CorpusOptions::default()).unwrap();
    let mut stream = corpus.sentences();
    // The stream is lazy: the 40 good lines come out before the error.
    for sentence in &sentences {
        assert_eq!(&stream.next().unwrap().unwrap().text, sentence);
    }
    let error = stream.next().unwrap().unwrap_err();
    assert!(matches!(&error, DataError::BadRow(row) if row.line == 41));
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("{}:41: invalid UTF-8", path.display())),
        "{message}"
    );
    assert!(stream.next().is_none(), "the stream ends after an error");

    // Skipped instead: counted, shown, and the rest is read.
    let skip = CorpusOptions {
        bad_lines: BadRowPolicy::Skip,
        ..CorpusOptions::default()
    };
    let mut stream = Corpus::new([&path], skip.clone()).unwrap().sentences();
    let read: Vec<String> = stream.by_ref().map(|s| s.unwrap().text).collect();
    assert_eq!(read.len(), 41);
    assert_eq!(read.last().unwrap(), "last line");
    assert_eq!(stream.skipped(), 1);
    assert_eq!(stream.bad_lines()[0].line, 41);

    // JSON Lines: not JSON, no text field, a text that is not a string.
    let jsonl = "{\"text\": \"fine\"}\n\n{\"text\": \"also fine\"}\n{\"text\": broken\n\
                 {\"title\": \"x\"}\n{\"text\": 3}\n[1]\n{\"text\": \"end\"}\n";
    let path = write(dir.path(), "bad.jsonl", jsonl);
    let mut documents = Corpus::new([&path], CorpusOptions::default())
        .unwrap()
        .documents();
    assert_eq!(documents.next().unwrap().unwrap().sentences, ["fine"]);
    assert_eq!(documents.next().unwrap().unwrap().sentences, ["also fine"]);
    let message = documents.next().unwrap().unwrap_err().to_string();
    assert!(
        message.starts_with(&format!("{}:4: not a JSON record", path.display())),
        "{message}"
    );
    let mut documents = Corpus::new([&path], skip).unwrap().documents();
    let read: Vec<_> = documents.by_ref().map(|d| d.unwrap()).collect();
    assert_eq!(texts(&read), [["fine"], ["also fine"], ["end"]]);
    assert_eq!(read[2].line, 8);
    let reasons: Vec<(usize, &str)> = documents
        .sentences()
        .bad_lines()
        .iter()
        .map(|row| (row.line, row.reason.as_str()))
        .collect();
    assert_eq!(reasons.len(), 4);
    assert_eq!(reasons[1], (5, "no field `text`"));
    assert_eq!(reasons[2], (6, "field `text` is a number, not a string"));
    assert_eq!(
        reasons[3],
        (
            7,
            "expected a JSON object with a `text` field, found an array"
        )
    );
    // A custom field name.
    let path = write(dir.path(), "body.jsonl", "{\"body\": \"a\\nb\"}\n");
    let options = CorpusOptions {
        text_field: "body".into(),
        ..CorpusOptions::default()
    };
    assert_eq!(texts(&read_documents(&[path], options)), [["a", "b"]]);
}

#[test]
fn a_cut_gzip_file_fails_at_the_line_it_cannot_read() {
    let sentences = review_sentences(10_000);
    let dir = tempfile::tempdir().unwrap();
    let text = sentences.join("\n");
    let mut compressed = gzip(text.as_bytes());
    compressed.truncate(compressed.len() / 2);
    let path = write(dir.path(), "cut.txt.gz", compressed);
    let mut read = 0;
    let mut error = None;
    for sentence in Corpus::new([&path], CorpusOptions::default())
        .unwrap()
        .sentences()
    {
        match sentence {
            Ok(sentence) => {
                assert_eq!(sentence.text, sentences[read]);
                read += 1;
            }
            Err(e) => error = Some(e),
        }
    }
    // Most of the first half came out before the error (the last line read may be cut).
    assert!(read > 2_500 && read < 7_500, "{read}");
    let error = error.expect("an error at the cut");
    let message = error.to_string();
    assert!(matches!(error, DataError::ReadLine { .. }), "{message}");
    let prefix = format!("{}:", path.display());
    assert!(message.starts_with(&prefix), "{message}");
    let line: usize = message[prefix.len()..]
        .split(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        line >= read && line <= read + 1,
        "{line} after {read} lines"
    );
}

#[test]
fn missing_files_and_bad_options_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.txt");
    let error = Corpus::new([&missing], CorpusOptions::default()).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with(&missing.display().to_string())
    );
    assert!(Corpus::new([dir.path()], CorpusOptions::default()).is_err());
    assert!(Corpus::new(Vec::<PathBuf>::new(), CorpusOptions::default()).is_err());
    let no_field = CorpusOptions {
        text_field: String::new(),
        ..CorpusOptions::default()
    };
    let path = write(dir.path(), "a.txt", "a\n");
    assert!(Corpus::new([&path], no_field).is_err());
    // Empty files and files of blank lines hold no documents.
    let empty = write(dir.path(), "empty.txt", "");
    let blank = write(dir.path(), "blank.txt.gz", gzip(b"\n \n\r\n"));
    assert!(read_documents(&[empty, blank], CorpusOptions::default()).is_empty());
    // A byte-order mark is not text.
    let bom = write(dir.path(), "bom.txt", "\u{feff}first\nsecond\n");
    assert_eq!(
        texts(&read_documents(&[bom], CorpusOptions::default())),
        [["first", "second"]]
    );
}

#[test]
fn the_held_out_split_partitions_documents_deterministically() {
    let sentences = review_sentences(10_000);
    let expected = documents_of(&sentences);
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "reviews.txt.gz",
        gzip(as_text(&expected).as_bytes()),
    );
    let corpus = Corpus::new([&path], CorpusOptions::default()).unwrap();
    let split = HeldOutSplit::new(0.1, 17).unwrap();
    let part = |part| -> Vec<burnish_data::Sentence> {
        corpus
            .sentences()
            .part(split, part)
            .map(Result::unwrap)
            .collect()
    };
    let train = part(Part::Train);
    let held = part(Part::HeldOut);
    assert_eq!(train.len() + held.len(), sentences.len());
    let held_documents: std::collections::BTreeSet<u64> = held.iter().map(|s| s.document).collect();
    assert!(train.iter().all(|s| !held_documents.contains(&s.document)));
    // About 10% of the 2,200-odd documents (binomial sd ~14).
    let fraction = held_documents.len() as f64 / expected.len() as f64;
    assert!((0.08..0.12).contains(&fraction), "{fraction}");
    // Each held-out document is whole, and the split is the same when read again.
    for &d in &held_documents {
        let got: Vec<&str> = held
            .iter()
            .filter(|s| s.document == d)
            .map(|s| s.text.as_str())
            .collect();
        assert_eq!(got, expected[d as usize]);
        assert!(split.is_held_out(d));
    }
    assert_eq!(part(Part::HeldOut), held);
}

/// Counts the bytes each thread has allocated and not freed, and their peak, so a test can
/// measure the memory its own work needs (other tests run on other threads).
mod counting {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    pub struct Counting;

    thread_local! {
        static CURRENT: Cell<isize> = const { Cell::new(0) };
        static PEAK: Cell<isize> = const { Cell::new(0) };
    }

    fn add(delta: isize) {
        let _ = CURRENT.try_with(|current| {
            let now = current.get() + delta;
            current.set(now);
            let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
        });
    }

    /// Starts measuring: the peak becomes the current allocation.
    pub fn reset_peak() {
        PEAK.with(|peak| peak.set(CURRENT.with(Cell::get)));
    }

    /// This thread's current allocation.
    pub fn current() -> isize {
        CURRENT.with(Cell::get)
    }

    /// This thread's peak allocation since [`reset_peak`].
    pub fn peak() -> isize {
        PEAK.with(Cell::get)
    }

    // SAFETY: every call is forwarded to the system allocator unchanged; only counters change.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let pointer = unsafe { System.alloc(layout) };
            if !pointer.is_null() {
                add(layout.size() as isize);
            }
            pointer
        }

        unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
            unsafe { System.dealloc(pointer, layout) };
            add(-(layout.size() as isize));
        }

        unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            let moved = unsafe { System.realloc(pointer, layout, new_size) };
            if !moved.is_null() {
                add(new_size as isize - layout.size() as isize);
            }
            moved
        }
    }
}

#[global_allocator]
static ALLOCATOR: counting::Counting = counting::Counting;

/// Reads a generated gzip corpus of 64 MiB of text (`BURNISH_STREAM_MIB` sets the size;
/// 10-sentence documents of review sentences, over and over) and checks that reading it allocates well under a MiB at its peak: the
/// corpus is streamed, never loaded whole.
#[test]
fn a_large_gzip_corpus_streams_in_bounded_memory() {
    let sentences = review_sentences(10_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("large.txt.gz");
    let mut encoder = GzEncoder::new(
        std::io::BufWriter::new(std::fs::File::create(&path).unwrap()),
        Compression::fast(),
    );
    // BURNISH_STREAM_MIB makes it larger (scripts/bench_stream_memory.sh: gigabytes).
    let target = std::env::var("BURNISH_STREAM_MIB")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(64)
        << 20;
    let (mut written, mut lines, mut blank_lines) = (0usize, 0usize, 0usize);
    'outer: loop {
        for sentence in &sentences {
            if written >= target {
                break 'outer;
            }
            encoder.write_all(sentence.as_bytes()).unwrap();
            encoder.write_all(b"\n").unwrap();
            written += sentence.len() + 1;
            lines += 1;
            if lines % 10 == 0 {
                encoder.write_all(b"\n").unwrap();
                written += 1;
                blank_lines += 1;
            }
        }
    }
    encoder.finish().unwrap().flush().unwrap();
    let documents = lines.div_ceil(10);

    let corpus = Corpus::new([&path], CorpusOptions::default()).unwrap();
    let before = counting::current();
    counting::reset_peak();
    let (mut count, mut bytes, mut last_document) = (0usize, 0usize, 0u64);
    for document in corpus.documents() {
        let document = document.unwrap();
        count += 1;
        bytes += document
            .sentences
            .iter()
            .map(|s| s.len() + 1)
            .sum::<usize>();
        last_document = document.index;
    }
    let peak_kib = (counting::peak() - before) / 1024;
    assert_eq!(count, documents);
    assert_eq!(last_document as usize, documents - 1);
    assert_eq!(bytes, written - blank_lines);
    assert!(
        peak_kib < 1024,
        "reading {} MiB allocated up to {peak_kib} KiB at once",
        written >> 20
    );
    eprintln!(
        "streamed {} MiB ({count} documents) with a peak of {peak_kib} KiB allocated",
        written >> 20
    );
}
