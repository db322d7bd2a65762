#!/usr/bin/env bash
# The CoNLL-2003 NER recipe, burnish and PyTorch + transformers side by side in one run:
# MiniLM (all-MiniLM-L6-v2) + a new token-classification head, trained on all 14,041 training
# sentences (IOB2 tags), EPOCHS epochs (default 1), batch 32, lr 5e-5, warmup 10%, weight decay
# 0.01, max length 128, seed 42; first sub-word of each word labelled; entity-level F1
# (seqeval's default mode) on the 3,453 test sentences (and the 3,250 validation sentences).
#
#   scripts/bench_conll.sh [--data DIR] [EPOCHS (1)] [BACKEND (flex)] [THREADS (all cores)]
#
# DIR (or BURNISH_BENCH_DATA) holds conll2003/{train,valid,test}.txt: CoNLL-2003, which is not in
# the repository (Reuters licence; source: scripts/bench_data.sh; without it the script says so).
# burnish's batches are shuffled like PyTorch's (BUCKETING=1: length-bucketed, burnish's default).
# BURNISH_BIN runs an already built binary (one with the backend's feature) instead of building.
# Prints a markdown table and keeps both runs' JSON in bench-out/conll-EPOCHS/. Needs
# scripts/fetch-assets.sh, the reference venv (scripts/test.sh) with scripts/requirements-metrics.txt,
# and an otherwise idle machine.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source "$root/scripts/bench_data.sh"
bench_data_parse "$@"
set -- ${bench_args[@]+"${bench_args[@]}"}
data="$(bench_data_require conll2003 train.txt valid.txt test.txt)"
epochs="${1:-1}"
backend="${2:-flex}"
threads="${3:-$(nproc)}"
model="${BURNISH_ASSETS:-$root/assets}/all-MiniLM-L6-v2"
python="${BURNISH_PYTHON:-$HOME/.cache/burnish-venv/bin/python}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/burnish-target}"
out="$root/bench-out/conll-$epochs"
mkdir -p "$out"
recipe=(--epochs "$epochs" --batch-size 32 --lr 5e-5 --warmup-ratio 0.1 --weight-decay 0.01
  --max-length 128 --seed 42)
# burnish batches as the PyTorch script does (shuffled, not length-bucketed) unless BUCKETING=1.
bucketing=()
[ "${BUCKETING:-0}" = 1 ] || bucketing=(--no-bucketing)

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
"$burnish" finetune --task ner --model "$model" --train "$data/train.txt" \
  --valid "$data/valid.txt" "${recipe[@]}" ${bucketing[@]+"${bucketing[@]}"} --backend "$backend" --out "$out/burnish-run" \
  --overwrite --quiet
"$burnish" evaluate --model "$out/burnish-run" --data "$data/test.txt" --backend "$backend" \
  > "$out/burnish-test.json"
end=$(date +%s.%N)
"$python" -c "import json,sys; print(json.dumps({'command_seconds': float(sys.argv[2]) - float(sys.argv[1])}))" "$start" "$end" > "$out/burnish-time.json"

echo "== PyTorch" >&2
"$python" scripts/finetune_torch_ner.py --model "$model" --train "$data/train.txt" \
  --valid "$data/valid.txt" --test "$data/test.txt" "${recipe[@]}" --threads "$threads" \
  --out "$out/torch.json" >&2

"$python" - "$out" "$backend" "$epochs" <<'PY'
import json, sys, pathlib
out, backend, epochs = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
b = json.loads((out / "burnish-run" / "metrics.json").read_text())
bt = json.loads((out / "burnish-test.json").read_text())["metrics"]
btime = json.loads((out / "burnish-time.json").read_text())
t = json.loads((out / "torch.json").read_text())
print(f"CoNLL-2003, {epochs} epoch(s), MiniLM; entity F1 (seqeval) on test (3,453 sentences) and validation\n")
print("| | test F1 | test precision / recall | valid F1 | training loop (s) | whole command (s) | real tokens/s (training) |")
print("| --- | --- | --- | --- | --- | --- | --- |")
bv = b["final_validation"]
print(f"| burnish ({backend}) | {bt['f1']:.4f} | {bt['precision']:.4f} / {bt['recall']:.4f} | {bv['f1']:.4f} | {b['train_seconds']:.1f} | {btime['command_seconds']:.1f} | {b['train_tokens_per_second']:.0f} |")
print(f"| PyTorch {t['torch']} + transformers {t['transformers']} ({t['threads']} threads) | {t['test_f1']:.4f} | {t['test_precision']:.4f} / {t['test_recall']:.4f} | {t['valid_f1']:.4f} | {t['wall_time_s']:.1f} | {t['total_time_s'] + t.get('import_time_s', 0):.1f} | {t['train_tokens_per_s']:.0f} |")
print(f"\nburnish - PyTorch: test F1 {100 * (bt['f1'] - t['test_f1']):+.2f} points; training-loop time x{b['train_seconds'] / t['wall_time_s']:.2f}; throughput x{b['train_tokens_per_second'] / t['train_tokens_per_s']:.2f}")
PY
