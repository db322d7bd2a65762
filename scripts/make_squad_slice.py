#!/usr/bin/env python3
"""Cut the committed SQuAD v1.1 test slice out of the official dev set.

  python3 scripts/make_squad_slice.py PATH/TO/dev-v1.1.json

writes tests/fixtures/squad/dev-v1.1-slice.json: the paragraphs listed in SLICE below, copied
unchanged (context, questions, ids, answers and their character offsets) in the dev file's
order, under their articles' titles, with "version": "1.1". The input must be the official
file (sha256 checked); the output is deterministic (same bytes on every run).

Why these paragraphs: the first of Super_Bowl_50 (the dev file's first questions, non-ASCII text
before answers), European_Union_law 30-40 and Packet_switching 0-7 (contexts longer than one
384-token window of all-MiniLM-L6-v2's tokenizer, 16 questions whose answer lies past the first
window), and the last of Force (the dev file's last question). The licence and the counts are
in tests/fixtures/squad/README.md.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "squad" / "dev-v1.1-slice.json"
DEV_SHA256 = "95aa6a52d5d6a735563366753ca50492a658031da74f301ac5238b03966972c9"
# (article index in dev-v1.1.json, its title, paragraph indices [start, end))
SLICE = [
    (0, "Super_Bowl_50", (0, 10)),
    (15, "European_Union_law", (30, 41)),
    (19, "Packet_switching", (0, 8)),
    (47, "Force", (36, 44)),
]


def main() -> int:
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip().split("\n\n")[1])
    path = Path(sys.argv[1])
    raw = path.read_bytes()
    actual = hashlib.sha256(raw).hexdigest()
    if actual != DEV_SHA256:
        sys.exit(f"error: {path} has sha256 {actual}, not the official dev-v1.1.json's {DEV_SHA256}")
    data = json.loads(raw)["data"]
    articles = []
    for index, title, (start, end) in SLICE:
        article = data[index]
        assert article["title"] == title, (index, article["title"])
        assert end <= len(article["paragraphs"]), (title, len(article["paragraphs"]))
        articles.append({"title": title, "paragraphs": article["paragraphs"][start:end]})
    # One article a line, so a diff shows which article changed.
    lines = [json.dumps(a, ensure_ascii=False, separators=(",", ":")) for a in articles]
    text = '{"version":"1.1","data":[\n' + ",\n".join(lines) + "\n]}\n"
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text, encoding="utf-8", newline="\n")
    questions = sum(len(p["qas"]) for a in articles for p in a["paragraphs"])
    print(f"{len(articles)} articles, {sum(len(a['paragraphs']) for a in articles)} paragraphs, "
          f"{questions} questions, {len(text.encode())} bytes: wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
