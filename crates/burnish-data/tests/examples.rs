//! From files to examples and batches with the tiny BERT tokenizer of tests/fixtures:
//! truncation (single texts and pairs) and its count, labels through the task's label map, an
//! unknown validation label, and collation.

mod common;

use burnish_data::{
    ColumnSpec, DataError, Dataset, Label, LabelKind, PaddedBatch, ReadOptions, Task,
    TokenizeOptions, collate, tokenize_dataset,
};
use burnish_tokenizer::Tokenizer;
use common::{temp_file, tiny_tokenizer};

fn ids(tokenizer: &Tokenizer, tokens: &[&str]) -> Vec<u32> {
    tokens
        .iter()
        .map(|token| tokenizer.token_to_id(token).expect(token))
        .collect()
}

#[test]
fn truncation_is_counted_and_exact_fits_are_not() {
    let tokenizer = tiny_tokenizer();
    let file = temp_file(
        "t.csv",
        "text,label\n\
         the quick brown fox jump over the lazy dog,good\n\
         hello world,bad\n\
         the quick brown fox,good\n",
    );
    let options = ReadOptions::new(ColumnSpec::new("text", Some("label")));
    let data = Dataset::read(&file.path, &options).unwrap();
    let task = Task::from_dataset(LabelKind::Class, &data).unwrap();
    let examples =
        tokenize_dataset(&tokenizer, &data, Some(&task), &TokenizeOptions::new(6)).unwrap();

    // 9 words + [CLS] + [SEP] = 11 tokens: cut to 6. Exactly 6 tokens: not counted.
    assert_eq!(examples.truncated, 1);
    assert_eq!(
        examples.truncation_note().unwrap(),
        "1 text truncated to 6 tokens"
    );
    assert_eq!(examples.lengths(), [6, 4, 6]);
    let first = &examples.examples[0];
    assert_eq!(
        first.ids,
        ids(
            &tokenizer,
            &["[CLS]", "the", "quick", "brown", "fox", "[SEP]"]
        )
    );
    assert_eq!(first.type_ids, [0; 6]);
    assert_eq!(first.line, 2);
    // Labels sorted by name: bad = 0, good = 1.
    let labels: Vec<&Label> = examples.examples.iter().map(|e| &e.label).collect();
    assert_eq!(
        labels,
        [&Label::Class(1), &Label::Class(0), &Label::Class(1)]
    );

    // Without a task, no labels.
    let unlabelled = tokenize_dataset(&tokenizer, &data, None, &TokenizeOptions::new(64)).unwrap();
    assert_eq!(unlabelled.truncated, 0);
    assert_eq!(unlabelled.truncation_note(), None);
    assert!(unlabelled.examples.iter().all(|e| e.label == Label::None));
    assert_eq!(unlabelled.lengths(), [11, 4, 6]);

    // A maximum length with no room for text is an options error.
    let error = tokenize_dataset(&tokenizer, &data, None, &TokenizeOptions::new(2)).unwrap_err();
    assert!(matches!(error, DataError::InvalidOptions { .. }), "{error}");
}

#[test]
fn pairs_are_truncated_longest_first() {
    let tokenizer = tiny_tokenizer();
    let file = temp_file(
        "pairs.tsv",
        "premise\thypothesis\tscore\n\
         the quick brown fox jump over\thello world\t0.5\n\
         a cat\tthe dog\t4\n",
    );
    let options = ReadOptions {
        label_kind: LabelKind::Regression,
        ..ReadOptions::new(ColumnSpec::pair("premise", "hypothesis", Some("score")))
    };
    let data = Dataset::read(&file.path, &options).unwrap();
    let task = Task::from_dataset(LabelKind::Regression, &data).unwrap();
    let examples =
        tokenize_dataset(&tokenizer, &data, Some(&task), &TokenizeOptions::new(8)).unwrap();
    assert_eq!(examples.truncated, 1);
    let first = &examples.examples[0];
    // Room for 5 text tokens: the longer first text gives up 3, the short second one none.
    assert_eq!(
        first.ids,
        ids(
            &tokenizer,
            &[
                "[CLS]", "the", "quick", "brown", "[SEP]", "hello", "world", "[SEP]"
            ]
        )
    );
    assert_eq!(first.type_ids, [0, 0, 0, 0, 0, 1, 1, 1]);
    assert_eq!(first.label, Label::Value(0.5));
    assert_eq!(examples.examples[1].label, Label::Value(4.0));
    assert_eq!(examples.examples[1].type_ids, [0, 0, 0, 0, 1, 1, 1]);
}

#[test]
fn unknown_validation_label_names_file_line_and_known_labels() {
    let tokenizer = tiny_tokenizer();
    let train = temp_file("train.csv", "text,label\ngood movie,pos\nbad movie,neg\n");
    let valid = temp_file(
        "valid.csv",
        "text,label\ngreat movie,pos\nthe movie,neutral\n",
    );
    let options = ReadOptions::new(ColumnSpec::new("text", Some("label")));
    let train = Dataset::read(&train.path, &options).unwrap();
    let task = Task::from_dataset(LabelKind::Class, &train).unwrap();
    let valid = Dataset::read(&valid.path, &options).unwrap();
    let error =
        tokenize_dataset(&tokenizer, &valid, Some(&task), &TokenizeOptions::new(16)).unwrap_err();
    match &error {
        DataError::UnknownLabel {
            line, label, known, ..
        } => {
            assert_eq!((*line, label.as_str()), (3, "neutral"));
            assert_eq!(known, &["neg", "pos"]);
        }
        other => panic!("expected UnknownLabel, got {other:?}"),
    }
    assert!(
        error
            .to_string()
            .ends_with("valid.csv:3: unknown label \"neutral\" (known: \"neg\", \"pos\")"),
        "{error}"
    );
}

#[test]
fn multi_label_examples_are_multi_hot_and_collate_pads() {
    let tokenizer = tiny_tokenizer();
    let file = temp_file(
        "tags.jsonl",
        r#"{"text": "the quick brown fox", "tags": ["animal", "fast"]}
{"text": "hello", "tags": []}
{"text": "the lazy dog sleep", "tags": "animal"}
"#,
    );
    let options = ReadOptions {
        label_kind: LabelKind::MultiLabel,
        ..ReadOptions::new(ColumnSpec::new("text", Some("tags")))
    };
    let data = Dataset::read(&file.path, &options).unwrap();
    let task = Task::from_dataset(LabelKind::MultiLabel, &data).unwrap();
    assert_eq!(task.problem_type(), "multi_label_classification");
    assert_eq!(task.num_labels(), 2);
    let examples =
        tokenize_dataset(&tokenizer, &data, Some(&task), &TokenizeOptions::new(32)).unwrap();
    let labels: Vec<&Label> = examples.examples.iter().map(|e| &e.label).collect();
    assert_eq!(
        labels,
        [
            &Label::Multi(vec![1.0, 1.0]),
            &Label::Multi(vec![0.0, 0.0]),
            &Label::Multi(vec![1.0, 0.0]),
        ]
    );

    let pad = tokenizer.pad_id().unwrap();
    let refs: Vec<_> = examples.examples.iter().collect();
    let batch = collate(&refs, pad);
    assert_eq!(batch.seq_len(), 6);
    assert_eq!(batch.input_ids[1][3..], [pad, pad, pad]);
    assert_eq!(batch.attention_mask[1], [1, 1, 1, 0, 0, 0]);
    assert_eq!(batch.real_tokens, 6 + 3 + 6);
    assert_eq!(batch.padded_tokens, 18);
}
