#!/usr/bin/env python3
"""SQuAD v1.1 dev as a retrieval set (issue 27's benchmark): question -> its paragraph.

    scripts/squad_retrieval.py DEV_JSON OUT_DIR [TRAIN_ARTICLES (38)]

Writes, from the dev set's 48 articles in file order:
  OUT_DIR/train.jsonl   {"anchor": question, "positive": its paragraph}, articles 1-38
  OUT_DIR/test.jsonl    the same for articles 39-48 (the held-out queries)
  OUT_DIR/corpus.jsonl  {"text": paragraph}, all 2,067 dev paragraphs (the retrieval corpus)
Standard library only; the files are what burnish and scripts/finetune_st.py both read.
"""

import json
import sys
from pathlib import Path


def main():
    dev, out = Path(sys.argv[1]), Path(sys.argv[2])
    split = int(sys.argv[3]) if len(sys.argv) > 3 else 38
    articles = json.loads(dev.read_text())["data"]
    out.mkdir(parents=True, exist_ok=True)
    pairs = {"train": [], "test": []}
    corpus = []
    for i, article in enumerate(articles):
        for paragraph in article["paragraphs"]:
            context = paragraph["context"].strip()
            corpus.append(context)
            for qa in paragraph["qas"]:
                side = "train" if i < split else "test"
                pairs[side].append({"anchor": qa["question"].strip(), "positive": context})
    for side, rows in pairs.items():
        with open(out / f"{side}.jsonl", "w") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
    with open(out / "corpus.jsonl", "w") as f:
        for text in corpus:
            f.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
    print(f"{len(pairs['train'])} training pairs (articles 1-{split}), {len(pairs['test'])} test "
          f"queries (articles {split + 1}-{len(articles)}), {len(corpus)} corpus paragraphs")


if __name__ == "__main__":
    main()
