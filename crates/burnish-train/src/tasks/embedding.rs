//! Sentence-embedding training ([`SentenceEncoder`]): (anchor, positive, hard negatives) pairs
//! with the multiple-negatives ranking loss, or scored pairs with CoSENT, in batches without
//! duplicate texts; evaluated as retrieval (NDCG@10, MRR@10, Recall@k) or by the Spearman
//! correlation of cosine similarities with the scores.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{Hash, Hasher};

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use burnish_data::{Rng, eval_batches};
use burnish_encoder::model::BertInput;
use burnish_heads::SentenceEncoder;
use burnish_heads::sentence::cos_sim;

use crate::metrics::retrieval::RetrievalMetrics;
use crate::metrics::spearman;
use crate::tasks::Evaluation;
use crate::tasks::batches::PaddedInputs;
use crate::trainer::{BatchSource, FineTune, Metrics};

/// One tokenized training pair: the anchor, its positive, its hard negatives and, for scored
/// pairs, the score.
#[derive(Debug, Clone, PartialEq)]
pub struct PairFeature {
    /// The anchor's token ids (special tokens included).
    pub anchor: Vec<u32>,
    /// The positive's token ids.
    pub positive: Vec<u32>,
    /// Hard negatives' token ids.
    pub negatives: Vec<Vec<u32>>,
    /// The pair's score (CoSENT).
    pub score: Option<f32>,
}

impl PairFeature {
    fn texts(&self) -> impl Iterator<Item = &Vec<u32>> {
        [&self.anchor, &self.positive]
            .into_iter()
            .chain(&self.negatives)
    }
}

/// A batch of pairs, padded: anchors `[B, S]`, candidates `[C, S']` (the `B` positives, then
/// every hard negative), scores.
#[derive(Debug)]
pub struct PairBatch {
    anchors: PaddedInputs,
    candidates: PaddedInputs,
    scores: Option<Vec<f32>>,
}

impl PairBatch {
    /// Pads `features`.
    pub fn new(features: &[&PairFeature], pad_id: u32) -> Self {
        let anchors: Vec<&[u32]> = features.iter().map(|f| f.anchor.as_slice()).collect();
        let candidates: Vec<&[u32]> = features
            .iter()
            .map(|f| f.positive.as_slice())
            .chain(
                features
                    .iter()
                    .flat_map(|f| f.negatives.iter().map(Vec::as_slice)),
            )
            .collect();
        let scores = features.iter().map(|f| f.score).collect();
        Self {
            anchors: pad_texts(&anchors, pad_id),
            candidates: pad_texts(&candidates, pad_id),
            scores,
        }
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.anchors.input_ids.len()
    }

    /// Whether the batch holds no pairs.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Single texts padded into one batch (segment ids 0).
fn pad_texts(texts: &[&[u32]], pad_id: u32) -> PaddedInputs {
    let seq_len = texts.iter().map(|t| t.len()).max().unwrap_or(0);
    let mut inputs = PaddedInputs {
        seq_len,
        ..PaddedInputs::default()
    };
    for text in texts {
        let mut ids = text.to_vec();
        ids.resize(seq_len, pad_id);
        inputs.input_ids.push(ids);
        inputs.token_type_ids.push(vec![0; seq_len]);
        inputs
            .attention_mask
            .push((0..seq_len).map(|t| u32::from(t < text.len())).collect());
        inputs.real_tokens += text.len();
    }
    inputs
}

/// Padded texts as the encoder's input.
fn model_input(inputs: &PaddedInputs, device: &Device) -> BertInput {
    BertInput::from_rows(
        &inputs.input_ids,
        &inputs.token_type_ids,
        &inputs.attention_mask,
        device,
    )
}

impl FineTune<PairBatch> for SentenceEncoder {
    fn loss(&self, batch: &PairBatch, device: &Device) -> Tensor<1> {
        let anchors = self.forward(model_input(&batch.anchors, device));
        let candidates = self.forward(model_input(&batch.candidates, device));
        let scores = batch
            .scores
            .as_ref()
            .map(|s| Tensor::from_data(TensorData::new(s.clone(), [s.len()]), device));
        self.loss.compute(anchors, candidates, scores)
    }

    fn loss_terms(&self, batch: &PairBatch) -> Option<usize> {
        // In-batch negatives: the loss of a shard is not part of one mean over the batch.
        let _ = batch;
        None
    }
}

/// Training batches of pairs: each epoch a seeded shuffle, cut into batches in which no text
/// appears twice (a repeated text would be its own in-batch negative:
/// `sentence-transformers`' `NoDuplicatesBatchSampler`). A pair whose text is already in the
/// batch waits for the next one.
#[derive(Debug)]
pub struct PairBatches<'a> {
    features: &'a [PairFeature],
    keys: Vec<Vec<u64>>,
    batch_size: usize,
    seed: u64,
    pad_id: u32,
}

impl<'a> PairBatches<'a> {
    /// Batches of `batch_size` pairs (at least 1), ordered by `seed`.
    pub fn new(features: &'a [PairFeature], batch_size: usize, seed: u64, pad_id: u32) -> Self {
        let keys = features
            .iter()
            .map(|f| f.texts().map(text_key).collect())
            .collect();
        Self {
            features,
            keys,
            batch_size: batch_size.max(1),
            seed,
            pad_id,
        }
    }
}

fn text_key(ids: &Vec<u32>) -> u64 {
    let mut hasher = DefaultHasher::new();
    ids.hash(&mut hasher);
    hasher.finish()
}

impl BatchSource for PairBatches<'_> {
    type Batch = PairBatch;

    fn plan(&self, epoch: u64) -> Vec<Vec<usize>> {
        let mut order: Vec<usize> = (0..self.features.len()).collect();
        Rng::derive(self.seed, epoch).shuffle(&mut order);
        let mut pending: VecDeque<usize> = order.into();
        let mut batches = Vec::new();
        while !pending.is_empty() {
            let mut batch = Vec::with_capacity(self.batch_size);
            let mut seen = HashSet::new();
            let mut waiting = Vec::new();
            while batch.len() < self.batch_size {
                let Some(i) = pending.pop_front() else { break };
                if self.keys[i].iter().any(|k| seen.contains(k)) {
                    waiting.push(i);
                } else {
                    seen.extend(self.keys[i].iter().copied());
                    batch.push(i);
                }
            }
            for i in waiting.into_iter().rev() {
                pending.push_front(i);
            }
            batches.push(batch);
        }
        batches
    }

    fn collate(&self, indices: &[usize]) -> PairBatch {
        let refs: Vec<&PairFeature> = indices.iter().map(|&i| &self.features[i]).collect();
        PairBatch::new(&refs, self.pad_id)
    }

    fn real_tokens(&self, batch: &PairBatch) -> usize {
        batch.anchors.real_tokens + batch.candidates.real_tokens
    }
}

/// The embeddings of tokenized texts (each a row of `D` values), in their order, with the
/// model in validation mode: longest first in batches of `batch_size`, dynamically padded.
pub fn embed(
    model: &SentenceEncoder,
    texts: &[Vec<u32>],
    batch_size: usize,
    pad_id: u32,
    device: &Device,
) -> Vec<Vec<f32>> {
    let model = model.valid();
    let lengths: Vec<usize> = texts.iter().map(Vec::len).collect();
    let batches = eval_batches(&lengths, batch_size.max(1)).unwrap_or_default();
    let mut out = vec![Vec::new(); texts.len()];
    for indices in &batches {
        let rows: Vec<&[u32]> = indices.iter().map(|&i| texts[i].as_slice()).collect();
        let embeddings = model.forward(model_input(&pad_texts(&rows, pad_id), device));
        let [_, width] = embeddings.dims();
        let values = to_vec(embeddings.into_data());
        for (r, &i) in indices.iter().enumerate() {
            out[i] = values[r * width..(r + 1) * width].to_vec();
        }
    }
    out
}

fn to_vec(data: TensorData) -> Vec<f32> {
    data.convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap_or_default()
}

/// A retrieval evaluation set: queries, a corpus, and which corpus entries answer each query.
#[derive(Debug, Clone, Default)]
pub struct RetrievalSet {
    /// The queries' token ids.
    pub queries: Vec<Vec<u32>>,
    /// The corpus' token ids (each text once).
    pub corpus: Vec<Vec<u32>>,
    /// For each query, the indices of its relevant corpus entries.
    pub relevant: Vec<Vec<usize>>,
}

impl RetrievalSet {
    /// The set of (query, positive) pairs: each query is relevant to its positives, the corpus
    /// being every positive and every text of `extra_corpus` (each distinct text once).
    pub fn from_pairs(pairs: &[(Vec<u32>, Vec<u32>)], extra_corpus: &[Vec<u32>]) -> Self {
        let mut set = Self::default();
        let mut index: HashMap<Vec<u32>, usize> = HashMap::new();
        let mut add = |set: &mut Self, text: &Vec<u32>| -> usize {
            *index.entry(text.clone()).or_insert_with(|| {
                set.corpus.push(text.clone());
                set.corpus.len() - 1
            })
        };
        let mut queries: HashMap<Vec<u32>, usize> = HashMap::new();
        for (query, positive) in pairs {
            let doc = add(&mut set, positive);
            let q = *queries.entry(query.clone()).or_insert_with(|| {
                set.queries.push(query.clone());
                set.relevant.push(Vec::new());
                set.queries.len() - 1
            });
            if !set.relevant[q].contains(&doc) {
                set.relevant[q].push(doc);
            }
        }
        for text in extra_corpus {
            add(&mut set, text);
        }
        set
    }
}

/// Scored pairs for the Spearman evaluation.
#[derive(Debug, Clone, Default)]
pub struct ScoredPairs {
    /// First texts.
    pub a: Vec<Vec<u32>>,
    /// Second texts.
    pub b: Vec<Vec<u32>>,
    /// Gold scores.
    pub scores: Vec<f32>,
}

/// The evaluation of an embedding model.
#[derive(Debug, Clone)]
pub struct EmbeddingEval {
    /// `ndcg@10`, `mrr@10`, `recall@k`, `map@100` (retrieval) or `spearman`, `pearson` (scored
    /// pairs); `loss` is `1 - ndcg@10` or `1 - spearman` (the trainer reads a loss).
    pub metrics: Metrics,
}

impl Evaluation for EmbeddingEval {
    fn metrics(&self) -> &Metrics {
        &self.metrics
    }
}

/// Retrieval metrics of `model` on `set`: every query scored against the whole corpus by
/// cosine similarity on the model's backend (exact search), ranked.
///
/// # Errors
/// A message if the set has no queries.
pub fn evaluate_retrieval(
    model: &SentenceEncoder,
    set: &RetrievalSet,
    batch_size: usize,
    pad_id: u32,
    device: &Device,
) -> Result<EmbeddingEval, String> {
    if set.queries.is_empty() || set.corpus.is_empty() {
        return Err("no retrieval queries or corpus".into());
    }
    let queries = embed(model, &set.queries, batch_size, pad_id, device);
    let corpus = embed(model, &set.corpus, batch_size, pad_id, device);
    let rankings = rank(&queries, &corpus, 100, device);
    let report = RetrievalMetrics::new(&rankings, &set.relevant);
    let mut metrics = report.scalars();
    metrics.insert("loss".into(), 1.0 - report.ndcg_at_10);
    Ok(EmbeddingEval { metrics })
}

/// The `top_k` corpus indices of each query by cosine similarity, best first.
pub fn rank(
    queries: &[Vec<f32>],
    corpus: &[Vec<f32>],
    top_k: usize,
    device: &Device,
) -> Vec<Vec<usize>> {
    let width = corpus.first().map_or(0, Vec::len);
    let matrix = |rows: &[Vec<f32>]| -> Tensor<2> {
        let flat: Vec<f32> = rows.iter().flatten().copied().collect();
        Tensor::from_data(TensorData::new(flat, [rows.len(), width]), device)
    };
    let corpus_t = matrix(corpus);
    let mut out = Vec::with_capacity(queries.len());
    for chunk in queries.chunks(256) {
        let scores = to_vec(cos_sim(matrix(chunk), corpus_t.clone()).into_data());
        for row in scores.chunks(corpus.len()) {
            let mut order: Vec<usize> = (0..row.len()).collect();
            let k = top_k.min(order.len());
            order.select_nth_unstable_by(k.saturating_sub(1), |&a, &b| row[b].total_cmp(&row[a]));
            order.truncate(k);
            order.sort_by(|&a, &b| row[b].total_cmp(&row[a]).then(a.cmp(&b)));
            out.push(order);
        }
    }
    out
}

/// Spearman (and Pearson) correlation of the cosine similarity of each pair with its score.
///
/// # Errors
/// A message if there are fewer than two pairs or the scores are constant.
pub fn evaluate_scored(
    model: &SentenceEncoder,
    pairs: &ScoredPairs,
    batch_size: usize,
    pad_id: u32,
    device: &Device,
) -> Result<EmbeddingEval, String> {
    let a = embed(model, &pairs.a, batch_size, pad_id, device);
    let b = embed(model, &pairs.b, batch_size, pad_id, device);
    let cosines: Vec<f64> = a.iter().zip(&b).map(|(x, y)| cosine(x, y)).collect();
    let gold: Vec<f64> = pairs.scores.iter().map(|&s| f64::from(s)).collect();
    let rho = spearman(&cosines, &gold).map_err(|e| e.to_string())?;
    let r = crate::metrics::pearson(&cosines, &gold).map_err(|e| e.to_string())?;
    let metrics = Metrics::from([
        ("spearman".to_owned(), rho),
        ("pearson".to_owned(), r),
        ("loss".to_owned(), 1.0 - rho),
    ]);
    Ok(EmbeddingEval { metrics })
}

fn cosine(x: &[f32], y: &[f32]) -> f64 {
    let dot: f64 = x
        .iter()
        .zip(y)
        .map(|(a, b)| f64::from(*a) * f64::from(*b))
        .sum();
    let norm = |v: &[f32]| v.iter().map(|a| f64::from(*a).powi(2)).sum::<f64>().sqrt();
    dot / (norm(x) * norm(y)).max(1e-12)
}
