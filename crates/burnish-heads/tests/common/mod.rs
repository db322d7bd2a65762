//! Helpers shared by the heads' tests: fixture folders, their `reference.json` (written by
//! `scripts/make_reference.py`), and tensor comparison.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use burn::tensor::{Device, Tensor};
use burnish_encoder::model::BertInput;

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name)
}

pub fn reference(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("reference.json")).unwrap()).unwrap()
}

pub fn from_json<T: serde::de::DeserializeOwned>(v: &serde_json::Value) -> T {
    serde_json::from_value(v.clone()).unwrap()
}

/// Every number of a nested JSON array, in row-major order.
pub fn flat(v: &serde_json::Value) -> Vec<f32> {
    match v {
        serde_json::Value::Array(items) => items.iter().flat_map(flat).collect(),
        other => vec![other.as_f64().unwrap() as f32],
    }
}

pub fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap()
}

pub fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "length mismatch");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

pub fn case_input(case: &serde_json::Value, device: &Device) -> BertInput {
    let input_ids: Vec<u32> = from_json(&case["input_ids"]);
    let n = input_ids.len();
    BertInput::from_rows(
        &[input_ids],
        &[from_json(&case["token_type_ids"])],
        &[vec![1; n]],
        device,
    )
}

pub fn batch_input(batch: &serde_json::Value, device: &Device) -> BertInput {
    BertInput::from_rows(
        &from_json::<Vec<Vec<u32>>>(&batch["input_ids"]),
        &from_json::<Vec<Vec<u32>>>(&batch["token_type_ids"]),
        &from_json::<Vec<Vec<u32>>>(&batch["attention_mask"]),
        device,
    )
}
