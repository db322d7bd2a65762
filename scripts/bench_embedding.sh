#!/usr/bin/env bash
# Embedding fine-tuning against sentence-transformers (issue 27): SQuAD v1.1 dev as a retrieval
# set (scripts/squad_retrieval.py): train on the questions of articles 1-38 paired with their
# paragraphs, score the 1,988 questions of articles 39-48 against all 2,067 dev paragraphs.
# Both sides: all-MiniLM-L6-v2, MultipleNegativesRankingLoss (scale 20), batches without
# duplicate texts, 1 epoch, batch 32, lr 2e-5, 10% warmup then linear decay, weight decay 0.01,
# clipping at 1.0, passages up to 256 tokens, seed 42, THREADS threads each, one after the other.
#
#   scripts/bench_embedding.sh [--data DIR] [BACKEND (flex)] [THREADS (2)]
#
# DIR (or BURNISH_BENCH_DATA) holds squad1.1/dev-v1.1.json (scripts/bench_data.sh). BURNISH_BIN:
# a built burnish (else the debug build is made). Prints a markdown table (NDCG@10, MRR@10,
# Recall@1/10 before and after, training time); keeps everything in bench-out/embedding/.
# Run it on an idle machine.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source "$root/scripts/bench_data.sh"
bench_data_parse "$@"
set -- ${bench_args[@]+"${bench_args[@]}"}
data="$(bench_data_require squad1.1 dev-v1.1.json)"
backend="${1:-flex}"
threads="${2:-2}"
model="${BURNISH_ASSETS:-$root/assets}/all-MiniLM-L6-v2"
python="${BURNISH_PYTHON:-$HOME/.cache/burnish-venv/bin/python}"
bench_burnish "$backend"
out="$root/bench-out/embedding"
split="$out/split"
mkdir -p "$out"
"$python" scripts/squad_retrieval.py "$data/dev-v1.1.json" "$split" >&2

echo "== sentence-transformers" >&2
HF_HUB_OFFLINE=1 "$python" scripts/finetune_st.py "$model" "$split" "$out/st" --threads "$threads" \
  > "$out/st.log" 2>&1
echo "== burnish: the untuned model" >&2
"$burnish" --threads "$threads" evaluate --model "$model" --data "$split/test.jsonl" \
  --corpus "$split/corpus.jsonl" --backend "$backend" > "$out/burnish-before.json" 2> "$out/burnish-before.log"
echo "== burnish: fine-tuning" >&2
# One epoch with one evaluation at its end: the validation set selects nothing, it is the
# score the run reports (the same as `burnish evaluate` of the run gives).
"$burnish" --threads "$threads" finetune --task embedding --model "$model" \
  --train "$split/train.jsonl" --valid "$split/test.jsonl" --corpus "$split/corpus.jsonl" \
  --epochs 1 --batch-size 32 --lr 2e-5 --warmup-ratio 0.1 --weight-decay 0.01 \
  --max-length 256 --seed 42 --backend "$backend" --out "$out/burnish" --overwrite --quiet \
  2> "$out/burnish.log"
"$python" - "$out" "$backend" "$threads" <<'PY'
import json, pathlib, sys
out, backend, threads = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
st = json.loads((out / "st" / "result.json").read_text())
before = json.loads((out / "burnish-before.json").read_text())["metrics"]
run = json.loads((out / "burnish" / "metrics.json").read_text())
after = run["final_validation"]
keys = ["ndcg@10", "mrr@10", "recall@1", "recall@10"]
st_keys = {"ndcg@10": "ndcg@10", "mrr@10": "mrr@10", "recall@1": "recall@1", "recall@10": "recall@10"}
print(f"SQuAD v1.1 dev retrieval: 1,988 questions of articles 39-48 against 2,067 paragraphs; "
      f"MiniLM fine-tuned on {st['train_pairs']} pairs of articles 1-38; {threads} threads each side\n")
print("| | " + " | ".join(keys) + " | training (s) |")
print("| --- |" + " --- |" * (len(keys) + 1))
row = lambda name, m, t: print(f"| {name} | " + " | ".join(f"{m[k]:.4f}" for k in keys) + f" | {t} |")
row("all-MiniLM-L6-v2, untuned (burnish)", before, "")
row("all-MiniLM-L6-v2, untuned (sentence-transformers)", {k: st["before"][st_keys[k]] for k in keys}, "")
row(f"burnish {backend}, MNRL 1 epoch", after, f"{run['train_seconds']:.0f}")
row("sentence-transformers 5.1.2, MNRL 1 epoch", {k: st["after"][st_keys[k]] for k in keys}, f"{st['train_seconds']:.0f}")
d = 100 * (after["ndcg@10"] - st["after"]["ndcg@10"])
print(f"\nburnish - sentence-transformers: NDCG@10 {d:+.2f} points; training time x{run['train_seconds'] / st['train_seconds']:.2f}")
PY
