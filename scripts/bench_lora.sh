#!/usr/bin/env bash
# LoRA against full fine-tuning on the SST-2 recipe (scripts/bench_sst2.sh): MiniLM
# (all-MiniLM-L6-v2), the first ROWS GLUE SST-2 training rows, 1 epoch, batch 32, warmup 10%,
# weight decay 0.01, max length 128, seed 42, dev accuracy on all 872 rows. Full fine-tuning at
# lr 5e-5; LoRA r=8, alpha 16 on LORA_TARGETS (query,key,value,dense: every linear layer of the
# encoder; peft's BERT default is query,value), the classifier trained fully, at LORA_LR (1e-3:
# with one epoch LoRA wants 20x full fine-tuning's rate).
#
#   scripts/bench_lora.sh [--data DIR] [ROWS (10000)] [BACKEND (flex)]
#
# DIR (or BURNISH_BENCH_DATA) holds sst2/train.tsv and sst2/dev.tsv (scripts/bench_data.sh).
# BURNISH_BIN: a built burnish (else the debug build is made). Prints a markdown table: dev
# accuracy, trainable parameters, peak resident memory (metrics.json's peak_rss_bytes), the
# training loop's time; keeps both runs in bench-out/lora-ROWS/. Run it on an idle machine.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source "$root/scripts/bench_data.sh"
bench_data_parse "$@"
set -- ${bench_args[@]+"${bench_args[@]}"}
data="$(bench_data_require sst2 train.tsv dev.tsv)"
rows="${1:-10000}"
backend="${2:-flex}"
lora_lr="${LORA_LR:-1e-3}"
lora_targets="${LORA_TARGETS:-query,key,value,dense}"
model="${BURNISH_ASSETS:-$root/assets}/all-MiniLM-L6-v2"
python="${BURNISH_PYTHON:-$HOME/.cache/burnish-venv/bin/python}"
bench_burnish "$backend"
out="$root/bench-out/lora-$rows"
mkdir -p "$out"
recipe=(--model "$model" --train "$data/train.tsv" --valid "$data/dev.tsv" --text-column sentence
  --label-column label --max-train-rows "$rows" --epochs 1 --batch-size 32 --warmup-ratio 0.1
  --weight-decay 0.01 --max-length 128 --seed 42 --backend "$backend" --overwrite --quiet)
echo "== full fine-tuning" >&2
"$burnish" finetune "${recipe[@]}" --lr 5e-5 --out "$out/full" 2> "$out/full.log"
echo "== LoRA r=8" >&2
"$burnish" finetune "${recipe[@]}" --lr "$lora_lr" --lora --lora-r 8 --lora-alpha 16 \
  --lora-targets "$lora_targets" --out "$out/lora" 2> "$out/lora.log"
"$python" - "$out" "$backend" "$rows" "$lora_lr" "$lora_targets" <<'PY'
import json, pathlib, re, sys
out, backend, rows, lora_lr, targets = pathlib.Path(sys.argv[1]), *sys.argv[2:6]
def run(name):
    m = json.loads((out / name / "metrics.json").read_text())
    return m["final_validation"]["accuracy"], m["peak_rss_bytes"] / 2**20, m["train_seconds"]
line = re.search(r"trainable params: (\d+) \|\| all params: (\d+)", (out / "lora.log").read_text())
trainable, total = int(line.group(1)), int(line.group(2))

fa, fm, ft = run("full")
la, lm, lt = run("lora")
print(f"SST-2, first {rows} training rows, 1 epoch, MiniLM, {backend}; dev accuracy on 872 rows\n")
print("| | dev accuracy | trainable parameters | peak RSS (MiB) | training loop (s) |")
print("| --- | --- | --- | --- | --- |")
print(f"| full fine-tuning, lr 5e-5 | {fa:.4f} | all | {fm:.0f} | {ft:.1f} |")
print(f"| LoRA r=8, alpha 16, {targets}, lr {lora_lr} | {la:.4f} | {trainable} of {total} ({100 * trainable / total:.2f}%) | {lm:.0f} | {lt:.1f} |")
print(f"\nLoRA - full: accuracy {100 * (la - fa):+.2f} points, peak memory x{lm / fm:.2f}, training-loop time x{lt / ft:.2f}")
PY
