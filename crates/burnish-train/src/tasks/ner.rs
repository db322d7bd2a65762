//! Token classification (NER): [`BertForTokenClassification`] on windows of tagged sentences.
//!
//! Training batches come from [`TokenFeature`]s (one per window; see
//! [`burnish_data::token_features`]). Predictions are read at each word's first sub-word and
//! put back together per sentence, so a sentence split into windows is predicted in full;
//! evaluation scores the word tags with entity-level precision / recall / F1 exactly as
//! `seqeval` computes them, plus token accuracy.

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Int, Tensor, TensorData};
use burnish_data::{IGNORE_INDEX, LabelMap, TokenFeature, eval_batches};
use burnish_heads::BertForTokenClassification;
use serde::Serialize;

use crate::checkpointing::{CheckpointedStep, checkpointed_grads};
use crate::config::TrainConfig;
use crate::error::TrainError;
use crate::metrics::entities::{EntityReport, get_entities};
use crate::tasks::Evaluation;
use crate::tasks::batches::{Batches, Collate, ModelInput, PaddedInputs, labelled};
use crate::tasks::classification::{argmax, softmax};
use crate::trainer::{FineTune, Metrics};

/// A padded batch of token classification windows.
#[derive(Debug, Clone, Default)]
pub struct TokenBatch {
    /// Token ids, padded on the right.
    pub input_ids: Vec<Vec<u32>>,
    /// Segment ids, padded with 0.
    pub token_type_ids: Vec<Vec<u32>>,
    /// 1 for real tokens, 0 for padding.
    pub attention_mask: Vec<Vec<u32>>,
    /// Per-token labels, padded with [`IGNORE_INDEX`].
    pub labels: Vec<Vec<i64>>,
    /// Real (non-padding) tokens.
    pub real_tokens: usize,
}

burnish_data::padded_batch!(TokenBatch);

/// Training batches over token classification windows: seeded, length-bucketed, padded per
/// batch.
pub type TokenBatches<'a> = Batches<'a, TokenFeature>;

impl Collate for TokenFeature {
    type Batch = TokenBatch;

    fn tokens(&self) -> usize {
        self.len()
    }

    /// Pads windows to the longest of them, labels with [`IGNORE_INDEX`].
    fn collate(features: &[&Self], pad_id: u32) -> TokenBatch {
        let inputs = PaddedInputs::new(features, pad_id, |f| (&f.ids, &f.type_ids));
        let labels = features
            .iter()
            .map(|f| {
                let mut labels = f.labels.clone();
                labels.resize(inputs.seq_len, IGNORE_INDEX);
                labels
            })
            .collect();
        TokenBatch {
            input_ids: inputs.input_ids,
            token_type_ids: inputs.token_type_ids,
            attention_mask: inputs.attention_mask,
            labels,
            real_tokens: inputs.real_tokens,
        }
    }
}

/// The labels of a batch as a `[B, S]` tensor.
fn label_tensor(labels: &[Vec<i64>], device: &Device) -> Tensor<2, Int> {
    let rows = labels.len();
    let cols = labels.first().map_or(0, Vec::len);
    let flat: Vec<i64> = labels.iter().flatten().copied().collect();
    Tensor::from_data(TensorData::new(flat, [rows, cols]), device)
}

impl FineTune<TokenBatch> for BertForTokenClassification {
    fn loss(&self, batch: &TokenBatch, device: &Device) -> Tensor<1> {
        let logits = self.forward(batch.input(device));
        BertForTokenClassification::loss(self, logits, label_tensor(&batch.labels, device))
    }

    fn checkpointed_grads(
        &self,
        batch: &TokenBatch,
        step: CheckpointedStep<'_>,
    ) -> Option<(f64, Option<GradientsParams>)> {
        let device = step.device;
        let labels = label_tensor(&batch.labels, device);
        Some(checkpointed_grads(
            self,
            step,
            batch.input(device),
            |m, hidden| Self::loss(m, m.forward_hidden(hidden), labels),
        ))
    }

    fn loss_terms(&self, batch: &TokenBatch) -> Option<usize> {
        Some(labelled(&batch.labels, 0))
    }
}

/// Per-token logits of every window (`[window][token][label]`, without padding), in the
/// windows' order, with the model in validation mode.
pub fn predict_token_logits(
    model: &BertForTokenClassification,
    features: &[TokenFeature],
    batch_size: usize,
    pad_id: u32,
    device: &Device,
) -> Vec<Vec<Vec<f32>>> {
    let model = model.valid();
    let lengths: Vec<usize> = features.iter().map(TokenFeature::len).collect();
    let batches = eval_batches(&lengths, batch_size.max(1)).unwrap_or_default();
    let mut out = vec![Vec::new(); features.len()];
    for indices in &batches {
        let refs: Vec<&TokenFeature> = indices.iter().map(|&i| &features[i]).collect();
        let batch = TokenFeature::collate(&refs, pad_id);
        let logits = model.forward(batch.input(device));
        let [rows, seq, labels] = logits.dims();
        let values = logits
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .unwrap_or_default();
        for (r, &i) in indices.iter().enumerate().take(rows) {
            let n = features[i].len();
            out[i] = (0..n)
                .map(|t| {
                    let at = (r * seq + t) * labels;
                    values[at..at + labels].to_vec()
                })
                .collect();
        }
    }
    out
}

/// A word's predicted tag.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WordPrediction {
    /// The tag id.
    pub tag: u32,
    /// Its softmax probability at the word's first sub-word (1.0 for a word without tokens,
    /// predicted `O`).
    pub score: f32,
}

/// Word-level predictions per sentence, read at each word's first sub-word.
///
/// `word_counts[s]` is the number of words of sentence `s`; a word without tokens gets tag id
/// `outside` (the id of `O`).
pub fn word_predictions(
    features: &[TokenFeature],
    logits: &[Vec<Vec<f32>>],
    word_counts: &[usize],
    outside: u32,
) -> Vec<Vec<WordPrediction>> {
    let mut out: Vec<Vec<WordPrediction>> = word_counts
        .iter()
        .map(|&n| {
            vec![
                WordPrediction {
                    tag: outside,
                    score: 1.0
                };
                n
            ]
        })
        .collect();
    let mut seen: Vec<Vec<bool>> = word_counts.iter().map(|&n| vec![false; n]).collect();
    for (feature, rows) in features.iter().zip(logits) {
        for (word, row) in feature.word_ids.iter().zip(rows) {
            let Some(word) = *word else { continue };
            let sentence = feature.sentence;
            if seen[sentence][word] {
                continue;
            }
            seen[sentence][word] = true;
            let tag = argmax(row);
            out[sentence][word] = WordPrediction {
                tag: tag as u32,
                score: softmax(row)[tag],
            };
        }
    }
    out
}

/// The evaluation of a token classifier.
#[derive(Debug, Clone)]
pub struct NerEval {
    /// `loss` (mean cross-entropy over labelled sub-words), `f1`, `precision`, `recall`
    /// (entity level, micro), `accuracy` (word level) and `f1_<TYPE>`.
    pub metrics: Metrics,
    /// The full entity report.
    pub report: EntityReport,
    /// The predicted tags per sentence.
    pub predicted: Vec<Vec<String>>,
}

impl Evaluation for NerEval {
    fn metrics(&self) -> &Metrics {
        &self.metrics
    }
}

/// Evaluates `model` on labelled windows against the sentences' gold tags.
///
/// # Errors
/// A message if there is nothing to evaluate or the metrics cannot be computed.
pub fn evaluate(
    model: &BertForTokenClassification,
    features: &[TokenFeature],
    gold: &[Vec<String>],
    tags: &LabelMap,
    batch_size: usize,
    pad_id: u32,
    device: &Device,
) -> Result<NerEval, String> {
    if features.is_empty() {
        return Err("no evaluation sentences".into());
    }
    let logits = predict_token_logits(model, features, batch_size, pad_id, device);
    let (mut loss, mut labelled) = (0.0f64, 0usize);
    for (feature, rows) in features.iter().zip(&logits) {
        for (&label, row) in feature.labels.iter().zip(rows) {
            if label == IGNORE_INDEX {
                continue;
            }
            let p = softmax(row)[label as usize];
            loss -= f64::from(p.max(1e-30)).ln();
            labelled += 1;
        }
    }
    let outside = tags.id("O").unwrap_or(0);
    let counts: Vec<usize> = gold.iter().map(Vec::len).collect();
    let words = word_predictions(features, &logits, &counts, outside);
    let predicted: Vec<Vec<String>> = words
        .iter()
        .map(|sentence| {
            sentence
                .iter()
                .map(|w| tags.name(w.tag).unwrap_or("O").to_owned())
                .collect()
        })
        .collect();
    let report = EntityReport::new(gold, &predicted).map_err(|e| e.to_string())?;
    let mut metrics = report.scalars();
    metrics.insert("loss".into(), loss / labelled.max(1) as f64);
    Ok(NerEval {
        metrics,
        report,
        predicted,
    })
}

/// A predicted entity in a text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entity {
    /// The entity type (`PER`, `LOC`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// The entity's text.
    pub text: String,
    /// First character (Unicode scalar value, as Python counts) of the entity in the text.
    pub start: usize,
    /// One past its last character.
    pub end: usize,
    /// Index of its first word.
    pub first_word: usize,
    /// Index of its last word.
    pub last_word: usize,
    /// The mean probability of its words' tags.
    pub score: f32,
}

/// The entities of one sentence: its words' byte spans in `text`, their predicted tags
/// (names) and scores. Entities are read from the tags as `seqeval` reads them.
pub fn entities(
    text: &str,
    spans: &[(usize, usize)],
    tags: &[String],
    scores: &[f32],
) -> Vec<Entity> {
    let refs: Vec<&str> = tags.iter().map(String::as_str).collect();
    get_entities(&refs)
        .into_iter()
        .filter(|e| e.end < spans.len())
        .map(|e| {
            let (start, end) = (spans[e.start].0, spans[e.end].1);
            let words = e.end - e.start + 1;
            let score = scores[e.start..=e.end].iter().sum::<f32>() / words as f32;
            Entity {
                kind: e.kind.clone(),
                text: text[start..end].to_owned(),
                start: text[..start].chars().count(),
                end: text[..end].chars().count(),
                first_word: e.start,
                last_word: e.end,
                score,
            }
        })
        .collect()
}

/// For each tag id, the tag a continuation sub-word gets with all-sub-word labels: `B-X` ->
/// `I-X` when the map has it, else the tag itself.
pub fn continuation_tags(tags: &LabelMap) -> Vec<u32> {
    tags.names()
        .iter()
        .enumerate()
        .map(|(id, name)| {
            name.strip_prefix("B-")
                .and_then(|kind| tags.id(&format!("I-{kind}")))
                .unwrap_or(id as u32)
        })
        .collect()
}

/// `model` with the run's class weights and label smoothing ([`TrainConfig::class_loss`]),
/// the balanced weights counted over the labelled tokens of `features`, the training windows
/// (one pass over them at the start of a run).
///
/// # Errors
/// [`TrainError::Config`] naming `class_weights` for weights that do not fit `tags`.
pub fn with_class_loss(
    mut model: BertForTokenClassification,
    config: &TrainConfig,
    tags: &LabelMap,
    features: &[TokenFeature],
) -> Result<BertForTokenClassification, TrainError> {
    let mut counts = vec![0; tags.len()];
    for feature in features {
        for &label in &feature.labels {
            if let Ok(tag) = usize::try_from(label)
                && tag < counts.len()
            {
                counts[tag] += 1;
            }
        }
    }
    model.class_loss = config.class_loss(tags.names(), &counts)?;
    Ok(model)
}
