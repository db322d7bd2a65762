//! Entity-level NER metrics against seqeval 1.2.2: every number of the committed fixture
//! `tests/fixtures/metrics/entities.json` (written by `scripts/make_metric_reference.py` from the
//! real tags of WNUT-2016 tweets, seeded corruptions and hand-written edge cases) must agree to
//! 1e-6, and every extracted entity exactly.

use std::path::Path;

use burnish_train::metrics::MetricsError;
use burnish_train::metrics::entities::{
    Entity, EntityReport, EntityScores, get_entities, get_entities_nested,
};
use serde_json::Value;

const TOL: f64 = 1e-6;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn fixture() -> Result<Value> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/metrics/entities.json");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "{}: {e} (run scripts/make_metric_reference.py)",
            path.display()
        )
    })?;
    Ok(serde_json::from_str(&text)?)
}

fn sentences(v: &Value) -> Vec<Vec<String>> {
    v.as_array()
        .expect("a list of sentences")
        .iter()
        .map(|s| {
            s.as_array()
                .expect("a list of tags")
                .iter()
                .map(|t| t.as_str().expect("a tag").to_owned())
                .collect()
        })
        .collect()
}

fn entities(v: &Value) -> Vec<Entity> {
    v.as_array()
        .expect("a list of entities")
        .iter()
        .map(|e| Entity {
            kind: e[0].as_str().unwrap().to_owned(),
            start: e[1].as_u64().unwrap() as usize,
            end: e[2].as_u64().unwrap() as usize,
        })
        .collect()
}

/// The largest difference seen, and where.
#[derive(Default)]
struct Diffs {
    max: f64,
    at: String,
    compared: usize,
}

impl Diffs {
    /// `theirs` is a number, or `null` for NaN.
    fn check(&mut self, what: String, ours: f64, theirs: &Value) {
        self.compared += 1;
        if theirs.is_null() {
            assert!(ours.is_nan(), "{what}: ours {ours}, seqeval NaN");
            return;
        }
        let theirs = theirs
            .as_f64()
            .unwrap_or_else(|| panic!("{what}: {theirs}"));
        let diff = (ours - theirs).abs();
        assert!(
            diff <= TOL,
            "{what}: ours {ours}, seqeval {theirs} (diff {diff:e})"
        );
        if diff > self.max || self.at.is_empty() {
            self.max = self.max.max(diff);
            self.at = what;
        }
    }

    fn scores(&mut self, what: &str, ours: &EntityScores, theirs: &Value) {
        self.check(
            format!("{what} precision"),
            ours.precision,
            &theirs["precision"],
        );
        self.check(format!("{what} recall"), ours.recall, &theirs["recall"]);
        self.check(format!("{what} f1"), ours.f1, &theirs["f1-score"]);
        assert_eq!(
            Some(ours.support),
            theirs["support"].as_u64(),
            "{what} support"
        );
    }
}

#[test]
fn entity_scores_match_seqeval() -> Result<()> {
    let fx = fixture()?;
    assert_eq!(fx["tools"]["seqeval"], "1.2.2");
    let mut diffs = Diffs::default();
    let (mut n_cases, mut n_sentences, mut n_entities) = (0, 0, 0);
    for case in fx["cases"].as_array().ok_or("cases")? {
        let name = case["name"].as_str().ok_or("name")?;
        let (truth, pred) = (sentences(&case["y_true"]), sentences(&case["y_pred"]));
        let exp = &case["expected"];
        n_cases += 1;
        n_sentences += truth.len();

        let (true_entities, pred_entities) =
            (get_entities_nested(&truth), get_entities_nested(&pred));
        assert_eq!(
            true_entities,
            entities(&exp["entities_true"]),
            "{name}: true entities"
        );
        assert_eq!(
            pred_entities,
            entities(&exp["entities_pred"]),
            "{name}: predicted entities"
        );
        n_entities += true_entities.len() + pred_entities.len();

        if exp["accuracy"].is_null() {
            // No tokens: seqeval's accuracy_score divides by zero; ours is an error.
            assert!(matches!(
                EntityReport::new(&truth, &pred),
                Err(MetricsError::Empty { .. })
            ));
            continue;
        }
        let r = EntityReport::new(&truth, &pred).map_err(|e| format!("{name}: {e}"))?;
        diffs.check(
            format!("{name} precision"),
            r.micro.precision,
            &exp["precision"],
        );
        diffs.check(format!("{name} recall"), r.micro.recall, &exp["recall"]);
        diffs.check(format!("{name} f1"), r.micro.f1, &exp["f1"]);
        diffs.check(
            format!("{name} accuracy"),
            r.token_accuracy,
            &exp["accuracy"],
        );

        let report = exp["report"].as_object().ok_or("report")?;
        let mut types = Vec::new();
        for (row, theirs) in report {
            let what = format!("{name} / {row}");
            match row.as_str() {
                "micro avg" => diffs.scores(&what, &r.micro, theirs),
                "macro avg" => diffs.scores(&what, &r.macro_avg, theirs),
                "weighted avg" => diffs.scores(&what, &r.weighted_avg, theirs),
                kind => {
                    let ours = r.per_type.get(kind).ok_or_else(|| what.clone())?;
                    diffs.scores(&what, ours, theirs);
                    types.push(kind.to_owned());
                }
            }
        }
        assert_eq!(
            r.per_type.keys().cloned().collect::<Vec<_>>(),
            types,
            "{name}: types"
        );
        let scalars = r.scalars();
        assert_eq!(scalars["f1"], r.micro.f1);
        assert_eq!(scalars["accuracy"], r.token_accuracy);
    }
    assert!(
        n_cases >= 20 && n_sentences >= 800,
        "{n_cases} cases, {n_sentences} sentences"
    );
    println!(
        "entity metrics vs seqeval: {n_cases} cases, {n_sentences} sentences, {n_entities} \
         entities, {} numbers compared; max |diff| = {:e} ({})",
        diffs.compared, diffs.max, diffs.at
    );
    Ok(())
}

#[test]
fn flat_sequences_match_seqeval_get_entities() -> Result<()> {
    let fx = fixture()?;
    for case in fx["flat_cases"].as_array().ok_or("flat_cases")? {
        let tags: Vec<&str> = case["tags"]
            .as_array()
            .ok_or("tags")?
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        assert_eq!(
            get_entities(&tags),
            entities(&case["entities"]),
            "{}",
            case["name"]
        );
    }
    Ok(())
}
