//! `burnish tokenizer train` on real text (SST-2 training sentences): the folder it writes loads
//! in burnish and in `transformers` (the fast tokenizer from `tokenizer.json` and the slow one
//! from `vocab.txt`), and all three give the same ids.

use std::path::{Path, PathBuf};
use std::process::Command;

use burnish::tokenizer::{EncodeOptions, Tokenizer};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

fn python() -> Option<PathBuf> {
    let path = std::env::var_os("BURNISH_PYTHON")
        .map(PathBuf::from)
        .or_else(|| {
            let p = PathBuf::from(std::env::var_os("HOME")?).join(".cache/burnish-venv/bin/python");
            p.is_file().then_some(p)
        });
    assert!(path.is_some() || !under_ci(), "no reference Python");
    path
}

#[test]
fn trained_tokenizer_loads_in_transformers_with_the_same_ids() {
    let base = std::env::var_os("BURNISH_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared/data"));
    let sst2 = base.join("sst2/train.tsv");
    if !sst2.is_file() {
        assert!(!under_ci(), "{} missing", sst2.display());
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus.txt");
    let text = std::fs::read_to_string(&sst2).unwrap();
    let sentences: Vec<&str> = text
        .lines()
        .skip(1)
        .take(20_000)
        .filter_map(|l| l.split('\t').next())
        .map(str::trim)
        .collect();
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
    let mut probe: Vec<String> = text
        .lines()
        .skip(60_001)
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

    let Some(python) = python() else { return };
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
