//! What burnish saves, `transformers` loads with the same outputs: the cases the one loop of
//! `tests/compatibility.rs` (every head, every family, through the facade) does not cover.
//!
//! Each test loads a checkpoint with burnish, saves it with `save_pretrained` (plus the
//! tokenizer files), and has `scripts/check_hf_load.py` (pinned PyTorch + transformers) load the
//! saved folder and recompute the reference cases: no missing or unexpected weights, and
//! max |diff| <= 1e-4.

mod common;

use std::path::Path;
use std::process::Command;

use burnish::burn::tensor::Device;

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
fn saved_causal_lm_loads_in_transformers_as_a_decoder_with_the_same_logits() {
    use burnish::heads::BertLMHeadModel;
    let src = common::fixture("tiny-bert-clm");
    let device = Device::flex();
    let (model, mut config, report) = BertLMHeadModel::from_pretrained(&src, &device).unwrap();
    assert!(report.newly_initialized.is_empty() && report.unused.is_empty());
    // save_pretrained itself must write is_decoder: true (else transformers runs it bidirectionally
    // and the logits differ).
    config.extra.remove("is_decoder");
    let out = tempfile::tempdir().unwrap();
    model.save_pretrained(&config, out.path()).unwrap();
    check_in_transformers(
        &src,
        out.path(),
        &src.join("reference.json"),
        "BertLMHeadModel",
    );
}
