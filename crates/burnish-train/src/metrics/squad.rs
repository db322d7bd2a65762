//! SQuAD evaluation: exact match and token F1 exactly as the official SQuAD evaluation scripts.
//!
//! * v1.1 ([`squad_v1`]) is `evaluate-v1.1.py`: both strings are normalised by
//!   [`normalize_answer`]; exact match compares the normalised strings, F1 is the F1 of the
//!   multiset overlap of their whitespace tokens (0 without overlap, so also when both are empty);
//!   each question scores the best over its gold answers; the scores are averaged over all
//!   questions of the data and multiplied by 100. A question without a prediction scores 0; a
//!   prediction for an id not in the data is ignored.
//! * v2.0 ([`squad_v2`]) is `evaluate-v2.0.py` (as kept in `transformers.data.metrics.
//!   squad_metrics`): a question without gold answers is unanswerable and its only gold answer is
//!   `""`, as is any gold answer that normalises to `""`; F1 is 1 when both token lists are empty
//!   and 0 when one is ([`f1_v2`]); questions without a prediction are left out of every total (the
//!   official script leaves them out of the overall numbers and fails on its HasAns / NoAns
//!   breakdown, which here covers the answered questions of each group); ids repeated in the gold
//!   data count once, with their last gold answers (the official script keeps them in a dict). The
//!   no-answer-probability thresholds (`--na-prob-file`, `best_exact`, `best_f1`) are not computed.
//!
//! [`normalize_answer`] follows Python exactly, Unicode included: `str.lower()` (full case
//! mapping, final sigma), removal of `string.punctuation` (the 32 ASCII punctuation characters),
//! removal of the articles `\b(a|an|the)\b` with Python `re`'s Unicode word boundaries (`\w` is a
//! letter, a number or `_`; combining marks are not word characters), and `' '.join(text.split())`
//! with Python's whitespace (Unicode White_Space plus the separators U+001C..U+001F). Characters
//! that Unicode assigned after this file's reference (Python 3.11, Unicode 14) follow Rust's newer
//! tables.
//!
//! `tests/squad_metrics.rs` compares every score with the official scripts' on the committed
//! fixture written by `scripts/make_metric_reference.py`.

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hash};

use serde::{Deserialize, Serialize};

use super::{Metric, MetricValues, MetricsError, scalars_of};

/// Code points that Rust's `char::is_alphanumeric` accepts but Python's `re` does not match with
/// `\w` (in Unicode 14: combining marks with the Other_Alphabetic property, circled and squared
/// letters). Generated once from Python 3.11 and checked against Python's `\w` for every code
/// point by the test `word_characters_match_python_re`.
#[rustfmt::skip]
const NOT_PYTHON_WORD: &[(u32, u32)] = &[
    (0x0345, 0x036F), (0x05B0, 0x05C7), (0x0610, 0x061A), (0x064B, 0x065F), (0x0670, 0x0670),
    (0x06D6, 0x06E4), (0x06E7, 0x06ED), (0x0711, 0x0711), (0x0730, 0x073F), (0x07A6, 0x07B0),
    (0x0816, 0x0817), (0x081B, 0x0823), (0x0825, 0x0827), (0x0829, 0x082C), (0x08D4, 0x0903),
    (0x093A, 0x093B), (0x093E, 0x094F), (0x0955, 0x0957), (0x0962, 0x0963), (0x0981, 0x0983),
    (0x09BE, 0x09CC), (0x09D7, 0x09D7), (0x09E2, 0x09E3), (0x0A01, 0x0A03), (0x0A3E, 0x0A51),
    (0x0A70, 0x0A71), (0x0A75, 0x0A83), (0x0ABE, 0x0ACC), (0x0AE2, 0x0AE3), (0x0AFA, 0x0B03),
    (0x0B3E, 0x0B57), (0x0B62, 0x0B63), (0x0B82, 0x0B82), (0x0BBE, 0x0BCC), (0x0BD7, 0x0BD7),
    (0x0C00, 0x0C04), (0x0C3E, 0x0C56), (0x0C62, 0x0C63), (0x0C81, 0x0C83), (0x0CBE, 0x0CD6),
    (0x0CE2, 0x0CE3), (0x0D00, 0x0D03), (0x0D3E, 0x0D4C), (0x0D57, 0x0D57), (0x0D62, 0x0D63),
    (0x0D81, 0x0D83), (0x0DCF, 0x0DDF), (0x0DF2, 0x0DF3), (0x0E31, 0x0E31), (0x0E34, 0x0E3A),
    (0x0E4D, 0x0E4D), (0x0EB1, 0x0EB1), (0x0EB4, 0x0EBC), (0x0ECD, 0x0ECD), (0x0F71, 0x0F83),
    (0x0F8D, 0x0FBC), (0x102B, 0x103E), (0x1056, 0x1059), (0x105E, 0x1060), (0x1062, 0x1064),
    (0x1067, 0x106D), (0x1071, 0x1074), (0x1082, 0x108D), (0x108F, 0x108F), (0x109A, 0x109D),
    (0x1712, 0x1713), (0x1732, 0x1733), (0x1752, 0x1753), (0x1772, 0x1773), (0x17B6, 0x17C8),
    (0x1885, 0x1886), (0x18A9, 0x18A9), (0x1920, 0x1938), (0x1A17, 0x1A1B), (0x1A55, 0x1A74),
    (0x1ABF, 0x1B04), (0x1B35, 0x1B43), (0x1B80, 0x1B82), (0x1BA1, 0x1BAD), (0x1BE7, 0x1BF1),
    (0x1C24, 0x1C36), (0x1DD3, 0x1DF4), (0x24B6, 0x24E9), (0x2DE0, 0x2DFF), (0xA674, 0xA67B),
    (0xA69E, 0xA69F), (0xA802, 0xA802), (0xA80B, 0xA80B), (0xA823, 0xA827), (0xA880, 0xA881),
    (0xA8B4, 0xA8C5), (0xA8FF, 0xA8FF), (0xA926, 0xA92A), (0xA947, 0xA952), (0xA980, 0xA983),
    (0xA9B4, 0xA9BF), (0xA9E5, 0xA9E5), (0xAA29, 0xAA36), (0xAA43, 0xAA43), (0xAA4C, 0xAA4D),
    (0xAA7B, 0xAA7D), (0xAAB0, 0xAAB0), (0xAAB2, 0xAAB4), (0xAAB7, 0xAAB8), (0xAABE, 0xAABE),
    (0xAAEB, 0xAAEF), (0xAAF5, 0xAAF5), (0xABE3, 0xABEA), (0xFB1E, 0xFB1E), (0x10376, 0x1037A),
    (0x10A01, 0x10A0F), (0x10D24, 0x10D27), (0x10EAB, 0x10EAC), (0x11000, 0x11002),
    (0x11038, 0x11045), (0x11073, 0x11074), (0x11080, 0x11082), (0x110B0, 0x110C2),
    (0x11100, 0x11102), (0x11127, 0x11132), (0x11145, 0x11146), (0x11180, 0x11182),
    (0x111B3, 0x111BF), (0x111CE, 0x111CF), (0x1122C, 0x1123E), (0x112DF, 0x112E8),
    (0x11300, 0x11303), (0x1133E, 0x1134C), (0x11357, 0x11357), (0x11362, 0x11363),
    (0x11435, 0x11445), (0x114B0, 0x114C1), (0x115AF, 0x115BE), (0x115DC, 0x115DD),
    (0x11630, 0x11640), (0x116AB, 0x116B5), (0x1171D, 0x1172A), (0x1182C, 0x11838),
    (0x11930, 0x1193C), (0x11940, 0x11940), (0x11942, 0x11942), (0x119D1, 0x119DF),
    (0x119E4, 0x119E4), (0x11A01, 0x11A0A), (0x11A35, 0x11A39), (0x11A3B, 0x11A3E),
    (0x11A51, 0x11A5B), (0x11A8A, 0x11A97), (0x11C2F, 0x11C3E), (0x11C92, 0x11CB6),
    (0x11D31, 0x11D43), (0x11D47, 0x11D47), (0x11D8A, 0x11D96), (0x11EF3, 0x11EF6),
    (0x16F4F, 0x16F4F), (0x16F51, 0x16F92), (0x16FF0, 0x16FF1), (0x1BC9E, 0x1BC9E),
    (0x1E000, 0x1E02A), (0x1E947, 0x1E947), (0x1F130, 0x1F189),
];

/// Whether Python's `re` matches `c` with `\w` (str patterns): a letter, a number or `_`.
fn is_word(c: char) -> bool {
    if !(c.is_alphanumeric() || c == '_') {
        return false;
    }
    !in_ranges(NOT_PYTHON_WORD, c as u32)
}

/// Whether `cp` is in one of the sorted, disjoint inclusive `ranges`.
fn in_ranges(ranges: &[(u32, u32)], cp: u32) -> bool {
    let after = ranges.partition_point(|&(_, last)| last < cp);
    ranges.get(after).is_some_and(|&(first, _)| first <= cp)
}

/// Whether Python's `str.split()` splits at `c`.
fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.split()` without arguments.
fn python_split(s: &str) -> impl Iterator<Item = &str> {
    s.split(is_python_space).filter(|t| !t.is_empty())
}

/// `re.sub(r'\b(a|an|the)\b', ' ', text)`.
fn remove_articles(text: &str) -> String {
    const ARTICLES: [&[char]; 3] = [&['a'], &['a', 'n'], &['t', 'h', 'e']];
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        // An article starts at a word boundary: its first letter is a word character, so the
        // character before must not be one.
        if i == 0 || !is_word(chars[i - 1]) {
            let rest = &chars[i..];
            let article = ARTICLES.iter().find(|a| {
                rest.starts_with(a) && rest.get(a.len()).is_none_or(|&next| !is_word(next))
            });
            if let Some(a) = article {
                out.push(' ');
                i += a.len();
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// The official scripts' `normalize_answer`: lower-case, remove ASCII punctuation, remove the
/// articles "a", "an", "the" (whole words), collapse whitespace to single spaces and trim.
///
/// ```
/// use burnish_train::metrics::squad::normalize_answer;
/// assert_eq!(normalize_answer("  The  Eiffel-Tower, of PARIS!"), "eiffeltower of paris");
/// ```
pub fn normalize_answer(s: &str) -> String {
    let lower = s.to_lowercase();
    let without_punctuation: String = lower
        .chars()
        .filter(|c| !c.is_ascii_punctuation())
        .collect();
    let without_articles = remove_articles(&without_punctuation);
    python_split(&without_articles)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether the normalised strings are equal (`exact_match_score` of v1.1, `compute_exact` of
/// v2.0).
pub fn exact_match(prediction: &str, truth: &str) -> bool {
    normalize_answer(prediction) == normalize_answer(truth)
}

/// Number of tokens the two token lists share, counting repeats (`Counter(a) & Counter(b)`).
fn common_tokens(a: &[&str], b: &[&str]) -> usize {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for t in a {
        *counts.entry(t).or_default() += 1;
    }
    b.iter()
        .filter(|t| match counts.get_mut(*t) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        })
        .count()
}

/// Token F1 of `evaluate-v1.1.py` (`f1_score`): 0 when no token is shared, including when both
/// normalise to nothing.
pub fn f1(prediction: &str, truth: &str) -> f64 {
    let (p, t) = (normalize_answer(prediction), normalize_answer(truth));
    token_f1(
        &python_split(&p).collect::<Vec<_>>(),
        &python_split(&t).collect::<Vec<_>>(),
    )
}

/// Token F1 of `evaluate-v2.0.py` (`compute_f1`): as [`f1`], except that when either normalises
/// to nothing it is 1 if both do and 0 otherwise.
pub fn f1_v2(prediction: &str, truth: &str) -> f64 {
    let (p, t) = (normalize_answer(prediction), normalize_answer(truth));
    if p.is_empty() || t.is_empty() {
        return if p == t { 1.0 } else { 0.0 };
    }
    token_f1(
        &python_split(&p).collect::<Vec<_>>(),
        &python_split(&t).collect::<Vec<_>>(),
    )
}

/// F1 of two token lists, written as the official scripts compute it.
fn token_f1(prediction: &[&str], truth: &[&str]) -> f64 {
    let same = common_tokens(prediction, truth);
    if same == 0 {
        return 0.0;
    }
    let precision = same as f64 / prediction.len() as f64;
    let recall = same as f64 / truth.len() as f64;
    (2.0 * precision * recall) / (precision + recall)
}

/// Exact match (0 or 1) and F1 (0 to 1) of one prediction for one question.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct QuestionScore {
    /// 1 when the prediction matches a gold answer exactly (after normalisation), else 0.
    pub exact_match: f64,
    /// The best token F1 over the gold answers.
    pub f1: f64,
}

/// A question's score under v1.1: the best exact match and the best F1 over its gold answers
/// (`metric_max_over_ground_truths`); `None` when there is no gold answer (where the official
/// script fails).
pub fn question_score_v1<S: AsRef<str>>(prediction: &str, answers: &[S]) -> Option<QuestionScore> {
    if answers.is_empty() {
        return None;
    }
    let exact = answers.iter().any(|a| exact_match(prediction, a.as_ref()));
    let best_f1 = answers
        .iter()
        .map(|a| f1(prediction, a.as_ref()))
        .fold(f64::NEG_INFINITY, f64::max);
    Some(QuestionScore {
        exact_match: if exact { 1.0 } else { 0.0 },
        f1: best_f1,
    })
}

/// A question's score under v2.0 (`get_raw_scores`): the best over the gold answers that do not
/// normalise to `""`, or against `""` alone when there are none (unanswerable questions).
pub fn question_score_v2<S: AsRef<str>>(prediction: &str, answers: &[S]) -> QuestionScore {
    let gold: Vec<&str> = answers
        .iter()
        .map(AsRef::as_ref)
        .filter(|a| !normalize_answer(a).is_empty())
        .collect();
    let gold = if gold.is_empty() { vec![""] } else { gold };
    let exact = gold.iter().any(|a| exact_match(prediction, a));
    let best_f1 = gold
        .iter()
        .map(|a| f1_v2(prediction, a))
        .fold(f64::NEG_INFINITY, f64::max);
    QuestionScore {
        exact_match: if exact { 1.0 } else { 0.0 },
        f1: best_f1,
    }
}

/// One question of the gold data: its id and its gold answer texts (none: unanswerable, v2.0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SquadGold {
    /// The question id (the key of the predictions).
    pub id: String,
    /// The gold answer texts.
    pub answers: Vec<String>,
}

impl SquadGold {
    /// A question with these gold answers.
    pub fn new<S: Into<String>>(
        id: impl Into<String>,
        answers: impl IntoIterator<Item = S>,
    ) -> Self {
        Self {
            id: id.into(),
            answers: answers.into_iter().map(Into::into).collect(),
        }
    }
}

/// Which official script the scores follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SquadVersion {
    /// `evaluate-v1.1.py`.
    #[serde(rename = "1.1")]
    V1_1,
    /// `evaluate-v2.0.py`.
    #[serde(rename = "2.0")]
    V2_0,
}

/// Exact match and F1 (both in percent) over a group of questions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SquadSubset {
    /// Mean exact match × 100.
    pub exact_match: f64,
    /// Mean F1 × 100.
    pub f1: f64,
    /// Number of questions in the group.
    pub total: usize,
}

/// The scores of a SQuAD evaluation, in percent as the official scripts print them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SquadScores {
    /// The script whose semantics these follow.
    pub version: SquadVersion,
    /// Mean exact match × 100.
    pub exact_match: f64,
    /// Mean F1 × 100.
    pub f1: f64,
    /// Number of questions averaged over: all questions for v1.1, the answered ones for v2.0.
    pub total: usize,
    /// Questions of the gold data without a prediction (scored 0 in v1.1, left out in v2.0).
    pub missing: usize,
    /// v2.0: the (answered) questions that have gold answers (`HasAns_*`); `None` if there are
    /// none, and always for v1.1.
    pub has_ans: Option<SquadSubset>,
    /// v2.0: the (answered) unanswerable questions (`NoAns_*`); `None` if there are none.
    pub no_ans: Option<SquadSubset>,
}

impl SquadScores {
    /// The official script's output: `{"exact_match", "f1"}` for v1.1; `{"exact", "f1", "total",
    /// "HasAns_exact", "HasAns_f1", "HasAns_total", "NoAns_exact", "NoAns_f1", "NoAns_total"}`
    /// (the groups that exist) for v2.0.
    pub fn to_official_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self.version {
            SquadVersion::V1_1 => json!({"exact_match": self.exact_match, "f1": self.f1}),
            SquadVersion::V2_0 => {
                let mut out = serde_json::Map::new();
                out.insert("exact".into(), json!(self.exact_match));
                out.insert("f1".into(), json!(self.f1));
                out.insert("total".into(), json!(self.total));
                for (prefix, group) in [("HasAns", &self.has_ans), ("NoAns", &self.no_ans)] {
                    if let Some(g) = group {
                        out.insert(format!("{prefix}_exact"), json!(g.exact_match));
                        out.insert(format!("{prefix}_f1"), json!(g.f1));
                        out.insert(format!("{prefix}_total"), json!(g.total));
                    }
                }
                serde_json::Value::Object(out)
            }
        }
    }

    /// The scalars for logs: `"exact_match"` and `"f1"`, plus `"has_ans_exact_match"`,
    /// `"has_ans_f1"`, `"no_ans_exact_match"`, `"no_ans_f1"` where those groups exist.
    pub fn scalars(&self) -> BTreeMap<String, f64> {
        let mut out = scalars_of(self, &[Metric::ExactMatch, Metric::F1]);
        for (prefix, group) in [("has_ans", &self.has_ans), ("no_ans", &self.no_ans)] {
            if let Some(g) = group {
                out.insert(format!("{prefix}_exact_match"), g.exact_match);
                out.insert(format!("{prefix}_f1"), g.f1);
            }
        }
        out
    }

    /// Pretty-printed JSON of all fields.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("SquadScores always serialise to JSON")
    }
}

impl MetricValues for SquadScores {
    fn metric(&self, metric: Metric) -> Option<f64> {
        match metric {
            Metric::ExactMatch => Some(self.exact_match),
            Metric::F1 => Some(self.f1),
            _ => None,
        }
    }
}

/// `100 · sum / total` as the scripts write it.
fn percent(sum: f64, total: usize) -> f64 {
    100.0 * sum / total as f64
}

/// SQuAD v1.1 scores of `predictions` (question id -> answer text) on the questions `golds`, as
/// `evaluate(dataset, predictions)` of `evaluate-v1.1.py`: every question of `golds` counts (one
/// without a prediction scores 0), predictions for other ids are ignored.
///
/// # Errors
/// No questions, or a question that has a prediction but no gold answer (v1.1 has no
/// unanswerable questions: use [`squad_v2`]).
pub fn squad_v1<K, V, H>(
    predictions: &HashMap<K, V, H>,
    golds: &[SquadGold],
) -> Result<SquadScores, MetricsError>
where
    K: Borrow<str> + Hash + Eq,
    V: AsRef<str>,
    H: BuildHasher,
{
    if golds.is_empty() {
        return Err(MetricsError::Empty {
            what: "SQuAD v1.1 evaluation",
        });
    }
    let (mut exact, mut f1_sum, mut missing) = (0.0, 0.0, 0);
    for gold in golds {
        let Some(prediction) = predictions.get(gold.id.as_str()) else {
            missing += 1;
            continue;
        };
        let score =
            question_score_v1(prediction.as_ref(), &gold.answers).ok_or(MetricsError::Empty {
                what: "SQuAD v1.1 gold answers of a question (for unanswerable questions use v2.0)",
            })?;
        exact += score.exact_match;
        f1_sum += score.f1;
    }
    Ok(SquadScores {
        version: SquadVersion::V1_1,
        exact_match: percent(exact, golds.len()),
        f1: percent(f1_sum, golds.len()),
        total: golds.len(),
        missing,
        has_ans: None,
        no_ans: None,
    })
}

/// SQuAD v2.0 scores of `predictions` (question id -> answer text, `""` for "no answer") on the
/// questions `golds` (no gold answer: unanswerable), as `evaluate-v2.0.py` without a no-answer
/// probability file (see the [module documentation](self) for questions without a prediction and
/// repeated ids).
///
/// # Errors
/// No question has a prediction.
pub fn squad_v2<K, V, H>(
    predictions: &HashMap<K, V, H>,
    golds: &[SquadGold],
) -> Result<SquadScores, MetricsError>
where
    K: Borrow<str> + Hash + Eq,
    V: AsRef<str>,
    H: BuildHasher,
{
    // Python dicts: one entry per id in first-seen order, the last value wins.
    struct Entry {
        has_ans: bool,
        score: Option<QuestionScore>,
    }
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut entries: Vec<Entry> = Vec::new();
    for gold in golds {
        let entry = Entry {
            has_ans: !gold.answers.is_empty(),
            score: predictions
                .get(gold.id.as_str())
                .map(|p| question_score_v2(p.as_ref(), &gold.answers)),
        };
        match index.get(gold.id.as_str()) {
            Some(&i) => entries[i] = entry,
            None => {
                index.insert(&gold.id, entries.len());
                entries.push(entry);
            }
        }
    }
    let group = |keep: &dyn Fn(&Entry) -> bool| {
        let (mut exact, mut f1_sum, mut total) = (0.0, 0.0, 0);
        for (e, s) in entries.iter().filter_map(|e| Some((e, e.score?))) {
            if keep(e) {
                exact += s.exact_match;
                f1_sum += s.f1;
                total += 1;
            }
        }
        (total > 0).then(|| SquadSubset {
            exact_match: percent(exact, total),
            f1: percent(f1_sum, total),
            total,
        })
    };
    let all = group(&|_| true).ok_or(MetricsError::Empty {
        what: "SQuAD v2.0 evaluation (no question has a prediction)",
    })?;
    Ok(SquadScores {
        version: SquadVersion::V2_0,
        exact_match: all.exact_match,
        f1: all.f1,
        total: all.total,
        missing: entries.iter().filter(|e| e.score.is_none()).count(),
        has_ans: group(&|e| e.has_ans),
        no_ans: group(&|e| !e.has_ans),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalization_follows_python() {
        let cases = [
            ("The  Cat!", "cat"),
            ("a", ""),
            ("theater anthem a-team", "theater anthem ateam"),
            // Articles are removed only as whole words; '_' is punctuation, removed first.
            ("_the_ a_b the_", "ab"),
            // Combining marks are not word characters: "the" before U+0301 / U+0651 is an
            // article.
            ("the\u{301} end", "\u{301} end"),
            ("a\u{651} b", "\u{651} b"),
            // Numbers are: "½the" keeps "the".
            ("\u{bd}the", "\u{bd}the"),
            // Python's whitespace includes U+001C..U+001F; U+200B is not whitespace.
            ("x\u{1c}y\u{3000}z\u{200b}w", "x y z\u{200b}w"),
            // Full case mapping and final sigma.
            ("\u{130}STANBUL", "i\u{307}stanbul"),
            ("ΣΑΣ", "σας"),
            ("\u{212a}", "k"),
        ];
        for (text, normalized) in cases {
            assert_eq!(normalize_answer(text), normalized, "{text:?}");
        }
    }

    #[test]
    fn v1_and_v2_token_f1() {
        assert_eq!(f1("", ""), 0.0);
        assert_eq!(f1_v2("", "the"), 1.0);
        assert_eq!(f1_v2("x", ""), 0.0);
        assert!(exact_match("the", ""));
        // Counter overlap: "a a a b" vs "a b b" -> articles removed: ["b"] vs ["b", "b"].
        assert!((f1("a b b", "a a a b") - 2.0 / 3.0).abs() < 1e-15);
        assert!((f1("x y y z", "y y y x") - 0.75).abs() < 1e-15);
        assert_eq!(question_score_v1::<&str>("x", &[]), None);
        let s = question_score_v2::<&str>("", &["The", "a."]);
        assert_eq!((s.exact_match, s.f1), (1.0, 1.0));
    }

    #[test]
    fn squad_v1_and_v2_small() {
        let golds = [
            SquadGold::new("1", ["the cat", "a dog"]),
            SquadGold::new("2", ["Paris"]),
            SquadGold::new("3", ["x y z"]),
        ];
        let preds: HashMap<&str, &str> = [("1", "Dog"), ("3", "x y"), ("9", "ignored")].into();
        let s = squad_v1(&preds, &golds).unwrap();
        assert_eq!((s.total, s.missing), (3, 1));
        assert!((s.exact_match - 100.0 / 3.0).abs() < 1e-12);
        assert!((s.f1 - 100.0 * (1.0 + 0.8) / 3.0).abs() < 1e-12);
        assert_eq!(s.metric(Metric::ExactMatch), Some(s.exact_match));
        assert_eq!(
            s.to_official_json(),
            serde_json::json!({"exact_match": s.exact_match, "f1": s.f1})
        );
        // Owned maps work the same.
        let owned: HashMap<String, String> = preds
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(squad_v1(&owned, &golds).unwrap(), s);

        let golds2 = [
            SquadGold::new("1", ["the cat"]),
            SquadGold::new::<&str>("2", []),
            SquadGold::new("3", ["x"]),
        ];
        let mut preds2 = preds.clone();
        preds2.insert("2", "");
        let s = squad_v2(&preds2, &golds2).unwrap();
        assert_eq!((s.total, s.missing), (3, 0));
        assert_eq!(s.no_ans.unwrap().total, 1);
        assert_eq!(s.no_ans.unwrap().exact_match, 100.0);
        assert_eq!(s.has_ans.unwrap().total, 2);
        let keys: Vec<String> = s.scalars().into_keys().collect();
        assert_eq!(
            keys,
            [
                "exact_match",
                "f1",
                "has_ans_exact_match",
                "has_ans_f1",
                "no_ans_exact_match",
                "no_ans_f1"
            ]
        );
        let official = s.to_official_json();
        assert_eq!(official["NoAns_total"], 1);
        assert_eq!(official["total"], 3);

        assert!(matches!(
            squad_v1(&preds, &[]),
            Err(MetricsError::Empty { .. })
        ));
        assert!(matches!(
            squad_v1(&preds2, &golds2),
            Err(MetricsError::Empty { .. })
        ));
        assert!(matches!(
            squad_v2(&HashMap::<&str, &str>::new(), &golds2),
            Err(MetricsError::Empty { .. })
        ));
    }

    /// Every code point assigned in the fixture's Unicode version: `is_word` is Python's `\w`.
    #[test]
    fn word_characters_match_python_re() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/metrics/squad.json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (run scripts/make_metric_reference.py)",
                path.display()
            )
        });
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let ranges = |key: &str| -> Vec<(u32, u32)> {
            v["word_chars"][key]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| (r[0].as_u64().unwrap() as u32, r[1].as_u64().unwrap() as u32))
                .collect()
        };
        let (word, unassigned) = (ranges("word"), ranges("unassigned"));
        let mut checked = 0;
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let cp = c as u32;
            if in_ranges(&unassigned, cp) {
                continue;
            }
            assert_eq!(is_word(c), in_ranges(&word, cp), "U+{cp:04X}");
            checked += 1;
        }
        assert!(checked > 280_000, "{checked}");
    }
}
