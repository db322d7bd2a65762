//! `burnish export --format onnx` for every family and head, checked by ONNX Runtime against
//! `transformers` on the same folder (`scripts/check_onnx.py`): outputs named as `transformers`'
//! ONNX exports, the task's first, dynamic batch and sequence axes, values within 1e-4 on a
//! padded batch; int8 quantisation close to the float model.

mod common;

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// `burnish export` of `model` into `out` with `extra` flags.
fn export(model: &Path, out: &Path, extra: &[&str]) {
    let status = Command::new(env!("CARGO_BIN_EXE_burnish"))
        .args(["export", "--model", model.to_str().unwrap()])
        .args(["--format", "onnx", "--out", out.to_str().unwrap()])
        .args(extra)
        .output()
        .expect("run burnish");
    assert!(
        status.status.success(),
        "{}: {}",
        model.display(),
        String::from_utf8_lossy(&status.stderr)
    );
}

/// `scripts/check_onnx.py compare MODEL ONNX HEAD [extra]`.
fn compare(model: &Path, onnx: &Path, head: &str, extra: &[&str]) -> Value {
    let out = Command::new(common::python())
        .arg(common::root().join("scripts/check_onnx.py"))
        .args([
            "compare",
            model.to_str().unwrap(),
            onnx.to_str().unwrap(),
            head,
        ])
        .args(extra)
        .output()
        .expect("run the reference Python");
    assert!(
        out.status.success(),
        "check_onnx.py {} {head}: {}",
        model.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn every_family_and_head_matches_transformers_in_onnx_runtime() {
    let tmp = tempfile::tempdir().unwrap();
    let fixtures = common::root().join("tests/fixtures");
    let cases: &[(&str, &str, &str)] = &[
        ("tiny-bert", "encoder", "last_hidden_state"),
        ("tiny-bert-bin", "sequence-classification", "logits"),
        ("tiny-bert-ner", "token-classification", "logits"),
        ("tiny-bert-qa", "question-answering", "start_logits"),
        ("tiny-roberta", "sequence-classification", "logits"),
        ("tiny-roberta-ner", "token-classification", "logits"),
        ("tiny-roberta-qa", "question-answering", "start_logits"),
        ("tiny-distilbert", "sequence-classification", "logits"),
        ("tiny-distilbert-ner", "token-classification", "logits"),
        ("tiny-distilbert-qa", "question-answering", "start_logits"),
        ("tiny-electra", "sequence-classification", "logits"),
        ("tiny-electra-ner", "token-classification", "logits"),
        ("tiny-electra-qa", "question-answering", "start_logits"),
        ("tiny-xlm-roberta", "sequence-classification", "logits"),
        ("tiny-camembert", "sequence-classification", "logits"),
    ];
    for &(fixture, head, first) in cases {
        let model = fixtures.join(fixture);
        let onnx = tmp.path().join(format!("{fixture}.onnx"));
        export(&model, &onnx, &[]);
        // Sentence pairs exercise the token types where the family has them.
        for extra in [&[][..], &["--pairs"][..]] {
            let result = compare(&model, &onnx, head, extra);
            assert_eq!(result["first_output"], first, "{fixture}: {result}");
            assert_eq!(result["dynamic_axes"], true, "{fixture}: {result}");
            assert_eq!(result["padded"], true, "{fixture}: {result}");
            let outputs = result["outputs"].as_object().unwrap();
            assert!(outputs.contains_key(first), "{fixture}: {result}");
            for (name, o) in outputs {
                let diff = o["max_abs_diff"].as_f64().unwrap();
                assert!(diff < 1e-4, "{fixture} {name} {extra:?}: {diff}");
            }
        }
    }
}

#[test]
fn sentence_embeddings_and_int8_quantisation() {
    let tmp = tempfile::tempdir().unwrap();
    let model = common::asset("all-MiniLM-L6-v2/config.json")
        .parent()
        .unwrap()
        .to_path_buf();
    // A sentence-transformers folder exports as an embedding model (mean pooling, Normalize).
    let onnx = tmp.path().join("minilm.onnx");
    export(&model, &onnx, &[]);
    let result = compare(&model, &onnx, "embedding", &[]);
    assert_eq!(result["first_output"], "sentence_embedding", "{result}");
    for (name, o) in result["outputs"].as_object().unwrap() {
        let diff = o["max_abs_diff"].as_f64().unwrap();
        assert!(diff < 1e-4, "{name}: {diff}");
    }
    // int8: the linear layers' weights a quarter of their size (the embedding tables, 52% of
    // MiniLM's weights, stay float, as ONNX Runtime's `quantize_dynamic` leaves them); the
    // unit-length embeddings move little.
    let int8 = tmp.path().join("minilm-int8.onnx");
    export(&model, &int8, &["--quantize", "int8"]);
    let float_size = std::fs::metadata(&onnx).unwrap().len();
    let int8_size = std::fs::metadata(&int8).unwrap().len();
    assert!(
        (int8_size as f64) < 0.7 * float_size as f64,
        "int8 {int8_size} bytes, float {float_size}"
    );
    let result = compare(&model, &int8, "embedding", &[]);
    let diff = result["outputs"]["sentence_embedding"]["max_abs_diff"]
        .as_f64()
        .unwrap();
    assert!(
        diff > 0.0 && diff < 0.05,
        "int8 embedding max |diff| {diff}"
    );
}
