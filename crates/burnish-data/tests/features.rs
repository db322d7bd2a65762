//! Task features on real data with the real all-MiniLM-L6-v2 tokenizer: WNUT-2016 tweets (the
//! assets folder) become labelled sub-word windows (a sentence longer than the model's 512
//! positions is split at word boundaries and labelled in full), and SQuAD v1.1 questions whose
//! answer lies past the first 384-token window are labelled in a later window; the windows of
//! the committed SQuAD v1.1 dev slice (`tests/fixtures/squad`) are those of the PyTorch side's
//! `run_qa.py` preparation (as the SQuAD benchmark prepares its training set), window for window.
//!
//! A missing asset fails the test: run `scripts/fetch-assets.sh`.

mod common;

use burnish_data::{
    IGNORE_INDEX, LabelMap, NerDataset, NerReadOptions, QaFeatureOptions, SquadDataset,
    SubwordLabels, TokenFeatureOptions, WordsInput, qa_features, qa_inputs, token_features,
};
use common::{asset, minilm_tokenizer, squad_slice};

/// Checks that every word of every sentence carries its own tag exactly once (at its first
/// sub-word), that no window is longer than `max_length`, and that windows follow each other
/// word by word.
fn assert_labelled_in_full(
    features: &[burnish_data::TokenFeature],
    tags: &[Vec<u32>],
    max_length: usize,
) {
    let mut seen: Vec<Vec<usize>> = tags.iter().map(|t| vec![0; t.len()]).collect();
    for f in features {
        assert!(f.len() <= max_length, "a window of {} tokens", f.len());
        assert_eq!(f.ids.len(), f.labels.len());
        assert_eq!(f.ids.len(), f.word_ids.len());
        let mut previous = None;
        for (label, word) in f.labels.iter().zip(&f.word_ids) {
            match word {
                None => assert_eq!(*label, IGNORE_INDEX, "special tokens are ignored"),
                Some(w) => {
                    if previous != Some(*w) {
                        assert_eq!(*label, i64::from(tags[f.sentence][*w]));
                        seen[f.sentence][*w] += 1;
                    } else {
                        assert_eq!(*label, IGNORE_INDEX, "continuations are ignored");
                    }
                }
            }
            previous = *word;
        }
    }
    for (s, words) in seen.iter().enumerate() {
        for (w, &n) in words.iter().enumerate() {
            assert_eq!(n, 1, "sentence {s} word {w} labelled {n} times");
        }
    }
}

#[test]
fn ner_sentences_become_labelled_windows_and_a_sentence_past_512_positions_is_kept_whole() {
    let path = asset("wnut16/train.txt");
    let tokenizer = minilm_tokenizer();
    let data = NerDataset::read(&path, &NerReadOptions::default()).unwrap();
    let map = LabelMap::new(data.tag_set()).unwrap();
    let mut sentences: Vec<(Vec<String>, Vec<u32>, usize)> = data
        .sentences
        .iter()
        .map(|s| {
            let tags = s.tags.iter().map(|t| map.id(t).unwrap()).collect();
            (s.tokens.clone(), tags, s.line)
        })
        .collect();
    // One giant sentence: the first 60 tweets end to end (1,143 words), far more than
    // the 512 positions MiniLM has.
    let (mut words, mut tags) = (Vec::new(), Vec::new());
    for (w, t, _) in sentences.iter().take(60) {
        words.extend(w.iter().cloned());
        tags.extend(t.iter().copied());
    }
    assert!(words.len() > 600, "{} words", words.len());
    sentences.push((words, tags, 1));

    let inputs: Vec<WordsInput<'_>> = sentences
        .iter()
        .map(|(w, t, line)| WordsInput {
            words: w,
            tags: Some(t),
            line: *line,
        })
        .collect();
    let all_tags: Vec<Vec<u32>> = sentences.iter().map(|(_, t, _)| t.clone()).collect();

    let out = token_features(&tokenizer, &inputs, &TokenFeatureOptions::new(512), &path).unwrap();
    // Only the giant sentence needs windows.
    assert_eq!(out.split_sentences, 1);
    let giant = sentences.len() - 1;
    let windows: Vec<_> = out
        .features
        .iter()
        .filter(|f| f.sentence == giant)
        .collect();
    assert!(windows.len() >= 2, "{} windows", windows.len());
    assert!(
        windows
            .iter()
            .all(|f| f.ids[0] == tokenizer.cls_id().unwrap())
    );
    assert_labelled_in_full(&out.features, &all_tags, 512);
    assert_eq!(out.empty_words, 0);

    // Short windows split many real sentences; still every word exactly once.
    let short = token_features(&tokenizer, &inputs, &TokenFeatureOptions::new(16), &path).unwrap();
    assert!(short.split_sentences > 100, "{}", short.split_sentences);
    assert_labelled_in_full(&short.features, &all_tags, 16);
}

#[test]
fn all_subword_labels_continue_b_as_i() {
    let tokenizer = minilm_tokenizer();
    let map = LabelMap::new(vec!["O".into(), "B-PER".into(), "I-PER".into()]).unwrap();
    // "Schwarzenegger" is several WordPiece tokens in MiniLM's vocabulary.
    let words: Vec<String> = ["Arnold", "Schwarzenegger", "spoke"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let tags = [1u32, 2, 0];
    let options = TokenFeatureOptions {
        subword_labels: SubwordLabels::All,
        continuation: vec![0, 2, 2],
        ..TokenFeatureOptions::new(32)
    };
    let out = token_features(
        &tokenizer,
        &[WordsInput {
            words: &words,
            tags: Some(&tags),
            line: 1,
        }],
        &options,
        std::path::Path::new("inline"),
    )
    .unwrap();
    let f = &out.features[0];
    let pieces = f.word_ids.iter().filter(|w| **w == Some(1)).count();
    assert!(pieces > 1, "Schwarzenegger is one token?");
    let labels: Vec<i64> = f.labels.clone();
    // [CLS] Arnold Schwarz ##ene ##gger spoke [SEP]: B, I, I..., O; specials ignored.
    assert_eq!(labels[0], IGNORE_INDEX);
    assert_eq!(*labels.last().unwrap(), IGNORE_INDEX);
    let inner: Vec<i64> = labels[1..labels.len() - 1].to_vec();
    let mut expected = vec![1i64];
    expected.extend(std::iter::repeat_n(2, pieces));
    expected.push(0);
    assert_eq!(inner, expected);
    let _ = map;
}

#[test]
fn squad_answers_past_the_first_window_are_labelled_in_a_later_one() {
    let path = squad_slice();
    let tokenizer = minilm_tokenizer();
    let data = SquadDataset::read(&path).unwrap();
    let inputs = qa_inputs(&data.examples);
    let options = QaFeatureOptions::default();
    let out = qa_features(&tokenizer, &inputs, options, &path).unwrap();
    assert!(out.split_examples > 0);

    let mut later_window_answers = 0;
    let mut first_of = vec![None; data.examples.len()];
    for (i, f) in out.features.iter().enumerate() {
        assert!(f.len() <= 384);
        first_of[f.example].get_or_insert(i);
        if !f.has_answer() {
            continue;
        }
        // The labelled tokens cover the answer text exactly as the context has it (up to
        // sub-word boundaries: the span may start or end inside a labelled token).
        let example = &data.examples[f.example];
        let (a, b) = example.answer_span().unwrap();
        let (s, e) = (
            f.context_offsets[f.start].unwrap(),
            f.context_offsets[f.end].unwrap(),
        );
        assert!(
            s.0 <= a && a < s.1.max(s.0 + 1),
            "start token {s:?} vs answer {a}"
        );
        assert!(e.0 < b && b <= e.1, "end token {e:?} vs answer end {b}");
        if Some(i) != first_of[f.example] {
            later_window_answers += 1;
        }
    }
    assert!(
        later_window_answers > 0,
        "no answer lies in a window after the first"
    );
    // Every answerable question has its answer in at least one window.
    let mut answered = vec![false; data.examples.len()];
    for f in &out.features {
        answered[f.example] |= f.has_answer();
    }
    let missing = answered.iter().filter(|a| !**a).count();
    assert_eq!(missing, 0, "{missing} questions lost their answer");
    eprintln!(
        "{} questions, {} windows, {} questions in several windows, {} answers labelled in a \
         later window",
        data.examples.len(),
        out.features.len(),
        out.split_examples,
        later_window_answers
    );
}

/// 32-bit FNV-1a over the values as 4 little-endian bytes each (as
/// `scripts/make_qa_feature_reference.py` hashes a window's ids then its token types).
fn fnv1a32(values: impl IntoIterator<Item = u32>) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for v in values {
        for b in v.to_le_bytes() {
            h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
        }
    }
    h
}

/// The training windows of the committed SQuAD v1.1 dev slice (350 questions, 420 windows, 59 of
/// them without the answer) are those of the PyTorch side's `run_qa.py` preparation (the SQuAD
/// benchmark's, `scripts/finetune_torch_qa.py`), window for window: the same question, token
/// ids, token types, length and start/end labels, against
/// `tests/fixtures/reference/squad-train-features.json` (`scripts/make_qa_feature_reference.py`).
#[test]
fn squad_training_windows_match_run_qa_py() {
    #[derive(serde::Deserialize)]
    struct Reference {
        questions: usize,
        windows: usize,
        cls_windows: usize,
        example: Vec<usize>,
        len: Vec<usize>,
        start: Vec<usize>,
        end: Vec<usize>,
        hash: Vec<u32>,
    }
    let path = squad_slice();
    let tokenizer = minilm_tokenizer();
    let reference: Reference = serde_json::from_str(
        &std::fs::read_to_string(
            common::workspace_root().join("tests/fixtures/reference/squad-train-features.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let data = SquadDataset::read(&path).unwrap();
    assert_eq!(data.len(), reference.questions, "number of questions");
    let inputs = qa_inputs(&data.examples);
    let out = qa_features(&tokenizer, &inputs, QaFeatureOptions::default(), &path).unwrap();
    assert_eq!(out.features.len(), reference.windows, "number of windows");
    let cls = out.features.iter().filter(|f| !f.has_answer()).count();
    assert_eq!(cls, reference.cls_windows, "windows labelled [CLS]");
    for (i, f) in out.features.iter().enumerate() {
        let got = (f.example, f.len(), f.start, f.end);
        let want = (
            reference.example[i],
            reference.len[i],
            reference.start[i],
            reference.end[i],
        );
        assert_eq!(got, want, "window {i}: (question, length, start, end)");
        let hash = fnv1a32(f.ids.iter().chain(&f.type_ids).copied());
        assert_eq!(
            hash, reference.hash[i],
            "window {i}: ids or token types differ"
        );
    }
}
