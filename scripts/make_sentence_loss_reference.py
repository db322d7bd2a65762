#!/usr/bin/env python3
"""Reference values of sentence-transformers' contrastive losses for burnish's
`burnish_heads::sentence` losses (tests/sentence_loss.rs in burnish-heads).

    scripts/make_sentence_loss_reference.py [OUT (tests/fixtures/reference/sentence_loss.json)]

Pinned stack: scripts/requirements-reference.txt (sentence-transformers 5.1.2, torch 2.9.0).
The losses are sentence-transformers' own classes, run on fixed embeddings (a stand-in model
returns them as `sentence_embedding`, so the losses' `forward` runs unchanged, Matryoshka's
truncation included). Each case holds the embeddings (anchors, positives, hard negatives or
none), the scores (CoSENT), the settings, and the loss (`value`).
"""

import json
import sys
from pathlib import Path

import torch
from sentence_transformers import losses


class FixedEmbeddings(torch.nn.Module):
    """A model whose output for a feature dict is the embedding it carries."""

    def forward(self, features):
        return {"sentence_embedding": features["embedding"]}

    def get_sentence_embedding_dimension(self):
        return None


def run(loss, columns, labels=None):
    features = [{"embedding": c} for c in columns]
    with torch.no_grad():
        return loss(features, labels).item()


def main():
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/reference/sentence_loss.json")
    g = torch.Generator().manual_seed(27)
    model = FixedEmbeddings()
    batch, dim = 6, 16
    anchors = torch.randn(batch, dim, generator=g, dtype=torch.float64)
    # Positives near their anchors, so the loss is not at its chance value.
    positives = anchors + 2.0 * torch.randn(batch, dim, generator=g, dtype=torch.float64)
    negatives = torch.randn(batch, dim, generator=g, dtype=torch.float64)
    scores = torch.tensor([0.1, 0.9, 0.5, 0.5, 0.0, 0.7], dtype=torch.float64)
    cases = []

    def add(name, loss_fn, columns, labels=None, **settings):
        cases.append(
            {
                "name": name,
                "anchors": columns[0].tolist(),
                "positives": columns[1].tolist(),
                "negatives": columns[2].tolist() if len(columns) > 2 else None,
                "scores": None if labels is None else labels.tolist(),
                **settings,
                "value": run(loss_fn, columns, labels),
            }
        )

    mnrl = losses.MultipleNegativesRankingLoss(model, scale=20.0)
    add("mnrl", mnrl, [anchors, positives], loss="mnrl", scale=20.0, symmetric=False)
    add("mnrl_hard_negatives", mnrl, [anchors, positives, negatives],
        loss="mnrl", scale=20.0, symmetric=False)
    add("mnrl_scale_5", losses.MultipleNegativesRankingLoss(model, scale=5.0),
        [anchors, positives], loss="mnrl", scale=5.0, symmetric=False)
    add("mnrl_symmetric", losses.MultipleNegativesSymmetricRankingLoss(model, scale=20.0),
        [anchors, positives], loss="mnrl", scale=20.0, symmetric=True)
    add("cosent", losses.CoSENTLoss(model, scale=20.0), [anchors, positives], scores,
        loss="cosent", scale=20.0, symmetric=False)
    add("matryoshka_mnrl",
        losses.MatryoshkaLoss(model, mnrl, matryoshka_dims=[16, 8, 4],
                              matryoshka_weights=[1.0, 0.5, 0.25]),
        [anchors, positives, negatives], loss="mnrl", scale=20.0, symmetric=False,
        matryoshka_dims=[16, 8, 4], matryoshka_weights=[1.0, 0.5, 0.25])
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
