#!/usr/bin/env python3
"""Reference training trajectory for burnish's step-by-step fine-tuning parity test
(tests/training_parity.rs): eight optimizer steps of extractive-QA fine-tuning on the tiny
random-weight fixture, done by PyTorch + transformers exactly as scripts/torch_train.py (the loop
behind every PyTorch benchmark script) does them.

What it does:
  model      tests/fixtures/tiny-bert-qa (BertForQuestionAnswering, hidden 16, 2 layers, 4 heads),
             dropout set to 0 (hidden and attention) so both sides are deterministic, eager
             attention, float32, train mode.
  batches    BATCHES below: question + context pairs encoded by the fixture's tokenizer
             (token types 0 and 1, padded to the batch's longest row), with start/end positions
             that include a no-answer row (0, 0) and a position equal to the sequence length
             (ignored by the loss, as transformers clamps and ignores it).
  recipe     RECIPE below: 4 epochs over the 2 batches (8 steps), torch.optim.AdamW with two
             groups (no decay on biases and LayerNorm weights), get_linear_schedule_with_warmup
             with ceil(warmup_ratio * 8) warmup steps, clip_grad_norm_ at 1.0.

What it writes (relative to the repository root):
  tests/fixtures/reference/qa-train.json         versions, recipe, the batches, and per step the
                                                 loss, the learning rate and the gradient norm
                                                 before clipping.
  tests/fixtures/reference/qa-train.safetensors  every parameter after the last step, by
                                                 transformers name.

  ~/.cache/burnish-venv/bin/python scripts/make_train_reference.py
(versions pinned in scripts/requirements-reference.txt; 1 thread, deterministic algorithms).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import torch
import transformers
from safetensors.torch import save_file
from transformers import AutoTokenizer, BertForQuestionAnswering, get_linear_schedule_with_warmup

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "tiny-bert-qa"
OUT = ROOT / "tests" / "fixtures" / "reference"
sys.path.insert(0, str(Path(__file__).resolve().parent))
from torch_train import NO_DECAY  # noqa: E402  (the decay groups of every PyTorch script)

RECIPE = dict(epochs=4, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1,
              warmup_ratio=0.25, max_grad_norm=1.0)

# (question, context, start, end) per row; "S" stands for the padded sequence length.
BATCHES = [
    [
        ("Where did the fox jump?", "The quick brown fox jumped over 3 lazy dogs!", 9, 12),
        ("Who ran?", "Hello, WORLD: jumping zygotes run 42 km.", 0, 0),
        ("How far?", "Hello, WORLD: jumping zygotes run 42 km.", 12, 13),
        ("Was it good?", "No, it was GOOD.", "S", 9),
    ],
    [
        ("What was played?", "Unbelievable: the café's runners played (twice) — 🙂", 7, 9),
        ("Which dogs?", "The quick brown fox jumped over 3 lazy dogs!", 10, "S"),
        ("Who said no?", "No, it was GOOD.", 5, 5),
    ],
]


def encode(tok, rows) -> dict:
    enc = tok([q for q, *_ in rows], [c for _, c, *_ in rows], padding=True)
    seq = len(enc["input_ids"][0])

    def pos(p):
        return seq if p == "S" else p

    return {
        "input_ids": enc["input_ids"],
        "token_type_ids": enc["token_type_ids"],
        "attention_mask": enc["attention_mask"],
        "start_positions": [pos(s) for *_, s, _ in rows],
        "end_positions": [pos(e) for *_, e in rows],
    }


def main() -> int:
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    tok = AutoTokenizer.from_pretrained(str(FIXTURE))
    batches = [encode(tok, rows) for rows in BATCHES]
    model = BertForQuestionAnswering.from_pretrained(
        str(FIXTURE), attn_implementation="eager", dtype=torch.float32,
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    model.train()
    named = list(model.named_parameters())
    decay = [p for n, p in named if not any(nd in n for nd in NO_DECAY)]
    no_decay = [p for n, p in named if any(nd in n for nd in NO_DECAY)]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": RECIPE["weight_decay"]},
         {"params": no_decay, "weight_decay": 0.0}],
        lr=RECIPE["lr"], betas=RECIPE["betas"], eps=RECIPE["eps"])
    total = RECIPE["epochs"] * len(batches)
    warmup = math.ceil(RECIPE["warmup_ratio"] * total)
    sched = get_linear_schedule_with_warmup(opt, warmup, total)
    steps = []
    for _ in range(RECIPE["epochs"]):
        for b in batches:
            inputs = {k: torch.tensor(v) for k, v in b.items()}
            out = model(**inputs)
            out.loss.backward()
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), RECIPE["max_grad_norm"])
            lr = sched.get_last_lr()[0]
            opt.step()
            sched.step()
            opt.zero_grad()
            steps.append({"loss": out.loss.item(), "lr": lr, "grad_norm": norm.item()})
    OUT.mkdir(parents=True, exist_ok=True)
    save_file({n: p.detach().contiguous() for n, p in model.named_parameters()},
              str(OUT / "qa-train.safetensors"))
    reference = {
        "torch": torch.__version__.split("+")[0],
        "transformers": transformers.__version__,
        "model": "tests/fixtures/tiny-bert-qa",
        "recipe": {**RECIPE, "warmup_steps": warmup, "total_steps": total},
        "batches": batches,
        "steps": steps,
    }
    (OUT / "qa-train.json").write_text(json.dumps(reference, indent=1) + "\n")
    for i, s in enumerate(steps):
        print(f"step {i}: loss {s['loss']:.6f} lr {s['lr']:.2e} grad norm {s['grad_norm']:.4f}")
    print(f"wrote {OUT / 'qa-train.json'} and {OUT / 'qa-train.safetensors'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
