//! Fine-tune and predict on `tch`: LibTorch on the CPU (`LIBTORCH_USE_PYTORCH=1` with a Python torch, or `LIBTORCH=/path`; see scripts/test.sh).
//!
//! ```text
//! cargo run --release --no-default-features --features tch --example finetune_tch -- \
//!     [MODEL_DIR] [TRAIN_TSV] [ROWS] [OUT_DIR]
//! ```
//!
//! Defaults: `assets/all-MiniLM-L6-v2`, `assets/vader-movies/train.tsv` (both from
//! `scripts/fetch-assets.sh`), 2000 rows, `runs/example-tch`. The code is
//! [`common::finetune_and_predict`], shared by every backend's example.

mod common;

fn main() -> anyhow::Result<()> {
    common::finetune_and_predict(burnish::backend::BackendKind::Tch)
}
