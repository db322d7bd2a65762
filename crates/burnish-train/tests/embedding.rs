//! Embedding training's batches and retrieval metrics (issue 27): batches never hold a text
//! twice, every pair is used once an epoch, the order follows the seed; the metrics are
//! `InformationRetrievalEvaluator`'s definitions, worked by hand on small rankings.

use burnish_train::metrics::retrieval::RetrievalMetrics;
use burnish_train::tasks::embedding::{PairBatches, PairFeature, RetrievalSet};
use burnish_train::trainer::BatchSource;

fn pair(anchor: u32, positive: u32) -> PairFeature {
    PairFeature {
        anchor: vec![101, anchor, 102],
        positive: vec![101, positive, 102],
        negatives: Vec::new(),
        score: None,
    }
}

#[test]
fn batches_hold_no_text_twice_and_use_every_pair_once() {
    // Ten questions about three paragraphs (several questions share a positive), and one
    // repeated question.
    let mut features: Vec<PairFeature> = (0..10).map(|q| pair(1000 + q, 2000 + q % 3)).collect();
    features.push(pair(1000, 2000));
    let batches = PairBatches::new(&features, 4, 7, 0);
    let plan = batches.plan(0);
    let mut seen: Vec<usize> = plan.iter().flatten().copied().collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..features.len()).collect::<Vec<_>>());
    for batch in &plan {
        let mut texts: Vec<&Vec<u32>> = batch
            .iter()
            .flat_map(|&i| [&features[i].anchor, &features[i].positive])
            .collect();
        let n = texts.len();
        texts.sort();
        texts.dedup();
        assert_eq!(texts.len(), n, "a text twice in batch {batch:?}");
        // Three distinct paragraphs: at most three pairs fit one batch.
        assert!(batch.len() <= 3);
    }
    assert_eq!(plan, batches.plan(0), "the plan follows the seed");
    assert_ne!(plan, batches.plan(1), "each epoch its own order");
}

#[test]
fn retrieval_metrics_follow_their_definitions() {
    // Query 0: its document at rank 2; query 1: at rank 3; query 2: not in the top 3.
    let rankings = vec![vec![2, 0, 1], vec![1, 2, 0], vec![1, 2, 3]];
    let relevant = vec![vec![0], vec![0], vec![0]];
    let m = RetrievalMetrics::new(&rankings, &relevant);
    let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    assert_eq!(m.queries, 3);
    assert!(close(m.mrr_at_10, (0.5 + 1.0 / 3.0) / 3.0));
    assert!(close(m.ndcg_at_10, (1.0 / 3f64.log2() + 0.5) / 3.0));
    assert!(close(m.map_at_100, (0.5 + 1.0 / 3.0) / 3.0));
    assert!(close(m.recall[0], 0.0));
    assert!(close(m.recall[1], 2.0 / 3.0));
    assert!(close(m.accuracy[2], 2.0 / 3.0));
    // Two relevant documents, one retrieved first: NDCG against the ideal of both on top.
    let m = RetrievalMetrics::new(&[vec![4, 9, 8]], &[vec![4, 5]]);
    assert!(close(m.ndcg_at_10, 1.0 / (1.0 + 1.0 / 3f64.log2())));
    assert!(close(m.recall[0], 0.5));
    assert!(close(m.mrr_at_10, 1.0));
}

#[test]
fn a_retrieval_set_from_pairs_merges_repeated_texts() {
    let pairs = vec![
        (vec![1, 10], vec![1, 20]),
        (vec![1, 11], vec![1, 20]),
        (vec![1, 10], vec![1, 21]),
    ];
    let set = RetrievalSet::from_pairs(&pairs, &[vec![1, 21], vec![1, 22]]);
    assert_eq!(set.queries, vec![vec![1, 10], vec![1, 11]]);
    assert_eq!(set.corpus, vec![vec![1, 20], vec![1, 21], vec![1, 22]]);
    assert_eq!(set.relevant, vec![vec![0, 1], vec![0]]);
}
