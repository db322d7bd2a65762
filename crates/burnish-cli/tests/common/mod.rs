//! Where the CLI tests' real data is: the assets of `scripts/fetch-assets.sh` (`$BURNISH_ASSETS`,
//! default `<workspace>/assets`), the committed SQuAD v1.1 slice, and the reference Python. The
//! test command (`scripts/test.sh`) sets all of them up first, so a missing one fails the test,
//! never skips it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use burnish::train::LogEvent;
use burnish::train::trainer::files;

/// all-MiniLM-L6-v2 as shipped (a `sentence-transformers` folder), from the assets.
pub fn minilm() -> PathBuf {
    asset("all-MiniLM-L6-v2/modules.json")
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A file of the assets folder; a missing one fails the test.
pub fn asset(relative: &str) -> PathBuf {
    let assets = std::env::var_os("BURNISH_ASSETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("assets"));
    let path = assets.join(relative);
    assert!(
        path.is_file(),
        "the asset {relative} not found at {}: run scripts/fetch-assets.sh",
        path.display()
    );
    path
}

/// A split (`train`: 9,509 rows, `test`: 1,057) of vader-movies: rotten tomatoes review
/// sentences with binary sentiment labels, `sentence<TAB>label` as GLUE's SST-2.
pub fn reviews(split: &str) -> PathBuf {
    asset(&format!("vader-movies/{split}.tsv"))
}

/// The committed SQuAD v1.1 dev slice (`tests/fixtures/squad/README.md`): 4 articles
/// (Super_Bowl_50, European_Union_law, Packet_switching, Force), 350 questions.
pub fn squad_slice() -> PathBuf {
    let path = root().join("tests/fixtures/squad/dev-v1.1-slice.json");
    assert!(path.is_file(), "the fixture {} is missing", path.display());
    path
}

/// The reference Python (`BURNISH_PYTHON`, else `~/.cache/burnish-venv/bin/python`, which
/// `scripts/test.sh` sets up); its absence fails the test.
pub fn python() -> PathBuf {
    if let Some(path) = std::env::var_os("BURNISH_PYTHON") {
        return PathBuf::from(path);
    }
    let home = PathBuf::from(std::env::var_os("HOME").unwrap_or_default());
    let path = home.join(".cache/burnish-venv/bin/python");
    assert!(
        path.is_file(),
        "no reference Python at {} and BURNISH_PYTHON is not set: run scripts/test.sh, which \
         sets up the venv",
        path.display()
    );
    path
}

/// The first `n` sentences of the vader-movies training split (at most 9,509).
pub fn review_sentences(n: usize) -> Vec<String> {
    let text = std::fs::read_to_string(reviews("train")).unwrap();
    let sentences: Vec<String> = text
        .lines()
        .skip(1)
        .take(n)
        .filter_map(|l| l.split('\t').next())
        .map(|s| s.trim().to_owned())
        .collect();
    assert_eq!(sentences.len(), n, "vader-movies/train.tsv is too short");
    sentences
}

/// A pre-training corpus in `dir`: the first `sentences` review sentences, ten to a document
/// (documents separated by blank lines).
pub fn review_corpus(dir: &Path, sentences: usize) -> PathBuf {
    let lines = review_sentences(sentences);
    let docs: Vec<String> = lines.chunks(10).map(|c| c.join("\n")).collect();
    let path = dir.join("corpus.txt");
    std::fs::write(&path, docs.join("\n\n") + "\n").unwrap();
    path
}

/// `n` WNUT-2016 training tweets (the assets' `wnut16/train.txt`, IOB2 tags of 10 entity
/// types) from the `skip`-th on, written in the layout of the CoNLL-2003 files: a
/// `-DOCSTART- -X- -X- O` line and a blank line, then one token a line as `TOKEN POS CHUNK NER`
/// (POS and chunk columns are placeholders: `X`, and `I-NP`/`O`), a blank line after each tweet.
pub fn wnut16_as_conll2003(skip: usize, n: usize) -> String {
    let text = std::fs::read_to_string(asset("wnut16/train.txt")).unwrap();
    let mut out = String::from("-DOCSTART- -X- -X- O\n\n");
    let mut sentences = 0;
    let mut in_sentence = false;
    for line in text.lines() {
        let Some((token, tag)) = line.split_once('\t').filter(|(t, _)| !t.is_empty()) else {
            if in_sentence {
                if sentences >= skip {
                    out.push('\n');
                }
                sentences += 1;
                in_sentence = false;
                if sentences >= skip + n {
                    break;
                }
            }
            continue;
        };
        in_sentence = true;
        if sentences >= skip {
            let chunk = if tag == "O" { "O" } else { "I-NP" };
            out.push_str(&format!("{token} X {chunk} {tag}\n"));
        }
    }
    assert_eq!(sentences, skip + n, "wnut16/train.txt is too short");
    out
}

/// Every event of a run folder's `log.jsonl`, in order.
pub fn log_events(run: &Path) -> Vec<LogEvent> {
    let text = std::fs::read_to_string(run.join(files::LOG)).unwrap();
    LogEvent::parse_all(&text).unwrap()
}
