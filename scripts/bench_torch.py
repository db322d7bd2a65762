"""PyTorch + transformers side of `burnish bench`: one measurement per invocation.

Times what burnish_train::bench times, on the same shapes and the same synthetic batch:
  infer  BertForSequenceClassification forward in eval mode under torch.inference_mode()
  train  forward + loss + backward + clip_grad_norm_(1.0) + AdamW step (lr 2e-5, eps 1e-8,
         weight decay 0.01 except biases and LayerNorm), dropout 0.1 on, as the HF Trainer does
  train-ckpt  train with gradient_checkpointing_enable() (each BertLayer recomputed in backward)
  mlm    the same step for BertForMaskedLM with labels (decoder on every position, as
         transformers computes it); every 7th inner position masked, as
         burnish_train::bench::synthetic_mlm_batch does
Eager mode, float32. Prints one JSON line.

  python scripts/bench_torch.py --shape minilm --mode train --batch 32 --seq 128 \
      --warmup 2 --steps 5 [--threads N] [--device cpu|cuda]

Versions: scripts/requirements-reference.txt (torch 2.9.0, transformers 4.57.1).
"""

import argparse
import json
import os
import resource
import time

import torch
import transformers
from transformers import BertConfig, BertForMaskedLM, BertForSequenceClassification

from bench_batch import synthetic_batch

SHAPES = {
    "minilm": dict(hidden_size=384, num_hidden_layers=6, num_attention_heads=12,
                   intermediate_size=1536),
    "bert-base": dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                      intermediate_size=3072),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", choices=sorted(SHAPES), required=True)
    ap.add_argument("--mode", choices=["infer", "train", "train-ckpt", "mlm"], required=True)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0, help="0: all cores")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dtype", choices=["f32", "bf16", "f16"], default="f32",
                    help="infer: the model's type; training: bf16 autocast (mixed precision)")
    args = ap.parse_args()

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    config = BertConfig(num_labels=2, **SHAPES[args.shape])
    cls = BertForMaskedLM if args.mode == "mlm" else BertForSequenceClassification
    model = cls(config).to(device)
    ids, labels = synthetic_batch(args.batch, args.seq, config.vocab_size, args.seed)
    ids, labels = torch.tensor(ids), torch.tensor(labels)
    if args.mode == "mlm":
        pos = torch.arange(args.seq)
        picked = (pos > 0) & (pos < args.seq - 1) & (pos % 7 == 3)
        labels = torch.where(picked, ids, torch.full_like(ids, -100))
        ids = torch.where(picked, torch.full_like(ids, 103), ids)
    ids, labels = ids.to(device), labels.to(device)
    mask = torch.ones_like(ids)
    types = torch.zeros_like(ids)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    if args.mode == "infer":
        model.eval()
        model.to({"f32": torch.float32, "bf16": torch.bfloat16, "f16": torch.float16}[args.dtype])

        def step():
            with torch.inference_mode():
                out = model(input_ids=ids, attention_mask=mask, token_type_ids=types).logits
            return out[0, 0].item()
    else:
        model.train()
        if args.mode == "train-ckpt":
            # transformers' layer-wise checkpointing: each BertLayer is recomputed in backward.
            model.gradient_checkpointing_enable(
                gradient_checkpointing_kwargs={"use_reentrant": False})
        no_decay = ("bias", "LayerNorm.weight")
        groups = [
            {"params": [p for n, p in model.named_parameters()
                        if not any(nd in n for nd in no_decay)], "weight_decay": 0.01},
            {"params": [p for n, p in model.named_parameters()
                        if any(nd in n for nd in no_decay)], "weight_decay": 0.0},
        ]
        lr = 1e-4 if args.mode == "mlm" else 2e-5
        optim = torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.999), eps=1e-8)

        autocast = torch.autocast(device.type, dtype=torch.bfloat16,
                                  enabled=args.dtype == "bf16")

        def step():
            with autocast:
                out = model(input_ids=ids, attention_mask=mask, token_type_ids=types,
                            labels=labels)
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optim.step()
            optim.zero_grad(set_to_none=True)
            return out.loss.item()

    for _ in range(args.warmup):
        step()
    sync()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    sync()
    seconds = time.perf_counter() - start
    per_step = seconds / max(args.steps, 1)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    result = {
        "side": "pytorch",
        "shape": args.shape,
        "mode": args.mode,
        "batch": args.batch,
        "seq": args.seq,
        "steps": args.steps,
        "seconds_per_step": per_step,
        "tokens_per_second": args.batch * args.seq / per_step,
        "peak_rss_bytes": peak,
        "device_reserved_bytes": (torch.cuda.max_memory_reserved()
                                  if device.type == "cuda" else None),
        "peak_device_bytes": torch.cuda.max_memory_allocated() if device.type == "cuda" else None,
        "threads": torch.get_num_threads(),
        "device": str(device),
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
