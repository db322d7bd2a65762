#!/usr/bin/env python3
"""Loads a folder in sentence-transformers and compares its embeddings with burnish's.

    scripts/check_sentence_transformers.py MODEL_DIR TEXTS ENCODED_JSONL

ENCODED_JSONL is `burnish encode --model MODEL_DIR --input TEXTS --output ENCODED_JSONL`'s
output (one object per line of TEXTS, with `sentence_embedding`). Prints a JSON object: how
many texts, the
largest cosine distance between SentenceTransformer(MODEL_DIR).encode and burnish's
embedding, the largest absolute difference, and the modules sentence-transformers loaded.
Pinned stack: scripts/requirements-reference.txt (sentence-transformers 5.1.2).
"""

import json
import sys

import numpy as np
from sentence_transformers import SentenceTransformer


def main():
    model_dir, texts, encoded = sys.argv[1], sys.argv[2], sys.argv[3]
    texts = open(texts).read().splitlines()
    ours = np.array([json.loads(line)["sentence_embedding"] for line in open(encoded)],
                    dtype=np.float64)
    model = SentenceTransformer(model_dir, device="cpu")
    theirs = model.encode(texts, convert_to_numpy=True, batch_size=16).astype(np.float64)
    cos = (ours * theirs).sum(1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(theirs, axis=1))
    print(json.dumps({
        "texts": len(texts),
        "max_cosine_distance": float((1 - cos).max()),
        "max_abs_diff": float(np.abs(ours - theirs).max()),
        "modules": [type(m).__name__ for m in model],
        "max_seq_length": model.max_seq_length,
    }))


if __name__ == "__main__":
    main()
