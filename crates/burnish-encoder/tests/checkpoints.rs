//! Loading checkpoints: tiny fixtures written by `scripts/make_reference.py` load with
//! `transformers`' outputs, round-trip through `save_pretrained`, and bad folders give errors
//! that name the file and the tensor or field.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use burnish_encoder::HfModel;
use burnish_encoder::model::BertInput;
use burnish_encoder::{BertConfig, BertModel, EncoderError};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name)
}

/// Copies a fixture folder into a temporary one that a test may damage.
fn scratch_copy(name: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(fixture(name)).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), tmp.path().join(entry.file_name())).unwrap();
    }
    tmp
}

/// Hidden states of the first reference case, and the reference's own.
fn first_case(model: &BertModel, reference: &Path, device: &Device) -> (Vec<f32>, Vec<f32>) {
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(reference).unwrap()).unwrap();
    let case = &json["cases"][0];
    let ids: Vec<u32> = serde_json::from_value(case["input_ids"].clone()).unwrap();
    let types: Vec<u32> = serde_json::from_value(case["token_type_ids"].clone()).unwrap();
    let expected: Vec<Vec<f32>> =
        serde_json::from_value(case["last_hidden_state"].clone()).unwrap();
    let n = ids.len();
    let out = model.forward(BertInput::from_rows(
        &[ids],
        &[types],
        &[vec![1; n]],
        device,
    ));
    let got = out
        .last_hidden_state
        .into_data()
        .try_into_vec::<f32>()
        .unwrap();
    (got, expected.concat())
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn tiny_fixture_matches_reference_and_round_trips() {
    let device = Device::flex();
    let dir = fixture("tiny-bert");
    let (model, config, report) = BertModel::from_pretrained(&dir, &device).unwrap();
    assert!(
        report.newly_initialized.is_empty() && report.unused.is_empty(),
        "{report:?}"
    );
    let (got, expected) = first_case(&model, &dir.join("reference.json"), &device);
    assert!(
        max_diff(&got, &expected) < 1e-4,
        "{}",
        max_diff(&got, &expected)
    );

    let out = tempfile::tempdir().unwrap();
    model.save_pretrained(&config, out.path()).unwrap();
    let (again, config2, report) = BertModel::from_pretrained(out.path(), &device).unwrap();
    assert!(report.unused.is_empty());
    assert_eq!(config2.hidden_size, config.hidden_size);
    let (got2, _) = first_case(&again, &dir.join("reference.json"), &device);
    assert_eq!(got, got2, "saving and reloading changes nothing");
}

#[test]
fn head_checkpoint_loads_as_encoder_and_reports_the_head_as_unused() {
    let device = Device::flex();
    let dir = fixture("tiny-bert-bin");
    let (model, _, report) = BertModel::from_pretrained(&dir, &device).unwrap();
    assert!(report.path.ends_with("pytorch_model.bin"));
    assert_eq!(report.unused, vec!["classifier.bias", "classifier.weight"]);
    let (got, expected) = first_case(&model, &dir.join("reference.json"), &device);
    assert!(max_diff(&got, &expected) < 1e-4);
}

#[test]
fn truncated_safetensors_is_an_error_naming_the_file() {
    let tmp = scratch_copy("tiny-bert");
    let path = tmp.path().join("model.safetensors");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let err = BertModel::from_pretrained(tmp.path(), &Device::flex()).unwrap_err();
    assert!(matches!(err, EncoderError::Safetensors { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("model.safetensors") && !msg.contains('\n'),
        "{msg}"
    );
}

#[test]
fn truncated_pytorch_bin_is_an_error_naming_the_file() {
    let tmp = scratch_copy("tiny-bert-bin");
    let path = tmp.path().join("pytorch_model.bin");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 3]).unwrap();
    let err = BertModel::from_pretrained(tmp.path(), &Device::flex()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("pytorch_model.bin"), "{msg}");
}

#[test]
fn config_disagreeing_with_weights_names_the_tensor() {
    let tmp = scratch_copy("tiny-bert");
    let cfg_path = tmp.path().join("config.json");
    let mut cfg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cfg_path).unwrap()).unwrap();
    cfg["hidden_size"] = 32.into();
    std::fs::write(&cfg_path, cfg.to_string()).unwrap();
    let err = BertModel::from_pretrained(tmp.path(), &Device::flex()).unwrap_err();
    match &err {
        EncoderError::ShapeMismatch { tensor, path, .. } => {
            assert!(path.ends_with("model.safetensors"));
            assert!(
                tensor.starts_with("embeddings.") || tensor.starts_with("encoder."),
                "{tensor}"
            );
        }
        other => panic!("expected ShapeMismatch, got {other:?}"),
    }
    assert!(err.to_string().contains("config.json"), "{err}");
}

#[test]
fn missing_layer_is_listed_by_name() {
    let tmp = scratch_copy("tiny-bert");
    let cfg_path = tmp.path().join("config.json");
    let mut cfg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cfg_path).unwrap()).unwrap();
    cfg["num_hidden_layers"] = 3.into();
    std::fs::write(&cfg_path, cfg.to_string()).unwrap();
    let err = BertModel::from_pretrained(tmp.path(), &Device::flex()).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, EncoderError::MissingTensors { .. }), "{msg}");
    assert!(
        msg.contains("encoder.layer.2.attention.self.query.weight"),
        "{msg}"
    );
}

#[test]
fn folder_without_weights_or_config_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let err = BertModel::from_pretrained(tmp.path(), &Device::flex()).unwrap_err();
    assert!(err.to_string().contains("config.json"), "{err}");
    BertConfig::default()
        .save(tmp.path().join("config.json"))
        .unwrap();
    let err = BertModel::from_pretrained(tmp.path(), &Device::flex()).unwrap_err();
    assert!(matches!(err, EncoderError::NoWeights { .. }), "{err}");
}

/// A `config.json` asking for huge dimensions is an error naming the file and the field, found
/// before the model is built (building it first ends in an allocation failure that aborts the
/// process); the same for `pytorch_model.bin` weights.
#[test]
fn huge_config_dimensions_are_errors_before_anything_is_allocated() {
    for fixture_name in ["tiny-bert", "tiny-bert-bin"] {
        let set = |changes: &[(&str, u64)]| {
            let tmp = scratch_copy(fixture_name);
            let path = tmp.path().join("config.json");
            let mut cfg: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            for (field, value) in changes {
                cfg[*field] = (*value).into();
            }
            std::fs::write(&path, cfg.to_string()).unwrap();
            let err = BertModel::from_pretrained(tmp.path(), &Device::flex()).unwrap_err();
            (err.to_string(), err, tmp)
        };
        // Above the limits: the config alone is refused.
        for (field, value) in [
            ("hidden_size", 1_000_000_000),
            ("vocab_size", 1_000_000_000_000),
            ("num_hidden_layers", 1_000_000),
            ("intermediate_size", 1_000_000_000),
            ("max_position_embeddings", 1_000_000_000_000),
            ("type_vocab_size", 1_000_000_000),
        ] {
            let changes: &[(&str, u64)] = if field == "hidden_size" {
                // A multiple of the heads, so the size itself is what is refused.
                &[(field, value), ("num_attention_heads", 1)]
            } else {
                &[(field, value)]
            };
            let (msg, err, tmp) = set(changes);
            assert!(
                matches!(&err, EncoderError::ConfigValue { field: f, .. } if *f == field),
                "{field}: {msg}"
            );
            assert!(
                msg.starts_with(&tmp.path().join("config.json").display().to_string()),
                "{msg}"
            );
            assert!(msg.contains("limit"), "{msg}");
        }
        // Within the limits but not the weights' sizes: the embedding's shape is compared
        // before a [16777216, 16] matrix is allocated.
        let (msg, err, _tmp) = set(&[("vocab_size", 1 << 24)]);
        match &err {
            EncoderError::ShapeMismatch {
                tensor, expected, ..
            } => {
                assert!(tensor.ends_with("word_embeddings.weight"), "{msg}");
                assert_eq!(expected, &vec![1 << 24, 16]);
            }
            other => panic!("expected ShapeMismatch, got {other:?}"),
        }
        // 1024 layers with a 262,144-wide feed-forward (8.6e9 parameters) from weights of
        // two small layers: the field that asks for them is named.
        let (msg, err, _tmp) = set(&[("num_hidden_layers", 1024), ("intermediate_size", 1 << 18)]);
        assert!(
            matches!(
                &err,
                EncoderError::ConfigValue {
                    field: "num_hidden_layers",
                    ..
                }
            ),
            "{msg}"
        );
        assert!(
            msg.contains("config.json") && msg.contains("2 layers"),
            "{msg}"
        );
        // A disagreement that fits in memory (16.8e6 parameters) is left to the loader,
        // which names the first tensor of the wrong shape.
        let (msg, err, _tmp) = set(&[("intermediate_size", 1 << 18)]);
        assert!(
            matches!(&err, EncoderError::ShapeMismatch { tensor, .. } if tensor.contains("intermediate")),
            "{msg}"
        );
    }
}
