#!/usr/bin/env bash
# Vocabulary extension on BBC News (issue 25): MiniLM (all-MiniLM-L6-v2) against MiniLM with ADD
# BBC words added to its vocabulary (`burnish tokenizer extend`), each continued-pre-trained with
# the same budget (`burnish pretrain --objective mlm --whole-word`, STEPS steps of 32 x 128
# tokens, lr 1e-4, the same 5% of documents held out), then fine-tuned downstream (vader-movies
# sentiment, the first 2,000 training rows, 1 epoch, scored on the 1,057 test rows).
#
#   scripts/bench_vocab.sh [STEPS (300)] [ADD (1000)]
#
# BURNISH_BIN: a built burnish (else the debug build is made). Prints a markdown table: tokens
# per word on the corpus, held-out MLM loss per masked token and per word (per token times
# the tokens per word: the two vocabularies predict different targets, words are common to
# both), and the downstream accuracy; keeps everything in bench-out/vocab-STEPS-ADD/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source "$root/scripts/bench_data.sh"
steps="${1:-300}"
add="${2:-1000}"
assets="${BURNISH_ASSETS:-$root/assets}"
model="$assets/all-MiniLM-L6-v2"
corpus="$assets/bbc-news/corpus.txt"
python="${BURNISH_PYTHON:-$HOME/.cache/burnish-venv/bin/python}"
bench_burnish
out="$root/bench-out/vocab-$steps-$add"
mkdir -p "$out"
"$burnish" tokenizer extend --model "$model" --corpus "$corpus" --add "$add" --min-count 5 \
  --out "$out/extended" > "$out/extend.json"
for name in base extended; do
  from="$model"
  [ "$name" = extended ] && from="$out/extended"
  echo "== continued pre-training: $name" >&2
  "$burnish" pretrain --model "$from" --objective mlm --whole-word --corpus "$corpus" \
    --max-steps "$steps" --batch-size 32 --max-length 128 --lr 1e-4 --seed 42 \
    --out "$out/pretrain-$name" --overwrite --quiet
  echo "== downstream: $name" >&2
  "$burnish" finetune --model "$out/pretrain-$name" --train "$assets/vader-movies/train.tsv" \
    --valid "$assets/vader-movies/test.tsv" --text-column sentence --max-train-rows 2000 \
    --epochs 1 --seed 42 --out "$out/finetune-$name" --overwrite --quiet
done
"$python" - "$out" "$steps" "$add" <<'PY'
import json, pathlib, sys
out, steps, add = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
ext = json.loads((out / "extend.json").read_text())
tpw = dict(zip(["base", "extended"], ext["tokens_per_word"]))
print(f"BBC News, MiniLM, {ext['added']} words added; continued MLM pre-training {steps} steps "
      "(32 x 128 tokens, whole-word masking), held-out 5% of the articles; downstream: "
      "vader-movies, 2,000 rows, 1 epoch\n")
print("| | vocabulary | tokens per word | held-out MLM loss per token | per word | downstream accuracy |")
print("| --- | --- | --- | --- | --- | --- |")
for name in ["base", "extended"]:
    p = json.loads((out / f"pretrain-{name}" / "metrics.json").read_text())
    f = json.loads((out / f"finetune-{name}" / "metrics.json").read_text())
    loss = p["final_validation"]["loss"]
    vocab = ext["vocab_size"][0 if name == "base" else 1]
    print(f"| {name} | {vocab} | {tpw[name]:.4f} | {loss:.4f} | {loss * tpw[name]:.4f} | "
          f"{f['final_validation']['accuracy']:.4f} |")
PY
