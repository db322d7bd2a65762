//! The real GLUE SST-2 files of the shared data folder (`$BURNISH_SHARED_DATA`, default
//! `<workspace>/../shared/data`), and their lengths under the real all-MiniLM-L6-v2 tokenizer
//! (`$BURNISH_ASSETS`): counts as published, trimmed sentences, the label map, a stratified
//! split, and how much padding length bucketing saves.
//!
//! A missing file is a note and an early return, a failure under `CI=true`.

mod common;

use burnish_data::{
    BadRowPolicy, BatchPlan, BucketOptions, ColumnSpec, Dataset, Label, LabelKind, RawLabel,
    ReadOptions, Task, TokenizeOptions, collate, eval_batches, stratified_split, tokenize_dataset,
};
use common::{minilm_tokenizer, shared_data};

fn sst2_options() -> ReadOptions {
    ReadOptions {
        bad_rows: BadRowPolicy::Fail,
        ..ReadOptions::new(ColumnSpec::new("sentence", Some("label")))
    }
}

/// Counts records per class label.
fn count(dataset: &Dataset, name: &str) -> usize {
    dataset
        .records
        .iter()
        .filter(|r| r.label == Some(RawLabel::Class(name.to_owned())))
        .count()
}

#[test]
fn sst2_dev_reads_with_the_published_counts() {
    let Some(path) = shared_data("sst2/dev.tsv") else {
        return;
    };
    let dev = Dataset::read(&path, &sst2_options()).unwrap();
    assert_eq!(dev.columns, ["sentence", "label"]);
    assert_eq!(dev.len(), 872);
    assert!(dev.bad_rows.is_empty());
    assert_eq!((count(&dev, "1"), count(&dev, "0")), (444, 428));
    // Every GLUE sentence ends with " \t": the space is gone.
    assert!(
        dev.records
            .iter()
            .all(|r| !r.text.ends_with(char::is_whitespace))
    );
    assert!(dev.records.iter().all(|r| !r.text.is_empty()));
    // Lines are 1-based, after the header.
    assert_eq!(dev.records[0].line, 2);
    assert_eq!(dev.records[871].line, 873);
    assert_eq!(
        dev.records[0].text,
        "it 's a charming and often affecting journey ."
    );

    // The label map keeps the integers' order, and says so in HF's terms.
    let task = Task::from_dataset(LabelKind::Class, &dev).unwrap();
    assert_eq!(task.problem_type(), "single_label_classification");
    assert_eq!(
        task.to_hf_json(),
        serde_json::json!({
            "id2label": {"0": "0", "1": "1"},
            "label2id": {"0": 0, "1": 1},
            "problem_type": "single_label_classification",
        })
    );

    // A stratified 10% split keeps the class balance.
    let classes: Vec<&str> = dev
        .records
        .iter()
        .map(|r| match &r.label {
            Some(RawLabel::Class(name)) => name.as_str(),
            other => panic!("unexpected label {other:?}"),
        })
        .collect();
    let (train, valid) = stratified_split(&classes, 0.1, 42).unwrap();
    let positives = valid.iter().filter(|&&i| classes[i] == "1").count();
    assert_eq!((valid.len(), positives), (87, 44));
    assert_eq!(train.len(), 785);
}

#[test]
fn sst2_train_reads_with_the_published_counts() {
    let Some(path) = shared_data("sst2/train.tsv") else {
        return;
    };
    let train = Dataset::read(&path, &sst2_options()).unwrap();
    assert_eq!(train.len(), 67_349);
    assert_eq!((count(&train, "1"), count(&train, "0")), (37_569, 29_780));
    assert!(train.records.iter().all(|r| !r.text.ends_with(' ')));
}

#[test]
fn bucketing_pads_much_less_on_sst2_dev() {
    let Some(path) = shared_data("sst2/dev.tsv") else {
        return;
    };
    let Some(tokenizer) = minilm_tokenizer() else {
        return;
    };
    let dev = Dataset::read(&path, &sst2_options()).unwrap();
    let task = Task::from_dataset(LabelKind::Class, &dev).unwrap();
    let examples =
        tokenize_dataset(&tokenizer, &dev, Some(&task), &TokenizeOptions::new(128)).unwrap();
    assert_eq!(examples.examples.len(), 872);
    // SST-2 sentences are short: none reaches 128 tokens.
    assert_eq!(examples.truncated, 0);
    let lengths = examples.lengths();
    let real: usize = lengths.iter().sum();

    let batch_size = 32;
    let bucketed = BatchPlan::new(lengths.clone(), batch_size, BucketOptions::default()).unwrap();
    let plain = BatchPlan::new(
        lengths.clone(),
        batch_size,
        BucketOptions {
            bucketing: false,
            ..BucketOptions::default()
        },
    )
    .unwrap();
    let pad = tokenizer.pad_id().unwrap();
    for epoch in 0..3 {
        let with = bucketed.epoch(epoch, 17);
        let without = plain.epoch(epoch, 17);
        for batches in [&with, &without] {
            let mut all: Vec<usize> = batches.iter().flatten().copied().collect();
            all.sort_unstable();
            assert_eq!(all, (0..872).collect::<Vec<_>>());
        }
        // Collating the planned batches gives the same token counts as the plan says.
        let collated = |batches: &[Vec<usize>]| -> (usize, usize) {
            batches
                .iter()
                .map(|batch| {
                    let refs: Vec<_> = batch.iter().map(|&i| &examples.examples[i]).collect();
                    let b = collate(&refs, pad);
                    (b.real_tokens, b.padded_tokens)
                })
                .fold((0, 0), |(r, p), (br, bp)| (r + br, p + bp))
        };
        let (real_with, padded_with) = collated(&with);
        let (real_without, padded_without) = collated(&without);
        assert_eq!((real_with, real_without), (real, real));
        assert_eq!(padded_with, bucketed.padded_tokens(&with));
        assert_eq!(padded_without, plain.padded_tokens(&without));
        // 872 examples in pools of 1600: one pool, so batches hold nearly equal lengths.
        let padding_with = padded_with - real;
        let padding_without = padded_without - real;
        assert!(
            padding_with * 10 < padding_without,
            "epoch {epoch}: padding {padding_with} with bucketing, {padding_without} without \
             ({real} real tokens)"
        );
        eprintln!(
            "epoch {epoch}: {real} real tokens; padded to {padded_with} with bucketing, \
             {padded_without} without"
        );
    }
    assert_eq!(bucketed.epoch(1, 17), bucketed.epoch(1, 17));
    assert_ne!(bucketed.epoch(1, 17), bucketed.epoch(2, 17));

    // Evaluation batches are sorted longest first and cover every example once.
    let eval = eval_batches(&lengths, 64).unwrap();
    let order: Vec<usize> = eval.iter().flatten().copied().collect();
    assert!(order.windows(2).all(|w| lengths[w[0]] >= lengths[w[1]]));
    let labels = examples.examples.iter().map(|e| e.label.clone());
    assert!(labels.clone().all(|l| matches!(l, Label::Class(0 | 1))));
}
