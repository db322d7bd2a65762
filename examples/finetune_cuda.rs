//! Fine-tune and predict on `cuda`: CubeCL CUDA on device 0 (CUDA toolkit; `CUDARC_CUDA_VERSION=13000` to pick the driver API).
//!
//! ```text
//! cargo run --release --no-default-features --features cuda --example finetune_cuda -- \
//!     [MODEL_DIR] [TRAIN_TSV] [ROWS] [OUT_DIR]
//! ```
//!
//! Defaults: `assets/all-MiniLM-L6-v2`, `assets/vader-movies/train.tsv` (both from
//! `scripts/fetch-assets.sh`), 2000 rows, `runs/example-cuda`. The code is
//! [`common::finetune_and_predict`], shared by every backend's example.

mod common;

fn main() -> anyhow::Result<()> {
    common::finetune_and_predict(burnish::backend::BackendKind::Cuda)
}
