#!/usr/bin/env bash
# The README's main job: encode a few sentences (and a pair) with the real all-MiniLM-L6-v2,
# then print, for each, the tokens' count, the sentence embedding's first values, and the
# cosine similarity between the sentences' embeddings.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
assets="${BURNISH_ASSETS:-$root/assets}"
model="$assets/all-MiniLM-L6-v2"
[ -f "$model/model.safetensors" ] || { echo "run scripts/fetch-assets.sh first" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat > "$work/input.txt" <<'TXT'
A man is playing a guitar on stage.
Someone performs music with a guitar.
The stock market fell sharply this morning.
Is this a question?	Yes, it is an answer.
TXT
cargo run --quiet --release -p burnish-cli -- encode --model "$model" \
  --input "$work/input.txt" --output "$work/out.jsonl" "$@"
python3 - "$work/input.txt" "$work/out.jsonl" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
rows = [json.loads(l) for l in open(sys.argv[2])]
for text, row in zip(lines, rows):
    e = row["sentence_embedding"]
    print(f"{len(row['input_ids']):3d} tokens  emb[:4]={[round(x, 4) for x in e[:4]]}  {text!r}")
def cos(a, b): return sum(x * y for x, y in zip(a, b))
print("\ncosine similarity of the sentence embeddings:")
for i in range(3):
    for j in range(i + 1, 3):
        print(f"  {cos(rows[i]['sentence_embedding'], rows[j]['sentence_embedding']):.3f}  line {i+1} vs line {j+1}")
PY
