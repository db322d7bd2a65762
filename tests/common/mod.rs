//! Shared helpers for the facade's integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use burnish::backend::BackendKind;
use burnish::burn::tensor::Device;
use burnish::train::LogEvent;
use burnish::train::trainer::files;
use serde::Deserialize;

/// CPU-side backends to compare on: flex always, tch and wgpu when compiled in. GPU-only
/// backends (cuda, tch-cuda) are measured on a GPU machine (docs/benchmarks.md).
pub fn backends() -> Vec<(BackendKind, Device)> {
    BackendKind::compiled()
        .into_iter()
        .filter(|b| matches!(b, BackendKind::Flex | BackendKind::Tch | BackendKind::Wgpu))
        .map(|b| (b, b.device().expect("compiled")))
        .collect()
}

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fixture folder under `tests/fixtures`.
pub fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures").join(name)
}

/// The real all-MiniLM-L6-v2 folder made by `scripts/fetch-assets.sh`; a missing one fails the
/// test.
pub fn minilm() -> PathBuf {
    asset("all-MiniLM-L6-v2/model.safetensors")
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A file of the assets folder made by `scripts/fetch-assets.sh` (`BURNISH_ASSETS`, else
/// `assets/`). The test command (`scripts/test.sh`) fetches the assets first, so a missing one
/// fails the test, never skips it.
pub fn asset(relative: &str) -> PathBuf {
    let assets = std::env::var_os("BURNISH_ASSETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("assets"));
    let path = assets.join(relative);
    assert!(
        path.is_file(),
        "asset {} is missing: run scripts/fetch-assets.sh",
        path.display()
    );
    path
}

/// The Python interpreter with the pinned reference stack: `BURNISH_PYTHON`, else
/// `~/.cache/burnish-venv/bin/python` (which `scripts/test.sh` sets up); its absence fails the
/// test.
pub fn reference_python() -> PathBuf {
    if let Some(p) = std::env::var_os("BURNISH_PYTHON") {
        return PathBuf::from(p);
    }
    let default = dirs_home().join(".cache/burnish-venv/bin/python");
    assert!(
        default.is_file(),
        "no reference Python at {} and BURNISH_PYTHON is not set: run scripts/test.sh, which \
         sets up the venv",
        default.display()
    );
    default
}

fn dirs_home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default()
}

/// One reference case written by `scripts/make_reference.py`.
#[derive(Debug, Deserialize)]
pub struct Case {
    pub text: String,
    pub text_pair: Option<String>,
    pub input_ids: Vec<u32>,
    pub token_type_ids: Vec<u32>,
    pub last_hidden_state: Vec<Vec<f32>>,
    pub pooler_output: Option<Vec<f32>>,
    #[serde(default)]
    pub sentence_embedding: Option<Vec<f32>>,
    #[serde(default)]
    pub logits: Option<Vec<f32>>,
}

/// A reference file.
#[derive(Debug, Deserialize)]
pub struct Reference {
    pub cases: Vec<Case>,
}

pub fn read_reference(path: &Path) -> Reference {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/make_reference.py)", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Largest absolute difference between two equally long slices.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "length mismatch");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Runs `trainer` on `model` and `data` and returns the model as it was after the last epoch
/// (each evaluation sees a copy; the trainer itself returns the best one).
pub fn fit_keep_last<B, M, S>(trainer: burnish::train::Trainer, model: M, data: &S) -> M
where
    M: burnish::train::FineTune<B>,
    S: burnish::train::BatchSource<Batch = B>,
    B: Send,
{
    let mut last = None;
    let mut evaluate = |m: &M| {
        last = Some(m.clone());
        Ok(burnish::train::Metrics::from([("loss".to_string(), 0.0)]))
    };
    trainer
        .with_progress(false)
        .fit(model, data, &mut evaluate)
        .unwrap();
    last.expect("evaluated after the last epoch")
}

/// `(loss, lr)` of every `"train"` line of a run's `log.jsonl`.
pub fn train_log(run_dir: &Path) -> Vec<(f64, f64)> {
    let text = std::fs::read_to_string(run_dir.join(files::LOG)).unwrap();
    LogEvent::parse_all(&text)
        .unwrap()
        .into_iter()
        .filter_map(|event| match event {
            LogEvent::Train { loss, lr, .. } => Some((loss, lr)),
            _ => None,
        })
        .collect()
}

/// Held by each test that seeds a backend's generator or may draw from it (a new head's
/// weights, dropout masks, a lazily initialised parameter): the generators are per backend,
/// not per thread, and the tests of one file run in parallel threads, so two such tests at
/// once would draw each other's numbers.
pub fn generator_lock() -> std::sync::MutexGuard<'static, ()> {
    static GENERATOR: std::sync::Mutex<()> = std::sync::Mutex::new(());
    GENERATOR.lock().unwrap_or_else(|e| e.into_inner())
}
