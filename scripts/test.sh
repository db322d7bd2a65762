#!/usr/bin/env bash
# burnish's test command (the README's second command; CI runs it through .ci/run).
#
#   scripts/test.sh
#
# Idempotent set-up first: a Python venv with the pinned PyTorch + transformers reference stack
# (scripts/requirements-reference.txt), the real assets (scripts/fetch-assets.sh), then:
#   1. the whole workspace's tests on the default backend (flex), plus the parity tests on
#      LibTorch CPU (`tch`) and on WGPU (software Vulkan where no GPU is present), all in one
#      build with features flex,tch,wgpu, doctests included (the facade's examples run on the
#      tiny fixtures); then the API docs, with any rustdoc warning an error;
#   2. the per-backend fine-tuning examples (examples/finetune_*.rs) on a tiny model, the
#      library example (examples/library_finetune.rs: MiniLM through the facade, on 200
#      sentences), and a compile of the criterion benches;
#   3. `cargo check` of the CUDA backend and its example (CI has no GPU; this proves they
#      compile).
# A missing asset or reference tool fails the tests (with or without CI=true); no test skips.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/burnish-target}"
venv="${BURNISH_VENV:-$HOME/.cache/burnish-venv}"

step() { printf '\n==> %s\n' "$*"; }

step "Python reference stack in $venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" - <<'PY' 2>/dev/null
import importlib.metadata as m, pathlib, sys
want = {}
for line in pathlib.Path("scripts/requirements-reference.txt").read_text().splitlines():
    line = line.split("#")[0].strip()
    if "==" in line:
        name, ver = line.split("==")
        want[name.strip()] = ver.strip()
sys.exit(0 if all(m.version(n) == v for n, v in want.items()) else 1)
PY
then
  "$venv/bin/pip" install --quiet --upgrade pip
  "$venv/bin/pip" install --quiet -r scripts/requirements-reference.txt
fi
export BURNISH_PYTHON="$venv/bin/python"
export HF_HUB_OFFLINE=1

step "Assets"
PYTHON="$venv/bin/python" scripts/fetch-assets.sh

step "LibTorch from the venv's torch (for the tch backend)"
export LIBTORCH_USE_PYTORCH=1
export LIBTORCH_BYPASS_VERSION_CHECK=1
torch_lib="$("$venv/bin/python" -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')"
export LD_LIBRARY_PATH="$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export PATH="$venv/bin:$PATH"
# Mesa's software Vulkan driver wants a runtime directory.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"

features="${BURNISH_TEST_FEATURES:-flex,tch,wgpu}"
step "cargo test --workspace --features $features"
test_log="$(mktemp)"
status=0
cargo test --workspace --features "$features" --no-fail-fast 2>&1 | tee "$test_log" || status=$?
# The count over every test binary and doctest run above (the same with and without CI=true:
# nothing is skipped).
awk '/^test result:/ { passed += $4; failed += $6 } END { printf "%d passed, %d failed\n", passed, failed }' "$test_log"
rm -f "$test_log"
[ "$status" -eq 0 ] || exit "$status"

step "cargo doc --workspace --no-deps (warnings are errors: missing docs, broken links)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --features "$features"

step "per-backend examples on a tiny model ($features), the library example, and the benches compile"
example_out="$(mktemp -d)"
for backend in ${features//,/ }; do
  # `cargo test --workspace` above built the examples with the same features; running the
  # binaries directly avoids `cargo run`, whose narrower feature set would rebuild Burn.
  "$CARGO_TARGET_DIR/debug/examples/finetune_$backend" \
    tests/fixtures/tiny-bert "${BURNISH_ASSETS:-$root/assets}/vader-movies/train.tsv" 96 \
    "$example_out/$backend"
done
# The library user's example, as its doc comment says, on a small slice (200 rows, 1 epoch).
(cd "$example_out" && BURNISH_ASSETS="${BURNISH_ASSETS:-$root/assets}" \
  "$CARGO_TARGET_DIR/debug/examples/library_finetune" 200 1)
rm -rf "$example_out"
cargo test --workspace --features "$features" --benches --no-run

step "cargo check --features cuda (compile-only: no GPU here)"
# cubecl-cuda's LLVM/NVPTX build script downloads an LLVM bundle from outside the package
# registries; DOCS_RS=1 makes it skip that (it is not needed to type-check every crate).
DOCS_RS=1 CUDARC_CUDA_VERSION="${CUDARC_CUDA_VERSION:-13000}" \
  cargo check -p burnish-cli --no-default-features --features cuda
DOCS_RS=1 CUDARC_CUDA_VERSION="${CUDARC_CUDA_VERSION:-13000}" \
  cargo check -p burnish --no-default-features --features cuda --example finetune_cuda

# Opt-in: the libFuzzer targets in fuzz/ (nightly + cargo-fuzz), BURNISH_CARGO_FUZZ_SECONDS
# each. The bounded stable fuzz tests (crates/*/tests/fuzz.rs) always run with the tests above.
if [ -n "${BURNISH_CARGO_FUZZ_SECONDS:-}" ]; then
  for target in data_readers tokenizer_folder; do
    step "cargo +nightly fuzz run $target (${BURNISH_CARGO_FUZZ_SECONDS}s)"
    CARGO_TARGET_DIR="$root/fuzz/target" cargo +nightly fuzz run "$target" -- -max_total_time="$BURNISH_CARGO_FUZZ_SECONDS"
  done
  # model_folder links Burn: without AddressSanitizer (-s none, coverage instrumentation only)
  # it builds in about 35 minutes on 2 busy cores instead of well over an hour. Safe Rust
  # panics are what it looks for, and those need no sanitizer.
  step "cargo +nightly fuzz run -s none --features model model_folder (${BURNISH_CARGO_FUZZ_SECONDS}s)"
  mkdir -p "$root/fuzz/corpus/model_folder"
  CARGO_TARGET_DIR="$root/fuzz/target" cargo +nightly fuzz run -s none --features model model_folder \
    "$root/fuzz/corpus/model_folder" "$root/fuzz/seeds/model_folder" -- \
    -max_total_time="$BURNISH_CARGO_FUZZ_SECONDS"
fi
