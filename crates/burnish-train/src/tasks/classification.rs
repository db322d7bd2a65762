//! Sequence classification: [`BertForSequenceClassification`] and
//! [`Gpt2ForSequenceClassification`] (any [`SequenceClassifier`]) on [`burnish_data`] batches.

use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor};
use burnish_data::{Batch, Example, Label, Task, collate, eval_batches};
use burnish_heads::{
    BertForSequenceClassification, ClassificationTargets, Gpt2ForSequenceClassification,
    ProblemType, SequenceClassifier,
};

use crate::checkpointing::{CheckpointedStep, checkpointed_grads};
use crate::config::TrainConfig;
use crate::error::TrainError;
use crate::metrics::{ClassificationReport, MultiLabelMetrics, RegressionMetrics};
use crate::tasks::Evaluation;
use crate::tasks::batches::{Batches, Collate, ModelInput};
use crate::trainer::{FineTune, Metrics};

/// Training batches over tokenized examples: seeded, length-bucketed, dynamically padded.
pub type ExampleBatches<'a> = Batches<'a, Example>;

impl Collate for Example {
    type Batch = Batch;

    fn tokens(&self) -> usize {
        self.len()
    }

    fn collate(features: &[&Self], pad_id: u32) -> Batch {
        collate(features, pad_id)
    }
}

/// The training targets of a batch for a head of `num_labels` outputs.
///
/// # Panics
/// If a label does not fit the problem type (labels are validated when data is read).
pub fn batch_targets(
    labels: &[Label],
    problem: ProblemType,
    num_labels: usize,
    device: &Device,
) -> ClassificationTargets {
    match problem {
        ProblemType::SingleLabel => {
            let ids: Vec<u32> = labels
                .iter()
                .map(|l| match l {
                    Label::Class(c) => *c,
                    other => panic!("single-label batch with label {other:?}"),
                })
                .collect();
            ClassificationTargets::classes(&ids, device)
        }
        ProblemType::MultiLabel => {
            let rows: Vec<Vec<f32>> = labels
                .iter()
                .map(|l| match l {
                    Label::Multi(v) => v.clone(),
                    other => panic!("multi-label batch with label {other:?}"),
                })
                .collect();
            ClassificationTargets::rows(&rows, num_labels, true, device)
        }
        ProblemType::Regression => {
            let rows: Vec<Vec<f32>> = labels
                .iter()
                .map(|l| match l {
                    Label::Value(v) => vec![*v],
                    other => panic!("regression batch with label {other:?}"),
                })
                .collect();
            ClassificationTargets::rows(&rows, 1, false, device)
        }
    }
}

impl FineTune<Batch> for BertForSequenceClassification {
    fn loss(&self, batch: &Batch, device: &Device) -> Tensor<1> {
        let logits = self.forward(batch.input(device));
        let targets = batch_targets(&batch.labels, self.problem_type, self.num_labels, device);
        BertForSequenceClassification::loss(self, logits, targets)
    }

    fn checkpointed_grads(
        &self,
        batch: &Batch,
        step: CheckpointedStep<'_>,
    ) -> Option<(f64, Option<GradientsParams>)> {
        let device = step.device;
        let targets = batch_targets(&batch.labels, self.problem_type, self.num_labels, device);
        Some(checkpointed_grads(
            self,
            step,
            batch.input(device),
            |m, hidden| Self::loss(m, m.forward_hidden(hidden), targets),
        ))
    }

    fn loss_terms(&self, batch: &Batch) -> Option<usize> {
        Some(batch.labels.len())
    }
}

impl FineTune<Batch> for Gpt2ForSequenceClassification {
    fn loss(&self, batch: &Batch, device: &Device) -> Tensor<1> {
        let logits = self.forward(batch.input(device));
        let targets = batch_targets(&batch.labels, self.problem_type, self.num_labels, device);
        Gpt2ForSequenceClassification::loss(self, logits, targets)
    }

    fn loss_terms(&self, batch: &Batch) -> Option<usize> {
        Some(batch.labels.len())
    }
}

/// Logits of every example, in the examples' order (evaluated longest-first in batches of
/// `batch_size`, with dynamic padding), with the model in validation mode (no dropout).
pub fn predict_logits<M: SequenceClassifier>(
    model: &M,
    examples: &[Example],
    batch_size: usize,
    pad_id: u32,
    device: &Device,
) -> Vec<Vec<f32>> {
    // Dropout off and no autodiff graph, whatever state the caller's model is in.
    let model = model.valid();
    let lengths: Vec<usize> = examples.iter().map(Example::len).collect();
    let batches = eval_batches(&lengths, batch_size.max(1)).unwrap_or_default();
    let mut out = vec![Vec::new(); examples.len()];
    for indices in &batches {
        let refs: Vec<&Example> = indices.iter().map(|&i| &examples[i]).collect();
        let batch = collate(&refs, pad_id);
        let logits = model.logits(batch.input(device));
        let [rows, width] = logits.dims();
        let values = logits
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .unwrap_or_default();
        for (r, &i) in indices.iter().enumerate().take(rows) {
            out[i] = values[r * width..(r + 1) * width].to_vec();
        }
    }
    out
}

/// Softmax of one row of logits.
pub fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f64> = logits.iter().map(|&x| f64::from(x - max).exp()).collect();
    let sum: f64 = exps.iter().sum();
    exps.iter().map(|e| (e / sum) as f32).collect()
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// The evaluation of a classifier on labelled examples.
#[derive(Debug, Clone)]
pub struct ClassificationEval {
    /// Scalar metrics (`loss` and the task's scores), for logs and model selection.
    pub metrics: Metrics,
    /// The full report for single-label tasks (per class, confusion matrix).
    pub report: Option<ClassificationReport>,
}

impl Evaluation for ClassificationEval {
    fn metrics(&self) -> &Metrics {
        &self.metrics
    }
}

/// Evaluates `model` on `examples` (all labelled): the mean loss as the training loss computes
/// it, and accuracy / precision / recall / F1 (macro) / MCC / confusion matrix for single-label,
/// micro/macro F1 and subset accuracy for multi-label, MSE / RMSE / MAE / Pearson / Spearman for
/// regression.
///
/// # Errors
/// A message if the examples are empty or unlabelled.
pub fn evaluate<M: SequenceClassifier>(
    model: &M,
    examples: &[Example],
    task: &Task,
    batch_size: usize,
    pad_id: u32,
    device: &Device,
) -> Result<ClassificationEval, String> {
    if examples.is_empty() {
        return Err("no evaluation examples".into());
    }
    let logits = predict_logits(model, examples, batch_size, pad_id, device);
    let n = examples.len() as f64;
    match task {
        Task::SingleLabel(labels) => {
            let mut loss = 0.0;
            let mut predictions = Vec::with_capacity(examples.len());
            let mut targets = Vec::with_capacity(examples.len());
            for (example, row) in examples.iter().zip(&logits) {
                let Label::Class(target) = example.label else {
                    return Err(format!(
                        "line {}: example without a class label",
                        example.line
                    ));
                };
                let probs = softmax(row);
                loss -= f64::from(probs[target as usize].max(1e-30)).ln();
                predictions.push(argmax(row));
                targets.push(target as usize);
            }
            let report = ClassificationReport::new(&predictions, &targets, labels.names())
                .map_err(|e| e.to_string())?;
            let mut metrics = report.scalars();
            metrics.insert("loss".into(), loss / n);
            Ok(ClassificationEval {
                metrics,
                report: Some(report),
            })
        }
        Task::MultiLabel(labels) => {
            let mut loss = 0.0;
            let mut probs = Vec::new();
            let mut targets = Vec::new();
            for (example, row) in examples.iter().zip(&logits) {
                let Label::Multi(t) = &example.label else {
                    return Err(format!("line {}: example without labels", example.line));
                };
                for (&x, &y) in row.iter().zip(t) {
                    let (x, y) = (f64::from(x), f64::from(y));
                    loss += x.max(0.0) - x * y + (1.0 + (-x.abs()).exp()).ln();
                    probs.push(sigmoid(x as f32));
                    targets.push(y as f32);
                }
            }
            let m = MultiLabelMetrics::from_probabilities(&probs, &targets, labels.len())
                .map_err(|e| e.to_string())?;
            let mut metrics = m.scalars();
            metrics.insert("loss".into(), loss / (n * labels.len() as f64));
            Ok(ClassificationEval {
                metrics,
                report: None,
            })
        }
        Task::Regression => {
            let mut predictions = Vec::new();
            let mut targets = Vec::new();
            for (example, row) in examples.iter().zip(&logits) {
                let Label::Value(t) = example.label else {
                    return Err(format!("line {}: example without a target", example.line));
                };
                predictions.push(f64::from(row[0]));
                targets.push(f64::from(t));
            }
            let m = RegressionMetrics::new(&predictions, &targets).map_err(|e| e.to_string())?;
            let mut metrics = m.scalars();
            metrics.insert("loss".into(), m.mse);
            Ok(ClassificationEval {
                metrics,
                report: None,
            })
        }
    }
}

/// Index of the largest value (the first on ties).
pub fn argmax(row: &[f32]) -> usize {
    row.iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |(bi, bv), (i, &v)| {
            if v > bv { (i, v) } else { (bi, bv) }
        })
        .0
}

/// The head's problem type for a data task.
pub fn problem_type(task: &Task) -> ProblemType {
    match task {
        Task::SingleLabel(_) => ProblemType::SingleLabel,
        Task::MultiLabel(_) => ProblemType::MultiLabel,
        Task::Regression => ProblemType::Regression,
    }
}

/// `model` with the run's class weights and label smoothing ([`TrainConfig::class_loss`]),
/// the balanced weights counted over `examples`, the training set (one pass at the start of a
/// run).
///
/// # Errors
/// [`TrainError::Config`] naming `class_weights` or `label_smoothing`: for a multi-label or
/// regression task, or weights that do not fit the task's labels.
pub fn with_class_loss<M: SequenceClassifier>(
    mut model: M,
    config: &TrainConfig,
    task: &Task,
    examples: &[Example],
) -> Result<M, TrainError> {
    let Task::SingleLabel(labels) = task else {
        let field = match (&config.class_weights, config.label_smoothing) {
            (None, 0.0) => return Ok(model),
            (Some(_), _) => "class_weights",
            (None, _) => "label_smoothing",
        };
        return Err(TrainError::Config {
            field,
            reason: format!(
                "applies to single-label classification, not {}",
                task.problem_type()
            ),
        });
    };
    let mut counts = vec![0; labels.len()];
    for example in examples {
        if let Label::Class(class) = example.label {
            counts[class as usize] += 1;
        }
    }
    model.set_class_loss(config.class_loss(labels.names(), &counts)?);
    Ok(model)
}
