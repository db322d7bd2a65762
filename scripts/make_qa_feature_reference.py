#!/usr/bin/env python3
"""Reference SQuAD training features for burnish's feature parity test
(crates/burnish-data/tests/features.rs, `squad_training_windows_match_run_qa_py`).

The committed SQuAD v1.1 slice (tests/fixtures/squad/dev-v1.1-slice.json: 350 questions of the
official dev set, 15 of them with the answer past the first 384-token window) is prepared as the
PyTorch side prepares the SQuAD benchmark's training set: scripts/finetune_torch_qa.py's
prepare_train_features (run_qa.py's recipe: question lstrip, only_second truncation, max length
384, doc stride 128, overflowing windows, labels from the first answer, [CLS] when the window
does not hold it) with the all-MiniLM-L6-v2 tokenizer (transformers' fast tokenizer). For every
window, in order, it writes the question index, the length, the start and end labels and a
32-bit FNV-1a hash of the input_ids followed by the token_type_ids (each as 4 little-endian
bytes).

  ~/.cache/burnish-venv/bin/python scripts/make_qa_feature_reference.py \\
      [--data tests/fixtures/squad/dev-v1.1-slice.json] [--articles A:B] \\
      [--model assets/all-MiniLM-L6-v2] [--out tests/fixtures/reference/squad-train-features.json]

writes tests/fixtures/reference/squad-train-features.json (the defaults are what the test reads).
The same preparation of another SQuAD file (e.g. the benchmark's articles 0:38 of the full dev
set, --data DEV --articles 0:38 --out FILE) checks the benchmark's own windows.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
import finetune_torch_qa as qa  # noqa: E402  (the PyTorch side's own preparation)
import transformers  # noqa: E402
from transformers import AutoTokenizer  # noqa: E402

MAX_LENGTH, DOC_STRIDE = 384, 128


def fnv1a32(values) -> int:
    h = 0x811C9DC5
    for v in values:
        for b in int(v).to_bytes(4, "little"):
            h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=str(ROOT / "tests/fixtures/squad/dev-v1.1-slice.json"))
    p.add_argument("--articles", type=qa.article_range, default=None,
                   help="A:B, the articles data[A:B] (default: all)")
    p.add_argument("--model", default=str(ROOT / "assets/all-MiniLM-L6-v2"))
    p.add_argument("--out", default=str(ROOT / "tests/fixtures/reference/squad-train-features.json"))
    args = p.parse_args()
    tok = AutoTokenizer.from_pretrained(args.model)
    with open(args.data, encoding="utf-8") as f:
        n_articles = len(json.load(f)["data"])
    a, b = args.articles or (0, None)
    articles = (a, n_articles if b is None else min(b, n_articles))
    examples, _ = qa.read_squad(args.data, articles)
    encoded = qa.tokenize(tok, examples, MAX_LENGTH, DOC_STRIDE)
    enc = encoded[0]
    feats, n_cls = qa.prepare_train_features(tok, examples, MAX_LENGTH, DOC_STRIDE, encoded)
    out = {
        "transformers": transformers.__version__,
        "tokenizers": __import__("tokenizers").__version__,
        "data": Path(args.data).resolve().relative_to(ROOT).as_posix()
        if Path(args.data).resolve().is_relative_to(ROOT) else Path(args.data).name,
        "articles": list(articles), "max_length": MAX_LENGTH, "doc_stride": DOC_STRIDE,
        "questions": len(examples), "windows": len(feats), "cls_windows": n_cls,
        "example": list(enc["overflow_to_sample_mapping"]),
        "len": [len(f["input_ids"]) for f in feats],
        "start": [f["start_positions"] for f in feats],
        "end": [f["end_positions"] for f in feats],
        "hash": [fnv1a32(f["input_ids"] + f["token_type_ids"]) for f in feats],
    }
    path = Path(args.out)
    path.write_text(json.dumps(out, separators=(",", ":")) + "\n")
    print(f"{len(examples)} questions, {len(feats)} windows ({n_cls} labelled [CLS]): wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
