//! Helpers shared by the integration tests: where the assets (`scripts/fetch-assets.sh`) and
//! the committed data fixtures are, the tokenizers, and temporary data files.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use burnish_tokenizer::Tokenizer;

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The assets folder made by `scripts/fetch-assets.sh`: `$BURNISH_ASSETS`, default
/// `<workspace>/assets`.
pub fn assets() -> PathBuf {
    std::env::var_os("BURNISH_ASSETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("assets"))
}

/// Returns `path` if it exists, else fails the test with a message naming it. The test command
/// (`scripts/test.sh`) fetches the assets first, so a missing one is a failure, never a skip.
pub fn require(path: PathBuf, what: &str) -> PathBuf {
    assert!(
        path.exists(),
        "{what} not found at {}: run scripts/fetch-assets.sh",
        path.display()
    );
    path
}

/// A file of the assets folder ([`assets`]); a missing one fails the test.
pub fn asset(relative: &str) -> PathBuf {
    require(assets().join(relative), &format!("the asset {relative}"))
}

/// A file committed under `tests/fixtures` (e.g. `squad/dev-v1.1-slice.json`).
pub fn fixture(relative: &str) -> PathBuf {
    let path = workspace_root().join("tests/fixtures").join(relative);
    assert!(path.is_file(), "the fixture {} is missing", path.display());
    path
}

/// The committed SQuAD v1.1 dev slice (`tests/fixtures/squad/README.md`): 4 articles, 350
/// questions, 15 of them answered only past the first 384-token window.
pub fn squad_slice() -> PathBuf {
    fixture("squad/dev-v1.1-slice.json")
}

/// The real all-MiniLM-L6-v2 tokenizer, from the assets folder.
pub fn minilm_tokenizer() -> Tokenizer {
    let dir = require(
        assets().join("all-MiniLM-L6-v2"),
        "the all-MiniLM-L6-v2 model folder",
    );
    Tokenizer::from_dir(&dir).expect("load the all-MiniLM-L6-v2 tokenizer")
}

/// The tiny BERT tokenizer committed under tests/fixtures (a small real WordPiece vocabulary).
pub fn tiny_tokenizer() -> Tokenizer {
    Tokenizer::from_dir(workspace_root().join("tests/fixtures/tiny-bert"))
        .expect("load the tiny-bert tokenizer")
}

/// A temporary folder holding one file `name` with these bytes.
pub struct TempFile {
    _dir: tempfile::TempDir,
    /// The file.
    pub path: PathBuf,
}

/// Writes `contents` to a new temporary file called `name` (the extension picks the format).
pub fn temp_file(name: &str, contents: impl AsRef<[u8]>) -> TempFile {
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join(name);
    std::fs::write(&path, contents).expect("write temporary file");
    TempFile { _dir: dir, path }
}

/// One sentence of a token-per-line NER file: its tokens and tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggedSentence {
    pub tokens: Vec<String>,
    pub tags: Vec<String>,
}

/// The WNUT-2016 training tweets of the assets folder (`wnut16/train.txt`: `token<TAB>tag`, a
/// line holding one TAB after each tweet), parsed here on their own (a line without a TAB ends a
/// sentence) so the reader under test is checked against an independent reading.
pub fn wnut16_sentences() -> Vec<TaggedSentence> {
    let path = asset("wnut16/train.txt");
    let text = std::fs::read_to_string(&path).expect("read wnut16/train.txt");
    let mut sentences = Vec::new();
    let mut current = TaggedSentence {
        tokens: Vec::new(),
        tags: Vec::new(),
    };
    for line in text.lines() {
        match line.split_once('\t') {
            Some((token, tag)) if !token.is_empty() => {
                current.tokens.push(token.to_owned());
                current.tags.push(tag.to_owned());
            }
            _ => {
                if !current.tokens.is_empty() {
                    sentences.push(std::mem::replace(
                        &mut current,
                        TaggedSentence {
                            tokens: Vec::new(),
                            tags: Vec::new(),
                        },
                    ));
                }
            }
        }
    }
    if !current.tokens.is_empty() {
        sentences.push(current);
    }
    sentences
}

/// IOB2 tags as IOB1 (the CoNLL-2003 release's original scheme): an entity begins with `I-`
/// unless the token before it ends an entity of the same type. Written out here, apart from the
/// library's conversion, to make test input.
pub fn iob2_to_iob1(tags: &[String]) -> Vec<String> {
    let kind = |tag: &str| tag.get(2..).unwrap_or("").to_owned();
    tags.iter()
        .enumerate()
        .map(|(i, tag)| match tag.strip_prefix("B-") {
            Some(t) if i > 0 && tags[i - 1] != "O" && kind(&tags[i - 1]) == t => tag.clone(),
            Some(t) => format!("I-{t}"),
            None => tag.clone(),
        })
        .collect()
}

/// The chunk column written for an NER tag sequence: each entity a noun phrase (`NP`), in
/// IOB1 as the CoNLL-2003 release's chunk tags are.
pub fn np_chunks(tags: &[String]) -> Vec<String> {
    let typed: Vec<String> = tags
        .iter()
        .map(|t| match t.split_once('-') {
            Some((prefix, _)) => format!("{prefix}-NP"),
            None => t.clone(),
        })
        .collect();
    iob2_to_iob1(&typed)
}

/// A file in CoNLL-2003's layout, made from tagged sentences, and where its sentences start.
pub struct Conll2003File {
    pub file: TempFile,
    /// The 1-based line of each sentence's first token.
    pub lines: Vec<usize>,
    /// The number of `-DOCSTART-` documents.
    pub documents: usize,
}

/// Writes `sentences` in the layout of the CoNLL-2003 English files: documents of 1 to 9
/// sentences (a fixed pattern), each opened by `-DOCSTART- -X- -X- O` and a blank line; one
/// token a line with four space-separated columns `TOKEN POS CHUNK NER` (POS: the token itself
/// for punctuation, as CoNLL-2003 has it, else `NNP` inside an entity and `NN` outside; CHUNK:
/// [`np_chunks`], IOB1; NER: the tags as given); a blank line after each sentence.
pub fn conll2003_file(name: &str, sentences: &[TaggedSentence]) -> Conll2003File {
    let mut text = String::new();
    let mut line = 0;
    let mut lines = Vec::with_capacity(sentences.len());
    let (mut documents, mut left_in_document) = (0, 0);
    for sentence in sentences {
        if left_in_document == 0 {
            text.push_str("-DOCSTART- -X- -X- O\n\n");
            line += 2;
            left_in_document = 1 + (documents * 7) % 9;
            documents += 1;
        }
        left_in_document -= 1;
        lines.push(line + 1);
        let chunks = np_chunks(&sentence.tags);
        for ((token, tag), chunk) in sentence.tokens.iter().zip(&sentence.tags).zip(&chunks) {
            let pos = if token.chars().all(|c| c.is_ascii_punctuation()) {
                token.as_str()
            } else if tag == "O" {
                "NN"
            } else {
                "NNP"
            };
            text.push_str(&format!("{token} {pos} {chunk} {tag}\n"));
            line += 1;
        }
        text.push('\n');
        line += 1;
    }
    Conll2003File {
        file: temp_file(name, text),
        lines,
        documents,
    }
}
