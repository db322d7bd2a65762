#!/usr/bin/env python3
"""Reference values of sentence-transformers' cross-encoder losses for burnish's
`burnish_heads::rerank` losses (tests/rerank_loss.rs in burnish-heads).

    scripts/make_rerank_loss_reference.py [OUT (tests/fixtures/reference/rerank_loss.json)]

Pinned stack: scripts/requirements-reference.txt (sentence-transformers 5.1.2, torch 2.9.0).
The losses are sentence-transformers' own classes (BinaryCrossEntropyLoss, ListNetLoss), run
on fixed logits: a stand-in CrossEncoder gives each (query, passage) pair the logit it was
assigned, so the losses' `forward` (tokenization, padding of ragged groups, masking) runs
unchanged. Each case holds the groups' logits and labels, the settings, and the loss (`value`).
"""

import json
import sys
from pathlib import Path

import torch
from sentence_transformers import CrossEncoder
from sentence_transformers.cross_encoder import losses


class Tokens(dict):
    def to(self, _device):
        return self


class FixedLogits(CrossEncoder):
    """A CrossEncoder whose logit for a (query, passage) pair is a fixed number."""

    def __init__(self, logits):
        torch.nn.Module.__init__(self)
        self.table = {}
        self.values = []
        for (query, passage), value in logits.items():
            self.table[(query, passage)] = len(self.values)
            self.values.append(value)
        self.tokenizer = self.tokenize

    @property
    def num_labels(self):
        return 1

    @property
    def device(self):
        return torch.device("cpu")

    def tokenize(self, pairs, **_kwargs):
        return Tokens(index=torch.tensor([self.table[tuple(p)] for p in pairs]))

    def forward(self, index):
        return (torch.tensor(self.values, dtype=torch.float32)[index].unsqueeze(1),)


def main():
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/reference/rerank_loss.json")
    g = torch.Generator().manual_seed(27)
    # Ragged groups: 4 queries with 5, 3, 4 and 2 passages; graded and binary labels.
    sizes = [5, 3, 4, 2]
    groups = []
    for q, n in enumerate(sizes):
        logits = (3.0 * torch.randn(n, generator=g)).tolist()
        labels = [float(x) for x in torch.randint(0, 3, (n,), generator=g)]
        labels[0] = 2.0
        groups.append({"logits": logits, "labels": labels})
    table = {
        (f"q{q}", f"p{q}.{d}"): logit
        for q, group in enumerate(groups)
        for d, logit in enumerate(group["logits"])
    }
    model = FixedLogits(table)
    queries = [f"q{q}" for q in range(len(groups))]
    passages = [[f"p{q}.{d}" for d in range(len(gr["logits"]))] for q, gr in enumerate(groups)]
    flat_q = [q for q, ps in zip(queries, passages) for _ in ps]
    flat_p = [p for ps in passages for p in ps]
    binary = [[min(x, 1.0) for x in gr["labels"]] for gr in groups]
    flat_binary = torch.tensor([x for b in binary for x in b])
    cases = []
    with torch.no_grad():
        for name, pos_weight in [("bce", None), ("bce_pos_weight_4", 4.0)]:
            loss = losses.BinaryCrossEntropyLoss(
                model, pos_weight=None if pos_weight is None else torch.tensor(pos_weight))
            value = loss([flat_q, flat_p], flat_binary).item()
            cases.append({"name": name, "loss": "bce", "pos_weight": pos_weight,
                          "groups": [{"logits": gr["logits"], "labels": b}
                                     for gr, b in zip(groups, binary)],
                          "value": value})
        loss = losses.ListNetLoss(model)
        labels = [torch.tensor(gr["labels"]) for gr in groups]
        value = loss([queries, passages], labels).item()
        cases.append({"name": "listnet", "loss": "listnet", "pos_weight": None,
                      "groups": groups, "value": value})
    out.parent.mkdir(parents=True, exist_ok=True)
    import sentence_transformers
    out.write_text(json.dumps({
        "sentence_transformers": sentence_transformers.__version__,
        "torch": torch.__version__,
        "cases": cases,
    }, indent=1) + "\n")
    for c in cases:
        print(f"{c['name']}: {c['value']:.6f}")


if __name__ == "__main__":
    main()
