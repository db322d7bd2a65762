//! The SQuAD reader: small files written for each case (v2 detection, misaligned answers,
//! errors with their JSON location or line, the flat Hugging Face layout as JSON Lines and under
//! `"data"`), then real SQuAD v1.1 files: the committed slice of the official dev set
//! (`tests/fixtures/squad`, CC BY-SA 4.0) and AllenNLP's SQuAD fixture in the assets folder
//! (`$BURNISH_ASSETS`, made by `scripts/fetch-assets.sh`).
//!
//! A missing asset fails the test: run `scripts/fetch-assets.sh`.

mod common;

use std::collections::HashSet;
use std::sync::Arc;

use burnish_data::{Answer, DataError, SquadDataset, SquadVersion};
use common::{asset, squad_slice, temp_file};

fn read(name: &str, contents: &str) -> Result<SquadDataset, DataError> {
    let file = temp_file(name, contents);
    SquadDataset::read(&file.path)
}

/// The message of an error, without the temporary folder: from the file name on.
fn message(error: &DataError, name: &str) -> String {
    let text = error.to_string();
    let at = text.find(name).unwrap_or(0);
    text[at..].to_owned()
}

const TWO_ARTICLES: &str = r#"{"version": "1.1", "data": [
  {"title": "Café", "paragraphs": [
    {"context": "Le café à Zürich ouvre à 8 h.", "qas": [
      {"id": "q1", "question": "Where?", "answers": [{"text": "Zürich", "answer_start": 10}]},
      {"id": "q2", "question": "When?", "answers": [{"text": "8 h", "answer_start": 25},
                                                      {"text": "8", "answer_start": 25}]}
    ]},
    {"context": "Second paragraph.", "qas": [
      {"id": "q3", "question": "Which?", "answers": [{"text": "Second", "answer_start": 0}]}
    ]}
  ]},
  {"title": "Empty", "paragraphs": []},
  {"title": "Third", "paragraphs": [
    {"context": "abc", "qas": [{"id": 4, "question": "?", "answers": [{"text": "bc", "answer_start": 1.0}]}]}
  ]}
]}"#;

#[test]
fn squad_json_articles_paragraphs_and_character_offsets() {
    let data = read("small.json", TWO_ARTICLES).unwrap();
    assert_eq!(data.version, SquadVersion::V1);
    assert_eq!(data.len(), 4);
    assert_eq!(data.articles, 3);
    assert_eq!(data.misaligned_answers, 0);
    let q1 = &data.examples[0];
    assert_eq!(
        (q1.id.as_str(), q1.article, q1.paragraph, q1.title.as_str()),
        ("q1", 0, 0, "Café")
    );
    assert_eq!(q1.line, None);
    assert!(!q1.is_impossible);
    // Character 10 is byte 12: "é" and "à" are two bytes each.
    assert_eq!(q1.answer_span(), Some((12, 19)));
    assert_eq!(&q1.context[12..19], "Zürich");
    // The questions of a paragraph share its context.
    assert!(Arc::ptr_eq(&q1.context, &data.examples[1].context));
    assert_eq!(data.examples[1].answers.len(), 2);
    assert_eq!(
        (data.examples[2].article, data.examples[2].paragraph),
        (0, 1)
    );
    // Integer ids are kept as text; the empty article counts.
    let q4 = &data.examples[3];
    assert_eq!((q4.id.as_str(), q4.article), ("4", 2));
    assert_eq!(
        q4.answers,
        [Answer {
            text: "bc".into(),
            char_start: 1
        }]
    );

    let tail = data.articles_range(1..3);
    assert_eq!(tail.articles, 2);
    assert_eq!(tail.len(), 1);
    assert_eq!(tail.examples[0].article, 1);
    let head = data.articles_range(0..1);
    assert_eq!((head.articles, head.len()), (1, 3));
    // Past the end: what there is.
    assert_eq!(data.articles_range(2..10).articles, 1);
    assert!(data.articles_range(5..10).is_empty());
}

#[test]
fn version_2_and_misaligned_answers() {
    let contents = r#"{"version": "v2.0", "data": [{"title": "T", "paragraphs": [
      {"context": "Paris is big.", "qas": [
        {"id": "a", "question": "?", "answers": [{"text": "Paris", "answer_start": 0}], "is_impossible": false},
        {"id": "b", "question": "?", "answers": [], "plausible_answers": [{"text": "big", "answer_start": 9}], "is_impossible": true},
        {"id": "c", "question": "?", "answers": [{"text": "paris", "answer_start": 0}, {"text": "big.", "answer_start": 10}]}
      ]}]}]}"#;
    let data = read("v2.json", contents).unwrap();
    assert_eq!(data.version, SquadVersion::V2);
    let impossible: Vec<bool> = data.examples.iter().map(|e| e.is_impossible).collect();
    assert_eq!(impossible, [false, true, false]);
    assert_eq!(data.examples[1].answer_span(), None);
    // "paris" is not "Paris"; "big." at 10 runs past the end. Both are kept, and counted.
    assert_eq!(data.misaligned_answers, 2);
    let c = &data.examples[2];
    assert_eq!(c.answers.len(), 2);
    assert!(!c.answers[0].is_aligned(&c.context));
    assert_eq!(c.answer_span(), Some((0, 5)));
    assert_eq!(c.answers[1].byte_span(&c.context), None);

    // No version field, but is_impossible: V2 too.
    let contents = r#"{"data": [{"paragraphs": [{"context": "x", "qas": [
        {"id": "a", "question": "?", "answers": [], "is_impossible": true}]}]}]}"#;
    let data = read("v2b.json", contents).unwrap();
    assert_eq!(data.version, SquadVersion::V2);
    assert_eq!(data.examples[0].title, "");
}

#[test]
fn errors_name_the_file_and_the_json_location() {
    let cases = [
        (
            r#"{"data": [{"title": "T", "paragraphs": [{"context": "c", "qas": []},
                {"context": "c", "qas": [{"id": "x", "question": "?"}]}]}]}"#,
            "bad.json: data[0].paragraphs[1].qas[0].answers: missing",
        ),
        (
            r#"{"data": [{"title": "T", "paragraphs": [{"context": "c", "qas": [
                {"id": "x", "question": "?", "answers": [{"text": "c", "answer_start": "0"}]}]}]}]}"#,
            "bad.json: data[0].paragraphs[0].qas[0].answers[0].answer_start: expected a \
             non-negative integer (a character offset), found a string",
        ),
        (
            r#"{"data": [{"title": "T", "paragraphs": [{"context": "c", "qas": [
                {"id": "x", "question": "?", "answers": [{"text": "c", "answer_start": -1}]}]}]}]}"#,
            "bad.json: data[0].paragraphs[0].qas[0].answers[0].answer_start: expected a \
             non-negative integer (a character offset), found the number -1",
        ),
        (
            r#"{"data": [{"title": "T", "paragraphs": [{"context": "c", "qas": [
                {"id": "x", "question": "?", "answers": []},
                {"id": "x", "question": "?", "answers": []}]}]}]}"#,
            "bad.json: data[0].paragraphs[0].qas[1].id: id \"x\" is also the id of \
             data[0].paragraphs[0].qas[0]",
        ),
        (
            r#"{"data": [{"title": 3, "paragraphs": []}]}"#,
            "bad.json: data[0].title: expected a string, found the number 3",
        ),
        (
            r#"{"data": {"title": "T"}}"#,
            "bad.json: data: expected a list, found an object",
        ),
        (
            "{\"data\": [\n  {\"title\": \"T\",\n   \"paragraphs\": [}\n]}",
            "bad.json:3: invalid JSON at column 19: expected value",
        ),
        (
            r#"[{"data": []}]"#,
            "bad.json:1: expected a SQuAD JSON object with a `data` list",
        ),
        (r#"{"data": []}"#, "bad.json: no questions"),
        ("  \n", "bad.json: empty file"),
    ];
    for (contents, expected) in cases {
        let error = read("bad.json", contents).unwrap_err();
        let text = message(&error, "bad.json");
        assert!(text.starts_with(expected), "{text}\nexpected: {expected}");
    }
    let error = SquadDataset::read("/nonexistent/dev.json").unwrap_err();
    assert!(matches!(error, DataError::Io { .. }), "{error}");
}

#[test]
fn flat_records_as_json_lines_and_under_data() {
    // The Hugging Face `datasets` layout; two titles make two articles.
    let lines = r#"{"id": "1", "title": "A", "context": "Köln am Rhein", "question": "Where?", "answers": {"text": ["Rhein"], "answer_start": [8]}}

{"id": "2", "title": "A", "context": "Köln am Rhein", "question": "What?", "answers": {"text": ["Köln", "Köln am"], "answer_start": [0, 0]}}
{"id": "3", "title": "A", "context": "Other", "question": "?", "answers": {"text": [], "answer_start": []}}
{"id": "4", "title": "B", "context": "Other", "question": "?", "answers": [{"text": "Other", "answer_start": 0}]}
"#;
    let data = read("train.jsonl", lines).unwrap();
    assert_eq!(data.len(), 4);
    assert_eq!(data.articles, 2);
    // A question without answers makes it SQuAD 2.0.
    assert_eq!(data.version, SquadVersion::V2);
    let where_: Vec<(usize, usize, Option<usize>)> = data
        .examples
        .iter()
        .map(|e| (e.article, e.paragraph, e.line))
        .collect();
    assert_eq!(
        where_,
        [
            (0, 0, Some(1)),
            (0, 0, Some(3)),
            (0, 1, Some(4)),
            (1, 0, Some(5))
        ]
    );
    assert!(Arc::ptr_eq(
        &data.examples[0].context,
        &data.examples[1].context
    ));
    assert_eq!(data.examples[0].answer_span(), Some((9, 14)));
    assert!(data.examples[2].is_impossible);
    assert_eq!(data.misaligned_answers, 0);

    // The same records in a .json file are told apart by content.
    let same = read("train.json", lines).unwrap();
    assert_eq!(
        (&same.examples, same.articles, same.version),
        (&data.examples, data.articles, data.version)
    );

    // Under "data" of a JSON file (transformers' run_qa.py with field="data").
    let under_data = r#"{"data": [
        {"id": "1", "context": "abc", "question": "?", "answers": {"text": ["b"], "answer_start": [1]}},
        {"id": "2", "context": "abc", "question": "?", "answers": {"text": ["c"], "answer_start": [2]}}
    ]}"#;
    let data = read("flat.json", under_data).unwrap();
    assert_eq!((data.len(), data.articles), (2, 1));
    assert_eq!(data.version, SquadVersion::V1);
    assert_eq!(data.examples[1].answer_span(), Some((2, 3)));

    // Errors carry the line.
    let bad = "{\"id\": \"1\", \"context\": \"c\", \"question\": \"?\", \"answers\": {\"text\": [\"c\"], \"answer_start\": [0]}}\n\
               {\"id\": \"2\", \"context\": \"c\", \"question\": \"?\", \"answers\": {\"text\": [\"c\"], \"answer_start\": []}}\n";
    let error = read("bad.jsonl", bad).unwrap_err();
    assert_eq!(
        message(&error, "bad.jsonl"),
        "bad.jsonl:2: field `answers`: 1 texts but 0 answer_start values"
    );
    let bad = "{\"id\": \"1\", \"context\": \"c\", \"question\": \"?\", \"answers\": []}\n\
               {\"id\": \"1\", \"context\": \"c\", \"question\": \"?\", \"answers\": []}\n";
    let error = read("bad.jsonl", bad).unwrap_err();
    assert_eq!(
        message(&error, "bad.jsonl"),
        "bad.jsonl:2: field `id`: id \"1\" is also the id of line 1"
    );
    let error = read("bad.jsonl", "{\"id\": \"1\", \"question\": \"?\"}\nnope\n").unwrap_err();
    assert_eq!(
        message(&error, "bad.jsonl"),
        "bad.jsonl:1: field `context`: missing"
    );
    let error = read(
        "bad.jsonl",
        "{\"id\": \"1\", \"context\": \"c\", \"question\": \"?\", \"answers\": []}\nnope\n",
    )
    .unwrap_err();
    assert!(
        message(&error, "bad.jsonl").starts_with("bad.jsonl:2: invalid JSON at column 2"),
        "{error}"
    );
}

/// The committed slice of the official SQuAD v1.1 dev file (`tests/fixtures/squad/README.md`:
/// 37 paragraphs of 4 articles, copied unchanged); counts checked independently with Python's
/// `json` (and Python's string slicing and UTF-8 encoding for the answers).
#[test]
fn squad_v11_dev_slice_real_file() {
    let path = squad_slice();
    let dev = SquadDataset::read(&path).unwrap();
    assert_eq!(dev.version, SquadVersion::V1);
    assert_eq!(dev.articles, 4);
    assert_eq!(dev.len(), 350);
    let answers: usize = dev.examples.iter().map(|e| e.answers.len()).sum();
    assert_eq!(answers, 1_083);
    assert_eq!(dev.misaligned_answers, 0);
    assert!(
        dev.examples
            .iter()
            .all(|e| !e.is_impossible && !e.answers.is_empty())
    );
    let paragraphs: HashSet<(usize, usize)> = dev
        .examples
        .iter()
        .map(|e| (e.article, e.paragraph))
        .collect();
    assert_eq!(paragraphs.len(), 37);
    let ids: HashSet<&str> = dev.examples.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids.len(), 350);

    let first = &dev.examples[0];
    assert_eq!(first.id, "56be4db0acb8001400a502ec");
    assert_eq!(first.title, "Super_Bowl_50");
    assert_eq!(
        first.question,
        "Which NFL team represented the AFC at Super Bowl 50?"
    );
    let (start, end) = first.answer_span().unwrap();
    assert_eq!(&first.context[start..end], "Denver Broncos");
    assert_eq!(start, 177);
    // Character and byte offsets differ for 263 of the answers (non-ASCII text before them),
    // e.g. the third question's: character 403 is byte 405.
    let shifted = dev
        .examples
        .iter()
        .flat_map(|e| e.answers.iter().map(move |a| (a, e)))
        .filter(|(a, e)| a.byte_span(&e.context).unwrap().0 != a.char_start)
        .count();
    assert_eq!(shifted, 263);
    let third = &dev.examples[2];
    assert_eq!(third.answers[0].char_start, 403);
    assert_eq!(
        third.answer_span(),
        Some((405, 405 + "Santa Clara, California".len()))
    );
    // The dev file's last question; its answer is 3 bytes past its character offset.
    let last = dev.examples.last().unwrap();
    assert_eq!(
        (last.id.as_str(), last.article, last.paragraph),
        ("5737aafd1c456719005744ff", 3, 7)
    );
    assert_eq!(last.answers[0].text, "sthène");
    assert_eq!(last.answers[0].char_start, 665);
    assert_eq!(last.answer_span(), Some((668, 668 + "sthène".len())));
    assert!(last.answers[0].is_aligned(&last.context));

    // Article ranges, as the benchmark splits the full dev set (--train-articles 0:38).
    let per_article: Vec<(usize, String)> = (0..4)
        .map(|a| {
            let part = dev.articles_range(a..a + 1);
            (part.len(), part.examples[0].title.clone())
        })
        .collect();
    assert_eq!(
        per_article,
        [
            (216, "Super_Bowl_50".to_owned()),
            (51, "European_Union_law".to_owned()),
            (47, "Packet_switching".to_owned()),
            (36, "Force".to_owned()),
        ]
    );
    let head = dev.articles_range(0..3);
    let tail = dev.articles_range(3..4);
    assert_eq!((head.articles, head.len()), (3, 314));
    assert_eq!((tail.articles, tail.len()), (1, 36));
    assert_eq!(tail.examples[0].article, 0);
    assert_eq!(tail.examples[0].title, "Force");
    assert_eq!(head.examples.last().unwrap().title, "Packet_switching");
    assert_eq!(head.misaligned_answers + tail.misaligned_answers, 0);
}

/// AllenNLP 0.9.0's SQuAD fixture (`allennlp/tests/fixtures/data/squad.json`, in the wheel): one
/// article, two paragraphs, five questions, seven answers; no `version` field.
#[test]
fn allennlp_squad_fixture() {
    let path = asset("squad-fixture/squad.json");
    let data = SquadDataset::read(&path).unwrap();
    assert_eq!(data.version, SquadVersion::V1);
    assert_eq!((data.articles, data.len()), (1, 5));
    let answers: usize = data.examples.iter().map(|e| e.answers.len()).sum();
    assert_eq!(answers, 7);
    assert_eq!(data.misaligned_answers, 0);
    assert!(
        data.examples
            .iter()
            .all(|e| e.title == "University_of_Notre_Dame")
    );
    let paragraphs: Vec<usize> = data.examples.iter().map(|e| e.paragraph).collect();
    assert_eq!(paragraphs, [0, 0, 1, 1, 1]);
    let ids: Vec<&str> = data.examples.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "5733be284776f41900661182",
            "5733be284776f4190066117e",
            "5733b1da4776f41900661068",
            "5733b1da4776f4190066106b",
            "5733b1da4776f41900661067"
        ]
    );
    // A truncated answer text is still where its offset says.
    let e = &data.examples[3];
    assert_eq!(
        e.answers[0],
        Answer {
            text: "Father Julius Nieuwl".into(),
            char_start: 222
        }
    );
    let (start, end) = e.answer_span().unwrap();
    assert_eq!(&e.context[start..end], "Father Julius Nieuwl");
    // An answer that is the whole paragraph.
    let whole = &data.examples[1].answers[2];
    assert_eq!(
        whole.byte_span(&data.examples[1].context),
        Some((0, data.examples[1].context.len()))
    );
}
