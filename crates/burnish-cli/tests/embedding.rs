//! Embedding models (issue 27): `burnish finetune --task embedding` on real pairs (SQuAD v1.1
//! questions and their paragraphs, from the committed dev slice) writes a folder that
//! `sentence-transformers` loads with the embeddings burnish computes, and burnish reads
//! `sentence-transformers` folders (all-MiniLM-L6-v2 as shipped) the same way. The Python side
//! is `scripts/check_sentence_transformers.py` (pinned in scripts/requirements-reference.txt).

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

/// The slice's (question, paragraph) pairs of articles `articles` as JSONL `anchor`,
/// `positive`; every paragraph of the slice as the corpus `text` column.
struct Split {
    train: PathBuf,
    valid: PathBuf,
    corpus: PathBuf,
    questions: PathBuf,
}

fn squad_split(dir: &Path) -> Split {
    let squad: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(squad_slice()).unwrap()).unwrap();
    let (mut train, mut valid, mut corpus, mut questions) =
        (String::new(), String::new(), String::new(), String::new());
    for (i, article) in squad["data"].as_array().unwrap().iter().enumerate() {
        for paragraph in article["paragraphs"].as_array().unwrap() {
            let context = paragraph["context"].as_str().unwrap().trim();
            corpus += &format!("{}\n", serde_json::json!({ "text": context }));
            for qa in paragraph["qas"].as_array().unwrap() {
                let question = qa["question"].as_str().unwrap().trim();
                let row = serde_json::json!({ "anchor": question, "positive": context });
                if i < 3 {
                    train += &format!("{row}\n");
                } else {
                    valid += &format!("{row}\n");
                    if questions.lines().count() < 12 {
                        questions += &format!("{question}\n");
                    }
                }
            }
        }
    }
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    Split {
        train: write("train.jsonl", &train),
        valid: write("valid.jsonl", &valid),
        corpus: write("corpus.jsonl", &corpus),
        questions: write("questions.txt", &questions),
    }
}

/// `burnish encode` of `texts` with `model`, checked in `sentence-transformers`: its JSON.
fn check_in_sentence_transformers(model: &Path, texts: &Path, dir: &Path) -> serde_json::Value {
    let encoded = dir.join("encoded.jsonl");
    ok(
        &burnish(&[
            "encode",
            "--model",
            model.to_str().unwrap(),
            "--input",
            texts.to_str().unwrap(),
            "--output",
            encoded.to_str().unwrap(),
        ]),
        "encode",
    );
    let out = Command::new(python())
        .arg(root().join("scripts/check_sentence_transformers.py"))
        .args([model, texts, &encoded])
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "check_sentence_transformers.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn metrics(stdout: &str) -> serde_json::Value {
    serde_json::from_str::<serde_json::Value>(stdout).unwrap()["metrics"].clone()
}

#[test]
fn an_embedding_run_is_a_sentence_transformers_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let split = squad_split(tmp.path());
    let run = tmp.path().join("run");
    let tiny = root().join("tests/fixtures/tiny-bert");
    let stderr = burnish(&[
        "finetune",
        "--task",
        "embedding",
        "--model",
        tiny.to_str().unwrap(),
        "--train",
        split.train.to_str().unwrap(),
        "--valid",
        split.valid.to_str().unwrap(),
        "--corpus",
        split.corpus.to_str().unwrap(),
        "--pooling",
        "cls",
        "--epochs",
        "1",
        "--batch-size",
        "16",
        "--max-length",
        "64",
        "--out",
        run.to_str().unwrap(),
        "--quiet",
    ]);
    ok(&stderr, "finetune --task embedding");
    for file in [
        "modules.json",
        "1_Pooling/config.json",
        "sentence_bert_config.json",
        "config.json",
        "model.safetensors",
        "training_config.json",
    ] {
        assert!(
            run.join(file).is_file(),
            "{file} missing from the run folder"
        );
    }
    let run_metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("metrics.json")).unwrap()).unwrap();
    let ndcg = run_metrics["final_validation"]["ndcg@10"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&ndcg), "ndcg@10 {ndcg}");

    // sentence-transformers loads the folder (CLS pooling, normalised, 64 tokens) and embeds
    // as burnish does.
    let check = check_in_sentence_transformers(&run, &split.questions, tmp.path());
    assert_eq!(
        check["modules"],
        serde_json::json!(["Transformer", "Pooling", "Normalize"])
    );
    assert_eq!(check["max_seq_length"], 64);
    assert!(
        check["max_cosine_distance"].as_f64().unwrap() < 1e-5,
        "{check}"
    );

    // `evaluate` of the run gives the metrics of its final validation (same pairs, corpus).
    let out = ok(
        &burnish(&[
            "evaluate",
            "--model",
            run.to_str().unwrap(),
            "--data",
            split.valid.to_str().unwrap(),
            "--corpus",
            split.corpus.to_str().unwrap(),
        ]),
        "evaluate",
    );
    let again = metrics(&out)["ndcg@10"].as_f64().unwrap();
    assert!((again - ndcg).abs() < 1e-4, "{again} vs {ndcg}");
}

#[test]
fn minilm_as_shipped_embeds_and_retrieves_as_sentence_transformers_does() {
    let tmp = tempfile::tempdir().unwrap();
    let split = squad_split(tmp.path());
    let minilm = minilm();
    let check = check_in_sentence_transformers(&minilm, &split.questions, tmp.path());
    assert_eq!(check["max_seq_length"], 256);
    assert!(
        check["max_cosine_distance"].as_f64().unwrap() < 1e-5,
        "{check}"
    );
    // A folder no burnish run wrote evaluates as an embedding model: the held-out
    // article's questions against all 37 paragraphs of the slice.
    let out = ok(
        &burnish(&[
            "evaluate",
            "--model",
            minilm.to_str().unwrap(),
            "--data",
            split.valid.to_str().unwrap(),
            "--corpus",
            split.corpus.to_str().unwrap(),
        ]),
        "evaluate",
    );
    let m = metrics(&out);
    let (ndcg, mrr, r1, r10) = (
        m["ndcg@10"].as_f64().unwrap(),
        m["mrr@10"].as_f64().unwrap(),
        m["recall@1"].as_f64().unwrap(),
        m["recall@10"].as_f64().unwrap(),
    );
    // A trained retriever on its own domain: far above chance (1/37 for recall@1).
    assert!(ndcg > 0.6 && r1 > 0.4 && r10 > 0.8, "{m}");
    assert!(r1 <= mrr + 1e-9 && r1 <= r10, "{m}");
}

/// The slice's paragraphs, each with its article's index.
fn paragraph_articles() -> std::collections::HashMap<String, usize> {
    let squad: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(squad_slice()).unwrap()).unwrap();
    let mut articles = std::collections::HashMap::new();
    for (i, article) in squad["data"].as_array().unwrap().iter().enumerate() {
        for paragraph in article["paragraphs"].as_array().unwrap() {
            articles.insert(paragraph["context"].as_str().unwrap().trim().to_owned(), i);
        }
    }
    articles
}

#[test]
fn mined_hard_negatives_are_near_misses_and_train_with_matryoshka() {
    let tmp = tempfile::tempdir().unwrap();
    let split = squad_split(tmp.path());
    let minilm = minilm();
    let triplets = tmp.path().join("triplets.jsonl");
    ok(
        &burnish(&[
            "mine",
            "--model",
            minilm.to_str().unwrap(),
            "--queries",
            split.train.to_str().unwrap(),
            "--corpus",
            split.corpus.to_str().unwrap(),
            "--output",
            triplets.to_str().unwrap(),
        ]),
        "mine",
    );
    let articles = paragraph_articles();
    let rows: Vec<serde_json::Value> = std::fs::read_to_string(&triplets)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let pairs = std::fs::read_to_string(&split.train)
        .unwrap()
        .lines()
        .count();
    assert_eq!(rows.len(), pairs, "one negative per pair");
    let mut same_article = 0;
    for row in &rows {
        let (positive, negative) = (
            row["positive"].as_str().unwrap(),
            row["negative"].as_str().unwrap(),
        );
        assert_ne!(positive, negative);
        same_article += usize::from(articles[positive] == articles[negative]);
    }
    // The best-ranked wrong paragraph is about the same subject: a near miss, not a random
    // one (a random paragraph of the slice shares the article about a quarter of the time).
    assert!(
        same_article * 10 > rows.len() * 8,
        "{same_article} of {} negatives from the positive's article",
        rows.len()
    );

    // The triplets train (hard negatives beside in-batch ones), with Matryoshka losses.
    let run = tmp.path().join("run");
    let tiny = root().join("tests/fixtures/tiny-bert");
    ok(
        &burnish(&[
            "finetune",
            "--task",
            "embedding",
            "--model",
            tiny.to_str().unwrap(),
            "--train",
            triplets.to_str().unwrap(),
            "--valid",
            split.valid.to_str().unwrap(),
            "--matryoshka-dims",
            "16,8,4",
            "--epochs",
            "1",
            "--batch-size",
            "16",
            "--max-length",
            "64",
            "--out",
            run.to_str().unwrap(),
            "--quiet",
        ]),
        "finetune on triplets",
    );
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("training_config.json")).unwrap())
            .unwrap();
    assert_eq!(
        config["train"]["embedding"]["matryoshka_dims"],
        serde_json::json!([16, 8, 4])
    );
}

#[test]
fn scored_pairs_train_with_cosent_and_report_spearman() {
    let tmp = tempfile::tempdir().unwrap();
    let articles = paragraph_articles();
    let mut paragraphs: Vec<(&String, &usize)> = articles.iter().collect();
    paragraphs.sort();
    // Each question with its paragraph (score 1) and with a paragraph of another article
    // (score 0).
    let squad: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(squad_slice()).unwrap()).unwrap();
    let mut rows = String::from("sentence1\tsentence2\tscore\n");
    for (i, article) in squad["data"].as_array().unwrap().iter().enumerate() {
        for paragraph in article["paragraphs"].as_array().unwrap() {
            let context = paragraph["context"].as_str().unwrap().trim();
            for (q, qa) in paragraph["qas"].as_array().unwrap().iter().enumerate() {
                let question = qa["question"].as_str().unwrap().trim();
                let other = paragraphs
                    .iter()
                    .filter(|(_, a)| **a != i)
                    .nth(q % 20)
                    .unwrap()
                    .0;
                rows += &format!("{question}\t{context}\t1\n{question}\t{other}\t0\n");
            }
        }
    }
    let data = tmp.path().join("scored.tsv");
    std::fs::write(&data, rows).unwrap();
    let run = tmp.path().join("run");
    let minilm = minilm();
    ok(
        &burnish(&[
            "finetune",
            "--task",
            "embedding",
            "--model",
            minilm.to_str().unwrap(),
            "--train",
            data.to_str().unwrap(),
            "--anchor-column",
            "sentence1",
            "--positive-column",
            "sentence2",
            "--score-column",
            "score",
            "--max-train-rows",
            "200",
            "--epochs",
            "1",
            "--batch-size",
            "16",
            "--max-length",
            "128",
            "--out",
            run.to_str().unwrap(),
            "--quiet",
        ]),
        "finetune --score-column",
    );
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("training_config.json")).unwrap())
            .unwrap();
    assert_eq!(config["train"]["embedding"]["loss"], "cosent");
    assert_eq!(config["train"]["metric"], "spearman");
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("metrics.json")).unwrap()).unwrap();
    // MiniLM tells a question's own paragraph from another article's: the cosine ranks
    // the pairs much as the 0/1 scores do.
    let rho = metrics["final_validation"]["spearman"].as_f64().unwrap();
    assert!(rho > 0.6, "spearman {rho}");
}
