"""The training loop the PyTorch reference scripts share (finetune_torch.py, finetune_torch_ner.py,
finetune_torch_qa.py): what a Hugging Face user's Trainer does, written as a plain timed loop.

  optimizer  torch.optim.AdamW(lr, betas=(0.9, 0.999), eps=1e-8), weight decay on every parameter
             except biases and LayerNorm weights (two parameter groups)
  schedule   get_linear_schedule_with_warmup: warmup_steps = ceil(warmup_ratio * total_steps),
             then linear decay to 0 at total_steps = len(train_dl) * epochs
  clipping   torch.nn.utils.clip_grad_norm_(params, max_grad_norm): one global L2 norm
"""

import math
import sys
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from transformers import get_linear_schedule_with_warmup

NO_DECAY = ("bias", "LayerNorm.weight")


@dataclass
class TrainResult:
    losses: list = field(default_factory=list)  # the loss of every step
    tokens: int = 0          # real (non-pad) tokens seen
    padded: int = 0          # token positions seen, padding included
    steps: int = 0
    total_steps: int = 0
    warmup_steps: int = 0
    wall: float = 0.0        # seconds in the loop (forward, backward, clip, step)


def train(model, train_dl, args) -> TrainResult:
    """Trains `model` in place for args.epochs over `train_dl` (batches the model takes as
    keyword arguments, labels included) with args.lr, args.weight_decay, args.warmup_ratio,
    args.max_grad_norm; logs the mean loss every args.log_every steps on stderr."""
    decay = [p for n, p in model.named_parameters() if not any(nd in n for nd in NO_DECAY)]
    no_decay = [p for n, p in model.named_parameters() if any(nd in n for nd in NO_DECAY)]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": args.weight_decay},
         {"params": no_decay, "weight_decay": 0.0}],
        lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
    r = TrainResult(total_steps=len(train_dl) * args.epochs)
    r.warmup_steps = math.ceil(args.warmup_ratio * r.total_steps)
    scheduler = get_linear_schedule_with_warmup(optimizer, r.warmup_steps, r.total_steps)

    model.train()
    t_train = time.perf_counter()
    for epoch in range(args.epochs):
        for batch in train_dl:
            r.tokens += int(batch["attention_mask"].sum())
            r.padded += batch["input_ids"].numel()
            out = model(**batch)
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.max_grad_norm)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            r.losses.append(out.loss.item())
            r.steps += 1
            if args.log_every and r.steps % args.log_every == 0:
                el = time.perf_counter() - t_train
                print(f"epoch {epoch + 1} step {r.steps}/{r.total_steps} "
                      f"loss {np.mean(r.losses[-args.log_every:]):.4f} "
                      f"lr {scheduler.get_last_lr()[0]:.3e} {el:.1f}s {r.tokens / el:.0f} tok/s",
                      file=sys.stderr, flush=True)
    r.wall = time.perf_counter() - t_train
    return r
