//! Where Python users keep their models, data and dashboards (issue 26), each checked with the
//! Python tool that owns the format (`scripts/check_ecosystem.py`):
//! - a model by Hub id from a Hugging Face cache that `huggingface_hub` itself reads back, with
//!   `HF_HUB_OFFLINE=1` (no network in tests), and the clear error for an id not cached;
//! - the run folder's model card, parsed by `huggingface_hub.ModelCard.load`;
//! - `--report-to tensorboard`, read by TensorBoard's `EventAccumulator`, with the values of
//!   `log.jsonl`.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use burnish::train::LogEvent;
use serde_json::Value;

/// `scripts/check_ecosystem.py ARGS`, its printed JSON.
fn python_check(args: &[&str]) -> Value {
    let out = Command::new(common::python())
        .arg(common::root().join("scripts/check_ecosystem.py"))
        .args(args)
        .output()
        .expect("run the reference Python");
    assert!(
        out.status.success(),
        "check_ecosystem.py {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `burnish ARGS` with the Hub cache `cache` and downloads off.
fn burnish_offline(cache: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_burnish"))
        .args(args)
        .env("HF_HUB_CACHE", cache)
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .expect("run burnish")
}

/// 120 real review rows for training and 60 for validation, as TSV files in `dir`.
fn review_split(dir: &Path) -> (String, String) {
    let text = std::fs::read_to_string(common::reviews("test")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let train = dir.join("train.tsv");
    let valid = dir.join("valid.tsv");
    std::fs::write(&train, lines[..121].join("\n") + "\n").unwrap();
    std::fs::write(
        &valid,
        [&lines[..1], &lines[121..181]].concat().join("\n") + "\n",
    )
    .unwrap();
    (
        train.to_str().unwrap().into(),
        valid.to_str().unwrap().into(),
    )
}

#[test]
fn hub_id_card_and_tensorboard_from_one_offline_run() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("hub");
    let fixture = common::root().join("tests/fixtures/tiny-bert");
    let laid_out = python_check(&[
        "hub-cache",
        cache.to_str().unwrap(),
        "acme/tiny-bert",
        fixture.to_str().unwrap(),
    ]);
    let (train, valid) = review_split(tmp.path());
    let run = tmp.path().join("run");
    let out = burnish_offline(
        &cache,
        &[
            "finetune",
            "--model",
            "acme/tiny-bert",
            "--train",
            &train,
            "--valid",
            &valid,
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
            "--eval-every",
            "4",
            "--report-to",
            "tensorboard",
            "--quiet",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The run started from the cached snapshot that huggingface_hub resolves.
    let info: Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("training_config.json")).unwrap())
            .unwrap();
    assert_eq!(
        info["base_model"].as_str().unwrap(),
        laid_out["snapshot"].as_str().unwrap()
    );
    let metrics: Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("metrics.json")).unwrap()).unwrap();

    // The model card, as the Hub's own library reads it.
    let card = python_check(&["card", run.join("README.md").to_str().unwrap()]);
    assert_eq!(card["library_name"], "burnish");
    assert_eq!(card["base_model"], "acme/tiny-bert");
    assert_eq!(card["pipeline_tag"], "text-classification");
    assert_eq!(card["model_name"], "run");
    assert_eq!(card["text_has_results"], true);
    let results = card["eval_results"].as_array().unwrap();
    let finals = metrics["final_validation"].as_object().unwrap();
    assert_eq!(results.len(), finals.len(), "{card}");
    for r in results {
        let name = r["metric_type"].as_str().unwrap();
        assert_eq!(r["task_type"], "text-classification");
        assert_eq!(r["dataset_name"], "valid.tsv");
        let want = finals[name].as_f64().unwrap();
        assert!(
            (r["metric_value"].as_f64().unwrap() - want).abs() < 1e-12,
            "{name}"
        );
    }

    // TensorBoard's reader sees every scalar of log.jsonl (as f32) at the same steps.
    let scalars = python_check(&["tensorboard", run.join("tensorboard").to_str().unwrap()]);
    let events = common::log_events(&run);
    let mut expected: Vec<(String, usize, f64)> = Vec::new();
    for event in &events {
        let (step, values) = burnish::train::tensorboard::scalars(event);
        expected.extend(values.into_iter().map(|(tag, v)| (tag, step, v)));
    }
    let evals = events
        .iter()
        .filter(|e| matches!(e, LogEvent::Eval { .. }))
        .count();
    assert!(evals >= 4, "{evals} evaluations");
    let mut read = 0;
    for (tag, step, value) in &expected {
        let points = scalars[tag.as_str()]
            .as_array()
            .unwrap_or_else(|| panic!("no {tag} in {scalars}"));
        let found = points
            .iter()
            .find(|p| p[0].as_u64() == Some(*step as u64))
            .unwrap_or_else(|| panic!("{tag} has no step {step}"));
        // TensorBoard keeps f32 (serde_json's float parsing may miss the last bit of a
        // double, so the comparison is of the f32 values).
        assert_eq!(
            found[1].as_f64().unwrap() as f32,
            *value as f32,
            "{tag} {step}"
        );
        read += 1;
    }
    let total: usize = scalars
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_array().unwrap().len())
        .sum();
    assert_eq!(read, total);
    assert!(scalars["eval/accuracy"].as_array().unwrap().len() == evals);
}

#[test]
fn an_id_not_in_the_cache_names_the_id_the_cache_and_what_is_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("hub");
    std::fs::create_dir_all(&cache).unwrap();
    let out = burnish_offline(
        &cache,
        &[
            "encode",
            "--model",
            "acme/absent-model@v2",
            "--input",
            "/dev/null",
            "--output",
            tmp.path().join("x.jsonl").to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("acme/absent-model@v2"), "{stderr}");
    assert!(
        stderr.contains("no models--acme--absent-model folder"),
        "{stderr}"
    );
    assert!(stderr.contains(cache.to_str().unwrap()), "{stderr}");
    assert!(stderr.contains("HF_HUB_OFFLINE"), "{stderr}");
    // A path that is not an id keeps the plain error.
    let out = burnish_offline(
        &cache,
        &[
            "encode",
            "--model",
            "./no/such/folder",
            "--input",
            "/dev/null",
            "--output",
            tmp.path().join("x.jsonl").to_str().unwrap(),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("./no/such/folder: no such folder"),
        "{stderr}"
    );
}

/// `scripts/check_ecosystem.py columnar TASK SRC OUT`: `datasets`' Parquet and Arrow copies of
/// `src` (and a plain pyarrow Parquet for classification) in `out`.
fn columnar_copies(task: &str, src: &Path, out: &Path) {
    python_check(&[
        "columnar",
        task,
        src.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
}

const ARROW: &str = "saved/data-00000-of-00001.arrow";

#[test]
fn parquet_and_arrow_give_the_examples_of_the_text_formats() {
    use burnish::data::{
        ColumnSpec, Dataset, NerDataset, NerReadOptions, RawLabel, ReadOptions, SquadDataset,
    };
    let tmp = tempfile::tempdir().unwrap();

    // Classification: SST-2's layout. The plain Parquet (integer labels, no metadata) reads as
    // the TSV; `datasets`' copies name the labels from their ClassLabel metadata.
    let tsv = common::reviews("test");
    columnar_copies("classification", &tsv, &tmp.path().join("cls"));
    let options = ReadOptions::new(ColumnSpec::new("sentence", Some("label")));
    let text = Dataset::read(&tsv, &options).unwrap();
    let plain = Dataset::read(tmp.path().join("cls/plain.parquet"), &options).unwrap();
    assert_eq!(text.records.len(), 1057);
    // A Parquet row's number is its "line" (the TSV's lines count the header).
    let rows = |d: &Dataset| -> Vec<(String, Option<RawLabel>)> {
        d.records
            .iter()
            .map(|r| (r.text.clone(), r.label.clone()))
            .collect()
    };
    assert!(
        rows(&plain) == rows(&text),
        "the plain Parquet's records differ from the TSV's"
    );
    assert_eq!(plain.records[4].line + 1, text.records[4].line);
    let named = |label: &Option<RawLabel>| match label {
        Some(RawLabel::Class(c)) if c == "0" => Some(RawLabel::Class("negative".into())),
        Some(RawLabel::Class(c)) if c == "1" => Some(RawLabel::Class("positive".into())),
        other => panic!("{other:?}"),
    };
    for copy in ["cls/datasets.parquet", &format!("cls/{ARROW}")] {
        let read = Dataset::read(tmp.path().join(copy), &options).unwrap();
        assert_eq!(read.records.len(), text.records.len(), "{copy}");
        for (a, b) in read.records.iter().zip(&text.records) {
            assert_eq!(&a.text, &b.text, "{copy}");
            assert_eq!(a.label, named(&b.label), "{copy}");
        }
    }

    // NER: tokens and `ner_tags` (a Sequence of ClassLabel) read as the CoNLL file.
    let conll = common::asset("wnut16/train.txt");
    columnar_copies("ner", &conll, &tmp.path().join("ner"));
    let ner_options = NerReadOptions::default();
    let text = NerDataset::read(&conll, &ner_options).unwrap();
    for copy in ["ner/datasets.parquet", &format!("ner/{ARROW}")] {
        let read = NerDataset::read(tmp.path().join(copy), &ner_options).unwrap();
        assert_eq!(read.sentences.len(), text.sentences.len(), "{copy}");
        for (a, b) in read.sentences.iter().zip(&text.sentences) {
            assert_eq!((&a.tokens, &a.tags), (&b.tokens, &b.tags), "{copy}");
        }
    }

    // QA: the Hub's `squad` columns (nested `answers`) read as the SQuAD JSON.
    let squad = common::squad_slice();
    columnar_copies("squad", &squad, &tmp.path().join("squad"));
    let text = SquadDataset::read(&squad).unwrap();
    for copy in ["squad/datasets.parquet", &format!("squad/{ARROW}")] {
        let read = SquadDataset::read(tmp.path().join(copy)).unwrap();
        assert_eq!(read.examples.len(), 350, "{copy}");
        assert_eq!(read.articles, text.articles, "{copy}");
        for (a, b) in read.examples.iter().zip(&text.examples) {
            assert_eq!(
                (
                    &a.id,
                    &a.title,
                    &a.context,
                    &a.question,
                    &a.answers,
                    a.article
                ),
                (
                    &b.id,
                    &b.title,
                    &b.context,
                    &b.question,
                    &b.answers,
                    b.article
                ),
                "{copy}"
            );
        }
    }

    // A missing column names the file and the columns there are; a damaged file names the
    // file and what failed.
    let wrong = ReadOptions::new(ColumnSpec::new("text", Some("label")));
    let err = Dataset::read(tmp.path().join("cls/plain.parquet"), &wrong)
        .unwrap_err()
        .to_string();
    assert!(err.contains("plain.parquet:1: no column `text`"), "{err}");
    assert!(err.contains("sentence"), "{err}");
    let bytes = std::fs::read(tmp.path().join("cls/plain.parquet")).unwrap();
    let damaged = tmp.path().join("damaged.parquet");
    std::fs::write(&damaged, &bytes[..bytes.len() / 2]).unwrap();
    let err = Dataset::read(&damaged, &options).unwrap_err().to_string();
    assert!(err.contains("damaged.parquet"), "{err}");
    assert!(err.contains("not a readable Parquet file"), "{err}");
}

#[test]
fn finetuning_from_parquet_matches_the_tsv_run() {
    let tmp = tempfile::tempdir().unwrap();
    let (train, valid) = review_split(tmp.path());
    for (name, tsv) in [("train", &train), ("valid", &valid)] {
        columnar_copies("classification", Path::new(tsv), &tmp.path().join(name));
    }
    let model = common::root().join("tests/fixtures/tiny-bert");
    let run = |train: &str, valid: &str, out: &str| -> Value {
        let out = tmp.path().join(out);
        let status = Command::new(env!("CARGO_BIN_EXE_burnish"))
            .args([
                "finetune",
                "--model",
                model.to_str().unwrap(),
                "--train",
                train,
            ])
            .args([
                "--valid",
                valid,
                "--text-column",
                "sentence",
                "--epochs",
                "1",
            ])
            .args([
                "--batch-size",
                "16",
                "--lr",
                "1e-3",
                "--max-length",
                "48",
                "--quiet",
            ])
            .args(["--threads", "1", "--out", out.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "{}",
            String::from_utf8_lossy(&status.stderr)
        );
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap()
    };
    let from_tsv = run(&train, &valid, "tsv");
    let parquet = |name: &str| tmp.path().join(name).join("plain.parquet");
    let from_parquet = run(
        parquet("train").to_str().unwrap(),
        parquet("valid").to_str().unwrap(),
        "parquet",
    );
    assert_eq!(
        from_parquet["final_validation"],
        from_tsv["final_validation"]
    );
    assert_eq!(from_parquet["train_examples"], from_tsv["train_examples"]);
    assert_eq!(from_parquet["steps"], from_tsv["steps"]);
}

/// `burnish finetune --task TASK` of the tiny `fixture` with `args`; its metrics.json.
fn finetune_tiny(fixture: &str, task: &str, args: &[&str], out: &Path) -> Value {
    let model = common::root().join("tests/fixtures").join(fixture);
    let run = Command::new(env!("CARGO_BIN_EXE_burnish"))
        .args([
            "finetune",
            "--task",
            task,
            "--model",
            model.to_str().unwrap(),
        ])
        .args([
            "--epochs",
            "1",
            "--batch-size",
            "16",
            "--lr",
            "1e-3",
            "--quiet",
        ])
        .args(["--threads", "1", "--out", out.to_str().unwrap()])
        .args(args)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap()
}

#[test]
fn ner_and_qa_fine_tune_from_parquet_as_from_their_text_files() {
    let tmp = tempfile::tempdir().unwrap();
    // NER: 300 WNUT-16 tweets to train on and 50 of them to validate, `token<TAB>tag` as the assets
    // hold them, and `datasets`' Parquet copies (ner_tags as ClassLabel names).
    // (Tweets are separated by a line holding only a TAB.)
    let text = std::fs::read_to_string(common::asset("wnut16/train.txt")).unwrap();
    let mut sentences: Vec<String> = vec![String::new()];
    for line in text.lines() {
        let last = sentences.last_mut().unwrap();
        if !line.trim().is_empty() {
            last.push_str(line);
            last.push('\n');
        } else if !last.is_empty() {
            sentences.push(String::new());
        }
    }
    // Validation from the training tweets: every tag of it is then a known one.
    for (name, range) in [("train", 0..300), ("valid", 250..300)] {
        let file = tmp.path().join(format!("{name}.txt"));
        std::fs::write(&file, sentences[range].join("\n")).unwrap();
        columnar_copies("ner", &file, &tmp.path().join(name));
    }
    let path = |p: &str| tmp.path().join(p).to_str().unwrap().to_string();
    let ner = ["--max-length", "48"];
    let from_text = finetune_tiny(
        "tiny-bert",
        "ner",
        &[
            &ner[..],
            &["--train", &path("train.txt"), "--valid", &path("valid.txt")],
        ]
        .concat(),
        &tmp.path().join("ner-text"),
    );
    let from_parquet = finetune_tiny(
        "tiny-bert",
        "ner",
        &[
            &ner[..],
            &[
                "--train",
                &path("train/datasets.parquet"),
                "--valid",
                &path("valid/datasets.parquet"),
            ],
        ]
        .concat(),
        &tmp.path().join("ner-parquet"),
    );
    assert_eq!(from_parquet["train_sentences"], 300);
    assert_eq!(
        from_parquet["final_validation"],
        from_text["final_validation"]
    );

    // QA: the SQuAD slice's first two articles to train on, the third to validate.
    let squad = common::squad_slice();
    columnar_copies("squad", &squad, &tmp.path().join("squad"));
    let qa = |train: &str, out: &str| -> Value {
        finetune_tiny(
            "tiny-bert",
            "qa",
            &[
                "--train",
                train,
                "--train-articles",
                "0:2",
                "--valid-articles",
                "2:3",
                "--max-length",
                "64",
                "--doc-stride",
                "24",
            ],
            &tmp.path().join(out),
        )
    };
    let from_json = qa(squad.to_str().unwrap(), "qa-json");
    let from_parquet = qa(&path("squad/datasets.parquet"), "qa-parquet");
    assert_eq!(
        from_parquet["train_questions"],
        from_json["train_questions"]
    );
    assert_eq!(
        from_parquet["final_validation"],
        from_json["final_validation"]
    );
}
