//! Bounded fuzzing of the model-folder loader on stable Rust (issue 8): seeded mutations of
//! the tiny fixture's `config.json`, `model.safetensors` and `pytorch_model.bin` must load or
//! give an error, never panic. Weights that parse are then checked against (and loaded into)
//! the fixture's model, so the name and shape checks run on damaged checkpoints too.
//!
//! The mutated config is parsed, validated and checked against the fixture's weights
//! (`check_config`, which runs before every model is built, so a config asking for a
//! billion-row embedding is an error, not an allocation failure); when it passes and
//! describes a small model, the model is built and the weights loaded into it.
//! `BURNISH_FUZZ_ITERS` / `BURNISH_FUZZ_SECONDS` make it run longer.

#[path = "../../../tests/support/mutate.rs"]
mod mutate;

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use burnish_encoder::weights::{LoadSpec, NameMap, check_config, load_checkpoint};
use burnish_encoder::{BertConfig, BertModel, Checkpoint};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name)
}

fn crash_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/fuzz-crashes")
}

#[test]
fn model_folder_loader_survives_mutated_files() {
    let iters = 600;
    let tmp = tempfile::tempdir().unwrap();
    let device = Device::flex();
    let config = BertConfig::from_file(fixture("tiny-bert/config.json")).unwrap();
    let model = BertModel::new(&config, &device);
    let spec = LoadSpec {
        encoder_prefix: "",
        may_be_fresh: &|name: &str| name.starts_with("pooler."),
        names: NameMap::default(),
    };
    let read = |name: &str| std::fs::read(fixture(name)).unwrap();
    let weights = Checkpoint::read_safetensors(&fixture("tiny-bert/model.safetensors")).unwrap();

    let config_seeds = vec![
        read("tiny-bert/config.json"),
        read("tiny-bert-bin/config.json"),
    ];
    mutate::fuzz(
        "config.json",
        1,
        &config_seeds,
        iters,
        &crash_dir(),
        |input| {
            let path = tmp.path().join("config.json");
            std::fs::write(&path, input).unwrap();
            if let Ok(c) = BertConfig::from_file(&path) {
                let _ = (c.validate(&path), c.head_dim(), c.classifier_dropout_prob());
                if check_config(&c, &weights).is_ok() && c.num_encoder_parameters() < 200_000 {
                    let mut m = BertModel::new(&c, &device);
                    let _ = load_checkpoint(&mut m, &weights, spec);
                }
            }
        },
    );

    let st_seeds = vec![read("tiny-bert/model.safetensors")];
    mutate::fuzz(
        "model.safetensors",
        2,
        &st_seeds,
        iters,
        &crash_dir(),
        |input| {
            let path = tmp.path().join("model.safetensors");
            std::fs::write(&path, input).unwrap();
            if let Ok(checkpoint) = Checkpoint::read_safetensors(&path) {
                let mut m = model.clone();
                let _ = load_checkpoint(&mut m, &checkpoint, spec);
            }
        },
    );

    let pt_seeds = vec![read("tiny-bert-bin/pytorch_model.bin")];
    mutate::fuzz(
        "pytorch_model.bin",
        3,
        &pt_seeds,
        iters,
        &crash_dir(),
        |input| {
            let path = tmp.path().join("pytorch_model.bin");
            std::fs::write(&path, input).unwrap();
            if let Ok(checkpoint) = Checkpoint::read_pytorch(&path) {
                let mut m = model.clone();
                let _ = load_checkpoint(&mut m, &checkpoint, spec);
            }
        },
    );
}
