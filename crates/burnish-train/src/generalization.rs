//! The train-versus-validation gap of a run: at each evaluation, the mean training loss since
//! the previous one beside the validation loss, and a warning when the model overfits
//! (validation loss rising from its lowest while training loss keeps falling). What small
//! data goes wrong by, in `metrics.json` (`generalization`), the plot and the run's summary.

use serde::Serialize;

use crate::trainer::TrainerState;

/// How much validation loss must rise above its lowest (relative) to count as rising.
pub const RISE: f64 = 0.02;

/// One evaluation's losses.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GapPoint {
    /// Optimizer steps done.
    pub step: usize,
    /// Mean training loss of the steps since the previous evaluation (dropout on).
    pub train_loss: f64,
    /// Validation loss.
    pub valid_loss: f64,
    /// `valid_loss - train_loss`.
    pub gap: f64,
}

/// Validation loss rising from its lowest while training loss falls.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overfitting {
    /// The evaluation with the lowest validation loss.
    pub lowest: GapPoint,
    /// The last evaluation.
    pub last: GapPoint,
    /// What to do about it, for people.
    pub warning: String,
}

/// The gap at every evaluation and, when the run overfits, the warning.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Generalization {
    /// One point per evaluation that reported a loss, after at least one training step.
    pub points: Vec<GapPoint>,
    /// Set when validation loss rose more than [`RISE`] above its lowest while the training
    /// loss fell over the same evaluations.
    pub overfitting: Option<Overfitting>,
}

/// The gap of a run's history; `None` when no evaluation reported a `loss` after training
/// steps (the validation loss is not the training loss for every task: retrieval reports
/// none).
pub fn generalization(state: &TrainerState) -> Option<Generalization> {
    let mut points = Vec::new();
    let mut previous = 0;
    for eval in &state.evals {
        let Some(&valid_loss) = eval.metrics.get("loss") else {
            continue;
        };
        let window: Vec<f64> = (state.train_loss.iter())
            .filter(|&&(s, l)| s > previous && s <= eval.step && l.is_finite())
            .map(|&(_, l)| l)
            .collect();
        previous = eval.step;
        if window.is_empty() || !valid_loss.is_finite() {
            continue;
        }
        let train_loss = window.iter().sum::<f64>() / window.len() as f64;
        points.push(GapPoint {
            step: eval.step,
            train_loss,
            valid_loss,
            gap: valid_loss - train_loss,
        });
    }
    if points.is_empty() {
        return None;
    }
    let lowest = *points
        .iter()
        .min_by(|a, b| a.valid_loss.total_cmp(&b.valid_loss))
        .expect("points is not empty");
    let last = *points.last().expect("points is not empty");
    let overfitting = (last.step > lowest.step
        && last.valid_loss > lowest.valid_loss * (1.0 + RISE)
        && last.train_loss < lowest.train_loss)
        .then(|| Overfitting {
            lowest,
            last,
            warning: format!(
                "overfitting: validation loss rose from {:.4} (step {}) to {:.4} (step {}) while \
                 training loss fell from {:.4} to {:.4}; the model selected by the validation \
                 metric is kept, and fewer epochs, a lower learning rate or more data would help",
                lowest.valid_loss,
                lowest.step,
                last.valid_loss,
                last.step,
                lowest.train_loss,
                last.train_loss
            ),
        });
    Some(Generalization {
        points,
        overfitting,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trainer::EvalRecord;

    fn state(train: &[(usize, f64)], valid: &[(usize, f64)]) -> TrainerState {
        TrainerState {
            train_loss: train.to_vec(),
            evals: valid
                .iter()
                .map(|&(step, loss)| EvalRecord {
                    step,
                    epoch: 0,
                    metrics: [("loss".to_owned(), loss)].into(),
                })
                .collect(),
            ..TrainerState::default()
        }
    }

    #[test]
    fn the_gap_uses_the_training_loss_since_the_previous_evaluation() {
        let g = generalization(&state(
            &[(5, 1.0), (10, 0.8), (15, 0.6), (20, 0.4)],
            &[(10, 0.85), (20, 0.7)],
        ))
        .unwrap();
        assert_eq!(g.points.len(), 2);
        assert!((g.points[0].train_loss - 0.9).abs() < 1e-12);
        assert!((g.points[1].train_loss - 0.5).abs() < 1e-12);
        assert!((g.points[1].gap - 0.2).abs() < 1e-12);
        assert!(g.overfitting.is_none(), "validation loss still falls");
    }

    #[test]
    fn rising_validation_loss_with_falling_training_loss_is_overfitting() {
        let g = generalization(&state(
            &[(10, 0.9), (20, 0.5), (30, 0.2)],
            &[(10, 0.8), (20, 0.6), (30, 0.75)],
        ))
        .unwrap();
        let o = g.overfitting.expect("overfitting");
        assert_eq!((o.lowest.step, o.last.step), (20, 30));
        assert!(
            o.warning
                .starts_with("overfitting: validation loss rose from 0.6000")
        );
        // A rise within noise, or one with the training loss rising too, is not.
        let flat = state(
            &[(10, 0.9), (20, 0.5), (30, 0.2)],
            &[(10, 0.8), (20, 0.6), (30, 0.605)],
        );
        assert!(generalization(&flat).unwrap().overfitting.is_none());
        let both = state(
            &[(10, 0.9), (20, 0.5), (30, 0.7)],
            &[(10, 0.8), (20, 0.6), (30, 0.75)],
        );
        assert!(generalization(&both).unwrap().overfitting.is_none());
    }

    #[test]
    fn no_loss_no_gap() {
        let mut s = state(&[(10, 0.9)], &[]);
        assert!(generalization(&s).is_none());
        s.evals.push(EvalRecord {
            step: 10,
            epoch: 0,
            metrics: [("ndcg@10".to_owned(), 0.8)].into(),
        });
        assert!(generalization(&s).is_none());
    }
}
