//! `cargo bench --bench throughput`: the encoder forward (inference) and one full fine-tuning
//! step (forward, backward, clipping, AdamW) of a two-class classifier, on MiniLM and
//! BERT-base shapes, batches of 32 x 128 and 32 x 512 tokens (BERT-base training at 512 uses 8
//! rows: 32 x 512 needs more memory than a laptop has).
//!
//! The backend comes from `BURNISH_BENCH_BACKEND` (`flex` default; `tch`, `wgpu`, `cuda` when
//! compiled in with `--features`). Criterion reports time per step; throughput is in tokens.
//! `burnish bench` measures the same steps beside PyTorch in one table.
//!
//! ```text
//! cargo bench --bench throughput                                   # flex
//! BURNISH_BENCH_BACKEND=tch cargo bench --features tch --bench throughput
//! ```

use std::hint::black_box;
use std::time::Duration;

use burnish::backend::BackendKind;
use burnish::train::bench::{
    ModelShape, TrainStep, inference_model, inference_step, synthetic_batch,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn device() -> burnish::burn::tensor::Device {
    let name = std::env::var("BURNISH_BENCH_BACKEND").unwrap_or_else(|_| "flex".into());
    let kind: BackendKind = name.parse().expect("BURNISH_BENCH_BACKEND: a backend name");
    kind.device()
        .expect("BURNISH_BENCH_BACKEND: a backend compiled into this build")
}

const CASES: [(ModelShape, usize, usize); 4] = [
    (ModelShape::MiniLm, 32, 128),
    (ModelShape::MiniLm, 32, 512),
    (ModelShape::BertBase, 32, 128),
    (ModelShape::BertBase, 32, 512),
];

fn inference(c: &mut Criterion) {
    let device = device();
    let mut group = c.benchmark_group("inference");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    for (shape, rows, seq) in CASES {
        let model = inference_model(shape, &device);
        let batch = synthetic_batch(rows, seq, shape.config().vocab_size, 0);
        group.throughput(Throughput::Elements((rows * seq) as u64));
        group.bench_function(format!("{}/{rows}x{seq}", shape.name()), |b| {
            b.iter(|| black_box(inference_step(&model, &batch, &device)))
        });
    }
    group.finish();
}

fn train_step(c: &mut Criterion) {
    let device = device();
    let mut group = c.benchmark_group("train_step");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(30));
    for (shape, rows, seq) in CASES {
        let rows = if shape == ModelShape::BertBase && seq == 512 {
            8
        } else {
            rows
        };
        let mut step = TrainStep::new(shape, &device);
        let batch = synthetic_batch(rows, seq, shape.config().vocab_size, 0);
        group.throughput(Throughput::Elements((rows * seq) as u64));
        group.bench_function(format!("{}/{rows}x{seq}", shape.name()), |b| {
            b.iter(|| black_box(step.step(&batch)))
        });
    }
    group.finish();
}

criterion_group!(benches, inference, train_step);
criterion_main!(benches);
