//! Evaluation metrics: classification, regression and multi-label, plus the [`Metric`] names used
//! to pick a scalar for early stopping and best-model selection.
//!
//! Everything here is plain Rust on slices (no tensors), computed in `f64`, and follows
//! scikit-learn / SciPy definitions so numbers can be compared with a PyTorch + `transformers`
//! pipeline:
//!
//! * per-class precision / recall / F1 use `zero_division=0`: a class that is never predicted has
//!   precision 0, a class that never occurs has recall 0, and F1 is `2·tp / (2·tp + fp + fn)`
//!   (0 when that denominator is 0);
//! * macro averages are the unweighted mean over the classes that occur in the targets or in the
//!   predictions (scikit-learn's default `labels=None`), weighted averages weight by support;
//! * the Matthews correlation coefficient is the multi-class generalisation (Gorodkin 2004) used by
//!   `sklearn.metrics.matthews_corrcoef`, 0 when its denominator is 0;
//! * Spearman correlation is the Pearson correlation of tie-averaged ranks (`scipy.stats.spearmanr`).
//!
//! Invalid input (length mismatches, labels out of range, no samples) is a [`MetricsError`], never
//! a panic.
//!
//! Task-level scores live in submodules: [`entities`] (entity-level NER scores as seqeval) and
//! [`squad`] (SQuAD v1.1 / v2.0 exact match and F1 as the official evaluation scripts).

pub mod entities;
pub mod retrieval;
pub mod squad;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Why a metric could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetricsError {
    /// Predictions and targets (or labels and classes) differ in length.
    #[error("{what}: {left} predictions but {right} targets")]
    LengthMismatch {
        /// The metric being computed.
        what: &'static str,
        /// Number of predictions.
        left: usize,
        /// Number of targets.
        right: usize,
    },
    /// There were no samples to evaluate.
    #[error("{what}: no samples to evaluate")]
    Empty {
        /// The metric being computed.
        what: &'static str,
    },
    /// A class index is not below the number of classes.
    #[error("{which} at index {index} is class {label}, but there are only {num_classes} classes")]
    LabelOutOfRange {
        /// `"prediction"` or `"target"`.
        which: &'static str,
        /// Position of the sample.
        index: usize,
        /// The offending class index.
        label: usize,
        /// Number of classes.
        num_classes: usize,
    },
    /// `num_classes` / `num_labels` was zero.
    #[error("{what}: the number of classes must be at least 1")]
    NoClasses {
        /// The metric being computed.
        what: &'static str,
    },
    /// The number of label names does not match the number of classes.
    #[error("{labels} label names given for {num_classes} classes")]
    LabelCount {
        /// Number of label names.
        labels: usize,
        /// Number of classes.
        num_classes: usize,
    },
    /// A flattened multi-label matrix is not a whole number of rows.
    #[error("multi-label input of length {len} is not a multiple of num_labels = {num_labels}")]
    Ragged {
        /// Length of the flattened input.
        len: usize,
        /// Number of labels per sample.
        num_labels: usize,
    },
    /// A metric name that [`Metric::from_str`] does not know.
    #[error("unknown metric {name:?}; known metrics: {known}")]
    UnknownMetric {
        /// The name that was given.
        name: String,
        /// Comma-separated list of the canonical names.
        known: String,
    },
}

/// `a / b`, or 0 when `b` is 0 (scikit-learn's `zero_division=0`).
fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 { 0.0 } else { a / b }
}

fn check_lengths(what: &'static str, left: usize, right: usize) -> Result<(), MetricsError> {
    if left != right {
        return Err(MetricsError::LengthMismatch { what, left, right });
    }
    if left == 0 {
        return Err(MetricsError::Empty { what });
    }
    Ok(())
}

/// [`check_lengths`] of predictions and targets over `classes` classes (or labels), at least one.
fn check_inputs(
    what: &'static str,
    classes: usize,
    left: usize,
    right: usize,
) -> Result<(), MetricsError> {
    if classes == 0 {
        return Err(MetricsError::NoClasses { what });
    }
    check_lengths(what, left, right)
}

// ---------------------------------------------------------------------------------------------
// Classification
// ---------------------------------------------------------------------------------------------

/// A confusion matrix: `count(t, p)` is the number of samples of true class `t` predicted as `p`
/// (rows = true class, columns = predicted class).
///
/// It can be filled incrementally with [`ConfusionMatrix::add`] while iterating over evaluation
/// batches, and every classification score is derived from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfusionMatrix {
    num_classes: usize,
    counts: Vec<u64>,
}

impl ConfusionMatrix {
    /// An all-zero matrix for `num_classes` classes.
    pub fn new(num_classes: usize) -> Self {
        Self {
            num_classes,
            counts: vec![0; num_classes * num_classes],
        }
    }

    /// Counts `predictions[i]` against `targets[i]`.
    ///
    /// # Errors
    /// Different lengths, no samples, `num_classes == 0`, or a class index `>= num_classes`.
    pub fn from_predictions(
        predictions: &[usize],
        targets: &[usize],
        num_classes: usize,
    ) -> Result<Self, MetricsError> {
        const WHAT: &str = "confusion matrix";
        check_inputs(WHAT, num_classes, predictions.len(), targets.len())?;
        let mut cm = Self::new(num_classes);
        for (index, (&p, &t)) in predictions.iter().zip(targets).enumerate() {
            cm.check(index, p, t)?;
            cm.counts[t * num_classes + p] += 1;
        }
        Ok(cm)
    }

    fn check(&self, index: usize, prediction: usize, target: usize) -> Result<(), MetricsError> {
        let num_classes = self.num_classes;
        if target >= num_classes {
            return Err(MetricsError::LabelOutOfRange {
                which: "target",
                index,
                label: target,
                num_classes,
            });
        }
        if prediction >= num_classes {
            return Err(MetricsError::LabelOutOfRange {
                which: "prediction",
                index,
                label: prediction,
                num_classes,
            });
        }
        Ok(())
    }

    /// Adds one sample. `index` is only used in the error message.
    ///
    /// # Errors
    /// A class index `>= num_classes`.
    pub fn add(
        &mut self,
        index: usize,
        prediction: usize,
        target: usize,
    ) -> Result<(), MetricsError> {
        self.check(index, prediction, target)?;
        self.counts[target * self.num_classes + prediction] += 1;
        Ok(())
    }

    /// Adds another matrix of the same size (e.g. from another evaluation shard).
    ///
    /// # Errors
    /// The matrices have different numbers of classes.
    pub fn merge(&mut self, other: &ConfusionMatrix) -> Result<(), MetricsError> {
        if other.num_classes != self.num_classes {
            return Err(MetricsError::LabelCount {
                labels: other.num_classes,
                num_classes: self.num_classes,
            });
        }
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        Ok(())
    }

    /// Number of classes (rows and columns).
    pub fn num_classes(&self) -> usize {
        self.num_classes
    }

    /// Number of samples counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Samples of true class `target` predicted as `prediction`.
    ///
    /// # Panics
    /// If either index is `>= num_classes`.
    pub fn count(&self, target: usize, prediction: usize) -> u64 {
        assert!(
            target < self.num_classes && prediction < self.num_classes,
            "class index out of range"
        );
        self.counts[target * self.num_classes + prediction]
    }

    /// Row sum: samples whose true class is `class`.
    ///
    /// # Panics
    /// If `class >= num_classes`.
    pub fn support(&self, class: usize) -> u64 {
        assert!(class < self.num_classes, "class index out of range");
        self.counts[class * self.num_classes..(class + 1) * self.num_classes]
            .iter()
            .sum()
    }

    /// Column sum: samples predicted as `class`.
    ///
    /// # Panics
    /// If `class >= num_classes`.
    pub fn predicted(&self, class: usize) -> u64 {
        assert!(class < self.num_classes, "class index out of range");
        (0..self.num_classes)
            .map(|t| self.counts[t * self.num_classes + class])
            .sum()
    }

    /// The matrix as rows (true class) of columns (predicted class).
    pub fn rows(&self) -> Vec<Vec<u64>> {
        if self.num_classes == 0 {
            return Vec::new();
        }
        self.counts
            .chunks(self.num_classes)
            .map(<[u64]>::to_vec)
            .collect()
    }

    /// Fraction of samples on the diagonal; 0 for an empty matrix.
    pub fn accuracy(&self) -> f64 {
        let correct: u64 = (0..self.num_classes).map(|c| self.count(c, c)).sum();
        ratio(correct as f64, self.total() as f64)
    }

    /// Precision, recall, F1, support and predicted count of one class (`zero_division=0`),
    /// labelled with the class id.
    ///
    /// # Panics
    /// If `class >= num_classes`.
    pub fn class_scores(&self, class: usize) -> ClassScores {
        let tp = self.count(class, class) as f64;
        let support = self.support(class);
        let predicted = self.predicted(class);
        ClassScores {
            label: class.to_string(),
            precision: ratio(tp, predicted as f64),
            recall: ratio(tp, support as f64),
            f1: ratio(2.0 * tp, (support + predicted) as f64),
            support,
            predicted,
        }
    }

    /// Classes that occur in the targets or in the predictions (the ones macro averages use).
    fn present(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.num_classes).filter(|&c| self.support(c) > 0 || self.predicted(c) > 0)
    }

    /// Unweighted mean of per-class (precision, recall, F1) over the classes present in targets or
    /// predictions, as `sklearn.metrics.precision_recall_fscore_support(average="macro",
    /// zero_division=0)`.
    pub fn macro_avg(&self) -> (f64, f64, f64) {
        let (mut p, mut r, mut f, mut n) = (0.0, 0.0, 0.0, 0usize);
        for c in self.present() {
            let s = self.class_scores(c);
            p += s.precision;
            r += s.recall;
            f += s.f1;
            n += 1;
        }
        let n = n as f64;
        (ratio(p, n), ratio(r, n), ratio(f, n))
    }

    /// Support-weighted mean of per-class (precision, recall, F1) (`average="weighted"`).
    pub fn weighted_avg(&self) -> (f64, f64, f64) {
        let (mut p, mut r, mut f) = (0.0, 0.0, 0.0);
        for c in 0..self.num_classes {
            let s = self.class_scores(c);
            let w = s.support as f64;
            p += s.precision * w;
            r += s.recall * w;
            f += s.f1 * w;
        }
        let total = self.total() as f64;
        (ratio(p, total), ratio(r, total), ratio(f, total))
    }

    /// Micro-averaged F1 (pooled counts). For single-label classification it equals accuracy.
    pub fn f1_micro(&self) -> f64 {
        let tp: u64 = (0..self.num_classes).map(|c| self.count(c, c)).sum();
        // Pooled: sum(support) + sum(predicted) == 2 * total.
        ratio(2.0 * tp as f64, 2.0 * self.total() as f64)
    }

    /// Multi-class Matthews correlation coefficient (Gorodkin's R_K, as
    /// `sklearn.metrics.matthews_corrcoef`); 0 when the denominator is 0 (e.g. a single predicted
    /// or a single true class).
    pub fn mcc(&self) -> f64 {
        let k = self.num_classes;
        let s = self.total() as i128;
        let c: i128 = (0..k).map(|i| self.count(i, i) as i128).sum();
        let (mut tp_dot, mut pp_dot, mut tt_dot) = (0i128, 0i128, 0i128);
        for i in 0..k {
            let t = self.support(i) as i128;
            let p = self.predicted(i) as i128;
            tp_dot += t * p;
            pp_dot += p * p;
            tt_dot += t * t;
        }
        let cov_ytyp = (c * s - tp_dot) as f64;
        let cov_ypyp = (s * s - pp_dot) as f64;
        let cov_ytyt = (s * s - tt_dot) as f64;
        if cov_ypyp * cov_ytyt == 0.0 {
            return 0.0;
        }
        cov_ytyp / (cov_ytyt * cov_ypyp).sqrt()
    }
}

/// Fraction of `predictions` equal to `targets`.
///
/// # Errors
/// Different lengths or no samples.
pub fn accuracy(predictions: &[usize], targets: &[usize]) -> Result<f64, MetricsError> {
    check_lengths("accuracy", predictions.len(), targets.len())?;
    let correct = predictions
        .iter()
        .zip(targets)
        .filter(|(p, t)| p == t)
        .count();
    Ok(correct as f64 / targets.len() as f64)
}

/// Scores of one class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassScores {
    /// Label name.
    pub label: String,
    /// `tp / predicted` (0 if never predicted).
    pub precision: f64,
    /// `tp / support` (0 if the class never occurs).
    pub recall: f64,
    /// `2·tp / (support + predicted)` (0 if both are 0).
    pub f1: f64,
    /// Number of samples whose true class this is.
    pub support: u64,
    /// Number of samples predicted as this class.
    pub predicted: u64,
}

/// Everything about a single-label classification evaluation, with label names. Serialises to the
/// JSON written into a run directory (`metrics.json`) and prints as an aligned table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassificationReport {
    /// Number of evaluated samples.
    pub num_samples: u64,
    /// Fraction correct.
    pub accuracy: f64,
    /// Macro-averaged precision (see [`ConfusionMatrix::macro_avg`]).
    pub precision_macro: f64,
    /// Macro-averaged recall.
    pub recall_macro: f64,
    /// Macro-averaged F1.
    pub f1_macro: f64,
    /// Support-weighted precision.
    pub precision_weighted: f64,
    /// Support-weighted recall.
    pub recall_weighted: f64,
    /// Support-weighted F1.
    pub f1_weighted: f64,
    /// Micro-averaged F1 (equals accuracy for single-label classification).
    pub f1_micro: f64,
    /// Multi-class Matthews correlation coefficient.
    pub mcc: f64,
    /// Label names, indexed by class id.
    pub labels: Vec<String>,
    /// Per-class scores, indexed by class id.
    pub per_class: Vec<ClassScores>,
    /// Confusion matrix, rows = true class, columns = predicted class.
    pub confusion_matrix: Vec<Vec<u64>>,
}

impl ClassificationReport {
    /// Report for class-index `predictions` against `targets`; class `i` is named `labels[i]` and
    /// the number of classes is `labels.len()`.
    ///
    /// # Errors
    /// Different lengths, no samples, no labels, or a class index `>= labels.len()`.
    pub fn new<S: AsRef<str>>(
        predictions: &[usize],
        targets: &[usize],
        labels: &[S],
    ) -> Result<Self, MetricsError> {
        let cm = ConfusionMatrix::from_predictions(predictions, targets, labels.len())?;
        Self::from_confusion(&cm, labels)
    }

    /// Report with the class ids as label names (`"0"`, `"1"`, ...).
    ///
    /// # Errors
    /// As [`ClassificationReport::new`].
    pub fn numbered(
        predictions: &[usize],
        targets: &[usize],
        num_classes: usize,
    ) -> Result<Self, MetricsError> {
        let labels: Vec<String> = (0..num_classes).map(|c| c.to_string()).collect();
        Self::new(predictions, targets, &labels)
    }

    /// Report from an accumulated confusion matrix.
    ///
    /// # Errors
    /// `labels.len()` differs from the matrix size, or the matrix is empty.
    pub fn from_confusion<S: AsRef<str>>(
        cm: &ConfusionMatrix,
        labels: &[S],
    ) -> Result<Self, MetricsError> {
        if labels.len() != cm.num_classes() {
            return Err(MetricsError::LabelCount {
                labels: labels.len(),
                num_classes: cm.num_classes(),
            });
        }
        if cm.num_classes() == 0 {
            return Err(MetricsError::NoClasses {
                what: "classification report",
            });
        }
        if cm.total() == 0 {
            return Err(MetricsError::Empty {
                what: "classification report",
            });
        }
        let labels: Vec<String> = labels.iter().map(|l| l.as_ref().to_owned()).collect();
        let per_class = (0..cm.num_classes())
            .map(|c| ClassScores {
                label: labels[c].clone(),
                ..cm.class_scores(c)
            })
            .collect();
        let (precision_macro, recall_macro, f1_macro) = cm.macro_avg();
        let (precision_weighted, recall_weighted, f1_weighted) = cm.weighted_avg();
        Ok(Self {
            num_samples: cm.total(),
            accuracy: cm.accuracy(),
            precision_macro,
            recall_macro,
            f1_macro,
            precision_weighted,
            recall_weighted,
            f1_weighted,
            f1_micro: cm.f1_micro(),
            mcc: cm.mcc(),
            labels,
            per_class,
            confusion_matrix: cm.rows(),
        })
    }

    /// Pretty-printed JSON (non-finite numbers, which cannot occur here, would become `null`).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self)
            .expect("a ClassificationReport always serialises to JSON")
    }

    /// Parses what [`ClassificationReport::to_json`] wrote.
    ///
    /// # Errors
    /// Invalid JSON or missing fields.
    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }

    /// The scalar metrics by canonical [`Metric`] name, for logs.
    pub fn scalars(&self) -> BTreeMap<String, f64> {
        scalars_of(
            self,
            &[
                Metric::Accuracy,
                Metric::PrecisionMacro,
                Metric::RecallMacro,
                Metric::F1Macro,
                Metric::F1Micro,
                Metric::F1Weighted,
                Metric::Mcc,
            ],
        )
    }
}

impl MetricValues for ClassificationReport {
    fn metric(&self, metric: Metric) -> Option<f64> {
        Some(match metric {
            Metric::Accuracy => self.accuracy,
            Metric::PrecisionMacro => self.precision_macro,
            Metric::RecallMacro => self.recall_macro,
            Metric::F1Macro => self.f1_macro,
            Metric::F1Micro => self.f1_micro,
            Metric::F1Weighted => self.f1_weighted,
            Metric::Mcc => self.mcc,
            _ => return None,
        })
    }
}

impl fmt::Display for ClassificationReport {
    /// A table in the style of `sklearn.metrics.classification_report`, followed by MCC and the
    /// confusion matrix.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const AVG: &str = "weighted avg";
        let name_w = self
            .labels
            .iter()
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0)
            .max(AVG.len());
        let row = |f: &mut fmt::Formatter<'_>,
                   name: &str,
                   p: Option<f64>,
                   r: Option<f64>,
                   f1: f64,
                   n: u64| {
            let cell = |v: Option<f64>| v.map_or_else(String::new, |v| format!("{v:.4}"));
            writeln!(
                f,
                "{name:>name_w$}  {:>9}  {:>9}  {:>9}  {n:>9}",
                cell(p),
                cell(r),
                format!("{f1:.4}")
            )
        };
        writeln!(
            f,
            "{:>name_w$}  {:>9}  {:>9}  {:>9}  {:>9}",
            "", "precision", "recall", "f1-score", "support"
        )?;
        writeln!(f)?;
        for c in &self.per_class {
            row(
                f,
                &c.label,
                Some(c.precision),
                Some(c.recall),
                c.f1,
                c.support,
            )?;
        }
        writeln!(f)?;
        let n = self.num_samples;
        row(f, "accuracy", None, None, self.accuracy, n)?;
        row(
            f,
            "macro avg",
            Some(self.precision_macro),
            Some(self.recall_macro),
            self.f1_macro,
            n,
        )?;
        row(
            f,
            AVG,
            Some(self.precision_weighted),
            Some(self.recall_weighted),
            self.f1_weighted,
            n,
        )?;
        writeln!(f, "{:>name_w$}  {:>9}", "mcc", format!("{:.4}", self.mcc))?;
        writeln!(f)?;

        // Confusion matrix: columns headed by label names when they are short, else by class id.
        writeln!(f, "confusion matrix (rows = true, columns = predicted):")?;
        let short = self.labels.iter().all(|l| l.chars().count() <= 12);
        let heads: Vec<String> = if short {
            self.labels.clone()
        } else {
            (0..self.labels.len()).map(|c| c.to_string()).collect()
        };
        let row_names: Vec<String> = if short {
            self.labels.clone()
        } else {
            self.labels
                .iter()
                .enumerate()
                .map(|(c, l)| format!("{c}: {l}"))
                .collect()
        };
        let row_w = row_names
            .iter()
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0);
        let max_count = self
            .confusion_matrix
            .iter()
            .flatten()
            .copied()
            .max()
            .unwrap_or(0);
        let col_w = heads
            .iter()
            .map(|h| h.chars().count())
            .max()
            .unwrap_or(0)
            .max(max_count.to_string().len());
        write!(f, "  {:>row_w$}", "")?;
        for h in &heads {
            write!(f, "  {h:>col_w$}")?;
        }
        writeln!(f)?;
        for (name, counts) in row_names.iter().zip(&self.confusion_matrix) {
            write!(f, "  {name:>row_w$}")?;
            for n in counts {
                write!(f, "  {n:>col_w$}")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Regression
// ---------------------------------------------------------------------------------------------

fn to_f64<T: Copy + Into<f64>>(xs: &[T]) -> Vec<f64> {
    xs.iter().map(|&x| x.into()).collect()
}

/// Mean squared error.
///
/// # Errors
/// Different lengths or no samples.
pub fn mse<T: Copy + Into<f64>>(predictions: &[T], targets: &[T]) -> Result<f64, MetricsError> {
    check_lengths("mse", predictions.len(), targets.len())?;
    let sum: f64 = predictions
        .iter()
        .zip(targets)
        .map(|(&p, &t)| (p.into() - t.into()).powi(2))
        .sum();
    Ok(sum / targets.len() as f64)
}

/// Root mean squared error.
///
/// # Errors
/// Different lengths or no samples.
pub fn rmse<T: Copy + Into<f64>>(predictions: &[T], targets: &[T]) -> Result<f64, MetricsError> {
    mse(predictions, targets).map(f64::sqrt)
}

/// Mean absolute error.
///
/// # Errors
/// Different lengths or no samples.
pub fn mae<T: Copy + Into<f64>>(predictions: &[T], targets: &[T]) -> Result<f64, MetricsError> {
    check_lengths("mae", predictions.len(), targets.len())?;
    let sum: f64 = predictions
        .iter()
        .zip(targets)
        .map(|(&p, &t)| (p.into() - t.into()).abs())
        .sum();
    Ok(sum / targets.len() as f64)
}

/// Pearson correlation of two equally long samples, in [-1, 1].
///
/// NaN if any value is not finite. Where SciPy returns NaN because a sample is constant (or has
/// fewer than two values), this returns 0, so a degenerate model ranks as "no correlation".
///
/// # Errors
/// Different lengths or no samples.
pub fn pearson<T: Copy + Into<f64>>(x: &[T], y: &[T]) -> Result<f64, MetricsError> {
    check_lengths("pearson", x.len(), y.len())?;
    Ok(pearson_f64(&to_f64(x), &to_f64(y)))
}

fn pearson_f64(x: &[f64], y: &[f64]) -> f64 {
    if x.iter().chain(y).any(|v| !v.is_finite()) {
        return f64::NAN;
    }
    let constant = |v: &[f64]| v.iter().all(|&a| a == v[0]);
    if x.len() < 2 || constant(x) || constant(y) {
        return 0.0;
    }
    let n = x.len() as f64;
    let mx = x.iter().sum::<f64>() / n;
    let my = y.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (&a, &b) in x.iter().zip(y) {
        let (dx, dy) = (a - mx, b - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    (sxy / (sxx.sqrt() * syy.sqrt())).clamp(-1.0, 1.0)
}

/// 1-based ranks with ties given the average of the ranks they span (`scipy.stats.rankdata`'s
/// `method="average"`). NaN sorts last.
pub fn rank_average<T: Copy + Into<f64>>(values: &[T]) -> Vec<f64> {
    let v = to_f64(values);
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut ranks = vec![0.0; v.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && v[order[end]] == v[order[start]] {
            end += 1;
        }
        // Positions start..end (0-based) hold ranks start+1..=end; their mean:
        let rank = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = rank;
        }
        start = end;
    }
    ranks
}

/// Spearman rank correlation: Pearson correlation of tie-averaged ranks. Same NaN / degenerate
/// conventions as [`pearson`].
///
/// # Errors
/// Different lengths or no samples.
pub fn spearman<T: Copy + Into<f64>>(x: &[T], y: &[T]) -> Result<f64, MetricsError> {
    check_lengths("spearman", x.len(), y.len())?;
    let (xf, yf) = (to_f64(x), to_f64(y));
    if xf.iter().chain(&yf).any(|v| !v.is_finite()) {
        return Ok(f64::NAN);
    }
    Ok(pearson_f64(&rank_average(&xf), &rank_average(&yf)))
}

/// Regression scores of predictions against targets.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RegressionMetrics {
    /// Number of evaluated samples.
    pub num_samples: u64,
    /// Mean squared error.
    pub mse: f64,
    /// Root mean squared error.
    pub rmse: f64,
    /// Mean absolute error.
    pub mae: f64,
    /// Pearson correlation.
    pub pearson: f64,
    /// Spearman rank correlation.
    pub spearman: f64,
}

impl RegressionMetrics {
    /// Computes all regression scores.
    ///
    /// # Errors
    /// Different lengths or no samples.
    pub fn new<T: Copy + Into<f64>>(
        predictions: &[T],
        targets: &[T],
    ) -> Result<Self, MetricsError> {
        check_lengths("regression metrics", predictions.len(), targets.len())?;
        let mse = mse(predictions, targets)?;
        Ok(Self {
            num_samples: targets.len() as u64,
            mse,
            rmse: mse.sqrt(),
            mae: mae(predictions, targets)?,
            pearson: pearson(predictions, targets)?,
            spearman: spearman(predictions, targets)?,
        })
    }

    /// The scalar metrics by canonical [`Metric`] name, for logs.
    pub fn scalars(&self) -> BTreeMap<String, f64> {
        scalars_of(
            self,
            &[
                Metric::Mse,
                Metric::Rmse,
                Metric::Mae,
                Metric::Pearson,
                Metric::Spearman,
            ],
        )
    }
}

impl MetricValues for RegressionMetrics {
    fn metric(&self, metric: Metric) -> Option<f64> {
        Some(match metric {
            Metric::Mse => self.mse,
            Metric::Rmse => self.rmse,
            Metric::Mae => self.mae,
            Metric::Pearson => self.pearson,
            Metric::Spearman => self.spearman,
            _ => return None,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Multi-label
// ---------------------------------------------------------------------------------------------

/// Threshold above which (inclusive) a multi-label probability counts as a positive prediction.
pub const DEFAULT_THRESHOLD: f64 = 0.5;

/// Multi-label scores (each sample may have any number of the `num_labels` labels).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MultiLabelMetrics {
    /// Number of samples (rows).
    pub num_samples: u64,
    /// Probability threshold used for predictions.
    pub threshold: f64,
    /// F1 over pooled label decisions (`f1_score(average="micro")`).
    pub f1_micro: f64,
    /// Unweighted mean of per-label F1 over all labels, a label with no true and no predicted
    /// positives scoring 0 (`f1_score(average="macro", zero_division=0)`).
    pub f1_macro: f64,
    /// Fraction of samples whose whole label set is predicted exactly.
    pub subset_accuracy: f64,
    /// F1 of each label.
    pub per_label_f1: Vec<f64>,
}

impl MultiLabelMetrics {
    /// From row-major `probabilities` and `targets` (`num_samples × num_labels`, flattened) with
    /// the 0.5 threshold: a label is predicted when `p >= 0.5` and is true when `target >= 0.5`.
    ///
    /// # Errors
    /// See [`MultiLabelMetrics::from_probabilities_with_threshold`].
    pub fn from_probabilities<P, T>(
        probabilities: &[P],
        targets: &[T],
        num_labels: usize,
    ) -> Result<Self, MetricsError>
    where
        P: Copy + Into<f64>,
        T: Copy + Into<f64>,
    {
        Self::from_probabilities_with_threshold(
            probabilities,
            targets,
            num_labels,
            DEFAULT_THRESHOLD,
        )
    }

    /// As [`MultiLabelMetrics::from_probabilities`] with another threshold (NaN probabilities are
    /// negative).
    ///
    /// # Errors
    /// Different lengths, no samples, `num_labels == 0`, or a length that is not a multiple of
    /// `num_labels`.
    pub fn from_probabilities_with_threshold<P, T>(
        probabilities: &[P],
        targets: &[T],
        num_labels: usize,
        threshold: f64,
    ) -> Result<Self, MetricsError>
    where
        P: Copy + Into<f64>,
        T: Copy + Into<f64>,
    {
        let predicted: Vec<bool> = probabilities
            .iter()
            .map(|&p| p.into() >= threshold)
            .collect();
        let truth: Vec<bool> = targets.iter().map(|&t| t.into() >= 0.5).collect();
        let mut m = Self::from_predictions(&predicted, &truth, num_labels)?;
        m.threshold = threshold;
        Ok(m)
    }

    /// From row-major boolean decisions and truths (`num_samples × num_labels`, flattened).
    ///
    /// # Errors
    /// As [`MultiLabelMetrics::from_probabilities_with_threshold`].
    pub fn from_predictions(
        predicted: &[bool],
        truth: &[bool],
        num_labels: usize,
    ) -> Result<Self, MetricsError> {
        const WHAT: &str = "multi-label metrics";
        check_inputs(WHAT, num_labels, predicted.len(), truth.len())?;
        if !truth.len().is_multiple_of(num_labels) {
            return Err(MetricsError::Ragged {
                len: truth.len(),
                num_labels,
            });
        }
        let num_samples = truth.len() / num_labels;
        // Per label: tp, fp, fn.
        let mut counts = vec![(0u64, 0u64, 0u64); num_labels];
        let mut exact = 0u64;
        for (p_row, t_row) in predicted.chunks(num_labels).zip(truth.chunks(num_labels)) {
            if p_row == t_row {
                exact += 1;
            }
            for (j, (&p, &t)) in p_row.iter().zip(t_row).enumerate() {
                match (p, t) {
                    (true, true) => counts[j].0 += 1,
                    (true, false) => counts[j].1 += 1,
                    (false, true) => counts[j].2 += 1,
                    (false, false) => {}
                }
            }
        }
        let f1 = |tp: u64, fp: u64, fn_: u64| ratio(2.0 * tp as f64, (2 * tp + fp + fn_) as f64);
        let per_label_f1: Vec<f64> = counts
            .iter()
            .map(|&(tp, fp, fn_)| f1(tp, fp, fn_))
            .collect();
        let (tp, fp, fn_) = counts
            .iter()
            .fold((0, 0, 0), |a, c| (a.0 + c.0, a.1 + c.1, a.2 + c.2));
        Ok(Self {
            num_samples: num_samples as u64,
            threshold: DEFAULT_THRESHOLD,
            f1_micro: f1(tp, fp, fn_),
            f1_macro: per_label_f1.iter().sum::<f64>() / num_labels as f64,
            subset_accuracy: exact as f64 / num_samples as f64,
            per_label_f1,
        })
    }

    /// The scalar metrics by canonical [`Metric`] name, for logs.
    pub fn scalars(&self) -> BTreeMap<String, f64> {
        scalars_of(
            self,
            &[Metric::F1Micro, Metric::F1Macro, Metric::SubsetAccuracy],
        )
    }
}

impl MetricValues for MultiLabelMetrics {
    fn metric(&self, metric: Metric) -> Option<f64> {
        Some(match metric {
            Metric::F1Micro => self.f1_micro,
            Metric::F1Macro => self.f1_macro,
            Metric::SubsetAccuracy => self.subset_accuracy,
            _ => return None,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Metric names
// ---------------------------------------------------------------------------------------------

/// A named scalar that training can monitor (early stopping, best-model selection) and log.
///
/// Parses from its canonical name (see [`Metric::name`]) or a common alias (`"acc"`,
/// `"macro_f1"`, `"matthews_correlation"`, `"eval_loss"`, `"pearsonr"`, ...), case-insensitively;
/// serialises as the canonical name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Metric {
    /// Mean evaluation loss (`"loss"`), lower is better.
    Loss,
    /// `exp(mean loss)` of language modelling (`"perplexity"`), lower is better.
    Perplexity,
    /// `"accuracy"`.
    Accuracy,
    /// `"precision_macro"`.
    PrecisionMacro,
    /// `"recall_macro"`.
    RecallMacro,
    /// `"f1_macro"`.
    F1Macro,
    /// `"f1_micro"`.
    F1Micro,
    /// `"f1_weighted"`.
    F1Weighted,
    /// Matthews correlation coefficient (`"mcc"`).
    Mcc,
    /// `"mse"`, lower is better.
    Mse,
    /// `"rmse"`, lower is better.
    Rmse,
    /// `"mae"`, lower is better.
    Mae,
    /// `"pearson"`.
    Pearson,
    /// `"spearman"`.
    Spearman,
    /// Multi-label exact-set accuracy (`"subset_accuracy"`).
    SubsetAccuracy,
    /// SQuAD exact match (`"exact_match"`).
    ExactMatch,
    /// Task-level F1 that is neither macro nor micro over classes: entity-level F1 (NER) or
    /// SQuAD token F1 (`"f1"`).
    F1,
}

impl Metric {
    /// Every metric, in declaration order.
    pub const ALL: [Metric; 17] = [
        Metric::Loss,
        Metric::Perplexity,
        Metric::Accuracy,
        Metric::PrecisionMacro,
        Metric::RecallMacro,
        Metric::F1Macro,
        Metric::F1Micro,
        Metric::F1Weighted,
        Metric::Mcc,
        Metric::Mse,
        Metric::Rmse,
        Metric::Mae,
        Metric::Pearson,
        Metric::Spearman,
        Metric::SubsetAccuracy,
        Metric::ExactMatch,
        Metric::F1,
    ];

    /// The canonical name, as used in logs, JSON and configuration.
    pub const fn name(self) -> &'static str {
        match self {
            Metric::Loss => "loss",
            Metric::Perplexity => "perplexity",
            Metric::Accuracy => "accuracy",
            Metric::PrecisionMacro => "precision_macro",
            Metric::RecallMacro => "recall_macro",
            Metric::F1Macro => "f1_macro",
            Metric::F1Micro => "f1_micro",
            Metric::F1Weighted => "f1_weighted",
            Metric::Mcc => "mcc",
            Metric::Mse => "mse",
            Metric::Rmse => "rmse",
            Metric::Mae => "mae",
            Metric::Pearson => "pearson",
            Metric::Spearman => "spearman",
            Metric::SubsetAccuracy => "subset_accuracy",
            Metric::ExactMatch => "exact_match",
            Metric::F1 => "f1",
        }
    }

    /// Whether larger values are better (false for losses and errors). This is the one
    /// definition of a metric's direction: model selection, early stopping and `--seeds` ask
    /// it, by name through [`Metric::name_higher_is_better`].
    pub const fn higher_is_better(self) -> bool {
        !matches!(
            self,
            Metric::Loss | Metric::Perplexity | Metric::Mse | Metric::Rmse | Metric::Mae
        )
    }

    /// Whether a larger value of the metric named `name` is better: as
    /// [`higher_is_better`](Self::higher_is_better) for the names and aliases [`Metric`]
    /// parses (`eval_loss` included), true for any other name (a custom evaluator's score),
    /// so that a selection metric given as a string needs no parsing first.
    pub fn name_higher_is_better(name: &str) -> bool {
        name.parse::<Metric>()
            .map_or(true, Metric::higher_is_better)
    }

    /// Whether `candidate` improves on `best` by more than `min_delta` (>= 0) in this metric's
    /// direction. Any finite value improves on `None`; a NaN candidate never improves.
    pub fn is_improvement(self, candidate: f64, best: Option<f64>, min_delta: f64) -> bool {
        if candidate.is_nan() {
            return false;
        }
        match best {
            None => true,
            Some(b) if b.is_nan() => true,
            Some(b) if self.higher_is_better() => candidate > b + min_delta,
            Some(b) => candidate < b - min_delta,
        }
    }

    /// The worse of two values, for initialising a "best so far" tracker.
    pub const fn worst_value(self) -> f64 {
        if self.higher_is_better() {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Metric {
    type Err = MetricsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let key = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        let key = key.strip_prefix("eval_").unwrap_or(&key);
        if let Some(m) = Metric::ALL.iter().find(|m| m.name() == key) {
            return Ok(*m);
        }
        Ok(match key {
            "acc" => Metric::Accuracy,
            "ppl" => Metric::Perplexity,
            "macro_f1" | "f1_score_macro" => Metric::F1Macro,
            "micro_f1" => Metric::F1Micro,
            "weighted_f1" => Metric::F1Weighted,
            "macro_precision" => Metric::PrecisionMacro,
            "macro_recall" => Metric::RecallMacro,
            "matthews_correlation" | "matthews_corrcoef" => Metric::Mcc,
            "pearsonr" => Metric::Pearson,
            "spearmanr" => Metric::Spearman,
            "em" | "exact" => Metric::ExactMatch,
            "entity_f1" | "seqeval_f1" => Metric::F1,
            _ => {
                let known = Metric::ALL
                    .iter()
                    .map(|m| m.name())
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(MetricsError::UnknownMetric {
                    name: s.to_owned(),
                    known,
                });
            }
        })
    }
}

impl TryFrom<String> for Metric {
    type Error = MetricsError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Metric> for String {
    fn from(m: Metric) -> Self {
        m.name().to_owned()
    }
}

/// Anything an evaluation produced that can be asked for a named scalar.
pub trait MetricValues {
    /// The value of `metric`, or `None` if this evaluation does not compute it.
    fn metric(&self, metric: Metric) -> Option<f64>;
}

/// A bag of scalars keyed by name (e.g. `{"loss": 0.41, "accuracy": 0.88}` as logged); keys are
/// matched by canonical name or alias.
impl<S: std::hash::BuildHasher> MetricValues for HashMap<String, f64, S> {
    fn metric(&self, metric: Metric) -> Option<f64> {
        lookup(self.iter(), metric)
    }
}

impl MetricValues for BTreeMap<String, f64> {
    fn metric(&self, metric: Metric) -> Option<f64> {
        lookup(self.iter(), metric)
    }
}

fn lookup<'a>(
    mut entries: impl Iterator<Item = (&'a String, &'a f64)>,
    metric: Metric,
) -> Option<f64> {
    entries
        .find(|(k, _)| k.parse::<Metric>().ok() == Some(metric))
        .map(|(_, &v)| v)
}

fn scalars_of(values: &impl MetricValues, metrics: &[Metric]) -> BTreeMap<String, f64> {
    metrics
        .iter()
        .filter_map(|&m| values.metric(m).map(|v| (m.name().to_owned(), v)))
        .collect()
}
