//! Reference values come from scikit-learn 1.9.1 / SciPy 1.17.1 / NumPy 2.4.6; each test quotes
//! the Python that produced them. Shared prelude of every snippet:
//!
//! ```python
//! import numpy as np
//! from sklearn.metrics import (accuracy_score, precision_recall_fscore_support, f1_score,
//!     matthews_corrcoef, confusion_matrix, mean_squared_error, mean_absolute_error)
//! from scipy.stats import pearsonr, spearmanr
//! def cls(t, p):
//!     print(accuracy_score(t, p))
//!     print(precision_recall_fscore_support(t, p, zero_division=0))
//!     for avg in ["macro", "weighted", "micro"]:
//!         print(avg, precision_recall_fscore_support(t, p, average=avg, zero_division=0)[:3])
//!     print(matthews_corrcoef(t, p), confusion_matrix(t, p).tolist())
//! ```
use std::collections::{BTreeMap, HashMap};

use burnish_train::metrics::*;

const TOL: f64 = 1e-12;

fn close(a: f64, b: f64) {
    assert!((a - b).abs() <= TOL, "{a} != {b} (diff {})", (a - b).abs());
}

fn close_all(a: &[f64], b: &[f64]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        close(*x, *y);
    }
}

struct Expected<'a> {
    accuracy: f64,
    precision: &'a [f64],
    recall: &'a [f64],
    f1: &'a [f64],
    support: &'a [u64],
    macro_prf: [f64; 3],
    weighted_prf: [f64; 3],
    f1_micro: f64,
    mcc: f64,
    cm: &'a [&'a [u64]],
}

fn check(r: &ClassificationReport, e: &Expected<'_>) {
    close(r.accuracy, e.accuracy);
    let n = e.precision.len();
    let get = |f: fn(&ClassScores) -> f64| r.per_class[..n].iter().map(f).collect::<Vec<_>>();
    close_all(&get(|c| c.precision), e.precision);
    close_all(&get(|c| c.recall), e.recall);
    close_all(&get(|c| c.f1), e.f1);
    assert_eq!(
        r.per_class[..n]
            .iter()
            .map(|c| c.support)
            .collect::<Vec<_>>(),
        e.support
    );
    close_all(
        &[r.precision_macro, r.recall_macro, r.f1_macro],
        &e.macro_prf,
    );
    close_all(
        &[r.precision_weighted, r.recall_weighted, r.f1_weighted],
        &e.weighted_prf,
    );
    close(r.f1_micro, e.f1_micro);
    close(r.mcc, e.mcc);
    let cm: Vec<Vec<u64>> = r
        .confusion_matrix
        .iter()
        .map(|row| row[..n].to_vec())
        .collect();
    assert_eq!(
        &cm[..n],
        e.cm.iter()
            .map(|r| r.to_vec())
            .collect::<Vec<_>>()
            .as_slice()
    );
}

/// ```python
/// t = [0,1,2,0,1,2,0,1,2,0,1,0,2,1]
/// p = [0,1,1,0,0,1,0,1,0,1,1,0,0,1]
/// cls(t, p)
/// ```
#[test]
fn three_class_with_never_predicted_class_matches_sklearn() {
    let t = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 0, 2, 1];
    let p = [0, 1, 1, 0, 0, 1, 0, 1, 0, 1, 1, 0, 0, 1];
    let r = ClassificationReport::new(&p, &t, &["neg", "neu", "pos"]).unwrap();
    check(
        &r,
        &Expected {
            accuracy: 0.5714285714285714,
            precision: &[0.5714285714285714, 0.5714285714285714, 0.0],
            recall: &[0.8, 0.8, 0.0],
            f1: &[0.6666666666666666, 0.6666666666666666, 0.0],
            support: &[5, 5, 4],
            macro_prf: [0.38095238095238093, 0.5333333333333333, 0.4444444444444444],
            weighted_prf: [0.4081632653061224, 0.5714285714285714, 0.47619047619047616],
            f1_micro: 0.5714285714285714,
            mcc: 0.3721042037676253,
            cm: &[&[4, 1, 0], &[1, 4, 0], &[2, 2, 0]],
        },
    );
    assert_eq!(r.per_class[2].predicted, 0);
    assert_eq!(r.labels, ["neg", "neu", "pos"]);
}

/// ```python
/// t = [1,0,1,1,0,0,1,0,1,1,0,1,0,0,1,1]
/// p = [1,0,0,1,0,1,1,0,1,0,0,1,1,0,1,1]
/// cls(t, p)
/// ```
#[test]
fn binary_matches_sklearn() {
    let t = [1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 1];
    let p = [1, 0, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 1];
    let r = ClassificationReport::numbered(&p, &t, 2).unwrap();
    check(
        &r,
        &Expected {
            accuracy: 0.75,
            precision: &[0.7142857142857143, 0.7777777777777778],
            recall: &[0.7142857142857143, 0.7777777777777778],
            f1: &[0.7142857142857143, 0.7777777777777778],
            support: &[7, 9],
            macro_prf: [0.746031746031746, 0.746031746031746, 0.746031746031746],
            weighted_prf: [0.75, 0.75, 0.75],
            f1_micro: 0.75,
            mcc: 0.49206349206349204,
            cm: &[&[5, 2], &[2, 7]],
        },
    );
    close(accuracy(&p, &t).unwrap(), 0.75);
}

/// ```python
/// rng = np.random.default_rng(7)
/// t = rng.integers(0, 4, 30).tolist()
/// p = [x if rng.random() < 0.6 else int(rng.integers(0, 4)) for x in t]
/// cls(t, p)
/// ```
/// Evaluated with `num_classes = 5`: class 4 occurs nowhere and, as with scikit-learn's
/// default `labels=None`, does not enter the macro average.
#[test]
fn four_class_with_absent_fifth_class_matches_sklearn() {
    let t = [
        3, 2, 2, 3, 2, 3, 3, 0, 0, 1, 1, 3, 3, 0, 1, 3, 0, 3, 0, 1, 3, 1, 1, 1, 2, 1, 3, 1, 1, 2,
    ];
    let p = [
        3, 3, 3, 1, 2, 0, 3, 0, 0, 1, 3, 3, 3, 0, 1, 3, 2, 3, 0, 1, 2, 1, 0, 1, 2, 2, 3, 1, 1, 2,
    ];
    let r = ClassificationReport::numbered(&p, &t, 5).unwrap();
    check(
        &r,
        &Expected {
            accuracy: 0.7,
            precision: &[0.6666666666666666, 0.875, 0.5, 0.7],
            recall: &[0.8, 0.7, 0.6, 0.7],
            f1: &[
                0.7272727272727273,
                0.7777777777777778,
                0.5454545454545454,
                0.7,
            ],
            support: &[5, 10, 5, 10],
            macro_prf: [0.6854166666666666, 0.7, 0.6876262626262626],
            weighted_prf: [0.7194444444444444, 0.7, 0.7047138047138047],
            f1_micro: 0.7,
            mcc: 0.5936410014092834,
            cm: &[&[4, 0, 1, 0], &[1, 7, 1, 1], &[0, 0, 3, 2], &[1, 1, 1, 7]],
        },
    );
    assert_eq!(r.per_class[4].support, 0);
    assert_eq!(r.per_class[4].f1, 0.0);
    assert_eq!(r.confusion_matrix.len(), 5);
}

/// ```python
/// t = [0,1,2,1,0]; p = [1,1,1,1,1]
/// cls(t, p)
/// ```
#[test]
fn constant_prediction_has_zero_mcc_like_sklearn() {
    let t = [0, 1, 2, 1, 0];
    let p = [1, 1, 1, 1, 1];
    let r = ClassificationReport::numbered(&p, &t, 3).unwrap();
    check(
        &r,
        &Expected {
            accuracy: 0.4,
            precision: &[0.0, 0.4, 0.0],
            recall: &[0.0, 1.0, 0.0],
            f1: &[0.0, 0.5714285714285714, 0.0],
            support: &[2, 2, 1],
            macro_prf: [0.13333333333333333, 0.3333333333333333, 0.19047619047619047],
            weighted_prf: [0.16, 0.4, 0.22857142857142856],
            f1_micro: 0.4,
            mcc: 0.0,
            cm: &[&[0, 2, 0], &[0, 2, 0], &[0, 1, 0]],
        },
    );
}

#[test]
fn perfect_classification() {
    let t = [0, 1, 2, 2, 1];
    let r = ClassificationReport::numbered(&t, &t, 3).unwrap();
    assert_eq!(
        (r.accuracy, r.f1_macro, r.mcc, r.f1_weighted),
        (1.0, 1.0, 1.0, 1.0)
    );
}

#[test]
fn incremental_confusion_matrix_equals_batch() {
    let t = [0, 1, 2, 0, 1, 2, 0];
    let p = [0, 2, 2, 1, 1, 0, 0];
    let mut a = ConfusionMatrix::new(3);
    let mut b = ConfusionMatrix::new(3);
    for (i, (&pi, &ti)) in p.iter().zip(&t).enumerate() {
        if i < 3 {
            a.add(i, pi, ti).unwrap()
        } else {
            b.add(i, pi, ti).unwrap()
        }
    }
    a.merge(&b).unwrap();
    assert_eq!(a, ConfusionMatrix::from_predictions(&p, &t, 3).unwrap());
    assert_eq!(a.count(1, 2), 1);
    assert_eq!(a.support(0), 3);
    assert_eq!(a.predicted(0), 3);
}

#[test]
fn bad_classification_input_is_an_error() {
    assert!(matches!(
        ClassificationReport::numbered(&[0, 1], &[0], 2),
        Err(MetricsError::LengthMismatch {
            left: 2,
            right: 1,
            ..
        })
    ));
    assert!(matches!(
        ClassificationReport::numbered(&[], &[], 2),
        Err(MetricsError::Empty { .. })
    ));
    assert!(matches!(
        ClassificationReport::numbered(&[0, 3], &[0, 1], 2),
        Err(MetricsError::LabelOutOfRange {
            which: "prediction",
            index: 1,
            label: 3,
            num_classes: 2
        })
    ));
    assert!(matches!(
        ClassificationReport::numbered(&[0, 1], &[2, 1], 2),
        Err(MetricsError::LabelOutOfRange {
            which: "target",
            index: 0,
            ..
        })
    ));
    assert!(matches!(
        ClassificationReport::numbered(&[0], &[0], 0),
        Err(MetricsError::NoClasses { .. })
    ));
    let cm = ConfusionMatrix::from_predictions(&[0], &[1], 2).unwrap();
    assert!(matches!(
        ClassificationReport::from_confusion(&cm, &["a"]),
        Err(MetricsError::LabelCount {
            labels: 1,
            num_classes: 2
        })
    ));
    assert!(matches!(
        accuracy(&[], &[]),
        Err(MetricsError::Empty { .. })
    ));
    let msg = ClassificationReport::numbered(&[0, 3], &[0, 1], 2)
        .unwrap_err()
        .to_string();
    assert_eq!(
        msg,
        "prediction at index 1 is class 3, but there are only 2 classes"
    );
}

#[test]
fn report_json_round_trip_and_display() {
    let t = [1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 1];
    let p = [1, 0, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 1];
    let r = ClassificationReport::new(&p, &t, &["negative", "positive"]).unwrap();
    let json = r.to_json();
    // serde_json without its `float_roundtrip` feature may be 1 ulp off when parsing floats.
    let back = ClassificationReport::from_json(&json).unwrap();
    close(back.mcc, r.mcc);
    close(back.f1_macro, r.f1_macro);
    assert_eq!(
        (back.labels, back.confusion_matrix),
        (r.labels.clone(), r.confusion_matrix.clone())
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["confusion_matrix"], serde_json::json!([[5, 2], [2, 7]]));
    assert_eq!(v["per_class"][1]["label"], "positive");

    let table = r.to_string();
    let expected = r#"
              precision     recall   f1-score    support

    negative     0.7143     0.7143     0.7143          7
    positive     0.7778     0.7778     0.7778          9

    accuracy                           0.7500         16
   macro avg     0.7460     0.7460     0.7460         16
weighted avg     0.7500     0.7500     0.7500         16
         mcc     0.4921

confusion matrix (rows = true, columns = predicted):
            negative  positive
  negative         5         2
  positive         2         7
"#;
    let expected = expected.strip_prefix('\n').unwrap();
    assert_eq!(table, expected, "\n{table}");
}

#[test]
fn display_uses_class_ids_for_long_labels() {
    let labels = ["a rather long label name", "b"];
    let r = ClassificationReport::new(&[0, 1, 1], &[0, 1, 0], &labels).unwrap();
    let table = r.to_string();
    assert!(
        table.contains("0: a rather long label name  1  1"),
        "{table}"
    );
}

/// ```python
/// y = np.array([3.0, -0.5, 2.0, 7.0, 2.0, 4.5, 1.0, 2.0])   # targets
/// x = np.array([2.5, 0.0, 2.0, 8.0, 1.5, 4.5, 1.0, 3.0])    # predictions
/// mean_squared_error(y, x), np.sqrt(mean_squared_error(y, x)), mean_absolute_error(y, x)
/// pearsonr(x, y)[0], spearmanr(x, y)[0]
/// ```
#[test]
fn regression_matches_sklearn_and_scipy() {
    let targets = [3.0, -0.5, 2.0, 7.0, 2.0, 4.5, 1.0, 2.0];
    let preds = [2.5, 0.0, 2.0, 8.0, 1.5, 4.5, 1.0, 3.0];
    let m = RegressionMetrics::new(&preds, &targets).unwrap();
    close(m.mse, 0.34375);
    close(m.rmse, 0.5863019699779287);
    close(m.mae, 0.4375);
    close(m.pearson, 0.9729277476378283);
    close(m.spearman, 0.9271050693011065);
    assert_eq!(m.num_samples, 8);
    // f32 input works too.
    let p32: Vec<f32> = preds.iter().map(|&v| v as f32).collect();
    let t32: Vec<f32> = targets.iter().map(|&v| v as f32).collect();
    close(mse(&p32, &t32).unwrap(), 0.34375);
}

#[test]
fn tie_averaged_ranks() {
    // scipy.stats.rankdata([2.0, 1.0, 2.0, 3.0, 2.0]) -> [3., 1., 3., 5., 3.]
    assert_eq!(
        rank_average(&[2.0, 1.0, 2.0, 3.0, 2.0]),
        [3.0, 1.0, 3.0, 5.0, 3.0]
    );
    assert_eq!(rank_average(&[0.5f32, 0.5]), [1.5, 1.5]);
}

#[test]
fn perfect_and_degenerate_correlations() {
    let x = [0.1, 0.7, 0.2, 1.5, -3.0];
    let y: Vec<f64> = x.iter().map(|v| 2.0 * v + 1.0).collect();
    let neg: Vec<f64> = x.iter().map(|v| -0.5 * v).collect();
    close(pearson(&x, &y).unwrap(), 1.0);
    close(spearman(&x, &y).unwrap(), 1.0);
    close(pearson(&x, &neg).unwrap(), -1.0);
    close(spearman(&x, &neg).unwrap(), -1.0);
    // Monotone but non-linear: Spearman 1, Pearson below 1.
    let cube: Vec<f64> = x.iter().map(|v| v * v * v).collect();
    close(spearman(&x, &cube).unwrap(), 1.0);
    assert!(pearson(&x, &cube).unwrap() < 0.99);
    // Constant input: 0 (SciPy: NaN with a warning); non-finite input: NaN.
    assert_eq!(pearson(&x, &[0.1; 5]).unwrap(), 0.0);
    assert_eq!(spearman(&[0.1; 5], &x).unwrap(), 0.0);
    assert_eq!(pearson(&[1.0], &[2.0]).unwrap(), 0.0);
    assert!(
        pearson(&[1.0, f64::NAN, 2.0], &[1.0, 2.0, 3.0])
            .unwrap()
            .is_nan()
    );
    assert!(
        spearman(&[1.0, f64::INFINITY, 2.0], &[1.0, 2.0, 3.0])
            .unwrap()
            .is_nan()
    );
    assert!(matches!(
        pearson(&[1.0], &[1.0, 2.0]),
        Err(MetricsError::LengthMismatch { .. })
    ));
    assert!(matches!(
        mse::<f64>(&[], &[]),
        Err(MetricsError::Empty { .. })
    ));
}

/// ```python
/// probs = np.array([[0.9,0.2,0.6,0.1],[0.4,0.7,0.55,0.05],[0.8,0.9,0.3,0.2],
///                   [0.1,0.3,0.45,0.0],[0.51,0.49,0.8,0.3],[0.3,0.6,0.2,0.1]])
/// tgt = np.array([[1,0,1,0],[0,1,0,0],[1,1,0,0],[0,0,1,0],[1,0,1,0],[0,1,1,0]])
/// pred = (probs >= 0.5).astype(int)
/// f1_score(tgt, pred, average="micro", zero_division=0)
/// f1_score(tgt, pred, average="macro", zero_division=0)
/// accuracy_score(tgt, pred)
/// f1_score(tgt, pred, average=None, zero_division=0)
/// ```
#[test]
fn multilabel_matches_sklearn() {
    let probs: [f32; 24] = [
        0.9, 0.2, 0.6, 0.1, 0.4, 0.7, 0.55, 0.05, 0.8, 0.9, 0.3, 0.2, //
        0.1, 0.3, 0.45, 0.0, 0.51, 0.49, 0.8, 0.3, 0.3, 0.6, 0.2, 0.1,
    ];
    let tgt: [f32; 24] = [
        1., 0., 1., 0., 0., 1., 0., 0., 1., 1., 0., 0., //
        0., 0., 1., 0., 1., 0., 1., 0., 0., 1., 1., 0.,
    ];
    let m = MultiLabelMetrics::from_probabilities(&probs, &tgt, 4).unwrap();
    close(m.f1_micro, 0.8421052631578947);
    close(m.f1_macro, 0.6428571428571428);
    close(m.subset_accuracy, 0.5);
    close_all(&m.per_label_f1, &[1.0, 1.0, 0.5714285714285714, 0.0]);
    assert_eq!(m.num_samples, 6);
    assert!(matches!(
        MultiLabelMetrics::from_probabilities(&probs[..23], &tgt[..23], 4),
        Err(MetricsError::Ragged {
            len: 23,
            num_labels: 4
        })
    ));
    assert!(matches!(
        MultiLabelMetrics::from_predictions(&[true], &[true, false], 1),
        Err(MetricsError::LengthMismatch { .. })
    ));
}

#[test]
fn metric_names_parse_and_direction() {
    for m in Metric::ALL {
        assert_eq!(m.name().parse::<Metric>().unwrap(), m);
        assert_eq!(m.to_string(), m.name());
    }
    assert_eq!("eval_loss".parse::<Metric>().unwrap(), Metric::Loss);
    assert_eq!("Macro-F1".parse::<Metric>().unwrap(), Metric::F1Macro);
    assert_eq!(
        "matthews_correlation".parse::<Metric>().unwrap(),
        Metric::Mcc
    );
    assert_eq!("acc".parse::<Metric>().unwrap(), Metric::Accuracy);
    let err = "bleu".parse::<Metric>().unwrap_err().to_string();
    assert!(
        err.starts_with("unknown metric \"bleu\"; known metrics: loss, perplexity, accuracy"),
        "{err}"
    );

    assert!(!Metric::Loss.higher_is_better());
    assert!(!Metric::Rmse.higher_is_better());
    assert!(Metric::Mcc.higher_is_better());
    assert!(Metric::Pearson.higher_is_better());
    // By name: aliases and `eval_` prefixes as parsed; a custom score counts as higher-better.
    assert!(!Metric::name_higher_is_better("eval_loss"));
    assert!(!Metric::name_higher_is_better("ppl"));
    assert!(Metric::name_higher_is_better("macro_f1"));
    assert!(Metric::name_higher_is_better("my_custom_score"));
    assert!(Metric::Loss.is_improvement(0.5, Some(0.6), 0.0));
    assert!(!Metric::Loss.is_improvement(0.59, Some(0.6), 0.05));
    assert!(Metric::Accuracy.is_improvement(0.7, Some(0.6), 0.0));
    assert!(!Metric::Accuracy.is_improvement(0.6, Some(0.6), 0.0));
    assert!(Metric::Accuracy.is_improvement(0.1, None, 0.0));
    assert!(!Metric::Accuracy.is_improvement(f64::NAN, None, 0.0));
    assert_eq!(Metric::Mae.worst_value(), f64::INFINITY);

    let json = serde_json::to_string(&Metric::F1Macro).unwrap();
    assert_eq!(json, "\"f1_macro\"");
    assert_eq!(
        serde_json::from_str::<Metric>("\"macro_f1\"").unwrap(),
        Metric::F1Macro
    );
    assert!(serde_json::from_str::<Metric>("\"nope\"").is_err());
}

#[test]
fn fetch_named_scalars() {
    let r = ClassificationReport::numbered(&[0, 1, 1], &[0, 1, 0], 2).unwrap();
    assert_eq!(r.metric(Metric::Accuracy), Some(r.accuracy));
    assert_eq!(r.metric(Metric::Mcc), Some(r.mcc));
    assert_eq!(r.metric(Metric::Loss), None);
    let s = r.scalars();
    assert_eq!(s["f1_macro"], r.f1_macro);
    assert_eq!(s.len(), 7);

    let reg = RegressionMetrics::new(&[1.0, 2.0, 3.0], &[1.0, 2.5, 2.5]).unwrap();
    assert_eq!(reg.metric(Metric::Spearman), Some(reg.spearman));
    assert_eq!(reg.metric(Metric::Accuracy), None);
    assert_eq!(
        reg.scalars().keys().cloned().collect::<Vec<_>>(),
        ["mae", "mse", "pearson", "rmse", "spearman"]
    );

    let mut logged: HashMap<String, f64> = HashMap::new();
    logged.insert("eval_loss".into(), 0.25);
    logged.insert("accuracy".into(), 0.9);
    assert_eq!(logged.metric(Metric::Loss), Some(0.25));
    assert_eq!(logged.metric(Metric::Accuracy), Some(0.9));
    assert_eq!(logged.metric(Metric::Mcc), None);
    let tree: BTreeMap<String, f64> = logged.into_iter().collect();
    assert_eq!(tree.metric(Metric::Loss), Some(0.25));
}
