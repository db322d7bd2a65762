//! Fine-tune and predict on `wgpu`: WGPU: Vulkan, Metal or DX12, whatever the machine offers (Mesa's lavapipe without a GPU).
//!
//! ```text
//! cargo run --release --no-default-features --features wgpu --example finetune_wgpu -- \
//!     [MODEL_DIR] [TRAIN_TSV] [ROWS] [OUT_DIR]
//! ```
//!
//! Defaults: `assets/all-MiniLM-L6-v2`, `assets/vader-movies/train.tsv` (both from
//! `scripts/fetch-assets.sh`), 2000 rows, `runs/example-wgpu`. The code is
//! [`common::finetune_and_predict`], shared by every backend's example.

mod common;

fn main() -> anyhow::Result<()> {
    common::finetune_and_predict(burnish::backend::BackendKind::Wgpu)
}
