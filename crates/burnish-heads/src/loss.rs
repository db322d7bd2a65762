//! Losses, written out so their numerics match PyTorch's (`CrossEntropyLoss`,
//! `BCEWithLogitsLoss`, `MSELoss`, all with mean reduction).

use burn::tensor::activation::log_softmax;
use burn::tensor::{FloatDType, Int, Tensor, TensorData};

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

/// How a classification loss weighs the classes and smooths its targets, as
/// `torch.nn.CrossEntropyLoss(weight=..., label_smoothing=...)`. The default (no weights, no
/// smoothing) is the plain cross-entropy.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClassLoss {
    /// One weight per class (PyTorch's `weight`): a row's term is scaled by its target's
    /// weight and the mean divides by the sum of those weights. `None`: every class 1.
    pub class_weights: Option<Vec<f32>>,
    /// PyTorch's `label_smoothing`, in `[0, 1)`: the target is `1 - e` on the true class
    /// plus `e / C` on every class.
    pub label_smoothing: f32,
}

impl ClassLoss {
    /// Whether this is the plain cross-entropy.
    pub fn is_plain(&self) -> bool {
        self.class_weights.is_none() && self.label_smoothing == 0.0
    }
}

/// PyTorch's `F.cross_entropy(logits, targets, weight, ignore_index, label_smoothing)` with
/// mean reduction, for `[N, C]` logits and `[N]` targets (`ignore_index`: targets to leave
/// out, `-100` in `transformers`):
/// `(1 - e) * sum_i w[y_i] nll_i / W + (e / C) * sum_i sum_c w[c] (-log p_ic) / W`,
/// `W = sum_i w[y_i]` over the rows kept. 0 when no row is kept.
///
/// # Panics
/// If `loss.class_weights` does not hold `C` weights (they are checked against the labels
/// when a run starts).
pub fn cross_entropy_with(
    logits: Tensor<2>,
    targets: Tensor<1, Int>,
    ignore_index: Option<i64>,
    loss: &ClassLoss,
) -> Tensor<1> {
    if loss.is_plain() {
        return match ignore_index {
            Some(ignored) => cross_entropy_ignoring(logits, targets, ignored),
            None => cross_entropy(logits, targets),
        };
    }
    let logits = f32(logits);
    let [n, c] = logits.dims();
    let device = logits.device();
    let (targets, keep) = match ignore_index {
        Some(ignored) => {
            let keep = targets.clone().not_equal_elem(ignored);
            (targets.mask_fill(keep.clone().bool_not(), 0), keep.float())
        }
        None => (targets, Tensor::<1>::ones([n], &device)),
    };
    let log_probs = log_softmax(logits, 1);
    let picked = log_probs
        .clone()
        .gather(1, targets.clone().reshape([n, 1]))
        .reshape([n]);
    let (row_weights, every_class) = match &loss.class_weights {
        Some(weights) => {
            assert_eq!(
                weights.len(),
                c,
                "{} class weights for {c} classes",
                weights.len()
            );
            let weights = Tensor::<1>::from_data(TensorData::new(weights.clone(), [c]), &device);
            let every_class = (log_probs * weights.clone().unsqueeze_dim::<2>(0)).sum_dim(1);
            (weights.gather(0, targets) * keep.clone(), every_class)
        }
        None => (keep.clone(), log_probs.sum_dim(1)),
    };
    let total = row_weights.clone().sum().clamp_min(f32::MIN_POSITIVE);
    let nll = (picked * row_weights).sum().neg() / total.clone();
    let smooth = (every_class.reshape([n]) * keep).sum().neg() / total;
    let e = f64::from(loss.label_smoothing);
    nll * (1.0 - e) + smooth * (e / c as f64)
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
