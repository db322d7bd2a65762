#!/usr/bin/env python3
"""Checks burnish's ONNX exports against transformers and onnxruntime. Each subcommand prints
one JSON object; any failure exits non-zero with the reason on stderr.

  compare MODEL_DIR ONNX_FILE HEAD [--texts FILE] [--pairs] [--atol X]
      HEAD: encoder | embedding | sequence-classification | token-classification |
      question-answering (embedding: `sentence_embedding` against the masked mean of
      transformers' last hidden state, L2-normalised when MODEL_DIR/modules.json has
      sentence-transformers' Normalize).
      Runs MODEL_DIR through transformers (AutoModel / AutoModelFor<HEAD>, eval, float32) and
      ONNX_FILE through onnxruntime (CPU) on one padded batch of texts of different lengths
      (3 built-in ones, or FILE's first 8 lines; with --pairs each line is `a<TAB>b`;
      max_length 64, or the model's positions if fewer), feeding the graph only the inputs
      it declares (input_ids, attention_mask, token_type_ids as int64). Compares the head's outputs by name
      (last_hidden_state | logits | start_logits, end_logits; any other ONNX output that
      transformers also returns, e.g. pooler_output): per-token outputs only where
      attention_mask is 1, sequence logits whole. Fails if MODEL_DIR lacks weights the head
      needs (transformers would draw them at random), on a missing output or a shape mismatch,
      and, with --atol, if a max_abs_diff exceeds X.
      {"outputs": {name: {"max_abs_diff", "shape"}}, "input_names", "output_names",
       "first_output", "dynamic_axes": batch and sequence axes of every input are dim_params,
       "input_shapes", "padded": the batch has padding, "texts": n, "max_length"}
  accuracy ONNX_FILE MODEL_DIR TSV [--text-column sentence] [--label-column label]
      Sequence-classification accuracy of ONNX_FILE over a TSV with a header (GLUE SST-2's
      `sentence<TAB>label`), batches of 32 padded to their longest, max_length 128 (or the
      model's positions if fewer). Labels are ids or names of MODEL_DIR's config.json label2id.
      {"accuracy", "n", "max_length"}

Run with HF_HUB_OFFLINE=1 (set here); tokenizer: AutoTokenizer, else MODEL_DIR/tokenizer.json
through `tokenizers` (pad id: config.json pad_token_id, default 0).
Versions: scripts/requirements-reference.txt.
"""
import argparse
import csv
import inspect
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import numpy as np

TEXTS = [
    "A short one.",
    "This sentence is a good deal longer than the first, so the batch needs padding.",
    "Middle length text here for the check.",
]
PAIRS = [
    ("Who wrote it?", "The book was written by a woman from Paris in the spring of that year."),
    ("Where is the river?", "It runs north."),
    ("What colour is the sky on a clear day?", "Blue, mostly."),
]
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
HEADS = {
    "encoder": ("AutoModel", ["last_hidden_state"]),
    "embedding": ("AutoModel", ["sentence_embedding", "last_hidden_state"]),
    "sequence-classification": ("AutoModelForSequenceClassification", ["logits"]),
    "token-classification": ("AutoModelForTokenClassification", ["logits"]),
    "question-answering": ("AutoModelForQuestionAnswering", ["start_logits", "end_logits"]),
}


def fail(message: str) -> None:
    print(f"check_onnx.py: {message}", file=sys.stderr)
    sys.exit(1)


def config(model_dir: str) -> dict:
    return json.loads((Path(model_dir) / "config.json").read_text())


def max_length(model_dir: str, want: int) -> int:
    """`want`, capped at the positions the model has (RoBERTa's family starts at pad id + 1)."""
    cfg = config(model_dir)
    limit = cfg.get("max_position_embeddings") or want
    if cfg.get("model_type") in ("roberta", "xlm-roberta", "camembert"):
        limit -= (cfg.get("pad_token_id") or 0) + 1
    return min(want, limit)


def tokenizer(model_dir: str):
    """encode(texts, pairs_or_None, max_length) -> {name: int64 array}, padded to the longest."""
    try:
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(model_dir)

        def encode(a, b, max_length):
            enc = tok(a, b, padding=True, truncation=True, max_length=max_length,
                      return_tensors="np")
            return {k: np.asarray(v, dtype=np.int64) for k, v in enc.items() if k in INPUTS}

        return encode
    except Exception as err:  # noqa: BLE001 - any failure falls back to tokenizer.json
        print(f"check_onnx.py: AutoTokenizer failed ({err}); using tokenizer.json",
              file=sys.stderr)
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
    pad_id = config(model_dir).get("pad_token_id") or 0
    tok.enable_padding(pad_id=pad_id, pad_token=tok.id_to_token(pad_id) or "[PAD]")

    def encode(a, b, max_length):
        tok.enable_truncation(max_length=max_length)
        encs = tok.encode_batch(list(zip(a, b)) if b is not None else list(a))
        return {
            "input_ids": np.array([e.ids for e in encs], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encs], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encs], dtype=np.int64),
        }

    return encode


def session(onnx_file: str):
    import onnxruntime as ort

    sess = ort.InferenceSession(onnx_file, providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    unknown = [n for n in names if n not in INPUTS]
    if unknown:
        fail(f"{onnx_file} declares inputs {unknown}; only {list(INPUTS)} are fed")
    if "input_ids" not in names:
        fail(f"{onnx_file} has no input_ids input (inputs: {names})")
    return sess, names


def onnx_feed(enc: dict, names: list) -> dict:
    ids = enc["input_ids"]
    return {n: enc.get(n, np.zeros_like(ids)) for n in names}


def input_shapes(onnx_file: str) -> dict:
    """Each graph input's dims: a dim_param string, a fixed int, or None (neither)."""
    import onnx

    graph = onnx.load(onnx_file, load_external_data=False).graph
    inits = {i.name for i in graph.initializer}
    return {
        i.name: [d.dim_param or (d.dim_value if d.HasField("dim_value") else None)
                 for d in i.type.tensor_type.shape.dim]
        for i in graph.input if i.name not in inits
    }


def compare(args) -> dict:
    import torch
    import transformers

    auto, expected = HEADS[args.head]
    if args.texts:
        lines = [l for l in Path(args.texts).read_text().splitlines() if l.strip()][:8]
        if args.pairs:
            bad = [l for l in lines if l.count("\t") != 1]
            if bad:
                fail(f"--pairs wants `a<TAB>b` lines; got {bad[0]!r}")
            a, b = zip(*(l.split("\t") for l in lines))
        else:
            a, b = lines, None
        if not lines:
            fail(f"{args.texts} has no text")
    else:
        a, b = (list(zip(*PAIRS)) if args.pairs else (TEXTS, None))
    a, b = list(a), (list(b) if b is not None else None)
    length = max_length(args.model_dir, 64)
    enc = tokenizer(args.model_dir)(a, b, length)
    mask = enc["attention_mask"].astype(bool)

    model, info = getattr(transformers, auto).from_pretrained(
        args.model_dir, dtype=torch.float32, output_loading_info=True)
    missing = [k for k in info["missing_keys"] if not k.startswith("pooler.")]
    if missing:
        fail(f"{args.model_dir} has no weights for {missing}: transformers would draw them at "
             "random; pass a folder with the head (a fine-tuned run folder)")
    model.eval()
    accepted = inspect.signature(model.forward).parameters
    with torch.no_grad():
        out = model(**{k: torch.from_numpy(v) for k, v in enc.items() if k in accepted})
    ref = {k: v.numpy() for k, v in out.items() if isinstance(v, torch.Tensor)}
    if "last_hidden_state" in ref:
        # sentence-transformers' Pooling(mean) and, when modules.json has it, Normalize.
        m = enc["attention_mask"][..., None].astype(np.float64)
        pooled = (ref["last_hidden_state"] * m).sum(1) / np.maximum(m.sum(1), 1e-9)
        modules = Path(args.model_dir) / "modules.json"
        if modules.is_file() and "Normalize" in modules.read_text():
            pooled = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        ref["sentence_embedding"] = pooled

    sess, in_names = session(args.onnx_file)
    out_names = [o.name for o in sess.get_outputs()]
    shapes = input_shapes(args.onnx_file)
    dynamic = all(len(s) >= 2 and all(isinstance(d, str) and d for d in s[:2])
                  for s in shapes.values())
    lacking = [n for n in expected if n not in out_names]
    if lacking:
        fail(f"{args.onnx_file} has no output {lacking} (outputs: {out_names})")
    try:
        got = dict(zip(out_names, sess.run(None, onnx_feed(enc, in_names))))
    except Exception as err:  # noqa: BLE001
        print(json.dumps({"dynamic_axes": dynamic, "input_shapes": shapes}))
        fail(f"onnxruntime failed on a batch of shape {list(enc['input_ids'].shape)} "
             f"(input dims {shapes}): {err}")

    per_token = {"last_hidden_state", "start_logits", "end_logits"}
    if args.head == "token-classification":
        per_token.add("logits")
    outputs = {}
    for name in out_names:
        if name not in ref:
            if name in expected:
                fail(f"transformers returns no {name}")
            continue
        x, y = got[name].astype(np.float64), ref[name].astype(np.float64)
        if x.shape != y.shape:
            fail(f"{name}: onnx shape {list(x.shape)} != transformers {list(y.shape)}")
        if name in per_token:
            x, y = x[mask], y[mask]
        diff = float(np.max(np.abs(x - y))) if x.size else 0.0
        if not np.isfinite(diff):
            fail(f"{name}: non-finite values")
        outputs[name] = {"max_abs_diff": diff, "shape": list(got[name].shape)}
    result = {
        "outputs": outputs,
        "input_names": in_names,
        "output_names": out_names,
        "first_output": out_names[0],
        "dynamic_axes": dynamic,
        "input_shapes": shapes,
        "padded": bool((~mask).any()),
        "texts": len(a),
        "max_length": length,
    }
    if args.atol is not None:
        over = {n: o["max_abs_diff"] for n, o in outputs.items() if o["max_abs_diff"] > args.atol}
        if over:
            print(json.dumps(result))
            fail(f"max_abs_diff over --atol {args.atol}: {over}")
    return result


def accuracy(args) -> dict:
    cfg = config(args.model_dir)
    label2id = {str(k): int(v) for k, v in (cfg.get("label2id") or {}).items()}
    label2id.update({str(v): int(k) for k, v in (cfg.get("id2label") or {}).items()})
    num_labels = len(cfg.get("id2label") or {}) or None

    def label_id(s: str) -> int:
        s = s.strip()
        if s in label2id:
            return label2id[s]
        try:
            i = int(s)
        except ValueError:
            fail(f"label {s!r} is neither an id nor one of {sorted(label2id)}")
        if num_labels is not None and not 0 <= i < num_labels:
            fail(f"label id {i} out of range (config.json has {num_labels} labels)")
        return i

    with open(args.tsv, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    if not rows:
        fail(f"{args.tsv} has no rows")
    for col in (args.text_column, args.label_column):
        if col not in rows[0]:
            fail(f"{args.tsv} has no column {col!r} (header: {list(rows[0])})")
    texts = [r[args.text_column] for r in rows]
    labels = np.array([label_id(r[args.label_column]) for r in rows])

    encode = tokenizer(args.model_dir)
    length = max_length(args.model_dir, 128)
    sess, in_names = session(args.onnx_file)
    out_names = [o.name for o in sess.get_outputs()]
    index = out_names.index("logits") if "logits" in out_names else 0
    preds = []
    for start in range(0, len(texts), 32):
        enc = encode(texts[start:start + 32], None, length)
        logits = sess.run(None, onnx_feed(enc, in_names))[index]
        if logits.ndim != 2:
            fail(f"output {out_names[index]} has shape {list(logits.shape)}, not [batch, labels]")
        preds.append(logits.argmax(-1))
    preds = np.concatenate(preds)
    accuracy = float((preds == labels).mean())
    return {"accuracy": accuracy, "n": int(len(labels)), "max_length": length}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("compare")
    c.add_argument("model_dir")
    c.add_argument("onnx_file")
    c.add_argument("head", choices=sorted(HEADS))
    c.add_argument("--texts")
    c.add_argument("--pairs", action="store_true")
    c.add_argument("--atol", type=float)
    a = sub.add_parser("accuracy")
    a.add_argument("onnx_file")
    a.add_argument("model_dir")
    a.add_argument("tsv")
    a.add_argument("--text-column", default="sentence")
    a.add_argument("--label-column", default="label")
    args = parser.parse_args()
    paths = [args.model_dir, args.onnx_file] + ([args.tsv] if args.command == "accuracy" else [])
    for path in paths:
        if not Path(path).exists():
            fail(f"{path} does not exist")
    print(json.dumps({"compare": compare, "accuracy": accuracy}[args.command](args)))


if __name__ == "__main__":
    main()
