#!/usr/bin/env bash
# Reranking (issue 27): does a cross-encoder trained on mined hard negatives improve the
# bi-encoder's top 50? SQuAD v1.1 dev as a retrieval set (scripts/squad_retrieval.py): the
# training questions are those of articles 1-38, the held-out ones those of articles 39-48,
# the corpus all 2,067 dev paragraphs.
#
#   scripts/bench_rerank.sh [--data DIR] [BACKEND (tch)] [THREADS (2)]
#
# 1. The first stage, EMBEDDER (default: the fine-tuned bi-encoder that
#    scripts/bench_embedding.sh left in bench-out/embedding/burnish, else all-MiniLM-L6-v2),
#    mines for the first TRAIN_QUERIES (3000) training questions their paragraph and its
#    NEGATIVES (2) best-ranked wrong paragraphs (`burnish mine --format labeled`), and ranks
#    the top 50 of every EVERY-th (4; 1: all 1,988) held-out question (`--format ranked`) and
#    the top 20 of the next 100 training questions (validation).
# 2. A cross-encoder from all-MiniLM-L6-v2 (fresh one-output head) trains 1 epoch on them:
#    binary cross-entropy, 8 questions (24 pairs) a batch, lr 2e-5 (head 1e-3), pairs up to
#    256 tokens, seed 42; sentence-transformers' CrossEncoder the same
#    (scripts/finetune_ce_st.py: BinaryCrossEntropyLoss, 24 pairs a step).
# 3. `burnish evaluate` reranks the held-out top 50s: NDCG@10 / MRR@10 reranked, beside the
#    bi-encoder's own order of the same candidates (a question whose paragraph is not in its
#    top 50 counts as a miss in both).
#
# DIR (or BURNISH_BENCH_DATA) holds squad1.1/dev-v1.1.json (scripts/bench_data.sh). BURNISH_BIN:
# a built burnish (else the debug build is made). Prints a markdown table; keeps everything in
# bench-out/rerank/. Run it on an idle machine.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source "$root/scripts/bench_data.sh"
bench_data_parse "$@"
set -- ${bench_args[@]+"${bench_args[@]}"}
data="$(bench_data_require squad1.1 dev-v1.1.json)"
backend="${1:-tch}"
threads="${2:-2}"
minilm="${BURNISH_ASSETS:-$root/assets}/all-MiniLM-L6-v2"
python="${BURNISH_PYTHON:-$HOME/.cache/burnish-venv/bin/python}"
train_queries="${TRAIN_QUERIES:-3000}"
negatives="${NEGATIVES:-2}"
every="${EVERY:-4}"
embedder="${EMBEDDER:-}"
if [ -z "$embedder" ]; then
  embedder="$root/bench-out/embedding/burnish"
  [ -f "$embedder/metrics.json" ] || embedder="$minilm"
fi
bench_burnish "$backend"
out="$root/bench-out/rerank"
split="$out/split"
mkdir -p "$out"
"$python" scripts/squad_retrieval.py "$data/dev-v1.1.json" "$split" >&2
"$python" - "$split" "$train_queries" "$every" <<'PY'
import sys, pathlib
split, n, every = pathlib.Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
train = (split / "train.jsonl").read_text().splitlines()
test = (split / "test.jsonl").read_text().splitlines()
(split / "rerank-train.jsonl").write_text("\n".join(train[:n]) + "\n")
(split / "rerank-valid.jsonl").write_text("\n".join(train[n:n + 100]) + "\n")
(split / "rerank-test.jsonl").write_text("\n".join(test[::every]) + "\n")
PY

mine() {
  "$burnish" --threads "$threads" mine --model "$embedder" --corpus "$split/corpus.jsonl" \
    --backend "$backend" "$@"
}
echo "== first stage: $embedder" >&2
mine --queries "$split/rerank-train.jsonl" --format labeled --negatives "$negatives" \
  --output "$out/train.jsonl" 2> "$out/mine.log"
mine --queries "$split/rerank-valid.jsonl" --format ranked --top 20 \
  --output "$out/valid.jsonl" 2>> "$out/mine.log"
mine --queries "$split/rerank-test.jsonl" --format ranked --top 50 \
  --output "$out/test.jsonl" 2>> "$out/mine.log"

echo "== burnish: training the reranker" >&2
"$burnish" --threads "$threads" finetune --task rerank --model "$minilm" \
  --train "$out/train.jsonl" --valid "$out/valid.jsonl" --epochs 1 --batch-size 8 --lr 2e-5 \
  --max-length 256 --seed 42 --backend "$backend" --out "$out/reranker" --overwrite --quiet \
  2> "$out/reranker.log"
echo "== sentence-transformers: the same fine-tune (BCE on the same pairs, 24 a step)" >&2
HF_HUB_OFFLINE=1 "$python" scripts/finetune_ce_st.py "$minilm" "$out/train.jsonl" "$out/test.jsonl" \
  "$out/st" --threads "$threads" --batch-size $((8 * (negatives + 1))) --lr 2e-5 \
  --max-length 256 --seed 42 > "$out/st.log" 2>&1
echo "== burnish: reranking the held-out top 50s" >&2
/usr/bin/time -v "$burnish" --threads "$threads" evaluate --model "$out/reranker" \
  --data "$out/test.jsonl" --backend "$backend" --batch-size 64 \
  > "$out/test-metrics.json" 2> "$out/evaluate.log"
"$python" - "$out" "$backend" "$threads" "$embedder" <<'PY'
import json, pathlib, re, sys
out, backend, threads, embedder = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
test = json.loads((out / "test-metrics.json").read_text())
m = test["metrics"]
run = json.loads((out / "reranker" / "metrics.json").read_text())
wall = re.search(r"Elapsed \(wall clock\) time.*: (.*)", (out / "evaluate.log").read_text())
print(f"SQuAD v1.1 dev: {test['queries']} held-out questions (articles 39-48), each with its "
      f"top 50 of 2,067 paragraphs from `{pathlib.Path(embedder).name}`; reranker trained on "
      f"{run['train_queries']} questions ({run['train_pairs']} pairs) of articles 1-38; "
      f"{backend}, {threads} threads\n")
print("| order of the top 50 | NDCG@10 | MRR@10 |")
print("| --- | --- | --- |")
print(f"| bi-encoder (first stage) | {m['input_ndcg@10']:.4f} | {m['input_mrr@10']:.4f} |")
print(f"| burnish cross-encoder, BCE 1 epoch | {m['ndcg@10']:.4f} | {m['mrr@10']:.4f} |")
st = json.loads((out / "st" / "result.json").read_text())
print(f"| sentence-transformers 5.1.2 CrossEncoder, BCE 1 epoch | {st['reranked']['ndcg@10']:.4f} | {st['reranked']['mrr@10']:.4f} |")
d = 100 * (m["ndcg@10"] - m["input_ndcg@10"])
print(f"\nreranking: NDCG@10 {d:+.2f} points; training {run['train_seconds']:.0f} s; "
      f"reranking {test['pairs']} pairs {wall.group(1) if wall else '?'} (wall)")
PY
