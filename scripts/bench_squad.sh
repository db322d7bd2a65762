#!/usr/bin/env bash
# The SQuAD v1.1 recipe, burnish and PyTorch + transformers side by side in one run. Only the
# official dev set is used: both train on its first 38 articles (8,582 questions)
# and are scored on its last 10 (1,988 questions): MiniLM (all-MiniLM-L6-v2) + a new QA head,
# max length 384, doc stride 128, batch 32, lr 5e-5, warmup 10%, weight decay 0.01, seed 42,
# n-best 20, max answer 30 tokens; EM / F1 as the official v1.1 script computes them.
#
#   scripts/bench_squad.sh [--data DIR] [EPOCHS (2)] [BACKEND (flex)] [THREADS (all cores)] [QUESTIONS (all)]
#
# DIR (or BURNISH_BENCH_DATA) holds squad1.1/dev-v1.1.json, the official SQuAD v1.1 dev set
# (CC BY-SA 4.0; source: scripts/bench_data.sh; without it the script says so). The repository
# holds only a 350-question slice of it, for the tests.
# QUESTIONS trains on the first N questions of the 38 articles only (a shorter, CPU-sized run).
# BURNISH_BIN runs an already built binary (one with the backend's feature) instead of building.
# Prints a markdown table and keeps both runs' JSON in bench-out/squad-EPOCHS-QUESTIONS/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source "$root/scripts/bench_data.sh"
bench_data_parse "$@"
set -- ${bench_args[@]+"${bench_args[@]}"}
data="$(bench_data_require squad1.1 dev-v1.1.json)/dev-v1.1.json"
epochs="${1:-2}"
backend="${2:-flex}"
threads="${3:-$(nproc)}"
questions="${4:-all}"
model="${BURNISH_ASSETS:-$root/assets}/all-MiniLM-L6-v2"
python="${BURNISH_PYTHON:-$HOME/.cache/burnish-venv/bin/python}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/burnish-target}"
out="$root/bench-out/squad-$epochs-$questions"
mkdir -p "$out"
recipe=(--epochs "$epochs" --batch-size 32 --lr 5e-5 --warmup-ratio 0.1 --weight-decay 0.01
  --max-length 384 --doc-stride 128 --seed 42 --train-articles 0:38)
burnish_limit=() torch_limit=()
if [ "$questions" != all ]; then
  burnish_limit=(--max-train-rows "$questions")
  torch_limit=(--max-train-questions "$questions")
fi

if [ -n "${BURNISH_BIN:-}" ]; then
  burnish="$BURNISH_BIN"
else
  features="$backend"
  [ "$backend" = tch-cuda ] && features=tch
  cargo build --quiet -p burnish-cli --no-default-features --features "$features"
  burnish="$CARGO_TARGET_DIR/debug/burnish"
fi

echo "== burnish ($backend)" >&2
start=$(date +%s.%N)
"$burnish" finetune --task qa --model "$model" --train "$data" --valid-articles 38:48 \
  "${recipe[@]}" ${burnish_limit[@]+"${burnish_limit[@]}"} --backend "$backend" \
  --out "$out/burnish-run" --overwrite --quiet
end=$(date +%s.%N)
"$python" -c "import json,sys; print(json.dumps({'command_seconds': float(sys.argv[2]) - float(sys.argv[1])}))" "$start" "$end" > "$out/burnish-time.json"

echo "== PyTorch" >&2
"$python" scripts/finetune_torch_qa.py --model "$model" --data "$data" --eval-articles 38:48 \
  "${recipe[@]}" ${torch_limit[@]+"${torch_limit[@]}"} --threads "$threads" \
  --out "$out/torch.json" --predictions "$out/torch-predictions.json" >&2

"$python" - "$out" "$backend" "$epochs" "$questions" <<'PY'
import json, sys, pathlib
out, backend, epochs, questions = pathlib.Path(sys.argv[1]), *sys.argv[2:5]
b = json.loads((out / "burnish-run" / "metrics.json").read_text())
bt = json.loads((out / "burnish-time.json").read_text())
t = json.loads((out / "torch.json").read_text())
v = b["final_validation"]
print(f"SQuAD v1.1 dev, trained on articles 0-37 ({questions} questions), {epochs} epoch(s), MiniLM; scored on articles 38-47 (1,988 questions)\n")
print("| | exact match | F1 | training loop (s) | whole command (s) | real tokens/s (training) |")
print("| --- | --- | --- | --- | --- | --- |")
print(f"| burnish ({backend}) | {v['exact_match']:.2f} | {v['f1']:.2f} | {b['train_seconds']:.1f} | {bt['command_seconds']:.1f} | {b['train_tokens_per_second']:.0f} |")
print(f"| PyTorch {t['torch']} + transformers {t['transformers']} ({t['threads']} threads) | {t['exact_match']:.2f} | {t['f1']:.2f} | {t['wall_time_s']:.1f} | {t['total_time_s'] + t.get('import_time_s', 0):.1f} | {t['train_tokens_per_s']:.0f} |")
print(f"\nburnish - PyTorch: EM {v['exact_match'] - t['exact_match']:+.2f}, F1 {v['f1'] - t['f1']:+.2f} points; training-loop time x{b['train_seconds'] / t['wall_time_s']:.2f}; throughput x{b['train_tokens_per_second'] / t['train_tokens_per_s']:.2f}")
PY
