//! Bounded fuzzing of the data readers on stable Rust (issue 8): seeded mutations of valid
//! CSV, TSV, JSON Lines, CoNLL, SQuAD and corpus files (plain and gzip) must give a dataset or
//! an error, never a panic. Classification inputs that read are also labelled and tokenized.
//! A panicking input is saved under the target folder's `fuzz-crashes/` and fails the test.
//!
//! `BURNISH_FUZZ_ITERS=N` (inputs per reader, default 800) or `BURNISH_FUZZ_SECONDS=S` (time
//! per reader) make it run longer; `fuzz/` holds the cargo-fuzz (libFuzzer) targets.

#[path = "../../../tests/support/mutate.rs"]
mod mutate;

use std::io::Write;
use std::path::{Path, PathBuf};

use burnish_data::{
    BadRowPolicy, ColumnSpec, Corpus, CorpusOptions, Dataset, LabelKind, NerDataset,
    NerReadOptions, ReadOptions, SquadDataset, Task, TokenizeOptions, tokenize_dataset,
};
use burnish_tokenizer::Tokenizer;

fn crash_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/fuzz-crashes")
}

fn tokenizer() -> Tokenizer {
    Tokenizer::from_dir(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/tiny-bert"),
    )
    .unwrap()
}

const CSV: &str = "text,label\n\"good, very good\",pos\nbad movie,neg\n\"said \"\"hi\"\"\",pos\n\
                   \"two\nlines\",neg\n";
const TSV: &str = "sentence\ttext_b\tlabel\nthe cat\ton the mat\t1\na dog\tran\t0\n";
const JSONL: &str = "{\"text\": \"good\", \"label\": \"pos\"}\n{\"text\": \"bad\", \"label\": [\"neg\", \"x\"]}\n\
                     {\"text\": \"ok\", \"label\": 0.5}\n";
const REGRESSION: &str = "text\tlabel\ngood\t0.5\nbad\t-1e3\nfine\t3\n";
const CONLL: &str = "-DOCSTART- -X- O\n\nEU NNP B-ORG\nrejects VBZ O\nGerman JJ B-MISC\n\n\
                     Peter NNP I-PER\nBlackburn NNP I-PER\n\n";
const NER_JSONL: &str = "{\"tokens\": [\"New\", \"York\"], \"tags\": [\"B-LOC\", \"I-LOC\"]}\n\
                         {\"tokens\": [\"a\"], \"ner_tags\": [\"O\"]}\n";
const SQUAD: &str = r#"{"version": "1.1", "data": [{"title": "T", "paragraphs": [{"context": "the cat sat on the mat", "qas": [{"id": "q1", "question": "where?", "answers": [{"text": "the mat", "answer_start": 15}]}, {"id": "q2", "question": "who?", "answers": [{"text": "cat", "answer_start": 4}], "is_impossible": false}]}]}]}"#;
const SQUAD_FLAT: &str = "{\"id\": \"a\", \"context\": \"abc def\", \"question\": \"q\", \"answers\": {\"text\": [\"def\"], \"answer_start\": [4]}}\n\
                          {\"id\": \"b\", \"context\": \"xyz\", \"question\": \"q\", \"answers\": {\"text\": [], \"answer_start\": []}}\n";
const CORPUS: &str = "First sentence of doc one.\nSecond one.\n\nDoc two, only line.\n";
const CORPUS_JSONL: &str = "{\"text\": \"one document\"}\n{\"text\": \"another\"}\n";

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn readers_survive_mutated_inputs() {
    let iters = 800;
    let tmp = tempfile::tempdir().unwrap();
    let tokenizer = tokenizer();
    let write = |name: &str, bytes: &[u8]| {
        let path = tmp.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };

    // Classification readers, each format with each label kind, then labels and tokens.
    for (i, (name, seeds)) in [
        (
            "d.csv",
            vec![
                CSV.as_bytes().to_vec(),
                REGRESSION.replace('\t', ",").into_bytes(),
            ],
        ),
        (
            "d.tsv",
            vec![TSV.as_bytes().to_vec(), REGRESSION.as_bytes().to_vec()],
        ),
        ("d.jsonl", vec![JSONL.as_bytes().to_vec()]),
    ]
    .into_iter()
    .enumerate()
    {
        mutate::fuzz(
            &format!("dataset {name}"),
            100 + i as u64,
            &seeds,
            iters,
            &crash_dir(),
            |input| {
                let path = write(name, input);
                for kind in [
                    LabelKind::Class,
                    LabelKind::MultiLabel,
                    LabelKind::Regression,
                ] {
                    for (columns, policy) in [
                        (ColumnSpec::new("text", Some("label")), BadRowPolicy::Fail),
                        (
                            ColumnSpec::pair("sentence", "text_b", Some("label")),
                            BadRowPolicy::Skip,
                        ),
                    ] {
                        let mut options = ReadOptions::new(columns);
                        options.label_kind = kind;
                        options.bad_rows = policy;
                        let Ok(dataset) = Dataset::read(&path, &options) else {
                            continue;
                        };
                        let _ = dataset.bad_rows_summary(3);
                        let Ok(task) = Task::from_dataset(kind, &dataset) else {
                            continue;
                        };
                        let _ = tokenize_dataset(
                            &tokenizer,
                            &dataset,
                            Some(&task),
                            &TokenizeOptions::new(16),
                        );
                    }
                }
            },
        );
    }

    for (i, (name, seeds)) in [
        ("d.conll", vec![CONLL.as_bytes().to_vec()]),
        ("d.jsonl", vec![NER_JSONL.as_bytes().to_vec()]),
    ]
    .into_iter()
    .enumerate()
    {
        mutate::fuzz(
            &format!("ner {name}"),
            200 + i as u64,
            &seeds,
            iters,
            &crash_dir(),
            |input| {
                let path = write(name, input);
                for policy in [BadRowPolicy::Fail, BadRowPolicy::Skip] {
                    let options = NerReadOptions {
                        bad_rows: policy,
                        ..NerReadOptions::default()
                    };
                    if let Ok(data) = NerDataset::read(&path, &options) {
                        let _ = (
                            data.tag_set(),
                            data.entity_types(),
                            data.bad_rows_summary(3),
                        );
                    }
                }
            },
        );
    }

    for (i, (name, seeds)) in [
        ("d.json", vec![SQUAD.as_bytes().to_vec()]),
        ("d.jsonl", vec![SQUAD_FLAT.as_bytes().to_vec()]),
    ]
    .into_iter()
    .enumerate()
    {
        mutate::fuzz(
            &format!("squad {name}"),
            300 + i as u64,
            &seeds,
            iters,
            &crash_dir(),
            |input| {
                let path = write(name, input);
                if let Ok(data) = SquadDataset::read(&path) {
                    for e in &data.examples {
                        for a in &e.answers {
                            let _ = (a.byte_span(&e.context), a.is_aligned(&e.context));
                        }
                    }
                    let _ = data.articles_range(0..data.articles.min(1));
                }
            },
        );
    }

    for (i, (name, seeds)) in [
        ("c.txt", vec![CORPUS.as_bytes().to_vec()]),
        ("c.jsonl", vec![CORPUS_JSONL.as_bytes().to_vec()]),
        ("c.txt.gz", vec![gzip(CORPUS.as_bytes())]),
    ]
    .into_iter()
    .enumerate()
    {
        mutate::fuzz(
            &format!("corpus {name}"),
            400 + i as u64,
            &seeds,
            iters,
            &crash_dir(),
            |input| {
                let path = write(name, input);
                let Ok(corpus) = Corpus::new([&path], CorpusOptions::default()) else {
                    return;
                };
                // At most a bounded number of items: a reader must end after an error.
                for item in corpus.documents().take(10_000) {
                    if item.is_err() {
                        break;
                    }
                }
                for item in corpus.sentences().take(10_000) {
                    if item.is_err() {
                        break;
                    }
                }
            },
        );
    }
}
