//! LoRA (issue 25): `burnish finetune --lora` trains adapters that Hugging Face `peft` loads
//! onto the base model with the logits of the merged run folder, and an adapter `peft` made
//! merges in burnish (`burnish merge`, `--adapter`) to the model `peft` computes. The Python
//! side is `scripts/check_peft.py` (peft pinned in scripts/requirements-reference.txt).

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{python, reviews, root, wnut16_as_conll2003};

fn burnish(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_burnish"))
        .args(args)
        .output()
        .unwrap()
}

fn ok(out: &Output, what: &str) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "{what} failed: {stderr}\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    stderr
}

/// `scripts/check_peft.py ARGS`: its JSON result.
fn check_peft(args: &[&str]) -> serde_json::Value {
    let out = Command::new(python())
        .arg(root().join("scripts/check_peft.py"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "check_peft.py {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The first `n` rows of a vader-movies split (header kept) in `path`.
fn head_tsv(split: &str, n: usize, path: &Path) {
    let text = std::fs::read_to_string(reviews(split)).unwrap();
    let rows: Vec<&str> = text.lines().take(n + 1).collect();
    std::fs::write(path, rows.join("\n") + "\n").unwrap();
}

/// Fine-tunes `fixture` with LoRA on `task` and checks the run folder and its adapter with
/// `peft`: the adapter changes the base's logits, and `peft` (adapter on the base, and its
/// `merge_and_unload`) computes the merged run folder's logits within 1e-4.
fn lora_run_loads_in_peft(fixture: &str, task: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let base = root().join("tests/fixtures").join(fixture);
    let run = tmp.path().join("run");
    let mut args: Vec<String> = ["finetune", "--task", task, "--model"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.push(base.display().to_string());
    let (head, data) = match task {
        "classification" => {
            let (train, valid) = (tmp.path().join("train.tsv"), tmp.path().join("valid.tsv"));
            head_tsv("train", 96, &train);
            head_tsv("test", 32, &valid);
            args.extend(["--text-column".into(), "sentence".into()]);
            ("sequence-classification", (train, valid))
        }
        _ => {
            let (train, valid) = (tmp.path().join("train.txt"), tmp.path().join("valid.txt"));
            std::fs::write(&train, wnut16_as_conll2003(0, 96)).unwrap();
            std::fs::write(&valid, wnut16_as_conll2003(96, 32)).unwrap();
            ("token-classification", (train, valid))
        }
    };
    args.extend([
        "--train".into(),
        data.0.display().to_string(),
        "--valid".into(),
        data.1.display().to_string(),
        "--out".into(),
        run.display().to_string(),
    ]);
    for a in [
        "--epochs",
        "2",
        "--batch-size",
        "16",
        "--lr",
        "5e-3",
        "--lora",
        "--lora-r",
        "4",
        "--max-length",
        "64",
        "--quiet",
    ] {
        args.push(a.into());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let stderr = ok(&burnish(&args), "finetune --lora");
    assert!(
        stderr.contains("LoRA r=4 alpha=16: trainable params: "),
        "{stderr}"
    );

    let adapter = run.join("adapter");
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(adapter.join("adapter_config.json")).unwrap())
            .unwrap();
    assert_eq!(config["r"], 4, "{config}");
    let result = check_peft(&[
        "compare",
        base.to_str().unwrap(),
        adapter.to_str().unwrap(),
        run.to_str().unwrap(),
        head,
        "--atol",
        "1e-4",
    ]);
    let diff = |k: &str| result[k].as_f64().unwrap();
    assert!(diff("max_abs_diff_peft_vs_merged") < 1e-4, "{result}");
    assert!(
        diff("max_abs_diff_merge_and_unload_vs_merged") < 1e-4,
        "{result}"
    );
    // The adapter learned something: the logits are not the base's.
    assert!(diff("max_abs_diff_peft_vs_base") > 1e-3, "{result}");
    // At most 2% of the parameters train... of a tiny model the head is a larger share, so
    // this checks the adapters and head are all that train: peft counts the same.
    assert!(
        result["trainable_params"].as_u64().unwrap() < result["total_params"].as_u64().unwrap(),
        "{result}"
    );
    // The run folder is a plain model: `evaluate` reads it as any other.
    ok(
        &burnish(&[
            "evaluate",
            "--model",
            run.to_str().unwrap(),
            "--data",
            data.1.to_str().unwrap(),
        ]),
        "evaluate",
    );
}

#[test]
fn bert_lora_classifier_loads_in_peft() {
    lora_run_loads_in_peft("tiny-bert", "classification");
}

// The RoBERTa and DistilBERT bases are their masked-LM fixtures: encoders without a
// classifier (the plain fixtures carry a 3-label one).
#[test]
fn roberta_lora_classifier_loads_in_peft() {
    lora_run_loads_in_peft("tiny-roberta-mlm", "classification");
}

#[test]
fn distilbert_lora_classifier_loads_in_peft() {
    lora_run_loads_in_peft("tiny-distilbert-mlm", "classification");
}

#[test]
fn bert_lora_token_classifier_loads_in_peft() {
    lora_run_loads_in_peft("tiny-bert", "ner");
}

#[test]
fn an_adapter_peft_made_merges_in_burnish_as_peft_computes_it() {
    let tmp = tempfile::tempdir().unwrap();
    for (fixture, head) in [
        ("tiny-roberta", "sequence-classification"),
        ("tiny-distilbert", "token-classification"),
    ] {
        let base = root().join("tests/fixtures").join(fixture);
        let made = tmp.path().join(format!("{fixture}-peft"));
        check_peft(&[
            "make",
            base.to_str().unwrap(),
            made.to_str().unwrap(),
            head,
            "--r",
            "4",
            "--num-labels",
            "3",
        ]);
        let adapter = made.join("adapter");
        let merged = tmp.path().join(format!("{fixture}-merged"));
        ok(
            &burnish(&[
                "merge",
                "--model",
                base.to_str().unwrap(),
                "--adapter",
                adapter.to_str().unwrap(),
                "--out",
                merged.to_str().unwrap(),
            ]),
            "merge",
        );
        let result = check_peft(&[
            "compare",
            base.to_str().unwrap(),
            adapter.to_str().unwrap(),
            merged.to_str().unwrap(),
            head,
        ]);
        assert!(
            result["max_abs_diff_peft_vs_merged"].as_f64().unwrap() < 1e-4,
            "{result}"
        );
    }
    // `predict --adapter` runs the base with the adapter.
    let base = root().join("tests/fixtures/tiny-roberta");
    let input = tmp.path().join("input.txt");
    std::fs::write(&input, "a fine film\nawful\n").unwrap();
    let out = burnish(&[
        "predict",
        "--model",
        base.to_str().unwrap(),
        "--adapter",
        tmp.path()
            .join("tiny-roberta-peft/adapter")
            .to_str()
            .unwrap(),
        "--input",
        input.to_str().unwrap(),
    ]);
    ok(&out, "predict --adapter");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);
}

#[test]
fn lora_dropout_is_refused_with_the_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let train = tmp.path().join("train.tsv");
    head_tsv("train", 16, &train);
    let out = burnish(&[
        "finetune",
        "--model",
        root().join("tests/fixtures/tiny-bert").to_str().unwrap(),
        "--train",
        train.to_str().unwrap(),
        "--text-column",
        "sentence",
        "--out",
        tmp.path().join("run").to_str().unwrap(),
        "--max-length",
        "64",
        "--lora-dropout",
        "0.1",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("lora_dropout"), "{stderr}");
}

/// Largest absolute difference between the same tensors of two safetensors files.
fn max_diff(a: &Path, b: &Path) -> f32 {
    use burnish::encoder::weights::Checkpoint;
    let (a, b) = (
        Checkpoint::read_safetensors(a).unwrap().tensors,
        Checkpoint::read_safetensors(b).unwrap().tensors,
    );
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    a.iter()
        .map(|(k, t)| {
            let (x, y) = (
                t.try_to_vec::<f32>().unwrap(),
                b[k].try_to_vec::<f32>().unwrap(),
            );
            x.iter()
                .zip(&y)
                .map(|(p, q)| (p - q).abs())
                .fold(0.0, f32::max)
        })
        .fold(0.0, f32::max)
}

#[test]
fn a_killed_lora_run_resumes_to_the_uninterrupted_adapters() {
    let tmp = tempfile::tempdir().unwrap();
    let (train, valid) = (tmp.path().join("train.tsv"), tmp.path().join("valid.tsv"));
    head_tsv("train", 96, &train);
    head_tsv("test", 32, &valid);
    let base = root().join("tests/fixtures/tiny-bert");
    let args = |out: &Path| -> Vec<String> {
        [
            "finetune",
            "--model",
            base.to_str().unwrap(),
            "--train",
            train.to_str().unwrap(),
            "--valid",
            valid.to_str().unwrap(),
            "--text-column",
            "sentence",
            "--out",
            out.to_str().unwrap(),
            "--epochs",
            "4",
            "--batch-size",
            "8",
            "--lr",
            "5e-3",
            "--lora",
            "--lora-r",
            "4",
            "--max-length",
            "64",
            "--checkpoint-every",
            "1",
            "--quiet",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let full = tmp.path().join("full");
    ok(
        &burnish(&args(&full).iter().map(String::as_str).collect::<Vec<_>>()),
        "the uninterrupted run",
    );
    // Killed once it has checkpointed a few steps, then run again to the end.
    let killed = tmp.path().join("killed");
    let mut child = Command::new(env!("CARGO_BIN_EXE_burnish"))
        .args(args(&killed))
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let state = killed.join("checkpoint/trainer_state.json");
    let step = || {
        std::fs::read_to_string(&state)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|v| v["global_step"].as_u64())
            .unwrap_or(0)
    };
    while step() < 5 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "finished before the kill"
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!killed.join("metrics.json").exists());
    let stderr = ok(
        &burnish(&args(&killed).iter().map(String::as_str).collect::<Vec<_>>()),
        "the resumed run",
    );
    assert!(stderr.contains("resuming the unfinished run"), "{stderr}");
    for file in ["model.safetensors", "adapter/adapter_model.safetensors"] {
        let diff = max_diff(&full.join(file), &killed.join(file));
        assert!(diff <= 1e-6, "{file}: differs by {diff} after the resume");
    }
}

#[test]
fn finetune_goes_on_training_an_adapter_peft_made() {
    let tmp = tempfile::tempdir().unwrap();
    let base = root().join("tests/fixtures/tiny-bert");
    let made = tmp.path().join("peft");
    check_peft(&[
        "make",
        base.to_str().unwrap(),
        made.to_str().unwrap(),
        "sequence-classification",
        "--r",
        "2",
        "--num-labels",
        "2",
    ]);
    let (train, valid) = (tmp.path().join("train.tsv"), tmp.path().join("valid.tsv"));
    head_tsv("train", 64, &train);
    head_tsv("test", 16, &valid);
    let run = tmp.path().join("run");
    let adapter = made.join("adapter");
    let stderr = ok(
        &burnish(&[
            "finetune",
            "--model",
            base.to_str().unwrap(),
            "--adapter",
            adapter.to_str().unwrap(),
            "--train",
            train.to_str().unwrap(),
            "--valid",
            valid.to_str().unwrap(),
            "--text-column",
            "sentence",
            "--max-length",
            "64",
            "--epochs",
            "1",
            "--lr",
            "5e-3",
            "--out",
            run.to_str().unwrap(),
            "--quiet",
        ]),
        "finetune --adapter",
    );
    // The adapter's own settings (r=2, peft's alpha 16), not the defaults.
    assert!(stderr.contains("LoRA r=2 alpha=16 from "), "{stderr}");
    let result = check_peft(&[
        "compare",
        base.to_str().unwrap(),
        run.join("adapter").to_str().unwrap(),
        run.to_str().unwrap(),
        "sequence-classification",
    ]);
    assert!(
        result["max_abs_diff_peft_vs_merged"].as_f64().unwrap() < 1e-4,
        "{result}"
    );
    // Training moved the adapter away from peft's.
    let before = std::fs::read(adapter.join("adapter_model.safetensors")).unwrap();
    let after = std::fs::read(run.join("adapter/adapter_model.safetensors")).unwrap();
    assert_ne!(before, after);
}
