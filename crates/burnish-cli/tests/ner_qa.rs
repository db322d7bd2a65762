//! `burnish finetune|evaluate|predict --task ner|qa` end to end on the tiny fixture model and
//! real data: WNUT-2016 tweets (the assets folder) written in CoNLL-2003's layout, and SQuAD
//! v1.1 questions of the committed dev slice (`tests/fixtures/squad`): the run directory has its
//! files, `evaluate` reproduces the run's validation scores, `predict` returns entities and
//! answers whose character offsets point at their text, and bad input fails with the file and
//! line.

mod common;

use std::process::{Command, Output};

use common::{root, squad_slice, wnut16_as_conll2003};

fn burnish(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_burnish"))
        .args(args)
        .output()
        .expect("run burnish")
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

fn close(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    (a.as_f64().unwrap() - b.as_f64().unwrap()).abs() < 1e-9
}

#[test]
fn ner_finetune_evaluate_predict() {
    let tmp = tempfile::tempdir().unwrap();
    let train = tmp.path().join("train.txt");
    let valid = tmp.path().join("valid.txt");
    // 96 tweets to train on, the next 40 to validate on (their tags all occur in the first 96).
    std::fs::write(&train, wnut16_as_conll2003(0, 96)).unwrap();
    std::fs::write(&valid, wnut16_as_conll2003(96, 40)).unwrap();
    let run = tmp.path().join("run");
    let model = root().join("tests/fixtures/tiny-bert");
    let out = burnish(&[
        "finetune",
        "--task",
        "ner",
        "--model",
        model.to_str().unwrap(),
        "--train",
        train.to_str().unwrap(),
        "--valid",
        valid.to_str().unwrap(),
        "--out",
        run.to_str().unwrap(),
        "--epochs",
        "2",
        "--batch-size",
        "16",
        "--lr",
        "1e-3",
        // Short windows: many sentences are split, and still labelled in full.
        "--max-length",
        "24",
        "--quiet",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("several windows"), "{stderr}");
    for file in [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
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
    assert_eq!(config["architectures"][0], "BertForTokenClassification");
    assert_eq!(config["id2label"]["0"], "O");
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("metrics.json")).unwrap()).unwrap();
    let fv = &metrics["final_validation"];
    for key in ["f1", "precision", "recall", "accuracy", "loss"] {
        assert!(fv[key].is_number(), "{key} missing: {fv}");
    }
    assert!(metrics["report"]["per_type"].is_object());

    // evaluate on the validation file reproduces the run's final scores.
    let eval = json(&burnish(&[
        "evaluate",
        "--model",
        run.to_str().unwrap(),
        "--data",
        valid.to_str().unwrap(),
    ]));
    assert_eq!(eval["sentences"], 40);
    for key in ["f1", "precision", "recall", "accuracy", "loss"] {
        assert!(
            close(&eval["metrics"][key], &fv[key]),
            "{key}: {eval} vs {fv}"
        );
    }

    // predict on raw text: one object per line; every entity's offsets point at its text.
    let input = tmp.path().join("input.txt");
    std::fs::write(
        &input,
        "EU rejects German call to boycott British lamb.\nPeter Blackburn in Brüssel, Belgien.\n",
    )
    .unwrap();
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
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    for line in &lines {
        let text: Vec<char> = line["text"].as_str().unwrap().chars().collect();
        let words = line["words"].as_array().unwrap();
        assert_eq!(words.len(), line["tags"].as_array().unwrap().len());
        for entity in line["entities"].as_array().unwrap() {
            let (s, e) = (
                entity["start"].as_u64().unwrap() as usize,
                entity["end"].as_u64().unwrap() as usize,
            );
            let piece: String = text[s..e].iter().collect();
            assert_eq!(piece, entity["text"].as_str().unwrap());
        }
    }
    // "lamb." is two words: punctuation is split off as in CoNLL.
    let first_words: Vec<&str> = lines[0]["words"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert_eq!(first_words.last(), Some(&"."));
    assert_eq!(first_words.len(), 9);

    // A tag the model does not know is an error naming the file and line.
    let bad = tmp.path().join("bad.txt");
    std::fs::write(&bad, "EU B-XYZ\nrejects O\n\n").unwrap();
    let out = burnish(&[
        "evaluate",
        "--model",
        run.to_str().unwrap(),
        "--data",
        bad.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.txt:1") && stderr.contains("B-XYZ"),
        "{stderr}"
    );
}

#[test]
fn qa_finetune_evaluate_predict() {
    let squad = squad_slice();
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let model = root().join("tests/fixtures/tiny-bert");
    let out = burnish(&[
        "finetune",
        "--task",
        "qa",
        "--model",
        model.to_str().unwrap(),
        "--train",
        squad.to_str().unwrap(),
        "--train-articles",
        "0:1",
        "--valid-articles",
        "3:4",
        "--max-train-rows",
        "48",
        "--out",
        run.to_str().unwrap(),
        "--epochs",
        "1",
        "--batch-size",
        "16",
        "--lr",
        "1e-3",
        // Short windows: long contexts are read in several overlapping windows.
        "--max-length",
        "64",
        "--doc-stride",
        "16",
        "--quiet",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("metrics.json")).unwrap()).unwrap();
    let fv = &metrics["final_validation"];
    assert!(
        fv["exact_match"].is_number() && fv["f1"].is_number(),
        "{fv}"
    );
    assert!(
        metrics["valid_windows"].as_u64().unwrap() > metrics["valid_questions"].as_u64().unwrap(),
        "{metrics}"
    );
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["architectures"][0], "BertForQuestionAnswering");
    // The validation predictions, keyed by question id, as the official script reads them.
    let predictions: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("predictions.json")).unwrap())
            .unwrap();
    assert_eq!(
        predictions.as_object().unwrap().len() as u64,
        metrics["valid_questions"].as_u64().unwrap()
    );

    // predict: answers are pieces of their context at the given character offsets.
    let input = tmp.path().join("questions.jsonl");
    let long_context = format!(
        "{} The capital of France is Paris.",
        "Lorem ipsum dolor sit amet. ".repeat(40)
    );
    let rows = [
        serde_json::json!({"id": "a", "question": "What is the capital of France?", "context": long_context}),
        serde_json::json!({"question": "Who wrote it?", "context": "It was written by Jane Austen in 1813."}),
    ];
    std::fs::write(
        &input,
        rows.iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .unwrap();
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
    let answers: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(answers.len(), 2);
    assert_eq!(answers[0]["id"], "a");
    assert_eq!(answers[1]["id"], "2");
    for (answer, row) in answers.iter().zip(&rows) {
        let context: Vec<char> = row["context"].as_str().unwrap().chars().collect();
        let (s, e) = (
            answer["start"].as_u64().unwrap() as usize,
            answer["end"].as_u64().unwrap() as usize,
        );
        let text: String = context[s..e].iter().collect();
        assert_eq!(text, answer["answer"].as_str().unwrap());
        assert!(!text.is_empty());
    }

    // evaluate reproduces the run's validation scores on the same questions.
    let valid = tmp.path().join("valid.json");
    let full: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&squad).unwrap()).unwrap();
    let one = serde_json::json!({"version": "1.1", "data": [full["data"][3]]});
    std::fs::write(&valid, one.to_string()).unwrap();
    let eval = json(&burnish(&[
        "evaluate",
        "--model",
        run.to_str().unwrap(),
        "--data",
        valid.to_str().unwrap(),
    ]));
    for key in ["exact_match", "f1", "loss"] {
        assert!(
            close(&eval["metrics"][key], &fv[key]),
            "{key}: {eval} vs {fv}"
        );
    }

    // A question line without a context names the file and line.
    let bad = tmp.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"question\": \"Why?\"}\n").unwrap();
    let out = burnish(&[
        "predict",
        "--model",
        run.to_str().unwrap(),
        "--input",
        bad.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.jsonl:1") && stderr.contains("context"),
        "{stderr}"
    );
}

/// RoBERTa (issue 10) through the same `--task ner` and `--task qa` commands: the words of a
/// CoNLL-format sentence are encoded with a space before each (transformers' `add_prefix_space=True`
/// for pre-split words; the ids are checked in tests/families.rs), and the run folders are
/// `RobertaForTokenClassification` / `RobertaForQuestionAnswering` with their metrics.
#[test]
fn roberta_ner_and_qa_finetune_through_the_cli() {
    ner_and_qa_finetune_through_the_cli("tiny-roberta", "Roberta", "roberta");
}

/// XLM-RoBERTa (issue 23): the same through its SentencePiece Unigram tokenizer (words of a
/// CoNLL sentence each get their `▁`), saved as `XLMRobertaFor*` folders.
#[test]
fn xlm_roberta_ner_and_qa_finetune_through_the_cli() {
    ner_and_qa_finetune_through_the_cli("tiny-xlm-roberta", "XLMRoberta", "xlm-roberta");
}

/// `--task ner` and `--task qa` from the fixture `name`: run folders of `{prefix}For*` classes
/// with `model_type` and their metrics.
fn ner_and_qa_finetune_through_the_cli(name: &str, prefix: &str, model_type: &str) {
    let squad = squad_slice();
    let tmp = tempfile::tempdir().unwrap();
    let model = root().join("tests/fixtures").join(name);
    let train = tmp.path().join("train.txt");
    let valid = tmp.path().join("valid.txt");
    std::fs::write(&train, wnut16_as_conll2003(0, 48)).unwrap();
    std::fs::write(&valid, wnut16_as_conll2003(48, 16)).unwrap();
    let ner = tmp.path().join("ner");
    let out = burnish(&[
        "finetune",
        "--task",
        "ner",
        "--model",
        model.to_str().unwrap(),
        "--train",
        train.to_str().unwrap(),
        "--valid",
        valid.to_str().unwrap(),
        "--out",
        ner.to_str().unwrap(),
        "--epochs",
        "1",
        "--batch-size",
        "16",
        "--lr",
        "1e-3",
        "--max-length",
        "32",
        "--quiet",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let qa = tmp.path().join("qa");
    let out = burnish(&[
        "finetune",
        "--task",
        "qa",
        "--model",
        model.to_str().unwrap(),
        "--train",
        squad.to_str().unwrap(),
        "--train-articles",
        "0:1",
        "--valid-articles",
        "3:4",
        "--max-train-rows",
        "32",
        "--out",
        qa.to_str().unwrap(),
        "--epochs",
        "1",
        "--batch-size",
        "16",
        "--lr",
        "1e-3",
        "--max-length",
        "64",
        "--doc-stride",
        "16",
        "--quiet",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (run, head, metric) in [
        (&ner, "TokenClassification", "f1"),
        (&qa, "QuestionAnswering", "exact_match"),
    ] {
        let config: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(run.join("config.json")).unwrap())
                .unwrap();
        assert_eq!(config["architectures"][0], format!("{prefix}For{head}"));
        assert_eq!(config["model_type"], model_type);
        let metrics: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(run.join("metrics.json")).unwrap())
                .unwrap();
        assert!(metrics["final_validation"][metric].is_number(), "{metrics}");
    }
}
