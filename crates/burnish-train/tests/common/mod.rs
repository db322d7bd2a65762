//! Shared set-up: the tiny random-weight fixture model, real review sentences (vader-movies,
//! `scripts/fetch-assets.sh`), the real MiniLM tokenizer and the committed SQuAD v1.1 slice.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use burnish_data::{
    ColumnSpec, Dataset, Example, ReadOptions, Task, TokenizeOptions, tokenize_dataset,
};
use burnish_heads::{BertForSequenceClassification, ProblemType};
use burnish_tokenizer::Tokenizer;

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn tiny_model_dir() -> PathBuf {
    workspace().join("tests/fixtures/tiny-bert")
}

/// The assets folder made by `scripts/fetch-assets.sh`: `$BURNISH_ASSETS`, default
/// `<workspace>/assets`.
pub fn assets() -> PathBuf {
    std::env::var_os("BURNISH_ASSETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("assets"))
}

/// A file or folder of the assets folder; a missing one fails the test (the test command,
/// `scripts/test.sh`, fetches the assets first).
pub fn asset(relative: &str) -> PathBuf {
    let path = assets().join(relative);
    assert!(
        path.exists(),
        "the asset {relative} not found at {}: run scripts/fetch-assets.sh",
        path.display()
    );
    path
}

/// The vader-movies test split (real review sentences, labels 0/1).
pub fn reviews() -> PathBuf {
    asset("vader-movies/test.tsv")
}

/// The committed SQuAD v1.1 dev slice (`tests/fixtures/squad/README.md`).
pub fn squad_slice() -> PathBuf {
    let path = workspace().join("tests/fixtures/squad/dev-v1.1-slice.json");
    assert!(path.is_file(), "the fixture {} is missing", path.display());
    path
}

/// The first `n` vader-movies test sentences tokenized with the tiny fixture's tokenizer.
pub fn examples(n: usize) -> (Vec<Example>, Task, u32) {
    let path = reviews();
    let tokenizer = Tokenizer::from_dir(tiny_model_dir()).unwrap();
    let mut data = Dataset::read(
        &path,
        &ReadOptions::new(ColumnSpec::new("sentence", Some("label"))),
    )
    .unwrap();
    data.records.truncate(n);
    let task = Task::from_dataset(burnish_data::LabelKind::Class, &data).unwrap();
    let ex = tokenize_dataset(&tokenizer, &data, Some(&task), &TokenizeOptions::new(32)).unwrap();
    (ex.examples, task, tokenizer.pad_id().unwrap())
}

/// The tiny encoder with a fresh 2-class head (seeded).
pub fn tiny_classifier(device: &Device) -> BertForSequenceClassification {
    device.seed(7);
    BertForSequenceClassification::from_pretrained(
        tiny_model_dir(),
        Some(2),
        Some(ProblemType::SingleLabel),
        device,
    )
    .unwrap()
    .0
}

/// All float parameters of a module, by burnish path, as flat vectors.
pub fn params<M: burn::module::Module + burn::store::ModuleSnapshot>(
    model: &M,
) -> Vec<(String, Vec<f32>)> {
    model
        .collect(None, None, false)
        .into_iter()
        .filter(|t| t.dtype.is_float())
        .map(|t| {
            let name = t.name.clone();
            let data = burn::store::bridge::into_data(t).unwrap().convert::<f32>();
            (name, data.try_into_vec::<f32>().unwrap())
        })
        .collect()
}
