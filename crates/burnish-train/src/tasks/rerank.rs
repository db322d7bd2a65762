//! Reranker training ([`CrossEncoder`]): each query's (query, passage) pairs form a group,
//! trained with binary cross-entropy on every pair or ListNet over the group; evaluated by
//! sorting each group's passages by score (NDCG@10, MRR@10, MAP over the group), beside the
//! same metrics of the groups' given order (the first-stage retriever's, for candidates that
//! `burnish mine --format ranked` wrote).

use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use burnish_data::{Example, Label, PaddedBatch, collate, eval_batches};
use burnish_heads::CrossEncoder;
use burnish_heads::rerank::{
    RerankLoss, RerankLossKind, binary_cross_entropy, listnet_loss, listnet_targets,
};

use crate::metrics::retrieval::RetrievalMetrics;
use crate::tasks::Evaluation;
use crate::tasks::batches::{Collate, ModelInput, PaddedInputs};
use crate::trainer::{FineTune, Metrics};

/// One query's tokenized pairs (`[CLS] query [SEP] passage [SEP]`), each labelled with its
/// relevance ([`Label::Value`], 1 relevant, 0 not).
#[derive(Debug, Clone, PartialEq)]
pub struct RerankGroup {
    /// The pairs, in file order.
    pub pairs: Vec<Example>,
}

impl RerankGroup {
    /// Each pair's relevance.
    pub fn labels(&self) -> Vec<f32> {
        self.pairs
            .iter()
            .map(|p| match p.label {
                Label::Value(v) => v,
                _ => 0.0,
            })
            .collect()
    }
}

/// A batch of groups, padded: every pair `[N, S]`, their labels, and how many pairs each
/// group holds (in order).
#[derive(Debug)]
pub struct RerankBatch {
    inputs: PaddedInputs,
    labels: Vec<f32>,
    sizes: Vec<usize>,
}

impl PaddedBatch for RerankBatch {
    fn rows(&self) -> [&[Vec<u32>]; 3] {
        [
            &self.inputs.input_ids,
            &self.inputs.token_type_ids,
            &self.inputs.attention_mask,
        ]
    }

    fn real_tokens(&self) -> usize {
        self.inputs.real_tokens
    }
}

impl Collate for RerankGroup {
    type Batch = RerankBatch;

    fn tokens(&self) -> usize {
        self.pairs.iter().map(Example::len).max().unwrap_or(0)
    }

    fn collate(groups: &[&Self], pad_id: u32) -> RerankBatch {
        let pairs: Vec<&Example> = groups.iter().flat_map(|g| &g.pairs).collect();
        RerankBatch {
            inputs: PaddedInputs::new(&pairs, pad_id, |e| (&e.ids, &e.type_ids)),
            labels: groups.iter().flat_map(|g| g.labels()).collect(),
            sizes: groups.iter().map(|g| g.pairs.len()).collect(),
        }
    }
}

/// The loss of `[N]` logits of pairs with `labels`, grouped by `sizes`: mean binary
/// cross-entropy over pairs, or ListNet's mean over groups.
pub fn rerank_loss(
    loss: &RerankLoss,
    logits: Tensor<1>,
    labels: &[f32],
    sizes: &[usize],
    device: &Device,
) -> Tensor<1> {
    match loss.loss {
        RerankLossKind::Bce => {
            let labels =
                Tensor::from_data(TensorData::new(labels.to_vec(), [labels.len()]), device);
            binary_cross_entropy(logits, labels, loss.pos_weight)
        }
        RerankLossKind::Listnet => {
            let width = sizes.iter().copied().max().unwrap_or(0);
            let (mut index, mut padding, mut rows) = (Vec::new(), Vec::new(), Vec::new());
            let mut start = 0;
            for &size in sizes {
                for d in 0..width {
                    index.push(if d < size { (start + d) as i64 } else { 0 });
                    padding.push(d >= size);
                }
                rows.push(labels[start..start + size].to_vec());
                start += size;
            }
            let groups = sizes.len();
            let index =
                Tensor::<1, Int>::from_data(TensorData::new(index, [groups * width]), device);
            let logits = logits.select(0, index).reshape([groups, width]);
            let padding =
                Tensor::<2, Bool>::from_data(TensorData::new(padding, [groups, width]), device);
            let targets = Tensor::from_data(
                TensorData::new(listnet_targets(&rows, width), [groups, width]),
                device,
            );
            listnet_loss(logits, targets, padding)
        }
    }
}

impl FineTune<RerankBatch> for CrossEncoder {
    fn loss(&self, batch: &RerankBatch, device: &Device) -> Tensor<1> {
        let logits = self.forward(batch.input(device));
        rerank_loss(&self.loss, logits, &batch.labels, &batch.sizes, device)
    }

    fn loss_terms(&self, batch: &RerankBatch) -> Option<usize> {
        Some(match self.loss.loss {
            RerankLossKind::Bce => batch.labels.len(),
            RerankLossKind::Listnet => batch.sizes.len(),
        })
    }
}

/// The logit of every pair of `groups`, per group in its order (evaluated longest-first in
/// batches of `batch_size` pairs), with the model in validation mode.
pub fn predict_logits(
    model: &CrossEncoder,
    groups: &[RerankGroup],
    batch_size: usize,
    pad_id: u32,
    device: &Device,
) -> Vec<Vec<f32>> {
    let model = burn::module::Module::valid(model);
    let pairs: Vec<&Example> = groups.iter().flat_map(|g| &g.pairs).collect();
    let lengths: Vec<usize> = pairs.iter().map(|p| p.len()).collect();
    let mut flat = vec![0.0; pairs.len()];
    for indices in eval_batches(&lengths, batch_size.max(1)).unwrap_or_default() {
        let refs: Vec<&Example> = indices.iter().map(|&i| pairs[i]).collect();
        let logits = model.forward(collate(&refs, pad_id).input(device));
        let values = logits
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .unwrap_or_default();
        for (&i, v) in indices.iter().zip(values) {
            flat[i] = v;
        }
    }
    let mut out = Vec::with_capacity(groups.len());
    let mut start = 0;
    for g in groups {
        out.push(flat[start..start + g.pairs.len()].to_vec());
        start += g.pairs.len();
    }
    out
}

/// Each group's passages, best first by `scores` (ties keep the given order).
pub fn rank(scores: &[Vec<f32>]) -> Vec<Vec<usize>> {
    scores
        .iter()
        .map(|s| {
            let mut order: Vec<usize> = (0..s.len()).collect();
            order.sort_by(|&a, &b| s[b].total_cmp(&s[a]));
            order
        })
        .collect()
}

/// The evaluation of a reranker on labelled groups.
#[derive(Debug, Clone)]
pub struct RerankEval {
    /// `loss`, the reranked order's `ndcg@10`, `mrr@10`, `map@100`, `recall@k`,
    /// `accuracy@k`, and the given order's as `input_ndcg@10`, `input_mrr@10`.
    pub metrics: Metrics,
    /// Each group's logits, in its order.
    pub logits: Vec<Vec<f32>>,
}

impl Evaluation for RerankEval {
    fn metrics(&self) -> &Metrics {
        &self.metrics
    }
}

/// Evaluates `model` on `groups`: the loss as training computes it, and the retrieval metrics
/// of each group sorted by score against its relevant passages (label > 0). A group with no
/// relevant passage (a query whose positive the first stage missed) counts as a miss, in both
/// orders.
///
/// # Errors
/// A message if there are no groups.
pub fn evaluate(
    model: &CrossEncoder,
    groups: &[RerankGroup],
    batch_size: usize,
    pad_id: u32,
    device: &Device,
) -> Result<RerankEval, String> {
    if groups.is_empty() {
        return Err("no evaluation queries".into());
    }
    let logits = predict_logits(model, groups, batch_size, pad_id, device);
    let labels: Vec<Vec<f32>> = groups.iter().map(RerankGroup::labels).collect();
    let flat_logits: Vec<f32> = logits.iter().flatten().copied().collect();
    let flat_labels: Vec<f32> = labels.iter().flatten().copied().collect();
    let sizes: Vec<usize> = groups.iter().map(|g| g.pairs.len()).collect();
    let loss = rerank_loss(
        &model.loss,
        Tensor::from_data(
            TensorData::new(flat_logits.clone(), [flat_logits.len()]),
            device,
        ),
        &flat_labels,
        &sizes,
        device,
    )
    .into_scalar::<f64>();
    // A relevant index no ranking holds: the missed positive.
    let relevant: Vec<Vec<usize>> = labels
        .iter()
        .map(|l| {
            let hits: Vec<usize> = (0..l.len()).filter(|&i| l[i] > 0.0).collect();
            if hits.is_empty() {
                vec![usize::MAX]
            } else {
                hits
            }
        })
        .collect();
    let mut metrics = RetrievalMetrics::new(&rank(&logits), &relevant).scalars();
    metrics.insert("loss".into(), loss);
    let given: Vec<Vec<usize>> = sizes.iter().map(|&n| (0..n).collect()).collect();
    let input = RetrievalMetrics::new(&given, &relevant);
    metrics.insert("input_ndcg@10".into(), input.ndcg_at_10);
    metrics.insert("input_mrr@10".into(), input.mrr_at_10);
    Ok(RerankEval { metrics, logits })
}
