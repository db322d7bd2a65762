//! The fused softmax, LayerNorm and dropout and the row-wise Linear (`burnish_encoder::fused`)
//! against Burn's own operations: the same outputs and the same gradients, on every backend of
//! this build, through the closed-form backward (the tests check that the fused path is the one
//! that ran). On flex these are burnish's own kernels (`fused::flex`), checked on each of their
//! code paths (baseline, AVX2, AVX-512); the shapes include rows wider than a SIMD register with
//! a remainder, and more rows than one parallel task takes.

use burn::module::Param;
use burn::nn::{LayerNorm, LayerNormConfig, LinearConfig};
use burn::tensor::{Device, Distribution, Tensor, TensorData, activation};
use burnish_encoder::fused;
#[cfg(feature = "flex")]
use burnish_encoder::fused::flex::{SimdLevel, set_simd_limit};
#[cfg(feature = "flex")]
use std::sync::Mutex;

mod common;

/// Every backend this build runs on the CPU (flex, and tch and wgpu when compiled in).
fn devices() -> Vec<(String, Device)> {
    let devices: Vec<(String, Device)> = common::backends()
        .into_iter()
        .map(|(kind, device)| (format!("{kind:?}"), device))
        .collect();
    assert!(
        !devices.is_empty(),
        "build with at least one backend feature"
    );
    devices
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_into_vec().unwrap()
}

fn max_diff<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f32 {
    values(a)
        .iter()
        .zip(values(b))
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Runs `check` once per code path of burnish's flex kernels (baseline, AVX2, AVX-512; a CPU
/// without one runs its widest instead), one such test at a time so the level is the one set.
#[cfg(feature = "flex")]
fn at_every_simd_level(check: impl Fn()) {
    static LOCK: Mutex<()> = Mutex::new(());
    let _one_at_a_time = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    for level in [SimdLevel::Baseline, SimdLevel::Avx2, SimdLevel::Avx512] {
        set_simd_limit(level);
        println!("flex kernels at most {level:?}");
        check();
    }
}

/// Without flex there are no code paths to choose between.
#[cfg(not(feature = "flex"))]
fn at_every_simd_level(check: impl Fn()) {
    check();
}

/// Random values of `shape`, seeded per call site so each backend sees the same numbers.
fn random<const D: usize>(shape: [usize; D], seed: u64, scale: f64, device: &Device) -> Tensor<D> {
    let _seeded = common::generator_lock();
    let host = Device::flex();
    host.seed(seed);
    let t = Tensor::<D>::random(shape, Distribution::Normal(0.0, scale), &host);
    Tensor::from_data(t.into_data(), device)
}

/// The softmax gradient at attention's real width: 128 keys, 12 x 20 rows (more than one
/// parallel task), against Burn's softmax.
#[test]
fn fused_softmax_gradient_matches_at_attention_width() {
    at_every_simd_level(|| {
        for (name, device) in devices() {
            let ad = device.clone().autodiff();
            let scores = random([2, 6, 20, 128], 11, 2.0, &device).into_data();
            let weights = random([2, 6, 20, 128], 12, 1.0, &ad);
            let run = |fused_path: bool| {
                let x = Tensor::<4>::from_data(scores.clone(), &ad).require_grad();
                let y = if fused_path {
                    fused::softmax_last(x.clone())
                } else {
                    activation::softmax(x.clone(), 3)
                };
                let grads = (y.clone() * weights.clone()).sum().backward();
                (y, x.grad(&grads).unwrap())
            };
            let (y_fused, g_fused) = run(true);
            let (y_burn, g_burn) = run(false);
            let dy = max_diff(y_fused, y_burn);
            let dg = max_diff(g_fused.clone(), g_burn);
            assert!(dy <= 1e-6, "{name}: softmax differs by {dy}");
            assert!(dg <= 1e-6, "{name}: softmax gradient differs by {dg}");
            assert!(
                values(g_fused).iter().any(|g| g.abs() > 1e-3),
                "{name}: gradient is not trivial"
            );
        }
    });
}

#[test]
fn fused_softmax_matches_burns_softmax_and_its_gradient() {
    at_every_simd_level(|| {
        for (name, device) in devices() {
            let ad = device.clone().autodiff();
            assert!(fused::runs_fused(&ad), "{name}: the fused path must run");
            // Attention-shaped scores, with the last two keys masked by the additive bias burnish
            // uses for padding.
            let mut scores = values(random([2, 3, 5, 7], 1, 3.0, &device));
            for (i, s) in scores.iter_mut().enumerate() {
                if i % 7 >= 5 {
                    *s += f32::MIN;
                }
            }
            let scores = TensorData::new(scores, [2, 3, 5, 7]);
            let weights = random([2, 3, 5, 7], 2, 1.0, &ad);

            let x_fused = Tensor::<4>::from_data(scores.clone(), &ad).require_grad();
            let y_fused = fused::softmax_last(x_fused.clone());
            let grads = (y_fused.clone() * weights.clone()).sum().backward();
            let g_fused = x_fused
                .grad(&grads)
                .expect("gradient through the fused softmax");

            let x_burn = Tensor::<4>::from_data(scores.clone(), &ad).require_grad();
            let y_burn = activation::softmax(x_burn.clone(), 3);
            let grads = (y_burn.clone() * weights).sum().backward();
            let g_burn = x_burn.grad(&grads).unwrap();

            let masked: f32 = values(y_fused.clone())
                .iter()
                .enumerate()
                .filter(|(i, _)| i % 7 >= 5)
                .map(|(_, p)| p.abs())
                .sum();
            assert_eq!(masked, 0.0, "{name}: masked keys get probability 0");
            let dy = max_diff(y_fused, y_burn);
            let dg = max_diff(g_fused.clone(), g_burn);
            assert!(dy <= 1e-6, "{name}: softmax differs by {dy}");
            assert!(dg <= 1e-5, "{name}: softmax gradient differs by {dg}");
            assert!(
                values(g_fused).iter().any(|g| g.abs() > 1e-3),
                "{name}: gradient is not trivial"
            );

            // Without autodiff the same function is the backend's softmax.
            let plain = Tensor::<4>::from_data(scores, &device);
            let d = max_diff(
                fused::softmax_last(plain.clone()),
                activation::softmax(plain, 3),
            );
            assert!(d <= 1e-6, "{name}: inference softmax differs by {d}");
        }
    });
}

/// A LayerNorm over `width` features with non-trivial scale and shift.
fn layer_norm(width: usize, epsilon: f64, device: &Device) -> LayerNorm {
    let mut ln = LayerNormConfig::new(width)
        .with_epsilon(epsilon)
        .init(device);
    ln.gamma = Param::from_tensor(random([width], 3, 1.0, device).add_scalar(1.0));
    ln.beta = Some(Param::from_tensor(random([width], 4, 1.0, device)));
    ln
}

#[test]
fn fused_layer_norm_matches_burns_layer_norm_and_its_gradients() {
    at_every_simd_level(|| {
        for ((name, device), [batch, seq, width]) in devices()
            .into_iter()
            .flat_map(|d| [[2, 5, 16], [4, 45, 100]].map(|shape| (d.clone(), shape)))
        {
            let name = format!("{name} {batch}x{seq}x{width}");
            let ad = device.clone().autodiff();
            let epsilon = 1e-5;
            let x_data = random([batch, seq, width], 5, 2.0, &device)
                .add_scalar(1.0)
                .into_data();
            let weights = random([batch, seq, width], 6, 1.0, &ad);

            let fused_ln = layer_norm(width, epsilon, &ad);
            let x_fused = Tensor::<3>::from_data(x_data.clone(), &ad).require_grad();
            let y_fused = fused::layer_norm(&fused_ln, epsilon, x_fused.clone());
            let grads = (y_fused.clone() * weights.clone()).sum().backward();
            let fused_grads = [
                x_fused.grad(&grads).expect("x gradient").reshape([-1]),
                fused_ln.gamma.val().grad(&grads).expect("gamma gradient"),
                fused_ln
                    .beta
                    .as_ref()
                    .unwrap()
                    .val()
                    .grad(&grads)
                    .expect("beta gradient"),
            ];

            let burn_ln = layer_norm(width, epsilon, &ad);
            let x_burn = Tensor::<3>::from_data(x_data.clone(), &ad).require_grad();
            let y_burn = burn_ln.forward(x_burn.clone());
            let grads = (y_burn.clone() * weights).sum().backward();
            let burn_grads = [
                x_burn.grad(&grads).unwrap().reshape([-1]),
                burn_ln.gamma.val().grad(&grads).unwrap(),
                burn_ln.beta.as_ref().unwrap().val().grad(&grads).unwrap(),
            ];

            let dy = max_diff(y_fused, y_burn);
            assert!(dy <= 1e-5, "{name}: LayerNorm differs by {dy}");
            for ((which, ours), theirs) in ["x", "gamma", "beta"]
                .iter()
                .zip(fused_grads)
                .zip(burn_grads)
            {
                let scale = values(theirs.clone())
                    .iter()
                    .fold(0.0f32, |m, v| m.max(v.abs()));
                let d = max_diff(ours, theirs);
                assert!(scale > 1e-3, "{name}: {which} gradient is not trivial");
                assert!(
                    d <= 1e-5 * scale.max(1.0),
                    "{name}: {which} gradient differs by {d}"
                );
            }

            // Inference: the backend's LayerNorm.
            let plain_ln = layer_norm(width, epsilon, &device);
            let plain = Tensor::<3>::from_data(x_data, &device);
            let d = max_diff(
                fused::layer_norm(&plain_ln, epsilon, plain.clone()),
                plain_ln.forward(plain),
            );
            assert!(d <= 1e-5, "{name}: inference LayerNorm differs by {d}");
        }
    });
}

#[test]
fn row_linear_matches_burns_linear_and_its_gradients() {
    for (name, device) in devices() {
        let ad = device.clone().autodiff();
        // 32 positions: the length at which Burn's own `linear` keeps the batch dimension.
        let x_data = random([3, 32, 8], 7, 1.0, &device).into_data();
        let weights = random([3, 32, 5], 8, 1.0, &ad);
        let layer = |device: &Device| {
            let mut l = LinearConfig::new(8, 5).init(device);
            l.weight = Param::from_tensor(random([8, 5], 9, 0.5, device));
            l.bias = Some(Param::from_tensor(random([5], 10, 0.5, device)));
            l
        };
        let run = |rows: bool| {
            let l = layer(&ad);
            let x = Tensor::<3>::from_data(x_data.clone(), &ad).require_grad();
            let y = if rows {
                fused::linear(&l, x.clone())
            } else {
                l.forward(x.clone())
            };
            let grads = (y.clone() * weights.clone()).sum().backward();
            let g = [
                x.grad(&grads).expect("x gradient").reshape([-1]),
                l.weight
                    .val()
                    .grad(&grads)
                    .expect("weight gradient")
                    .reshape([-1]),
                l.bias
                    .as_ref()
                    .unwrap()
                    .val()
                    .grad(&grads)
                    .expect("bias gradient"),
            ];
            (y, g)
        };
        let (y_rows, g_rows) = run(true);
        let (y_burn, g_burn) = run(false);
        assert_eq!(y_rows.dims(), [3, 32, 5]);
        let dy = max_diff(y_rows, y_burn);
        assert!(dy <= 1e-5, "{name}: linear differs by {dy}");
        for ((which, a), b) in ["x", "weight", "bias"].iter().zip(g_rows).zip(g_burn) {
            let scale = values(b.clone()).iter().fold(0.0f32, |m, v| m.max(v.abs()));
            assert!(scale > 1e-3, "{name}: {which} gradient is not trivial");
            let d = max_diff(a, b);
            assert!(
                d <= 1e-5 * scale.max(1.0),
                "{name}: {which} gradient differs by {d}"
            );
        }
    }
}

/// The fused attention (burnish's kernel on flex, PyTorch's `scaled_dot_product_attention`
/// with the bias as its float mask on LibTorch) against the attention written out:
/// `softmax(q k^T / sqrt(D) + bias) v`, with the last three keys of the second row masked as
/// padding is. Twice: on contiguous `[B, N, S, D]` tensors, and as the model calls it, on
/// head-split views of `[B, S, H]` projections with a broadcast `[B, 1, 1, S]` bias, at a
/// width (D = 32, S = 37: not a multiple of the kernels' 8 lanes) where each part matters.
#[test]
fn fused_attention_matches_the_written_out_attention() {
    at_every_simd_level(|| {
        for (name, device) in devices() {
            for (b, n, s, d, views) in [(2, 3, 8, 4, false), (3, 4, 37, 32, true)] {
                let (q, k, v) = if views {
                    let split = |t: Tensor<3>| t.reshape([b, s, n, d]).swap_dims(1, 2);
                    (
                        split(random([b, s, n * d], 21, 1.0, &device)),
                        split(random([b, s, n * d], 22, 1.0, &device)),
                        split(random([b, s, n * d], 23, 1.0, &device)),
                    )
                } else {
                    (
                        random([b, n, s, d], 21, 1.0, &device),
                        random([b, n, s, d], 22, 1.0, &device),
                        random([b, n, s, d], 23, 1.0, &device),
                    )
                };
                let keep: Vec<f32> = (0..b * s)
                    .map(|i| {
                        if i >= s && i % s >= s - 3 {
                            f32::MIN
                        } else {
                            0.0
                        }
                    })
                    .collect();
                let bias = Tensor::<2>::from_data(TensorData::new(keep, [b, s]), &device)
                    .unsqueeze_dims::<4>(&[1, 2])
                    .expand([b, n, s, s]);
                let scores = q.clone().matmul(k.clone().swap_dims(2, 3)) / (d as f64).sqrt();
                let want = activation::softmax(scores + bias.clone(), 3).matmul(v.clone());
                let got = fused::attention(q, k, v, bias);
                // As the model merges the heads again.
                let (got, want) = (
                    got.swap_dims(1, 2).reshape([b, s, n * d]),
                    want.swap_dims(1, 2).reshape([b, s, n * d]),
                );
                let diff = max_diff(got, want);
                println!(
                    "fused attention on {name}, S = {s}, views {views}: max |diff| {diff:.2e}"
                );
                assert!(diff < 1e-5, "{name}, S = {s}: {diff}");
            }
        }
    });
}

/// Dropout as one operation: values `0` or `1 / (1 - p)`, the kept fraction `1 - p`, elements
/// (and neighbours) independent, the input gradient the mask times the output gradient, the
/// same masks after the same seed and other masks after another, and the identity outside
/// training.
#[test]
fn fused_dropout_keeps_the_right_fraction_and_its_gradient_is_the_mask() {
    use burn::nn::DropoutConfig;
    for (name, device) in devices() {
        let ad = device.clone().autodiff();
        let p = 0.3;
        let scale = 1.0 / (1.0 - p as f32);
        let dropout = DropoutConfig::new(p).init();
        let [rows, cols] = [64, 1000];
        let draw = |seed: u64| {
            let x = Tensor::<2>::ones([rows, cols], &ad).require_grad();
            let y = {
                let _seeded = common::generator_lock();
                ad.seed(seed);
                fused::dropout(&dropout, x.clone())
            };
            let w = random([rows, cols], 31, 1.0, &ad);
            let grads = (y.clone() * w.clone()).sum().backward();
            (values(y), values(x.grad(&grads).unwrap()), values(w))
        };
        let (mask, grad, w) = draw(7);
        let n = mask.len() as f64;
        assert!(
            mask.iter().all(|&m| m == 0.0 || (m - scale).abs() < 1e-6),
            "{name}: mask values other than 0 and {scale}"
        );
        let kept = |pick: &dyn Fn(usize) -> bool| {
            let (k, all) = (0..mask.len())
                .filter(|&i| pick(i))
                .fold((0, 0), |(k, all), i| {
                    (k + usize::from(mask[i] != 0.0), all + 1)
                });
            k as f64 / all as f64
        };
        // 64,000 draws: the standard error of the fraction is 0.0018.
        let fraction = kept(&|_| true);
        assert!((fraction - 0.7).abs() < 0.01, "{name}: kept {fraction}");
        for parity in 0..2 {
            let f = kept(&|i| i % 2 == parity);
            assert!(
                (f - 0.7).abs() < 0.015,
                "{name}: kept {f} of parity {parity}"
            );
        }
        let both = (0..mask.len() - 1)
            .filter(|&i| mask[i] != 0.0 && mask[i + 1] != 0.0)
            .count() as f64
            / (n - 1.0);
        assert!(
            (both - 0.49).abs() < 0.015,
            "{name}: neighbours both kept {both}"
        );
        for i in 0..mask.len() {
            let want = w[i] * mask[i];
            assert!(
                (grad[i] - want).abs() <= 1e-5 * want.abs().max(1.0),
                "{name}: grad[{i}]"
            );
        }
        let (again, _, _) = draw(7);
        assert!(mask == again, "{name}: the same seed gives another mask");
        let (other, _, _) = draw(8);
        let same = mask.iter().zip(&other).filter(|(a, b)| a == b).count() as f64 / n;
        assert!(
            same < 0.7,
            "{name}: another seed agrees on {same} of the mask"
        );

        // Outside autodiff (inference) dropout is the identity.
        let x = random([4, 8], 32, 1.0, &device);
        assert_eq!(max_diff(fused::dropout(&dropout, x.clone()), x), 0.0);
    }
}

/// GELU (the exact erf form) and its gradient against Burn's, over the range activations take
/// (the intermediate layer's pre-activations, scale 3, some beyond the polynomial's knots).
#[test]
fn fused_gelu_matches_burns_gelu_and_its_gradient() {
    at_every_simd_level(|| {
        for (name, device) in devices() {
            let ad = device.clone().autodiff();
            let x_data = random([3, 50, 70], 41, 3.0, &device).into_data();
            let weights = random([3, 50, 70], 42, 1.0, &ad);
            let run = |fused_path: bool| {
                let x = Tensor::<3>::from_data(x_data.clone(), &ad).require_grad();
                let y = if fused_path {
                    fused::gelu(x.clone())
                } else {
                    activation::gelu(x.clone())
                };
                let grads = (y.clone() * weights.clone()).sum().backward();
                (y, x.grad(&grads).unwrap())
            };
            let (y_fused, g_fused) = run(true);
            let (y_burn, g_burn) = run(false);
            let dy = max_diff(y_fused, y_burn);
            let dg = max_diff(g_fused, g_burn);
            assert!(dy <= 2e-6, "{name}: GELU differs by {dy}");
            assert!(dg <= 2e-6, "{name}: GELU gradient differs by {dg}");
            let plain = Tensor::<3>::from_data(x_data.clone(), &device);
            let d = max_diff(fused::gelu(plain.clone()), activation::gelu(plain));
            assert!(d <= 2e-6, "{name}: inference GELU differs by {d}");
        }
    });
}
