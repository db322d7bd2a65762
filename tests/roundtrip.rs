//! What burnish saves, `transformers` loads with the same outputs.
//!
//! Each test loads a checkpoint with burnish, saves it with `save_pretrained` (plus the
//! tokenizer files), and has `scripts/check_hf_load.py` (pinned PyTorch + transformers) load the
//! saved folder and recompute the reference cases: no missing or unexpected weights, and
//! max |diff| <= 1e-4.

mod common;

use std::path::Path;
use std::process::Command;

use burnish::burn::tensor::Device;
use burnish::encoder::BertModel;

/// Saves `src` through burnish into a temporary folder and checks it with transformers.
fn save_and_check_in_transformers(src: &Path, reference: &Path) {
    let device = Device::flex();
    let (model, config, _) = BertModel::from_pretrained(src, &device).unwrap();
    let out = tempfile::tempdir().unwrap();
    model.save_pretrained(&config, out.path()).unwrap();
    check_in_transformers(src, out.path(), reference, "BertModel");
}

/// Copies the tokenizer files of `src` next to the saved weights in `out` and has
/// `scripts/check_hf_load.py` load `out` as `class` and compare with `reference`.
fn check_in_transformers(src: &Path, out: &Path, reference: &Path, class: &str) {
    let Some(python) = common::reference_python() else {
        return;
    };
    for name in [
        "tokenizer.json",
        "vocab.txt",
        "tokenizer_config.json",
        "special_tokens_map.json",
    ] {
        if src.join(name).is_file() {
            std::fs::copy(src.join(name), out.join(name)).unwrap();
        }
    }
    let output = Command::new(&python)
        .arg(common::root().join("scripts/check_hf_load.py"))
        .arg(out)
        .arg(reference)
        .arg("--class")
        .arg(class)
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "transformers rejected the saved folder:\n{stdout}\n{stderr}"
    );
}

#[test]
fn saved_tiny_bert_loads_in_transformers() {
    let dir = common::fixture("tiny-bert");
    save_and_check_in_transformers(&dir, &dir.join("reference.json"));
}

#[test]
fn saved_legacy_gamma_beta_checkpoint_loads_in_transformers_with_modern_names() {
    let dir = common::fixture("tiny-bert-relu");
    save_and_check_in_transformers(&dir, &dir.join("reference.json"));
}

#[test]
fn saved_minilm_loads_in_transformers() {
    let Some(dir) = common::minilm() else { return };
    save_and_check_in_transformers(&dir, &common::fixture("reference/minilm.json"));
}

#[test]
fn saved_sequence_classifier_loads_in_transformers_with_the_same_logits() {
    use burnish::heads::BertForSequenceClassification;
    let src = common::fixture("tiny-bert-bin");
    let device = Device::flex();
    let (model, config, report) =
        BertForSequenceClassification::from_pretrained(&src, None, None, &device).unwrap();
    assert!(report.newly_initialized.is_empty());
    let out = tempfile::tempdir().unwrap();
    model.save_pretrained(&config, out.path()).unwrap();
    check_in_transformers(
        &src,
        out.path(),
        &src.join("reference.json"),
        "BertForSequenceClassification",
    );
}
