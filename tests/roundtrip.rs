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

use burnish::HfModel;
use burnish::burn::tensor::Device;

/// Copies the tokenizer files of `src` next to the saved weights in `out` and has
/// `scripts/check_hf_load.py` load `out` as `class` and compare with `reference`.
fn check_in_transformers(src: &Path, out: &Path, reference: &Path, class: &str) {
    let python = common::reference_python();
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

/// GPT-2 (issue 10): what burnish saves for `GPT2LMHeadModel` and
/// `GPT2ForSequenceClassification` (GPT-2's config field names, `Conv1D` weights transposed back
/// to `[in, out]`, no `lm_head.weight`: tied) loads in transformers with the same hidden states
/// and logits, and the saved tensors are the fixture's, bit for bit.
#[test]
fn saved_gpt2_models_load_in_transformers_with_the_same_logits() {
    use burnish::encoder::weights::Checkpoint;
    use burnish::heads::{Gpt2ForSequenceClassification, Gpt2LMHeadModel};
    let device = Device::flex();
    for (name, class) in [
        ("tiny-gpt2", "GPT2LMHeadModel"),
        ("tiny-gpt2-cls", "GPT2ForSequenceClassification"),
    ] {
        let src = common::fixture(name);
        let out = tempfile::tempdir().unwrap();
        if name == "tiny-gpt2" {
            let (model, config, _) = Gpt2LMHeadModel::from_pretrained(&src, &device).unwrap();
            model.save_pretrained(&config, out.path()).unwrap();
        } else {
            let (model, config, _) =
                Gpt2ForSequenceClassification::from_pretrained(&src, None, None, &device).unwrap();
            model.save_pretrained(&config, out.path()).unwrap();
        }
        let before = Checkpoint::from_dir(&src).unwrap().tensors;
        let after = Checkpoint::from_dir(out.path()).unwrap().tensors;
        assert_eq!(
            before.keys().collect::<Vec<_>>(),
            after.keys().collect::<Vec<_>>()
        );
        for (key, data) in &before {
            assert_eq!(data.shape(), after[key].shape(), "{key}");
            assert_eq!(data.as_bytes(), after[key].as_bytes(), "{key}");
        }
        let written: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.path().join("config.json")).unwrap())
                .unwrap();
        assert_eq!(written["architectures"], serde_json::json!([class]));
        assert_eq!(written["model_type"], "gpt2");
        assert_eq!(written["n_embd"], 16);
        assert!(written.get("hidden_size").is_none());
        check_in_transformers(&src, out.path(), &src.join("reference.json"), class);
    }
}
