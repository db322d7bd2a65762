//! `burnish bench`: inference and training-step throughput per backend, beside PyTorch +
//! `transformers` on the same shapes, measured in the same invocation.
//!
//! Every measurement runs in its own child process (this binary with `--one`,
//! `scripts/bench_torch.py`, or `scripts/bench_onnxruntime.py` for `--onnx`), so each
//! peak-memory figure is that measurement's own.

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};
use burnish::backend::BackendKind;
use burnish::encoder::precision::cast_floats;
use burnish::export::OnnxHead;
use burnish::train::bench::{
    Checkpointing, MlmStep, ModelShape, TrainStep, inference_model, inference_step, measure,
    peak_rss_bytes, synthetic_batch, synthetic_mlm_batch,
};
use clap::Args;

use crate::encode::parse_dtype;
use serde::{Deserialize, Serialize};

/// Arguments of `burnish bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Backends to measure, comma-separated (default: every backend this build includes
    /// that runs here on the CPU: flex, tch, wgpu).
    #[arg(long, value_delimiter = ',')]
    backends: Vec<String>,
    /// Model shapes: minilm, bert-base.
    #[arg(long, value_delimiter = ',', default_value = "minilm")]
    shapes: Vec<String>,
    /// What to time: infer (classifier forward, no autodiff), train (classifier forward,
    /// backward, clipping, AdamW), mlm (a masked-LM step, decoder on the masked positions
    /// only), mlm-full (the same step with the decoder on every position, as `transformers`
    /// computes it), train-ckpt (train with layer-wise gradient checkpointing; PyTorch's
    /// `gradient_checkpointing_enable()`), train-burn-ckpt (train with Burn's balanced
    /// checkpointing; its PyTorch row is train-ckpt's). PyTorch's `mlm` and `mlm-full` are
    /// both `BertForMaskedLM` with labels.
    #[arg(long, value_delimiter = ',', default_value = "infer,train")]
    modes: Vec<String>,
    /// Float type: f32, bf16 or f16. `infer` casts the model (PyTorch: `model.to(dtype)`);
    /// the training modes run mixed precision, bf16 only (burnish: `TrainConfig::bf16`;
    /// PyTorch: `torch.autocast(dtype=torch.bfloat16)`).
    #[arg(long, default_value = "f32")]
    dtype: String,
    /// Rows per batch.
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// Tokens per row (every token real: no padding).
    #[arg(long, default_value_t = 128)]
    seq: usize,
    /// Untimed steps first (kernel compilation, allocator warm-up).
    #[arg(long, default_value_t = 2)]
    warmup: usize,
    /// Timed steps.
    #[arg(long, default_value_t = 5)]
    steps: usize,
    /// Python with torch + transformers for the reference side (default: $BURNISH_PYTHON,
    /// then python3).
    #[arg(long)]
    python: Option<PathBuf>,
    /// Skip the PyTorch side.
    #[arg(long)]
    no_torch: bool,
    /// PyTorch device for the reference side (cpu, cuda).
    #[arg(long, default_value = "cpu")]
    torch_device: String,
    /// The device's peak dense throughput in TFLOP/s (an H100 or H200 SXM: 989 in bf16, 67
    /// in fp32): adds an MFU column, model FLOPs per second over this peak
    /// (`ModelShape::flops_per_token`).
    #[arg(long)]
    peak_tflops: Option<f64>,
    /// Also time ONNX Runtime on the `infer` rows, in these variants (float32, int8): the
    /// bench model exported as `burnish export` writes it, run by
    /// `scripts/bench_onnxruntime.py` with the same threads (needs `onnxruntime` in --python).
    #[arg(long, value_delimiter = ',')]
    onnx: Vec<String>,
    /// Also write the results as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Internal: run one measurement `BACKEND:SHAPE:MODE` and print it as a JSON line.
    #[arg(long, hide = true)]
    one: Option<String>,
}

/// One measured configuration, from either side.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Row {
    side: String,
    #[serde(default)]
    backend: Option<String>,
    shape: String,
    mode: String,
    batch: usize,
    seq: usize,
    steps: usize,
    seconds_per_step: f64,
    tokens_per_second: f64,
    peak_rss_bytes: Option<u64>,
    /// Bytes the accelerator's allocator holds after the timed steps (its high-water mark,
    /// as pools keep pages for reuse); PyTorch: `torch.cuda.max_memory_reserved()`.
    #[serde(default)]
    device_reserved_bytes: Option<u64>,
    #[serde(default)]
    device: Option<String>,
}

/// The `--modes` values.
const MODES: [&str; 6] = [
    "infer",
    "train",
    "train-ckpt",
    "train-burn-ckpt",
    "mlm",
    "mlm-full",
];

/// The `--onnx` values: the exported graph's weights, float32 or int8 (dynamic quantisation).
const ONNX_VARIANTS: [&str; 2] = ["float32", "int8"];

/// Runs `burnish bench`.
///
/// `threads` is the size of this process's CPU pool (`burnish --threads N`, every core by
/// default): each measurement, burnish's and PyTorch's, runs with that many threads.
pub fn run(args: BenchArgs, threads: usize) -> Result<()> {
    if let Some(one) = &args.one {
        let row = run_one(one, &args)?;
        println!("{}", serde_json::to_string(&row)?);
        return Ok(());
    }
    let backends: Vec<BackendKind> = if args.backends.is_empty() {
        BackendKind::compiled()
            .into_iter()
            .filter(|b| !matches!(b, BackendKind::TchCuda | BackendKind::Cuda))
            .collect()
    } else {
        args.backends
            .iter()
            .map(|b| b.parse::<BackendKind>().map_err(anyhow::Error::from))
            .collect::<Result<_>>()?
    };
    for b in &backends {
        b.device()?;
    }
    // A bad value fails here, before any measurement runs.
    parse_dtype(&args.dtype)?;
    let shapes: Vec<ModelShape> = args
        .shapes
        .iter()
        .map(|s| {
            ModelShape::from_name(s)
                .with_context(|| format!("unknown --shapes value {s:?} (minilm, bert-base)"))
        })
        .collect::<Result<_>>()?;
    for m in &args.modes {
        if !MODES.contains(&m.as_str()) {
            bail!("unknown --modes value {m:?} ({})", MODES.join(", "));
        }
    }
    for v in &args.onnx {
        if !ONNX_VARIANTS.contains(&v.as_str()) {
            bail!("unknown --onnx value {v:?} ({})", ONNX_VARIANTS.join(", "));
        }
    }
    if !args.onnx.is_empty() && (args.dtype != "f32" || !args.modes.iter().any(|m| m == "infer")) {
        bail!("--onnx times f32 inference: it needs --modes infer and --dtype f32");
    }
    if args.batch == 0 || args.seq < 2 || args.steps == 0 {
        bail!("--batch and --steps must be at least 1 and --seq at least 2");
    }

    let exe = std::env::current_exe().context("locating the burnish binary")?;
    let python = args
        .python
        .clone()
        .or_else(|| std::env::var_os("BURNISH_PYTHON").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("python3"));
    let torch_script = script("bench_torch.py")?;
    let ort_script = match args.onnx.is_empty() {
        true => None,
        false => Some(script("bench_onnxruntime.py")?),
    };
    let onnx_dir = tempfile::tempdir().context("creating a folder for the ONNX exports")?;
    let mut rows = Vec::new();
    let mut table = Table {
        peak_tflops: args.peak_tflops,
        ..Table::default()
    };
    let mut torch_rows = std::collections::HashMap::new();
    for &shape in &shapes {
        for mode in &args.modes {
            let torch_mode = match mode.as_str() {
                "mlm-full" => "mlm",
                "train-burn-ckpt" => "train-ckpt",
                other => other,
            };
            let cached = torch_rows.get(&(shape.name(), torch_mode)).cloned();
            let torch = if args.no_torch {
                None
            } else if cached.is_some() {
                cached.clone()
            } else {
                eprintln!("measuring pytorch {} {mode} ...", shape.name());
                let mut cmd = Command::new(&python);
                cmd.arg(&torch_script)
                    .args(["--shape", shape.name(), "--mode", torch_mode])
                    .args(["--batch", &args.batch.to_string()])
                    .args(["--seq", &args.seq.to_string()])
                    .args(["--warmup", &args.warmup.to_string()])
                    .args(["--steps", &args.steps.to_string()])
                    .args(["--dtype", &args.dtype])
                    .args(["--threads", &threads.to_string()])
                    .args(["--device", &args.torch_device]);
                let what = format!("{} {}", python.display(), torch_script.display());
                let row = child_row(cmd, &what)?;
                rows.push(row.clone());
                torch_rows.insert((shape.name(), torch_mode), row.clone());
                Some(row)
            };
            for &backend in &backends {
                eprintln!("measuring burnish {backend} {} {mode} ...", shape.name());
                let mut cmd = Command::new(&exe);
                cmd.args(["--threads", &threads.to_string(), "bench"])
                    .args(["--one", &format!("{backend}:{}:{mode}", shape.name())])
                    .args(["--batch", &args.batch.to_string()])
                    .args(["--seq", &args.seq.to_string()])
                    .args(["--warmup", &args.warmup.to_string()])
                    .args(["--steps", &args.steps.to_string()])
                    .args(["--dtype", &args.dtype]);
                let row = child_row(cmd, &format!("burnish bench --one {backend}"))?;
                table.push(&row, torch.as_ref());
                rows.push(row);
            }
            if let (Some(ort_script), "infer") = (&ort_script, mode.as_str()) {
                for variant in &args.onnx {
                    eprintln!("measuring onnxruntime {variant} {} ...", shape.name());
                    let model = onnx_dir
                        .path()
                        .join(format!("{}-{variant}.onnx", shape.name()));
                    export_bench_model(shape, variant == "int8", &backends[0], &model)?;
                    let mut cmd = Command::new(&python);
                    cmd.arg(ort_script)
                        .arg("--model")
                        .arg(&model)
                        .args(["--variant", variant, "--shape", shape.name()])
                        .args(["--vocab", &shape.config().vocab_size.to_string()])
                        .args(["--batch", &args.batch.to_string()])
                        .args(["--seq", &args.seq.to_string()])
                        .args(["--warmup", &args.warmup.to_string()])
                        .args(["--steps", &args.steps.to_string()])
                        .args(["--threads", &threads.to_string()]);
                    let what = format!("{} {}", python.display(), ort_script.display());
                    let row = child_row(cmd, &what)?;
                    table.push(&row, torch.as_ref());
                    rows.push(row);
                }
            }
            if let Some(t) = torch.filter(|_| cached.is_none()) {
                table.push(&t, None);
            }
        }
    }
    println!("{}", table.render(&args));
    if let Some(path) = &args.json {
        let doc = serde_json::json!({
            "batch": args.batch, "seq": args.seq, "warmup": args.warmup, "steps": args.steps,
            "cpu": cpu_model(), "cores": std::thread::available_parallelism().map(|n| n.get()).ok(),
            "rows": rows,
        });
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        burnish::fs::write_atomic(path, serde_json::to_string_pretty(&doc)?.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Writes the `infer` rows' model (`inference_model`, weights as initialised on `backend`)
/// to `out` as `burnish export` writes a sequence classifier, float32 or `int8`.
fn export_bench_model(
    shape: ModelShape,
    int8: bool,
    backend: &BackendKind,
    out: &std::path::Path,
) -> Result<()> {
    let device = backend.device()?;
    let folder = tempfile::tempdir().context("creating a folder for the bench model")?;
    inference_model(shape, &device).save_pretrained(&shape.config(), folder.path())?;
    let options = burnish::onnx::Options {
        int8,
        ..Default::default()
    };
    burnish::export::export_onnx(
        folder.path(),
        OnnxHead::SequenceClassification,
        &options,
        &device,
        out,
    )?;
    Ok(())
}

/// One measurement in this process.
fn run_one(spec: &str, args: &BenchArgs) -> Result<Row> {
    let parts: Vec<&str> = spec.split(':').collect();
    let [backend, shape, mode] = parts[..] else {
        bail!("--one wants BACKEND:SHAPE:MODE, got {spec:?}");
    };
    let backend: BackendKind = backend.parse()?;
    let device = backend.device()?;
    let shape = ModelShape::from_name(shape).with_context(|| format!("unknown shape {shape}"))?;
    let config = shape.config();
    let batch = synthetic_batch(args.batch, args.seq, config.vocab_size, 0);
    let tokens = args.batch * args.seq;
    let m = match mode {
        "infer" => {
            let precision = parse_dtype(&args.dtype)?;
            let model = cast_floats(inference_model(shape, &device), precision, &device)?;
            measure(args.warmup, args.steps, tokens, || {
                std::hint::black_box(inference_step(&model, &batch, &device));
            })
        }
        "train" | "train-ckpt" | "train-burn-ckpt" => {
            let bf16 = match args.dtype.as_str() {
                "f32" => false,
                "bf16" if mode != "train-burn-ckpt" => true,
                other => bail!("--dtype {other}: {mode} runs f32, or bf16 mixed precision"),
            };
            let checkpointing = match mode {
                "train-ckpt" => Checkpointing::Layers,
                "train-burn-ckpt" => Checkpointing::BurnBalanced,
                _ => Checkpointing::Off,
            };
            let mut step =
                TrainStep::with_checkpointing(shape, &device, checkpointing).with_bf16(bf16);
            measure(args.warmup, args.steps, tokens, || {
                let loss = step.step(&batch);
                assert!(
                    loss.is_finite(),
                    "non-finite loss {loss} in a benchmark step"
                );
            })
        }
        "mlm" | "mlm-full" => {
            let (batch, labels) = synthetic_mlm_batch(&batch);
            let mut step = MlmStep::new(shape, mode == "mlm", &device);
            measure(args.warmup, args.steps, tokens, || {
                let loss = step.step(&batch, &labels);
                assert!(
                    loss.is_finite(),
                    "non-finite loss {loss} in a benchmark step"
                );
            })
        }
        other => bail!("unknown mode {other}"),
    };
    Ok(Row {
        side: "burnish".into(),
        backend: Some(backend.name().into()),
        shape: shape.name().into(),
        mode: mode.into(),
        batch: args.batch,
        seq: args.seq,
        steps: m.steps,
        seconds_per_step: m.seconds_per_step,
        tokens_per_second: m.tokens_per_second,
        peak_rss_bytes: peak_rss_bytes(),
        device_reserved_bytes: device
            .memory_pool_usage()
            .map(|u| u.bytes_reserved)
            .filter(|&b| b > 0),
        device: Some(format!("{device:?}")),
    })
}

/// Runs a child that prints one JSON row as its last stdout line.
fn child_row(mut cmd: Command, what: &str) -> Result<Row> {
    let out = cmd.output().with_context(|| format!("starting {what}"))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        // A panic's message is the line after "panicked at"; an error is its "error:" line.
        let lines: Vec<&str> = stderr.lines().collect();
        let last = lines
            .iter()
            .position(|l| l.contains("panicked at"))
            .and_then(|i| lines.get(i + 1))
            .or_else(|| lines.iter().rev().find(|l| l.starts_with("error")))
            .or_else(|| lines.iter().rev().find(|l| !l.trim().is_empty()))
            .copied()
            .unwrap_or("");
        bail!("{what} failed ({}): {last}", out.status);
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .with_context(|| format!("{what} printed no result"))?;
    serde_json::from_str(line).with_context(|| format!("reading {what}'s result {line:?}"))
}

/// `scripts/NAME` (a Python side of the benchmark), next to the sources this binary was built
/// from, or in the current directory's `scripts/`.
fn script(name: &str) -> Result<PathBuf> {
    let candidates = [
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../scripts")
            .join(name),
        PathBuf::from("scripts").join(name),
    ];
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .with_context(|| {
            format!("scripts/{name} not found (run burnish bench from the burnish checkout)")
        })
}

fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(|s| s.trim().to_string())
}

/// The printed table: one line per measurement, burnish rows with their ratio to PyTorch.
#[derive(Default)]
struct Table {
    lines: Vec<String>,
    peak_tflops: Option<f64>,
}

impl Table {
    fn push(&mut self, row: &Row, torch: Option<&Row>) {
        let who = match (row.side.as_str(), &row.backend) {
            ("onnxruntime", Some(variant)) => format!("ONNX Runtime {variant}"),
            (_, Some(b)) => format!("burnish {b}"),
            (_, None) => format!("PyTorch ({})", row.device.as_deref().unwrap_or("cpu")),
        };
        let ratio = torch.map_or_else(
            || "-".to_string(),
            |t| format!("{:.2}x", row.tokens_per_second / t.tokens_per_second),
        );
        let mib = |b: Option<u64>| {
            b.map_or_else(
                || "-".to_string(),
                |b| format!("{:.0}", b as f64 / 1048576.0),
            )
        };
        let mut line = format!(
            "| {} | {} | {} | {:.0} | {:.3} | {} | {} | {} |",
            row.shape,
            row.mode,
            who,
            row.tokens_per_second,
            row.seconds_per_step,
            mib(row.peak_rss_bytes),
            mib(row.device_reserved_bytes),
            ratio
        );
        if let Some(peak) = self.peak_tflops {
            let mfu = ModelShape::from_name(&row.shape).map_or_else(
                || "-".to_string(),
                |shape| {
                    let training = row.mode != "infer";
                    let flops = shape.flops_per_token(row.seq, training) * row.tokens_per_second;
                    format!("{:.1}%", 100.0 * flops / (peak * 1e12))
                },
            );
            line.push_str(&format!(" {mfu} |"));
        }
        self.lines.push(line);
    }

    fn render(&self, args: &BenchArgs) -> String {
        let mut out = Vec::new();
        let _ = writeln!(
            out,
            "batch {} x seq {} (all tokens real), {} warm-up + {} timed steps, inference in {}, \
             {} ({} cores)\n",
            args.batch,
            args.seq,
            args.warmup,
            args.steps,
            args.dtype,
            cpu_model().unwrap_or_else(|| "unknown CPU".into()),
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
        let (mfu, rule) = match self.peak_tflops {
            Some(peak) => (format!(" MFU (of {peak} TFLOP/s) |"), " --- |"),
            None => (String::new(), ""),
        };
        let _ = writeln!(
            out,
            "| shape | mode | side | tokens/s | s/step | peak RSS (MiB) | device memory (MiB) \
             | vs PyTorch |{mfu}"
        );
        let _ = writeln!(
            out,
            "| --- | --- | --- | --- | --- | --- | --- | --- |{rule}"
        );
        for l in &self.lines {
            let _ = writeln!(out, "{l}");
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}
