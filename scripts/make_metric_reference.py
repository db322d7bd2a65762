#!/usr/bin/env python3
"""Reference scores for burnish's entity-level NER metrics and SQuAD EM/F1, from the real tools.

What it writes (relative to the repository root):

  tests/fixtures/metrics/entities.json  seqeval 1.2.2 in its default (conlleval-compatible, not
                                        mode="strict") mode: for every case the true and predicted
                                        tag sequences, get_entities of both (nested lists, so with
                                        seqeval's 'O' between sentences), precision/recall/f1_score
                                        (micro), accuracy_score, and classification_report(
                                        output_dict=True) (per type, micro/macro/weighted avg).
  tests/fixtures/metrics/squad.json     SQuAD v1.1 scores of the official evaluation script
                                        (evaluate-v1.1.py, as shipped in allennlp 0.9.0's
                                        allennlp/tools/squad_eval.py) and SQuAD v2.0 scores of the
                                        official v2.0 functions as kept in transformers 4.57.1
                                        (transformers.data.metrics.squad_metrics: normalize_answer,
                                        compute_exact, compute_f1, get_raw_scores, make_eval_dict),
                                        per question and overall, plus normalize_answer of every
                                        prediction and Python's `\\w` character set.

Inputs are real where possible:
  * NER: gold IOB2 tag sequences of the WNUT-2016 training tweets (10 entity types; `--wnut`,
    default assets/wnut16/train.txt, made by scripts/fetch-assets.sh), also converted to IOB1
    and BIOES; "predictions" are seeded corruptions of them (types swapped, entities dropped,
    extended, shrunk, split, spurious, B- turned into I-, stray E-/S- tags, whole sentences all-O,
    other schemes), plus empty sentences and hand-written edge cases (tags without a prefix or
    type, '.', unknown prefixes, types spanning a sentence break, ...). Only tags are written.
  * SQuAD: real questions and gold answers of the official SQuAD v1.1 dev set (`--squad-dev`,
    default $BURNISH_BENCH_DATA/squad1.1/dev-v1.1.json: dev-v1.1.json from
    https://rajpurkar.github.io/SQuAD-explorer/, CC BY-SA 4.0, sha256 95aa6a52...; not part of
    the repository, see scripts/bench_data.sh); predictions are seeded perturbations of gold
    answers (articles, punctuation, case, extra or missing words, Unicode case/marks/whitespace,
    empty strings, missing ids, wrong answers); the v2.0 sets mark some questions unanswerable
    (gold []).

Where the official scripts themselves fail, the fixture says what it holds instead: a v2.0
prediction set with missing ids (the official script excludes them from "total" and raises
KeyError in its HasAns/NoAns breakdown) records the breakdowns over the answered questions.
NaN (seqeval's macro average when there is no entity type at all) is written as null.

Run from the repository root (CPU, a few seconds; deterministic: same bytes on every run):

  ~/.cache/burnish-venv/bin/python -m pip install -r scripts/requirements-metrics.txt
  ~/.cache/burnish-venv/bin/python scripts/make_metric_reference.py --only entities
  ~/.cache/burnish-venv/bin/python scripts/make_metric_reference.py \\
      --squad-dev DIR/squad1.1/dev-v1.1.json --squad-eval /path/to/squad_eval.py

The official v1.1 script is taken from assets/squad-eval/squad_eval.py (made by
scripts/fetch-assets.sh) or `--squad-eval`; failing both, the allennlp 0.9.0 wheel is downloaded
with `pip download allennlp==0.9.0 --no-deps` into a temporary folder and the one file is imported
from it. Nothing of it is copied into the repository.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.metadata
import importlib.util
import io
import json
import math
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import types
import unicodedata
import warnings
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "tests" / "fixtures" / "metrics"
SEED = 20240611
ALLENNLP = "allennlp==0.9.0"
SQUAD_EVAL_MEMBER = "allennlp/tools/squad_eval.py"


# ------------------------------------------------------------------------------------------------
# Output helpers
# ------------------------------------------------------------------------------------------------


def plain(x):
    """numpy scalars -> Python numbers, NaN -> None, recursively."""
    if isinstance(x, dict):
        return {str(k): plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [plain(v) for v in x]
    if isinstance(x, bool) or x is None or isinstance(x, str):
        return x
    if hasattr(x, "item"):  # numpy scalar
        x = x.item()
    if isinstance(x, float) and math.isnan(x):
        return None
    return x


def dumps(obj, indent=0) -> str:
    """JSON with one line per list of scalars (tag sequences, ranges), indented otherwise."""
    pad = " " * indent
    inner = " " * (indent + 1)
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        flat = all(not isinstance(v, (dict, list)) or
                   (isinstance(v, list) and all(not isinstance(x, (dict, list)) for x in v))
                   for v in obj.values())
        one_line = json.dumps(obj, allow_nan=False)
        if flat and len(one_line) <= 160:
            return one_line
        items = [f"{inner}{json.dumps(k)}: {dumps(v, indent + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list):
        if all(not isinstance(v, (dict, list)) for v in obj):
            return json.dumps(obj, allow_nan=False)
        items = [f"{inner}{dumps(v, indent + 1)}" for v in obj]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(obj, allow_nan=False)


def write(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = dumps(plain(obj)) + "\n"
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT)} ({len(text.encode()):,} bytes)")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def version(dist: str) -> str:
    return importlib.metadata.version(dist)


# ------------------------------------------------------------------------------------------------
# NER
# ------------------------------------------------------------------------------------------------

# The entity types corruptions draw from: the gold data's own (set by ner_fixture).
TYPES: list[str] = []


def read_conll(path: Path) -> list[list[str]]:
    """NER tag sequences (last column) of a CoNLL file, without -DOCSTART- lines."""
    sentences, cur = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if not parts:
            if cur:
                sentences.append(cur)
                cur = []
            continue
        if parts[0] == "-DOCSTART-":
            continue
        cur.append(parts[-1])
    if cur:
        sentences.append(cur)
    return sentences


def spans_of_iob2(tags: list[str]) -> list[tuple[str, int, int]]:
    """(type, start, end exclusive) of well-formed IOB2 tags."""
    spans, i = [], 0
    while i < len(tags):
        if tags[i].startswith("B-"):
            t, j = tags[i][2:], i + 1
            while j < len(tags) and tags[j] == "I-" + t:
                j += 1
            spans.append((t, i, j))
            i = j
        else:
            i += 1
    return spans


def encode(spans, n: int, scheme: str) -> list[str]:
    """Tags of non-overlapping spans in 'iob2', 'iob1' or 'bioes'."""
    tags = ["O"] * n
    prev_end, prev_type = -1, None
    for t, s, e in sorted(spans, key=lambda x: x[1]):
        if scheme == "bioes":
            if e - s == 1:
                tags[s] = "S-" + t
            else:
                tags[s] = "B-" + t
                for k in range(s + 1, e - 1):
                    tags[k] = "I-" + t
                tags[e - 1] = "E-" + t
        else:
            for k in range(s, e):
                tags[k] = "I-" + t
            if scheme == "iob2" or (prev_end == s and prev_type == t):
                tags[s] = "B-" + t
        prev_end, prev_type = e, t
    return tags


def corrupt(tags_iob2: list[str], scheme: str, rng: random.Random, noise: float = 0.03) -> list[str]:
    """A seeded, imperfect "prediction" of the gold IOB2 sentence, encoded in `scheme`."""
    n = len(tags_iob2)
    if n and rng.random() < 0.03:
        return ["O"] * n
    gold = spans_of_iob2(tags_iob2)
    out = []
    for t, s, e in gold:
        r = rng.random()
        if r < 0.55:
            out.append((t, s, e))
        elif r < 0.63:
            out.append((rng.choice([x for x in TYPES if x != t]), s, e))
        elif r < 0.70:
            pass  # missed
        elif r < 0.76:
            if rng.random() < 0.5 and e < n:
                out.append((t, s, e + 1))
            elif s > 0:
                out.append((t, s - 1, e))
            else:
                out.append((t, s, e))
        elif r < 0.82 and e - s > 1:
            if rng.random() < 0.5:
                out.append((t, s + 1, e))
            else:
                out.append((t, s, e - 1))
        elif r < 0.88 and e - s > 1:
            m = rng.randrange(s + 1, e)
            out.append((t, s, m))
            out.append((rng.choice([t, t, rng.choice(TYPES)]), m, e))
        else:
            out.append((t, s, e))
    # spurious entities where nothing was predicted
    if n and rng.random() < 0.25:
        taken = set()
        for _, s, e in out:
            taken.update(range(s, e))
        s = rng.randrange(n)
        e = min(n, s + rng.choice([1, 1, 2, 3]))
        if not taken & set(range(s, e)):
            out.append((rng.choice(TYPES), s, e))
    # drop overlaps (extension into a neighbour): keep the earlier span
    out.sort(key=lambda x: (x[1], x[2]))
    clean, end = [], 0
    for t, s, e in out:
        if s >= end:
            clean.append((t, s, e))
            end = e
    pred = encode(clean, n, scheme)
    # token-level noise: what a tagger emits that no scheme allows
    for i in range(n):
        if rng.random() >= noise:
            continue
        tag = pred[i]
        r = rng.random()
        if tag.startswith("B-") and r < 0.4:
            pred[i] = "I-" + tag[2:]  # I- starting an entity
        elif tag != "O" and r < 0.55:
            pred[i] = "O"  # a hole (drops B-: the following I- starts a new entity)
        elif r < 0.7:
            pred[i] = "E-" + rng.choice(TYPES)  # stray E-
        elif r < 0.85:
            pred[i] = "S-" + rng.choice(TYPES)  # stray S-
        else:
            pred[i] = rng.choice(["B-", "I-"]) + rng.choice(TYPES)
    return pred


def seqeval_case(name: str, description: str, y_true, y_pred) -> dict:
    from seqeval.metrics import (accuracy_score, classification_report, f1_score,
                                 precision_score, recall_score)
    from seqeval.metrics.sequence_labeling import get_entities

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        n_tokens = sum(len(s) for s in y_true)
        expected = {
            "precision": precision_score(y_true, y_pred),
            "recall": recall_score(y_true, y_pred),
            "f1": f1_score(y_true, y_pred),
            "accuracy": accuracy_score(y_true, y_pred) if n_tokens else None,
            "report": classification_report(y_true, y_pred, output_dict=True),
            "entities_true": [list(e) for e in get_entities(y_true)],
            "entities_pred": [list(e) for e in get_entities(y_pred)],
        }
    return {"name": name, "description": description, "y_true": y_true, "y_pred": y_pred,
            "expected": expected}


def flat_case(name: str, description: str, tags: list[str]) -> dict:
    """get_entities of one flat (not nested) sequence."""
    from seqeval.metrics.sequence_labeling import get_entities

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {"name": name, "description": description, "tags": tags,
                "entities": [list(e) for e in get_entities(tags)]}


def ner_fixture(path: Path) -> dict:
    global TYPES
    sentences = read_conll(path)
    TYPES = sorted({t[2:] for s in sentences for t in s if t != "O"})
    rng = random.Random(SEED)
    with_entities = [s for s in sentences if any(t != "O" for t in s)]
    without = [s for s in sentences if all(t == "O" for t in s)]

    def sample(pool, k):
        idx = sorted(rng.sample(range(len(pool)), k))
        return [list(pool[i]) for i in idx]

    cases = []

    # 1. IOB2 gold, corrupted IOB2 predictions, with a few empty and all-O sentences mixed in.
    gold = sample(sentences, 300)
    for pos in sorted(rng.sample(range(len(gold)), 5), reverse=True):
        gold.insert(pos, [])
    pred = [corrupt(s, "iob2", rng) for s in gold]
    cases.append(seqeval_case(
        "wnut_iob2", "300 WNUT-2016 tweets (IOB2) + 5 empty ones; seeded corruptions",
        gold, pred))

    # 2. IOB1 gold and predictions.
    gold2 = sample(with_entities, 150)
    true1 = [encode(spans_of_iob2(s), len(s), "iob1") for s in gold2]
    pred1 = [corrupt(s, "iob1", rng) for s in gold2]
    cases.append(seqeval_case(
        "wnut_iob1", "150 WNUT-2016 tweets converted to IOB1; corruptions in IOB1",
        true1, pred1))

    # 3. BIOES gold and predictions.
    gold3 = sample(with_entities, 150)
    true3 = [encode(spans_of_iob2(s), len(s), "bioes") for s in gold3]
    pred3 = [corrupt(s, "bioes", rng, noise=0.05) for s in gold3]
    cases.append(seqeval_case(
        "wnut_bioes", "150 WNUT-2016 tweets converted to BIOES; corruptions in BIOES",
        true3, pred3))

    # 4. Mixed schemes: IOB2 gold, predictions in IOB1 or BIOES (per sentence).
    gold4 = sample(with_entities, 100)
    pred4 = [corrupt(s, rng.choice(["iob1", "bioes", "iob2"]), rng) for s in gold4]
    cases.append(seqeval_case(
        "mixed_schemes", "100 IOB2 gold sentences; predictions in IOB1, BIOES or IOB2", gold4,
        pred4))

    # 5. Perfect predictions.
    gold5 = sample(with_entities, 40)
    cases.append(seqeval_case("perfect", "40 sentences predicted exactly", gold5,
                              [list(s) for s in gold5]))

    # 6. Nothing predicted.
    gold6 = sample(with_entities, 40)
    cases.append(seqeval_case("all_o_predictions", "40 sentences, every prediction 'O'", gold6,
                              [["O"] * len(s) for s in gold6]))

    # 7. No true entity: recall undefined for every type.
    gold7 = sample(without, 40)
    pred7 = [corrupt(s, "iob2", rng, noise=0.15) for s in gold7]
    cases.append(seqeval_case(
        "no_true_entities", "40 sentences without entities; noisy predictions", gold7, pred7))

    # 8. No entity anywhere: no type at all (macro average NaN in seqeval).
    gold8 = sample(without, 10)
    cases.append(seqeval_case("no_entities_at_all", "10 all-O sentences predicted all-O", gold8,
                              [list(s) for s in gold8]))

    # 9. Hand-written edge cases.
    hand = [
        ("seqeval_doc_1", "seqeval README/docstring example",
         [["O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]],
         [["O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]]),
        ("seqeval_doc_2", "seqeval f1_score docstring example",
         [["O", "O", "B-MISC", "I-MISC", "B-MISC", "O", "O"], ["B-PER", "I-PER", "O"]],
         [["O", "O", "B-MISC", "I-MISC", "B-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]]),
        ("sentence_break", "an entity at a sentence end continued by I- of the next sentence",
         [["O", "B-PER", "I-PER"], ["I-PER", "O"], ["B-LOC"], ["I-LOC", "I-LOC"]],
         [["O", "B-PER", "I-PER"], ["I-PER", "O"], ["I-LOC"], ["B-LOC", "I-LOC"]]),
        ("prefix_only", "tags without a type ('B', 'I', 'E', 'S'): type '_'",
         [["B", "I", "O", "S", "B", "E", "O", "I", "I"]],
         [["B", "I", "I", "S", "S", "E", "O", "B", "I"]]),
        ("empty_types", "'B-' / 'I-' with an empty type (type '_')",
         [["B-", "I-", "O", "B-PER", "I-"]],
         [["B-", "I-", "O", "B-PER", "I-PER"]]),
        ("no_prefix", "types without a prefix ('PER', 'LOC'): first letter is read as the tag",
         [["PER", "PER", "O", "LOC"], ["B-PER", "O"]],
         [["PER", "O", "O", "LOC"], ["PER", "O"]]),
        ("unknown_prefixes", "unknown prefix letters, '.', dashes in types, lower case",
         [["X-PER", "X-PER", "O", ".", "B-PER-X", "I-PER-X", "b-per", "i-per", "O"]],
         [["X-PER", "O", "O", ".", "B-PER-X", "I-PER", "b-per", "I-per", "."]]),
        ("dot_types", "'.' tags with and without a type around entities",
         [[".-PER", ".", "B-PER", ".-PER", "O", ".", "I-LOC"]],
         [["B-PER", ".", "B-PER", "I-PER", "O", "O", "I-LOC"]]),
        ("typeless_across_break", "typeless unknown tags across sentence breaks ('X')",
         [["X"], ["X", "O"], ["X-A"], ["X-A"]],
         [["X"], ["O", "X"], ["X-A"], ["O"]]),
        ("bioes_strays", "E- and S- in odd places: E- after O, S- inside, I- after E-",
         [["B-PER", "E-PER", "I-PER", "E-PER", "S-LOC", "E-LOC", "O", "E-ORG"]],
         [["S-PER", "E-PER", "E-PER", "I-PER", "B-LOC", "S-LOC", "E-LOC", "I-ORG"]]),
        ("type_change_inside", "type changes inside a chunk end it and start another",
         [["B-PER", "I-LOC", "I-LOC", "E-ORG", "B-MISC", "I-MISC"]],
         [["B-PER", "I-PER", "I-LOC", "E-LOC", "B-MISC", "E-MISC"]]),
        ("unicode_types", "non-ASCII types and prefixes; multi-dash types",
         [["B-ÖRG", "I-ÖRG", "O", "Ä-X", "B-a-b-c", "I-a-b-c", "É"]],
         [["B-ÖRG", "I-ORG", "O", "Ä-X", "B-a-b-c", "I-a-b", "É"]]),
        ("empty_sentences", "empty sentences between entities",
         [[], ["B-PER"], [], [], ["I-PER", "B-LOC"], []],
         [[], ["B-PER"], [], [], ["B-PER", "I-LOC"], []]),
        ("single_types_one_side", "a type only in the truth, another only in the predictions",
         [["B-PER", "O", "B-LOC"]],
         [["O", "O", "B-ORG"]]),
    ]
    for name, desc, t, p in hand:
        cases.append(seqeval_case(name, desc, t, p))

    flat = [
        ("docstring", "get_entities docstring", ["B-PER", "I-PER", "O", "B-LOC"]),
        ("empty", "no tags", []),
        ("iob1", "IOB1 run with a type change", ["I-PER", "I-PER", "B-PER", "I-LOC", "O", "I-LOC"]),
        ("bioes", "BIOES", ["S-PER", "B-LOC", "I-LOC", "E-LOC", "S-LOC", "O", "B-MISC", "E-MISC"]),
        ("orphans", "E-/I- after O", ["O", "E-PER", "I-PER", "O", "I-LOC", "E-LOC", "E-LOC"]),
        ("ends_inside", "sequence ends inside a chunk", ["O", "B-PER", "I-PER"]),
        ("starts_typeless", "an unknown typeless tag first", ["X", "X", "O", "B-A"]),
        ("dot", "'.' tags", [".", "B-PER", ".", "I-PER", ".-PER", "O"]),
        ("no_prefix", "types only", ["PER", "PER", "LOC", "O", "ORG"]),
    ]
    flat_cases = [flat_case(n, d, t) for n, d, t in flat]

    return {
        "generator": "scripts/make_metric_reference.py",
        "tools": {"python": platform.python_version(), "seqeval": version("seqeval"),
                  "numpy": version("numpy"), "scikit-learn": version("scikit-learn")},
        "calls": "seqeval.metrics.{precision_score,recall_score,f1_score,accuracy_score,"
                 "classification_report(output_dict=True)}(y_true, y_pred) with default arguments "
                 "(mode=None, zero_division='warn'); get_entities(y_true) on the nested lists",
        "source": {"file": "wnut16/train.txt (scripts/fetch-assets.sh)", "sha256": sha256(path),
                   "seed": SEED},
        "cases": cases,
        "flat_cases": flat_cases,
    }


# ------------------------------------------------------------------------------------------------
# SQuAD
# ------------------------------------------------------------------------------------------------


def load_squad_eval(explicit: str | None):
    """The official v1.1 evaluation module (allennlp 0.9.0's copy) and where it came from."""
    candidates = [Path(explicit)] if explicit else [ROOT / "assets" / "squad-eval" / "squad_eval.py"]
    for path in candidates:
        if path.is_file():
            return import_file(path), {"file": SQUAD_EVAL_MEMBER, "sha256": sha256(path)}
    if explicit:
        sys.exit(f"{explicit}: no such file")
    tmp = Path(tempfile.mkdtemp(prefix="burnish-allennlp-"))
    subprocess.run([sys.executable, "-m", "pip", "download", ALLENNLP, "--no-deps", "-q", "-d",
                    str(tmp)], check=True)
    wheel = next(tmp.glob("allennlp-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        target = tmp / "squad_eval.py"
        target.write_bytes(z.read(SQUAD_EVAL_MEMBER))
    return import_file(target), {"file": SQUAD_EVAL_MEMBER, "sha256": sha256(target)}


def import_file(path: Path):
    spec = importlib.util.spec_from_file_location("official_squad_eval_v1", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ARTICLES = ["the ", "The ", "a ", "A ", "an ", "AN "]
ODD_SPACES = ["\u00a0", "\u2009", "\u3000", "\x1c", "\x1f", "\u0085", "\u2028", "\t", "\n", "  ",
              "\u200b"]  # the last one is not whitespace for Python
UNICODE_BITS = [
    "the\u0301 ",      # combining acute (not \w, not Alphabetic): "the" still an article
    "a\u0651 ",        # Arabic shadda (Other_Alphabetic but not \w in Python)
    "an\u05b0 ",       # Hebrew sheva (same)
    "the\u0903 ",      # Devanagari visarga (Mc, Other_Alphabetic)
    "\u24d0 ",         # circled a (So)
    "\u0130stanbul ",  # capital I with dot: lower() gives two code points
    "\u03a3\u0391\u03a3 ",  # Greek capital sigma: final-sigma rule
    "\u00c9 ",         # É
    "\uff21 ",         # fullwidth A: lower case is fullwidth, not an article
    "\u01c5 ",         # titlecase dz
    "\u212a ",         # Kelvin sign: lower() is ASCII k
    "caf\u00e9 ",
    "na\u0308ive ",
    "\u00bd ",         # vulgar fraction (No): a word character
    "\u2160 ",         # Roman numeral one (Nl)
    "\u201cthe\u201d ",  # curly quotes are not in string.punctuation
    "the\u2014",       # em dash
    "\u00b2the ",      # superscript two (No) glued before "the"
    "_the_ ",          # '_' is punctuation: removed, then "the" is an article
    "a\u00ada ",       # soft hyphen (Cf)
]


def perturb(answer: str, context_words: list[str], other: str, rng: random.Random):
    """(kind, prediction) — None as the prediction means "leave the id out"."""
    words = answer.split()
    kinds = ["exact", "article", "punct", "case", "extend", "drop_word", "dup_word", "spaces",
             "unicode", "empty", "normalizes_empty", "missing", "wrong", "substring", "digits"]
    weights = [18, 9, 9, 7, 8, 6, 3, 8, 10, 3, 2, 3, 6, 5, 3]
    kind = rng.choices(kinds, weights)[0]
    if kind == "exact":
        return kind, answer
    if kind == "article":
        a = rng.choice(ARTICLES)
        return kind, rng.choice([a + answer, answer + " " + a.strip(), a + a + answer])
    if kind == "punct":
        return kind, rng.choice([answer + ".", '"' + answer + '"', "(" + answer + ")",
                                 answer.replace(" ", ", "), answer + "'s", "-" + answer + "!?",
                                 answer.replace(" ", "-")])
    if kind == "case":
        return kind, rng.choice([answer.upper(), answer.lower(), answer.title(), answer.swapcase()])
    if kind == "extend":
        w = rng.choice(context_words) if context_words else "x"
        return kind, rng.choice([w + " " + answer, answer + " " + w, w + " " + answer + " " + w])
    if kind == "drop_word" and len(words) > 1:
        i = rng.randrange(len(words))
        return kind, " ".join(words[:i] + words[i + 1:])
    if kind == "dup_word" and words:
        i = rng.randrange(len(words))
        return kind, " ".join(words[:i + 1] + [words[i]] + words[i + 1:])
    if kind == "spaces":
        sp = rng.choice(ODD_SPACES)
        return kind, rng.choice(["", " ", "\t", sp]) + sp.join(words) + rng.choice(["", sp, " \n"])
    if kind == "unicode":
        u = rng.choice(UNICODE_BITS)
        return kind, rng.choice([u + answer, answer + " " + u.strip(), u.strip()])
    if kind == "empty":
        return kind, rng.choice(["", " ", "\n"])
    if kind == "normalizes_empty":
        return kind, rng.choice(["the.", "A!", "an", "...", " the a an ", "\u00a0"])
    if kind == "missing":
        return kind, None
    if kind == "wrong":
        return kind, other
    if kind == "substring" and len(answer) > 2:
        return kind, answer[: rng.randrange(1, len(answer))]
    if kind == "digits" and any(c.isdigit() for c in answer):
        return kind, "".join(str((int(c) + 1) % 10) if c.isdigit() else c for c in answer)
    return "exact", answer


def squad_questions(path: Path):
    dataset = json.loads(path.read_text(encoding="utf-8"))
    qs = []
    for article in dataset["data"]:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                qs.append({"id": qa["id"], "answers": [a["text"] for a in qa["answers"]],
                           "context": paragraph["context"]})
    return path, dataset["version"], qs


def hand_v1():
    """(id, gold answers, prediction or None)."""
    rows = [
        ("the cat", "The  Cat!"), ("a", ""), ("the", "an"), ("", ""), ("Paris", "paris."),
        ("the Eiffel Tower", "Eiffel tower"), ("one two three", "three two one"),
        ("New York New York", "New York"), ("a a a b", "a b b"), ("Beyoncé", "BEYONCÉ"),
        ("naïve café", "naive cafe"), ("\u0130stanbul", "i\u0307stanbul"),
        ("ΣΑΣ", "σας"), ("ΣΑΣ", "σασ"), ("x\x1cy", "x y"), ("x\u200by", "x y"),
        ("the\u0301 end", "end"), ("a\u0651 b", "b"), ("\u24d0 b", "b"),
        ("theater", "the ater"), ("anthem", "an them"), ("a-team", "team"),
        ("U.S.A.", "usa"), ("1,000", "1000"), ("\u201cquoted\u201d", "quoted"),
        ("tab\tseparated", "tab separated"), ("\u212a", "k"), ("\uff21 b", "b"),
        ("Ⅻ", "ⅻ"), ("\u00bdthe", "\u00bd"),
    ]
    out = [(f"hand-{i:02d}", [g], p) for i, (g, p) in enumerate(rows)]
    out.append(("hand-multi", ["the Normans", "Normans", "Norman people of France"],
                "Norman people"))
    out.append(("hand-missing", ["anything"], None))
    out.append(("hand-dup", ["same id twice"], "same id"))
    out.append(("hand-dup", ["same id twice"], "same id"))
    return out


def squad_fixture(data: Path, squad_eval_path: str | None) -> dict:
    if not data.is_file():
        sys.exit(f"error: {data} not found: the SQuAD reference reads the official SQuAD v1.1 dev "
                 "set (dev-v1.1.json, Rajpurkar et al. 2016, CC BY-SA 4.0, from "
                 "https://rajpurkar.github.io/SQuAD-explorer/), which is not part of the "
                 "repository; pass --squad-dev PATH or set BURNISH_BENCH_DATA (scripts/bench_data.sh). "
                 "`--only entities` needs only the assets.")
    official, official_src = load_squad_eval(squad_eval_path)
    from transformers.data.metrics import squad_metrics as sm

    path, dataset_version, questions = squad_questions(data)
    rng = random.Random(SEED + 1)
    picks = sorted(rng.sample(range(len(questions)), 700))
    rng.shuffle(picks)
    v1_qs, v2_qs, v2m_qs = picks[:400], picks[400:650], picks[650:]

    def context_words(q):
        return q["context"].split()

    normalize_inputs: list[str] = []

    # ---- v1.1 ----
    v1_questions, v1_preds, v1_kinds = [], {}, {}
    for i in v1_qs:
        q = questions[i]
        other = questions[rng.randrange(len(questions))]["answers"][0]
        kind, pred = perturb(rng.choice(q["answers"]), context_words(q), other, rng)
        v1_questions.append({"id": q["id"], "answers": q["answers"]})
        v1_kinds[q["id"]] = kind
        if pred is not None:
            v1_preds[q["id"]] = pred
    for qid, golds, pred in hand_v1():
        v1_questions.append({"id": qid, "answers": golds})
        v1_kinds[qid] = "hand"
        if pred is not None:
            v1_preds[qid] = pred
    v1_preds["not-in-dataset"] = "ignored"
    dataset = [{"paragraphs": [{"qas": [{"id": q["id"], "answers": [{"text": a} for a in q["answers"]]}
                                        for q in v1_questions]}]}]
    with contextlib.redirect_stderr(io.StringIO()):
        v1_expected = official.evaluate(dataset, v1_preds)
    per_q = {}
    for q in v1_questions:
        if q["id"] in v1_preds:
            p = v1_preds[q["id"]]
            per_q[q["id"]] = [
                float(official.metric_max_over_ground_truths(official.exact_match_score, p,
                                                             q["answers"])),
                float(official.metric_max_over_ground_truths(official.f1_score, p, q["answers"])),
            ]
    normalize_inputs += list(v1_preds.values())
    normalize_inputs += [a for q in v1_questions[-40:] for a in q["answers"]]
    normalize_inputs += [u for u in UNICODE_BITS] + ["".join(ODD_SPACES) + "x" + "".join(ODD_SPACES)]

    # ---- v2.0 ----
    def v2_set(indices, drop_missing: bool):
        qs, preds = [], {}
        for i in indices:
            q = questions[i]
            other = questions[rng.randrange(len(questions))]["answers"][0]
            unanswerable = rng.random() < 0.3
            if unanswerable:
                gold = []
                r = rng.random()
                if r < 0.5:
                    pred = rng.choice(["", "", " "])
                elif r < 0.65:
                    pred = rng.choice(["the", ".", "A!", " an "])  # normalizes to ""
                elif r < 0.85:
                    pred = rng.choice(q["answers"])
                else:
                    pred = other
            else:
                gold = list(q["answers"])
                if rng.random() < 0.1:
                    pred = ""
                else:
                    _, pred = perturb(rng.choice(gold), context_words(q), other, rng)
                    if pred is None and not drop_missing:
                        pred = ""
            qs.append({"id": q["id"], "answers": gold})
            if pred is not None and not (drop_missing and rng.random() < 0.1):
                preds[q["id"]] = pred
        return qs, preds

    v2_questions, v2_preds = v2_set(v2_qs, drop_missing=False)
    # gold answers that all normalize to "" (answerable in the data, but scored against [""])
    v2_questions += [
        {"id": "hand-v2-empty-gold-1", "answers": ["The", "a."]},
        {"id": "hand-v2-empty-gold-2", "answers": ["!!"]},
        {"id": "hand-v2-mixed-gold", "answers": ["the", "Rhine"]},
        {"id": "hand-v2-unans-1", "answers": []},
        {"id": "hand-v2-unans-2", "answers": []},
        {"id": "hand-v2-dup", "answers": ["first"]},
        {"id": "hand-v2-dup", "answers": []},
    ]
    v2_preds.update({"hand-v2-empty-gold-1": "", "hand-v2-empty-gold-2": "something",
                     "hand-v2-mixed-gold": "", "hand-v2-unans-1": "the",
                     "hand-v2-unans-2": "\u00a0x", "hand-v2-dup": "first",
                     "v2-not-in-dataset": "ignored"})

    def v2_expected(qs, preds):
        examples = [types.SimpleNamespace(qas_id=q["id"], answers=[{"text": a} for a in q["answers"]])
                    for q in qs]
        with contextlib.redirect_stdout(io.StringIO()):
            exact, f1 = sm.get_raw_scores(examples, preds)
        has_ans = {q["id"]: bool(q["answers"]) for q in qs}
        answered_has = [k for k, v in has_ans.items() if v and k in exact]
        answered_no = [k for k, v in has_ans.items() if not v and k in exact]
        out = dict(sm.make_eval_dict(exact, f1))
        if answered_has:
            sm.merge_eval(out, sm.make_eval_dict(exact, f1, qid_list=answered_has), "HasAns")
        if answered_no:
            sm.merge_eval(out, sm.make_eval_dict(exact, f1, qid_list=answered_no), "NoAns")
        per = {k: [float(exact[k]), float(f1[k])] for k in exact}
        return out, per, has_ans

    v2_out, v2_per, v2_has = v2_expected(v2_questions, v2_preds)
    # with every id answered this is exactly transformers' squad_evaluate (its best-threshold keys
    # aside, which burnish does not compute): check it.
    examples = [types.SimpleNamespace(qas_id=q["id"], answers=[{"text": a} for a in q["answers"]])
                for q in v2_questions]
    assert all(q["id"] in v2_preds for q in v2_questions)
    full = sm.squad_evaluate(examples, v2_preds)
    for k, v in v2_out.items():
        assert full[k] == v, (k, full[k], v)

    v2m_questions, v2m_preds = v2_set(v2m_qs, drop_missing=True)
    v2m_out, v2m_per, _ = v2_expected(v2m_questions, v2m_preds)
    missing = [q["id"] for q in v2m_questions if q["id"] not in v2m_preds]
    assert missing, "the missing-id set should miss some ids"

    normalize_inputs += list(v2_preds.values())
    seen, norm = set(), []
    for s in normalize_inputs:
        if s not in seen:
            seen.add(s)
            norm.append([s, official.normalize_answer(s)])
            assert official.normalize_answer(s) == sm.normalize_answer(s)

    return {
        "generator": "scripts/make_metric_reference.py",
        "tools": {"python": platform.python_version(), "unicode": unicodedata.unidata_version,
                  "squad_v1_official": {"package": ALLENNLP, **official_src},
                  "squad_v2": {"package": f"transformers=={version('transformers')}",
                               "module": "transformers.data.metrics.squad_metrics"}},
        "source": {"file": "squad1.1/dev-v1.1.json", "version": dataset_version,
                   "sha256": sha256(path), "seed": SEED + 1},
        "v1": {
            "description": "400 real dev-v1.1 questions with perturbed predictions + hand-written "
                           "cases; evaluate(dataset, predictions) of the official v1.1 script "
                           "(unanswered ids score 0; the prediction for an id not in the data is "
                           "ignored); per_question: [EM, F1] = metric_max_over_ground_truths",
            "questions": v1_questions, "predictions": v1_preds, "kinds": v1_kinds,
            "expected": v1_expected, "per_question": per_q,
        },
        "v2": {
            "description": "250 real questions, ~30% made unanswerable (gold []), + hand-written; "
                           "every id answered; get_raw_scores / make_eval_dict / merge_eval as in "
                           "squad_evaluate (checked equal to it); per_question: [exact, f1] raw",
            "questions": v2_questions, "predictions": v2_preds, "expected": v2_out,
            "per_question": v2_per,
        },
        "v2_missing": {
            "description": "50 real questions, some ids without a prediction: overall numbers as "
                           "the official script (missing ids excluded from total); HasAns/NoAns "
                           "over the answered ids (the official script raises KeyError there)",
            "questions": v2m_questions, "predictions": v2m_preds, "expected": v2m_out,
            "per_question": v2m_per, "missing": missing,
        },
        "normalize_answer": norm,
        "word_chars": word_char_table(),
    }


def ranges(pred) -> list[list[int]]:
    out = []
    for cp in range(0x110000):
        if pred(cp):
            if out and out[-1][1] == cp - 1:
                out[-1][1] = cp
            else:
                out.append([cp, cp])
    return out


def word_char_table() -> dict:
    """Python's `\\w` (str patterns) and the code points unassigned in Python's Unicode version."""
    w = re.compile(r"\w")

    def surrogate(cp):
        return 0xD800 <= cp < 0xE000

    return {
        "description": "ranges [first, last] of the code points re's \\w matches, and of those "
                       "unassigned (category Cn) in this Python's Unicode database",
        "word": ranges(lambda cp: not surrogate(cp) and w.match(chr(cp)) is not None),
        "unassigned": ranges(lambda cp: not surrogate(cp) and unicodedata.category(chr(cp)) == "Cn"),
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--wnut", default=str(ROOT / "assets" / "wnut16" / "train.txt"),
                   help="WNUT-2016 training tweets (token<TAB>tag), from scripts/fetch-assets.sh")
    bench = os.environ.get("BURNISH_BENCH_DATA")
    p.add_argument("--squad-dev",
                   default=str(Path(bench) / "squad1.1" / "dev-v1.1.json") if bench else "",
                   help="the official SQuAD v1.1 dev-v1.1.json (default: "
                        "$BURNISH_BENCH_DATA/squad1.1/dev-v1.1.json)")
    p.add_argument("--squad-eval", default=None,
                   help="the official SQuAD v1.1 script (default: assets/squad-eval/squad_eval.py, "
                        "else downloaded from the allennlp 0.9.0 wheel)")
    p.add_argument("--only", choices=["entities", "squad"], action="append")
    args = p.parse_args()
    only = set(args.only or ["entities", "squad"])
    if "entities" in only:
        wnut = Path(args.wnut)
        if not wnut.is_file():
            sys.exit(f"error: {wnut} not found: run scripts/fetch-assets.sh")
        write(OUT_DIR / "entities.json", ner_fixture(wnut))
    if "squad" in only:
        write(OUT_DIR / "squad.json", squad_fixture(Path(args.squad_dev), args.squad_eval))
    return 0


if __name__ == "__main__":
    sys.exit(main())
