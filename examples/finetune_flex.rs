//! Fine-tune and predict on `flex`: the pure-Rust CPU backend (default feature).
//!
//! ```text
//! cargo run --release --no-default-features --features flex --example finetune_flex -- \
//!     [MODEL_DIR] [TRAIN_TSV] [ROWS] [OUT_DIR]
//! ```
//!
//! Defaults: `assets/all-MiniLM-L6-v2`, `assets/vader-movies/train.tsv` (both from
//! `scripts/fetch-assets.sh`), 2000 rows, `runs/example-flex`. The code is
//! [`common::finetune_and_predict`], shared by every backend's example.

mod common;

fn main() -> anyhow::Result<()> {
    common::finetune_and_predict(burnish::backend::BackendKind::Flex)
}
