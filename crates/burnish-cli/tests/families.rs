//! `burnish finetune --task classification` on RoBERTa, DistilBERT and GPT-2 checkpoints
//! (issue 10): the same command as for BERT trains, writes the family's Hugging Face folder, and
//! `transformers` loads that folder with the logits burnish computes from it; `burnish pretrain
//! --objective clm` pre-trains a GPT-2 from scratch (`--family gpt2`) and continues one.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use burnish::HfModel;
use burnish::burn::tensor::Device;
use burnish::encoder::model::BertInput;
use burnish::heads::{
    BertForSequenceClassification, Gpt2ForSequenceClassification, Gpt2LMHeadModel,
};
use burnish::tokenizer::{EncodeOptions, Tokenizer};
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

const TEXTS: [&str; 6] = [
    "the quick brown fox jumped",
    "where did the cat sit?",
    "hello world, run 42 km.",
    "no, it was good",
    "the lazy dog sleeps on the mat",
    "what a great movie!",
];

/// A three-class TSV (the fixtures' heads have three outputs) of `rows` rows.
fn write_tsv(path: &Path, rows: usize, offset: usize) {
    let mut text = String::from("sentence\tlabel\n");
    for i in 0..rows {
        let k = (i + offset) % TEXTS.len();
        text.push_str(&format!("{} {i}\t{}\n", TEXTS[k], k % 3));
    }
    std::fs::write(path, text).unwrap();
}

/// burnish's logits for `texts` from the run folder, as a reference JSON for check_hf_load.py.
fn burnish_reference(run: &Path, texts: &[&str]) -> serde_json::Value {
    let device = Device::flex();
    let gpt2 = std::fs::read_to_string(run.join("config.json"))
        .unwrap()
        .contains("\"gpt2\"");
    let forward: Box<dyn Fn(BertInput) -> Vec<f32>> = if gpt2 {
        let (model, _, report) =
            Gpt2ForSequenceClassification::from_pretrained(run, None, None, &device).unwrap();
        assert!(report.newly_initialized.is_empty(), "{report:?}");
        Box::new(move |input| model.forward(input).into_data().try_into_vec().unwrap())
    } else {
        let (model, _, report) =
            BertForSequenceClassification::from_pretrained(run, None, None, &device).unwrap();
        assert!(report.newly_initialized.is_empty(), "{report:?}");
        Box::new(move |input| model.forward(input).into_data().try_into_vec().unwrap())
    };
    let tokenizer = Tokenizer::from_dir(run).unwrap();
    let cases: Vec<serde_json::Value> = texts
        .iter()
        .map(|text| {
            let enc = tokenizer.encode(text, &EncodeOptions::default()).unwrap();
            let input = BertInput::from_rows(
                std::slice::from_ref(&enc.ids),
                std::slice::from_ref(&enc.type_ids),
                std::slice::from_ref(&enc.attention_mask),
                &device,
            );
            let logits = forward(input);
            serde_json::json!({
                "text": text, "text_pair": null, "input_ids": enc.ids,
                "token_type_ids": enc.type_ids, "logits": logits,
            })
        })
        .collect();
    serde_json::json!({ "cases": cases })
}

fn finetune_and_reload_in_transformers(fixture: &str, class: &str, model_type: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let (train, valid, run) = (
        tmp.path().join("train.tsv"),
        tmp.path().join("valid.tsv"),
        tmp.path().join("run"),
    );
    write_tsv(&train, 24, 0);
    write_tsv(&valid, 6, 1);
    let model = root().join("tests/fixtures").join(fixture);
    let out = burnish(&[
        "finetune",
        "--task",
        "classification",
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
        "8",
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
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["architectures"][0], class);
    assert_eq!(config["model_type"], model_type);
    let log = common::log_events(&run);
    assert!(
        log.iter().any(|e| matches!(e, LogEvent::Eval { .. })),
        "{log:?}"
    );

    // The fine-tuned weights differ from the fixture's: training happened.
    let before = std::fs::read(model.join("model.safetensors")).unwrap();
    let after = std::fs::read(run.join("model.safetensors")).unwrap();
    assert_ne!(before, after);

    // `evaluate` and `predict` read the run folder of any family.
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
    let metrics: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(metrics["metrics"]["accuracy"].is_number(), "{metrics}");
    let texts = tmp.path().join("texts.txt");
    std::fs::write(&texts, TEXTS.join("\n") + "\n").unwrap();
    let out = burnish(&[
        "predict",
        "--model",
        run.to_str().unwrap(),
        "--input",
        texts.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().count(),
        TEXTS.len()
    );

    let reference = burnish_reference(&run, &TEXTS);
    check_in_transformers(&run, reference, class);
}

/// Has `scripts/check_hf_load.py` load `run` as `class` and compare it with burnish's outputs
/// in `reference` (and its tokenizer with burnish's ids).
fn check_in_transformers(run: &Path, reference: serde_json::Value, class: &str) {
    let python = common::python();
    let path = run.with_extension("reference.json");
    std::fs::write(&path, reference.to_string()).unwrap();
    let out = Command::new(python)
        .arg(root().join("scripts/check_hf_load.py"))
        .arg(run)
        .arg(&path)
        .args(["--class", class])
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "transformers rejected {}:\n{stdout}\n{}",
        run.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn roberta_finetunes_through_the_cli_and_reloads_in_transformers() {
    finetune_and_reload_in_transformers(
        "tiny-roberta",
        "RobertaForSequenceClassification",
        "roberta",
    );
}

/// XLM-RoBERTa (issue 23): RoBERTa's architecture with a SentencePiece Unigram tokenizer.
#[test]
fn xlm_roberta_finetunes_through_the_cli_and_reloads_in_transformers() {
    finetune_and_reload_in_transformers(
        "tiny-xlm-roberta",
        "XLMRobertaForSequenceClassification",
        "xlm-roberta",
    );
}

/// ELECTRA (issue 23): embeddings narrower than the hidden states, a GELU classifier head.
#[test]
fn electra_finetunes_through_the_cli_and_reloads_in_transformers() {
    finetune_and_reload_in_transformers(
        "tiny-electra",
        "ElectraForSequenceClassification",
        "electra",
    );
}

#[test]
fn distilbert_finetunes_through_the_cli_and_reloads_in_transformers() {
    finetune_and_reload_in_transformers(
        "tiny-distilbert",
        "DistilBertForSequenceClassification",
        "distilbert",
    );
}

#[test]
fn gpt2_finetunes_through_the_cli_and_reloads_in_transformers() {
    finetune_and_reload_in_transformers("tiny-gpt2-cls", "GPT2ForSequenceClassification", "gpt2");
}

/// A GPT-2 language model fine-tuned for classification gets a new `score` head (as
/// transformers' `GPT2ForSequenceClassification.from_pretrained` of an LM checkpoint does).
#[test]
fn gpt2_lm_checkpoint_finetunes_for_classification_with_a_new_head() {
    finetune_and_reload_in_transformers("tiny-gpt2", "GPT2ForSequenceClassification", "gpt2");
}

/// burnish's LM logits for `texts` from a GPT-2 run folder, as a reference for
/// check_hf_load.py.
fn burnish_lm_reference(run: &Path, texts: &[&str]) -> serde_json::Value {
    let device = Device::flex();
    let (model, _, report) = Gpt2LMHeadModel::from_pretrained(run, &device).unwrap();
    assert!(
        report.newly_initialized.is_empty() && report.unused.is_empty(),
        "{report:?}"
    );
    let tokenizer = Tokenizer::from_dir(run).unwrap();
    let cases: Vec<serde_json::Value> = texts
        .iter()
        .map(|text| {
            let enc = tokenizer.encode(text, &EncodeOptions::default()).unwrap();
            let input = BertInput::from_rows(
                std::slice::from_ref(&enc.ids),
                std::slice::from_ref(&enc.type_ids),
                std::slice::from_ref(&enc.attention_mask),
                &device,
            );
            let logits = model.forward(input);
            let [_, s, v] = logits.dims();
            let flat: Vec<f32> = logits.into_data().try_into_vec().unwrap();
            let rows: Vec<Vec<f32>> = (0..s).map(|i| flat[i * v..(i + 1) * v].to_vec()).collect();
            serde_json::json!({
                "text": text, "text_pair": null, "input_ids": enc.ids,
                "token_type_ids": enc.type_ids, "logits": rows,
            })
        })
        .collect();
    serde_json::json!({ "cases": cases })
}

/// `burnish pretrain --objective clm` pre-trains a GPT-2 from scratch (`--family gpt2`, a
/// byte-level BPE tokenizer) and continues the tiny GPT-2 checkpoint; both folders load in
/// transformers as `GPT2LMHeadModel` with burnish's logits. A GPT-2 with another objective is
/// refused; from scratch without a tokenizer, a byte-level BPE one is trained.
#[test]
fn gpt2_pretrains_with_clm_from_scratch_and_continued() {
    let tmp = tempfile::tempdir().unwrap();
    // Real review sentences (the assets' vader-movies), ten to a document.
    let corpus = common::review_corpus(tmp.path(), 600);
    let fixture = root().join("tests/fixtures/tiny-gpt2");
    let common = [
        "--objective",
        "clm",
        "--corpus",
        corpus.to_str().unwrap(),
        "--max-length",
        "32",
        "--max-sequences",
        "48",
        "--batch-size",
        "8",
        "--lr",
        "1e-3",
        "--quiet",
    ];
    let scratch = tmp.path().join("scratch");
    let mut args = vec![
        "pretrain",
        "--family",
        "gpt2",
        "--tokenizer",
        fixture.to_str().unwrap(),
        "--layers",
        "2",
        "--hidden",
        "32",
        "--heads",
        "2",
        "--max-positions",
        "64",
        "--out",
        scratch.to_str().unwrap(),
    ];
    args.extend(common);
    let out = burnish(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(scratch.join("config.json")).unwrap())
            .unwrap();
    assert_eq!(config["architectures"][0], "GPT2LMHeadModel");
    assert_eq!(
        (
            &config["model_type"],
            &config["n_layer"],
            &config["n_embd"],
            &config["n_inner"]
        ),
        (&"gpt2".into(), &2.into(), &32.into(), &128.into())
    );
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(scratch.join("metrics.json")).unwrap())
            .unwrap();
    let loss = metrics["final_validation"]["loss"].as_f64().unwrap();
    // Training moved the model well below a uniform guess over the 300 tokens.
    assert!(loss < (300f64).ln(), "{metrics}");
    let texts = ["the movie was good", "a lazy dog"];
    check_in_transformers(
        &scratch,
        burnish_lm_reference(&scratch, &texts),
        "GPT2LMHeadModel",
    );

    let continued = tmp.path().join("continued");
    let mut args = vec![
        "pretrain",
        "--model",
        fixture.to_str().unwrap(),
        "--out",
        continued.to_str().unwrap(),
    ];
    args.extend(common);
    let out = burnish(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("newly initialised"), "{stderr}");
    assert_ne!(
        std::fs::read(fixture.join("model.safetensors")).unwrap(),
        std::fs::read(continued.join("model.safetensors")).unwrap()
    );
    check_in_transformers(
        &continued,
        burnish_lm_reference(&continued, &texts),
        "GPT2LMHeadModel",
    );

    // A decoder trains only as a causal LM.
    let out = burnish(&[
        "pretrain",
        "--objective",
        "mlm",
        "--model",
        fixture.to_str().unwrap(),
        "--corpus",
        corpus.to_str().unwrap(),
        "--out",
        tmp.path().join("x").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--objective clm"));
    // From scratch without a tokenizer: a byte-level BPE one is trained on the corpus, and
    // transformers loads it (GPT2TokenizerFast) with the same ids.
    let trained = tmp.path().join("trained-bpe");
    let mut args = vec![
        "pretrain",
        "--family",
        "gpt2",
        "--vocab-size",
        "400",
        "--layers",
        "1",
        "--hidden",
        "16",
        "--heads",
        "2",
        "--max-positions",
        "64",
        "--out",
        trained.to_str().unwrap(),
    ];
    args.extend(common);
    let out = burnish(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(trained.join("config.json")).unwrap())
            .unwrap();
    let tokenizer = Tokenizer::from_dir(&trained).unwrap();
    assert_eq!(config["vocab_size"], tokenizer.vocab_size());
    assert!(tokenizer.vocab_size() > 256 && tokenizer.vocab_size() <= 400);
    assert_eq!((tokenizer.cls_id(), tokenizer.pad_id()), (Some(0), Some(0)));
    check_in_transformers(
        &trained,
        burnish_lm_reference(&trained, &texts),
        "GPT2LMHeadModel",
    );
}

/// `burnish encode` on a GPT-2 folder: the decoder's hidden states (after `ln_f`), as
/// transformers' `GPT2Model` gives them (reference from scripts/make_reference.py).
#[test]
fn gpt2_encodes_through_the_cli_with_transformers_hidden_states() {
    let fixture = root().join("tests/fixtures/tiny-gpt2");
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture.join("reference.json")).unwrap())
            .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (input, output) = (tmp.path().join("in.txt"), tmp.path().join("out.jsonl"));
    let cases: Vec<&serde_json::Value> = reference["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["text_pair"].is_null())
        .collect();
    let texts: Vec<&str> = cases.iter().map(|c| c["text"].as_str().unwrap()).collect();
    std::fs::write(&input, texts.join("\n") + "\n").unwrap();
    let out = burnish(&[
        "encode",
        "--model",
        fixture.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&output)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), cases.len());
    let mut worst = 0.0f64;
    for (line, case) in lines.iter().zip(&cases) {
        assert_eq!(line["input_ids"], case["input_ids"]);
        assert!(line["pooler_output"].is_null());
        let got = line["last_hidden_state"].as_array().unwrap();
        let want = case["last_hidden_state"].as_array().unwrap();
        for (g, w) in got.iter().zip(want) {
            for (a, b) in g.as_array().unwrap().iter().zip(w.as_array().unwrap()) {
                worst = worst.max((a.as_f64().unwrap() - b.as_f64().unwrap()).abs());
            }
        }
    }
    println!("burnish encode gpt2: max|diff| hidden {worst:.2e}");
    assert!(worst <= 1e-4, "{worst}");
}
