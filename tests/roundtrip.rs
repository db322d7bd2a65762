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

#[test]
fn saved_token_classifier_loads_in_transformers_with_the_same_logits() {
    use burnish::heads::BertForTokenClassification;
    let src = common::fixture("tiny-bert-ner");
    let device = Device::flex();
    let (model, config, report) =
        BertForTokenClassification::from_pretrained(&src, None, &device).unwrap();
    assert!(report.newly_initialized.is_empty() && report.unused.is_empty());
    let out = tempfile::tempdir().unwrap();
    model.save_pretrained(&config, out.path()).unwrap();
    check_in_transformers(
        &src,
        out.path(),
        &src.join("reference.json"),
        "BertForTokenClassification",
    );
}

#[test]
fn saved_question_answering_model_loads_in_transformers_with_the_same_logits() {
    use burnish::heads::BertForQuestionAnswering;
    let src = common::fixture("tiny-bert-qa");
    let device = Device::flex();
    let (model, config, report) = BertForQuestionAnswering::from_pretrained(&src, &device).unwrap();
    assert!(report.newly_initialized.is_empty() && report.unused.is_empty());
    let out = tempfile::tempdir().unwrap();
    model.save_pretrained(&config, out.path()).unwrap();
    check_in_transformers(
        &src,
        out.path(),
        &src.join("reference.json"),
        "BertForQuestionAnswering",
    );
}

#[test]
fn saved_masked_lm_loads_in_transformers_with_the_same_logits() {
    use burnish::heads::BertForMaskedLM;
    let src = common::fixture("tiny-bert-mlm");
    let device = Device::flex();
    let (model, config, report) = BertForMaskedLM::from_pretrained(&src, &device).unwrap();
    assert!(report.newly_initialized.is_empty() && report.unused.is_empty());
    let out = tempfile::tempdir().unwrap();
    model.save_pretrained(&config, out.path()).unwrap();
    check_in_transformers(
        &src,
        out.path(),
        &src.join("reference.json"),
        "BertForMaskedLM",
    );
}

#[test]
fn saved_pretraining_model_loads_in_transformers_with_the_same_logits() {
    use burnish::heads::BertForPreTraining;
    // From transformers' pytorch_model.bin (tied tensors stored) to burnish's safetensors.
    let src = common::fixture("tiny-bert-pretraining");
    let device = Device::flex();
    let (model, config, report) = BertForPreTraining::from_pretrained(&src, &device).unwrap();
    assert!(report.newly_initialized.is_empty() && report.unused.is_empty());
    let out = tempfile::tempdir().unwrap();
    model.save_pretrained(&config, out.path()).unwrap();
    check_in_transformers(
        &src,
        out.path(),
        &src.join("reference.json"),
        "BertForPreTraining",
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

#[test]
fn masked_lm_with_a_burnish_initialised_head_loads_in_transformers_with_the_same_logits() {
    use burnish::encoder::model::BertInput;
    use burnish::heads::BertForMaskedLM;
    // MiniLM-style start of pre-training: a bare encoder gets a fresh head; burnish's logits for
    // the tiny-bert cases become the reference transformers must reproduce from the saved folder.
    let src = common::fixture("tiny-bert");
    let device = Device::flex();
    let (model, config, report) = BertForMaskedLM::from_pretrained(&src, &device).unwrap();
    assert_eq!(report.newly_initialized.len(), 5, "{report:?}");
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(src.join("reference.json")).unwrap())
            .unwrap();
    let mut cases = Vec::new();
    for case in reference["cases"].as_array().unwrap() {
        let ids: Vec<u32> = serde_json::from_value(case["input_ids"].clone()).unwrap();
        let types: Vec<u32> = serde_json::from_value(case["token_type_ids"].clone()).unwrap();
        let n = ids.len();
        let input = BertInput::from_rows(
            std::slice::from_ref(&ids),
            std::slice::from_ref(&types),
            &[vec![1; n]],
            &device,
        );
        let logits = model.forward(input);
        let vocab = logits.dims()[2];
        let flat: Vec<f32> = logits.into_data().try_into_vec().unwrap();
        let rows: Vec<Vec<f32>> = flat.chunks(vocab).map(<[f32]>::to_vec).collect();
        cases.push(serde_json::json!({
            "text": case["text"], "text_pair": case["text_pair"],
            "input_ids": ids, "token_type_ids": types, "logits": rows,
        }));
    }
    let out = tempfile::tempdir().unwrap();
    model.save_pretrained(&config, out.path()).unwrap();
    let ours = out.path().join("burnish-reference.json");
    std::fs::write(&ours, serde_json::json!({ "cases": cases }).to_string()).unwrap();
    check_in_transformers(&src, out.path(), &ours, "BertForMaskedLM");
}

/// RoBERTa and DistilBERT sequence classifiers (issue 10): what burnish saves (family names,
/// config fields, `RobertaClassificationHead` / `pre_classifier`) loads in transformers with the
/// same hidden states and logits, and its tokenizer gives the same ids.
#[test]
fn saved_roberta_and_distilbert_classifiers_load_in_transformers_with_the_same_logits() {
    use burnish::heads::BertForSequenceClassification;
    let device = Device::flex();
    for (name, class) in [
        ("tiny-roberta", "RobertaForSequenceClassification"),
        ("tiny-distilbert", "DistilBertForSequenceClassification"),
    ] {
        let src = common::fixture(name);
        let (model, config, report) =
            BertForSequenceClassification::from_pretrained(&src, None, None, &device).unwrap();
        assert!(report.newly_initialized.is_empty() && report.unused.is_empty());
        let out = tempfile::tempdir().unwrap();
        model.save_pretrained(&config, out.path()).unwrap();
        check_in_transformers(&src, out.path(), &src.join("reference.json"), class);
    }
}

/// RoBERTa and DistilBERT token classifiers and QA models: the BERT heads with the family's
/// encoder names load back in transformers with the same logits.
#[test]
fn saved_roberta_and_distilbert_token_and_qa_heads_load_in_transformers_with_the_same_logits() {
    use burnish::heads::{BertForQuestionAnswering, BertForTokenClassification};
    let device = Device::flex();
    for (family, prefix) in [("roberta", "Roberta"), ("distilbert", "DistilBert")] {
        let src = common::fixture(&format!("tiny-{family}-ner"));
        let (model, config, report) =
            BertForTokenClassification::from_pretrained(&src, None, &device).unwrap();
        assert!(report.newly_initialized.is_empty() && report.unused.is_empty());
        let out = tempfile::tempdir().unwrap();
        model.save_pretrained(&config, out.path()).unwrap();
        let class = format!("{prefix}ForTokenClassification");
        check_in_transformers(&src, out.path(), &src.join("reference.json"), &class);

        let src = common::fixture(&format!("tiny-{family}-qa"));
        let (model, config, report) =
            BertForQuestionAnswering::from_pretrained(&src, &device).unwrap();
        assert!(report.newly_initialized.is_empty() && report.unused.is_empty());
        let out = tempfile::tempdir().unwrap();
        model.save_pretrained(&config, out.path()).unwrap();
        let class = format!("{prefix}ForQuestionAnswering");
        check_in_transformers(&src, out.path(), &src.join("reference.json"), &class);
    }
}

/// RoBERTa and DistilBERT masked-LM models (`lm_head`, `vocab_*` names, tied decoders): saved by
/// burnish, they load in transformers with the same logits.
#[test]
fn saved_roberta_and_distilbert_masked_lms_load_in_transformers_with_the_same_logits() {
    use burnish::heads::BertForMaskedLM;
    let device = Device::flex();
    for (family, class) in [
        ("roberta", "RobertaForMaskedLM"),
        ("distilbert", "DistilBertForMaskedLM"),
    ] {
        let src = common::fixture(&format!("tiny-{family}-mlm"));
        let (model, config, report) = BertForMaskedLM::from_pretrained(&src, &device).unwrap();
        assert!(report.newly_initialized.is_empty() && report.unused.is_empty());
        let out = tempfile::tempdir().unwrap();
        model.save_pretrained(&config, out.path()).unwrap();
        check_in_transformers(&src, out.path(), &src.join("reference.json"), class);
    }
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
