#!/usr/bin/env python3
"""Loads a reranker folder in sentence-transformers and compares its scores with burnish's.

    scripts/check_cross_encoder.py MODEL_DIR PREDICTIONS_JSONL

PREDICTIONS_JSONL is `burnish predict --model MODEL_DIR --input PAIRS --output
PREDICTIONS_JSONL`'s output (per query, `{"query", "results": [{"passage", "score"}]}` best
first). Prints a JSON object: how many pairs, the largest absolute difference between
CrossEncoder(MODEL_DIR).predict and burnish's score, whether every query's order is the same,
and the activation sentence-transformers applied.
Pinned stack: scripts/requirements-reference.txt (sentence-transformers 5.1.2).
"""

import json
import sys

import numpy as np
from sentence_transformers import CrossEncoder


def main():
    model_dir, predictions = sys.argv[1], sys.argv[2]
    rows = [json.loads(line) for line in open(predictions)]
    model = CrossEncoder(model_dir, device="cpu")
    pairs, ours = [], []
    for row in rows:
        for r in row["results"]:
            pairs.append((row["query"], r["passage"]))
            ours.append(r["score"])
    theirs = model.predict(pairs, batch_size=16, convert_to_numpy=True)
    diff = np.abs(np.array(ours, dtype=np.float64) - theirs.astype(np.float64))
    same_order, start = True, 0
    for row in rows:
        n = len(row["results"])
        block = theirs[start:start + n]
        same_order &= bool(np.all(np.diff(block) <= 1e-6))
        start += n
    print(json.dumps({
        "pairs": len(pairs),
        "max_abs_diff": float(diff.max()),
        "same_order": same_order,
        "activation": type(model.activation_fn).__name__,
        "num_labels": model.num_labels,
    }))


if __name__ == "__main__":
    main()
