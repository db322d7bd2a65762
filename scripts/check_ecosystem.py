#!/usr/bin/env python3
"""Python's side of burnish's ecosystem formats (issue 26), used by
crates/burnish-cli/tests/ecosystem.rs. Each subcommand prints one JSON object.

  hub-cache CACHE REPO_ID SRC_DIR   lay SRC_DIR's files out as a Hugging Face Hub cache entry
                                    (blobs named by their etag, snapshots/COMMIT symlinks,
                                    refs/main), then read it back with huggingface_hub itself
                                    (scan_cache_dir, snapshot_download and hf_hub_download with
                                    local_files_only=True): prints the snapshot folder.
  card README_MD                    huggingface_hub.ModelCard.load: the card's data and its
                                    eval results.
  tensorboard DIR                   TensorBoard's own event reader (EventAccumulator) over DIR:
                                    every scalar tag's (step, value) pairs.

Versions: scripts/requirements-reference.txt.
"""
import hashlib
import json
import os
import sys
from pathlib import Path


def git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def hub_cache(cache: str, repo_id: str, src: str) -> dict:
    """The layout `hf_hub_download` writes: LFS files (weights) are named by their sha256,
    regular git files by their git blob sha1; snapshot entries are relative symlinks."""
    from huggingface_hub import hf_hub_download, scan_cache_dir, snapshot_download

    root = Path(cache) / ("models--" + repo_id.replace("/", "--"))
    files = sorted(p for p in Path(src).iterdir() if p.is_file())
    # A stable commit id derived from the content (the Hub's would be a git commit).
    commit = hashlib.sha1(b"".join(p.read_bytes() for p in files)).hexdigest()
    (root / "blobs").mkdir(parents=True, exist_ok=True)
    (root / "refs").mkdir(parents=True, exist_ok=True)
    snapshot = root / "snapshots" / commit
    snapshot.mkdir(parents=True, exist_ok=True)
    for path in files:
        data = path.read_bytes()
        lfs = path.suffix in (".safetensors", ".bin")
        etag = hashlib.sha256(data).hexdigest() if lfs else git_blob_sha1(data)
        blob = root / "blobs" / etag
        blob.write_bytes(data)
        link = snapshot / path.name
        if link.is_symlink() or link.exists():
            link.unlink()
        os.symlink(os.path.relpath(blob, snapshot), link)
    (root / "refs" / "main").write_text(commit)

    info = scan_cache_dir(cache)
    repos = [r for r in info.repos if r.repo_id == repo_id]
    assert repos and not info.warnings, (repos, info.warnings)
    revisions = {r.commit_hash: sorted(f.file_name for f in r.files) for r in repos[0].revisions}
    assert revisions == {commit: [p.name for p in files]}, revisions
    folder = snapshot_download(repo_id, cache_dir=cache, local_files_only=True)
    config = hf_hub_download(repo_id, "config.json", cache_dir=cache, local_files_only=True)
    assert Path(config).parent == Path(folder), (config, folder)
    return {"snapshot": folder, "commit": commit}


def card(path: str) -> dict:
    from huggingface_hub import ModelCard

    loaded = ModelCard.load(path)
    data = loaded.data
    results = [
        {
            "task_type": r.task_type,
            "dataset_name": r.dataset_name,
            "dataset_type": r.dataset_type,
            "metric_type": r.metric_type,
            "metric_value": r.metric_value,
        }
        for r in (data.eval_results or [])
    ]
    return {
        "library_name": data.library_name,
        "base_model": data.base_model,
        "pipeline_tag": data.pipeline_tag,
        "model_name": data.model_name,
        "eval_results": results,
        "text_has_results": "## Results" in loaded.text,
    }


def tensorboard(folder: str) -> dict:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(folder, size_guidance={"scalars": 0})
    acc.Reload()
    return {
        tag: [[e.step, e.value] for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]
    }


def main() -> None:
    command, *args = sys.argv[1:]
    out = {"hub-cache": hub_cache, "card": card, "tensorboard": tensorboard}[command](*args)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
