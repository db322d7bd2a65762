//! `burnish finetune --task classification` on RoBERTa and DistilBERT checkpoints (issue 10):
//! the same command as for BERT trains, writes the family's Hugging Face folder, and
//! `transformers` loads that folder with the logits burnish computes from it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use burnish::burn::tensor::Device;
use burnish::encoder::model::BertInput;
use burnish::heads::BertForSequenceClassification;
use burnish::tokenizer::{EncodeOptions, Tokenizer};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn burnish(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_burnish"))
        .args(args)
        .output()
        .expect("run burnish")
}

/// The reference Python (`BURNISH_PYTHON` or the default venv); its absence fails under CI.
fn python() -> Option<PathBuf> {
    let path = std::env::var_os("BURNISH_PYTHON")
        .map(PathBuf::from)
        .or_else(|| {
            let p = PathBuf::from(std::env::var_os("HOME")?).join(".cache/burnish-venv/bin/python");
            p.is_file().then_some(p)
        });
    let under_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    assert!(path.is_some() || !under_ci, "no reference Python");
    path
}

const TEXTS: [&str; 6] = [
    "the quick brown fox jumped",
    "where did the cat sit?",
    "hello world, run 42 km.",
    "no, it was good",
    "the lazy dog sleeps on the mat",
    "what a great movie!",
];

/// A three-class TSV (the fixtures' heads have three outputs) of `rows` rows.
fn write_tsv(path: &Path, rows: usize, offset: usize) {
    let mut text = String::from("sentence\tlabel\n");
    for i in 0..rows {
        let k = (i + offset) % TEXTS.len();
        text.push_str(&format!("{} {i}\t{}\n", TEXTS[k], k % 3));
    }
    std::fs::write(path, text).unwrap();
}

/// burnish's logits for `texts` from the run folder, as a reference JSON for check_hf_load.py.
fn burnish_reference(run: &Path, texts: &[&str]) -> serde_json::Value {
    let device = Device::flex();
    let (model, _, report) =
        BertForSequenceClassification::from_pretrained(run, None, None, &device).unwrap();
    assert!(report.newly_initialized.is_empty(), "{report:?}");
    let tokenizer = Tokenizer::from_dir(run).unwrap();
    let cases: Vec<serde_json::Value> = texts
        .iter()
        .map(|text| {
            let enc = tokenizer.encode(text, &EncodeOptions::default()).unwrap();
            let input = BertInput::from_rows(
                std::slice::from_ref(&enc.ids),
                std::slice::from_ref(&enc.type_ids),
                std::slice::from_ref(&enc.attention_mask),
                &device,
            );
            let logits: Vec<f32> = model.forward(input).into_data().try_into_vec().unwrap();
            serde_json::json!({
                "text": text, "text_pair": null, "input_ids": enc.ids,
                "token_type_ids": enc.type_ids, "logits": logits,
            })
        })
        .collect();
    serde_json::json!({ "cases": cases })
}

fn finetune_and_reload_in_transformers(fixture: &str, class: &str, model_type: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let (train, valid, run) = (
        tmp.path().join("train.tsv"),
        tmp.path().join("valid.tsv"),
        tmp.path().join("run"),
    );
    write_tsv(&train, 24, 0);
    write_tsv(&valid, 6, 1);
    let model = root().join("tests/fixtures").join(fixture);
    let out = burnish(&[
        "finetune",
        "--task",
        "classification",
        "--model",
        model.to_str().unwrap(),
        "--train",
        train.to_str().unwrap(),
        "--valid",
        valid.to_str().unwrap(),
        "--text-column",
        "sentence",
        "--out",
        run.to_str().unwrap(),
        "--epochs",
        "2",
        "--batch-size",
        "8",
        "--lr",
        "1e-3",
        "--max-length",
        "32",
        "--quiet",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["architectures"][0], class);
    assert_eq!(config["model_type"], model_type);
    let log = std::fs::read_to_string(run.join("log.jsonl")).unwrap();
    assert!(log.lines().any(|l| l.contains("\"eval\"")), "{log}");

    // The fine-tuned weights differ from the fixture's: training happened.
    let before = std::fs::read(model.join("model.safetensors")).unwrap();
    let after = std::fs::read(run.join("model.safetensors")).unwrap();
    assert_ne!(before, after);

    let Some(python) = python() else { return };
    let reference = tmp.path().join("burnish-reference.json");
    std::fs::write(&reference, burnish_reference(&run, &TEXTS).to_string()).unwrap();
    let out = Command::new(python)
        .arg(root().join("scripts/check_hf_load.py"))
        .arg(&run)
        .arg(&reference)
        .args(["--class", class])
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "transformers rejected {}:\n{stdout}\n{}",
        run.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn roberta_finetunes_through_the_cli_and_reloads_in_transformers() {
    finetune_and_reload_in_transformers(
        "tiny-roberta",
        "RobertaForSequenceClassification",
        "roberta",
    );
}

#[test]
fn distilbert_finetunes_through_the_cli_and_reloads_in_transformers() {
    finetune_and_reload_in_transformers(
        "tiny-distilbert",
        "DistilBertForSequenceClassification",
        "distilbert",
    );
}
