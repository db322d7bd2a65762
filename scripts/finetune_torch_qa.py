#!/usr/bin/env python3
"""Reference extractive-QA fine-tune with PyTorch + transformers: what burnish's question-answering
fine-tune is compared with on SQuAD v1.1 (EM / F1 and speed, same data, same recipe).

The benchmark uses only the official SQuAD v1.1 dev set (the benchmark data folder,
scripts/bench_data.sh; CC BY-SA 4.0) and splits it by article: train on the first 38 articles (8,582 questions), evaluate on the last 10 (1,988):
--train-articles 0:38 --eval-articles 38:48. With MiniLM's tokenizer that is 8,792 training
features (170 of them windows without the answer, labelled [CLS]; 1,546,751 real tokens an epoch),
550 steps for 2 epochs at batch 32, and 1,992 eval features.

The recipe is the one a Hugging Face user runs (examples/pytorch/question-answering/run_qa.py and
utils_qa.py: preprocessing and post-processing; the Trainer's optimizer and schedule), written as
the same plain loop as scripts/finetune_torch.py:

  model       AutoModelForQuestionAnswering.from_pretrained(--model) (a BertForQuestionAnswering,
              qa_outputs freshly initialised), eager attention, float32, CPU; dropout as in
              config.json. Loss: (CE(start) + CE(end)) / 2 (the model's own)
  optimizer   torch.optim.AdamW(lr=--lr, betas=(0.9, 0.999), eps=1e-8), weight decay --weight-decay
              on every parameter except biases and LayerNorm weights (two parameter groups)
  schedule    get_linear_schedule_with_warmup: warmup_steps = ceil(--warmup-ratio * total_steps),
              then linear decay to 0 at total_steps = ceil(train features / --batch-size) * --epochs
  clipping    torch.nn.utils.clip_grad_norm_(params, 1.0): one global L2 norm over all gradients
  features    run_qa.py's prepare_train_features / prepare_validation_features exactly: questions
              left-stripped; tokenizer(question, context, truncation="only_second",
              max_length=min(--max-length, model_max_length) (384), stride=--doc-stride (128),
              return_overflowing_tokens=True, return_offsets_mapping=True): one feature per window
              of a long context. Training labels from the first answer: start/end token of the
              answer span when the answer lies wholly inside the window's context, else both the
              [CLS] index (0). Every window is trained on, [CLS]-labelled ones included.
              The one difference: padding=False, and batches are padded to their own longest
              feature (DataCollatorWithPadding: dynamic padding), instead of run_qa.py's default
              padding="max_length" to 384 (pad_to_max_length=True); with attention masks this
              changes no result, only the work spent on padding
  batches     shuffled each epoch by a torch.Generator seeded with --seed; the last partial batch
              is kept
  seeds       random, numpy and torch seeded with --seed before the head is initialised
  post-proc.  utils_qa.postprocess_qa_predictions (version_2_with_negative=False): for every
              window of a question, the --n-best-size (20) highest start and end logits; spans
              whose start and end are context tokens (offsets of question / special tokens are
              dropped), end >= start, length <= --max-answer-length (30) tokens; score =
              start_logit + end_logit; the best span over all windows of the question, its text
              cut from the context by character offsets ("empty" if no valid span)
  metric      the official SQuAD v1.1 evaluation (evaluate-v1.1.py), re-implemented here:
              normalize_answer = lower case, drop string.punctuation, drop \\b(a|an|the)\\b,
              collapse whitespace; exact match and token F1 (F1 0 when no token is shared),
              each the max over the question's ground-truth answers, averaged, times 100.
              (transformers.data.metrics.squad_metrics.compute_f1 is not the same: it scores 1
              when prediction and answer both normalise to nothing, the v1.1 script scores 0.)

Output (--out, JSON; a one-line summary is printed to stdout); the predictions (question id ->
answer text, the format evaluate-v1.1.py reads) go to --predictions, by default next to --out
(NAME.json -> NAME.predictions.json):

  {"exact_match": float, "f1": float,   # 0..100, on the eval questions
   "train_questions", "train_features", "train_features_cls": int,   # cls: answer not in window
   "eval_questions", "eval_features": int,
   "train_articles": [A, B], "eval_articles": [C, D],
   "epochs", "steps", "warmup_steps": int,
   "wall_time_s": float,          # the training loop only (forward, backward, clip, step)
   "total_time_s": float,         # from the start of main (after imports): loading the model and
                                  # tokenizer, reading + tokenizing, training, evaluation
   "import_time_s": float,        # importing torch + transformers (not in total_time_s)
   "eval_time_s": float,          # forward passes, post-processing and the metric
   "train_tokens_per_s": float,   # real (non-pad) tokens seen in training / wall_time_s
   "train_tokens": int, "train_padded_tokens": int,   # non-pad, and incl. the batches' padding
   "train_loss_first": float, "train_loss_last": float,  # mean loss over the first/last 50 steps
   "threads": int, "torch": str, "transformers": str, "python": str, "cpu": str,
   "model": str, "data": str, "predictions": str,
   "recipe": {...}}               # every argument that shapes the result

Run (from the repository root; HF_HUB_OFFLINE=1 is set by the script, the model folder is local):

  ~/.cache/burnish-venv/bin/python scripts/finetune_torch_qa.py \\
      --model assets/all-MiniLM-L6-v2 --data $BURNISH_BENCH_DATA/squad1.1/dev-v1.1.json \\
      --train-articles 0:38 --eval-articles 38:48 \\
      --epochs 2 --batch-size 32 --lr 5e-5 --warmup-ratio 0.1 --weight-decay 0.01 \\
      --max-length 384 --doc-stride 128 --seed 42 --threads 2 \\
      --out target/reference/finetune-squad1.1.json
"""
import time

_T_IMPORT = time.perf_counter()

import argparse
import collections
import json
import os
import platform
import random
import re
import string
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")

import numpy as np
import torch
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_train import NO_DECAY, train as train_loop  # noqa: E402  (the shared loop)
import transformers
from transformers import (
    AutoModelForQuestionAnswering,
    AutoTokenizer,
    DataCollatorWithPadding,
)

IMPORT_TIME_S = time.perf_counter() - _T_IMPORT
MODEL_KEYS = ("input_ids", "token_type_ids", "attention_mask")


def article_range(s):
    m = re.fullmatch(r"\s*(\d*)\s*:\s*(\d*)\s*", s)
    if not m:
        raise argparse.ArgumentTypeError(f"expected A:B (0-based article range), got {s!r}")
    a = int(m.group(1)) if m.group(1) else 0
    b = int(m.group(2)) if m.group(2) else None
    return a, b


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="HF model folder (config.json, tokenizer, weights)")
    p.add_argument("--data", required=True, help="SQuAD v1.1-format JSON (e.g. dev-v1.1.json)")
    p.add_argument("--train-articles", type=article_range, required=True,
                   help="0-based article range A:B (Python slice) to train on, e.g. 0:38")
    p.add_argument("--eval-articles", type=article_range, required=True,
                   help="0-based article range C:D to evaluate on, e.g. 38:48")
    p.add_argument("--max-train-questions", type=int, default=None,
                   help="train on the first N questions of the train articles (all their windows)")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--eval-batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=5e-5)
    p.add_argument("--warmup-ratio", type=float, default=0.1)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--max-grad-norm", type=float, default=1.0)
    p.add_argument("--max-length", type=int, default=384, help="max_seq_length of run_qa.py")
    p.add_argument("--doc-stride", type=int, default=128)
    p.add_argument("--n-best-size", type=int, default=20)
    p.add_argument("--max-answer-length", type=int, default=30)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--threads", type=int, default=None,
                   help="torch.set_num_threads (default: all cores available to this process)")
    p.add_argument("--log-every", type=int, default=50, help="log the mean loss every N steps (stderr)")
    p.add_argument("--out", default=None, help="write the metrics JSON here")
    p.add_argument("--predictions", default=None,
                   help="write {id: answer} here (default: next to --out, NAME.predictions.json)")
    args = p.parse_args()
    if not os.path.isfile(args.data):
        sys.exit(f"error: {args.data} not found. The SQuAD benchmark reads the official SQuAD v1.1 "
                 "dev set (dev-v1.1.json, Rajpurkar et al. 2016, CC BY-SA 4.0, from "
                 "https://rajpurkar.github.io/SQuAD-explorer/), which is not part of the "
                 "repository: see scripts/bench_data.sh for the benchmark data folder "
                 "(BURNISH_BENCH_DATA). The repository's tests/fixtures/squad/dev-v1.1-slice.json "
                 "(350 questions) is enough for a try.")
    return args


def read_squad(path, articles, limit=None):
    """Questions of the articles data[A:B], in file order: dicts id, question, context, answers
    (texts), answer_starts."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)["data"]
    a, b = articles
    examples = []
    for art in data[a:b]:
        for para in art["paragraphs"]:
            for qa in para["qas"]:
                examples.append({
                    "id": qa["id"],
                    "question": qa["question"],
                    "context": para["context"],
                    "answers": [x["text"] for x in qa["answers"]],
                    "answer_starts": [x["answer_start"] for x in qa["answers"]],
                })
    if limit is not None:
        examples = examples[:limit]
    return examples, len(data)


def tokenize(tokenizer, examples, max_length, doc_stride):
    pad_on_right = tokenizer.padding_side == "right"
    questions = [e["question"].lstrip() for e in examples]
    contexts = [e["context"] for e in examples]
    return tokenizer(
        questions if pad_on_right else contexts,
        contexts if pad_on_right else questions,
        truncation="only_second" if pad_on_right else "only_first",
        max_length=max_length,
        stride=doc_stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding=False,
    ), pad_on_right


def prepare_train_features(tokenizer, examples, max_length, doc_stride, encoded=None):
    """run_qa.py's prepare_train_features (answers: the first one), without padding. `encoded`:
    what tokenize() already returned for these arguments (else it is computed here)."""
    enc, pad_on_right = encoded or tokenize(tokenizer, examples, max_length, doc_stride)
    ctx_id = 1 if pad_on_right else 0
    keys = [k for k in MODEL_KEYS if k in enc]
    feats, n_cls = [], 0
    for i, offsets in enumerate(enc["offset_mapping"]):
        input_ids = enc["input_ids"][i]
        if tokenizer.cls_token_id in input_ids:
            cls_index = input_ids.index(tokenizer.cls_token_id)
        elif tokenizer.bos_token_id in input_ids:
            cls_index = input_ids.index(tokenizer.bos_token_id)
        else:
            cls_index = 0
        sequence_ids = enc.sequence_ids(i)
        ex = examples[enc["overflow_to_sample_mapping"][i]]
        if len(ex["answer_starts"]) == 0:
            start_pos = end_pos = cls_index
        else:
            start_char = ex["answer_starts"][0]
            end_char = start_char + len(ex["answers"][0])
            token_start_index = 0
            while sequence_ids[token_start_index] != ctx_id:
                token_start_index += 1
            token_end_index = len(input_ids) - 1
            while sequence_ids[token_end_index] != ctx_id:
                token_end_index -= 1
            if not (offsets[token_start_index][0] <= start_char
                    and offsets[token_end_index][1] >= end_char):
                start_pos = end_pos = cls_index
            else:
                while token_start_index < len(offsets) and offsets[token_start_index][0] <= start_char:
                    token_start_index += 1
                start_pos = token_start_index - 1
                while offsets[token_end_index][1] >= end_char:
                    token_end_index -= 1
                end_pos = token_end_index + 1
        n_cls += start_pos == cls_index
        f = {k: enc[k][i] for k in keys}
        f["start_positions"] = start_pos
        f["end_positions"] = end_pos
        feats.append(f)
    return feats, n_cls


def prepare_validation_features(tokenizer, examples, max_length, doc_stride):
    """run_qa.py's prepare_validation_features: model inputs, plus per feature its example index
    and the offsets of its context tokens (None for question and special tokens)."""
    enc, pad_on_right = tokenize(tokenizer, examples, max_length, doc_stride)
    ctx_id = 1 if pad_on_right else 0
    keys = [k for k in MODEL_KEYS if k in enc]
    feats, example_index, offsets = [], [], []
    for i in range(len(enc["input_ids"])):
        sequence_ids = enc.sequence_ids(i)
        example_index.append(enc["overflow_to_sample_mapping"][i])
        offsets.append([o if sequence_ids[k] == ctx_id else None
                        for k, o in enumerate(enc["offset_mapping"][i])])
        feats.append({k: enc[k][i] for k in keys})
    return feats, example_index, offsets


def postprocess_qa_predictions(examples, example_index, offsets, all_start, all_end,
                               n_best_size, max_answer_length):
    """utils_qa.postprocess_qa_predictions with version_2_with_negative=False: {id: text}."""
    features_per_example = collections.defaultdict(list)
    for i, e in enumerate(example_index):
        features_per_example[e].append(i)
    predictions = {}
    for ei, ex in enumerate(examples):
        prelim = []
        for fi in features_per_example[ei]:
            start_logits, end_logits, offset_mapping = all_start[fi], all_end[fi], offsets[fi]
            start_indexes = np.argsort(start_logits)[-1: -n_best_size - 1: -1].tolist()
            end_indexes = np.argsort(end_logits)[-1: -n_best_size - 1: -1].tolist()
            for s in start_indexes:
                for e in end_indexes:
                    if (s >= len(offset_mapping) or e >= len(offset_mapping)
                            or offset_mapping[s] is None or len(offset_mapping[s]) < 2
                            or offset_mapping[e] is None or len(offset_mapping[e]) < 2):
                        continue
                    if e < s or e - s + 1 > max_answer_length:
                        continue
                    prelim.append(((offset_mapping[s][0], offset_mapping[e][1]),
                                   float(start_logits[s] + end_logits[e])))
        best = sorted(prelim, key=lambda x: x[1], reverse=True)[:n_best_size]
        texts = [ex["context"][a:b] for (a, b), _ in best]
        if len(texts) == 0 or (len(texts) == 1 and texts[0] == ""):
            texts.insert(0, "empty")
        predictions[ex["id"]] = texts[0]
    return predictions


# ---- the official SQuAD v1.1 evaluation (evaluate-v1.1.py) ----
def normalize_answer(s):
    """Lower text and remove punctuation, articles and extra whitespace."""
    def remove_articles(text):
        return re.sub(r"\b(a|an|the)\b", " ", text)

    def white_space_fix(text):
        return " ".join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    return white_space_fix(remove_articles(remove_punc(s.lower())))


def f1_score(prediction, ground_truth):
    prediction_tokens = normalize_answer(prediction).split()
    ground_truth_tokens = normalize_answer(ground_truth).split()
    common = collections.Counter(prediction_tokens) & collections.Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(prediction_tokens)
    recall = 1.0 * num_same / len(ground_truth_tokens)
    return (2 * precision * recall) / (precision + recall)


def exact_match_score(prediction, ground_truth):
    return normalize_answer(prediction) == normalize_answer(ground_truth)


def metric_max_over_ground_truths(metric_fn, prediction, ground_truths):
    return max(metric_fn(prediction, gt) for gt in ground_truths)


def squad_v11(examples, predictions):
    f1 = exact_match = total = 0
    for ex in examples:
        total += 1
        if ex["id"] not in predictions:
            print(f"Unanswered question {ex['id']} will receive score 0.", file=sys.stderr)
            continue
        pred = predictions[ex["id"]]
        exact_match += metric_max_over_ground_truths(exact_match_score, pred, ex["answers"])
        f1 += metric_max_over_ground_truths(f1_score, pred, ex["answers"])
    return {"exact_match": 100.0 * exact_match / total, "f1": 100.0 * f1 / total}


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

    train_ex, n_articles = read_squad(args.data, args.train_articles, args.max_train_questions)
    eval_ex, _ = read_squad(args.data, args.eval_articles)
    if not train_ex or not eval_ex:
        sys.exit(f"{args.data} ({n_articles} articles): no train or no eval questions in "
                 f"{args.train_articles} / {args.eval_articles}")
    span = lambda r: [r[0], r[1] if r[1] is not None else n_articles]
    tr, er = span(args.train_articles), span(args.eval_articles)
    if max(tr[0], er[0]) < min(tr[1], er[1]):
        print(f"warning: train articles {tr} and eval articles {er} overlap", file=sys.stderr)

    tokenizer = AutoTokenizer.from_pretrained(args.model)
    if not tokenizer.is_fast:
        sys.exit("a fast tokenizer is needed (offset mappings)")
    model = AutoModelForQuestionAnswering.from_pretrained(
        args.model, attn_implementation="eager", dtype=torch.float32)
    model.to("cpu")
    max_length = min(args.max_length, tokenizer.model_max_length)

    train_ds, train_cls = prepare_train_features(tokenizer, train_ex, max_length, args.doc_stride)
    eval_ds, eval_index, eval_offsets = prepare_validation_features(
        tokenizer, eval_ex, max_length, args.doc_stride)

    collator = DataCollatorWithPadding(tokenizer, padding="longest", return_tensors="pt")
    gen = torch.Generator().manual_seed(args.seed)
    train_dl = torch.utils.data.DataLoader(train_ds, batch_size=args.batch_size, shuffle=True,
                                           generator=gen, collate_fn=collator, num_workers=0)
    eval_dl = torch.utils.data.DataLoader(eval_ds, batch_size=args.eval_batch_size, shuffle=False,
                                          collate_fn=collator, num_workers=0)

    # ---- training loop (timed; scripts/torch_train.py) ----
    r = train_loop(model, train_dl, args)
    losses, tokens, padded, step, wall = r.losses, r.tokens, r.padded, r.steps, r.wall
    warmup_steps = r.warmup_steps

    # ---- evaluation ----
    t_eval = time.perf_counter()
    model.eval()
    all_start, all_end = [], []
    with torch.inference_mode():
        for batch in eval_dl:
            out = model(**batch)
            s, e = out.start_logits.float().numpy(), out.end_logits.float().numpy()
            for r in range(s.shape[0]):  # drop the batch's padding (right-padded)
                n = len(eval_offsets[len(all_start)])
                all_start.append(s[r, :n].copy())
                all_end.append(e[r, :n].copy())
    predictions = postprocess_qa_predictions(eval_ex, eval_index, eval_offsets, all_start, all_end,
                                             args.n_best_size, args.max_answer_length)
    scores = squad_v11(eval_ex, predictions)
    eval_time = time.perf_counter() - t_eval
    total = time.perf_counter() - t_start

    pred_path = args.predictions
    if pred_path is None and args.out:
        stem = args.out[:-5] if args.out.endswith(".json") else args.out
        pred_path = stem + ".predictions.json"
    if pred_path:
        os.makedirs(os.path.dirname(os.path.abspath(pred_path)), exist_ok=True)
        with open(pred_path, "w", encoding="utf-8") as f:
            json.dump(predictions, f, indent=1, ensure_ascii=False)
            f.write("\n")

    cfg = model.config
    metrics = {
        "exact_match": scores["exact_match"],
        "f1": scores["f1"],
        "train_questions": len(train_ex),
        "train_features": len(train_ds),
        "train_features_cls": train_cls,
        "eval_questions": len(eval_ex),
        "eval_features": len(eval_ds),
        "train_articles": tr,
        "eval_articles": er,
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
        "data": args.data,
        "predictions": pred_path,
        "recipe": {
            "model_class": type(model).__name__,
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
            "max_length": max_length,
            "doc_stride": args.doc_stride,
            "n_best_size": args.n_best_size,
            "max_answer_length": args.max_answer_length,
            "preprocessing": "run_qa.py prepare_train/validation_features (question lstrip, "
                             "only_second truncation, overflowing windows, first answer)",
            "postprocessing": "utils_qa.postprocess_qa_predictions, version_2_with_negative=False",
            "metric": "official SQuAD v1.1 evaluate-v1.1.py (EM, F1; max over ground truths)",
            "padding": "dynamic (pad each batch to its longest feature), not max_length",
            "shuffle": "torch.Generator seeded with seed; last partial batch kept",
            "hidden_dropout_prob": cfg.hidden_dropout_prob,
            "attention_probs_dropout_prob": cfg.attention_probs_dropout_prob,
            "seed": args.seed,
            "max_train_questions": args.max_train_questions,
        },
    }
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(metrics, f, indent=2)
            f.write("\n")
    print(f"EM {scores['exact_match']:.2f} F1 {scores['f1']:.2f} on {len(eval_ex)} questions "
          f"({len(eval_ds)} features) | {len(train_ex)} questions, {len(train_ds)} features x "
          f"{args.epochs} epoch(s) = {step} steps in {wall:.1f}s "
          f"({metrics['train_tokens_per_s']:.0f} real tok/s) | total {total:.1f}s | "
          f"{threads} threads | torch {torch.__version__} transformers {transformers.__version__}")


if __name__ == "__main__":
    main()
