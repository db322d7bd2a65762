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
    [ "$weights" = balanced ] && extra=(--class-weights balanced)
    "$bin" finetune --task classification --model "$assets/all-MiniLM-L6-v2" \
      --train "$work/train.tsv" --text-column sentence --label-column label \
      --epochs 2 --batch-size 32 --lr 5e-5 --max-length 128 --metric f1_macro \
      --seed "$seed" --out "$run" --quiet "${extra[@]}" >/dev/null
    "$bin" evaluate --model "$run" --data "$assets/vader-movies/test.tsv" > "$run/test.json"
    python3 - "$run/test.json" "$seed" "$weights" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
recall = m.get("per_class", {}).get("1", {}).get("recall", float("nan")) if isinstance(m.get("per_class"), dict) else float("nan")
print(f"| {sys.argv[2]} | {sys.argv[3]} | {m['accuracy']:.4f} | {m['f1_macro']:.4f} | {recall:.4f} |")
PY
  done
done
