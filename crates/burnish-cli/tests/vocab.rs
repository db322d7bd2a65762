//! Vocabulary extension (issue 25): `burnish tokenizer extend` adds BBC News words that MiniLM's
//! WordPiece vocabulary shreds, tokens per word drop, and `transformers` loads the extended
//! folder (tokenizer and model) with burnish's ids and hidden states; each new embedding row
//! is the mean of the rows of the pieces it replaces.

mod common;

use std::process::Command;

use common::{asset, python};

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
    let run = Command::new(env!("CARGO_BIN_EXE_burnish"))
        .args(["tokenizer", "extend", "--model"])
        .arg(model)
        .arg("--corpus")
        .arg(&corpus)
        .args(["--add", "200", "--min-count", "3", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
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
    let input = tmp.path().join("input.txt");
    std::fs::write(&input, format!("{sentence}\n")).unwrap();
    let encoded = tmp.path().join("encoded.jsonl");
    let enc = Command::new(env!("CARGO_BIN_EXE_burnish"))
        .args(["encode", "--model"])
        .arg(&out)
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
    let py = Command::new(python())
        .env("HF_HUB_OFFLINE", "1")
        .args(["-c", check])
        .arg(&out)
        .arg(model)
        .arg(&encoded)
        .arg(serde_json::to_string(&words[..20]).unwrap())
        .arg(&input)
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
fn a_byte_level_bpe_vocabulary_grows_by_merges_and_loads_in_transformers() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus.txt");
    let text = "The tokenization of tokenization is tokenization.\n".repeat(5)
        + &"Gazprom and Yukos, said Gazprom.\n".repeat(5);
    std::fs::write(&corpus, text).unwrap();
    let fixture = common::root().join("tests/fixtures/tiny-roberta");
    let out = tmp.path().join("out");
    let run = Command::new(env!("CARGO_BIN_EXE_burnish"))
        .args(["tokenizer", "extend", "--model"])
        .arg(&fixture)
        .arg("--corpus")
        .arg(&corpus)
        .args(["--add", "3", "--min-count", "2", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let (before, after) = (
        report["tokens_per_word"][0].as_f64().unwrap(),
        report["tokens_per_word"][1].as_f64().unwrap(),
    );
    assert!(after < before - 0.2, "{report}");
    // transformers reads the new merges: the same ids and hidden states as burnish.
    let input = tmp.path().join("input.txt");
    std::fs::write(&input, "Gazprom and tokenization.\n").unwrap();
    let encoded = tmp.path().join("encoded.jsonl");
    let enc = Command::new(env!("CARGO_BIN_EXE_burnish"))
        .args(["encode", "--model"])
        .arg(&out)
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
    let py = Command::new(python())
        .env("HF_HUB_OFFLINE", "1")
        .args(["-c", check])
        .arg(&out)
        .arg(&encoded)
        .arg(&input)
        .arg(&fixture)
        .output()
        .unwrap();
    assert!(
        py.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&py.stderr),
        String::from_utf8_lossy(&py.stdout)
    );
}
