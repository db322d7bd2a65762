//! Bad input, case by case (issue 8): damaged model folders and tokenizers, dirty data files,
//! an empty data set, an existing run directory. Each case runs `burnish finetune` and checks
//! what a user sees: exit status 1, no panic, one `error:` line naming the file and the line,
//! field or tensor, and no run directory left behind. docs/reliability.md lists the cases.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn burnish(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_burnish"))
        .args(args)
        .output()
        .expect("run burnish")
}

/// A scratch folder with a copy of a fixture model and small valid data.
struct Case {
    dir: tempfile::TempDir,
}

impl Case {
    fn new(fixture: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let model = dir.path().join("model");
        std::fs::create_dir(&model).unwrap();
        for entry in std::fs::read_dir(root().join("tests/fixtures").join(fixture)).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), model.join(entry.file_name())).unwrap();
        }
        let case = Self { dir };
        let mut rows = String::from("text\tlabel\n");
        for i in 0..12 {
            rows.push_str(&format!(
                "{} movie {i}\t{}\n",
                ["good", "bad"][i % 2],
                i % 2
            ));
        }
        case.write("train.tsv", rows.as_bytes());
        case
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn model(&self, file: &str) -> PathBuf {
        self.path("model").join(file)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn out(&self) -> PathBuf {
        self.path("run")
    }

    /// `burnish finetune` with the case's model, `train` as training data, `extra` flags.
    fn finetune(&self, train: &str, extra: &[&str]) -> Output {
        let model = self.path("model");
        let train = self.path(train);
        let out = self.out();
        let mut args = vec![
            "finetune",
            "--model",
            model.to_str().unwrap(),
            "--train",
            train.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ];
        // Small defaults unless the case sets them.
        for (flag, value) in [
            ("--epochs", "1"),
            ("--batch-size", "4"),
            ("--max-length", "16"),
        ] {
            if !extra.contains(&flag) {
                args.extend([flag, value]);
            }
        }
        args.extend_from_slice(extra);
        burnish(&args)
    }

    /// Checks a failed run: status 1, no panic, exactly one `error:` line, the last, holding
    /// every `needle`; no run directory written. Returns the error line.
    fn fails(&self, out: &Output, needles: &[&str]) -> String {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(errors.len(), 1, "one error line: {stderr}");
        assert_eq!(
            stderr.trim_end().lines().last(),
            Some(errors[0]),
            "{stderr}"
        );
        for needle in needles {
            assert!(errors[0].contains(needle), "{needle:?} not in: {stderr}");
        }
        assert!(
            !self.out().exists(),
            "a failed run left {}",
            self.out().display()
        );
        // What the user sees (shown with --nocapture; docs/reliability.md quotes it).
        eprintln!("{}", errors[0]);
        errors[0].to_string()
    }
}

// ---- model folders -------------------------------------------------------------------------

#[test]
fn truncated_safetensors() {
    let case = Case::new("tiny-bert");
    let path = case.model("model.safetensors");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    case.fails(&case.finetune("train.tsv", &[]), &["model.safetensors"]);
}

#[test]
fn corrupt_safetensors_header() {
    let case = Case::new("tiny-bert");
    let path = case.model("model.safetensors");
    let mut bytes = std::fs::read(&path).unwrap();
    // The header length claims more bytes than the file has; then garbage JSON.
    bytes[..8].copy_from_slice(&(1u64 << 40).to_le_bytes());
    std::fs::write(&path, &bytes).unwrap();
    case.fails(&case.finetune("train.tsv", &[]), &["model.safetensors"]);
    bytes[..8].copy_from_slice(&16u64.to_le_bytes());
    bytes[8..24].copy_from_slice(b"{not json at all");
    std::fs::write(&path, &bytes).unwrap();
    case.fails(&case.finetune("train.tsv", &[]), &["model.safetensors"]);
}

#[test]
fn truncated_pytorch_bin() {
    let case = Case::new("tiny-bert-bin");
    let path = case.model("pytorch_model.bin");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    case.fails(&case.finetune("train.tsv", &[]), &["pytorch_model.bin"]);
}

/// A pickle that would run `os.system` when unpickled by Python is only data to burnish: the
/// load fails naming the file and the command never runs.
#[test]
fn pytorch_bin_with_code_is_not_executed() {
    let case = Case::new("tiny-bert-bin");
    let marker = case.path("pwned");
    // What `pickle.dumps` writes for `os.system("touch MARKER")` called at load time:
    // PROTO 2, GLOBAL os.system, BINUNICODE command, TUPLE1, REDUCE, STOP.
    let command = format!("touch {}", marker.display());
    let mut pickle = b"\x80\x02cos\nsystem\nX".to_vec();
    pickle.extend_from_slice(&(command.len() as u32).to_le_bytes());
    pickle.extend_from_slice(command.as_bytes());
    pickle.extend_from_slice(b"\x85R.");
    std::fs::write(case.model("pytorch_model.bin"), &pickle).unwrap();
    case.fails(&case.finetune("train.tsv", &[]), &["pytorch_model.bin"]);
    assert!(!marker.exists(), "the pickle's code ran");
}

#[test]
fn config_disagrees_with_the_weights() {
    let case = Case::new("tiny-bert");
    let path = case.model("config.json");
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    config["intermediate_size"] = 48.into();
    std::fs::write(&path, config.to_string()).unwrap();
    case.fails(
        &case.finetune("train.tsv", &[]),
        &["model.safetensors", "intermediate"],
    );
}

#[test]
fn malformed_config_json() {
    let case = Case::new("tiny-bert");
    std::fs::write(
        case.model("config.json"),
        "{\n  \"hidden_size\": 16,\n  oops\n}",
    )
    .unwrap();
    case.fails(&case.finetune("train.tsv", &[]), &["config.json", "line 3"]);
    std::fs::write(
        case.model("config.json"),
        r#"{"hidden_size": 16, "num_attention_heads": 5}"#,
    )
    .unwrap();
    case.fails(
        &case.finetune("train.tsv", &[]),
        &["config.json", "num_attention_heads"],
    );
}

/// Huge dimensions in `config.json` are errors naming the file and the field, before any
/// model is built (an allocation of that size would abort the process): above burnish's
/// limits, or far more parameters than the weights hold. A new model (`burnish pretrain
/// --config`) has no weights: its size is checked against the machine's memory.
#[test]
fn config_with_huge_dimensions() {
    for (changes, field) in [
        (&[("hidden_size", 1_000_000_000u64)][..], "hidden_size"),
        (&[("vocab_size", 1_000_000_000_000)][..], "vocab_size"),
        (&[("num_hidden_layers", 1_000_000)][..], "num_hidden_layers"),
        (
            &[("num_hidden_layers", 1024), ("intermediate_size", 1 << 18)][..],
            "num_hidden_layers",
        ),
        (&[("vocab_size", 1 << 24)][..], "word_embeddings"),
    ] {
        let case = Case::new("tiny-bert");
        let path = case.model("config.json");
        let mut config: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for (key, value) in changes {
            config[*key] = (*value).into();
        }
        std::fs::write(&path, config.to_string()).unwrap();
        let file = if field == "word_embeddings" {
            "model.safetensors"
        } else {
            "config.json"
        };
        case.fails(&case.finetune("train.tsv", &[]), &[file, field]);
    }
    // From scratch: 1024 layers of width 65,536 are within the limits but need petabytes.
    let case = Case::new("tiny-bert");
    let config = case.write(
        "big.json",
        br#"{"num_hidden_layers": 1024, "hidden_size": 65536, "num_attention_heads": 16, "intermediate_size": 262144}"#,
    );
    case.write("corpus.txt", b"the quick brown fox\n\nthe lazy dog\n");
    let out = burnish(&[
        "pretrain",
        "--corpus",
        case.path("corpus.txt").to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
        "--tokenizer",
        case.path("model").to_str().unwrap(),
        "--out",
        case.out().to_str().unwrap(),
        "--quiet",
    ]);
    case.fails(&out, &["big.json", "num_hidden_layers", "GB"]);
}

// ---- tokenizers ----------------------------------------------------------------------------

#[test]
fn missing_tokenizer_files() {
    let case = Case::new("tiny-bert");
    std::fs::remove_file(case.model("tokenizer.json")).unwrap();
    std::fs::remove_file(case.model("vocab.txt")).unwrap();
    case.fails(
        &case.finetune("train.tsv", &[]),
        &["model", "tokenizer.json", "vocab.txt"],
    );
}

#[test]
fn empty_vocab() {
    let case = Case::new("tiny-bert");
    std::fs::remove_file(case.model("tokenizer.json")).unwrap();
    std::fs::write(case.model("vocab.txt"), "").unwrap();
    case.fails(&case.finetune("train.tsv", &[]), &["vocab.txt"]);
}

#[test]
fn empty_and_malformed_tokenizer_json() {
    let case = Case::new("tiny-bert");
    std::fs::write(case.model("tokenizer.json"), "").unwrap();
    case.fails(&case.finetune("train.tsv", &[]), &["tokenizer.json"]);
    std::fs::write(case.model("tokenizer.json"), "{\"model\": [1, 2,").unwrap();
    case.fails(
        &case.finetune("train.tsv", &[]),
        &["tokenizer.json", "line 1"],
    );
}

// ---- classification data -------------------------------------------------------------------

#[test]
fn csv_ragged_row() {
    let case = Case::new("tiny-bert");
    case.write("d.csv", b"text,label\ngood movie,1\nbad movie,0,extra\n");
    case.fails(
        &case.finetune("d.csv", &[]),
        &["d.csv:3", "expected 2 fields"],
    );
}

#[test]
fn csv_bad_quoting() {
    let case = Case::new("tiny-bert");
    case.write(
        "d.csv",
        b"text,label\ngood movie,1\n\"bad \"movie\" here,0\nfine,1\n",
    );
    case.fails(&case.finetune("d.csv", &[]), &["d.csv:3"]);
}

#[test]
fn invalid_utf8() {
    let case = Case::new("tiny-bert");
    case.write(
        "d.tsv",
        b"text\tlabel\ngood movie\t1\nbad \xff\xfe movie\t0\n",
    );
    case.fails(&case.finetune("d.tsv", &[]), &["d.tsv:3", "UTF-8"]);
}

#[test]
fn empty_text() {
    let case = Case::new("tiny-bert");
    case.write("d.tsv", b"text\tlabel\ngood movie\t1\n\t0\n");
    case.fails(&case.finetune("d.tsv", &[]), &["d.tsv:3", "text", "empty"]);
}

#[test]
fn unknown_validation_label() {
    let case = Case::new("tiny-bert");
    let valid = case.write("valid.tsv", b"text\tlabel\ngood\t1\nmeh\tneutral\n");
    case.fails(
        &case.finetune("train.tsv", &["--valid", valid.to_str().unwrap()]),
        &["valid.tsv:3", "neutral"],
    );
}

#[test]
fn nan_and_out_of_range_regression_targets() {
    let case = Case::new("tiny-bert");
    case.write(
        "d.jsonl",
        b"{\"text\": \"good\", \"label\": 0.5}\n{\"text\": \"bad\", \"label\": \"NaN\"}\n",
    );
    case.fails(
        &case.finetune("d.jsonl", &["--label-kind", "regression"]),
        &["d.jsonl:2", "label", "NaN"],
    );
    case.write("d.tsv", b"text\tlabel\ngood\t0.5\nbad\t1e39\n");
    case.fails(
        &case.finetune("d.tsv", &["--label-kind", "regression"]),
        &["d.tsv:3", "label", "too large"],
    );
}

#[test]
fn malformed_jsonl_line() {
    let case = Case::new("tiny-bert");
    case.write(
        "d.jsonl",
        b"{\"text\": \"good\", \"label\": 1}\n{\"text\": \"bad\", \"label\": 0\n",
    );
    case.fails(&case.finetune("d.jsonl", &[]), &["d.jsonl:2", "column"]);
}

#[test]
fn empty_dataset() {
    let case = Case::new("tiny-bert");
    case.write("d.tsv", b"text\tlabel\n");
    case.fails(&case.finetune("d.tsv", &[]), &["d.tsv", "no data rows"]);
    case.write("e.tsv", b"");
    case.fails(&case.finetune("e.tsv", &[]), &["e.tsv", "empty"]);
}

/// A batch larger than the data is not an error: every step uses all the examples, and the
/// run says so.
#[test]
fn batch_size_larger_than_the_data() {
    let case = Case::new("tiny-bert");
    let out = case.finetune("train.tsv", &["--batch-size", "64"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("batch size 64 exceeds"), "{stderr}");
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(case.out().join("metrics.json")).unwrap())
            .unwrap();
    assert_eq!(metrics["steps"], 1);
}

/// A folder that is not an unfinished burnish run is never written into without
/// --overwrite, and is left untouched.
#[test]
fn existing_run_directory() {
    let case = Case::new("tiny-bert");
    std::fs::create_dir(case.out()).unwrap();
    std::fs::write(case.out().join("notes.txt"), "mine").unwrap();
    let out = case.finetune("train.tsv", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("already exists") && stderr.contains("--overwrite"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_dir(case.out()).unwrap().count(), 1);
    let out = case.finetune("train.tsv", &["--overwrite"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!case.out().join("notes.txt").exists());
    assert!(case.out().join("metrics.json").is_file());

    // The paths a run directory records (base model, data files) are provenance only: a
    // run whose training_config.json points outside it, even at a secret, predicts as before
    // and reads nothing there.
    let config_path = case.out().join("training_config.json");
    let mut info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&config_path).unwrap()).unwrap();
    for key in ["base_model", "train_file", "valid_file"] {
        info[key] = "../../../../etc/shadow".into();
    }
    std::fs::write(&config_path, info.to_string()).unwrap();
    let input = case.write("texts.txt", b"good movie\n");
    let run = case.out();
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
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
}

// ---- NER and QA data -----------------------------------------------------------------------

#[test]
fn conll_missing_tag_column() {
    let case = Case::new("tiny-bert");
    case.write("d.conll", b"good O\nmovie O\n\nparis B-LOC\nnew\n\n");
    case.fails(
        &case.finetune("d.conll", &["--task", "ner"]),
        &["d.conll:5", "column"],
    );
}

/// A stray `I-X` in an IOB2 file is read as conlleval reads it, with a warning naming the
/// file and line.
#[test]
fn conll_inconsistent_bio_is_reported() {
    let case = Case::new("tiny-bert");
    let mut text = String::new();
    for _ in 0..4 {
        text.push_str("new B-LOC\nyork I-LOC\nis O\ngood O\n\nthe O\ncat I-PER\n\n");
    }
    case.write("d.conll", text.as_bytes());
    let out = case.finetune("d.conll", &["--task", "ner", "--valid-fraction", "0.5"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("d.conll:7: I-PER after O does not continue an entity (inconsistent IOB2)")
            && stderr.contains("and 3 more"),
        "{stderr}"
    );
}

#[test]
fn squad_answer_offsets_off_the_context() {
    let case = Case::new("tiny-bert");
    let squad = serde_json::json!({"version": "1.1", "data": [{"title": "t", "paragraphs": [
        {"context": "the cat sat on the mat", "qas": [
            {"id": "q1", "question": "where", "answers": [{"text": "mat", "answer_start": 99}]}
        ]}
    ]}]});
    case.write("d.json", squad.to_string().as_bytes());
    case.fails(
        &case.finetune("d.json", &["--task", "qa"]),
        &["d.json", "answer_start", "99"],
    );
}
