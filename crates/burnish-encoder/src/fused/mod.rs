//! Softmax and LayerNorm with hand-written backward passes, and Linear as one matrix product.
//!
//! Burn 0.22's autodiff has no backward of its own for `softmax` or `layer_norm`: it records the
//! composite each backend's default body builds (max, subtract, exp, sum, divide; mean, centre,
//! variance, square root, divide, scale, shift) and differentiates every piece. On LibTorch
//! that is about a dozen passes over the `[B, N, S, S]` attention scores per layer where
//! PyTorch makes two, and the same for each of the 13 LayerNorms of a 6-layer model; profiling
//! the MiniLM training step put most of burnish's gap to PyTorch there (docs/benchmarks.md).
//!
//! [`FusedOps`] is a Burn backend extension with one forward and one backward per operation:
//! - the forward is the backend's own (`softmax`, LibTorch's `native_layer_norm`);
//! - the backward is the closed form, `y * (g - sum(g * y))` for softmax and
//!   `rstd * (g' - mean(g') - x_hat * mean(g' * x_hat))` with `g' = g * gamma` for LayerNorm;
//! - LibTorch runs PyTorch's fused softmax backward kernel.
//!
//! The autodiff backend records one node per operation with that backward. [`softmax_last`] and
//! [`layer_norm`] are the entry points: on a backend this crate was not built for (see its
//! features), or on a dtype other than `f32`, `bf16` and `f16`, they fall back to Burn's own
//! operations, so the result never depends on which path ran (tests compare the two).
//!
//! [`linear`] runs a `Linear` on `[B, S, H]` as one `[B * S, H]` matrix product, as
//! `torch.nn.Linear` does, rather than Burn's batched form (see its docs).
//!
//! [`attention`] (inference) hands the additive padding bias to PyTorch's
//! `scaled_dot_product_attention` on LibTorch; burn-tch 0.22.1 composes attention from separate
//! operations whenever there is a bias.

// `#[backend_extension]` generates dispatch code naming burn-tch's deprecated `LibTorch`; burn-tch
// is still burnish's fastest CPU backend.
#![allow(deprecated)]
// Built for no backend (a library crate's own tests), the generated dispatch has no arms.
#![cfg_attr(
    not(any(feature = "flex", feature = "tch", feature = "wgpu", feature = "cuda")),
    allow(unused_imports, unused_variables)
)]

#[cfg(feature = "flex")]
pub mod flex;

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind, unary};
use burn::backend::tensor::FloatTensor;
use burn::backend::{
    Autodiff, AutodiffBackend, Backend, Dispatch, DispatchDevice, TensorMetadata, backend_extension,
};
use burn::nn::{Dropout, LayerNorm, Linear};
use burn::tensor::ops::AttentionModuleOptions;
use burn::tensor::{DType, Device, Shape, Tensor, activation};

/// Softmax and LayerNorm as single differentiable operations (see the module docs).
///
/// Every method has a body built from the backend's primitive operations; LibTorch overrides
/// the softmax backward with PyTorch's kernel and the LayerNorm forward with
/// `native_layer_norm`, and [`Autodiff`] overrides the two forwards to record one node each.
#[backend_extension(
    Flex: cfg(feature = "flex"),
    LibTorch: cfg(feature = "tch"),
    Cube: cfg(any(feature = "wgpu", feature = "cuda")),
    Fusion: cfg(feature = "fusion"),
    Autodiff,
)]
pub trait FusedOps: Backend {
    /// Scaled dot-product attention with an additive bias: `[B, N, S, D]` queries, keys and
    /// values and a `[B, N, S, S]` bias to the `[B, N, S, D]` context
    /// `softmax(q k^T / sqrt(D) + bias) v`. The backend's own `attention`; LibTorch runs
    /// PyTorch's `scaled_dot_product_attention`, which burn-tch 0.22.1 does only without a
    /// bias (with one it composes the attention from a dozen separate operations).
    #[fusion(default)]
    fn fused_attention(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        composite::attention::<Self>(q, k, v, bias)
    }

    /// Softmax over the last dimension. Any shape to the same shape.
    #[fusion(default)]
    fn fused_softmax(x: FloatTensor<Self>) -> FloatTensor<Self> {
        let last = x.shape().num_dims() - 1;
        Self::softmax(x, last)
    }

    /// The gradient of [`FusedOps::fused_softmax`] with respect to its input, from its output
    /// `y` and the output gradient `g` (same shape): `y * (g - sum_last(g * y))`.
    #[fusion(default)]
    fn fused_softmax_backward(
        output: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        composite::softmax_backward::<Self>(output, grad)
    }

    /// LayerNorm over the last dimension with scale `gamma` and shift `beta` (both `[H]`):
    /// `[..., H]` to `([..., H]` output, `[..., 1]` mean, `[..., 1]` reciprocal standard
    /// deviation`)`; the biased variance, as `torch.nn.LayerNorm`.
    #[fusion(default)]
    fn fused_layer_norm(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        composite::layer_norm::<Self>(x, gamma, beta, epsilon)
    }

    /// The gradients of [`FusedOps::fused_layer_norm`] with respect to `x`, `gamma` and `beta`,
    /// from the output gradient `grad` (`[..., H]`), the input and the forward's statistics.
    #[fusion(default)]
    fn fused_layer_norm_backward(
        grad: FloatTensor<Self>,
        x: FloatTensor<Self>,
        mean: FloatTensor<Self>,
        rstd: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        composite::layer_norm_backward::<Self>(grad, x, mean, rstd, gamma)
    }

    /// Dropout with drop probability `prob` in `(0, 1)`: `[...]` to `(x * m, m)`, the mask
    /// `m` being `1 / (1 - prob)` with probability `1 - prob` and 0 otherwise, per element
    /// (`torch.nn.functional.dropout`). The mask is the backward's state: the input gradient
    /// is `g * m`.
    #[fusion(default)]
    fn fused_dropout(x: FloatTensor<Self>, prob: f64) -> (FloatTensor<Self>, FloatTensor<Self>) {
        composite::dropout::<Self>(x, prob)
    }

    /// GELU in its exact form `x Phi(x)` (`transformers`' `"gelu"`). Any shape to the same
    /// shape; the backend's own `gelu`.
    #[fusion(default)]
    fn fused_gelu(x: FloatTensor<Self>) -> FloatTensor<Self> {
        Self::gelu(x)
    }

    /// The gradient of [`FusedOps::fused_gelu`] with respect to its input `x`, from the output
    /// gradient `grad`: `grad * (Phi(x) + x phi(x))`; the backend's own `gelu_backward`.
    #[fusion(default)]
    fn fused_gelu_backward(x: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self> {
        Self::gelu_backward(x, grad)
    }
}

/// The operations of [`FusedOps`] composed from the backend's primitive operations: the
/// trait's default bodies, and the fallback of a backend's own kernels for dtypes they do not
/// take.
mod composite {
    use super::*;

    /// The backend's own attention with `bias` as its additive float mask.
    pub fn attention<B: Backend>(
        q: FloatTensor<B>,
        k: FloatTensor<B>,
        v: FloatTensor<B>,
        bias: FloatTensor<B>,
    ) -> FloatTensor<B> {
        B::attention(q, k, v, None, Some(bias), AttentionModuleOptions::default())
    }

    pub fn layer_norm<B: Backend>(
        x: FloatTensor<B>,
        gamma: FloatTensor<B>,
        beta: FloatTensor<B>,
        epsilon: f64,
    ) -> (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>) {
        let shape = x.shape();
        let last = shape.num_dims() - 1;
        let mean = B::float_mean_dim(x.clone(), last);
        let centred = B::float_sub(x, mean.clone());
        let var = B::float_mean_dim(B::float_mul(centred.clone(), centred.clone()), last);
        let rstd = B::float_recip(B::float_sqrt(B::float_add_scalar(var, epsilon.into())));
        let normed = B::float_mul(centred, rstd.clone());
        let row = row_shape(&shape);
        let scaled = B::float_mul(normed, B::float_reshape(gamma, row.clone()));
        let y = B::float_add(scaled, B::float_reshape(beta, row));
        (y, mean, rstd)
    }

    pub fn layer_norm_backward<B: Backend>(
        grad: FloatTensor<B>,
        x: FloatTensor<B>,
        mean: FloatTensor<B>,
        rstd: FloatTensor<B>,
        gamma: FloatTensor<B>,
    ) -> (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>) {
        let shape = x.shape();
        let last = shape.num_dims() - 1;
        let width = shape[last];
        let rows = Shape::new([shape.num_elements() / width, width]);
        let normed = B::float_mul(B::float_sub(x, mean), rstd.clone());
        let column_sum = |t: FloatTensor<B>| {
            B::float_reshape(
                B::float_sum_dim(B::float_reshape(t, rows.clone()), 0),
                Shape::new([width]),
            )
        };
        let grad_beta = column_sum(grad.clone());
        let grad_gamma = column_sum(B::float_mul(grad.clone(), normed.clone()));
        let grad_normed = B::float_mul(grad, B::float_reshape(gamma, row_shape(&shape)));
        let mean_grad = B::float_mean_dim(grad_normed.clone(), last);
        let mean_dot = B::float_mean_dim(B::float_mul(grad_normed.clone(), normed.clone()), last);
        let centred = B::float_sub(
            B::float_sub(grad_normed, mean_grad),
            B::float_mul(normed, mean_dot),
        );
        (B::float_mul(centred, rstd), grad_gamma, grad_beta)
    }

    pub fn softmax_backward<B: Backend>(
        output: FloatTensor<B>,
        grad: FloatTensor<B>,
    ) -> FloatTensor<B> {
        let last = output.shape().num_dims() - 1;
        let dot = B::float_sum_dim(B::float_mul(grad.clone(), output.clone()), last);
        B::float_mul(output, B::float_sub(grad, dot))
    }

    /// Burn's `Dropout`: a Bernoulli mask from the backend's generator, scaled.
    pub fn dropout<B: Backend>(x: FloatTensor<B>, prob: f64) -> (FloatTensor<B>, FloatTensor<B>) {
        let keep = 1.0 - prob;
        let mask = B::float_random(
            x.shape(),
            burn::tensor::Distribution::Bernoulli(keep),
            &x.device(),
            x.dtype().into(),
        );
        let mask = B::float_mul_scalar(mask, (1.0 / keep).into());
        (B::float_mul(x, mask.clone()), mask)
    }
}

/// `[1, ..., 1, H]` for a `[..., H]` shape: how `[H]` parameters broadcast.
fn row_shape(shape: &Shape) -> Shape {
    let rank = shape.num_dims();
    Shape::from(
        (0..rank)
            .map(|i| if i + 1 == rank { shape[i] } else { 1 })
            .collect::<Vec<_>>(),
    )
}

/// `[..., 1]` for a `[..., H]` shape: the shape of LayerNorm's per-row statistics.
#[cfg(feature = "flex")]
fn stats_shape(shape: &Shape) -> Shape {
    let mut dims = shape.clone();
    let last = dims.num_dims() - 1;
    dims[last] = 1;
    dims
}

/// burnish's own flex kernels (see [`flex`]) for f32; the composites for other dtypes.
#[cfg(feature = "flex")]
impl FusedOps for burn::backend::Flex {
    fn fused_attention(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        if flex::all_f32(&[&q, &k, &v, &bias])
            && let Some(context) = flex::attention(&q, &k, &v, &bias)
        {
            return context;
        }
        composite::attention::<Self>(q, k, v, bias)
    }

    fn fused_softmax_backward(
        output: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        if !flex::all_f32(&[&output, &grad]) {
            return composite::softmax_backward::<Self>(output, grad);
        }
        flex::softmax_backward(output, grad)
    }

    fn fused_layer_norm(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        if !flex::all_f32(&[&x, &gamma, &beta]) {
            return composite::layer_norm::<Self>(x, gamma, beta, epsilon);
        }
        flex::layer_norm(x, gamma, beta, epsilon)
    }

    fn fused_layer_norm_backward(
        grad: FloatTensor<Self>,
        x: FloatTensor<Self>,
        mean: FloatTensor<Self>,
        rstd: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        if !flex::all_f32(&[&grad, &x, &mean, &rstd, &gamma]) {
            return composite::layer_norm_backward::<Self>(grad, x, mean, rstd, gamma);
        }
        flex::layer_norm_backward(grad, x, mean, rstd, gamma)
    }

    fn fused_dropout(x: FloatTensor<Self>, prob: f64) -> (FloatTensor<Self>, FloatTensor<Self>) {
        if !flex::all_f32(&[&x]) {
            return composite::dropout::<Self>(x, prob);
        }
        flex::dropout(x, prob)
    }

    fn fused_gelu(x: FloatTensor<Self>) -> FloatTensor<Self> {
        if !flex::all_f32(&[&x]) {
            return <Self as burn::backend::ops::ActivationOps<Self>>::gelu(x);
        }
        flex::gelu(x)
    }

    fn fused_gelu_backward(x: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self> {
        if !flex::all_f32(&[&x, &grad]) {
            return <Self as burn::backend::ops::ActivationOps<Self>>::gelu_backward(x, grad);
        }
        flex::gelu_backward(x, grad)
    }
}

// The unfused CubeCL backend; with the `fusion` feature `Cube` is `Fusion<CubeBackend>`, whose
// implementation `#[backend_extension]` generates from the default bodies (operations Fusion
// can fuse).
#[cfg(any(feature = "wgpu", feature = "cuda"))]
impl FusedOps for burn_cubecl::CubeBackend {}

#[cfg(feature = "tch")]
impl FusedOps for burn::backend::LibTorch {
    fn fused_attention(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        burn::backend::libtorch::TchTensor::new(tch::Tensor::scaled_dot_product_attention(
            &q.tensor,
            &k.tensor,
            &v.tensor,
            Some(&bias.tensor),
            0.0,
            false,
            None,
            false,
        ))
    }

    fn fused_softmax_backward(
        output: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let last = output.shape().num_dims() as i64 - 1;
        let kind = output.tensor.kind();
        burn::backend::libtorch::TchTensor::new(tch::Tensor::internal_softmax_backward_data(
            &grad.tensor,
            &output.tensor,
            last,
            kind,
        ))
    }

    fn fused_layer_norm(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        use burn::backend::libtorch::TchTensor;
        let shape = x.shape();
        let width = shape[shape.num_dims() - 1] as i64;
        let (y, mean, rstd) =
            x.tensor
                .native_layer_norm([width], Some(&gamma.tensor), Some(&beta.tensor), epsilon);
        // For bf16 / f16 input PyTorch returns the statistics in f32; the closed-form
        // backward computes in the input's type.
        let kind = x.tensor.kind();
        (
            TchTensor::new(y),
            TchTensor::new(mean.to_kind(kind)),
            TchTensor::new(rstd.to_kind(kind)),
        )
    }
}

impl<B: FusedOps, C: CheckpointStrategy> FusedOps for Autodiff<B, C> {
    fn fused_softmax(x: FloatTensor<Self>) -> FloatTensor<Self> {
        unary_node::<B, C>(UnaryBackward::Softmax, x, |x| {
            let output = B::fused_softmax(x);
            (output.clone(), output)
        })
        .0
    }

    fn fused_layer_norm(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        #[derive(Debug)]
        struct LayerNormOp;

        impl<B: FusedOps> Backward<B, 3> for LayerNormOp {
            // Input, mean, reciprocal standard deviation, gamma.
            type State = (
                FloatTensor<B>,
                FloatTensor<B>,
                FloatTensor<B>,
                FloatTensor<B>,
            );

            fn backward(
                self,
                ops: Ops<Self::State, 3>,
                grads: &mut Gradients,
                _: &mut Checkpointer,
            ) {
                let [node_x, node_gamma, node_beta] = ops.parents;
                let grad = grads.consume::<B>(&ops.node);
                let (x, mean, rstd, gamma) = ops.state;
                let (grad_x, grad_gamma, grad_beta) =
                    B::fused_layer_norm_backward(grad, x, mean, rstd, gamma);
                if let Some(node) = node_x {
                    grads.register::<B>(node.id, grad_x);
                }
                if let Some(node) = node_gamma {
                    grads.register::<B>(node.id, grad_gamma);
                }
                if let Some(node) = node_beta {
                    grads.register::<B>(node.id, grad_beta);
                }
            }
        }

        let nodes = [x.node(), gamma.node(), beta.node()];
        let (x, gamma, beta) = (
            x.into_primitive(),
            gamma.into_primitive(),
            beta.into_primitive(),
        );
        // The statistics are the inner backend's, not differentiable outputs: they leave the
        // autodiff graph as constants.
        let (y, mean, rstd) = B::fused_layer_norm(x.clone(), gamma.clone(), beta, epsilon);
        let constant = |t: FloatTensor<B>| <Autodiff<B, C> as AutodiffBackend>::from_inner(t);
        let y = match LayerNormOp.prepare::<C>(nodes).compute_bound().stateful() {
            OpsKind::Tracked(prep) => prep.finish((x, mean.clone(), rstd.clone(), gamma), y),
            OpsKind::UnTracked(prep) => prep.finish(y),
        };
        (y, constant(mean), constant(rstd))
    }

    fn fused_dropout(x: FloatTensor<Self>, prob: f64) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let (y, mask) =
            unary_node::<B, C>(UnaryBackward::Dropout, x, |x| B::fused_dropout(x, prob));
        (y, <Autodiff<B, C> as AutodiffBackend>::from_inner(mask))
    }

    fn fused_gelu(x: FloatTensor<Self>) -> FloatTensor<Self> {
        unary_node::<B, C>(UnaryBackward::Gelu, x, |x| (B::fused_gelu(x.clone()), x)).0
    }
}

/// The backward pass of a one-input operation of [`FusedOps`] and the tensor it keeps.
#[derive(Debug, Clone, Copy)]
enum UnaryBackward {
    /// Keeps the output `y`: `y * (g - sum(g * y))`.
    Softmax,
    /// Keeps the scaled mask `m`: `g * m`.
    Dropout,
    /// Keeps the input `x`: `g * (Phi(x) + x phi(x))`.
    Gelu,
}

impl<B: FusedOps> Backward<B, 1> for UnaryBackward {
    type State = FloatTensor<B>;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let kept = ops.state;
        unary::<B, _>(ops.parents, ops.node, grads, |grad| match self {
            UnaryBackward::Softmax => B::fused_softmax_backward(kept, grad),
            UnaryBackward::Dropout => B::float_mul(grad, kept),
            UnaryBackward::Gelu => B::fused_gelu_backward(kept, grad),
        });
    }
}

/// Runs `forward` (the inner backend's output and the tensor `kind`'s backward keeps) on `x`
/// and records it as one autodiff node; returns the node's output and the kept tensor.
fn unary_node<B: FusedOps, C: CheckpointStrategy>(
    kind: UnaryBackward,
    x: FloatTensor<Autodiff<B, C>>,
    forward: impl FnOnce(FloatTensor<B>) -> (FloatTensor<B>, FloatTensor<B>),
) -> (FloatTensor<Autodiff<B, C>>, FloatTensor<B>) {
    let prep = <UnaryBackward as Backward<B, 1>>::prepare::<C>(kind, [x.node()])
        .compute_bound()
        .stateful();
    let (output, kept) = forward(x.into_primitive());
    let output = match prep {
        OpsKind::Tracked(prep) => prep.finish(kept.clone(), output),
        OpsKind::UnTracked(prep) => prep.finish(output),
    };
    (output, kept)
}

/// `dropout.forward(x)` as one differentiable operation whose mask is drawn by the backend's
/// [`FusedOps::fused_dropout`] (on flex in parallel; see [`flex`]). The same as Burn's
/// `Dropout::forward`: the input unchanged outside training (no autodiff device, a layer not
/// training, or probability 0), else `x * m` with `m` `1 / (1 - prob)` or 0 per element.
pub fn dropout<const D: usize>(dropout: &Dropout, x: Tensor<D>) -> Tensor<D> {
    let active = dropout.prob > 0.0 && dropout.training.is_enabled() && x.device().is_autodiff();
    if !active || !fused_dtype(x.dtype()) || !runs_fused(&x.device()) {
        return dropout.forward(x);
    }
    let (y, _) = <Dispatch as FusedOps>::fused_dropout(x.into_dispatch(), dropout.prob);
    Tensor::from_dispatch(y)
}

/// GELU (`activation::gelu`, the exact erf form) as one differentiable operation: on flex
/// burnish's vectorised kernel, elsewhere the backend's own. Any shape to the same shape.
pub fn gelu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    if !fused_dtype(x.dtype()) || !runs_fused(&x.device()) {
        return activation::gelu(x);
    }
    Tensor::from_dispatch(<Dispatch as FusedOps>::fused_gelu(x.into_dispatch()))
}

/// Whether tensors on `device` go through [`FusedOps`]: the backend is one this crate was built
/// for (its `flex`, `tch`, `wgpu` and `cuda` features).
pub fn runs_fused(device: &Device) -> bool {
    #[allow(unreachable_patterns)]
    match device.clone().inner().as_dispatch() {
        #[cfg(feature = "flex")]
        DispatchDevice::Flex(_) => true,
        #[cfg(feature = "tch")]
        DispatchDevice::LibTorch(_) => true,
        #[cfg(any(feature = "wgpu", feature = "cuda"))]
        DispatchDevice::Cube(_) => true,
        _ => false,
    }
}

/// [`FusedOps::fused_attention`] on tensors without autodiff (inference; training
/// materialises the probabilities for dropout, or runs Burn's attention with its backward).
/// `[B, N, S, D]` queries, keys and values and a `[B, N, S, S]` additive bias to the
/// `[B, N, S, D]` context.
pub fn attention(q: Tensor<4>, k: Tensor<4>, v: Tensor<4>, bias: Tensor<4>) -> Tensor<4> {
    if q.is_autodiff() || !fused_dtype(q.dtype()) || !runs_fused(&q.device()) {
        return burn::tensor::module::attention(
            q,
            k,
            v,
            None,
            Some(bias),
            AttentionModuleOptions::default(),
        );
    }
    Tensor::from_dispatch(<Dispatch as FusedOps>::fused_attention(
        q.into_dispatch(),
        k.into_dispatch(),
        v.into_dispatch(),
        bias.into_dispatch(),
    ))
}

/// Whether the fused operations take a tensor of this type: f32, bf16 and f16 (half-precision
/// inference and mixed-precision training; LibTorch's `native_layer_norm` accumulates those
/// in f32).
fn fused_dtype(dtype: DType) -> bool {
    matches!(dtype, DType::F32 | DType::BF16 | DType::F16)
}

/// Softmax over the last dimension, differentiated in closed form (see the module docs).
/// Any `[..., K]` to the same shape; equal to `activation::softmax(x, D - 1)`.
pub fn softmax_last<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    if !fused_dtype(x.dtype()) || !runs_fused(&x.device()) {
        return activation::softmax(x, D - 1);
    }
    Tensor::from_dispatch(<Dispatch as FusedOps>::fused_softmax(x.into_dispatch()))
}

/// `layer_norm.forward(x)`, differentiated in closed form (see the module docs). `[..., H]` to
/// `[..., H]`. `epsilon` is the one `layer_norm` was built with (Burn keeps that field
/// private).
pub fn layer_norm<const D: usize>(layer_norm: &LayerNorm, epsilon: f64, x: Tensor<D>) -> Tensor<D> {
    let Some(beta) = &layer_norm.beta else {
        return layer_norm.forward(x);
    };
    if !fused_dtype(x.dtype()) || !runs_fused(&x.device()) {
        return layer_norm.forward(x);
    }
    let (y, _, _) = <Dispatch as FusedOps>::fused_layer_norm(
        x.into_dispatch(),
        layer_norm.gamma.val().into_dispatch(),
        beta.val().into_dispatch(),
        epsilon,
    );
    Tensor::from_dispatch(y)
}

/// `linear.forward(x)` as one `[rows, d_in] x [d_in, d_out]` matrix product over all the rows
/// of `x` (`[..., d_in]` to `[..., d_out]`; equal to `linear.forward(x)`).
///
/// Burn 0.22's `linear` keeps a `[B, S, d_in]` input batched whenever `S` is a multiple of 32
/// and multiplies it by the weight broadcast to `[1, d_in, d_out]`. On LibTorch that is
/// `torch.matmul` with two 3-D operands: the weight is expanded and copied to
/// `[B, d_in, d_out]`, `B` small matrix products run instead of one large one, and the input
/// gradient goes the same way. Flattening the rows first gives every backend the single matrix
/// product `torch.nn.Linear` runs; the weight gradient is already computed that way by Burn.
pub fn linear<const D: usize>(linear: &Linear, x: Tensor<D>) -> Tensor<D> {
    if D <= 2 {
        return linear.forward(x);
    }
    let dims = x.dims();
    let d_in = dims[D - 1];
    let rows = dims[..D - 1].iter().product::<usize>();
    let y = linear.forward(x.reshape([rows, d_in]));
    let mut out = dims;
    out[D - 1] = y.dims()[1];
    y.reshape(out)
}
