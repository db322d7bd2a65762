#!/usr/bin/env python3
"""sentence-transformers' side of the embedding benchmark (scripts/bench_embedding.sh): the
same MNRL fine-tune burnish runs, and the same retrieval evaluation.

    scripts/finetune_st.py MODEL SPLIT_DIR OUT_DIR [--threads N] [--epochs 1] [--batch-size 32]
        [--lr 2e-5] [--max-length 256] [--seed 42]

SPLIT_DIR holds train.jsonl / test.jsonl ({"anchor", "positive"}) and corpus.jsonl ({"text"})
as scripts/squad_retrieval.py writes them. Trains MODEL (a SentenceTransformer folder) with
MultipleNegativesRankingLoss (scale 20, cosine) in batches without duplicate texts, AdamW with
linear warmup (10%) and decay, weight decay 0.01, gradient clipping at 1.0 (burnish's
defaults), then scores the test queries against the whole corpus with
InformationRetrievalEvaluator, before and after. Writes OUT_DIR/result.json: the metrics, the
training time, the versions (the Trainer's own logs go to stdout). Pinned stack: scripts/requirements-reference.txt.
"""

import argparse
import json
import time
from pathlib import Path

import torch


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def evaluator(split, name):
    from sentence_transformers.evaluation import InformationRetrievalEvaluator

    corpus_texts = [row["text"] for row in read_jsonl(split / "corpus.jsonl")]
    corpus = {}
    doc_id = {}
    for text in corpus_texts:
        if text not in doc_id:
            doc_id[text] = f"d{len(doc_id)}"
            corpus[doc_id[text]] = text
    queries, relevant = {}, {}
    for i, row in enumerate(read_jsonl(split / "test.jsonl")):
        qid = f"q{i}"
        queries[qid] = row["anchor"]
        relevant[qid] = {doc_id[row["positive"]]}
    return InformationRetrievalEvaluator(
        queries, corpus, relevant, name=name, mrr_at_k=[10], ndcg_at_k=[10],
        accuracy_at_k=[1, 5, 10, 100], precision_recall_at_k=[1, 5, 10, 100], map_at_k=[100],
        show_progress_bar=False, batch_size=64,
    )


def scores(results, name):
    prefix = f"{name}_cosine_"
    return {k[len(prefix):]: v for k, v in results.items() if k.startswith(prefix)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("split", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--epochs", type=float, default=1)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-5)
    p.add_argument("--max-length", type=int, default=256)
    p.add_argument("--seed", type=int, default=42)
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    import sentence_transformers
    import transformers
    from datasets import Dataset
    from sentence_transformers import (SentenceTransformer, SentenceTransformerTrainer,
                                       SentenceTransformerTrainingArguments, losses)
    from sentence_transformers.training_args import BatchSamplers

    model = SentenceTransformer(args.model, device="cpu")
    model.max_seq_length = args.max_length
    ir = evaluator(args.split, "test")
    started = time.perf_counter()
    before = scores(ir(model), "test")
    eval_seconds = time.perf_counter() - started

    train = Dataset.from_list(read_jsonl(args.split / "train.jsonl"))
    training_args = SentenceTransformerTrainingArguments(
        output_dir=str(args.out / "checkpoints"),
        num_train_epochs=args.epochs,
        per_device_train_batch_size=args.batch_size,
        learning_rate=args.lr,
        warmup_ratio=0.1,
        weight_decay=0.01,
        max_grad_norm=1.0,
        lr_scheduler_type="linear",
        seed=args.seed,
        batch_sampler=BatchSamplers.NO_DUPLICATES,
        save_strategy="no",
        logging_steps=50,
        report_to=[],
        use_cpu=True,
        dataloader_num_workers=0,
    )
    trainer = SentenceTransformerTrainer(
        model=model, args=training_args, train_dataset=train,
        loss=losses.MultipleNegativesRankingLoss(model),
    )
    started = time.perf_counter()
    trainer.train()
    train_seconds = time.perf_counter() - started
    after = scores(ir(model), "test")
    model.save(str(args.out / "model"))
    (args.out / "result.json").write_text(json.dumps({
        "before": before, "after": after, "train_seconds": train_seconds,
        "eval_seconds": eval_seconds, "train_pairs": len(train),
        "threads": torch.get_num_threads(),
        "versions": {"sentence_transformers": sentence_transformers.__version__,
                     "transformers": transformers.__version__, "torch": torch.__version__},
    }, indent=1) + "\n")


if __name__ == "__main__":
    main()
