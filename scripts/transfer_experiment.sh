#!/usr/bin/env bash
# The transfer experiment of docs/transfer.md: does pre-training reduce the labelled data a
# sentiment classifier needs?
#
# 1. tokenizer: a VOCAB-token WordPiece tokenizer trained on the BBC News corpus
#    (assets/bbc-news, from scripts/fetch-assets.sh).
# 2. pretrain: a small BERT (LAYERS layers, HIDDEN hidden, HEADS heads, sequences of SEQ tokens)
#    pre-trained from scratch on that corpus with MLM + NSP for PRETRAIN_EPOCHS epochs; 5% of the
#    articles held out for the MLM / NSP metrics.
# 3. finetune: sentiment on vader-movies (assets/vader-movies) with 100, 1,000 and all training
#    rows, one recipe for every model, from (a) the same architecture randomly initialised,
#    (b) our pre-trained model, (c) all-MiniLM-L6-v2 (pre-trained at scale), (d) MiniLM after
#    domain-adaptive MLM (step 4). Accuracy on the 1,057-row test split.
# 4. dapt: MiniLM continued with MLM on the training split's movie-review sentences (text only),
#    its held-out perplexity before (--eval-only) and after.
# 5. report: bench-out/transfer/results.json, a markdown table and learning_curve.png.
#
#   scripts/transfer_experiment.sh [STAGE ...]     (default: data tokenizer pretrain dapt finetune report)
#
# Stages: data, tokenizer, pretrain, finetune (every arm), finetune-random, finetune-pretrained,
# finetune-minilm, finetune-dapt, dapt, report. Every step skips what is already finished and
# resumes what was interrupted, so rerunning the same command continues the experiment.
#
# The fine-tuning recipe (all arms): batch 16, AdamW lr FT_LR (1e-4), warmup 10%, linear decay,
# weight decay 0.01, max length 128, dropout as in each config, the best epoch on a fixed
# 300-row validation set (the last 300 rows of train.tsv; never trained on) kept; 8 epochs for
# 100 rows, 3 for 1,000, 1 for all (9,209 rows). The 100-row size runs SEEDS_SMALL seeds.
#
# Budget knobs (environment): PRETRAIN_EPOCHS (1), LAYERS (4), HIDDEN (256), HEADS (4),
# SEQ (128), VOCAB (8000), PRETRAIN_MAX_SEQUENCES (all; the first N training pairs only),
# PRETRAIN_MAX_STEPS (none; ends pre-training after N steps, the learning-rate schedule sized to
# them), PRETRAIN_BATCH (32), PRETRAIN_LR (1e-3), SIZES ("100 1000 all"),
# SEEDS_SMALL (3), SEEDS (1; seeds of the other sizes), FT_LR (1e-4), DAPT_EPOCHS (1), DAPT_LR (1e-4), BACKEND (tch), OUT
# (bench-out/transfer). BURNISH_BIN runs an already built binary (with the BACKEND feature).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
assets="${BURNISH_ASSETS:-$root/assets}"
out="${OUT:-$root/bench-out/transfer}"
backend="${BACKEND:-tch}"
python="${BURNISH_PYTHON:-python3}"
corpus="$assets/bbc-news/corpus.txt"
vader="$assets/vader-movies"
minilm="$assets/all-MiniLM-L6-v2"
for f in "$corpus" "$vader/train.tsv" "$vader/test.tsv" "$minilm/model.safetensors"; do
  [ -f "$f" ] || { echo "missing $f: run scripts/fetch-assets.sh first" >&2; exit 1; }
done
if [ -n "${BURNISH_BIN:-}" ]; then
  burnish="$BURNISH_BIN"
else
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/burnish-target}"
  cargo build --quiet -p burnish-cli --no-default-features --features "${backend%-cuda}"
  burnish="$CARGO_TARGET_DIR/debug/burnish"
fi
mkdir -p "$out"
log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

# data: the fixed validation rows, the training pool (first N pool rows = a random sample: the
# file is in a seeded random order) and the DAPT corpus (pool sentences, ten to a document).
stage_data() {
  local d="$out/data"
  mkdir -p "$d"
  local rows
  rows=$(($(wc -l < "$vader/train.tsv") - 1))
  head -n 1 "$vader/train.tsv" > "$d/pool.tsv.tmp"
  sed -n "2,$((rows - 300 + 1))p" "$vader/train.tsv" >> "$d/pool.tsv.tmp"
  head -n 1 "$vader/train.tsv" > "$d/valid.tsv.tmp"
  tail -n 300 "$vader/train.tsv" >> "$d/valid.tsv.tmp"
  awk -F'\t' 'NR > 1 { print $1; if ((NR - 1) % 10 == 0) print "" }' "$d/pool.tsv.tmp" > "$d/reviews.txt.tmp"
  for f in pool.tsv valid.tsv reviews.txt; do mv "$d/$f.tmp" "$d/$f"; done
  log "data: pool $(($(wc -l < "$d/pool.tsv") - 1)) rows, valid $(($(wc -l < "$d/valid.tsv") - 1)) rows, test $(($(wc -l < "$vader/test.tsv") - 1)) rows"
}

stage_tokenizer() {
  if [ -f "$out/tokenizer/tokenizer.json" ]; then log "tokenizer: done"; return; fi
  log "tokenizer: WordPiece, ${VOCAB:-8000} tokens, on $corpus"
  "$burnish" tokenizer train --corpus "$corpus" --vocab-size "${VOCAB:-8000}" \
    --out "$out/tokenizer.partial" --quiet
  rm -rf "$out/tokenizer"
  mv "$out/tokenizer.partial" "$out/tokenizer"
}

stage_pretrain() {
  if [ -f "$out/pretrain/metrics.json" ]; then log "pretrain: done"; return; fi
  log "pretrain: mlm+nsp, ${PRETRAIN_EPOCHS:-1} epoch(s)"
  local cap=()
  [ -z "${PRETRAIN_MAX_SEQUENCES:-}" ] || cap=(--max-sequences "$PRETRAIN_MAX_SEQUENCES")
  [ -z "${PRETRAIN_MAX_STEPS:-}" ] || cap+=(--max-steps "$PRETRAIN_MAX_STEPS")
  "$burnish" pretrain --objective mlm+nsp --corpus "$corpus" --tokenizer "$out/tokenizer" \
    --layers "${LAYERS:-4}" --hidden "${HIDDEN:-256}" --heads "${HEADS:-4}" \
    --max-length "${SEQ:-128}" --epochs "${PRETRAIN_EPOCHS:-1}" \
    --batch-size "${PRETRAIN_BATCH:-32}" --lr "${PRETRAIN_LR:-1e-3}" --warmup-ratio 0.06 \
    --weight-decay 0.01 --held-out 0.05 --eval-every 100 --checkpoint-every 100 --seed 42 \
    ${cap[@]+"${cap[@]}"} --backend "$backend" --out "$out/pretrain" --quiet
}

# finetune ARM MODEL INIT SIZE: one learning-curve point (test accuracy in ARM-SIZE/test.json).
finetune() {
  local arm="$1" model="$2" init="$3" size="$4"
  local dir="$out/ft/$arm-$size" epochs seeds="${SEEDS:-1}" limit=()
  case "$size" in
    100) epochs=8; seeds="${SEEDS_SMALL:-3}" ;;
    1000) epochs=3 ;;
    all) epochs=1 ;;
    *) epochs=3 ;;
  esac
  [ "$size" = all ] || limit=(--max-train-rows "$size")
  local init_flag=()
  [ "$init" = pretrained ] || init_flag=(--init "$init")
  if [ ! -f "$dir/metrics.json" ]; then
    log "finetune: $arm, $size rows, $epochs epochs, $seeds seed(s)"
    mkdir -p "$out/ft"
    "$burnish" finetune --task classification --model "$model" ${init_flag[@]+"${init_flag[@]}"} \
      --train "$out/data/pool.tsv" --valid "$out/data/valid.tsv" --text-column sentence \
      --label-column label ${limit[@]+"${limit[@]}"} --epochs "$epochs" --batch-size 16 \
      --lr "${FT_LR:-1e-4}" --warmup-ratio 0.1 --schedule linear --weight-decay 0.01 \
      --max-length 128 --seed 42 --seeds "$seeds" --backend "$backend" --out "$dir" --quiet
  fi
  if [ ! -f "$dir/test.json" ]; then
    local runs=("$dir")
    [ -d "$dir/seeds" ] && runs=("$dir"/seeds/seed-*)
    local r
    for r in "${runs[@]}"; do
      "$burnish" evaluate --model "$r" --data "$vader/test.tsv" --backend "$backend" \
        > "$r/test-eval.json"
    done
    "$python" - "$dir" "${runs[@]}" <<'PY'
import json, pathlib, statistics, sys
dir, runs = pathlib.Path(sys.argv[1]), [pathlib.Path(r) for r in sys.argv[2:]]
accs = [json.loads((r / "test-eval.json").read_text())["metrics"]["accuracy"] for r in runs]
train = json.loads((dir / "metrics.json").read_text())
out = {"test_accuracy": accs, "mean": statistics.mean(accs),
       "std": statistics.stdev(accs) if len(accs) > 1 else 0.0,
       "runs": [str(r) for r in runs], "train_examples": train.get("train_examples"),
       "train_seconds": train.get("train_seconds"), "wall_seconds": train.get("wall_seconds")}
(dir / "test.json").write_text(json.dumps(out, indent=1) + "\n")
print(f"{dir.name}: test accuracy {out['mean']:.4f} +- {out['std']:.4f} over {len(accs)} run(s)")
PY
  fi
}

sizes() { echo "${SIZES:-100 1000 all}"; }
stage_finetune_random() { for s in $(sizes); do finetune random "$out/pretrain" random "$s"; done; }
stage_finetune_pretrained() { for s in $(sizes); do finetune pretrained "$out/pretrain" pretrained "$s"; done; }
stage_finetune_minilm() { for s in $(sizes); do finetune minilm "$minilm" pretrained "$s"; done; }
stage_finetune_dapt() { for s in $(sizes); do finetune dapt "$out/dapt" pretrained "$s"; done; }
stage_finetune() {
  stage_finetune_minilm
  stage_finetune_random
  stage_finetune_pretrained
  stage_finetune_dapt
}

# dapt: MiniLM's held-out MLM metrics on the review sentences before (its MLM head is new:
# transformers' MiniLM checkpoint has none) and after DAPT_EPOCHS epochs of MLM on them.
stage_dapt() {
  local common=(--objective mlm --corpus "$out/data/reviews.txt" --max-length 128
    --held-out 0.05 --seed 42 --batch-size 32 --backend "$backend" --quiet)
  if [ ! -f "$out/dapt/metrics.json" ]; then
    log "dapt: MiniLM + MLM on the review sentences, ${DAPT_EPOCHS:-1} epoch(s)"
    "$burnish" pretrain "${common[@]}" --model "$minilm" --epochs "${DAPT_EPOCHS:-1}" \
      --lr "${DAPT_LR:-1e-4}" --warmup-ratio 0.06 --eval-every 20 --checkpoint-every 20 \
      --out "$out/dapt"
  fi
  if [ ! -f "$out/dapt-before/metrics.json" ]; then
    log "dapt: MiniLM before"
    "$burnish" pretrain "${common[@]}" --model "$minilm" --eval-only --out "$out/dapt-before" \
      --overwrite
  fi
}

stage_report() {
  "$python" "$root/scripts/transfer_report.py" "$out"
  # The PNG is drawn by burnish's own plotting code (examples/plot_curves.rs).
  local plot="${PLOT_BIN:-}"
  if [ -z "$plot" ]; then
    export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/burnish-target}"
    cargo build --quiet --example plot_curves
    plot="$CARGO_TARGET_DIR/debug/examples/plot_curves"
  fi
  "$plot" "$out/learning_curve.json" "$out/learning_curve.png"
  [ ! -f "$out/pretraining.json" ] || "$plot" "$out/pretraining.json" "$out/pretraining.png"
}

stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=(data tokenizer pretrain dapt finetune report)
for stage in "${stages[@]}"; do
  case "$stage" in
    data | tokenizer | pretrain | finetune | dapt | report | finetune-random | finetune-pretrained | finetune-minilm | finetune-dapt)
      started=$(date +%s)
      "stage_${stage//-/_}"
      echo "$stage $(($(date +%s) - started))" >> "$out/stage_seconds.txt"
      ;;
    *) echo "unknown stage $stage (data tokenizer pretrain finetune dapt report finetune-ARM)" >&2; exit 2 ;;
  esac
done
