//! Losses, written out so their numerics match PyTorch's (`CrossEntropyLoss`,
//! `BCEWithLogitsLoss`, `MSELoss`, all with mean reduction).

use burn::tensor::activation::log_softmax;
use burn::tensor::{FloatDType, Int, Tensor};

/// `t` in f32: losses are computed in f32 whatever the model computes in (mixed-precision
/// training runs the model in bf16; PyTorch's autocast does the same). A no-op for f32.
fn f32<const D: usize>(t: Tensor<D>) -> Tensor<D> {
    t.cast(FloatDType::F32)
}

/// Mean cross-entropy of `[N, C]` logits against `[N]` class ids.
///
/// # Panics
/// If a target is outside `0..C` (labels are validated when data is read).
pub fn cross_entropy(logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
    let logits = f32(logits);
    let [n, _] = logits.dims();
    let log_probs = log_softmax(logits, 1);
    let picked = log_probs.gather(1, targets.reshape([n, 1]));
    picked.mean().neg()
}

/// Mean cross-entropy over the positions whose target is not `ignore_index` (`-100` in
/// `transformers`), for `[N, C]` logits and `[N]` targets. Returns 0 when every position is
/// ignored.
pub fn cross_entropy_ignoring(
    logits: Tensor<2>,
    targets: Tensor<1, Int>,
    ignore_index: i64,
) -> Tensor<1> {
    let logits = f32(logits);
    let [n, _] = logits.dims();
    let keep = targets.clone().not_equal_elem(ignore_index);
    let safe_targets = targets.mask_fill(keep.clone().bool_not(), 0);
    let log_probs = log_softmax(logits, 1);
    let picked = log_probs
        .gather(1, safe_targets.reshape([n, 1]))
        .reshape([n]);
    let keep = keep.float();
    let count = keep.clone().sum().clamp_min(1.0);
    (picked * keep).sum().neg() / count
}

/// Mean binary cross-entropy with logits, `[N, C]` logits and `[N, C]` targets in `[0, 1]`,
/// computed stably as `max(x, 0) - x y + log(1 + exp(-|x|))`.
pub fn bce_with_logits(logits: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
    let logits = f32(logits);
    let positive = logits.clone().clamp_min(0.0);
    let softplus = logits.clone().abs().neg().exp().add_scalar(1.0).log();
    (positive - logits * targets + softplus).mean()
}

/// Mean squared error of `[N, C]` predictions against `[N, C]` targets.
pub fn mse(predictions: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
    let predictions = f32(predictions);
    (predictions - targets).powf_scalar(2.0).mean()
}
