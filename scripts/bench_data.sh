# Where the benchmark data sets are (and `bench_burnish`, the binary they run): sourced by
# scripts/bench_sst2.sh, bench_conll.sh, bench_squad.sh, bench_pretrain.sh, bench_onnx.sh,
# bench_lora.sh and bench_vocab.sh (not run on its own).
#
# The benchmarks compare with published numbers on three public data sets that are NOT part of
# the repository (their licences do not all allow it) and that no test reads. Get them yourself,
# put them in one folder laid out as below, and give that folder to a benchmark script as its
# first argument, `--data DIR`, or as `BURNISH_BENCH_DATA=DIR`:
#
#   DIR/sst2/train.tsv, DIR/sst2/dev.tsv
#       GLUE SST-2: the Stanford Sentiment Treebank's binary split (Socher et al., EMNLP 2013) as
#       distributed by GLUE (Wang et al., 2018; https://gluebenchmark.com/tasks, SST-2.zip).
#       Licence: none stated by the authors; GLUE redistributes it for research use (cite both).
#       Format: header `sentence<TAB>label`, labels 0/1 (67,349 train and 872 dev rows).
#   DIR/conll2003/train.txt, valid.txt, test.txt
#       CoNLL-2003 English NER (Tjong Kim Sang & De Meulder, CoNLL 2003): eng.train, eng.testa,
#       eng.testb under those names. The text is Reuters RCV1 news: research use only, under the
#       Reuters corpus licence (https://trec.nist.gov/data/reuters/reuters.html). Format: one
#       token a line `TOKEN POS CHUNK NER`, `-DOCSTART-` lines, IOB1 or IOB2 NER tags
#       (14,041 / 3,250 / 3,453 sentences).
#   DIR/squad1.1/dev-v1.1.json
#       SQuAD v1.1 dev set (Rajpurkar et al., EMNLP 2016; https://rajpurkar.github.io/SQuAD-explorer/),
#       CC BY-SA 4.0; sha256 95aa6a52d5d6a735563366753ca50492a658031da74f301ac5238b03966972c9
#       (48 articles, 10,570 questions). The benchmark trains on articles 0-37, scores 38-47.
#
# Only the files a benchmark needs must be there; a missing one stops it with this explanation.

# bench_data_parse ARGS...: sets `bench_data` from a leading `--data DIR` (or `--data=DIR`), else
# from BURNISH_BENCH_DATA (may stay empty), and `bench_args` to the remaining arguments.
bench_data_parse() {
  bench_data="${BURNISH_BENCH_DATA:-}"
  case "${1:-}" in
    --data)
      [ $# -ge 2 ] || { echo "error: --data needs a folder" >&2; exit 2; }
      bench_data="$2"
      shift 2
      ;;
    --data=*)
      bench_data="${1#--data=}"
      shift
      ;;
  esac
  bench_args=("$@")
}

# bench_data_source SET: where SET (sst2, conll2003, squad1.1) comes from and its licence.
bench_data_source() {
  case "$1" in
    sst2)
      echo "GLUE SST-2 (Socher et al. 2013, as distributed by GLUE: https://gluebenchmark.com/tasks," \
        "SST-2.zip's train.tsv and dev.tsv); no licence stated by the authors, redistributed by" \
        "GLUE for research use" ;;
    conll2003)
      echo "CoNLL-2003 English NER (Tjong Kim Sang & De Meulder 2003; eng.train, eng.testa," \
        "eng.testb saved as train.txt, valid.txt, test.txt); Reuters RCV1 text, research use only" \
        "under the Reuters corpus licence (https://trec.nist.gov/data/reuters/reuters.html)" ;;
    squad1.1)
      echo "SQuAD v1.1 dev set (Rajpurkar et al. 2016, https://rajpurkar.github.io/SQuAD-explorer/," \
        "dev-v1.1.json); CC BY-SA 4.0" ;;
  esac
}

# bench_data_require SET FILE...: prints "$bench_data/SET" if every FILE is in it; otherwise
# explains what is missing, where the set comes from and how to pass the folder, and exits 2.
bench_data_require() {
  local set="$1" file missing=()
  shift
  if [ -z "$bench_data" ]; then
    missing=("$@")
  else
    for file in "$@"; do
      [ -f "$bench_data/$set/$file" ] || missing+=("$file")
    done
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    {
      if [ -z "$bench_data" ]; then
        echo "error: no benchmark data folder: pass --data DIR (first argument) or set BURNISH_BENCH_DATA=DIR."
      else
        echo "error: $bench_data/$set/ lacks: ${missing[*]}"
      fi
      local files="$1"
      [ $# -eq 1 ] || files="{$(IFS=,; echo "$*")}"
      echo "This benchmark needs DIR/$set/$files: $(bench_data_source "$set")."
      echo "The data sets are not part of the repository and no test reads them; the layout and"
      echo "sources of all three are in scripts/bench_data.sh and docs/benchmarks.md."
    } >&2
    exit 2
  fi
  echo "$bench_data/$set"
}

# bench_burnish [FEATURES]: sets `burnish` to $BURNISH_BIN, else to a debug build made now (of
# burnish-cli with only FEATURES when given, else its default features).
bench_burnish() {
  if [ -n "${BURNISH_BIN:-}" ]; then
    burnish="$BURNISH_BIN"
    return
  fi
  local target="${CARGO_TARGET_DIR:-$HOME/.cache/burnish-target}"
  if [ -n "${1:-}" ]; then
    CARGO_TARGET_DIR="$target" cargo build --quiet -p burnish-cli --no-default-features --features "$1"
  else
    CARGO_TARGET_DIR="$target" cargo build --quiet -p burnish-cli
  fi
  burnish="$target/debug/burnish"
}
