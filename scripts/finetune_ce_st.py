#!/usr/bin/env python3
"""sentence-transformers' side of the reranking benchmark (scripts/bench_rerank.sh): the same
cross-encoder fine-tune burnish runs, and the same reranking evaluation.

    scripts/finetune_ce_st.py MODEL TRAIN VALID OUT_DIR [--threads N] [--epochs 1]
        [--batch-size 24] [--lr 2e-5] [--max-length 256] [--seed 42] [--loss bce|listnet]

TRAIN and VALID are `burnish mine --format labeled|ranked` files ({"query", "passage",
"label"}; the rows of one query are its group). Trains CrossEncoder(MODEL, num_labels=1) with
BinaryCrossEntropyLoss on the pairs (`--batch-size` pairs a step) or ListNetLoss on the groups
(`--batch-size` queries a step), AdamW with linear warmup (10%) and decay, weight decay 0.01,
clipping at 1.0 (burnish's defaults). Then sorts each VALID query's passages by score and
reports NDCG@10 / MRR@10 as burnish's `evaluate` does (binary relevance; a query without a
relevant passage counts as a miss), beside the given order's. Writes OUT_DIR/result.json.
Pinned stack: scripts/requirements-reference.txt (sentence-transformers 5.1.2).
"""

import argparse
import json
import math
import time
from pathlib import Path

import torch


def groups(path):
    order, by_query = [], {}
    for line in open(path):
        if not line.strip():
            continue
        row = json.loads(line)
        if row["query"] not in by_query:
            by_query[row["query"]] = []
            order.append(row["query"])
        by_query[row["query"]].append((row["passage"], float(row["label"])))
    return [(q, by_query[q]) for q in order]


def metrics(rankings):
    """Mean NDCG@10 and MRR@10 over rankings (lists of labels, best first)."""
    ndcg = mrr = 0.0
    for labels in rankings:
        hits = [r for r, label in enumerate(labels[:10]) if label > 0]
        relevant = max(1, sum(1 for label in labels if label > 0))
        dcg = sum(1 / math.log2(r + 2) for r in hits)
        ideal = sum(1 / math.log2(r + 2) for r in range(min(relevant, 10)))
        ndcg += dcg / ideal
        mrr += 1 / (hits[0] + 1) if hits else 0.0
    return {"ndcg@10": ndcg / len(rankings), "mrr@10": mrr / len(rankings)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("train")
    p.add_argument("valid")
    p.add_argument("out")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=24)
    p.add_argument("--lr", type=float, default=2e-5)
    p.add_argument("--max-length", type=int, default=256)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--loss", choices=["bce", "listnet"], default="bce")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    from datasets import Dataset
    from sentence_transformers.cross_encoder import (
        CrossEncoder, CrossEncoderTrainer, CrossEncoderTrainingArguments, losses)

    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    model = CrossEncoder(a.model, num_labels=1, max_length=a.max_length, device="cpu")
    train = groups(a.train)
    if a.loss == "bce":
        data = Dataset.from_dict({
            "query": [q for q, rows in train for _ in rows],
            "passage": [p for _, rows in train for p, _ in rows],
            "label": [label for _, rows in train for _, label in rows],
        })
        loss = losses.BinaryCrossEntropyLoss(model)
    else:
        data = Dataset.from_dict({
            "query": [q for q, _ in train],
            "docs": [[p for p, _ in rows] for _, rows in train],
            "labels": [[label for _, label in rows] for _, rows in train],
        })
        loss = losses.ListNetLoss(model)
    args = CrossEncoderTrainingArguments(
        output_dir=str(out / "trainer"), num_train_epochs=a.epochs,
        per_device_train_batch_size=a.batch_size, learning_rate=a.lr, warmup_ratio=0.1,
        weight_decay=0.01, max_grad_norm=1.0, lr_scheduler_type="linear", seed=a.seed,
        logging_steps=20, save_strategy="no", report_to=[], use_cpu=True,
        dataloader_drop_last=False)
    trainer = CrossEncoderTrainer(model=model, args=args, train_dataset=data, loss=loss)
    started = time.perf_counter()
    trainer.train()
    train_seconds = time.perf_counter() - started
    valid = groups(a.valid)
    reranked, given = [], []
    for query, rows in valid:
        scores = model.predict([(query, p) for p, _ in rows], batch_size=64,
                               convert_to_numpy=True)
        order = sorted(range(len(rows)), key=lambda i: -scores[i])
        reranked.append([rows[i][1] for i in order])
        given.append([label for _, label in rows])
    import sentence_transformers
    result = {
        "reranked": metrics(reranked),
        "given": metrics(given),
        "queries": len(valid),
        "train_queries": len(train),
        "train_pairs": sum(len(rows) for _, rows in train),
        "train_seconds": train_seconds,
        "sentence_transformers": sentence_transformers.__version__,
        "torch": torch.__version__,
    }
    (out / "result.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
