//! `burnish pretrain` end to end on real text (SST-2 training sentences grouped into
//! documents): MLM from scratch with a tokenizer trained on the corpus learns (held-out loss
//! falls between epochs and below the uniform baseline), the folder loads in `transformers` as
//! `BertForMaskedLM` with nothing missing and fine-tunes with `burnish finetune`; MLM+NSP and
//! CLM run; continuing a checkpoint without an MLM head says the head is new; `--eval-only`
//! reproduces a run's held-out loss without training.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

fn burnish(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_burnish"))
        .args(args)
        .output()
        .expect("run burnish")
}

fn ok(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    stderr
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// SST-2 training sentences, ten to a document (documents separated by blank lines).
fn corpus(dir: &Path, sentences: usize) -> Option<PathBuf> {
    let base = std::env::var_os("BURNISH_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared/data"));
    let sst2 = base.join("sst2/train.tsv");
    if !sst2.is_file() {
        assert!(!under_ci(), "{} missing", sst2.display());
        return None;
    }
    let text = std::fs::read_to_string(&sst2).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .skip(1)
        .take(sentences)
        .filter_map(|l| l.split('\t').next())
        .map(str::trim)
        .collect();
    let docs: Vec<String> = lines.chunks(10).map(|c| c.join("\n")).collect();
    let path = dir.join("corpus.txt");
    std::fs::write(&path, docs.join("\n\n") + "\n").unwrap();
    Some(path)
}

const TINY: [&str; 8] = [
    "--layers",
    "2",
    "--hidden",
    "64",
    "--heads",
    "2",
    "--max-length",
    "64",
];

#[test]
fn mlm_from_scratch_learns_and_transformers_loads_it() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(corpus) = corpus(tmp.path(), 3000) else {
        return;
    };
    let run = tmp.path().join("mlm");
    let mut args = vec![
        "pretrain",
        "--objective",
        "mlm",
        "--corpus",
        corpus.to_str().unwrap(),
        "--out",
        run.to_str().unwrap(),
        "--vocab-size",
        "1500",
        "--epochs",
        "2",
        "--batch-size",
        "32",
        "--lr",
        "2e-3",
        "--warmup-ratio",
        "0.05",
        "--quiet",
    ];
    args.extend(TINY);
    ok(&burnish(&args));
    for file in [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "vocab.txt",
        "metrics.json",
        "log.jsonl",
        "training.png",
        "training_config.json",
    ] {
        assert!(run.join(file).is_file(), "{file} missing");
    }
    // Two held-out evaluations (one per epoch): the loss falls, and ends below the uniform
    // guess ln(1500) = 7.31 (a real pre-training run is in docs/benchmarks.md).
    let evals: Vec<serde_json::Value> = std::fs::read_to_string(run.join("log.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["type"] == "eval")
        .collect();
    assert_eq!(evals.len(), 2, "{evals:?}");
    let loss = |v: &serde_json::Value| v["metrics"]["loss"].as_f64().unwrap();
    assert!(loss(&evals[1]) < loss(&evals[0]), "{evals:?}");
    let metrics = read_json(&run.join("metrics.json"));
    let fv = &metrics["final_validation"];
    assert!(fv["loss"].as_f64().unwrap() < 7.0, "{fv}");
    // The unigram model of the same held-out tokens: a sane cross-entropy, below uniform.
    let unigram = metrics["unigram_baseline_loss"].as_f64().unwrap();
    assert!(unigram > 1.0 && unigram < 1500f64.ln(), "{unigram}");
    assert!(fv["accuracy"].as_f64().unwrap() > 0.0, "{fv}");
    assert!((fv["perplexity"].as_f64().unwrap() - fv["loss"].as_f64().unwrap().exp()).abs() < 1e-6);
    let config = read_json(&run.join("config.json"));
    assert_eq!(config["architectures"][0], "BertForMaskedLM");
    assert_eq!(config["vocab_size"], 1500);

    // transformers loads it as BertForMaskedLM with nothing missing or unexpected.
    let python = std::env::var_os("BURNISH_PYTHON")
        .map(PathBuf::from)
        .or_else(|| {
            let p = PathBuf::from(std::env::var_os("HOME")?).join(".cache/burnish-venv/bin/python");
            p.is_file().then_some(p)
        });
    assert!(python.is_some() || !under_ci(), "no reference Python");
    if let Some(python) = python {
        let script = r#"
import sys, json
from transformers import BertForMaskedLM, AutoTokenizer
model, info = BertForMaskedLM.from_pretrained(sys.argv[1], output_loading_info=True)
tok = AutoTokenizer.from_pretrained(sys.argv[1])
print(json.dumps({k: sorted(v) for k, v in info.items() if k != "error_msgs"}))
"#;
        let out = Command::new(python)
            .args(["-c", script])
            .arg(&run)
            .env("HF_HUB_OFFLINE", "1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        for key in ["missing_keys", "unexpected_keys", "mismatched_keys"] {
            assert_eq!(info[key], serde_json::json!([]), "{key}: {info}");
        }
    }

    // The pre-trained folder fine-tunes.
    let base = std::env::var_os("BURNISH_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared/data"));
    let dev = base.join("sst2/dev.tsv");
    let finetuned = tmp.path().join("cls");
    ok(&burnish(&[
        "finetune",
        "--model",
        run.to_str().unwrap(),
        "--train",
        dev.to_str().unwrap(),
        "--text-column",
        "sentence",
        "--max-train-rows",
        "200",
        "--epochs",
        "1",
        "--max-length",
        "64",
        "--out",
        finetuned.to_str().unwrap(),
        "--quiet",
    ]));
    assert!(finetuned.join("model.safetensors").is_file());
}

#[test]
fn nsp_clm_and_continued_pretraining_run() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(corpus) = corpus(tmp.path(), 1500) else {
        return;
    };
    let model = root().join("tests/fixtures/tiny-bert");
    // Continued MLM from a BertModel checkpoint: the head is new, and said so.
    let run = tmp.path().join("continued");
    let stderr = ok(&burnish(&[
        "pretrain",
        "--corpus",
        corpus.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
        "--max-length",
        "48",
        "--max-sequences",
        "64",
        "--out",
        run.to_str().unwrap(),
        "--quiet",
    ]));
    assert!(
        stderr.contains("newly initialised") && stderr.contains("cls.predictions"),
        "{stderr}"
    );
    // --eval-only on the result, with the same split and masks, reproduces the run's final
    // held-out loss and trains and saves nothing.
    let eval_dir = tmp.path().join("eval-only");
    ok(&burnish(&[
        "pretrain",
        "--eval-only",
        "--corpus",
        corpus.to_str().unwrap(),
        "--model",
        run.to_str().unwrap(),
        "--max-length",
        "48",
        "--max-sequences",
        "64",
        "--out",
        eval_dir.to_str().unwrap(),
        "--quiet",
    ]));
    let trained = read_json(&run.join("metrics.json"));
    let evaluated = read_json(&eval_dir.join("metrics.json"));
    assert_eq!(evaluated["eval_only"], true);
    for key in ["loss", "accuracy"] {
        let a = trained["final_validation"][key].as_f64().unwrap();
        let b = evaluated["final_validation"][key].as_f64().unwrap();
        assert!((a - b).abs() < 1e-5, "{key}: run {a}, --eval-only {b}");
    }
    assert_eq!(
        trained["unigram_baseline_loss"],
        evaluated["unigram_baseline_loss"]
    );
    assert!(!eval_dir.join("model.safetensors").exists());
    assert!(!eval_dir.join("log.jsonl").exists());
    let out = burnish(&[
        "pretrain",
        "--eval-only",
        "--corpus",
        corpus.to_str().unwrap(),
        "--out",
        tmp.path().join("no-model").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--eval-only evaluates a checkpoint"));
    for (objective, extra) in [("mlm+nsp", "nsp_accuracy"), ("clm", "perplexity")] {
        let run = tmp.path().join(objective.replace('+', "-"));
        let mut args = vec![
            "pretrain",
            "--objective",
            objective,
            "--corpus",
            corpus.to_str().unwrap(),
            "--tokenizer",
            model.to_str().unwrap(),
            "--max-sequences",
            "64",
            "--out",
            run.to_str().unwrap(),
            "--quiet",
        ];
        args.extend(TINY);
        ok(&burnish(&args));
        let metrics = read_json(&run.join("metrics.json"));
        assert!(
            metrics["final_validation"][extra].is_number(),
            "{objective}: {metrics}"
        );
        let config = read_json(&run.join("config.json"));
        let expected = if objective == "clm" {
            "BertLMHeadModel"
        } else {
            "BertForPreTraining"
        };
        assert_eq!(config["architectures"][0], expected);
    }
    // A bad objective is refused with the accepted names.
    let out = burnish(&[
        "pretrain",
        "--objective",
        "xlnet",
        "--corpus",
        corpus.to_str().unwrap(),
        "--out",
        tmp.path().join("x").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("mlm, mlm+nsp or clm"));
}
