//! burnish's own flex kernels for [`FusedOps`](super::FusedOps): plain Rust on `FlexTensor`
//! storage, rows in parallel on flex's rayon pool, inner loops written so LLVM vectorises them
//! (eight independent accumulators per reduction) and compiled twice, for the baseline CPU and
//! for AVX2 + FMA, picked at run time.
//!
//! Each kernel replaces a composite of Burn operations (one pass and one allocation each)
//! with one pass over the data:
//! - LayerNorm forward: mean, variance, normalise, scale and shift per row (Burn: 8 passes);
//! - LayerNorm backward: the input gradient per row and the `gamma` / `beta` gradients as
//!   per-task column sums (Burn: 12 passes);
//! - softmax backward `y * (g - sum(g * y))` per row (Burn: 4 passes);
//! - dropout: the mask from a counter-based generator (SplitMix64 of the element's index and a
//!   seed drawn from flex's own generator), so elements are drawn in parallel and a re-seeded
//!   backend draws the same masks (gradient checkpointing relies on that); Burn's draws one
//!   element at a time and multiplies twice;
//! - GELU forward and backward with a vectorisable `erf` and `exp` (flex calls libm's scalar
//!   `erff` per element).
//!
//! They take f32; every other dtype goes to the composite (the trait's default bodies), as do
//! other backends. `tests/fused.rs` checks each against Burn's own operations.

use burn::backend::TensorMetadata;
use burn::backend::flex::{Flex, FlexTensor, Layout};
use burn::backend::ops::FloatTensorOps;
use burn::tensor::{Bytes, DType, Distribution, FloatDType, Shape};
use rayon::prelude::*;
use std::sync::atomic::{AtomicU8, Ordering};

/// The code paths of the kernels, narrowest first: each kernel takes the widest one that the
/// CPU has and [`set_simd_limit`] allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SimdLevel {
    /// The build's baseline target (what `rustc` emits without runtime detection).
    Baseline = 0,
    /// AVX2 + FMA: 8 lanes.
    Avx2 = 1,
    /// AVX-512 (F, VL, DQ, BW): 16 lanes.
    Avx512 = 2,
}

static SIMD_LIMIT: AtomicU8 = AtomicU8::new(SimdLevel::Avx512 as u8);

/// Caps the code path of every flex kernel of this process at `level` (the default is the
/// widest the CPU has). For tests, which run each narrower path against Burn's ops, and for
/// comparing the paths' speed.
pub fn set_simd_limit(level: SimdLevel) {
    SIMD_LIMIT.store(level as u8, Ordering::Relaxed);
}

/// The cap set by [`set_simd_limit`].
pub fn simd_limit() -> SimdLevel {
    match SIMD_LIMIT.load(Ordering::Relaxed) {
        0 => SimdLevel::Baseline,
        1 => SimdLevel::Avx2,
        _ => SimdLevel::Avx512,
    }
}

/// Independent accumulators of the reductions: one AVX-512 register, two AVX2 ones.
const LANES: usize = 16;

/// Rows handed to one rayon task: enough work to amortise the task, small enough to balance.
const ROWS_PER_TASK: usize = 16;

/// Runs `$body` (a closure-free block over the given slices) with AVX-512 code generation
/// (16 lanes) where the CPU has it, else AVX2 + FMA (8 lanes), else for the baseline target.
macro_rules! multiversion {
    (fn $name:ident($($arg:ident: $ty:ty),*) $body:block) => {
        // The kernels take their slices and sizes as plain arguments.
        #[allow(clippy::too_many_arguments)]
        fn $name($($arg: $ty),*) {
            #[inline(always)]
            #[allow(clippy::too_many_arguments)]
            fn inner($($arg: $ty),*) $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn avx512($($arg: $ty),*) {
                    inner($($arg),*)
                }
                let limit = simd_limit();
                if limit >= SimdLevel::Avx512
                    && std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512vl")
                    && std::arch::is_x86_feature_detected!("avx512dq")
                    && std::arch::is_x86_feature_detected!("avx512bw")
                {
                    // SAFETY: the CPU supports the features `avx512` was compiled for.
                    unsafe { avx512($($arg),*) };
                    return;
                }
                #[target_feature(enable = "avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn avx2($($arg: $ty),*) {
                    inner($($arg),*)
                }
                if limit >= SimdLevel::Avx2
                    && std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                {
                    // SAFETY: the CPU supports the features `avx2` was compiled for.
                    unsafe { avx2($($arg),*) };
                    return;
                }
            }
            inner($($arg),*)
        }
    };
}

/// Whether every tensor is f32 (the dtype these kernels take).
pub(super) fn all_f32(tensors: &[&FlexTensor]) -> bool {
    tensors.iter().all(|t| t.dtype() == DType::F32)
}

/// A contiguous f32 tensor of `shape` holding `data`.
fn tensor(data: Vec<f32>, shape: Shape) -> FlexTensor {
    FlexTensor::new(
        Bytes::from_elems(data),
        Layout::contiguous(shape),
        DType::F32,
    )
}

/// The sum of `x`, in [`LANES`] lanes (vectorisable without reassociating a single accumulator).
#[inline(always)]
fn sum(x: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let chunks = x.chunks_exact(LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for l in 0..LANES {
            acc[l] += c[l];
        }
    }
    acc.iter().sum::<f32>() + rest.iter().sum::<f32>()
}

/// `sum((x - c)^2)`.
#[inline(always)]
fn sum_sq_dev(x: &[f32], c: f32) -> f32 {
    let mut acc = [0f32; LANES];
    let chunks = x.chunks_exact(LANES);
    let rest = chunks.remainder();
    for ch in chunks {
        for l in 0..LANES {
            let d = ch[l] - c;
            acc[l] += d * d;
        }
    }
    acc.iter().sum::<f32>() + rest.iter().map(|v| (v - c) * (v - c)).sum::<f32>()
}

/// `sum(a * b)`.
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let ca = a.chunks_exact(LANES);
    let cb = b.chunks_exact(LANES);
    let rest: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..LANES {
            acc[l] += x[l] * y[l];
        }
    }
    acc.iter().sum::<f32>() + rest
}

multiversion! {
    fn layer_norm_rows(
        x: &[f32], gamma: &[f32], beta: &[f32], eps: f32,
        y: &mut [f32], mean: &mut [f32], rstd: &mut [f32]
    ) {
        let width = gamma.len();
        for (r, (xr, yr)) in x.chunks_exact(width).zip(y.chunks_exact_mut(width)).enumerate() {
            let m = sum(xr) / width as f32;
            let var = sum_sq_dev(xr, m) / width as f32;
            let s = 1.0 / (var + eps).sqrt();
            for i in 0..width {
                yr[i] = (xr[i] - m) * s * gamma[i] + beta[i];
            }
            mean[r] = m;
            rstd[r] = s;
        }
    }
}

/// LayerNorm over the last dimension: `(y, mean, rstd)` as [`super::FusedOps::fused_layer_norm`].
pub(super) fn layer_norm(
    x: FlexTensor,
    gamma: FlexTensor,
    beta: FlexTensor,
    epsilon: f64,
) -> (FlexTensor, FlexTensor, FlexTensor) {
    let shape = x.shape();
    let (x, gamma, beta) = (
        x.to_contiguous(),
        gamma.to_contiguous(),
        beta.to_contiguous(),
    );
    let (x, gamma, beta): (&[f32], &[f32], &[f32]) = (x.storage(), gamma.storage(), beta.storage());
    let width = gamma.len();
    let rows = x.len() / width;
    let mut y = vec![0f32; x.len()];
    let mut mean = vec![0f32; rows];
    let mut rstd = vec![0f32; rows];
    let eps = epsilon as f32;
    y.par_chunks_mut(ROWS_PER_TASK * width)
        .zip(x.par_chunks(ROWS_PER_TASK * width))
        .zip(mean.par_chunks_mut(ROWS_PER_TASK))
        .zip(rstd.par_chunks_mut(ROWS_PER_TASK))
        .for_each(|(((y, x), mean), rstd)| layer_norm_rows(x, gamma, beta, eps, y, mean, rstd));
    let stats = super::stats_shape(&shape);
    (
        tensor(y, shape),
        tensor(mean, stats.clone()),
        tensor(rstd, stats),
    )
}

multiversion! {
    fn layer_norm_backward_rows(
        g: &[f32], x: &[f32], mean: &[f32], rstd: &[f32], gamma: &[f32],
        dx: &mut [f32], dgamma: &mut [f32], dbeta: &mut [f32]
    ) {
        let width = gamma.len();
        let mut xhat = vec![0f32; width];
        let mut gp = vec![0f32; width];
        for (r, ((gr, xr), dxr)) in g
            .chunks_exact(width)
            .zip(x.chunks_exact(width))
            .zip(dx.chunks_exact_mut(width))
            .enumerate()
        {
            let (m, s) = (mean[r], rstd[r]);
            for i in 0..width {
                xhat[i] = (xr[i] - m) * s;
                gp[i] = gr[i] * gamma[i];
                dgamma[i] += gr[i] * xhat[i];
                dbeta[i] += gr[i];
            }
            let a = sum(&gp) / width as f32;
            let b = dot(&gp, &xhat) / width as f32;
            for i in 0..width {
                dxr[i] = s * (gp[i] - a - xhat[i] * b);
            }
        }
    }
}

/// The gradients of [`layer_norm`]: `(dx, dgamma, dbeta)` as
/// [`super::FusedOps::fused_layer_norm_backward`].
pub(super) fn layer_norm_backward(
    grad: FlexTensor,
    x: FlexTensor,
    mean: FlexTensor,
    rstd: FlexTensor,
    gamma: FlexTensor,
) -> (FlexTensor, FlexTensor, FlexTensor) {
    let shape = x.shape();
    let contiguous = |t: FlexTensor| t.to_contiguous();
    let (grad, x, mean, rstd, gamma) = (
        contiguous(grad),
        contiguous(x),
        contiguous(mean),
        contiguous(rstd),
        contiguous(gamma),
    );
    let [g, xs, mean, rstd, gamma]: [&[f32]; 5] = [
        grad.storage(),
        x.storage(),
        mean.storage(),
        rstd.storage(),
        gamma.storage(),
    ];
    let width = gamma.len();
    let mut dx = vec![0f32; xs.len()];
    let chunk = ROWS_PER_TASK * width;
    // Each task sums its rows' `gamma` and `beta` gradients; the tasks' sums are then added in
    // task order, so the result does not depend on how the pool scheduled the tasks.
    let partials: Vec<(Vec<f32>, Vec<f32>)> = dx
        .par_chunks_mut(chunk)
        .zip(g.par_chunks(chunk))
        .zip(xs.par_chunks(chunk))
        .zip(mean.par_chunks(ROWS_PER_TASK))
        .zip(rstd.par_chunks(ROWS_PER_TASK))
        .map(|((((dx, g), x), mean), rstd)| {
            let (mut dgamma, mut dbeta) = (vec![0f32; width], vec![0f32; width]);
            layer_norm_backward_rows(g, x, mean, rstd, gamma, dx, &mut dgamma, &mut dbeta);
            (dgamma, dbeta)
        })
        .collect();
    let (mut dgamma, mut dbeta) = (vec![0f32; width], vec![0f32; width]);
    for (pg, pb) in &partials {
        for i in 0..width {
            dgamma[i] += pg[i];
            dbeta[i] += pb[i];
        }
    }
    let param = Shape::new([width]);
    (
        tensor(dx, shape),
        tensor(dgamma, param.clone()),
        tensor(dbeta, param),
    )
}

multiversion! {
    fn softmax_backward_rows(y: &[f32], g: &[f32], width: usize, dx: &mut [f32]) {
        for ((yr, gr), dxr) in y
            .chunks_exact(width)
            .zip(g.chunks_exact(width))
            .zip(dx.chunks_exact_mut(width))
        {
            let d = dot(yr, gr);
            for i in 0..width {
                dxr[i] = yr[i] * (gr[i] - d);
            }
        }
    }
}

/// `y * (g - sum_last(g * y))`, as [`super::FusedOps::fused_softmax_backward`].
pub(super) fn softmax_backward(output: FlexTensor, grad: FlexTensor) -> FlexTensor {
    let shape = output.shape();
    let width = shape[shape.num_dims() - 1];
    let (output, grad) = (output.to_contiguous(), grad.to_contiguous());
    let (y, g): (&[f32], &[f32]) = (output.storage(), grad.storage());
    let mut dx = vec![0f32; y.len()];
    if width > 0 {
        let chunk = ROWS_PER_TASK * width;
        dx.par_chunks_mut(chunk)
            .zip(y.par_chunks(chunk))
            .zip(g.par_chunks(chunk))
            .for_each(|((dx, y), g)| softmax_backward_rows(y, g, width, dx));
    }
    tensor(dx, shape)
}

/// SplitMix64's finaliser: a well-mixed 64-bit value for each input.
#[inline(always)]
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A 64-bit seed drawn from flex's own generator (the one `Backend::seed` sets), so a seeded
/// backend gives the same masks.
fn draw_seed() -> u64 {
    let draw = Flex::float_random(
        Shape::new([3]),
        Distribution::Uniform(0.0, 1.0),
        &Default::default(),
        FloatDType::F32,
    );
    let bits: &[f32] = draw.storage();
    bits.iter()
        .fold(0u64, |acc, v| splitmix64(acc ^ u64::from(v.to_bits())))
}

/// Elements per task of the dropout kernel (a multiple of 2: each hash gives two draws).
const DROPOUT_CHUNK: usize = 1 << 14;

multiversion! {
    fn dropout_chunk(x: &[f32], seed: u64, first: u64, threshold: u32, scale: f32, out: &mut [f32], mask: &mut [f32]) {
        for (i, ((xp, op), mp)) in x
            .chunks(2)
            .zip(out.chunks_mut(2))
            .zip(mask.chunks_mut(2))
            .enumerate()
        {
            let h = splitmix64(seed ^ (first / 2 + i as u64).wrapping_mul(0xD605_BBB5_8C8A_BBD3));
            let draws = [h as u32, (h >> 32) as u32];
            for j in 0..xp.len() {
                let keep = if draws[j] < threshold { scale } else { 0.0 };
                mp[j] = keep;
                op[j] = xp[j] * keep;
            }
        }
    }
}

/// Dropout with drop probability `prob` (in `(0, 1)`): `(x * m, m)` where `m` is `1 / (1 -
/// prob)` with probability `1 - prob` and 0 otherwise, independently per element, as
/// [`super::FusedOps::fused_dropout`].
pub(super) fn dropout(x: FlexTensor, prob: f64) -> (FlexTensor, FlexTensor) {
    let shape = x.shape();
    let x = x.to_contiguous();
    let xs: &[f32] = x.storage();
    let keep = 1.0 - prob;
    // P(draw < threshold) = threshold / 2^32 = keep.
    let threshold = (keep * 4_294_967_296.0).round().min(u32::MAX as f64) as u32;
    let scale = (1.0 / keep) as f32;
    let seed = draw_seed();
    let mut out = vec![0f32; xs.len()];
    let mut mask = vec![0f32; xs.len()];
    out.par_chunks_mut(DROPOUT_CHUNK)
        .zip(mask.par_chunks_mut(DROPOUT_CHUNK))
        .zip(xs.par_chunks(DROPOUT_CHUNK))
        .enumerate()
        .for_each(|(c, ((out, mask), x))| {
            dropout_chunk(
                x,
                seed,
                (c * DROPOUT_CHUNK) as u64,
                threshold,
                scale,
                out,
                mask,
            )
        });
    (tensor(out, shape.clone()), tensor(mask, shape))
}

/// `e^x` for f32 without a library call, so loops over it vectorise: `x = n ln 2 + r` with
/// `|r| <= ln 2 / 2`, Cephes' minimax polynomial for `e^r` (about 1 ulp), and `2^n` built in the
/// exponent bits. Inputs are clamped to `[-87.3, 88.37]` (below, the result is about 1e-38
/// instead of a subnormal or 0; above, `n` would reach 128, past the largest exponent).
#[inline(always)]
fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding and subtracting 1.5 * 2^23 rounds to the nearest integer.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.3, 88.37);
    let t = x * LOG2E + ROUND;
    let n = t - ROUND;
    // The integer `n` is in `t`'s low mantissa bits: read it there rather than with `as i32`,
    // whose saturating conversion does not vectorise.
    let n_int = t.to_bits().wrapping_sub(ROUND.to_bits()) as i32;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = ((((1.987_569_2e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 1.666_666_5e-1)
        * r
        + 0.5;
    let e = 1.0 + r + r * r * p;
    e * f32::from_bits((n_int.wrapping_add(127) as u32) << 23)
}

/// `erf(x)` (Abramowitz and Stegun 7.1.26, absolute error below 2e-7), vectorisable.
#[inline(always)]
fn erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = ((((1.061_405_4 * t - 1.453_152_1) * t + 1.421_413_8) * t - 0.284_496_74) * t
        + 0.254_829_6)
        * t;
    (1.0 - poly * exp(-a * a)).copysign(x)
}

multiversion! {
    fn gelu_chunk(x: &[f32], y: &mut [f32]) {
        for (y, &x) in y.iter_mut().zip(x) {
            *y = 0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2));
        }
    }
}

multiversion! {
    fn gelu_backward_chunk(x: &[f32], g: &[f32], dx: &mut [f32]) {
        // d/dx x Phi(x) = Phi(x) + x phi(x).
        const INV_SQRT_2PI: f32 = 0.398_942_3;
        for ((dx, &x), &g) in dx.iter_mut().zip(x).zip(g) {
            let cdf = 0.5 * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2));
            *dx = g * (cdf + x * INV_SQRT_2PI * exp(-0.5 * x * x));
        }
    }
}

/// Elements per task of the element-wise kernels.
const ELEMENTWISE_CHUNK: usize = 1 << 14;

/// GELU with the exact (erf) form, `x Phi(x)`, as [`super::FusedOps::fused_gelu`].
pub(super) fn gelu(x: FlexTensor) -> FlexTensor {
    let shape = x.shape();
    let x = x.to_contiguous();
    let xs: &[f32] = x.storage();
    let mut y = vec![0f32; xs.len()];
    y.par_chunks_mut(ELEMENTWISE_CHUNK)
        .zip(xs.par_chunks(ELEMENTWISE_CHUNK))
        .for_each(|(y, x)| gelu_chunk(x, y));
    tensor(y, shape)
}

/// The input gradient of [`gelu`], as [`super::FusedOps::fused_gelu_backward`].
pub(super) fn gelu_backward(x: FlexTensor, grad: FlexTensor) -> FlexTensor {
    let shape = x.shape();
    let (x, grad) = (x.to_contiguous(), grad.to_contiguous());
    let (xs, g): (&[f32], &[f32]) = (x.storage(), grad.storage());
    let mut dx = vec![0f32; xs.len()];
    dx.par_chunks_mut(ELEMENTWISE_CHUNK)
        .zip(xs.par_chunks(ELEMENTWISE_CHUNK))
        .zip(g.par_chunks(ELEMENTWISE_CHUNK))
        .for_each(|((dx, x), g)| gelu_backward_chunk(x, g, dx));
    tensor(dx, shape)
}

multiversion! {
    fn softmax_rows(scores: &mut [f32], width: usize, bias: &[f32], bias_row_stride: usize) {
        // `scores` holds rows of `width` scaled scores; row `i`'s additive bias starts at
        // `bias[i * bias_row_stride]` (stride 0: one bias row for every query).
        for (i, row) in scores.chunks_exact_mut(width).enumerate() {
            let b = &bias[i * bias_row_stride..i * bias_row_stride + width];
            let mut max = [f32::NEG_INFINITY; LANES];
            let (rows, brows) = (row.chunks_exact_mut(LANES), b.chunks_exact(LANES));
            for (c, bc) in rows.zip(brows) {
                for l in 0..LANES {
                    c[l] += bc[l];
                    max[l] = max[l].max(c[l]);
                }
            }
            let tail = width - width % LANES;
            let mut m = max.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            for j in tail..width {
                row[j] += b[j];
                m = m.max(row[j]);
            }
            if m == f32::NEG_INFINITY {
                // Every key masked with -inf: no weight anywhere, as Burn's attention gives.
                row.fill(0.0);
                continue;
            }
            let mut acc = [0f32; LANES];
            let rows = row.chunks_exact_mut(LANES);
            for c in rows {
                for l in 0..LANES {
                    c[l] = exp(c[l] - m);
                    acc[l] += c[l];
                }
            }
            let mut total = acc.iter().sum::<f32>();
            for x in &mut row[tail..] {
                *x = exp(*x - m);
                total += *x;
            }
            let inv = 1.0 / total;
            for x in row.iter_mut() {
                *x *= inv;
            }
        }
    }
}

/// A raw pointer that rayon tasks may share: each task writes a disjoint set of elements.
#[derive(Clone, Copy)]
struct SharedOut(*mut f32);
// SAFETY: the tasks of `attention` write disjoint elements (one (batch, head) each).
unsafe impl Send for SharedOut {}
unsafe impl Sync for SharedOut {}

/// The strides and offset of a rank-4 f32 tensor, if none is negative.
fn strides4(t: &FlexTensor) -> Option<([usize; 4], usize)> {
    let s = t.layout().strides();
    let mut out = [0usize; 4];
    for (o, &s) in out.iter_mut().zip(s) {
        *o = usize::try_from(s).ok()?;
    }
    Some((out, t.layout().start_offset()))
}

/// `softmax(q k^T / sqrt(D) + bias) v` for `[B, N, S, D]` queries, `[B, N, K, D]` keys and
/// values and a `[B, N, S, K]` additive bias, as [`super::FusedOps::fused_attention`]: one
/// rayon task per (batch, head), two strided matrix products each (gemm, single-threaded
/// inside the task) around a vectorised softmax; no input is copied to a contiguous layout (the
/// model's queries are a head-split view of `[B, S, H]`, its bias a broadcast `[B, 1, 1, K]`).
/// The context is written in `[B, S, N, D]` memory order and returned as a `[B, N, S, D]` view
/// of it, so the model's merge of the heads back to `[B, S, H]` copies nothing.
///
/// `None` (the caller falls back to Burn's attention) for a layout it does not take: a
/// negative stride, or a bias whose last dimension is not contiguous.
pub(super) fn attention(
    q: &FlexTensor,
    k: &FlexTensor,
    v: &FlexTensor,
    bias: &FlexTensor,
) -> Option<FlexTensor> {
    let (qs, ks, vs, bs) = (q.shape(), k.shape(), v.shape(), bias.shape());
    if qs.num_dims() != 4 || ks.num_dims() != 4 || vs.num_dims() != 4 || bs.num_dims() != 4 {
        return None;
    }
    let [batch, heads, seq, dim] = [qs[0], qs[1], qs[2], qs[3]];
    let keys = ks[2];
    let same = ks[0] == batch && ks[1] == heads && ks[3] == dim && vs[0] == batch;
    if !same || vs[1] != heads || vs[2] != keys || vs[3] != dim {
        return None;
    }
    if [bs[0], bs[1], bs[2], bs[3]] != [batch, heads, seq, keys] {
        return None;
    }
    let ((qst, qo), (kst, ko), (vst, vo), (bst, bo)) =
        (strides4(q)?, strides4(k)?, strides4(v)?, strides4(bias)?);
    // The raw-pointer reads below stay inside each storage only if the layout does.
    let fits = |t: &FlexTensor, (strides, offset): ([usize; 4], usize)| {
        let shape = t.shape();
        let last = (0..4).map(|d| (shape[d] - 1) * strides[d]).sum::<usize>();
        offset + last < t.storage::<f32>().len()
    };
    if bst[3] != 1 && keys > 1 {
        return None;
    }
    let (qd, kd, vd, bd): (&[f32], &[f32], &[f32], &[f32]) =
        (q.storage(), k.storage(), v.storage(), bias.storage());
    let mut out = vec![0f32; batch * seq * heads * dim];
    if out.is_empty() || keys == 0 {
        let shape = Shape::new([batch, heads, seq, dim]);
        return Some(tensor(out, shape));
    }
    if !fits(q, (qst, qo)) || !fits(k, (kst, ko)) || !fits(v, (vst, vo)) {
        return None;
    }
    let scale = 1.0 / (dim as f32).sqrt();
    let row_width = heads * dim;
    let shared = SharedOut(out.as_mut_ptr());
    (0..batch * heads).into_par_iter().for_each_init(
        || vec![0f32; seq * keys],
        |scores, job| {
            // Rebound so the closure captures the whole `SharedOut` (which is `Sync`), not
            // its raw-pointer field (which is not).
            #[allow(clippy::redundant_locals)]
            let shared = shared;
            let (b, h) = (job / heads, job % heads);
            let q0 = qo + b * qst[0] + h * qst[1];
            let k0 = ko + b * kst[0] + h * kst[1];
            let v0 = vo + b * vst[0] + h * vst[1];
            let b0 = bo + b * bst[0] + h * bst[1];
            // SAFETY: every element read lies in its tensor's storage (`fits` checked the last
            // one of each); `scores` holds seq x keys; this task writes the rows of head h
            // of batch b of `out` (`seq` rows of `dim` at stride `row_width`), which no other
            // task writes, and `out` outlives the tasks.
            unsafe {
                gemm::gemm(
                    seq,
                    keys,
                    dim,
                    scores.as_mut_ptr(),
                    1,
                    keys as isize,
                    false,
                    qd.as_ptr().add(q0),
                    qst[3] as isize,
                    qst[2] as isize,
                    kd.as_ptr().add(k0),
                    kst[2] as isize,
                    kst[3] as isize,
                    0.0,
                    scale,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
            }
            let bias_len = (seq - 1) * bst[2] + keys;
            softmax_rows(scores, keys, &bd[b0..b0 + bias_len], bst[2]);
            unsafe {
                gemm::gemm(
                    seq,
                    dim,
                    keys,
                    shared.0.add(b * seq * row_width + h * dim),
                    1,
                    row_width as isize,
                    false,
                    scores.as_ptr(),
                    1,
                    keys as isize,
                    vd.as_ptr().add(v0),
                    vst[3] as isize,
                    vst[2] as isize,
                    0.0,
                    1.0,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
            }
        },
    );
    // `out` is [B, S, N, D] in memory: the [B, N, S, D] result is its view with dims 1 and 2
    // swapped.
    let shape = Shape::new([batch, heads, seq, dim]);
    let strides = vec![
        (seq * row_width) as isize,
        dim as isize,
        row_width as isize,
        1,
    ];
    Some(FlexTensor::new(
        Bytes::from_elems(out),
        Layout::new(shape, strides, 0),
        DType::F32,
    ))
}
