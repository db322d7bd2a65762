#!/usr/bin/env bash
# The SST-2 fine-tuning recipe, burnish and PyTorch + transformers side by side in one run:
# MiniLM (all-MiniLM-L6-v2), the first ROWS GLUE SST-2 training rows, 1 epoch, batch 32,
# lr 5e-5, warmup 10%, weight decay 0.01, max length 128, seed 42, dev accuracy on all 872 rows.
#
#   scripts/bench_sst2.sh [--data DIR] [ROWS (10000, or "all")] [BACKEND (flex)] [THREADS (all cores)]
#
# DIR (or BURNISH_BENCH_DATA) holds sst2/train.tsv and sst2/dev.tsv: GLUE SST-2, which is not in
# the repository (source and licence: scripts/bench_data.sh; without it the script says so).
# Prints a markdown table (accuracy, training-loop time, total time, real tokens/s) and keeps
# both runs' JSON in bench-out/sst2-ROWS/. Needs scripts/fetch-assets.sh and the reference venv
# (scripts/test.sh sets it up); run it on an otherwise idle machine.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source "$root/scripts/bench_data.sh"
bench_data_parse "$@"
set -- ${bench_args[@]+"${bench_args[@]}"}
data="$(bench_data_require sst2 train.tsv dev.tsv)"
rows="${1:-10000}"
backend="${2:-flex}"
threads="${3:-$(nproc)}"
model="${BURNISH_ASSETS:-$root/assets}/all-MiniLM-L6-v2"
python="${BURNISH_PYTHON:-$HOME/.cache/burnish-venv/bin/python}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/burnish-target}"
out="$root/bench-out/sst2-$rows"
mkdir -p "$out"
limit=()
[ "$rows" = all ] || limit=(--max-train-rows "$rows")

features="$backend"
[ "$backend" = tch-cuda ] && features=tch
# The dev profile optimises every dependency (Burn included) at opt-level 3 (see Cargo.toml).
# BURNISH_BIN runs an already built binary instead (one built with the backend's feature).
if [ -n "${BURNISH_BIN:-}" ]; then
  burnish="$BURNISH_BIN"
else
  cargo build --quiet -p burnish-cli --no-default-features --features "$features"
  burnish="$CARGO_TARGET_DIR/debug/burnish"
fi

echo "== burnish ($backend)" >&2
start=$(date +%s.%N)
"$burnish" finetune --model "$model" --train "$data/train.tsv" --valid "$data/dev.tsv" \
  --text-column sentence --label-column label "${limit[@]}" --epochs 1 --batch-size 32 \
  --lr 5e-5 --warmup-ratio 0.1 --weight-decay 0.01 --max-length 128 --seed 42 \
  --backend "$backend" --out "$out/burnish-run" --overwrite --quiet
end=$(date +%s.%N)
"$python" -c "import json,sys; print(json.dumps({'command_seconds': float(sys.argv[2]) - float(sys.argv[1])}))" "$start" "$end" > "$out/burnish-time.json"

echo "== PyTorch" >&2
"$python" scripts/finetune_torch.py --model "$model" --train "$data/train.tsv" \
  --valid "$data/dev.tsv" ${limit[@]+"${limit[@]}"} --epochs 1 --batch-size 32 --lr 5e-5 \
  --warmup-ratio 0.1 --weight-decay 0.01 --max-length 128 --seed 42 --threads "$threads" \
  --out "$out/torch.json" >&2

"$python" - "$out" "$backend" "$rows" <<'PY'
import json, sys, pathlib
out, backend, rows = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
b = json.loads((out / "burnish-run" / "metrics.json").read_text())
bt = json.loads((out / "burnish-time.json").read_text())
t = json.loads((out / "torch.json").read_text())
acc_b = b["final_validation"]["accuracy"]
print(f"SST-2, first {rows} training rows, 1 epoch, MiniLM; dev accuracy on 872 rows\n")
print("| | dev accuracy | training loop (s) | whole command (s) | real tokens/s (training) |")
print("| --- | --- | --- | --- | --- |")
print(f"| burnish ({backend}) | {acc_b:.4f} | {b['train_seconds']:.1f} | {bt['command_seconds']:.1f} | {b['train_tokens_per_second']:.0f} |")
print(f"| PyTorch {t['torch']} + transformers {t['transformers']} ({t['threads']} threads) | {t['accuracy']:.4f} | {t['wall_time_s']:.1f} | {t['total_time_s'] + t.get('import_time_s', 0):.1f} | {t['train_tokens_per_s']:.0f} |")
print(f"\nburnish / PyTorch: accuracy {100 * (acc_b - t['accuracy']):+.2f} points, training-loop time x{b['train_seconds'] / t['wall_time_s']:.2f}, throughput x{b['train_tokens_per_second'] / t['train_tokens_per_s']:.2f}")
PY
