//! SQuAD EM/F1 against the official evaluation scripts: every score of the committed fixture
//! `tests/fixtures/metrics/squad.json` (written by `scripts/make_metric_reference.py` from real
//! dev-v1.1 questions with perturbed predictions and hand-written cases; v1.1 by the official
//! `evaluate-v1.1.py`, v2.0 by the official functions in `transformers.data.metrics.
//! squad_metrics`) must agree to 1e-6, per question and overall, and every normalised answer
//! exactly.

use std::collections::HashMap;
use std::path::Path;

use burnish_train::metrics::squad::{
    SquadGold, normalize_answer, question_score_v1, question_score_v2, squad_v1, squad_v2,
};
use serde_json::Value;

const TOL: f64 = 1e-6;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn fixture() -> Result<Value> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/metrics/squad.json");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "{}: {e} (run scripts/make_metric_reference.py)",
            path.display()
        )
    })?;
    Ok(serde_json::from_str(&text)?)
}

fn golds(set: &Value) -> Vec<SquadGold> {
    set["questions"]
        .as_array()
        .expect("questions")
        .iter()
        .map(|q| {
            let answers = q["answers"].as_array().expect("answers");
            SquadGold::new(
                q["id"].as_str().expect("id"),
                answers.iter().map(|a| a.as_str().expect("answer text")),
            )
        })
        .collect()
}

fn predictions(set: &Value) -> HashMap<String, String> {
    set["predictions"]
        .as_object()
        .expect("predictions")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("prediction").to_owned()))
        .collect()
}

#[derive(Default)]
struct Diffs {
    max: f64,
    at: String,
    compared: usize,
}

impl Diffs {
    fn check(&mut self, what: String, ours: f64, theirs: &Value) {
        let theirs = theirs
            .as_f64()
            .unwrap_or_else(|| panic!("{what}: expected a number, got {theirs}"));
        let diff = (ours - theirs).abs();
        assert!(
            diff <= TOL,
            "{what}: ours {ours}, official {theirs} (diff {diff:e})"
        );
        self.compared += 1;
        if diff > self.max || self.at.is_empty() {
            self.max = self.max.max(diff);
            self.at = what;
        }
    }
}

#[test]
fn squad_v1_matches_the_official_script() -> Result<()> {
    let fx = fixture()?;
    let set = &fx["v1"];
    let (golds, preds) = (golds(set), predictions(set));
    let mut diffs = Diffs::default();
    for gold in &golds {
        let Some(pred) = preds.get(&gold.id) else {
            continue;
        };
        let expected = &set["per_question"][&gold.id];
        let ours = question_score_v1(pred, &gold.answers).ok_or("gold answers")?;
        diffs.check(format!("v1 {} EM", gold.id), ours.exact_match, &expected[0]);
        diffs.check(format!("v1 {} F1", gold.id), ours.f1, &expected[1]);
    }
    let s = squad_v1(&preds, &golds)?;
    diffs.check(
        "v1 exact_match".into(),
        s.exact_match,
        &set["expected"]["exact_match"],
    );
    diffs.check("v1 f1".into(), s.f1, &set["expected"]["f1"]);
    assert_eq!(s.total, golds.len());
    assert!(s.missing > 0, "the fixture leaves some ids unanswered");
    // The official output, key for key.
    let official = s.to_official_json();
    assert_eq!(
        official.as_object().unwrap().keys().collect::<Vec<_>>(),
        set["expected"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>()
    );
    println!(
        "SQuAD v1.1 vs official: {} questions, {} numbers; max |diff| = {:e} ({})",
        golds.len(),
        diffs.compared,
        diffs.max,
        diffs.at
    );
    Ok(())
}

fn check_v2(fx: &Value, key: &str) -> Result<()> {
    let set = &fx[key];
    let (golds, preds) = (golds(set), predictions(set));
    let mut diffs = Diffs::default();
    for gold in &golds {
        let Some(pred) = preds.get(&gold.id) else {
            continue;
        };
        let expected = &set["per_question"][&gold.id];
        // A repeated id keeps its last gold answers (a dict in the official script).
        let last = golds.iter().rev().find(|g| g.id == gold.id).unwrap();
        let ours = question_score_v2(pred, &last.answers);
        diffs.check(
            format!("{key} {} exact", gold.id),
            ours.exact_match,
            &expected[0],
        );
        diffs.check(format!("{key} {} f1", gold.id), ours.f1, &expected[1]);
    }
    let s = squad_v2(&preds, &golds)?;
    let official = s.to_official_json();
    let ours = official.as_object().unwrap();
    let expected = set["expected"].as_object().ok_or("expected")?;
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "{key}: keys"
    );
    for (k, theirs) in expected {
        if k.ends_with("total") {
            assert_eq!(&ours[k], theirs, "{key} {k}");
        } else {
            diffs.check(format!("{key} {k}"), ours[k].as_f64().unwrap(), theirs);
        }
    }
    let missing = set["missing"].as_array().map_or(0, Vec::len);
    assert_eq!(s.missing, missing, "{key}: missing");
    println!(
        "SQuAD v2.0 ({key}) vs official: {} questions, {} numbers; max |diff| = {:e} ({})",
        golds.len(),
        diffs.compared,
        diffs.max,
        diffs.at
    );
    Ok(())
}

#[test]
fn squad_v2_matches_the_official_functions() -> Result<()> {
    let fx = fixture()?;
    check_v2(&fx, "v2")?;
    check_v2(&fx, "v2_missing")
}

#[test]
fn normalize_answer_matches_python() -> Result<()> {
    let fx = fixture()?;
    let cases = fx["normalize_answer"]
        .as_array()
        .ok_or("normalize_answer")?;
    for case in cases {
        let (input, expected) = (case[0].as_str().unwrap(), case[1].as_str().unwrap());
        assert_eq!(normalize_answer(input), expected, "input {input:?}");
    }
    assert!(cases.len() > 400);
    Ok(())
}
