#!/usr/bin/env python3
"""PyTorch + transformers reference for burnish's encoder benches: BERT inference and train-step
throughput on CPU, float32, on the same shapes the Rust benches use.

Two measurements, on one batch of B x S random token ids (ids drawn uniformly from [1000, vocab),
attention_mask all ones, token_type_ids all zeros: every position is a real token, no padding):

  inference   BertModel forward (last_hidden_state + pooler), model.eval(), torch.inference_mode()
  train step  BertForSequenceClassification (2 labels, random labels) in train mode (dropout on):
              forward + loss, backward, clip_grad_norm_(1.0) (global norm; --max-grad-norm 0 turns
              it off), torch.optim.AdamW step (lr 5e-5, betas 0.9/0.999, eps 1e-8, weight decay 0.01
              except biases and LayerNorm weights), zero_grad(set_to_none=True). This is one step of
              scripts/finetune_torch.py.

Each runs --warmup untimed then --iters timed iterations (time.perf_counter around each).
tokens/s = B * S * iters / (sum of the timed iterations).

The model is either a folder (--model DIR: config + weights via from_pretrained) or a built-in
shape with random weights (--shape minilm | bert-base; seeded with --seed):

  minilm     hidden 384, 6 layers, 12 heads, intermediate 1536 (all-MiniLM-L6-v2)
  bert-base  hidden 768, 12 layers, 12 heads, intermediate 3072 (bert-base-uncased)
  (both: vocab 30522, 512 positions, 2 token types, gelu, dropout 0.1, layer_norm_eps 1e-12)

Attention is eager (the math path, as in finetune_torch.py); --attn sdpa measures PyTorch's fused
scaled_dot_product_attention instead.

Output: one JSON object on stdout (and in --out if given):

  {"model": str, "shape": {"hidden", "layers", "heads", "intermediate", "vocab"}, "params": int,
   "batch": int, "seq": int, "warmup": int, "iters": int, "threads": int, "attn": str,
   "inference": {"tokens_per_s", "mean_ms", "median_ms", "min_ms", "times_ms": [..]},
   "train": {"tokens_per_s", "mean_ms", "median_ms", "min_ms", "times_ms": [..], "loss": float,
             "optimizer": str, "max_grad_norm": float},
   "peak_rss_mib": {"after_load": float, "after_inference": float, "after_train": float},
   "torch": str, "transformers": str, "python": str, "cpu": str}

peak_rss_mib is resource.getrusage(RUSAGE_SELF).ru_maxrss (the process's high-water mark so far,
monotonic: after_train includes everything before it).

Run (from the repository root):

  ~/.cache/burnish-venv/bin/python benches/reference/encoder_bench_torch.py \\
      --model assets/all-MiniLM-L6-v2 --batch 32 --seq 128 --warmup 2 --iters 5 --threads 2
  ~/.cache/burnish-venv/bin/python benches/reference/encoder_bench_torch.py --shape bert-base
"""
import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch
import transformers
from transformers import BertConfig, BertForSequenceClassification, BertModel

SHAPES = {
    "minilm": dict(hidden_size=384, num_hidden_layers=6, num_attention_heads=12,
                   intermediate_size=1536),
    "bert-base": dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                      intermediate_size=3072),
}
NO_DECAY = ("bias", "LayerNorm.weight")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group()
    src.add_argument("--model", help="HF model folder (config.json + weights)")
    src.add_argument("--shape", choices=sorted(SHAPES), help="built-in shape, random weights")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--seq", type=int, default=128)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--iters", type=int, default=5)
    p.add_argument("--threads", type=int, default=None,
                   help="torch.set_num_threads (default: all cores available to this process)")
    p.add_argument("--mode", choices=["both", "inference", "train"], default="both")
    p.add_argument("--attn", choices=["eager", "sdpa"], default="eager")
    p.add_argument("--max-grad-norm", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="also write the JSON here")
    args = p.parse_args()
    if args.model is None and args.shape is None:
        args.shape = "minilm"
    return args


def rss_mib():
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def summary(times, tokens_per_iter):
    ms = [t * 1e3 for t in times]
    return {
        "tokens_per_s": round(tokens_per_iter * len(times) / sum(times), 1),
        "mean_ms": round(statistics.mean(ms), 2),
        "median_ms": round(statistics.median(ms), 2),
        "min_ms": round(min(ms), 2),
        "times_ms": [round(t, 2) for t in ms],
    }


def timed(fn, warmup, iters):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times


def load(cls, args, **kw):
    if args.model:
        return cls.from_pretrained(args.model, attn_implementation=args.attn, dtype=torch.float32, **kw)
    config = BertConfig(**SHAPES[args.shape], **kw)
    config._attn_implementation = args.attn
    return cls(config)


def main():
    args = parse_args()
    threads = args.threads or len(os.sched_getaffinity(0))
    torch.set_num_threads(threads)
    torch.manual_seed(args.seed)
    B, S = args.batch, args.seq
    result = {"model": args.model or f"random {args.shape}"}

    encoder = load(BertModel, args) if args.mode in ("both", "inference") else None
    clf = load(BertForSequenceClassification, args, num_labels=2) if args.mode in ("both", "train") else None
    cfg = (encoder or clf).config
    if S > cfg.max_position_embeddings:
        sys.exit(f"--seq {S} > max_position_embeddings {cfg.max_position_embeddings}")
    g = torch.Generator().manual_seed(args.seed)
    input_ids = torch.randint(1000, cfg.vocab_size, (B, S), generator=g)
    attention_mask = torch.ones(B, S, dtype=torch.long)
    token_type_ids = torch.zeros(B, S, dtype=torch.long)
    labels = torch.randint(0, 2, (B,), generator=g)
    result.update({
        "shape": {"hidden": cfg.hidden_size, "layers": cfg.num_hidden_layers,
                  "heads": cfg.num_attention_heads, "intermediate": cfg.intermediate_size,
                  "vocab": cfg.vocab_size},
        "params": sum(p.numel() for p in (encoder or clf.bert).parameters()),
        "batch": B, "seq": S, "warmup": args.warmup, "iters": args.iters,
        "threads": threads, "attn": args.attn,
    })
    rss = {"after_load": rss_mib()}

    if encoder is not None:
        encoder.eval()

        def infer():
            with torch.inference_mode():
                out = encoder(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids)
            return out.last_hidden_state

        result["inference"] = summary(timed(infer, args.warmup, args.iters), B * S)
        rss["after_inference"] = rss_mib()
        del encoder

    if clf is not None:
        clf.train()
        params = list(clf.named_parameters())
        opt = torch.optim.AdamW(
            [{"params": [p for n, p in params if not any(nd in n for nd in NO_DECAY)],
              "weight_decay": 0.01},
             {"params": [p for n, p in params if any(nd in n for nd in NO_DECAY)],
              "weight_decay": 0.0}],
            lr=5e-5, betas=(0.9, 0.999), eps=1e-8)
        last = {}

        def step():
            out = clf(input_ids=input_ids, attention_mask=attention_mask,
                      token_type_ids=token_type_ids, labels=labels)
            out.loss.backward()
            if args.max_grad_norm > 0:
                torch.nn.utils.clip_grad_norm_(clf.parameters(), args.max_grad_norm)
            opt.step()
            opt.zero_grad(set_to_none=True)
            last["loss"] = out.loss.item()

        result["train"] = summary(timed(step, args.warmup, args.iters), B * S)
        result["train"].update({
            "loss": round(last["loss"], 5),
            "optimizer": "torch.optim.AdamW(lr=5e-5, betas=(0.9, 0.999), eps=1e-8, wd=0.01, "
                         "no decay on bias/LayerNorm.weight)",
            "max_grad_norm": args.max_grad_norm,
        })
        rss["after_train"] = rss_mib()

    result.update({
        "peak_rss_mib": rss,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "python": platform.python_version(),
        "cpu": cpu_name(),
    })
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
