#!/usr/bin/env bash
# A small from-scratch MLM pre-training run on real text, to see the held-out loss fall below
# the unigram baseline: the first SENTENCES (20000) GLUE SST-2 training sentences, ten to a
# document, a 4000-token WordPiece tokenizer trained on them, a 2-layer BERT (hidden 128, 2
# heads), sequences of 64 tokens, EPOCHS (3) epochs, batch 32, lr 1e-3, 5% of documents held out.
#
#   scripts/bench_pretrain.sh [--data DIR] [EPOCHS (3)] [BACKEND (flex)] [SENTENCES (20000)]
#
# DIR (or BURNISH_BENCH_DATA) holds sst2/train.tsv: GLUE SST-2, which is not in the repository
# (source and licence: scripts/bench_data.sh; without it the script says so).
# BURNISH_BIN runs an already built binary. Writes bench-out/pretrain-EPOCHS/ and prints the
# held-out loss, the unigram baseline, perplexity and token accuracy.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source "$root/scripts/bench_data.sh"
bench_data_parse "$@"
set -- ${bench_args[@]+"${bench_args[@]}"}
data="$(bench_data_require sst2 train.tsv)/train.tsv"
epochs="${1:-3}"
backend="${2:-flex}"
sentences="${3:-20000}"
out="$root/bench-out/pretrain-$epochs"
mkdir -p "$out"
if [ -n "${BURNISH_BIN:-}" ]; then
  burnish="$BURNISH_BIN"
else
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/burnish-target}"
  cargo build --quiet -p burnish-cli --no-default-features --features "$backend"
  burnish="$CARGO_TARGET_DIR/debug/burnish"
fi
# Ten sentences a document, documents separated by blank lines.
awk -F'\t' -v n="$sentences" 'NR > 1 && NR <= n + 1 {
  sub(/ +$/, "", $1); print $1; if ((NR - 1) % 10 == 0) print ""
}' "$data" > "$out/corpus.txt"
"$burnish" pretrain --objective mlm --corpus "$out/corpus.txt" --out "$out/run" --overwrite \
  --vocab-size 4000 --layers 2 --hidden 128 --heads 2 --max-length 64 --epochs "$epochs" \
  --batch-size 32 --lr 1e-3 --warmup-ratio 0.06 --held-out 0.05 --seed 42 --backend "$backend" \
  --quiet
python3 - "$out/run/metrics.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
v = m["final_validation"]
print(f"held-out MLM loss {v['loss']:.4f} vs unigram baseline {m['unigram_baseline_loss']:.4f}; "
      f"perplexity {v['perplexity']:.1f}; masked-token accuracy {v['accuracy']:.4f}; "
      f"{m['steps']} steps, {m['train_seconds']:.1f}s, {m['train_tokens_per_second']:.0f} tokens/s")
PY
