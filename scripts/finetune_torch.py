#!/usr/bin/env python3
"""Reference fine-tune with PyTorch + transformers: what burnish's sequence-classification fine-tune
is compared with (accuracy and speed, same data, same recipe).

The recipe is the standard one a Hugging Face user runs (the run_glue.py / Trainer defaults):

  model       BertForSequenceClassification.from_pretrained(--model, num_labels=--num-labels),
              eager attention, float32, CPU; dropout as in config.json (hidden, attention; the
              classifier uses classifier_dropout or, when null, hidden_dropout_prob)
  optimizer   torch.optim.AdamW(lr=--lr, betas=(0.9, 0.999), eps=1e-8), weight decay --weight-decay
              on every parameter except biases and LayerNorm weights (two parameter groups)
  schedule    get_linear_schedule_with_warmup: warmup_steps = ceil(--warmup-ratio * total_steps),
              then linear decay to 0 at total_steps = ceil(rows / --batch-size) * --epochs
  clipping    torch.nn.utils.clip_grad_norm_(params, 1.0): one global L2 norm over all gradients
  data        TSV with a header; text and label columns by name; the first --max-train-rows rows;
              tokenized once (truncation to --max-length, no padding), then batches are padded to
              their own longest row (DataCollatorWithPadding: dynamic padding), shuffled each epoch
              by a torch.Generator seeded with --seed; the last partial batch is kept
  seeds       random, numpy and torch seeded with --seed before the head is initialised

A plain training loop, not transformers.Trainer: every step is visible here (nothing hidden behind
TrainingArguments), it starts in a fraction of the time (no accelerate, no logging integrations)
and its timings hold only the work burnish also does. With the same arguments Trainer runs the same
recipe (AdamW torch, linear schedule, max_grad_norm 1.0, the same no-decay groups).

Labels: if every label is an integer they are used as class ids as they are (0..num_labels-1);
otherwise the distinct label strings are sorted and numbered.

Output (--out, JSON; the same one-line summary is printed to stdout):

  {"accuracy": float,             # on --valid
   "dev_size": int, "train_rows": int, "epochs": int, "steps": int, "warmup_steps": int,
   "wall_time_s": float,          # the training loop only (forward, backward, clip, step)
   "total_time_s": float,         # from the start of main (after imports): loading the model and
                                  # tokenizer, reading + tokenizing, training, evaluation
   "import_time_s": float,        # importing torch + transformers (not in total_time_s)
   "eval_time_s": float,
   "train_tokens_per_s": float,   # real (non-pad) tokens seen in training / wall_time_s
   "train_tokens": int, "train_padded_tokens": int,   # non-pad, and incl. the batches' padding
   "train_loss_first": float, "train_loss_last": float,  # mean loss over the first/last 50 steps
   "threads": int, "torch": str, "transformers": str, "python": str, "cpu": str,
   "model": str, "train": str, "valid": str,
   "recipe": {...}}               # every argument that shapes the result

Run (from the repository root; HF_HUB_OFFLINE=1 is set by the script, the model folder is local):

  ~/.cache/burnish-venv/bin/python scripts/finetune_torch.py \\
      --model assets/all-MiniLM-L6-v2 \\
      --train /path/to/sst2/train.tsv --valid /path/to/sst2/dev.tsv \\
      --max-train-rows 2000 --epochs 1 --batch-size 32 --lr 5e-5 --threads 2 \\
      --out target/reference/finetune-sst2-2k.json
"""
import time

_T_IMPORT = time.perf_counter()

import argparse
import csv
import json
import os
import platform
import random
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")

import numpy as np
import torch
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_train import NO_DECAY, train as train_loop  # noqa: E402  (the shared loop)
import transformers
from transformers import (
    AutoTokenizer,
    BertForSequenceClassification,
    DataCollatorWithPadding,
)

IMPORT_TIME_S = time.perf_counter() - _T_IMPORT


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="HF model folder (config.json, tokenizer, weights)")
    p.add_argument("--train", required=True, help="training TSV with a header")
    p.add_argument("--valid", required=True, help="validation TSV with a header (accuracy is on this)")
    p.add_argument("--text-column", default="sentence")
    p.add_argument("--label-column", default="label")
    p.add_argument("--num-labels", type=int, default=2)
    p.add_argument("--max-train-rows", type=int, default=None, help="use the first N training rows")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--eval-batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=5e-5)
    p.add_argument("--warmup-ratio", type=float, default=0.1)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--max-grad-norm", type=float, default=1.0)
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--threads", type=int, default=None,
                   help="torch.set_num_threads (default: all cores available to this process)")
    p.add_argument("--log-every", type=int, default=50, help="log the mean loss every N steps (stderr)")
    p.add_argument("--out", default=None, help="write the metrics JSON here")
    return p.parse_args()


def read_tsv(path, text_col, label_col, limit=None):
    """(texts, labels) from a TSV with a header; no quoting (GLUE style), fields stripped."""
    texts, labels = [], []
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader)
        try:
            ti, li = header.index(text_col), header.index(label_col)
        except ValueError:
            sys.exit(f"{path}: header {header} lacks column {text_col!r} or {label_col!r}")
        for n, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) <= max(ti, li):
                sys.exit(f"{path}:{n}: expected {len(header)} fields, got {len(row)}")
            texts.append(row[ti].strip())
            labels.append(row[li].strip())
            if limit is not None and len(texts) >= limit:
                break
    return texts, labels


def label_ids(train_labels, valid_labels, num_labels):
    every = set(train_labels) | set(valid_labels)
    if all(l.lstrip("-").isdigit() for l in every):
        to_id = {l: int(l) for l in every}
    else:
        to_id = {l: i for i, l in enumerate(sorted(every))}
    bad = sorted(l for l, i in to_id.items() if not 0 <= i < num_labels)
    if bad:
        sys.exit(f"labels {bad} are outside 0..{num_labels - 1} (set --num-labels)")
    return [to_id[l] for l in train_labels], [to_id[l] for l in valid_labels]


def encode(tokenizer, texts, labels, max_length):
    enc = tokenizer(texts, truncation=True, max_length=max_length, padding=False)
    keys = [k for k in ("input_ids", "token_type_ids", "attention_mask") if k in enc]
    return [dict({k: enc[k][i] for k in keys}, labels=labels[i]) for i in range(len(texts))]


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main():
    args = parse_args()
    t_start = time.perf_counter()
    threads = args.threads or len(os.sched_getaffinity(0))
    torch.set_num_threads(threads)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)

    tokenizer = AutoTokenizer.from_pretrained(args.model)
    model = BertForSequenceClassification.from_pretrained(
        args.model, num_labels=args.num_labels, attn_implementation="eager", dtype=torch.float32)
    model.to("cpu")

    train_texts, train_labels = read_tsv(args.train, args.text_column, args.label_column,
                                         args.max_train_rows)
    valid_texts, valid_labels = read_tsv(args.valid, args.text_column, args.label_column)
    train_y, valid_y = label_ids(train_labels, valid_labels, args.num_labels)
    train_ds = encode(tokenizer, train_texts, train_y, args.max_length)
    valid_ds = encode(tokenizer, valid_texts, valid_y, args.max_length)

    collator = DataCollatorWithPadding(tokenizer, padding="longest", return_tensors="pt")
    gen = torch.Generator().manual_seed(args.seed)
    train_dl = torch.utils.data.DataLoader(train_ds, batch_size=args.batch_size, shuffle=True,
                                           generator=gen, collate_fn=collator, num_workers=0)
    valid_dl = torch.utils.data.DataLoader(valid_ds, batch_size=args.eval_batch_size, shuffle=False,
                                           collate_fn=collator, num_workers=0)

    # ---- training loop (timed; scripts/torch_train.py) ----
    r = train_loop(model, train_dl, args)
    losses, tokens, padded, step, wall = r.losses, r.tokens, r.padded, r.steps, r.wall
    warmup_steps = r.warmup_steps

    # ---- evaluation ----
    t_eval = time.perf_counter()
    model.eval()
    correct = 0
    with torch.inference_mode():
        for batch in valid_dl:
            labels = batch.pop("labels")
            pred = model(**batch).logits.argmax(-1)
            correct += int((pred == labels).sum())
    eval_time = time.perf_counter() - t_eval
    total = time.perf_counter() - t_start

    cfg = model.config
    metrics = {
        "accuracy": correct / len(valid_ds),
        "dev_size": len(valid_ds),
        "train_rows": len(train_ds),
        "epochs": args.epochs,
        "steps": step,
        "warmup_steps": warmup_steps,
        "wall_time_s": round(wall, 3),
        "total_time_s": round(total, 3),
        "import_time_s": round(IMPORT_TIME_S, 3),
        "eval_time_s": round(eval_time, 3),
        "train_tokens_per_s": round(tokens / wall, 1),
        "train_tokens": tokens,
        "train_padded_tokens": padded,
        "train_loss_first": round(float(np.mean(losses[:50])), 5),
        "train_loss_last": round(float(np.mean(losses[-50:])), 5),
        "threads": threads,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "python": platform.python_version(),
        "cpu": cpu_name(),
        "model": args.model,
        "train": args.train,
        "valid": args.valid,
        "recipe": {
            "model_class": "BertForSequenceClassification",
            "num_labels": args.num_labels,
            "attn_implementation": "eager",
            "dtype": "float32",
            "device": "cpu",
            "optimizer": "torch.optim.AdamW",
            "lr": args.lr,
            "betas": [0.9, 0.999],
            "eps": 1e-8,
            "weight_decay": args.weight_decay,
            "no_decay": list(NO_DECAY),
            "schedule": "linear with warmup (get_linear_schedule_with_warmup)",
            "warmup_ratio": args.warmup_ratio,
            "max_grad_norm": args.max_grad_norm,
            "clipping": "global L2 norm (clip_grad_norm_)",
            "batch_size": args.batch_size,
            "eval_batch_size": args.eval_batch_size,
            "max_length": args.max_length,
            "padding": "dynamic (pad each batch to its longest row)",
            "shuffle": "torch.Generator seeded with seed; last partial batch kept",
            "hidden_dropout_prob": cfg.hidden_dropout_prob,
            "attention_probs_dropout_prob": cfg.attention_probs_dropout_prob,
            "classifier_dropout": cfg.classifier_dropout
            if cfg.classifier_dropout is not None else cfg.hidden_dropout_prob,
            "seed": args.seed,
            "max_train_rows": args.max_train_rows,
            "text_column": args.text_column,
            "label_column": args.label_column,
        },
    }
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(metrics, f, indent=2)
            f.write("\n")
    print(f"accuracy {metrics['accuracy']:.4f} on {len(valid_ds)} | {len(train_ds)} rows x "
          f"{args.epochs} epoch(s) = {step} steps in {wall:.1f}s "
          f"({metrics['train_tokens_per_s']:.0f} real tok/s) | total {total:.1f}s | "
          f"{threads} threads | torch {torch.__version__} transformers {transformers.__version__}")


if __name__ == "__main__":
    main()
