#!/usr/bin/env bash
# Length-grouped against shuffled batches (issue 24): the same SST-2 fine-tune over several
# seeds, with burnish's default batches (shuffle, pools of 50 batches sorted by length inside,
# the batches shuffled: `transformers`' LengthGroupedSampler design) and with `--no-bucketing`
# (plain shuffled slices).
#
#   scripts/bench_bucketing.sh [--data DIR] [ROWS (10000)] [BACKEND (flex)] [SEEDS ("42 1 2")]
#
# The recipe is scripts/bench_sst2.sh's: all-MiniLM-L6-v2, 1 epoch, batch 32, lr 5e-5, 10%
# warmup, weight decay 0.01, max length 128, scored on the 872 GLUE dev sentences.
# DIR (or BURNISH_BENCH_DATA) holds sst2/{train,dev}.tsv (scripts/bench_data.sh). BURNISH_BIN:
# a built burnish (else the debug build is made). Prints a markdown table (dev accuracy and
# training-loop seconds per seed, then mean and standard deviation); keeps the runs in
# bench-out/bucketing/. Run it on an idle machine.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source "$root/scripts/bench_data.sh"
bench_data_parse "$@"
set -- ${bench_args[@]+"${bench_args[@]}"}
data="$(bench_data_require sst2 train.tsv)"
rows="${1:-10000}"
backend="${2:-flex}"
seeds="${3:-42 1 2}"
model="${BURNISH_ASSETS:-$root/assets}/all-MiniLM-L6-v2"
python="${BURNISH_PYTHON:-$HOME/.cache/burnish-venv/bin/python}"
bench_burnish "$backend"
out="$root/bench-out/bucketing"
mkdir -p "$out"
for seed in $seeds; do
  for batches in bucketed shuffled; do
    flag=()
    [ "$batches" = shuffled ] && flag=(--no-bucketing)
    echo "== seed $seed, $batches" >&2
    "$burnish" finetune --model "$model" --train "$data/train.tsv" --valid "$data/dev.tsv" \
      --text-column sentence --label-column label --max-train-rows "$rows" --epochs 1 \
      --batch-size 32 --lr 5e-5 --warmup-ratio 0.1 --weight-decay 0.01 --max-length 128 \
      --seed "$seed" --backend "$backend" ${flag[@]+"${flag[@]}"} \
      --out "$out/$batches-$seed" --overwrite --quiet 2> "$out/$batches-$seed.log"
  done
done
"$python" - "$out" "$seeds" "$rows" "$backend" <<'PY'
import json, pathlib, statistics, sys
out, seeds, rows, backend = pathlib.Path(sys.argv[1]), sys.argv[2].split(), sys.argv[3], sys.argv[4]
print(f"SST-2, first {rows} training rows, 1 epoch, MiniLM, {backend}; GLUE dev accuracy\n")
print("| batches | " + " | ".join(f"seed {s}" for s in seeds) + " | mean (std) | training loop (s), mean |")
print("| --- |" + " --- |" * (len(seeds) + 2))
for batches in ["bucketed", "shuffled"]:
    runs = [json.loads((out / f"{batches}-{s}" / "metrics.json").read_text()) for s in seeds]
    acc = [r["final_validation"]["accuracy"] for r in runs]
    secs = [r["train_seconds"] for r in runs]
    std = statistics.stdev(acc) if len(acc) > 1 else 0.0
    print(f"| {batches} | " + " | ".join(f"{a:.4f}" for a in acc)
          + f" | {statistics.mean(acc):.4f} ({std:.4f}) | {statistics.mean(secs):.1f} |")
PY
