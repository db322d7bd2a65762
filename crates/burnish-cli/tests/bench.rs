//! `burnish bench`: one tiny measurement per side, and the JSON it writes.

use std::process::Command;

mod common;

use common::python;

#[test]
fn bench_measures_burnish_and_pytorch_on_the_same_shape() {
    let python = python();
    let tmp = tempfile::tempdir().unwrap();
    let json = tmp.path().join("out/bench.json");
    let out = Command::new(env!("CARGO_BIN_EXE_burnish"))
        .args(["bench", "--backends", "flex", "--modes", "infer,mlm"])
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
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let rows = doc["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 4, "{rows:?}"); // PyTorch and flex, for each of the two modes
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
fn bench_rejects_unknown_modes_and_shapes() {
    for args in [["--modes", "fly"], ["--shapes", "gpt-9"]] {
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
