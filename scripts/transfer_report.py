#!/usr/bin/env python3
"""Collects the numbers of scripts/transfer_experiment.sh into OUT/results.json, prints the
markdown tables of docs/transfer.md and writes OUT/learning_curve.json (the plot's spec for
examples/plot_curves.rs). Python standard library only.

    python3 scripts/transfer_report.py OUT    (default bench-out/transfer)
"""
import json
import math
import pathlib
import sys

out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "bench-out/transfer")
ARMS = [
    ("random", "random init (same architecture)"),
    ("pretrained", "ours: pre-trained on BBC News"),
    ("minilm", "all-MiniLM-L6-v2"),
    ("dapt", "MiniLM + MLM on the reviews"),
]
SIZES = ["100", "1000", "all"]
SHORT = {"random": "random init", "pretrained": "ours (BBC)", "minilm": "MiniLM", "dapt": "MiniLM+DAPT"}


def load(path):
    path = out / path
    return json.loads(path.read_text()) if path.is_file() else None


results = {"pretrain": None, "finetune": {}, "dapt": {}}

pre = load("pretrain/metrics.json")
if pre:
    v = pre["final_validation"]
    cfg = load("pretrain/config.json") or {}
    results["pretrain"] = {
        "held_out_mlm_loss": v["loss"],
        "unigram_baseline_loss": pre["unigram_baseline_loss"],
        "perplexity": v["perplexity"],
        "unigram_perplexity": math.exp(pre["unigram_baseline_loss"]),
        "masked_token_accuracy": v["accuracy"],
        "nsp_accuracy": v.get("nsp_accuracy"),
        "best_step": pre["best"]["step"] if pre.get("best") else None,
        "steps": pre["steps"],
        "train_seconds": pre["train_seconds"],
        "wall_seconds": pre["wall_seconds"],
        "train_tokens_per_second": pre["train_tokens_per_second"],
        "train_sequences": pre["train_sequences"],
        "held_out_sequences": pre["held_out_sequences"],
        "layers": cfg.get("num_hidden_layers"),
        "hidden": cfg.get("hidden_size"),
        "heads": cfg.get("num_attention_heads"),
        "vocab_size": cfg.get("vocab_size"),
    }

for arm, _ in ARMS:
    for size in SIZES:
        t = load(f"ft/{arm}-{size}/test.json")
        if t:
            results["finetune"][f"{arm}-{size}"] = t

for name in ["dapt-before", "dapt"]:
    m = load(f"{name}/metrics.json")
    if m:
        v = m["final_validation"]
        results["dapt"][name] = {
            "held_out_mlm_loss": v["loss"],
            "perplexity": v["perplexity"],
            "masked_token_accuracy": v["accuracy"],
            "unigram_baseline_loss": m["unigram_baseline_loss"],
            "steps": m.get("steps"),
            "train_seconds": m.get("train_seconds"),
            "wall_seconds": m.get("wall_seconds"),
        }

(out / "results.json").write_text(json.dumps(results, indent=1) + "\n")

# Markdown.
if results["pretrain"]:
    p = results["pretrain"]
    print("| pre-training (held-out 5% of the articles) | value |")
    print("| --- | --- |")
    print(f"| MLM loss (cross-entropy per masked token) | {p['held_out_mlm_loss']:.4f} |")
    print(f"| unigram baseline loss | {p['unigram_baseline_loss']:.4f} |")
    print(f"| perplexity (unigram) | {p['perplexity']:.1f} ({p['unigram_perplexity']:.1f}) |")
    print(f"| masked-token accuracy | {p['masked_token_accuracy']:.4f} |")
    if p["nsp_accuracy"] is not None:
        print(f"| NSP accuracy (chance 0.5) | {p['nsp_accuracy']:.4f} |")
    print(f"| steps (best at) | {p['steps']} ({p['best_step']}) |")
    print(f"| training loop / whole run (s) | {p['train_seconds']:.0f} / {p['wall_seconds']:.0f} |")
    print(f"| training tokens/s | {p['train_tokens_per_second']:.0f} |")
    print(f"| sequences: training / held out | {p['train_sequences']} / {p['held_out_sequences']} |")
    print()


def cell(key):
    t = results["finetune"].get(key)
    if not t:
        return "—"
    if len(t["test_accuracy"]) > 1:
        return f"{t['mean']:.4f} ± {t['std']:.4f} (n={len(t['test_accuracy'])})"
    return f"{t['mean']:.4f}"


arms = [(a, label) for a, label in ARMS if any(f"{a}-{s}" in results["finetune"] for s in SIZES)]
if arms:
    print("| training rows | " + " | ".join(label for _, label in arms) + " |")
    print("| --- | " + " | ".join("---" for _ in arms) + " |")
    for size in SIZES:
        n = next((results["finetune"][f"{a}-{size}"]["train_examples"] for a, _ in arms
                  if f"{a}-{size}" in results["finetune"]), size)
        print(f"| {n} | " + " | ".join(cell(f"{a}-{size}") for a, _ in arms) + " |")
    print()
    print("| fine-tuning time, training loop (s) | " + " | ".join(label for _, label in arms) + " |")
    print("| --- | " + " | ".join("---" for _ in arms) + " |")
    for size in SIZES:
        row = []
        for a, _ in arms:
            t = results["finetune"].get(f"{a}-{size}")
            row.append(f"{t['train_seconds']:.0f}" if t and t.get("train_seconds") else "—")
        print(f"| {size} | " + " | ".join(row) + " |")
    print()

if results["dapt"]:
    print("| MiniLM on held-out review sentences | loss | perplexity | masked-token accuracy |")
    print("| --- | --- | --- | --- |")
    for name, label in [("dapt-before", "before (new MLM head)"), ("dapt", "after MLM on the reviews")]:
        d = results["dapt"].get(name)
        if d:
            print(f"| {label} | {d['held_out_mlm_loss']:.4f} | {d['perplexity']:.1f} | {d['masked_token_accuracy']:.4f} |")
    d = results["dapt"].get("dapt") or results["dapt"].get("dapt-before")
    print(f"| unigram baseline | {d['unigram_baseline_loss']:.4f} | {math.exp(d['unigram_baseline_loss']):.1f} | |")
    print()

# The learning-curve plot: x = log10(training rows), y = test accuracy (mean over seeds).
panel = {"title": "test accuracy (vader-movies, 1,057 sentences)",
         "x_label": "log10(labelled training rows)", "series": []}
for a, label in arms:
    points = []
    for size in SIZES:
        t = results["finetune"].get(f"{a}-{size}")
        if t and t.get("train_examples"):
            points.append([math.log10(t["train_examples"]), t["mean"]])
    if points:
        panel["series"].append({"name": SHORT[a], "points": points})
spec = {"title": "Learning curve: sentiment fine-tuning after pre-training or not", "panels": [panel]}
(out / "learning_curve.json").write_text(json.dumps(spec, indent=1) + "\n")

# The pre-training plot: the run's log, with the unigram baseline drawn in.
log = out / "pretrain" / "log.jsonl"
if log.is_file() and results["pretrain"]:
    rows = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    train = [[r["step"], r["loss"]] for r in rows if r.get("type") == "train"]
    evals = [r for r in rows if r.get("type") == "eval"]
    held = lambda key: [[r["step"], r["metrics"][key]] for r in evals if key in r["metrics"]]
    unigram = results["pretrain"]["unigram_baseline_loss"]
    last = max([s for s, _ in train] + [1])
    panels = [
        {"title": "loss", "x_label": "optimizer step", "series": [
            {"name": "training loss (MLM + NSP)", "points": train},
            {"name": "held-out MLM loss", "points": held("loss")},
            {"name": "unigram baseline", "points": [[0, unigram], [last, unigram]]}]},
        {"title": "held-out accuracy", "x_label": "optimizer step", "series": [
            {"name": "masked-token accuracy", "points": held("accuracy")},
            {"name": "NSP accuracy (chance 0.5)", "points": held("nsp_accuracy")}]},
    ]
    spec = {"title": "Pre-training from scratch on BBC News (4 layers, hidden 256)", "panels": panels}
    (out / "pretraining.json").write_text(json.dumps(spec) + "\n")
print(f"wrote {out / 'results.json'} and {out / 'learning_curve.json'}", file=sys.stderr)
