#!/usr/bin/env bash
# ONNX export on a real classifier: MiniLM (all-MiniLM-L6-v2) fine-tuned on the first ROWS GLUE
# SST-2 training rows (1 epoch, the defaults of `burnish finetune`), exported to ONNX in float32
# and int8 (`burnish export --quantize int8`), and scored on all 872 SST-2 dev rows by burnish
# itself (`burnish evaluate`) and by ONNX Runtime (`scripts/check_onnx.py accuracy`).
#
#   scripts/bench_onnx.sh [--data DIR] [ROWS (2000)]
#
# DIR (or BURNISH_BENCH_DATA) holds sst2/train.tsv and sst2/dev.tsv (scripts/bench_data.sh).
# BURNISH_BIN: a built burnish (else the debug build is made). Prints a markdown table and keeps
# the run and the models in bench-out/onnx-ROWS/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source "$root/scripts/bench_data.sh"
bench_data_parse "$@"
set -- ${bench_args[@]+"${bench_args[@]}"}
data="$(bench_data_require sst2 train.tsv dev.tsv)"
rows="${1:-2000}"
model="${BURNISH_ASSETS:-$root/assets}/all-MiniLM-L6-v2"
python="${BURNISH_PYTHON:-$HOME/.cache/burnish-venv/bin/python}"
bench_burnish
out="$root/bench-out/onnx-$rows"
mkdir -p "$out"
if [ ! -f "$out/run/metrics.json" ]; then
  "$burnish" finetune --model "$model" --train "$data/train.tsv" --valid "$data/dev.tsv" \
    --text-column sentence --max-train-rows "$rows" --epochs 1 --out "$out/run" --overwrite --quiet
fi
"$burnish" evaluate --model "$out/run" --data "$data/dev.tsv" > "$out/burnish.json"
"$burnish" export --model "$out/run" --format onnx --out "$out/model.onnx"
"$burnish" export --model "$out/run" --format onnx --out "$out/model-int8.onnx" --quantize int8
"$python" scripts/check_onnx.py accuracy "$out/model.onnx" "$out/run" "$data/dev.tsv" > "$out/onnx.json"
"$python" scripts/check_onnx.py accuracy "$out/model-int8.onnx" "$out/run" "$data/dev.tsv" > "$out/onnx-int8.json"
"$python" - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]
def acc(f):
    d = json.load(open(os.path.join(out, f)))
    return d["metrics"]["accuracy"] if "metrics" in d else d["accuracy"]
mb = lambda f: os.path.getsize(os.path.join(out, f)) / 1e6
print("| model | SST-2 dev accuracy (872) | file size (MB) |")
print("| --- | --- | --- |")
print(f"| burnish evaluate (flex) | {acc('burnish.json'):.4f} | |")
print(f"| ONNX Runtime, float32 | {acc('onnx.json'):.4f} | {mb('model.onnx'):.1f} |")
print(f"| ONNX Runtime, int8 (`--quantize int8`) | {acc('onnx-int8.json'):.4f} | {mb('model-int8.onnx'):.1f} |")
PY
