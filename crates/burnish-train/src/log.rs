//! The lines of a run's `log.jsonl` ([`files::LOG`](crate::trainer::files::LOG)).
//!
//! Each line is one [`LogEvent`], a JSON object whose `"type"` names the variant in
//! snake case (`"train"`, `"skipped"`, `"eval"`). The trainer writes them and the CLI's
//! reports, the tests and `scripts/transfer_report.py` read them, so every field is spelled
//! here once. [`LogEvent::to_line`] writes an object's keys in sorted order, as the log has
//! always been written: lines of old and new runs are alike byte for byte.

use serde::{Deserialize, Deserializer, Serialize};

/// Evaluation results: metric name to value (`loss`, `accuracy`, `f1_macro`, ...).
pub type Metrics = std::collections::BTreeMap<String, f64>;

/// One line of `log.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LogEvent {
    /// The mean training loss of the optimizer steps since the previous `Train` line, written
    /// every `log_every` steps and at each epoch end.
    Train {
        /// Optimizer steps done.
        step: usize,
        /// Epoch (0-based).
        epoch: usize,
        /// Mean micro-batch loss since the previous `Train` line (skipped steps left out).
        #[serde(deserialize_with = "f64_or_nan")]
        loss: f64,
        /// Learning rate of the last step.
        #[serde(deserialize_with = "f64_or_nan")]
        lr: f64,
        /// Real (non-padding) tokens per second of training-loop time, since the run began
        /// (earlier processes of a resumed run included).
        #[serde(deserialize_with = "f64_or_nan")]
        tokens_per_s: f64,
    },
    /// An optimizer step not taken because a loss or the gradient norm was not finite.
    Skipped {
        /// Optimizer steps done (the skipped one is not counted).
        step: usize,
        /// Epoch (0-based).
        epoch: usize,
        /// The last micro-batch of the skipped step (0-based, in its epoch).
        batch: usize,
        /// What was not finite, with its value (`"loss NaN"`, `"gradient norm inf"`).
        reason: String,
        /// Steps skipped in a row, this one included.
        consecutive: usize,
    },
    /// An evaluation.
    Eval {
        /// Optimizer steps done.
        step: usize,
        /// Epoch (0-based) during which it ran.
        epoch: usize,
        /// The evaluation's metrics (a non-finite value is written as `null`).
        #[serde(deserialize_with = "metrics_or_nan")]
        metrics: Metrics,
    },
}

impl LogEvent {
    /// The event as one line of JSON, without the newline. The keys are in sorted order
    /// (`"type"` last), as the log's lines were written before this type existed; a value
    /// that is not finite is written as `null`, which reads back as NaN.
    ///
    /// # Errors
    /// As [`serde_json::to_value`] (not expected: every field serialises).
    pub fn to_line(&self) -> serde_json::Result<String> {
        // A `Value`'s object keeps its keys sorted; the derived serialiser would write the
        // tag first and the fields in declaration order.
        Ok(serde_json::to_value(self)?.to_string())
    }

    /// Every event of a `log.jsonl` text, in order; blank lines are skipped.
    ///
    /// # Errors
    /// The first line that is not a [`LogEvent`].
    pub fn parse_all(text: &str) -> serde_json::Result<Vec<LogEvent>> {
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(serde_json::from_str)
            .collect()
    }
}

/// A number, or NaN for the `null` that JSON writes for a value that is not finite.
fn f64_or_nan<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(deserializer)?.unwrap_or(f64::NAN))
}

/// [`Metrics`] whose `null` values (not finite when written) read as NaN.
fn metrics_or_nan<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Metrics, D::Error> {
    let values = std::collections::BTreeMap::<String, Option<f64>>::deserialize(deserializer)?;
    Ok(values
        .into_iter()
        .map(|(name, v)| (name, v.unwrap_or(f64::NAN)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_the_objects_the_log_always_held() {
        // The lines `serde_json::json!` wrote before `LogEvent` existed.
        let train = LogEvent::Train {
            step: 10,
            epoch: 1,
            loss: 0.6875,
            lr: 2e-5,
            tokens_per_s: 1234.5,
        };
        assert_eq!(
            train.to_line().unwrap(),
            serde_json::json!({
                "type": "train", "step": 10, "epoch": 1, "loss": 0.6875, "lr": 2e-5,
                "tokens_per_s": 1234.5,
            })
            .to_string()
        );
        let skipped = LogEvent::Skipped {
            step: 2,
            epoch: 0,
            batch: 2,
            reason: "loss NaN".into(),
            consecutive: 1,
        };
        assert_eq!(
            skipped.to_line().unwrap(),
            r#"{"batch":2,"consecutive":1,"epoch":0,"reason":"loss NaN","step":2,"type":"skipped"}"#
        );
        let metrics: Metrics = [("accuracy".to_string(), 0.75), ("loss".into(), f64::NAN)].into();
        let eval = LogEvent::Eval {
            step: 4,
            epoch: 0,
            metrics: metrics.clone(),
        };
        let line = eval.to_line().unwrap();
        assert_eq!(
            line,
            serde_json::json!({"type": "eval", "step": 4, "epoch": 0, "metrics": metrics})
                .to_string()
        );
        assert_eq!(
            line,
            r#"{"epoch":0,"metrics":{"accuracy":0.75,"loss":null},"step":4,"type":"eval"}"#
        );

        // Each line reads back; the `null` of a non-finite value as NaN.
        let text = format!(
            "{}\n{}\n\n{line}\n",
            train.to_line().unwrap(),
            skipped.to_line().unwrap()
        );
        let events = LogEvent::parse_all(&text).unwrap();
        assert_eq!(events[..2], [train, skipped]);
        let LogEvent::Eval { metrics, .. } = &events[2] else {
            panic!("{events:?}");
        };
        assert_eq!(metrics["accuracy"], 0.75);
        assert!(metrics["loss"].is_nan());
    }
}
