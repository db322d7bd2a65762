//! `burnish tokenizer train` on real text (the 9,509 vader-movies training sentences, from the
//! assets of `scripts/fetch-assets.sh`): the folder it writes loads in burnish and in
//! `transformers` (the fast tokenizer from `tokenizer.json` and the slow one from `vocab.txt`),
//! and all three give the same ids on held-out sentences (the test split's).

mod common;

use std::process::Command;

use burnish::tokenizer::{EncodeOptions, Tokenizer};
use common::{python, review_sentences, reviews};

#[test]
fn trained_tokenizer_loads_in_transformers_with_the_same_ids() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus.txt");
    let sentences = review_sentences(9_509);
    std::fs::write(&corpus, sentences.join("\n")).unwrap();
    let out = tmp.path().join("tok");
    let status = Command::new(env!("CARGO_BIN_EXE_burnish"))
        .args(["tokenizer", "train", "--corpus"])
        .arg(&corpus)
        .args(["--vocab-size", "4000", "--quiet", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    for file in ["tokenizer.json", "vocab.txt", "tokenizer_config.json"] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
    let ours = Tokenizer::from_dir(&out).unwrap();
    assert_eq!(ours.vocab_size(), 4000);
    // Held-out sentences (not in the corpus), and text with case, accents and punctuation.
    let held_out = std::fs::read_to_string(reviews("test")).unwrap();
    let mut probe: Vec<String> = held_out
        .lines()
        .skip(1)
        .take(30)
        .filter_map(|l| l.split('\t').next())
        .map(|s| s.trim().to_owned())
        .collect();
    probe.push("Café Society: an ÉLÉGANT, über-stylish film (2016)!".into());
    let our_ids: Vec<Vec<u32>> = probe
        .iter()
        .map(|s| ours.encode(s, &EncodeOptions::default()).unwrap().ids)
        .collect();
    // Words are split into known pieces, not all [UNK].
    let unk = ours.unk_id().unwrap();
    let unks = our_ids.iter().flatten().filter(|&&i| i == unk).count();
    let total: usize = our_ids.iter().map(Vec::len).sum();
    assert!(unks * 100 < total, "{unks} of {total} tokens are [UNK]");

    let python = python();
    let script = r#"
import json, sys
from transformers import AutoTokenizer, BertTokenizer
folder, texts = sys.argv[1], json.loads(sys.stdin.read())
fast = AutoTokenizer.from_pretrained(folder)
slow = BertTokenizer.from_pretrained(folder)
print(json.dumps({"fast": [fast(t)["input_ids"] for t in texts],
                  "slow": [slow(t)["input_ids"] for t in texts],
                  "fast_class": type(fast).__name__}))
"#;
    let mut child = Command::new(python)
        .args(["-c", script])
        .arg(&out)
        .env("HF_HUB_OFFLINE", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&probe).unwrap().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let theirs: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(theirs["fast_class"], "BertTokenizerFast");
    let fast: Vec<Vec<u32>> = serde_json::from_value(theirs["fast"].clone()).unwrap();
    let slow: Vec<Vec<u32>> = serde_json::from_value(theirs["slow"].clone()).unwrap();
    assert_eq!(fast, our_ids, "tokenizer.json in transformers");
    assert_eq!(slow, our_ids, "vocab.txt in transformers");
}
