#!/usr/bin/env bash
# Streaming memory on a big corpus (issue 8, item 5). Two measurements:
#
# readers (default): generates a gzip text corpus of BURNISH_STREAM_MIB MiB (default 4096;
#   pick more than the machine's RAM to make the point) and streams every document through
#   burnish-data's `Corpus`, recording the peak of the bytes allocated while reading (a
#   counting global allocator) and the process's peak RSS. The assertion (peak allocation
#   < 1 MiB, whatever the size) is the CI test's; the CI run uses 64 MiB. Needs the
#   vader-movies review sentences of scripts/fetch-assets.sh.
#
# pretrain: `burnish pretrain` (MLM, a one-layer model, 3 steps) on a generated plain-text
#   corpus of BURNISH_PRETRAIN_CORPUS_MIB MiB (default 3584) and on a 1 MiB one: the whole
#   corpus is tokenized and packed into RUN/packed/train.bin, training reads batches from it.
#   Prints each run's peak RSS (metrics.json's peak_rss_bytes) and time; the test asserts the
#   peak grows by less than a quarter of the corpus growth (CI runs 24 MiB).
#
#   scripts/bench_stream_memory.sh                 # readers, 4 GiB
#   BURNISH_STREAM_MIB=32768 scripts/bench_stream_memory.sh
#   scripts/bench_stream_memory.sh pretrain        # burnish pretrain, 3.5 GiB
#   BURNISH_PRETRAIN_CORPUS_MIB=8192 scripts/bench_stream_memory.sh pretrain
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/burnish-target}"
features="${BURNISH_TEST_FEATURES:-flex,tch,wgpu}"
mode="${1:-readers}"
log="$(mktemp)"
case "$mode" in
  readers)
    export BURNISH_STREAM_MIB="${BURNISH_STREAM_MIB:-4096}"
    # Same feature set as scripts/test.sh, so nothing is rebuilt.
    cargo test --workspace --features "$features" --test corpus --no-run
    /usr/bin/time -v cargo test --workspace --features "$features" --test corpus -- \
      --exact a_large_gzip_corpus_streams_in_bounded_memory --nocapture 2>&1 | tee "$log"
    grep -E "streamed|Maximum resident" "$log"
    ;;
  pretrain)
    export BURNISH_PRETRAIN_CORPUS_MIB="${BURNISH_PRETRAIN_CORPUS_MIB:-3584}"
    cargo test --workspace --features "$features" --test pretrain --no-run
    /usr/bin/time -v cargo test --workspace --features "$features" --test pretrain -- \
      --exact pretraining_memory_does_not_grow_with_the_corpus --nocapture 2>&1 | tee "$log"
    grep -E "^(small|large):|Maximum resident|Elapsed" "$log"
    ;;
  *)
    echo "usage: $0 [readers|pretrain]" >&2
    exit 2
    ;;
esac
