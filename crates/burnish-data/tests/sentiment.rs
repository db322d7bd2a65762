//! The real vader-movies sentiment files of the assets folder (`$BURNISH_ASSETS`, made by
//! `scripts/fetch-assets.sh`: rotten tomatoes review sentences, `sentence<TAB>label` as GLUE's
//! SST-2), and their lengths under the real all-MiniLM-L6-v2 tokenizer: counts as its README
//! states them, sentences trimmed (also in GLUE's layout, a space before each tab), the label
//! map, a stratified split, and how much padding length bucketing saves.
//!
//! A missing asset fails the test: run `scripts/fetch-assets.sh`.

mod common;

use burnish_data::{
    BadRowPolicy, BatchPlan, BucketOptions, ColumnSpec, Dataset, Label, LabelKind, RawLabel,
    ReadOptions, Task, TokenizeOptions, collate, eval_batches, stratified_split, tokenize_dataset,
};
use common::{asset, minilm_tokenizer, temp_file};

fn tsv_options() -> ReadOptions {
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
fn vader_test_split_reads_with_the_stated_counts() {
    let path = asset("vader-movies/test.tsv");
    let test = Dataset::read(&path, &tsv_options()).unwrap();
    assert_eq!(test.columns, ["sentence", "label"]);
    assert_eq!(test.len(), 1_057);
    assert!(test.bad_rows.is_empty());
    assert_eq!((count(&test, "1"), count(&test, "0")), (525, 532));
    assert!(
        test.records
            .iter()
            .all(|r| !r.text.ends_with(char::is_whitespace))
    );
    assert!(test.records.iter().all(|r| !r.text.is_empty()));
    // Lines are 1-based, after the header.
    assert_eq!(test.records[0].line, 2);
    assert_eq!(test.records[1_056].line, 1_058);
    assert_eq!(
        test.records[0].text,
        "A canny, derivative, wildly gruesome portrait of a London sociopath who's the scariest \
         of sadists."
    );

    // In GLUE's layout (every sentence ends with " \t") the space is gone: the same records.
    let text = std::fs::read_to_string(&path).unwrap();
    let glue: String = text
        .lines()
        .enumerate()
        .map(|(i, l)| match i {
            0 => format!("{l}\n"),
            _ => l.replacen('\t', " \t", 1) + "\n",
        })
        .collect();
    let glue = temp_file("dev.tsv", glue);
    let spaced = Dataset::read(&glue.path, &tsv_options()).unwrap();
    assert_eq!(spaced.columns, test.columns);
    assert_eq!(spaced.records, test.records);

    // The label map keeps the integers' order, and says so in HF's terms.
    let task = Task::from_dataset(LabelKind::Class, &test).unwrap();
    assert_eq!(task.problem_type(), "single_label_classification");
    assert_eq!(
        task.to_hf_json(),
        serde_json::json!({
            "id2label": {"0": "0", "1": "1"},
            "label2id": {"0": 0, "1": 1},
            "problem_type": "single_label_classification",
        })
    );

    // A stratified 10% split keeps the class balance: round(10%) of each class, 53 of the 525
    // positives and 53 of the 532 negatives.
    let classes: Vec<&str> = test
        .records
        .iter()
        .map(|r| match &r.label {
            Some(RawLabel::Class(name)) => name.as_str(),
            other => panic!("unexpected label {other:?}"),
        })
        .collect();
    let (train, valid) = stratified_split(&classes, 0.1, 42).unwrap();
    let positives = valid.iter().filter(|&&i| classes[i] == "1").count();
    assert_eq!((valid.len(), positives), (106, 53));
    assert_eq!(train.len(), 951);
}

#[test]
fn vader_train_split_reads_with_the_stated_counts() {
    let path = asset("vader-movies/train.tsv");
    let train = Dataset::read(&path, &tsv_options()).unwrap();
    assert_eq!(train.len(), 9_509);
    assert_eq!((count(&train, "1"), count(&train, "0")), (4_716, 4_793));
    assert!(train.records.iter().all(|r| !r.text.ends_with(' ')));
}

#[test]
fn bucketing_pads_much_less_on_real_sentences() {
    let path = asset("vader-movies/test.tsv");
    let tokenizer = minilm_tokenizer();
    let dev = Dataset::read(&path, &tsv_options()).unwrap();
    let task = Task::from_dataset(LabelKind::Class, &dev).unwrap();
    let examples =
        tokenize_dataset(&tokenizer, &dev, Some(&task), &TokenizeOptions::new(128)).unwrap();
    assert_eq!(examples.examples.len(), 1_057);
    // Review sentences are short: none reaches 128 tokens.
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
            assert_eq!(all, (0..1_057).collect::<Vec<_>>());
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
        // 1,057 examples in pools of 1600: one pool, so batches hold nearly equal lengths.
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
