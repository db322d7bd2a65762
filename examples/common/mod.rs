//! The one fine-tuning code path every per-backend example runs: only the device differs.
//!
//! Reads a labelled TSV (`sentence` and `label` columns, as `scripts/fetch-assets.sh` writes
//! `assets/vader-movies/`), holds out 10% for validation, fine-tunes a pre-trained encoder
//! with a new classification head for one epoch, saves a Hugging Face folder, and prints
//! predictions for two sentences.
//!
//! Arguments (all optional): `MODEL_DIR` (default `assets/all-MiniLM-L6-v2`), `TRAIN_TSV`
//! (default `assets/vader-movies/train.tsv`), `ROWS` (training rows to use, default 2000),
//! `OUT_DIR` (default `runs/example-<backend>`).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use burnish::backend::BackendKind;
use burnish::burn::module::Module;
use burnish::data::{
    ColumnSpec, Dataset, Example, Label, LabelKind, ReadOptions, Task, TokenizeOptions,
    tokenize_dataset, train_valid_split,
};
use burnish::encoder::BertConfig;
use burnish::heads::BertForSequenceClassification;
use burnish::tokenizer::{EncodeOptions, Tokenizer};
use burnish::train::tasks::classification::{self, ExampleBatches};
use burnish::train::{TrainConfig, Trainer};

/// Fine-tunes and predicts on `backend`.
pub fn finetune_and_predict(backend: BackendKind) -> Result<()> {
    let mut args = std::env::args().skip(1);
    let model_dir = PathBuf::from(args.next().unwrap_or("assets/all-MiniLM-L6-v2".into()));
    let train_file = PathBuf::from(
        args.next()
            .unwrap_or("assets/vader-movies/train.tsv".into()),
    );
    let rows: usize = args
        .next()
        .map_or(Ok(2000), |r| r.parse())
        .context("ROWS")?;
    let out = PathBuf::from(args.next().unwrap_or(format!("runs/example-{backend}")));
    let device = backend.device()?;

    // Data: read, label map, tokenize, split.
    let tokenizer = Tokenizer::from_dir(&model_dir)?;
    let mut data = Dataset::read(
        &train_file,
        &ReadOptions::new(ColumnSpec::new("sentence", Some("label"))),
    )?;
    data.records.truncate(rows);
    let task = Task::from_dataset(LabelKind::Class, &data)?;
    let positions = BertConfig::from_file(model_dir.join("config.json"))?.max_position_embeddings;
    let config = TrainConfig {
        epochs: 1,
        batch_size: 32,
        learning_rate: 5e-5,
        max_length: positions.min(128),
        ..TrainConfig::default()
    };
    let examples = tokenize_dataset(
        &tokenizer,
        &data,
        Some(&task),
        &TokenizeOptions::new(config.max_length),
    )?
    .examples;
    let (train_idx, valid_idx) = train_valid_split(examples.len(), 0.1, config.seed)?;
    let pick = |idx: &[usize]| idx.iter().map(|&i| examples[i].clone()).collect::<Vec<_>>();
    let (train, valid) = (pick(&train_idx), pick(&valid_idx));
    if train.is_empty() || valid.is_empty() {
        bail!(
            "{}: too few rows to train and validate",
            train_file.display()
        );
    }

    // Model: the pre-trained encoder plus a new head sized by the label map.
    let (model, hf_config, _report) = BertForSequenceClassification::from_pretrained(
        &model_dir,
        Some(task.num_labels()),
        Some(classification::problem_type(&task)),
        &device,
    )?;
    let pad_id = tokenizer.pad_id().unwrap_or(0);

    // Train, evaluating at the end of the epoch; the best model comes back.
    let batches = ExampleBatches::new(&train, config.batch_size, true, config.seed, pad_id)?;
    let trainer = Trainer::new(config, &out, &device)?;
    let mut evaluate = |m: &BertForSequenceClassification| {
        classification::evaluate(m, &valid, &task, 64, pad_id, &device).map(|e| e.metrics)
    };
    let result = trainer.fit(model, &batches, &mut evaluate)?;
    let best = result.model.valid();
    let mut hf_config = hf_config;
    if let Some(labels) = task.to_hf_json().as_object() {
        hf_config.extra.extend(labels.clone()); // id2label / label2id, as transformers writes
    }
    best.save_pretrained(&hf_config, &out)?;
    tokenizer.save_dir(&out)?;
    if let Some(record) = result.best() {
        let show = |k: &str| record.metrics.get(k).copied().unwrap_or(f64::NAN);
        println!(
            "{backend}: best validation accuracy {:.4}, loss {:.4} (step {})",
            show("accuracy"),
            show("loss"),
            record.step
        );
    }

    // Predict.
    let texts = [
        "A gorgeous, witty, seductive movie.",
        "The plot is a mess and the acting is worse.",
    ];
    let options = EncodeOptions {
        max_length: Some(positions.min(128)),
        ..EncodeOptions::default()
    };
    let inputs = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let enc = tokenizer.encode(t, &options)?;
            Ok(Example {
                ids: enc.ids,
                type_ids: enc.type_ids,
                label: Label::None,
                line: i + 1,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let logits = classification::predict_logits(&best, &inputs, 8, pad_id, &device);
    let names = task
        .label_map()
        .map(|m| m.names().to_vec())
        .unwrap_or_default();
    for (text, row) in texts.iter().zip(&logits) {
        let probs = classification::softmax(row);
        let k = classification::argmax(row);
        println!(
            "{:>8} {:.3}  {text}",
            names.get(k).map_or("?", String::as_str),
            probs[k]
        );
    }
    println!("saved to {}", out.display());
    Ok(())
}
