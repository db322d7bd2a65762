//! `burnish bench`: one tiny measurement per side, and the JSON it writes.

use std::process::Command;

mod common;

use common::python;

#[test]
fn bench_measures_burnish_pytorch_and_onnx_runtime_on_the_same_shape() {
    let python = python();
    let tmp = tempfile::tempdir().unwrap();
    let json = tmp.path().join("out/bench.json");
    let out = Command::new(env!("CARGO_BIN_EXE_burnish"))
        .args(["bench", "--backends", "flex", "--modes", "infer,mlm"])
        .args(["--onnx", "float32,int8"])
        .args([
            "--batch", "2", "--seq", "16", "--warmup", "0", "--steps", "1",
        ])
        .arg("--python")
        .arg(&python)
        .arg("--json")
        .arg(&json)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("| minilm | infer | burnish flex |"),
        "{stdout}"
    );
    assert!(
        stdout.contains("| minilm | mlm | PyTorch (cpu) |"),
        "{stdout}"
    );
    for variant in ["float32", "int8"] {
        let line = format!("| minilm | infer | ONNX Runtime {variant} |");
        assert!(stdout.contains(&line), "{stdout}");
    }
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let rows = doc["rows"].as_array().unwrap();
    // PyTorch and flex for each of the two modes, and ONNX Runtime's two variants for infer.
    assert_eq!(rows.len(), 6, "{rows:?}");
    let sides: Vec<_> = rows.iter().map(|r| r["side"].as_str().unwrap()).collect();
    assert_eq!(
        sides.iter().filter(|s| **s == "onnxruntime").count(),
        2,
        "{sides:?}"
    );
    for row in rows {
        assert_eq!(
            (row["batch"].as_u64(), row["seq"].as_u64()),
            (Some(2), Some(16))
        );
        let tps = row["tokens_per_second"].as_f64().unwrap();
        assert!(tps.is_finite() && tps > 0.0, "{row}");
        assert!(row["peak_rss_bytes"].as_u64().unwrap() > 50 << 20, "{row}");
    }
}

#[test]
fn bench_rejects_unknown_modes_shapes_and_onnx_variants() {
    for args in [
        ["--modes", "fly"],
        ["--shapes", "gpt-9"],
        ["--onnx", "int4"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_burnish"))
            .arg("bench")
            .args(args)
            .arg("--no-torch")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(args[1]), "{stderr}");
    }
}
