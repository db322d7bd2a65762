#!/usr/bin/env bash
# Class weights on imbalanced data (issue 24): fine-tune MiniLM on a training set with 10%
# positives, with and without `--class-weights balanced`, and score both on the balanced test
# split (macro-F1 is what a rare class needs; accuracy hides it).
#
#   scripts/bench_class_weights.sh [SEEDS (1)] [NEGATIVES (1800)]
#
# Needs scripts/fetch-assets.sh's assets and a built CLI (BURNISH_BIN, else target/release).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${BURNISH_BIN:-$root/target/release/burnish}"
assets="${BURNISH_ASSETS:-$root/assets}"
seeds="${1:-1}"
negatives="${2:-1800}"
positives=$((negatives / 9))
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The first NEGATIVES label-0 rows and the first POSITIVES label-1 rows, in file order.
awk -F'\t' -v neg="$negatives" -v pos="$positives" \
  'NR == 1 { print; next } $2 == "0" && n < neg { print; n++ } $2 == "1" && p < pos { print; p++ }' \
  "$assets/vader-movies/train.tsv" > "$work/train.tsv"
echo "training rows: $negatives negative, $positives positive"

printf '| seed | class weights | test accuracy | test f1_macro | positive-class recall |\n'
printf '| --- | --- | --- | --- | --- |\n'
for seed in $(seq 1 "$seeds"); do
  for weights in none balanced; do
    run="$work/run-$seed-$weights"
    extra=()
    if [ "$weights" = balanced ]; then extra=(--class-weights balanced); fi
    "$bin" finetune --task classification --model "$assets/all-MiniLM-L6-v2" \
      --train "$work/train.tsv" --text-column sentence --label-column label \
      --epochs 2 --batch-size 32 --lr 5e-5 --max-length 128 --metric f1_macro \
      --seed "$seed" --out "$run" --quiet "${extra[@]}" >"$work/log" 2>&1 \
      || { cat "$work/log" >&2; exit 1; }
    "$bin" evaluate --model "$run" --data "$assets/vader-movies/test.tsv" \
      >"$run/test.json" 2>"$work/log" || { cat "$work/log" >&2; exit 1; }
    python3 - "$run/test.json" "$seed" "$weights" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))["report"]
positive = next(c for c in report["per_class"] if c["label"] == "1")
print(f"| {sys.argv[2]} | {sys.argv[3]} | {report['accuracy']:.4f} | {report['f1_macro']:.4f} | {positive['recall']:.4f} |")
PY
  done
done
