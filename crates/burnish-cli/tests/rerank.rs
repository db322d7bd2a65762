//! Rerankers (issue 27): `burnish mine` writes labelled training pairs and ranked candidates
//! from real SQuAD v1.1 questions (the committed dev slice) with all-MiniLM-L6-v2;
//! `burnish finetune --task rerank` trains a cross-encoder on them; `evaluate` reranks the
//! candidates (beside the bi-encoder's own order) and `predict` sorts them; and
//! `sentence-transformers`' `CrossEncoder` loads the run with the scores burnish gives
//! (`scripts/check_cross_encoder.py`, pinned in scripts/requirements-reference.txt).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{minilm, python, root, squad_slice};

fn burnish(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_burnish"))
        .args(args)
        .output()
        .unwrap()
}

fn ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json_lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The slice's (question, paragraph) pairs, `anchor` / `positive`: articles 0-2 for training,
/// article 3 held out; every paragraph as the corpus.
fn squad_pairs(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let squad: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(squad_slice()).unwrap()).unwrap();
    let (mut train, mut held_out, mut corpus) = (String::new(), String::new(), String::new());
    for (i, article) in squad["data"].as_array().unwrap().iter().enumerate() {
        for paragraph in article["paragraphs"].as_array().unwrap() {
            let context = paragraph["context"].as_str().unwrap().trim();
            corpus += &format!("{}\n", serde_json::json!({ "text": context }));
            for qa in paragraph["qas"].as_array().unwrap() {
                let question = qa["question"].as_str().unwrap().trim();
                let row = serde_json::json!({ "anchor": question, "positive": context });
                let into = if i < 3 { &mut train } else { &mut held_out };
                *into += &format!("{row}\n");
            }
        }
    }
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    (
        write("train.jsonl", &train),
        write("held_out.jsonl", &held_out),
        write("corpus.jsonl", &corpus),
    )
}

fn mine(queries: &Path, corpus: &Path, out: &Path, format: &[&str]) {
    let mut args = vec![
        "mine",
        "--model",
        minilm().to_str().unwrap().to_owned().leak(),
        "--queries",
        queries.to_str().unwrap(),
        "--corpus",
        corpus.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(format);
    ok(&burnish(&args), "mine");
}

fn metrics(stdout: &str) -> serde_json::Value {
    serde_json::from_str::<serde_json::Value>(stdout).unwrap()["metrics"].clone()
}

#[test]
fn a_reranker_trains_on_mined_pairs_and_loads_in_sentence_transformers() {
    let tmp = tempfile::tempdir().unwrap();
    let (train, held_out, corpus) = squad_pairs(tmp.path());

    // Labelled pairs: per question its paragraph (1), then its two best-ranked wrong ones (0).
    let labeled = tmp.path().join("labeled.jsonl");
    mine(
        &train,
        &corpus,
        &labeled,
        &["--format", "labeled", "--negatives", "2"],
    );
    let rows = json_lines(&labeled);
    let questions = json_lines(&train);
    assert_eq!(rows.len(), 3 * questions.len());
    for (group, question) in rows.chunks(3).zip(&questions) {
        assert_eq!(group[0]["passage"], question["positive"]);
        let labels: Vec<u64> = group.iter().map(|r| r["label"].as_u64().unwrap()).collect();
        assert_eq!(labels, [1, 0, 0]);
        assert!(group.iter().all(|r| r["query"] == question["anchor"]));
        assert!(
            group[1..]
                .iter()
                .all(|r| r["passage"] != question["positive"])
        );
    }

    // Candidates: each held-out question's top 10 in the bi-encoder's order. Their given
    // order scores what the bi-encoder's own retrieval evaluation does.
    let candidates = tmp.path().join("candidates.jsonl");
    mine(
        &held_out,
        &corpus,
        &candidates,
        &["--format", "ranked", "--top", "10"],
    );
    let held_out_questions = json_lines(&held_out).len();
    assert_eq!(json_lines(&candidates).len(), 10 * held_out_questions);
    let minilm = minilm();
    let bi_encoder = metrics(&ok(
        &burnish(&[
            "evaluate",
            "--model",
            minilm.to_str().unwrap(),
            "--data",
            held_out.to_str().unwrap(),
            "--corpus",
            corpus.to_str().unwrap(),
        ]),
        "evaluate the bi-encoder",
    ));

    let run = tmp.path().join("reranker");
    ok(
        &burnish(&[
            "finetune",
            "--task",
            "rerank",
            "--model",
            minilm.to_str().unwrap(),
            "--train",
            labeled.to_str().unwrap(),
            "--valid",
            candidates.to_str().unwrap(),
            "--max-train-rows",
            "48",
            "--epochs",
            "1",
            "--batch-size",
            "4",
            "--max-length",
            "128",
            "--out",
            run.to_str().unwrap(),
            "--quiet",
        ]),
        "finetune --task rerank",
    );
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("config.json")).unwrap()).unwrap();
    assert_eq!(
        config["architectures"],
        serde_json::json!(["BertForSequenceClassification"])
    );
    assert_eq!(
        config["sentence_transformers"]["activation_fn"],
        "torch.nn.modules.activation.Sigmoid"
    );
    assert!(config.get("problem_type").is_none());

    let eval = metrics(&ok(
        &burnish(&[
            "evaluate",
            "--model",
            run.to_str().unwrap(),
            "--data",
            candidates.to_str().unwrap(),
        ]),
        "evaluate the reranker",
    ));
    for key in ["ndcg@10", "mrr@10"] {
        let (given, retrieval) = (
            eval[format!("input_{key}")].as_f64().unwrap(),
            bi_encoder[key].as_f64().unwrap(),
        );
        assert!(
            (given - retrieval).abs() < 1e-9,
            "{key}: candidates' order {given}, bi-encoder {retrieval}"
        );
        let reranked = eval[key].as_f64().unwrap();
        assert!(reranked > 0.0 && reranked <= 1.0, "{key} {reranked}");
    }
    assert!(eval["loss"].as_f64().unwrap().is_finite());

    // Prediction sorts each question's candidates; CrossEncoder gives the same scores.
    let predictions = tmp.path().join("predictions.jsonl");
    ok(
        &burnish(&[
            "predict",
            "--model",
            run.to_str().unwrap(),
            "--input",
            candidates.to_str().unwrap(),
            "--output",
            predictions.to_str().unwrap(),
        ]),
        "predict",
    );
    let ranked = json_lines(&predictions);
    assert_eq!(ranked.len(), held_out_questions);
    for row in &ranked {
        let scores: Vec<f64> = (row["results"].as_array().unwrap().iter())
            .map(|r| r["score"].as_f64().unwrap())
            .collect();
        assert_eq!(scores.len(), 10);
        assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
        assert!(scores.iter().all(|&s| s > 0.0 && s < 1.0));
    }
    let out = Command::new(python())
        .arg(root().join("scripts/check_cross_encoder.py"))
        .args([&run, &predictions])
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "check_cross_encoder.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let check: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(check["pairs"], 10 * held_out_questions);
    assert_eq!(check["activation"], "Sigmoid");
    assert!(check["max_abs_diff"].as_f64().unwrap() < 1e-4, "{check}");
    assert_eq!(check["same_order"], true, "{check}");
}

#[test]
fn listnet_trains_over_groups_and_losses_belong_to_their_task() {
    let tmp = tempfile::tempdir().unwrap();
    // Real pairs, each query with one relevant and two irrelevant passages of the slice.
    let squad: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(squad_slice()).unwrap()).unwrap();
    let paragraphs: Vec<&serde_json::Value> = squad["data"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| a["paragraphs"].as_array().unwrap())
        .collect();
    let mut rows = String::new();
    for (p, paragraph) in paragraphs.iter().enumerate().take(12) {
        let question = paragraph["qas"][0]["question"].as_str().unwrap();
        for (offset, label) in [(0, 1), (5, 0), (9, 0)] {
            let passage = paragraphs[(p + offset) % paragraphs.len()]["context"]
                .as_str()
                .unwrap();
            rows += &format!(
                "{}\n",
                serde_json::json!({"query": question, "passage": passage, "label": label})
            );
        }
    }
    let data = tmp.path().join("groups.jsonl");
    std::fs::write(&data, rows).unwrap();
    let tiny = root().join("tests/fixtures/tiny-bert");
    let run = tmp.path().join("listnet");
    let finetune = |loss: &str, out: &Path| {
        burnish(&[
            "finetune",
            "--task",
            "rerank",
            "--loss",
            loss,
            "--model",
            tiny.to_str().unwrap(),
            "--train",
            data.to_str().unwrap(),
            "--valid",
            data.to_str().unwrap(),
            "--epochs",
            "1",
            "--batch-size",
            "4",
            "--max-length",
            "64",
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ])
    };
    ok(&finetune("listnet", &run), "finetune --loss listnet");
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("training_config.json")).unwrap())
            .unwrap();
    assert_eq!(config["train"]["rerank"]["loss"], "listnet");
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(metrics["train_queries"], 12);
    assert_eq!(metrics["train_pairs"], 36);

    let refused = finetune("mnrl", &tmp.path().join("refused"));
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("--loss mnrl: not a loss of --task rerank"),
        "{stderr}"
    );
}
