//! libFuzzer target: the model-folder loader on arbitrary bytes. The first byte picks the
//! file (`config.json`, `model.safetensors` or `pytorch_model.bin`); a config that parses is
//! checked against the tiny fixture's weights, weights that parse are checked against and
//! loaded into the tiny fixture's model. `pytorch_model.bin` is read as
//! data (zip + pickle parsed, never executed). Any panic is a bug.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use burn::tensor::Device;
use burnish_encoder::weights::{LoadSpec, NameMap, check_config, load_checkpoint};
use burnish_encoder::{BertConfig, BertModel, Checkpoint};
use libfuzzer_sys::fuzz_target;

fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("burnish-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    })
}

fn model() -> &'static BertModel {
    static MODEL: OnceLock<BertModel> = OnceLock::new();
    MODEL.get_or_init(|| {
        let config = BertConfig::from_file(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/tiny-bert/config.json"
        ))
        .unwrap();
        BertModel::new(&config, &Device::flex())
    })
}

fn fixture_weights() -> &'static Checkpoint {
    static WEIGHTS: OnceLock<Checkpoint> = OnceLock::new();
    WEIGHTS.get_or_init(|| {
        Checkpoint::read_safetensors(
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../tests/fixtures/tiny-bert/model.safetensors"
            )
            .as_ref(),
        )
        .unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let spec = LoadSpec {
        encoder_prefix: "",
        may_be_fresh: &|name: &str| name.starts_with("pooler."),
        names: NameMap::default(),
    };
    match selector % 3 {
        0 => {
            let path = scratch().join("config.json");
            std::fs::write(&path, body).unwrap();
            if let Ok(config) = BertConfig::from_file(&path) {
                let _ = config.validate(&path);
                // The check that runs before a model is built from a config.
                let _ = check_config(&config, fixture_weights());
            }
        }
        1 => {
            let path = scratch().join("model.safetensors");
            std::fs::write(&path, body).unwrap();
            if let Ok(checkpoint) = Checkpoint::read_safetensors(&path) {
                let mut m = model().clone();
                let _ = load_checkpoint(&mut m, &checkpoint, spec);
            }
        }
        _ => {
            let path = scratch().join("pytorch_model.bin");
            std::fs::write(&path, body).unwrap();
            if let Ok(checkpoint) = Checkpoint::read_pytorch(&path) {
                let mut m = model().clone();
                let _ = load_checkpoint(&mut m, &checkpoint, spec);
            }
        }
    }
});
