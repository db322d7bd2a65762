//! Retrieval metrics over ranked results, as `sentence-transformers`'
//! `InformationRetrievalEvaluator` defines them (binary relevance): NDCG@10, MRR@10,
//! Recall@k, Accuracy@k and MAP@100, each the mean over queries.

use crate::log::Metrics;

/// The cut-offs Recall@k and Accuracy@k are reported at.
pub const RECALL_AT: [usize; 4] = [1, 5, 10, 100];

/// Mean retrieval metrics over a query set.
#[derive(Debug, Clone, PartialEq)]
pub struct RetrievalMetrics {
    /// Queries evaluated.
    pub queries: usize,
    /// NDCG@10: the discounted gain of the relevant results in the top 10 (`1 / log2(rank +
    /// 1)` each), over the best possible.
    pub ndcg_at_10: f64,
    /// MRR@10: `1 / rank` of the first relevant result in the top 10 (0 if none).
    pub mrr_at_10: f64,
    /// MAP@100: the mean of the precision at each relevant result in the top 100, over
    /// `min(100, relevant)`.
    pub map_at_100: f64,
    /// Recall@k for each k of [`RECALL_AT`]: relevant results in the top k over relevant
    /// results.
    pub recall: [f64; 4],
    /// Accuracy@k for each k of [`RECALL_AT`]: whether any relevant result is in the top k.
    pub accuracy: [f64; 4],
}

impl RetrievalMetrics {
    /// Metrics of `rankings` (per query, corpus indices best first) against `relevant` (per
    /// query, the relevant corpus indices). Queries with no relevant entry are left out.
    pub fn new(rankings: &[Vec<usize>], relevant: &[Vec<usize>]) -> Self {
        let mut m = Self {
            queries: 0,
            ndcg_at_10: 0.0,
            mrr_at_10: 0.0,
            map_at_100: 0.0,
            recall: [0.0; 4],
            accuracy: [0.0; 4],
        };
        for (ranking, relevant) in rankings.iter().zip(relevant) {
            if relevant.is_empty() {
                continue;
            }
            m.queries += 1;
            let hit = |rank: usize| ranking.get(rank).is_some_and(|d| relevant.contains(d));
            let gain = |rank: usize| 1.0 / ((rank + 2) as f64).log2();
            let dcg: f64 = (0..10).filter(|&r| hit(r)).map(gain).sum();
            let ideal: f64 = (0..relevant.len().min(10)).map(gain).sum();
            m.ndcg_at_10 += dcg / ideal;
            if let Some(first) = (0..10).find(|&r| hit(r)) {
                m.mrr_at_10 += 1.0 / (first + 1) as f64;
            }
            let mut found = 0;
            let mut precision_sum = 0.0;
            for rank in (0..100).filter(|&r| hit(r)) {
                found += 1;
                precision_sum += f64::from(found) / (rank + 1) as f64;
            }
            m.map_at_100 += precision_sum / relevant.len().min(100) as f64;
            for (i, &k) in RECALL_AT.iter().enumerate() {
                let in_top = (0..k).filter(|&r| hit(r)).count();
                m.recall[i] += in_top as f64 / relevant.len() as f64;
                m.accuracy[i] += f64::from(u8::from(in_top > 0));
            }
        }
        let n = m.queries.max(1) as f64;
        m.ndcg_at_10 /= n;
        m.mrr_at_10 /= n;
        m.map_at_100 /= n;
        for v in m.recall.iter_mut().chain(m.accuracy.iter_mut()) {
            *v /= n;
        }
        m
    }

    /// The metrics by name (`ndcg@10`, `mrr@10`, `map@100`, `recall@k`, `accuracy@k`).
    pub fn scalars(&self) -> Metrics {
        let mut metrics = Metrics::from([
            ("ndcg@10".to_owned(), self.ndcg_at_10),
            ("mrr@10".to_owned(), self.mrr_at_10),
            ("map@100".to_owned(), self.map_at_100),
        ]);
        for (i, k) in RECALL_AT.iter().enumerate() {
            metrics.insert(format!("recall@{k}"), self.recall[i]);
            metrics.insert(format!("accuracy@{k}"), self.accuracy[i]);
        }
        metrics
    }
}
