#!/usr/bin/env python3
"""Reference NER fine-tune with PyTorch + transformers: what burnish's token-classification
fine-tune is compared with on CoNLL-2003 (entity F1 and speed, same data, same recipe).

The recipe is the one a Hugging Face user runs (run_ner.py's preprocessing and metric, the
Trainer's optimizer and schedule), written as the same plain loop as scripts/finetune_torch.py:

  model       AutoModelForTokenClassification.from_pretrained(--model, num_labels, id2label,
              label2id) (a BertForTokenClassification, head freshly initialised), eager attention,
              float32, CPU; dropout as in config.json (the classifier uses classifier_dropout or,
              when null, hidden_dropout_prob)
  labels      the sorted distinct IOB2 tags of the training sentences, with "O" first
  optimizer   torch.optim.AdamW(lr=--lr, betas=(0.9, 0.999), eps=1e-8), weight decay --weight-decay
              on every parameter except biases and LayerNorm weights (two parameter groups)
  schedule    get_linear_schedule_with_warmup: warmup_steps = ceil(--warmup-ratio * total_steps),
              then linear decay to 0 at total_steps = ceil(sentences / --batch-size) * --epochs
  clipping    torch.nn.utils.clip_grad_norm_(params, 1.0): one global L2 norm over all gradients
  data        tokenized once with is_split_into_words=True, truncation to --max-length, no padding;
              only the first sub-word of each word carries its tag, the other sub-words and
              [CLS]/[SEP] get -100 (run_ner.py's default, label_all_tokens=False); batches are
              padded to their own longest sentence (DataCollatorForTokenClassification: dynamic
              padding, labels padded with -100), shuffled each epoch by a torch.Generator seeded
              with --seed; the last partial batch is kept
  seeds       random, numpy and torch seeded with --seed before the head is initialised
  evaluation  after training only (no model selection), on --valid and --test: the argmax tag at
              each word's first sub-word is that word's tag; seqeval.metrics (default mode, i.e.
              conlleval-compatible) precision / recall / F1 over entities (micro average),
              classification_report(output_dict=True) per entity type, and accuracy over word tags.
              Gold tags are every word of every sentence: a word with no sub-word in the model's
              input (cut by truncation, or a word the tokenizer turns into nothing) is predicted
              "O" (run_ner.py instead drops such words from the gold side too; with
              --max-length 128 CoNLL-2003 truncates few or no sentences, see truncated_sentences)

Input files: CoNLL format (one word a line, space-separated columns, the word first and the NER tag
last, e.g. `TOKEN POS CHUNK NER`; `-DOCSTART-` lines skipped; a blank or whitespace-only line ends
a sentence), or word<TAB>tag lines (a line with a tab is split on tabs) with the same sentence
breaks.

Tag scheme: the tags are converted to IOB2 before anything else: an I-X that does not continue an
X entity (first word, or after O or another type) becomes B-X, which turns IOB1 (the original
CoNLL-2003 release: B- only between two adjacent entities of one type) into IOB2 and leaves IOB2
as it is. The benchmark's CoNLL-2003 copy is IOB2 (no I-X there follows anything but X), so the
conversion changes nothing on it; the number of changed tags is reported per file
(iob2_conversions). Tags other than O, B-*, I-* (IOBES, say) are an error.

Output (--out, JSON; a one-line summary is printed to stdout):

  {"test_f1": float, "test_precision": float, "test_recall": float,   # seqeval, entity level
   "test_accuracy": float,        # word-level tag accuracy (seqeval accuracy_score)
   "test_per_type": {"LOC": {"precision", "recall", "f1", "support"}, ...},
   "test_report": {...},          # seqeval classification_report(output_dict=True), as it is
   "valid_f1", "valid_precision", "valid_recall", "valid_accuracy", "valid_per_type": ...,
                                  # the same on --valid (null where a file is not given)
   "train_sentences", "valid_sentences", "test_sentences": int,
   "truncated_sentences": {"train": int, "valid": int, "test": int},  # longer than --max-length
   "uncovered_words": {"valid": int, "test": int},   # words without a sub-word in the input
   "iob2_conversions": {"train": int, "valid": int, "test": int},
   "labels": [str],
   "epochs", "steps", "warmup_steps": int,
   "wall_time_s": float,          # the training loop only (forward, backward, clip, step)
   "total_time_s": float,         # from the start of main (after imports): loading the model and
                                  # tokenizer, reading + tokenizing, training, evaluation
   "import_time_s": float,        # importing torch + transformers + seqeval (not in total_time_s)
   "eval_time_s": float,          # both evaluations, forward passes and metrics
   "train_tokens_per_s": float,   # real (non-pad) tokens seen in training / wall_time_s
   "train_tokens": int, "train_padded_tokens": int,   # non-pad, and incl. the batches' padding
   "train_loss_first": float, "train_loss_last": float,  # mean loss over the first/last 50 steps
   "threads": int, "torch": str, "transformers": str, "seqeval": str, "python": str, "cpu": str,
   "model": str, "train": str, "valid": str, "test": str,
   "recipe": {...}}               # every argument that shapes the result

Run (from the repository root; HF_HUB_OFFLINE=1 is set by the script, the model folder is local):

  ~/.cache/burnish-venv/bin/python scripts/finetune_torch_ner.py \\
      --model assets/all-MiniLM-L6-v2 \\
      --train $BURNISH_BENCH_DATA/conll2003/train.txt \\
      --valid $BURNISH_BENCH_DATA/conll2003/valid.txt \\
      --test $BURNISH_BENCH_DATA/conll2003/test.txt \\
      --epochs 3 --batch-size 32 --lr 5e-5 --warmup-ratio 0.1 --weight-decay 0.01 \\
      --max-length 128 --seed 42 --threads 2 --out target/reference/finetune-conll2003.json

With MiniLM's tokenizer and --max-length 128: 14,041 training sentences (280,089 real tokens an
epoch; 1,317 steps for 3 epochs at batch 32), 3,250 valid, 3,453 test; 1 / 3 / 1 of them truncated.

Needs seqeval (pip install seqeval==1.2.2) besides scripts/requirements-reference.txt.
"""
import time

_T_IMPORT = time.perf_counter()

import argparse
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
    AutoModelForTokenClassification,
    AutoTokenizer,
    DataCollatorForTokenClassification,
)

try:
    import seqeval
    from seqeval.metrics import (accuracy_score, classification_report, f1_score,
                                 precision_score, recall_score)
except ImportError:
    sys.exit("seqeval is missing: pip install seqeval==1.2.2")

IMPORT_TIME_S = time.perf_counter() - _T_IMPORT


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="HF model folder (config.json, tokenizer, weights)")
    p.add_argument("--train", required=True, help="training file (CoNLL columns or word<TAB>tag)")
    p.add_argument("--valid", default=None, help="validation file (evaluated after training)")
    p.add_argument("--test", default=None, help="test file (evaluated after training)")
    p.add_argument("--max-train-rows", type=int, default=None,
                   help="use the first N training sentences")
    p.add_argument("--epochs", type=int, default=3)
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
    args = p.parse_args()
    for path in (args.train, args.valid, args.test):
        if path is not None and not os.path.isfile(path):
            sys.exit(f"error: {path} not found. The NER benchmark reads CoNLL-2003 English NER "
                     "(Tjong Kim Sang & De Meulder 2003; Reuters RCV1 text, research use only under "
                     "the Reuters corpus licence), which is not part of the repository: see "
                     "scripts/bench_data.sh for the layout of the benchmark data folder "
                     "(BURNISH_BENCH_DATA) and where each set comes from.")
    return args


def read_conll(path):
    """[(words, tags)]: CoNLL columns (word first, tag last, split on whitespace) or word<TAB>tag
    (a line with a tab is split on tabs); -DOCSTART- lines skipped; whitespace-only lines end a
    sentence."""
    sents, words, tags = [], [], []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                if words:
                    sents.append((words, tags))
                    words, tags = [], []
                continue
            parts = [x.strip() for x in line.split("\t")] if "\t" in line else line.split()
            if len(parts) < 2 or not parts[0] or not parts[-1]:
                sys.exit(f"{path}:{n}: expected a word and a tag, got {line!r}")
            if parts[0] == "-DOCSTART-":
                continue
            words.append(parts[0])
            tags.append(parts[-1])
    if words:
        sents.append((words, tags))
    return sents


def to_iob2(tags, where):
    """IOB1 -> IOB2 (an I-X that does not continue an X entity becomes B-X); IOB2 is unchanged.
    Returns (tags, number changed)."""
    out, prev, changed = [], "O", 0
    for t in tags:
        if t != "O" and not (t.startswith("B-") or t.startswith("I-")):
            sys.exit(f"{where}: tag {t!r} is not O, B-* or I-* (IOB1/IOB2 only)")
        if t.startswith("I-") and (prev == "O" or prev[2:] != t[2:]):
            t = "B-" + t[2:]
            changed += 1
        out.append(t)
        prev = t
    return out, changed


def load(path, limit=None):
    sents = read_conll(path)
    if limit is not None:
        sents = sents[:limit]
    fixed, changes = [], 0
    for i, (words, tags) in enumerate(sents):
        tags, c = to_iob2(tags, f"{path}: sentence {i + 1}")
        fixed.append((words, tags))
        changes += c
    return fixed, changes


def encode(tokenizer, sents, label2id, max_length):
    """Features (input ids, ..., labels at first sub-words), word_ids per sentence, and the number
    of sentences longer than max_length (special tokens included)."""
    words = [w for w, _ in sents]
    enc = tokenizer(words, is_split_into_words=True, truncation=True, max_length=max_length,
                    padding=False)
    full = tokenizer(words, is_split_into_words=True, truncation=False, padding=False)
    truncated = sum(len(ids) > max_length for ids in full["input_ids"])
    keys = [k for k in ("input_ids", "token_type_ids", "attention_mask") if k in enc]
    feats, all_word_ids = [], []
    for i, (_, tags) in enumerate(sents):
        word_ids = enc.word_ids(batch_index=i)
        labels, prev = [], None
        for w in word_ids:
            if w is None or w == prev:
                labels.append(-100)
            else:
                labels.append(label2id.get(tags[w], -100))
            prev = w
        f = {k: enc[k][i] for k in keys}
        if label2id:
            f["labels"] = labels
        feats.append(f)
        all_word_ids.append(word_ids)
    return feats, all_word_ids, truncated


def evaluate(model, tokenizer, sents, id2label, max_length, batch_size, collator):
    feats, word_ids, truncated = encode(tokenizer, sents, {}, max_length)
    dl = torch.utils.data.DataLoader(feats, batch_size=batch_size, shuffle=False,
                                     collate_fn=collator, num_workers=0)
    y_true, y_pred, uncovered, k = [], [], 0, 0
    with torch.inference_mode():
        for batch in dl:
            pred = model(**batch).logits.argmax(-1).tolist()
            for row in pred:
                words, tags = sents[k]
                tagged = ["O"] * len(words)
                seen, prev = set(), None
                for pos, w in enumerate(word_ids[k]):
                    if w is not None and w != prev:
                        tagged[w] = id2label[row[pos]]
                        seen.add(w)
                    prev = w
                uncovered += len(words) - len(seen)
                y_true.append(tags)
                y_pred.append(tagged)
                k += 1
    report = classification_report(y_true, y_pred, output_dict=True, zero_division=0)
    report = {t: {m: (int(v) if m == "support" else float(v)) for m, v in r.items()}
              for t, r in report.items()}
    per_type = {t: {"precision": r["precision"], "recall": r["recall"], "f1": r["f1-score"],
                    "support": r["support"]}
                for t, r in report.items() if not t.endswith(" avg")}
    return {
        "f1": float(f1_score(y_true, y_pred, zero_division=0)),
        "precision": float(precision_score(y_true, y_pred, zero_division=0)),
        "recall": float(recall_score(y_true, y_pred, zero_division=0)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "per_type": per_type,
        "report": report,
        "truncated": truncated,
        "uncovered": uncovered,
    }


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

    train_sents, train_conv = load(args.train, args.max_train_rows)
    valid_sents, valid_conv = load(args.valid) if args.valid else (None, None)
    test_sents, test_conv = load(args.test) if args.test else (None, None)
    if not train_sents:
        sys.exit(f"{args.train}: no sentences")
    tagset = {t for _, tags in train_sents for t in tags}
    labels = ["O"] + sorted(tagset - {"O"})
    label2id = {l: i for i, l in enumerate(labels)}
    id2label = dict(enumerate(labels))

    tokenizer = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForTokenClassification.from_pretrained(
        args.model, num_labels=len(labels), id2label=id2label, label2id=label2id,
        attn_implementation="eager", dtype=torch.float32)
    model.to("cpu")

    train_ds, _, train_trunc = encode(tokenizer, train_sents, label2id, args.max_length)

    collator = DataCollatorForTokenClassification(tokenizer, padding="longest",
                                                  label_pad_token_id=-100, return_tensors="pt")
    gen = torch.Generator().manual_seed(args.seed)
    train_dl = torch.utils.data.DataLoader(train_ds, batch_size=args.batch_size, shuffle=True,
                                           generator=gen, collate_fn=collator, num_workers=0)

    # ---- training loop (timed; scripts/torch_train.py) ----
    r = train_loop(model, train_dl, args)
    losses, tokens, padded, step, wall = r.losses, r.tokens, r.padded, r.steps, r.wall
    warmup_steps = r.warmup_steps

    # ---- evaluation (after training only) ----
    t_eval = time.perf_counter()
    model.eval()
    ev = {}
    for name, sents in (("valid", valid_sents), ("test", test_sents)):
        ev[name] = (evaluate(model, tokenizer, sents, id2label, args.max_length,
                             args.eval_batch_size, collator) if sents else None)
    eval_time = time.perf_counter() - t_eval
    total = time.perf_counter() - t_start

    def get(name, key):
        return ev[name][key] if ev[name] is not None else None

    cfg = model.config
    metrics = {
        "test_f1": get("test", "f1"),
        "test_precision": get("test", "precision"),
        "test_recall": get("test", "recall"),
        "test_accuracy": get("test", "accuracy"),
        "test_per_type": get("test", "per_type"),
        "test_report": get("test", "report"),
        "valid_f1": get("valid", "f1"),
        "valid_precision": get("valid", "precision"),
        "valid_recall": get("valid", "recall"),
        "valid_accuracy": get("valid", "accuracy"),
        "valid_per_type": get("valid", "per_type"),
        "train_sentences": len(train_sents),
        "valid_sentences": len(valid_sents) if valid_sents else None,
        "test_sentences": len(test_sents) if test_sents else None,
        "truncated_sentences": {"train": train_trunc, "valid": get("valid", "truncated"),
                                "test": get("test", "truncated")},
        "uncovered_words": {"valid": get("valid", "uncovered"), "test": get("test", "uncovered")},
        "iob2_conversions": {"train": train_conv, "valid": valid_conv, "test": test_conv},
        "labels": labels,
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
        "seqeval": getattr(seqeval, "__version__", None) or _dist_version("seqeval"),
        "python": platform.python_version(),
        "cpu": cpu_name(),
        "model": args.model,
        "train": args.train,
        "valid": args.valid,
        "test": args.test,
        "recipe": {
            "model_class": type(model).__name__,
            "num_labels": len(labels),
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
            "label_scheme": "IOB2 (IOB1 input converted)",
            "label_positions": "first sub-word of each word; -100 elsewhere",
            "padding": "dynamic (pad each batch to its longest sentence)",
            "shuffle": "torch.Generator seeded with seed; last partial batch kept",
            "metric": "seqeval default mode (conlleval-compatible), micro average; "
                      "words without a sub-word predicted O",
            "hidden_dropout_prob": cfg.hidden_dropout_prob,
            "attention_probs_dropout_prob": cfg.attention_probs_dropout_prob,
            "classifier_dropout": cfg.classifier_dropout
            if cfg.classifier_dropout is not None else cfg.hidden_dropout_prob,
            "seed": args.seed,
            "max_train_rows": args.max_train_rows,
        },
    }
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(metrics, f, indent=2)
            f.write("\n")

    def fmt(name):
        if ev[name] is None:
            return f"{name} -"
        return (f"{name} f1 {ev[name]['f1']:.4f} (P {ev[name]['precision']:.4f} "
                f"R {ev[name]['recall']:.4f} acc {ev[name]['accuracy']:.4f})")
    print(f"{fmt('test')} | {fmt('valid')} | {len(train_sents)} sentences x {args.epochs} "
          f"epoch(s) = {step} steps in {wall:.1f}s ({metrics['train_tokens_per_s']:.0f} real tok/s) "
          f"| truncated {train_trunc}/{get('valid', 'truncated')}/{get('test', 'truncated')} "
          f"| total {total:.1f}s | {threads} threads | torch {torch.__version__} "
          f"transformers {transformers.__version__}")


def _dist_version(name):
    try:
        from importlib.metadata import version
        return version(name)
    except Exception:
        return None


if __name__ == "__main__":
    main()
