#!/usr/bin/env bash
# Streaming memory on a big corpus (issue 8, item 5): generates a gzip text corpus of
# BURNISH_STREAM_MIB MiB (default 4096; pick more than the machine's RAM to make the point)
# and streams every document through burnish-data's `Corpus`, recording the peak of the
# bytes allocated while reading (a counting global allocator) and the process's peak RSS.
# The assertion (peak allocation < 1 MiB, whatever the size) is the CI test's; the CI run
# uses 64 MiB. Needs the SST-2 sentences from the shared data folder.
#
#   scripts/bench_stream_memory.sh            # 4 GiB
#   BURNISH_STREAM_MIB=32768 scripts/bench_stream_memory.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/burnish-target}"
export BURNISH_STREAM_MIB="${BURNISH_STREAM_MIB:-4096}"
features="${BURNISH_TEST_FEATURES:-flex,tch,wgpu}"
# Same feature set as scripts/test.sh, so nothing is rebuilt.
cargo test --workspace --features "$features" --test corpus --no-run
log="$(mktemp)"
/usr/bin/time -v cargo test --workspace --features "$features" --test corpus -- \
  --exact a_large_gzip_corpus_streams_in_bounded_memory --nocapture 2>&1 | tee "$log"
grep -E "streamed|Maximum resident" "$log"
