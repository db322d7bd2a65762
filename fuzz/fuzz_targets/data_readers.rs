//! libFuzzer target: every data reader on arbitrary bytes. The first byte picks the reader
//! and file name (the readers choose the format by extension); the rest is the file. Any
//! panic is a bug: bad data must be a `DataError` naming the file and line.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use burnish_data::{
    BadRowPolicy, ColumnSpec, Corpus, CorpusOptions, Dataset, LabelKind, NerDataset,
    NerReadOptions, ReadOptions, SquadDataset, Task, TokenizeOptions, tokenize_dataset,
};
use burnish_tokenizer::Tokenizer;
use libfuzzer_sys::fuzz_target;

fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("burnish-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    })
}

fn tokenizer() -> &'static Tokenizer {
    static TOKENIZER: OnceLock<Tokenizer> = OnceLock::new();
    TOKENIZER.get_or_init(|| {
        Tokenizer::from_dir(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/tiny-bert"
        ))
        .unwrap()
    })
}

const NAMES: &[&str] = &[
    "d.csv", "d.tsv", "d.jsonl", "n.conll", "n.jsonl", "s.json", "s.jsonl", "c.txt", "c.jsonl",
    "c.txt.gz",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let index = selector as usize % NAMES.len();
    let path = scratch().join(NAMES[index]);
    std::fs::write(&path, body).unwrap();
    match index {
        0..=2 => {
            let kind = [
                LabelKind::Class,
                LabelKind::MultiLabel,
                LabelKind::Regression,
            ][(selector as usize / NAMES.len()) % 3];
            let mut options = ReadOptions::new(ColumnSpec::new("text", Some("label")));
            options.label_kind = kind;
            options.bad_rows = if selector & 0x80 != 0 {
                BadRowPolicy::Skip
            } else {
                BadRowPolicy::Fail
            };
            if let Ok(dataset) = Dataset::read(&path, &options)
                && let Ok(task) = Task::from_dataset(kind, &dataset)
            {
                let _ = tokenize_dataset(
                    tokenizer(),
                    &dataset,
                    Some(&task),
                    &TokenizeOptions::new(16),
                );
            }
        }
        3 | 4 => {
            if let Ok(data) = NerDataset::read(&path, &NerReadOptions::default()) {
                let _ = (data.tag_set(), data.entity_types());
            }
        }
        5 | 6 => {
            if let Ok(data) = SquadDataset::read(&path) {
                for e in &data.examples {
                    for a in &e.answers {
                        let _ = a.is_aligned(&e.context);
                    }
                }
            }
        }
        _ => {
            if let Ok(corpus) = Corpus::new([&path], CorpusOptions::default()) {
                for item in corpus.documents().take(10_000) {
                    if item.is_err() {
                        break;
                    }
                }
            }
        }
    }
});
