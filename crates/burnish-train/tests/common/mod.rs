//! Shared set-up: the tiny random-weight fixture model and real SST-2 sentences.
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

/// SST-2 dev (real sentences and labels), or `None` outside CI when the shared data is absent.
pub fn sst2_dev() -> Option<PathBuf> {
    let base = std::env::var_os("BURNISH_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("../shared/data"));
    let path = base.join("sst2/dev.tsv");
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var("CI").map_or(true, |v| v != "true"),
        "{} is missing",
        path.display()
    );
    eprintln!("note: skipping, {} missing", path.display());
    None
}

/// The first `n` SST-2 dev sentences tokenized with the tiny fixture's tokenizer.
pub fn examples(n: usize) -> Option<(Vec<Example>, Task, u32)> {
    let path = sst2_dev()?;
    let tokenizer = Tokenizer::from_dir(tiny_model_dir()).unwrap();
    let mut data = Dataset::read(
        &path,
        &ReadOptions::new(ColumnSpec::new("sentence", Some("label"))),
    )
    .unwrap();
    data.records.truncate(n);
    let task = Task::from_dataset(burnish_data::LabelKind::Class, &data).unwrap();
    let ex = tokenize_dataset(&tokenizer, &data, Some(&task), &TokenizeOptions::new(32)).unwrap();
    Some((ex.examples, task, tokenizer.pad_id().unwrap()))
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
