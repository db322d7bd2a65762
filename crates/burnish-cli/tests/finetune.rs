//! `burnish finetune`, `evaluate` and `predict` end to end on the tiny fixture model and real
//! review sentences (vader-movies, from the assets of `scripts/fetch-assets.sh`): the run directory has every promised file, evaluate reproduces the run's
//! final validation metrics, predict writes one labelled object per line, an existing finished
//! run is refused without --overwrite, and bad data fails with file and line.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use burnish::train::LogEvent;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn burnish(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_burnish"))
        .args(args)
        .output()
        .expect("run burnish")
}

/// The vader-movies test split (1,057 labelled review sentences, `sentence<TAB>label`).
fn reviews() -> PathBuf {
    common::reviews("test")
}

#[test]
fn finetune_evaluate_predict_round_trip() {
    let dev = reviews();
    let tmp = tempfile::tempdir().unwrap();
    // 200 real rows as training data, the next 100 as validation.
    let text = std::fs::read_to_string(&dev).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let train = tmp.path().join("train.tsv");
    let valid = tmp.path().join("valid.tsv");
    std::fs::write(&train, [&lines[..201]].concat().join("\n") + "\n").unwrap();
    std::fs::write(
        &valid,
        [&lines[..1], &lines[201..301]].concat().join("\n") + "\n",
    )
    .unwrap();
    let run = tmp.path().join("run");
    let model = root().join("tests/fixtures/tiny-bert");
    let args = [
        "finetune",
        "--model",
        model.to_str().unwrap(),
        "--train",
        train.to_str().unwrap(),
        "--valid",
        valid.to_str().unwrap(),
        "--text-column",
        "sentence",
        "--out",
        run.to_str().unwrap(),
        "--epochs",
        "2",
        "--batch-size",
        "16",
        "--lr",
        "1e-3",
        "--max-length",
        "48",
        "--quiet",
    ];
    let out = burnish(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    for file in [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "vocab.txt",
        "labels.json",
        "training_config.json",
        "metrics.json",
        "log.jsonl",
        "training.png",
    ] {
        assert!(run.join(file).is_file(), "{file} missing");
    }
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["architectures"][0], "BertForSequenceClassification");
    assert_eq!(config["id2label"]["0"], "0");
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("metrics.json")).unwrap()).unwrap();
    let final_acc = metrics["final_validation"]["accuracy"].as_f64().unwrap();
    assert!(metrics["best"]["metrics"]["accuracy"].as_f64().unwrap() >= final_acc - 1e-12);
    let evals = common::log_events(&run)
        .iter()
        .filter(|e| matches!(e, LogEvent::Eval { .. }))
        .count();
    assert_eq!(evals, 2, "one evaluation per epoch");

    // evaluate on the validation file reproduces the run's final validation metrics.
    let out = burnish(&[
        "evaluate",
        "--model",
        run.to_str().unwrap(),
        "--data",
        valid.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let eval: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(eval["examples"], 100);
    assert!((eval["metrics"]["accuracy"].as_f64().unwrap() - final_acc).abs() < 1e-12);

    // predict on plain lines.
    let input = tmp.path().join("texts.txt");
    std::fs::write(&input, "a gorgeous , witty film\nthe plot is a mess\n").unwrap();
    let out = burnish(&[
        "predict",
        "--model",
        run.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    for row in &rows {
        let p0 = row["probabilities"]["0"].as_f64().unwrap();
        let p1 = row["probabilities"]["1"].as_f64().unwrap();
        assert!((p0 + p1 - 1.0).abs() < 1e-5);
        assert!(row["label"] == "0" || row["label"] == "1");
    }

    // A finished run is not overwritten by accident.
    let out = burnish(&args);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--overwrite"));
}

#[test]
fn bad_training_data_names_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let train = tmp.path().join("train.tsv");
    std::fs::write(
        &train,
        "sentence\tlabel\ngood film\t1\nragged row without label\n",
    )
    .unwrap();
    let model = root().join("tests/fixtures/tiny-bert");
    let out = burnish(&[
        "finetune",
        "--model",
        model.to_str().unwrap(),
        "--train",
        train.to_str().unwrap(),
        "--text-column",
        "sentence",
        "--out",
        tmp.path().join("run").to_str().unwrap(),
        "--quiet",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("train.tsv:3"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    let missing = tmp.path().join("m.tsv");
    std::fs::write(&missing, "text\tgold\nnice\t1\n").unwrap();
    let out = burnish(&[
        "finetune",
        "--model",
        model.to_str().unwrap(),
        "--train",
        missing.to_str().unwrap(),
        "--out",
        tmp.path().join("run2").to_str().unwrap(),
        "--quiet",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("label") && stderr.contains("gold"),
        "{stderr}"
    );
}

/// Ctrl-C (SIGINT) during training writes a checkpoint and exits with 130; the same command
/// then resumes and finishes the run.
#[cfg(unix)]
#[test]
fn sigint_checkpoints_and_the_same_command_resumes() {
    let dev = reviews();
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let model = root().join("tests/fixtures/tiny-bert");
    let args = [
        "finetune",
        "--model",
        model.to_str().unwrap(),
        "--train",
        dev.to_str().unwrap(),
        "--text-column",
        "sentence",
        "--out",
        run.to_str().unwrap(),
        "--epochs",
        "30",
        "--batch-size",
        "8",
        "--max-length",
        "32",
        "--quiet",
    ];
    let child = Command::new(env!("CARGO_BIN_EXE_burnish"))
        .args(args)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until training has logged a few steps, then interrupt.
    let log = run.join("log.jsonl");
    let started = std::time::Instant::now();
    while !log.is_file() {
        assert!(started.elapsed().as_secs() < 120, "training never started");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("checkpoint saved"), "{stderr}");
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(run.join("checkpoint/trainer_state.json")).unwrap(),
    )
    .unwrap();
    let stopped_at = state["global_step"].as_u64().unwrap();
    assert!(stopped_at > 0 && !state["done"].as_bool().unwrap());
    assert!(
        !run.join("metrics.json").exists(),
        "an interrupted run is not finished"
    );

    let out = burnish(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("resuming"), "{stderr}");
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("metrics.json")).unwrap()).unwrap();
    // 1,057 rows less a 10% validation split (106: 53 of each label), batches of 8, 30 epochs.
    let steps_per_epoch = (1_057 - 106usize).div_ceil(8) as u64;
    assert_eq!(metrics["steps"].as_u64().unwrap(), 30 * steps_per_epoch);
    assert!(metrics["steps"].as_u64().unwrap() > stopped_at);
}

/// The f32 tensor whose name ends with `suffix` in a safetensors file (8-byte header length,
/// JSON header, little-endian data).
fn safetensors_f32(path: &Path, suffix: &str) -> Vec<f32> {
    let bytes = std::fs::read(path).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let (_, entry) = header
        .as_object()
        .unwrap()
        .iter()
        .find(|(name, _)| name.ends_with(suffix))
        .unwrap_or_else(|| panic!("{} has no {suffix}", path.display()));
    assert_eq!(entry["dtype"], "F32");
    let start = 8 + n + entry["data_offsets"][0].as_u64().unwrap() as usize;
    let end = 8 + n + entry["data_offsets"][1].as_u64().unwrap() as usize;
    bytes[start..end]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn init_random_keeps_the_architecture_and_draws_new_weights_from_the_seed() {
    let dev = reviews();
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(&dev).unwrap();
    let train = tmp.path().join("train.tsv");
    std::fs::write(
        &train,
        text.lines().take(65).collect::<Vec<_>>().join("\n") + "\n",
    )
    .unwrap();
    let model = root().join("tests/fixtures/tiny-bert");
    // A learning rate so small that the saved weights are the initial ones.
    let run = |name: &str, init: &str, seed: &str| {
        let out_dir = tmp.path().join(name);
        let out = burnish(&[
            "finetune",
            "--model",
            model.to_str().unwrap(),
            "--train",
            train.to_str().unwrap(),
            "--text-column",
            "sentence",
            "--init",
            init,
            "--epochs",
            "1",
            "--batch-size",
            "16",
            "--lr",
            "1e-12",
            "--max-length",
            "48",
            "--seed",
            seed,
            "--out",
            out_dir.to_str().unwrap(),
            "--quiet",
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{stderr}");
        (out_dir, stderr)
    };
    let word = "embeddings.word_embeddings.weight";
    let original = safetensors_f32(&model.join("model.safetensors"), word);
    let (pretrained, _) = run("pretrained", "pretrained", "1");
    let (random, stderr) = run("random", "random", "1");
    let (again, _) = run("again", "random", "1");
    let (other_seed, _) = run("other-seed", "random", "2");
    assert!(stderr.contains("--init random"), "{stderr}");
    let weights = |dir: &Path| safetensors_f32(&dir.join("model.safetensors"), word);
    // The default starts from the checkpoint; --init random does not, but keeps its shapes.
    assert!(max_abs_diff(&weights(&pretrained), &original) < 1e-6);
    let fresh = weights(&random);
    assert!(max_abs_diff(&fresh, &original) > 1e-2);
    // Fresh weights follow the seed and the config's initializer_range (0.02).
    assert_eq!(max_abs_diff(&fresh, &weights(&again)), 0.0);
    assert!(max_abs_diff(&fresh, &weights(&other_seed)) > 1e-2);
    let std = (fresh.iter().map(|x| x * x).sum::<f32>() / fresh.len() as f32).sqrt();
    assert!((0.015..0.025).contains(&std), "std {std}");
    let read = |dir: &Path, file: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join(file)).unwrap()).unwrap()
    };
    assert_eq!(read(&random, "training_config.json")["init"], "random");
    assert_eq!(
        read(&pretrained, "training_config.json")["init"],
        "pretrained"
    );
    assert_eq!(
        read(&random, "config.json")["hidden_size"],
        read(&model, "config.json")["hidden_size"]
    );

    // Only classification has it.
    let out = burnish(&[
        "finetune",
        "--task",
        "ner",
        "--init",
        "random",
        "--model",
        model.to_str().unwrap(),
        "--train",
        train.to_str().unwrap(),
        "--out",
        tmp.path().join("ner").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--init random is for --task classification")
    );
}

#[test]
fn devices_and_gradient_checkpointing_flags_train() {
    let dev = reviews();
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(&dev).unwrap();
    let train = tmp.path().join("train.tsv");
    std::fs::write(
        &train,
        text.lines().take(65).collect::<Vec<_>>().join("\n") + "\n",
    )
    .unwrap();
    let model = root().join("tests/fixtures/tiny-bert");
    let run = tmp.path().join("run");
    let args = |devices: &'static str| {
        vec![
            "finetune".to_string(),
            "--model".into(),
            model.to_str().unwrap().into(),
            "--train".into(),
            train.to_str().unwrap().into(),
            "--text-column".into(),
            "sentence".into(),
            "--out".into(),
            run.to_str().unwrap().into(),
            "--epochs".into(),
            "1".into(),
            "--batch-size".into(),
            "16".into(),
            "--max-length".into(),
            "48".into(),
            "--devices".into(),
            devices.into(),
            "--gradient-checkpointing".into(),
            "--quiet".into(),
        ]
    };
    let run_with = |devices| {
        let a = args(devices);
        burnish(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };

    let twice = run_with("0,0");
    assert!(!twice.status.success());
    let stderr = String::from_utf8_lossy(&twice.stderr);
    assert!(stderr.contains("device 0 is listed twice"), "{stderr}");

    let out = run_with("0,1");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("data-parallel over 2 devices"), "{stderr}");
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("training_config.json")).unwrap())
            .unwrap();
    assert_eq!(config["train"]["gradient_checkpointing"], true, "{config}");
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(metrics["outcome"], "finished", "{metrics}");
    let loss = metrics["final_validation"]["loss"].as_f64();
    assert!(loss.is_some_and(f64::is_finite), "{metrics}");
}

/// `--class-weights` and `--label-smoothing` (issue 24): a run with balanced weights and
/// smoothing trains and records both in training_config.json; a weights file that cannot be
/// read, or that names a label the data lacks, is an error naming the file or the label.
#[test]
fn class_weight_and_label_smoothing_flags_train_and_are_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(reviews()).unwrap();
    let train = tmp.path().join("train.tsv");
    std::fs::write(
        &train,
        text.lines().take(65).collect::<Vec<_>>().join("\n") + "\n",
    )
    .unwrap();
    let model = root().join("tests/fixtures/tiny-bert");
    let run = tmp.path().join("run");
    let run_with = |weights: &str| {
        burnish(&[
            "finetune",
            "--model",
            model.to_str().unwrap(),
            "--train",
            train.to_str().unwrap(),
            "--text-column",
            "sentence",
            "--out",
            run.to_str().unwrap(),
            "--epochs",
            "1",
            "--batch-size",
            "16",
            "--max-length",
            "48",
            "--class-weights",
            weights,
            "--label-smoothing",
            "0.1",
            "--overwrite",
            "--quiet",
        ])
    };
    let out = run_with("balanced");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("training_config.json")).unwrap())
            .unwrap();
    let train_config = if config.get("train").is_some() {
        &config["train"]
    } else {
        &config
    };
    assert_eq!(train_config["class_weights"], "balanced", "{config}");
    assert_eq!(train_config["label_smoothing"], 0.1, "{config}");

    let missing = tmp.path().join("missing.json");
    let out = run_with(missing.to_str().unwrap());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("missing.json"), "{stderr}");

    let unknown = tmp.path().join("weights.json");
    std::fs::write(&unknown, r#"{"0": 1.0, "1": 2.0, "2": 1.0}"#).unwrap();
    let out = run_with(unknown.to_str().unwrap());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("class_weights") && stderr.contains("\"2\" is not a label"),
        "{stderr}"
    );
}

/// Small data (issue 24): a run that memorises 64 real review sentences reports the gap
/// between training and validation loss at every evaluation, and warns that it overfits once
/// the validation loss climbs while the training loss keeps falling.
#[test]
fn a_run_that_memorises_small_data_reports_the_gap_and_warns() {
    let text = std::fs::read_to_string(reviews()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let tmp = tempfile::tempdir().unwrap();
    let train = tmp.path().join("train.tsv");
    let valid = tmp.path().join("valid.tsv");
    std::fs::write(&train, lines[..65].join("\n") + "\n").unwrap();
    std::fs::write(
        &valid,
        [&lines[..1], &lines[65..165]].concat().join("\n") + "\n",
    )
    .unwrap();
    let run = tmp.path().join("run");
    // all-MiniLM-L6-v2: a real encoder learns the training sentences within a few epochs
    // (the tiny random fixture does not learn them at all).
    let model = common::minilm();
    let out = burnish(&[
        "finetune",
        "--model",
        model.to_str().unwrap(),
        "--train",
        train.to_str().unwrap(),
        "--valid",
        valid.to_str().unwrap(),
        "--text-column",
        "sentence",
        "--out",
        run.to_str().unwrap(),
        "--epochs",
        "6",
        "--batch-size",
        "8",
        "--lr",
        "2e-4",
        "--max-length",
        "64",
        "--quiet",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("metrics.json")).unwrap()).unwrap();
    let g = &metrics["generalization"];
    let points = g["points"].as_array().unwrap();
    assert_eq!(points.len(), 6, "one point per evaluation: {g}");
    for p in points {
        let (train, valid, gap) = (
            p["train_loss"].as_f64().unwrap(),
            p["valid_loss"].as_f64().unwrap(),
            p["gap"].as_f64().unwrap(),
        );
        assert!((gap - (valid - train)).abs() < 1e-9);
    }
    let first = points[0]["train_loss"].as_f64().unwrap();
    let last = points[5]["train_loss"].as_f64().unwrap();
    assert!(
        last < first / 2.0,
        "the training set is memorised: {first} -> {last}"
    );
    let overfitting = &g["overfitting"];
    assert!(overfitting.is_object(), "{g}");
    assert!(
        overfitting["last"]["valid_loss"].as_f64().unwrap()
            > overfitting["lowest"]["valid_loss"].as_f64().unwrap()
    );
    assert!(
        stderr.contains("warning: overfitting: validation loss rose"),
        "{stderr}"
    );
}
