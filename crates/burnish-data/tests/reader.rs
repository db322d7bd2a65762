//! The CSV, TSV and JSON Lines readers on small files written for each case: quoting, bad rows
//! under both policies, label kinds, missing columns and empty files.

mod common;

use burnish_data::{
    BadRowPolicy, ColumnSpec, DataError, Dataset, Format, LabelKind, RawLabel, ReadOptions,
};
use common::temp_file;

/// Options for a `text` column and a `label` column.
fn options(kind: LabelKind, policy: BadRowPolicy) -> ReadOptions {
    ReadOptions {
        label_kind: kind,
        bad_rows: policy,
        ..ReadOptions::new(ColumnSpec::new("text", Some("label")))
    }
}

fn class(name: &str) -> Option<RawLabel> {
    Some(RawLabel::Class(name.to_owned()))
}

fn texts(dataset: &Dataset) -> Vec<&str> {
    dataset.records.iter().map(|r| r.text.as_str()).collect()
}

fn lines(dataset: &Dataset) -> Vec<usize> {
    dataset.records.iter().map(|r| r.line).collect()
}

#[test]
fn csv_with_quoted_commas_escaped_quotes_and_line_breaks() {
    let file = temp_file(
        "train.csv",
        "id,text,label\n\
         1,\"Hello, world\",pos\n\
         2,\"She said \"\"no\"\" twice\",neg\r\n\
         3,\"two\nlines \",pos\n\
         \n\
         4,plain text   ,neg\n",
    );
    let data = Dataset::read(&file.path, &options(LabelKind::Class, BadRowPolicy::Fail)).unwrap();
    assert_eq!(data.format, Format::Csv);
    assert_eq!(data.columns, ["id", "text", "label"]);
    assert_eq!(
        texts(&data),
        [
            "Hello, world",
            "She said \"no\" twice",
            "two\nlines",
            "plain text"
        ]
    );
    // A row keeps the line it starts on; the quoted line break and the empty line count.
    assert_eq!(lines(&data), [2, 3, 4, 7]);
    let labels: Vec<_> = data.records.iter().map(|r| r.label.clone()).collect();
    assert_eq!(
        labels,
        [class("pos"), class("neg"), class("pos"), class("neg")]
    );
    assert!(data.bad_rows.is_empty());
    assert_eq!(data.bad_rows_summary(3), None);
}

#[test]
fn ragged_tsv_row_is_skipped_with_its_line_or_fails() {
    let contents = "text\tlabel\ngood one \t1\ntoo\tmany\tfields\nalso good\t0\nshort\n";
    let file = temp_file("data.tsv", contents);

    let data = Dataset::read(&file.path, &options(LabelKind::Class, BadRowPolicy::Skip)).unwrap();
    assert_eq!(texts(&data), ["good one", "also good"]);
    assert_eq!(lines(&data), [2, 4]);
    let bad: Vec<(usize, &str)> = data
        .bad_rows
        .iter()
        .map(|row| (row.line, row.reason.as_str()))
        .collect();
    assert_eq!(
        bad,
        [
            (3, "expected 2 fields (as in the header), found 3"),
            (5, "expected 2 fields (as in the header), found 1"),
        ]
    );
    let summary = data.bad_rows_summary(1).unwrap();
    let path = file.path.display();
    assert_eq!(
        summary,
        format!(
            "{path}: skipped 2 bad rows\n  {path}:3: expected 2 fields (as in the header), \
             found 3\n  ... and 1 more"
        )
    );

    let error =
        Dataset::read(&file.path, &options(LabelKind::Class, BadRowPolicy::Fail)).unwrap_err();
    assert!(matches!(error, DataError::BadRow(ref row) if row.line == 3));
    assert_eq!(
        error.to_string(),
        format!("{path}:3: expected 2 fields (as in the header), found 3")
    );
}

#[test]
fn bad_quoting_is_a_bad_row_and_reading_goes_on() {
    let file = temp_file(
        "q.csv",
        "text,label\n\"closed\"junk,1\nfine,0\n\"never closed,1\nlast,1\n",
    );
    let data = Dataset::read(&file.path, &options(LabelKind::Class, BadRowPolicy::Skip)).unwrap();
    assert_eq!(texts(&data), ["fine", "last"]);
    assert_eq!(lines(&data), [3, 5]);
    assert_eq!(data.bad_rows.len(), 2);
    assert_eq!(data.bad_rows[0].line, 2);
    assert!(
        data.bad_rows[0].reason.starts_with(
            "column `text` (field 1): unexpected character 'j' after the closing quote"
        ),
        "{}",
        data.bad_rows[0].reason
    );
    assert_eq!(data.bad_rows[1].line, 4);
    assert!(data.bad_rows[1].reason.contains("never closed"));
}

#[test]
fn invalid_utf8_is_a_bad_row() {
    let mut contents = b"text\tlabel\nok\t1\n".to_vec();
    contents.extend_from_slice(b"caf\xe9 au lait\t0\n");
    contents.extend_from_slice(b"fine\t0\n");
    let file = temp_file("latin1.tsv", &contents);
    let data = Dataset::read(&file.path, &options(LabelKind::Class, BadRowPolicy::Skip)).unwrap();
    assert_eq!(texts(&data), ["ok", "fine"]);
    assert_eq!(data.bad_rows.len(), 1);
    assert_eq!(data.bad_rows[0].line, 3);
    assert_eq!(
        data.bad_rows[0].reason,
        "column `text`: invalid UTF-8 at byte 3 of the field"
    );

    let mut jsonl = b"{\"text\": \"ok\", \"label\": 1}\n".to_vec();
    jsonl.extend_from_slice(b"{\"text\": \"caf\xe9\", \"label\": 1}\n");
    let file = temp_file("latin1.jsonl", &jsonl);
    let error = Dataset::read(&file.path, &options(LabelKind::Class, BadRowPolicy::Fail))
        .unwrap_err()
        .to_string();
    assert!(
        error.ends_with("latin1.jsonl:2: invalid UTF-8 at byte 13 of the line"),
        "{error}"
    );
}

#[test]
fn empty_texts_and_labels_are_bad_rows() {
    let file = temp_file("e.csv", "text,label\n   ,1\n\"\",0\nreal,\nreal,1\n");
    let data = Dataset::read(&file.path, &options(LabelKind::Class, BadRowPolicy::Skip)).unwrap();
    assert_eq!(lines(&data), [5]);
    let reasons: Vec<&str> = data.bad_rows.iter().map(|r| r.reason.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "column `text`: empty text",
            "column `text`: empty text",
            "column `label`: empty label",
        ]
    );
}

#[test]
fn jsonl_with_string_int_float_and_list_labels() {
    let file = temp_file(
        "mixed.jsonl",
        r#"{"text": "a string label", "label": "positive", "extra": 1}
{"text": "an integer label", "label": 3}
{"text": "an integral float", "label": 2.0}

{"text": "a float label", "label": 0.25}
{"text": "a list label", "label": ["sports", 7]}
{"text": "trailing space ", "label": "negative"}
"#,
    );

    // Class labels: strings and integers; fractions and lists are bad rows with a hint.
    let data = Dataset::read(&file.path, &options(LabelKind::Class, BadRowPolicy::Skip)).unwrap();
    assert_eq!(data.format, Format::Jsonl);
    assert_eq!(data.columns, ["extra", "label", "text"]);
    let labels: Vec<_> = data.records.iter().map(|r| r.label.clone()).collect();
    assert_eq!(
        labels,
        [class("positive"), class("3"), class("2"), class("negative")]
    );
    assert_eq!(lines(&data), [1, 2, 3, 7]);
    assert_eq!(data.records[3].text, "trailing space");
    let reasons: Vec<(usize, &str)> = data
        .bad_rows
        .iter()
        .map(|r| (r.line, r.reason.as_str()))
        .collect();
    assert_eq!(
        reasons,
        [
            (
                5,
                "field `label`: expected a class label (a string or an integer), found the \
                 number 0.25 (fractional numbers are regression targets)"
            ),
            (
                6,
                "field `label`: expected a class label (a string or an integer), found an \
                 array (lists are multi-label labels)"
            ),
        ]
    );

    // Regression: every number; strings that are not numbers and lists are bad rows.
    let data = Dataset::read(
        &file.path,
        &options(LabelKind::Regression, BadRowPolicy::Skip),
    )
    .unwrap();
    let values: Vec<_> = data.records.iter().map(|r| r.label.clone()).collect();
    let value = |v: f64| Some(RawLabel::Value(v));
    assert_eq!(values, [value(3.0), value(2.0), value(0.25)]);
    assert_eq!(data.bad_rows.len(), 3);
    assert_eq!(
        data.bad_rows[0].reason,
        "field `label`: regression target \"positive\" is not a number"
    );

    // Multi-label: a list, or a single label (string or integer) as a list of one.
    let data = Dataset::read(
        &file.path,
        &options(LabelKind::MultiLabel, BadRowPolicy::Skip),
    )
    .unwrap();
    let multi = |names: &[&str]| {
        Some(RawLabel::Multi(
            names.iter().map(|s| s.to_string()).collect(),
        ))
    };
    let labels: Vec<_> = data.records.iter().map(|r| r.label.clone()).collect();
    assert_eq!(
        labels,
        [
            multi(&["positive"]),
            multi(&["3"]),
            multi(&["2"]),
            multi(&["sports", "7"]),
            multi(&["negative"]),
        ]
    );
    assert_eq!(data.bad_rows.len(), 1);
    assert_eq!(
        data.bad_rows[0].reason,
        "field `label`: expected a list of class labels, found the number 0.25"
    );
}

#[test]
fn multi_label_cells_split_on_the_separator() {
    let file = temp_file(
        "tags.csv",
        "text,tags\nfirst,sports|politics\nsecond, a | b |\nnone,\n",
    );
    let mut options = ReadOptions {
        label_kind: LabelKind::MultiLabel,
        ..ReadOptions::new(ColumnSpec::new("text", Some("tags")))
    };
    let data = Dataset::read(&file.path, &options).unwrap();
    let multi = |names: &[&str]| {
        Some(RawLabel::Multi(
            names.iter().map(|s| s.to_string()).collect(),
        ))
    };
    let labels: Vec<_> = data.records.iter().map(|r| r.label.clone()).collect();
    assert_eq!(
        labels,
        [
            multi(&["sports", "politics"]),
            multi(&["a", "b"]),
            multi(&[])
        ]
    );

    options.label_separator = ";".to_owned();
    let data = Dataset::read(&file.path, &options).unwrap();
    assert_eq!(data.records[0].label, multi(&["sports|politics"]));

    options.label_separator = String::new();
    assert!(matches!(
        Dataset::read(&file.path, &options),
        Err(DataError::InvalidOptions { .. })
    ));
}

#[test]
fn nan_and_non_numeric_regression_targets_are_bad_rows() {
    let file = temp_file(
        "stsb.tsv",
        "sentence1\tsentence2\tscore\n\
         a man plays\ta man is playing\t4.8\n\
         one\ttwo\tNaN\n\
         three\tfour\tinf\n\
         five\tsix\tabc\n\
         seven\teight\t1e39\n\
         nine\tten\t-0.5\n",
    );
    let options = ReadOptions {
        label_kind: LabelKind::Regression,
        bad_rows: BadRowPolicy::Skip,
        ..ReadOptions::new(ColumnSpec::pair("sentence1", "sentence2", Some("score")))
    };
    let data = Dataset::read(&file.path, &options).unwrap();
    assert_eq!(lines(&data), [2, 7]);
    assert_eq!(
        data.records[0].text_pair.as_deref(),
        Some("a man is playing")
    );
    assert_eq!(data.records[1].label, Some(RawLabel::Value(-0.5)));
    let reasons: Vec<(usize, &str)> = data
        .bad_rows
        .iter()
        .map(|r| (r.line, r.reason.as_str()))
        .collect();
    assert_eq!(
        reasons,
        [
            (3, "column `score`: regression target \"NaN\" is NaN"),
            (4, "column `score`: regression target \"inf\" is infinite"),
            (
                5,
                "column `score`: regression target \"abc\" is not a number"
            ),
            (
                6,
                "column `score`: regression target \"1e39\" is too large for a 32-bit float"
            ),
        ]
    );
    let error = Dataset::read(
        &file.path,
        &ReadOptions {
            bad_rows: BadRowPolicy::Fail,
            ..options
        },
    )
    .unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with("stsb.tsv:3: column `score`: regression target \"NaN\" is NaN"),
        "{error}"
    );
}

#[test]
fn missing_column_lists_the_available_ones() {
    let file = temp_file("s.tsv", "sentence\tlabel\nfine\t1\n");
    let error =
        Dataset::read(&file.path, &options(LabelKind::Class, BadRowPolicy::Skip)).unwrap_err();
    match &error {
        DataError::MissingColumn {
            line,
            column,
            available,
            ..
        } => {
            assert_eq!((*line, column.as_str()), (1, "text"));
            assert_eq!(available, &["sentence", "label"]);
        }
        other => panic!("expected MissingColumn, got {other:?}"),
    }
    assert!(
        error
            .to_string()
            .ends_with("s.tsv:1: no column `text` (available: \"sentence\", \"label\")"),
        "{error}"
    );

    let file = temp_file("s.jsonl", "{\"sentence\": \"fine\", \"label\": 1}\n");
    let error = Dataset::read(&file.path, &options(LabelKind::Class, BadRowPolicy::Skip))
        .unwrap_err()
        .to_string();
    assert!(
        error.ends_with("s.jsonl:1: no column `text` (available: \"label\", \"sentence\")"),
        "{error}"
    );

    // Without a label column, the label is not needed (prediction input).
    let file = temp_file("p.csv", "text\nto predict\n");
    let data = Dataset::read(&file.path, &ReadOptions::new(ColumnSpec::new("text", None))).unwrap();
    assert_eq!(data.records[0].label, None);
    assert!(!data.has_labels());
}

#[test]
fn empty_files_are_errors() {
    let cases: [(&str, &[u8], &str); 6] = [
        ("empty.csv", b"", "empty file (expected a header row)"),
        ("blank.tsv", b"\n\n", "empty file (expected a header row)"),
        ("header.csv", b"text,label\n", "no data rows"),
        ("empty.jsonl", b"\n  \n", "empty file"),
        (
            "allbad.tsv",
            b"text\tlabel\n\t1\n",
            "no readable data rows: all 1 rows are bad, the first: line 2: column `text`: empty \
             text",
        ),
        (
            "array.json",
            b"[{\"text\": \"a\", \"label\": 1}]",
            "1: this is a JSON array; expected JSON Lines (one object per line)",
        ),
    ];
    for (name, contents, expected) in cases {
        let file = temp_file(name, contents);
        let error = Dataset::read(&file.path, &options(LabelKind::Class, BadRowPolicy::Skip))
            .unwrap_err()
            .to_string();
        assert!(
            error.ends_with(&format!("{name}: {expected}"))
                || error.ends_with(&format!("{name}:{expected}")),
            "{name}: {error}"
        );
    }
}

#[test]
fn format_from_extension_or_explicit() {
    let file = temp_file("data.txt", "text\tlabel\nhello\t1\n");
    let error =
        Dataset::read(&file.path, &options(LabelKind::Class, BadRowPolicy::Fail)).unwrap_err();
    assert!(matches!(error, DataError::UnknownFormat { .. }), "{error}");
    let data = Dataset::read(
        &file.path,
        &ReadOptions {
            format: Some("tsv".parse().unwrap()),
            ..options(LabelKind::Class, BadRowPolicy::Fail)
        },
    )
    .unwrap();
    assert_eq!(texts(&data), ["hello"]);
    assert_eq!(Format::from_path("a/B.JSONL".as_ref()), Some(Format::Jsonl));
    assert_eq!(Format::from_path("x.json".as_ref()), Some(Format::Jsonl));
    assert_eq!(Format::from_path("x.csv".as_ref()), Some(Format::Csv));
    assert_eq!(Format::from_path("x".as_ref()), None);
    assert!("xml".parse::<Format>().is_err());

    // A missing file names itself.
    let missing = file.path.with_file_name("nope.csv");
    let error =
        Dataset::read(&missing, &options(LabelKind::Class, BadRowPolicy::Fail)).unwrap_err();
    assert!(matches!(error, DataError::Io { .. }));
    assert!(error.to_string().contains("nope.csv"), "{error}");
}

#[test]
fn tsv_quotes_are_literal_unless_asked() {
    let file = temp_file("q.tsv", "text\tlabel\n\"quoted\" start\t1\n");
    let data = Dataset::read(&file.path, &options(LabelKind::Class, BadRowPolicy::Fail)).unwrap();
    assert_eq!(texts(&data), ["\"quoted\" start"]);
    let quoting = ReadOptions {
        quoting: Some(true),
        ..options(LabelKind::Class, BadRowPolicy::Skip)
    };
    let error = Dataset::read(&file.path, &quoting).unwrap_err().to_string();
    assert!(
        error.contains("line 2: column `text` (field 1): unexpected character ' '"),
        "{error}"
    );
}

#[test]
fn duplicate_header_column_is_an_error() {
    let file = temp_file("d.csv", "text,label,text\na,1,b\n");
    let error = Dataset::read(&file.path, &options(LabelKind::Class, BadRowPolicy::Skip))
        .unwrap_err()
        .to_string();
    assert!(
        error.ends_with("d.csv:1: column `text` appears twice in the header (fields 1 and 3)"),
        "{error}"
    );
}

#[test]
fn bad_json_lines_name_line_and_column() {
    let file = temp_file(
        "b.jsonl",
        r#"{"text": "ok", "label": 1}
{"text": "oops" "label": 1}
[1, 2]
{"text": 5, "label": 1}
{"label": 1}
"#,
    );
    let data = Dataset::read(&file.path, &options(LabelKind::Class, BadRowPolicy::Skip)).unwrap();
    assert_eq!(lines(&data), [1]);
    let reasons: Vec<(usize, &str)> = data
        .bad_rows
        .iter()
        .map(|r| (r.line, r.reason.as_str()))
        .collect();
    assert_eq!(
        reasons,
        [
            (2, "invalid JSON at column 17: expected `,` or `}`"),
            (3, "expected a JSON object, found an array"),
            (4, "field `text`: expected a string, found the number 5"),
            (5, "no field `text`"),
        ]
    );
}
