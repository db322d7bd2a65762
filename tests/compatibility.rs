//! The compatibility promise: every model folder burnish writes loads in `transformers` with the
//! matching class and gives the same outputs.
//!
//! For every head (encoder, sequence classification, token classification, question answering,
//! masked LM, pre-training, causal LM) and family (BERT, RoBERTa, DistilBERT where `transformers`
//! has the class), a checkpoint is loaded through the facade ([`Pretrained`] and its head
//! constructors) and saved with [`Pretrained::save`]; a classifier fine-tuned with
//! [`Trainer`] and a masked LM whose head burnish initialised are saved too, with references
//! computed by burnish. `scripts/check_hf_load.py --jobs` (pinned PyTorch + transformers) then
//! loads every saved folder in one process and requires: no missing, unexpected or mismatched
//! weights, the saved tokenizer reproducing the reference ids, and max |diff| <= 1e-4 on every
//! output of the reference (hidden states, pooled output, logits).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use burnish::encoder::model::BertInput;
use burnish::prelude::*;
use serde_json::{Value, json};

/// The head a folder is loaded as.
#[derive(Debug, Clone, Copy)]
enum Head {
    Encoder,
    Sequence,
    Token,
    Qa,
    MaskedLm,
    PreTraining,
    CausalLm,
}

impl Head {
    /// The `transformers` class suffix.
    fn suffix(self) -> &'static str {
        match self {
            Head::Encoder => "Model",
            Head::Sequence => "ForSequenceClassification",
            Head::Token => "ForTokenClassification",
            Head::Qa => "ForQuestionAnswering",
            Head::MaskedLm => "ForMaskedLM",
            Head::PreTraining => "ForPreTraining",
            Head::CausalLm => "LMHeadModel",
        }
    }
}

/// Loads `src` through the facade as `head`, saves it into `out` with [`Pretrained::save`] and
/// returns the `transformers` class that must load it.
fn save_through_facade(src: &Path, head: Head, out: &Path, device: &Device) -> String {
    let base = Pretrained::from_dir(src, device).unwrap();
    let config = Value::Object(base.config().extra.clone());
    match head {
        Head::Encoder => base.save(&base.encoder().unwrap(), out),
        Head::Sequence => {
            let task = Task::from_hf_config(&config).unwrap();
            base.save(&base.sequence_classifier(&task).unwrap(), out)
        }
        Head::Token => {
            let tags = LabelMap::from_hf_config(&config).unwrap();
            base.save(&base.token_classifier(&tags).unwrap(), out)
        }
        Head::Qa => base.save(&base.question_answering().unwrap(), out),
        Head::MaskedLm => base.save(&base.masked_lm().unwrap(), out),
        Head::PreTraining => base.save(&base.pretraining().unwrap(), out),
        Head::CausalLm => base.save(&base.causal_lm().unwrap(), out),
    }
    .unwrap_or_else(|e| panic!("{}: {e}", src.display()));
    base.family().class_name(head.suffix())
}

/// A reference written by burnish itself: `logits` of each text (a row per text for a
/// classifier, a row per token for a masked LM).
fn burnish_reference(
    out: &Path,
    tokenizer: &burnish::tokenizer::Tokenizer,
    texts: &[&str],
    logits: impl Fn(&str, &[u32], &[u32]) -> Value,
) -> PathBuf {
    let options = burnish::tokenizer::EncodeOptions::default();
    let cases: Vec<Value> = texts
        .iter()
        .map(|text| {
            let enc = tokenizer.encode(text, &options).unwrap();
            json!({
                "text": text, "text_pair": null,
                "input_ids": enc.ids, "token_type_ids": enc.type_ids,
                "logits": logits(text, &enc.ids, &enc.type_ids),
            })
        })
        .collect();
    // Outside the saved folder, so the folder holds only what burnish writes.
    let path = out.with_extension("reference.json");
    std::fs::write(&path, json!({ "cases": cases }).to_string()).unwrap();
    path
}

const TEXTS: [&str; 3] = [
    "the quick brown fox jumps over the lazy dog",
    "paris is in france .",
    "hello world !",
];

#[test]
fn every_folder_burnish_saves_loads_in_transformers_with_the_same_outputs() {
    let device = Device::flex();
    let work = tempfile::tempdir().unwrap();
    let mut jobs = Vec::new();
    let mut add = |name: &str, src: &Path, reference: PathBuf, head: Head| {
        let out = work.path().join(name);
        let class = save_through_facade(src, head, &out, &device);
        jobs.push(json!({ "dir": out, "reference": reference, "class": class }));
    };

    // Checkpoints written by transformers (tests/fixtures, scripts/make_reference.py) and the
    // real MiniLM, re-saved by burnish.
    let table = [
        ("tiny-bert", Head::Encoder),
        ("tiny-bert-relu", Head::Encoder), // legacy gamma/beta names, saved with modern ones
        ("tiny-bert-bin", Head::Sequence), // pytorch_model.bin in, safetensors out
        ("tiny-roberta", Head::Sequence),
        ("tiny-distilbert", Head::Sequence),
        ("tiny-electra", Head::Sequence), // embeddings narrower than the hidden states
        ("tiny-electra-ner", Head::Token),
        ("tiny-electra-qa", Head::Qa),
        ("tiny-electra-mlm", Head::MaskedLm), // the generator's head, tied to the embeddings
        ("tiny-bert-ner", Head::Token),
        ("tiny-roberta-ner", Head::Token),
        ("tiny-distilbert-ner", Head::Token),
        ("tiny-bert-qa", Head::Qa),
        ("tiny-roberta-qa", Head::Qa),
        ("tiny-xlm-roberta-ner", Head::Token), // SentencePiece Unigram tokenizers
        ("tiny-xlm-roberta-qa", Head::Qa),
        ("tiny-camembert-ner", Head::Token),
        ("tiny-camembert-qa", Head::Qa),
        ("tiny-distilbert-qa", Head::Qa),
        ("tiny-bert-mlm", Head::MaskedLm),
        ("tiny-roberta-mlm", Head::MaskedLm),
        ("tiny-distilbert-mlm", Head::MaskedLm),
        ("tiny-bert-pretraining", Head::PreTraining), // tied tensors stored in the .bin
        ("tiny-bert-clm", Head::CausalLm),
    ];
    for (name, head) in table {
        let src = common::fixture(name);
        add(name, &src, src.join("reference.json"), head);
    }
    add(
        "all-MiniLM-L6-v2",
        &common::minilm(),
        common::fixture("reference/minilm.json"),
        Head::Encoder,
    );

    // A classifier fine-tuned through the facade: real label names, burnish's logits as the
    // reference.
    let base = Pretrained::from_dir(common::fixture("tiny-bert"), &device).unwrap();
    let data =
        TextDataset::from_labelled((0..24).map(|i| (TEXTS[i % 3], ["neg", "neu", "pos"][i % 3])))
            .unwrap();
    let (train, valid) = data.split(0.25, 1).unwrap();
    let config = TrainConfig {
        epochs: 1,
        batch_size: 8,
        max_length: 32,
        ..TrainConfig::default()
    };
    let trainer = Trainer::new(config, work.path().join("run"))
        .unwrap()
        .with_progress(false);
    let classifier = trainer.classifier(&base, &train, &valid).unwrap().model;
    let out = work.path().join("finetuned-classifier");
    classifier.save(&out).unwrap();
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("config.json")).unwrap()).unwrap();
    assert_eq!(
        saved["id2label"],
        json!({"0": "neg", "1": "neu", "2": "pos"}),
        "the saved config carries the real label names"
    );
    let reference = burnish_reference(&out, classifier.tokenizer(), &TEXTS, |text, _, _| {
        let input = [burnish::tokenizer::Input::Single(text)];
        json!(classifier.logits(&input).unwrap()[0])
    });
    jobs.push(
        json!({ "dir": out, "reference": reference, "class": "BertForSequenceClassification" }),
    );

    // A masked LM whose head burnish initialised (continued pre-training of a bare encoder).
    let mlm = base.masked_lm().unwrap();
    let out = work.path().join("fresh-mlm-head");
    base.save(&mlm, &out).unwrap();
    let reference = burnish_reference(&out, base.tokenizer(), &TEXTS, |_, ids, types| {
        let n = ids.len();
        let input =
            BertInput::from_rows(&[ids.to_vec()], &[types.to_vec()], &[vec![1; n]], &device);
        let logits = mlm.forward(input);
        let vocab = logits.dims()[2];
        let flat: Vec<f32> = logits.into_data().try_into_vec().unwrap();
        json!(flat.chunks(vocab).collect::<Vec<_>>())
    });
    jobs.push(json!({ "dir": out, "reference": reference, "class": "BertForMaskedLM" }));

    let python = common::reference_python();
    let jobs_file = work.path().join("jobs.json");
    std::fs::write(&jobs_file, Value::from(jobs.clone()).to_string()).unwrap();
    let output = Command::new(&python)
        .arg(common::root().join("scripts/check_hf_load.py"))
        .arg("--jobs")
        .arg(&jobs_file)
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "transformers rejected a folder burnish saved:\n{stdout}\n{stderr}"
    );
    // 24 fixtures, 2 folders burnish trained or initialised, and MiniLM.
    let expected = 27;
    assert_eq!(jobs.len(), expected);
    assert!(
        stdout.contains(&format!("checked {expected} folders; 0 failed")),
        "{stdout}"
    );
}
