#!/usr/bin/env python3
"""Reference values of PyTorch's weighted, label-smoothed cross-entropy for burnish's
`loss::cross_entropy_with` (tests/class_loss.rs in burnish-heads).

    scripts/make_loss_reference.py [OUT (tests/fixtures/reference/class_loss.json)]

Pinned stack: scripts/requirements-reference.txt (torch 2.9.0). Each case holds the logits,
the targets (-100: ignored), the class weights (or null), the label smoothing and
`torch.nn.functional.cross_entropy`'s mean loss.
"""

import json
import sys
from pathlib import Path

import torch
import torch.nn.functional as F


def case(generator, rows, classes, weights, smoothing, ignored=()):
    logits = torch.randn(rows, classes, generator=generator, dtype=torch.float64) * 2.0
    targets = torch.randint(0, classes, (rows,), generator=generator)
    for i in ignored:
        targets[i] = -100
    weight = None if weights is None else torch.tensor(weights, dtype=torch.float64)
    loss = F.cross_entropy(
        logits, targets, weight=weight, ignore_index=-100, label_smoothing=smoothing
    )
    return {
        "logits": logits.tolist(),
        "targets": targets.tolist(),
        "class_weights": weights,
        "label_smoothing": smoothing,
        "ignore_index": -100 if ignored else None,
        "loss": loss.item(),
    }


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/reference/class_loss.json")
    generator = torch.Generator().manual_seed(7)
    cases = [
        case(generator, 8, 3, None, 0.0),
        case(generator, 8, 3, None, 0.1),
        case(generator, 9, 4, [0.5, 2.0, 1.0, 3.0], 0.0),
        case(generator, 9, 4, [0.5, 2.0, 1.0, 3.0], 0.2),
        case(generator, 12, 5, [1.0, 0.25, 4.0, 1.5, 0.0], 0.1, ignored=(1, 4, 10)),
        case(generator, 12, 2, None, 0.3, ignored=(0, 11)),
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps({"torch": torch.__version__, "cases": cases}, indent=1) + "\n"
    )
    print(f"wrote {len(cases)} cases to {out}")


if __name__ == "__main__":
    main()
