//! Vocabulary extension (issue 25): `burnish tokenizer extend` adds BBC News words that MiniLM's
//! WordPiece vocabulary shreds, tokens per word drop, and `transformers` loads the extended
//! folder (tokenizer and model) with burnish's ids and hidden states; each new embedding row
//! is the mean of the rows of the pieces it replaces.

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{asset, python};

/// `burnish tokenizer extend --model MODEL --corpus CORPUS --add ADD --min-count MIN --out
/// OUT`: its JSON report.
fn extend(
    model: &Path,
    corpus: &Path,
    add: &str,
    min_count: &str,
    out: &Path,
) -> serde_json::Value {
    let run = Command::new(env!("CARGO_BIN_EXE_burnish"))
        .args(["tokenizer", "extend", "--model"])
        .arg(model)
        .arg("--corpus")
        .arg(corpus)
        .args(["--add", add, "--min-count", min_count, "--out"])
        .arg(out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    serde_json::from_slice(&run.stdout).unwrap()
}

/// Writes `text` as a one-line input in `dir` and runs `burnish encode --model MODEL` on it:
/// the input file and the JSON lines written.
fn encode(model: &Path, text: &str, dir: &Path) -> (PathBuf, PathBuf) {
    let input = dir.join("input.txt");
    std::fs::write(&input, format!("{text}\n")).unwrap();
    let encoded = dir.join("encoded.jsonl");
    let enc = Command::new(env!("CARGO_BIN_EXE_burnish"))
        .args(["encode", "--model"])
        .arg(model)
        .arg("--input")
        .arg(&input)
        .arg("--output")
        .arg(&encoded)
        .output()
        .unwrap();
    assert!(
        enc.status.success(),
        "{}",
        String::from_utf8_lossy(&enc.stderr)
    );
    (input, encoded)
}

/// Runs the Python `check` with `args` in the reference venv (offline); fails the test when
/// it fails.
fn run_python(check: &str, args: &[&OsStr]) {
    let py = Command::new(python())
        .env("HF_HUB_OFFLINE", "1")
        .args(["-c", check])
        .args(args)
        .output()
        .unwrap();
    assert!(
        py.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&py.stderr),
        String::from_utf8_lossy(&py.stdout)
    );
}

#[test]
fn extended_minilm_cuts_tokens_per_word_and_loads_in_transformers() {
    let tmp = tempfile::tempdir().unwrap();
    // The first 3,000 lines of the BBC News corpus.
    let text = std::fs::read_to_string(asset("bbc-news/corpus.txt")).unwrap();
    let corpus = tmp.path().join("corpus.txt");
    let lines: Vec<&str> = text.lines().take(3000).collect();
    std::fs::write(&corpus, lines.join("\n") + "\n").unwrap();
    let model = asset("all-MiniLM-L6-v2/config.json");
    let model = model.parent().unwrap();
    let out = tmp.path().join("extended");
    let report = extend(model, &corpus, "200", "3", &out);
    assert_eq!(report["added"], 200, "{report}");
    assert_eq!(report["vocab_size"][1], 30522 + 200, "{report}");
    let (before, after) = (
        report["tokens_per_word"][0].as_f64().unwrap(),
        report["tokens_per_word"][1].as_f64().unwrap(),
    );
    assert!(after < before - 0.02, "{report}");
    let words: Vec<String> = report["words"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect();

    // A sentence with three of the new words, through burnish and transformers.
    let sentence = format!("{} and {} then {} again.", words[0], words[1], words[2]);
    let (input, encoded) = encode(&out, &sentence, tmp.path());
    let check = r#"
import json, sys, torch
from transformers import AutoModel, AutoTokenizer
out, base, encoded, new = sys.argv[1:5]
row = json.loads(open(encoded).readline())
tok = AutoTokenizer.from_pretrained(out)
ids = tok(row["text"] if "text" in row else open(sys.argv[5]).read().strip())["input_ids"]
assert ids == row["input_ids"], (ids, row["input_ids"])
model = AutoModel.from_pretrained(out).eval()
with torch.no_grad():
    hidden = model(torch.tensor([ids])).last_hidden_state[0]
diff = (hidden - torch.tensor(row["last_hidden_state"])).abs().max().item()
assert diff < 1e-4, diff
# Each new row is the mean of its pieces' rows in the original model.
orig_tok = AutoTokenizer.from_pretrained(base)
orig = AutoModel.from_pretrained(base).embeddings.word_embeddings.weight
table = model.embeddings.word_embeddings.weight
for word in json.loads(new):
    pieces = orig_tok(word, add_special_tokens=False)["input_ids"]
    assert len(pieces) > 1, word
    mean = orig[pieces].mean(0)
    d = (table[tok.convert_tokens_to_ids(word)] - mean).abs().max().item()
    assert d < 1e-6, (word, d)
new_ids = [i for i in ids if i >= 30522]
assert len(new_ids) == 3, ids
print(json.dumps({"max_abs_diff": diff, "new_ids": new_ids}))
"#;
    let new = serde_json::to_string(&words[..20]).unwrap();
    run_python(
        check,
        &[
            out.as_os_str(),
            model.as_os_str(),
            encoded.as_os_str(),
            OsStr::new(&new),
            input.as_os_str(),
        ],
    );
}

#[test]
fn a_byte_level_bpe_vocabulary_grows_by_merges_and_loads_in_transformers() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus.txt");
    let text = "The tokenization of tokenization is tokenization.\n".repeat(5)
        + &"Gazprom and Yukos, said Gazprom.\n".repeat(5);
    std::fs::write(&corpus, text).unwrap();
    let fixture = common::root().join("tests/fixtures/tiny-roberta");
    let out = tmp.path().join("out");
    let report = extend(&fixture, &corpus, "3", "2", &out);
    let (before, after) = (
        report["tokens_per_word"][0].as_f64().unwrap(),
        report["tokens_per_word"][1].as_f64().unwrap(),
    );
    assert!(after < before - 0.2, "{report}");
    // transformers reads the new merges: the same ids and hidden states as burnish.
    let (input, encoded) = encode(&out, "Gazprom and tokenization.", tmp.path());
    let check = r#"
import json, sys, torch
from transformers import AutoModel, AutoTokenizer
out, encoded, text, base = sys.argv[1:5]
row = json.loads(open(encoded).readline())
tok = AutoTokenizer.from_pretrained(out)
ids = tok(open(text).read().strip())["input_ids"]
assert ids == row["input_ids"], (ids, row["input_ids"])
assert len(ids) < len(AutoTokenizer.from_pretrained(base)(open(text).read().strip())["input_ids"])
model = AutoModel.from_pretrained(out).eval()
with torch.no_grad():
    hidden = model(torch.tensor([ids])).last_hidden_state[0]
diff = (hidden - torch.tensor(row["last_hidden_state"])).abs().max().item()
assert diff < 1e-4, diff
print(diff)
"#;
    run_python(
        check,
        &[
            out.as_os_str(),
            encoded.as_os_str(),
            input.as_os_str(),
            fixture.as_os_str(),
        ],
    );
}
