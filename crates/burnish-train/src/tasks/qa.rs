//! Extractive question answering: [`BertForQuestionAnswering`] on context windows
//! ([`QaFeature`]s, see [`burnish_data::qa_features`]).
//!
//! Post-processing follows `transformers`' `postprocess_qa_predictions`: in every window of a
//! question, the `n_best` highest start and end logits are paired; pairs outside the context,
//! reversed or longer than `max_answer_length` tokens are dropped; the best `start + end` score
//! over all windows wins. For SQuAD v2 the null score (the smallest `[CLS]` start + end over the
//! windows) answers "no answer" when it beats the best span by more than a threshold.

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Int, Tensor, TensorData};
use burnish_data::{QaExample, QaFeature, eval_batches};
use burnish_heads::BertForQuestionAnswering;
use serde::Serialize;

use crate::checkpointing::{CheckpointedStep, checkpointed_grads};
use crate::metrics::squad;
use crate::tasks::Evaluation;
use crate::tasks::batches::{Batches, Collate, ModelInput, PaddedInputs};
use crate::tasks::classification::softmax;
use crate::trainer::{FineTune, Metrics};

/// A padded batch of question answering windows.
#[derive(Debug, Clone, Default)]
pub struct QaBatch {
    /// Token ids, padded on the right.
    pub input_ids: Vec<Vec<u32>>,
    /// Segment ids, padded with 0.
    pub token_type_ids: Vec<Vec<u32>>,
    /// 1 for real tokens, 0 for padding.
    pub attention_mask: Vec<Vec<u32>>,
    /// Answer start tokens (0 = `[CLS]`: not in this window).
    pub starts: Vec<usize>,
    /// Answer end tokens.
    pub ends: Vec<usize>,
    /// Real (non-padding) tokens.
    pub real_tokens: usize,
}

burnish_data::padded_batch!(QaBatch);

/// Training batches over question answering windows: seeded, length-bucketed, padded per
/// batch.
pub type QaBatches<'a> = Batches<'a, QaFeature>;

impl Collate for QaFeature {
    type Batch = QaBatch;

    fn tokens(&self) -> usize {
        self.len()
    }

    /// Pads windows to the longest of them.
    fn collate(features: &[&Self], pad_id: u32) -> QaBatch {
        let inputs = PaddedInputs::new(features, pad_id, |f| (&f.ids, &f.type_ids));
        QaBatch {
            input_ids: inputs.input_ids,
            token_type_ids: inputs.token_type_ids,
            attention_mask: inputs.attention_mask,
            starts: features.iter().map(|f| f.start).collect(),
            ends: features.iter().map(|f| f.end).collect(),
            real_tokens: inputs.real_tokens,
        }
    }
}

fn positions(values: &[usize], device: &Device) -> Tensor<1, Int> {
    let data: Vec<i64> = values.iter().map(|&v| v as i64).collect();
    Tensor::from_data(TensorData::new(data, [values.len()]), device)
}

impl FineTune<QaBatch> for BertForQuestionAnswering {
    fn loss(&self, batch: &QaBatch, device: &Device) -> Tensor<1> {
        let (start, end) = self.forward(batch.input(device));
        BertForQuestionAnswering::loss(
            self,
            start,
            end,
            positions(&batch.starts, device),
            positions(&batch.ends, device),
        )
    }

    fn checkpointed_grads(
        &self,
        batch: &QaBatch,
        step: CheckpointedStep<'_>,
    ) -> Option<(f64, Option<GradientsParams>)> {
        let device = step.device;
        let (starts, ends) = (
            positions(&batch.starts, device),
            positions(&batch.ends, device),
        );
        Some(checkpointed_grads(
            self,
            step,
            batch.input(device),
            |m, hidden| {
                let (start, end) = m.forward_hidden(hidden);
                Self::loss(m, start, end, starts, ends)
            },
        ))
    }

    /// The windows, when every start and end is inside its window (burnish's features point
    /// an answer outside the window at `[CLS]`). A position at or past the sequence length is
    /// ignored by the start or the end half of the loss alone, as in `transformers`, so the
    /// loss is then no single mean: `None`.
    fn loss_terms(&self, batch: &QaBatch) -> Option<usize> {
        let seq_len = batch.input_ids.first().map_or(0, Vec::len);
        let inside = |p: &usize| *p < seq_len;
        (batch.starts.iter().all(inside) && batch.ends.iter().all(inside))
            .then_some(batch.starts.len())
    }
}

/// Start and end logits of one window (without padding).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpanLogits {
    /// Start logits, one per token.
    pub start: Vec<f32>,
    /// End logits, one per token.
    pub end: Vec<f32>,
}

/// The logits of every window, in the windows' order, with the model in validation mode.
pub fn predict_span_logits(
    model: &BertForQuestionAnswering,
    features: &[QaFeature],
    batch_size: usize,
    pad_id: u32,
    device: &Device,
) -> Vec<SpanLogits> {
    let model = model.valid();
    let lengths: Vec<usize> = features.iter().map(QaFeature::len).collect();
    let batches = eval_batches(&lengths, batch_size.max(1)).unwrap_or_default();
    let mut out = vec![SpanLogits::default(); features.len()];
    let rows = |t: Tensor<2>| -> (usize, Vec<f32>) {
        let [_, seq] = t.dims();
        let v = t
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .unwrap_or_default();
        (seq, v)
    };
    for indices in &batches {
        let refs: Vec<&QaFeature> = indices.iter().map(|&i| &features[i]).collect();
        let batch = QaFeature::collate(&refs, pad_id);
        let (start, end) = model.forward(batch.input(device));
        let (seq, start) = rows(start);
        let (_, end) = rows(end);
        for (r, &i) in indices.iter().enumerate() {
            let n = features[i].len();
            out[i] = SpanLogits {
                start: start[r * seq..r * seq + n].to_vec(),
                end: end[r * seq..r * seq + n].to_vec(),
            };
        }
    }
    out
}

/// How answers are searched.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PostProcess {
    /// How many of the best start and end tokens of each window are paired (20).
    pub n_best: usize,
    /// The longest answer in tokens (30).
    pub max_answer_length: usize,
    /// SQuAD v2: answer nothing when the null score beats the best span by more than
    /// `null_threshold`; `None` always answers (SQuAD v1.1).
    pub null_threshold: Option<f32>,
}

impl Default for PostProcess {
    /// `run_qa.py`'s defaults: 20 best, 30 tokens, always answer.
    fn default() -> Self {
        Self {
            n_best: 20,
            max_answer_length: 30,
            null_threshold: None,
        }
    }
}

/// The answer to one question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    /// The answer text (empty for "no answer").
    pub text: String,
    /// Its byte span in the context.
    #[serde(skip)]
    pub byte_span: (usize, usize),
    /// Its first character in the context (Unicode scalar values, as Python counts).
    pub start: usize,
    /// One past its last character.
    pub end: usize,
    /// `start_logit + end_logit` of the span.
    pub score: f32,
    /// The span's softmax probability among the question's `n_best` candidates.
    pub probability: f32,
    /// SQuAD v2: the null score minus the best span's score.
    pub null_score_diff: Option<f32>,
}

/// Indices of the `n` largest values, largest first.
fn top_n(values: &[f32], n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]));
    order.truncate(n);
    order
}

/// The answer of each question (`contexts[i]` is question `i`'s context) from its windows'
/// logits.
pub fn best_answers(
    features: &[QaFeature],
    logits: &[SpanLogits],
    contexts: &[&str],
    options: PostProcess,
) -> Vec<Answer> {
    struct Candidate {
        span: (usize, usize),
        score: f32,
    }
    let mut candidates: Vec<Vec<Candidate>> = contexts.iter().map(|_| Vec::new()).collect();
    let mut null: Vec<Option<f32>> = vec![None; contexts.len()];
    for (feature, logits) in features.iter().zip(logits) {
        let example = feature.example;
        if logits.start.is_empty() {
            continue;
        }
        let null_score = logits.start[0] + logits.end[0];
        if null[example].is_none_or(|n| n > null_score) {
            null[example] = Some(null_score);
        }
        let starts = top_n(&logits.start, options.n_best);
        let ends = top_n(&logits.end, options.n_best);
        for &s in &starts {
            for &e in &ends {
                let (Some(Some(so)), Some(Some(eo))) = (
                    feature.context_offsets.get(s),
                    feature.context_offsets.get(e),
                ) else {
                    continue;
                };
                if e < s || e - s + 1 > options.max_answer_length {
                    continue;
                }
                candidates[example].push(Candidate {
                    span: (so.0, eo.1),
                    score: logits.start[s] + logits.end[e],
                });
            }
        }
    }
    contexts
        .iter()
        .enumerate()
        .map(|(i, context)| {
            let cands = &mut candidates[i];
            cands.sort_by(|a, b| b.score.total_cmp(&a.score));
            cands.truncate(options.n_best);
            let empty = Answer {
                text: String::new(),
                byte_span: (0, 0),
                start: 0,
                end: 0,
                score: null[i].unwrap_or(0.0),
                probability: 0.0,
                null_score_diff: None,
            };
            let Some(best) = cands.first() else {
                return empty;
            };
            // Softmax over the kept candidates (and the null answer for v2).
            let mut scores: Vec<f32> = cands.iter().map(|c| c.score).collect();
            if options.null_threshold.is_some()
                && let Some(n) = null[i]
            {
                scores.push(n);
            }
            let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let total: f32 = scores.iter().map(|s| (s - max).exp()).sum();
            let probability = (best.score - max).exp() / total;
            let diff = null[i].map(|n| n - best.score);
            if let (Some(threshold), Some(diff)) = (options.null_threshold, diff)
                && diff > threshold
            {
                let n = null[i].unwrap_or(0.0);
                return Answer {
                    probability: (n - max).exp() / total,
                    null_score_diff: Some(diff),
                    ..empty
                };
            }
            let (a, b) = best.span;
            let (a, b) = (a.min(context.len()), b.min(context.len()));
            Answer {
                text: context.get(a..b).unwrap_or_default().to_owned(),
                byte_span: (a, b),
                start: context.get(..a).map_or(0, |p| p.chars().count()),
                end: context.get(..b).map_or(0, |p| p.chars().count()),
                score: best.score,
                probability,
                null_score_diff: options.null_threshold.and(diff),
            }
        })
        .collect()
}

/// The evaluation of a question answering model.
#[derive(Debug, Clone)]
pub struct QaEval {
    /// `loss` (mean start/end cross-entropy over the windows' labels), `exact_match` and `f1`
    /// (SQuAD's, in percent), and for SQuAD v2 data the `HasAns_*` / `NoAns_*` breakdown.
    pub metrics: Metrics,
    /// The answer to each question.
    pub answers: Vec<Answer>,
}

impl Evaluation for QaEval {
    fn metrics(&self) -> &Metrics {
        &self.metrics
    }
}

/// Evaluates `model` on the windows of `examples` (labelled, as
/// [`burnish_data::qa_features`] makes them from the first answer): answers by
/// [`best_answers`], scored against all of each question's answers as the official SQuAD
/// script does (v1.1, or v2.0 when `post.null_threshold` is set).
///
/// # Errors
/// A message if there is nothing to evaluate.
pub fn evaluate(
    model: &BertForQuestionAnswering,
    features: &[QaFeature],
    examples: &[QaExample],
    post: PostProcess,
    batch_size: usize,
    pad_id: u32,
    device: &Device,
) -> Result<QaEval, String> {
    if features.is_empty() || examples.is_empty() {
        return Err("no evaluation questions".into());
    }
    let logits = predict_span_logits(model, features, batch_size, pad_id, device);
    let mut loss = 0.0f64;
    for (feature, l) in features.iter().zip(&logits) {
        let ps = softmax(&l.start)[feature.start.min(l.start.len() - 1)];
        let pe = softmax(&l.end)[feature.end.min(l.end.len() - 1)];
        loss -= (f64::from(ps.max(1e-30)).ln() + f64::from(pe.max(1e-30)).ln()) / 2.0;
    }
    let contexts: Vec<&str> = examples.iter().map(|e| &*e.context).collect();
    let answers = best_answers(features, &logits, &contexts, post);
    let golds: Vec<squad::SquadGold> = examples
        .iter()
        .map(|e| squad::SquadGold::new(e.id.clone(), e.answers.iter().map(|a| a.text.clone())))
        .collect();
    let predictions: std::collections::HashMap<String, String> = examples
        .iter()
        .zip(&answers)
        .map(|(e, a)| (e.id.clone(), a.text.clone()))
        .collect();
    let scores = if post.null_threshold.is_some() {
        squad::squad_v2(&predictions, &golds)
    } else {
        squad::squad_v1(&predictions, &golds)
    }
    .map_err(|e| e.to_string())?;
    let mut metrics = scores.scalars();
    metrics.insert("loss".into(), loss / features.len() as f64);
    Ok(QaEval { metrics, answers })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feature(example: usize, offsets: Vec<Option<(usize, usize)>>) -> QaFeature {
        QaFeature {
            ids: vec![0; offsets.len()],
            type_ids: vec![0; offsets.len()],
            context_offsets: offsets,
            example,
            start: 0,
            end: 0,
        }
    }

    #[test]
    fn the_best_valid_span_over_all_windows_wins() {
        let context = "Paris is in France";
        // Window 1 covers "Paris is", window 2 "is in France".
        let f1 = feature(0, vec![None, None, Some((0, 5)), Some((6, 8)), None]);
        let f2 = feature(
            0,
            vec![
                None,
                None,
                Some((6, 8)),
                Some((9, 11)),
                Some((12, 18)),
                None,
            ],
        );
        let l1 = SpanLogits {
            start: vec![0.0, 9.0, 2.0, 0.0, 0.0],
            end: vec![0.0, 9.0, 1.0, 0.0, 0.0],
        };
        // Window 2's best pair (4, 2) is reversed and skipped; (4, 4) at 4.0 + 2.5 beats
        // (2, 2) at 6.0 and window 1's "Paris" at 3.0; question tokens (no offsets) never win.
        let l2 = SpanLogits {
            start: vec![0.0, 0.0, 1.0, 0.0, 4.0, 0.0],
            end: vec![0.0, 0.0, 5.0, 0.0, 2.5, 0.0],
        };
        let answers = best_answers(&[f1, f2], &[l1, l2], &[context], PostProcess::default());
        assert_eq!(answers[0].text, "France");
        assert_eq!((answers[0].start, answers[0].end), (12, 18));
        assert!((answers[0].score - 6.5).abs() < 1e-6);
    }

    #[test]
    fn long_spans_are_dropped_and_v2_can_answer_nothing() {
        let context = "a b c";
        let f = feature(0, vec![None, Some((0, 1)), Some((2, 3)), Some((4, 5))]);
        let l = SpanLogits {
            start: vec![1.0, 3.0, 0.0, 0.0],
            end: vec![1.0, 0.0, 0.0, 3.0],
        };
        let short = PostProcess {
            max_answer_length: 2,
            ..PostProcess::default()
        };
        let (fs, ls) = (std::slice::from_ref(&f), std::slice::from_ref(&l));
        let a = &best_answers(fs, ls, &[context], short)[0];
        assert_ne!(a.text, "a b c");
        let v2 = PostProcess {
            null_threshold: Some(0.0),
            ..PostProcess::default()
        };
        let b = &best_answers(fs, ls, &[context], v2)[0];
        assert_eq!(b.text, "a b c");
        let strict = PostProcess {
            null_threshold: Some(-10.0),
            ..PostProcess::default()
        };
        let c = &best_answers(&[f], &[l], &[context], strict)[0];
        assert_eq!(c.text, "");
    }
}
