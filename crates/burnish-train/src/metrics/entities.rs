//! Entity-level metrics of token classification (NER), computed exactly as
//! [seqeval](https://github.com/chakki-works/seqeval) 1.2.2 does in its default mode
//! (`seqeval.metrics.f1_score(y_true, y_pred)` and friends without `mode="strict"`, the mode
//! compatible with `conlleval.pl` that the Hugging Face examples report).
//!
//! * Entities are read by [`get_entities`], a transcription of seqeval's lenient chunker: a tag's
//!   first character is its prefix and its type is what follows the first `-` after it (`"_"` when
//!   empty), and one set of rules (`start_of_chunk` / `end_of_chunk`) reads IOB1, IOB2, BIOES and
//!   malformed mixtures alike: an `I-` after `O` starts an entity, a type change ends one, a
//!   stray `E-`/`S-` ends one, tags with a prefix only (`"B"`) have type `"_"`, and so on.
//! * Sentences are joined with an `O` between them (seqeval's handling of a nested list), so
//!   entity positions count over all sentences and an entity never continues into the next
//!   sentence.
//! * An entity is correct when the same type spans the same tokens in truth and prediction.
//!   Precision, recall and F1 are micro-averaged over entities, per type, and macro / weighted
//!   averages over the types seen in truth or prediction, as `classification_report(...,
//!   output_dict=True)`. A zero denominator gives 0 (seqeval's default `zero_division="warn"`:
//!   0 plus a warning; here [`EntityReport::ill_defined`] lists what seqeval would warn about).
//!   With no entity of any type in truth or prediction the macro average is NaN, as seqeval's
//!   (numpy's mean of nothing), and the micro and weighted averages are 0.
//! * Token accuracy is `seqeval.metrics.accuracy_score`: the fraction of tags equal to the truth.
//!
//! `tests/entity_metrics.rs` compares every number with seqeval's on the committed fixture written
//! by `scripts/make_metric_reference.py`.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use super::{Metric, MetricValues, MetricsError, check_lengths, ratio, scalars_of};

/// One entity: a type and an inclusive token range (seqeval's `(type, start, end)`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Entity {
    /// The entity type (`"PER"` of `B-PER`); `"_"` for tags without one.
    pub kind: String,
    /// Index of the first token.
    pub start: usize,
    /// Index of the last token (inclusive, like seqeval).
    pub end: usize,
}

/// seqeval's reading of one tag: the first character is the prefix; the type is what follows the
/// first `-` after it, or everything after the first character when there is no `-`; an empty type
/// is `"_"`. An empty tag (on which seqeval raises `IndexError`) reads as `O`.
fn split_tag(tag: &str) -> (char, &str) {
    let mut chars = tag.chars();
    let Some(prefix) = chars.next() else {
        return ('O', "_");
    };
    let rest = chars.as_str();
    let kind = rest.split_once('-').map_or(rest, |(_, kind)| kind);
    (prefix, if kind.is_empty() { "_" } else { kind })
}

/// seqeval's `end_of_chunk`: whether a chunk ended between the previous and the current tag.
fn end_of_chunk(prev_tag: char, tag: char, prev_type: &str, kind: &str) -> bool {
    matches!(prev_tag, 'E' | 'S')
        || (matches!(prev_tag, 'B' | 'I') && matches!(tag, 'B' | 'S' | 'O'))
        || (prev_tag != 'O' && prev_tag != '.' && prev_type != kind)
}

/// seqeval's `start_of_chunk`: whether a chunk started between the previous and the current tag.
fn start_of_chunk(prev_tag: char, tag: char, prev_type: &str, kind: &str) -> bool {
    matches!(tag, 'B' | 'S')
        || (matches!(prev_tag, 'E' | 'S' | 'O') && matches!(tag, 'E' | 'I'))
        || (tag != 'O' && tag != '.' && prev_type != kind)
}

/// The chunker over one flat sequence, with seqeval's trailing `O`.
fn chunks<'a>(tags: impl IntoIterator<Item = &'a str>) -> Vec<Entity> {
    let mut entities = Vec::new();
    let (mut prev_tag, mut prev_type) = ('O', "");
    let mut begin = 0;
    for (i, tag) in tags.into_iter().chain(std::iter::once("O")).enumerate() {
        let (tag, kind) = split_tag(tag);
        // Never true at i = 0: the initial previous tag is 'O'.
        if end_of_chunk(prev_tag, tag, prev_type, kind) {
            entities.push(Entity {
                kind: prev_type.to_owned(),
                start: begin,
                end: i - 1,
            });
        }
        if start_of_chunk(prev_tag, tag, prev_type, kind) {
            begin = i;
        }
        (prev_tag, prev_type) = (tag, kind);
    }
    entities
}

/// The entities of one tag sequence, in order, as `seqeval.metrics.sequence_labeling.
/// get_entities(tags)` (default `suffix=False`).
///
/// ```
/// use burnish_train::metrics::entities::{get_entities, Entity};
/// let e = get_entities(&["B-PER", "I-PER", "O", "I-LOC"]);
/// assert_eq!(e, [
///     Entity { kind: "PER".into(), start: 0, end: 1 },
///     Entity { kind: "LOC".into(), start: 3, end: 3 },
/// ]);
/// ```
pub fn get_entities<S: AsRef<str>>(tags: &[S]) -> Vec<Entity> {
    chunks(tags.iter().map(AsRef::as_ref))
}

/// The entities of several sentences, as seqeval reads a nested list: the sentences are joined
/// with an `O` after each, so positions count over the joined sequence (sentence `k` starts at the
/// sum of the earlier sentences' lengths plus `k`).
pub fn get_entities_nested<S: AsRef<str>, T: AsRef<[S]>>(sentences: &[T]) -> Vec<Entity> {
    chunks(sentences.iter().flat_map(|sentence| {
        sentence
            .as_ref()
            .iter()
            .map(AsRef::as_ref)
            .chain(std::iter::once("O"))
    }))
}

/// `null` in JSON is NaN (serde_json writes non-finite numbers as `null`).
fn nan_if_null<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(deserializer)?.unwrap_or(f64::NAN))
}

/// Precision, recall and F1 of one entity type or one average, with the counts behind them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EntityScores {
    /// Correct / predicted entities (0 when nothing was predicted).
    #[serde(deserialize_with = "nan_if_null")]
    pub precision: f64,
    /// Correct / true entities (0 when there are none).
    #[serde(deserialize_with = "nan_if_null")]
    pub recall: f64,
    /// `2·P·R / (P + R)` (0 when `P + R` is 0).
    #[serde(deserialize_with = "nan_if_null")]
    pub f1: f64,
    /// Number of true entities (seqeval's support; summed over types for the averages).
    pub support: u64,
    /// Number of predicted entities (summed over types for the averages).
    pub predicted: u64,
    /// Number of correctly predicted entities (summed over types for the averages).
    pub correct: u64,
}

impl EntityScores {
    /// Scores from counts, computed as seqeval / scikit-learn do (`_prf_divide`, then
    /// `2·P·R / (P + R)`).
    pub fn from_counts(correct: u64, predicted: u64, support: u64) -> Self {
        let precision = ratio(correct as f64, predicted as f64);
        let recall = ratio(correct as f64, support as f64);
        let denominator = precision + recall;
        let f1 = if denominator == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / denominator
        };
        Self {
            precision,
            recall,
            f1,
            support,
            predicted,
            correct,
        }
    }
}

/// Entity-level evaluation of predicted tag sequences against the true ones, as seqeval 1.2.2
/// (see the [module documentation](self)). Serialises to the JSON written into a run directory and
/// prints as seqeval's text report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityReport {
    /// Number of sentences.
    pub num_sentences: u64,
    /// Number of tags (tokens).
    pub num_tokens: u64,
    /// Fraction of tags equal to the true tag (`seqeval.metrics.accuracy_score`).
    pub token_accuracy: f64,
    /// Micro average over all entities: the headline precision / recall / F1
    /// (`seqeval.metrics.f1_score(y_true, y_pred)`).
    pub micro: EntityScores,
    /// Unweighted mean over the types (NaN when there is no type at all).
    pub macro_avg: EntityScores,
    /// Mean over the types weighted by their support (0 when there is no true entity).
    pub weighted_avg: EntityScores,
    /// Scores of each type found in truth or prediction, by type name.
    pub per_type: BTreeMap<String, EntityScores>,
}

impl EntityReport {
    /// Evaluates the `predicted` tag sequences against the `truth`: one sequence per sentence,
    /// sentence by sentence of equal length (seqeval's `check_consistent_length`). The truth comes
    /// first, as seqeval's `(y_true, y_pred)`.
    ///
    /// # Errors
    /// A different number of sentences, a sentence whose predicted and true tags differ in
    /// number, or no tags at all.
    pub fn new<S: AsRef<str>, T: AsRef<[S]>>(
        truth: &[T],
        predicted: &[T],
    ) -> Result<Self, MetricsError> {
        check_lengths("entity metrics", predicted.len(), truth.len())?;
        let (mut num_tokens, mut num_correct) = (0u64, 0u64);
        for (p, t) in predicted.iter().zip(truth) {
            let (p, t) = (p.as_ref(), t.as_ref());
            if p.len() != t.len() {
                return Err(MetricsError::LengthMismatch {
                    what: "entity metrics (tags of one sentence)",
                    left: p.len(),
                    right: t.len(),
                });
            }
            num_tokens += t.len() as u64;
            num_correct += p
                .iter()
                .zip(t)
                .filter(|(a, b)| a.as_ref() == b.as_ref())
                .count() as u64;
        }
        if num_tokens == 0 {
            return Err(MetricsError::Empty {
                what: "entity metrics",
            });
        }

        type Spans = HashSet<(usize, usize)>;
        let group = |entities: Vec<Entity>| {
            let mut by_type: BTreeMap<String, Spans> = BTreeMap::new();
            for e in entities {
                by_type.entry(e.kind).or_default().insert((e.start, e.end));
            }
            by_type
        };
        let num_sentences = truth.len() as u64;
        let truth = group(get_entities_nested(truth));
        let predicted = group(get_entities_nested(predicted));
        let empty = Spans::new();
        let types: Vec<&String> = {
            let mut all: Vec<&String> = truth.keys().chain(predicted.keys()).collect();
            all.sort();
            all.dedup();
            all
        };
        let per_type: BTreeMap<String, EntityScores> = types
            .iter()
            .map(|&kind| {
                let t = truth.get(kind).unwrap_or(&empty);
                let p = predicted.get(kind).unwrap_or(&empty);
                let correct = t.intersection(p).count() as u64;
                let scores = EntityScores::from_counts(correct, p.len() as u64, t.len() as u64);
                (kind.clone(), scores)
            })
            .collect();

        let sum = |f: fn(&EntityScores) -> u64| per_type.values().map(f).sum::<u64>();
        let (correct, predicted, support) =
            (sum(|s| s.correct), sum(|s| s.predicted), sum(|s| s.support));
        let micro = EntityScores::from_counts(correct, predicted, support);
        let counts = EntityScores {
            precision: 0.0,
            recall: 0.0,
            f1: 0.0,
            support,
            predicted,
            correct,
        };
        let mean = |weight: fn(&EntityScores) -> f64| {
            let (mut p, mut r, mut f, mut w) = (0.0, 0.0, 0.0, 0.0);
            for s in per_type.values() {
                let x = weight(s);
                p += s.precision * x;
                r += s.recall * x;
                f += s.f1 * x;
                w += x;
            }
            (p / w, r / w, f / w)
        };
        // numpy's mean of an empty array is NaN: seqeval's macro average without any type.
        let (precision, recall, f1) = mean(|_| 1.0);
        let macro_avg = EntityScores {
            precision,
            recall,
            f1,
            ..counts
        };
        // seqeval returns zeros when the weights (true entities) sum to 0.
        let weighted_avg = if support == 0 {
            counts
        } else {
            let (precision, recall, f1) = mean(|s| s.support as f64);
            EntityScores {
                precision,
                recall,
                f1,
                ..counts
            }
        };
        Ok(Self {
            num_sentences,
            num_tokens,
            token_accuracy: num_correct as f64 / num_tokens as f64,
            micro,
            macro_avg,
            weighted_avg,
            per_type,
        })
    }

    /// What seqeval warns about (`UndefinedMetricWarning`) and sets to 0: precision of types never
    /// predicted, recall of types that never occur, and the same for the micro average.
    pub fn ill_defined(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut check = |name: &str, s: &EntityScores| {
            if s.predicted == 0 {
                out.push(format!(
                    "precision of {name} is ill-defined (no predicted entity) and set to 0"
                ));
            }
            if s.support == 0 {
                out.push(format!(
                    "recall of {name} is ill-defined (no true entity) and set to 0"
                ));
            }
        };
        for (kind, s) in &self.per_type {
            check(kind, s);
        }
        check("the micro average", &self.micro);
        out
    }

    /// The scalars for logs: micro `"precision"`, `"recall"`, `"f1"`, token `"accuracy"`, and
    /// `"f1_<TYPE>"` for each type.
    pub fn scalars(&self) -> BTreeMap<String, f64> {
        let mut out = scalars_of(self, &[Metric::F1, Metric::Accuracy]);
        out.insert("precision".to_owned(), self.micro.precision);
        out.insert("recall".to_owned(), self.micro.recall);
        for (kind, s) in &self.per_type {
            out.insert(format!("f1_{kind}"), s.f1);
        }
        out
    }

    /// Pretty-printed JSON; NaN (the macro average without any type) is written as `null`.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("an EntityReport always serialises to JSON")
    }

    /// Parses what [`EntityReport::to_json`] wrote (`null` scores become NaN).
    ///
    /// # Errors
    /// Invalid JSON or missing fields.
    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }
}

impl MetricValues for EntityReport {
    /// [`Metric::F1`] and [`Metric::F1Micro`] are the micro (headline) F1, [`Metric::Accuracy`]
    /// the token accuracy; macro and weighted F1 and macro precision / recall are there too.
    fn metric(&self, metric: Metric) -> Option<f64> {
        Some(match metric {
            Metric::F1 | Metric::F1Micro => self.micro.f1,
            Metric::F1Macro => self.macro_avg.f1,
            Metric::F1Weighted => self.weighted_avg.f1,
            Metric::PrecisionMacro => self.macro_avg.precision,
            Metric::RecallMacro => self.macro_avg.recall,
            Metric::Accuracy => self.token_accuracy,
            _ => return None,
        })
    }
}

impl fmt::Display for EntityReport {
    /// seqeval's `classification_report(..., digits=4)` text, then the token accuracy.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = self
            .per_type
            .keys()
            .map(|k| k.chars().count())
            .max()
            .unwrap_or(0)
            .max("weighted avg".len());
        let row = |f: &mut fmt::Formatter<'_>, name: &str, s: &EntityScores| {
            writeln!(
                f,
                "{name:>w$}  {:>9.4} {:>9.4} {:>9.4} {:>9}",
                s.precision, s.recall, s.f1, s.support
            )
        };
        writeln!(
            f,
            "{:>w$}  {:>9} {:>9} {:>9} {:>9}",
            "", "precision", "recall", "f1-score", "support"
        )?;
        writeln!(f)?;
        for (kind, s) in &self.per_type {
            row(f, kind, s)?;
        }
        writeln!(f)?;
        row(f, "micro avg", &self.micro)?;
        row(f, "macro avg", &self.macro_avg)?;
        row(f, "weighted avg", &self.weighted_avg)?;
        writeln!(f)?;
        writeln!(f, "token accuracy {:.4}", self.token_accuracy)
    }
}

#[cfg(test)]
mod tests {
    //! Expected entities are what seqeval 1.2.2's `get_entities` returns for the same input.
    use super::*;

    fn ents(tags: &[&str]) -> Vec<(String, usize, usize)> {
        get_entities(tags)
            .into_iter()
            .map(|e| (e.kind, e.start, e.end))
            .collect()
    }

    fn e(kind: &str, start: usize, end: usize) -> (String, usize, usize) {
        (kind.to_owned(), start, end)
    }

    #[test]
    fn iob2_iob1_and_bioes() {
        assert_eq!(
            ents(&["B-PER", "I-PER", "O", "B-LOC"]),
            [e("PER", 0, 1), e("LOC", 3, 3)]
        );
        // IOB1: I- starts an entity after O; B- separates two of the same type.
        assert_eq!(
            ents(&["I-PER", "I-PER", "B-PER", "I-LOC", "O", "I-LOC"]),
            [
                e("PER", 0, 1),
                e("PER", 2, 2),
                e("LOC", 3, 3),
                e("LOC", 5, 5)
            ]
        );
        assert_eq!(
            ents(&[
                "S-PER", "B-LOC", "I-LOC", "E-LOC", "S-LOC", "O", "B-MISC", "E-MISC"
            ]),
            [
                e("PER", 0, 0),
                e("LOC", 1, 3),
                e("LOC", 4, 4),
                e("MISC", 6, 7)
            ]
        );
        assert!(ents(&[]).is_empty());
        assert!(ents(&["O", "O"]).is_empty());
        // An entity running to the end is closed by the trailing 'O'.
        assert_eq!(ents(&["O", "B-PER", "I-PER"]), [e("PER", 1, 2)]);
    }

    #[test]
    fn lenient_rules_for_malformed_sequences() {
        // E- after O starts (and ends) an entity; E- after E- starts a new one.
        assert_eq!(
            ents(&["O", "E-PER", "I-PER", "O", "I-LOC", "E-LOC", "E-LOC"]),
            [
                e("PER", 1, 1),
                e("PER", 2, 2),
                e("LOC", 4, 5),
                e("LOC", 6, 6)
            ]
        );
        // A type change inside an entity ends it and starts another.
        assert_eq!(
            ents(&["B-PER", "I-LOC", "I-LOC", "E-ORG"]),
            [e("PER", 0, 0), e("LOC", 1, 2), e("ORG", 3, 3)]
        );
        // Tags with a prefix only have type "_"; types without a prefix lose their first letter.
        assert_eq!(
            ents(&["B", "I", "O", "S", "B-", "I-"]),
            [e("_", 0, 1), e("_", 3, 3), e("_", 4, 5)]
        );
        assert_eq!(
            ents(&["PER", "PER", "LOC", "O", "ORG"]),
            [e("ER", 0, 1), e("OC", 2, 2)]
        );
        // ... and a type after 'O' is outside: "ORG" is prefix 'O', type "RG".
        assert!(ents(&["ORG", "ORG"]).is_empty());
        // The type is what follows the first '-' after the prefix character.
        assert_eq!(
            ents(&["B-PER-X", "I-PER-X", "BX-Y", "b-per"]),
            [e("PER-X", 0, 1), e("Y", 2, 2), e("per", 3, 3)]
        );
        // '.' is neither inside nor outside: it neither starts nor ends a chunk by its type.
        assert_eq!(
            ents(&[".", "B-PER", ".", "I-PER", ".-PER", "O"]),
            [e("PER", 1, 1)]
        );
        // An unknown typeless tag first does not start anything that 'O' ends.
        assert_eq!(ents(&["X", "X", "O", "B-A"]), [e("A", 3, 3)]);
        // Non-ASCII prefixes and types; a typeless unknown tag at the end is never closed.
        assert_eq!(
            ents(&["B-ÖRG", "I-ÖRG", "Ä-X", "É"]),
            [e("ÖRG", 0, 1), e("X", 2, 2)]
        );
        // An empty tag (an IndexError in seqeval) reads as 'O'.
        assert_eq!(
            ents(&["B-PER", "", "I-PER"]),
            [e("PER", 0, 0), e("PER", 2, 2)]
        );
    }

    #[test]
    fn sentences_are_joined_with_an_o() {
        let sentences = [
            vec!["O", "B-PER", "I-PER"],
            vec!["I-PER", "O"],
            vec![],
            vec!["B-LOC"],
        ];
        let got: Vec<_> = get_entities_nested(&sentences)
            .into_iter()
            .map(|e| (e.kind, e.start, e.end))
            .collect();
        // Sentence 2 starts at 3 + 1 = 4; the empty sentence takes one 'O' (position 7).
        assert_eq!(got, [e("PER", 1, 2), e("PER", 4, 4), e("LOC", 8, 8)]);
    }

    /// ```python
    /// y_true = [['O','O','B-MISC','I-MISC','B-MISC','O','O'], ['B-PER','I-PER','O']]
    /// y_pred = [['O','O','B-MISC','I-MISC','B-MISC','I-MISC','O'], ['B-PER','I-PER','O']]
    /// classification_report(y_true, y_pred, output_dict=True); accuracy_score(y_true, y_pred)
    /// ```
    #[test]
    fn report_matches_seqeval_docstring() {
        let t = [
            vec!["O", "O", "B-MISC", "I-MISC", "B-MISC", "O", "O"],
            vec!["B-PER", "I-PER", "O"],
        ];
        let p = [
            vec!["O", "O", "B-MISC", "I-MISC", "B-MISC", "I-MISC", "O"],
            vec!["B-PER", "I-PER", "O"],
        ];
        let r = EntityReport::new(&t, &p).unwrap();
        let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-12, "{a} != {b}");
        close(r.micro.f1, 0.6666666666666666);
        close(r.macro_avg.f1, 0.75);
        close(r.weighted_avg.f1, 0.6666666666666666);
        close(r.per_type["MISC"].f1, 0.5);
        close(r.per_type["PER"].f1, 1.0);
        close(r.token_accuracy, 0.9);
        assert_eq!(
            (r.micro.support, r.micro.predicted, r.micro.correct),
            (3, 3, 2)
        );
        assert_eq!(r.per_type["MISC"].support, 2);
        assert!(r.ill_defined().is_empty());

        let s = r.scalars();
        assert_eq!(
            s.keys().collect::<Vec<_>>(),
            ["accuracy", "f1", "f1_MISC", "f1_PER", "precision", "recall"]
        );
        assert_eq!(s.metric(Metric::F1), Some(r.micro.f1));
        assert_eq!(r.metric(Metric::F1Macro), Some(r.macro_avg.f1));
        assert_eq!(r.metric(Metric::Accuracy), Some(0.9));
        assert_eq!(r.metric(Metric::Mcc), None);

        let table = r.to_string();
        let expected = "
              precision    recall  f1-score   support

        MISC     0.5000    0.5000    0.5000         2
         PER     1.0000    1.0000    1.0000         1

   micro avg     0.6667    0.6667    0.6667         3
   macro avg     0.7500    0.7500    0.7500         3
weighted avg     0.6667    0.6667    0.6667         3

token accuracy 0.9000
";
        assert_eq!(table, &expected[1..], "\n{table}");
    }

    #[test]
    fn no_entities_at_all_gives_nan_macro_and_round_trips() {
        let t = [vec!["O", "O"], vec!["O"]];
        let r = EntityReport::new(&t, &t).unwrap();
        assert!(r.per_type.is_empty());
        assert!(r.macro_avg.f1.is_nan() && r.macro_avg.precision.is_nan());
        assert_eq!(
            (r.micro.f1, r.weighted_avg.f1, r.token_accuracy),
            (0.0, 0.0, 1.0)
        );
        assert_eq!(r.ill_defined().len(), 2);
        let json = r.to_json();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert!(v["macro_avg"]["f1"].is_null());
        let back = EntityReport::from_json(&json).unwrap();
        assert!(back.macro_avg.recall.is_nan());
        assert_eq!(back.micro, r.micro);
    }

    #[test]
    fn bad_input_is_an_error() {
        let a = [vec!["O"]];
        let b = [vec!["O", "B-PER"]];
        assert!(matches!(
            EntityReport::new(&a, &b),
            Err(MetricsError::LengthMismatch {
                left: 2,
                right: 1,
                ..
            })
        ));
        assert!(matches!(
            EntityReport::new(&a, &[]),
            Err(MetricsError::LengthMismatch { .. })
        ));
        let none: [Vec<&str>; 0] = [];
        assert!(matches!(
            EntityReport::new(&none, &none),
            Err(MetricsError::Empty { .. })
        ));
        let empty = [Vec::<&str>::new()];
        assert!(matches!(
            EntityReport::new(&empty, &empty),
            Err(MetricsError::Empty { .. })
        ));
    }
}
