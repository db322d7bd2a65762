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
  columnar TASK SRC OUT_DIR         SRC (classification: a `sentence<TAB>label` TSV; ner: a
                                    `token<TAB>tag` CoNLL file; squad: a SQuAD JSON file) written
                                    as `datasets` writes it: OUT_DIR/datasets.parquet
                                    (Dataset.to_parquet, labels as ClassLabel integers named in
                                    the schema metadata), OUT_DIR/saved/data-00000-of-00001.arrow
                                    (Dataset.save_to_disk), and for classification also
                                    OUT_DIR/plain.parquet (pyarrow, integer labels, no metadata).

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


def columnar(task: str, src: str, out_dir: str) -> dict:
    import datasets
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if task == "classification":
        lines = Path(src).read_text(encoding="utf-8").splitlines()
        header = lines[0].split("\t")
        rows = [dict(zip(header, line.split("\t"))) for line in lines[1:] if line]
        names = ["negative", "positive"]
        features = datasets.Features(
            {"sentence": datasets.Value("string"), "label": datasets.ClassLabel(names=names)}
        )
        data = {"sentence": [r["sentence"] for r in rows], "label": [int(r["label"]) for r in rows]}
        pq.write_table(pa.table(data), out / "plain.parquet")
    elif task == "ner":
        sentences, tokens, tags = [], [], []
        for line in Path(src).read_text(encoding="utf-8").splitlines() + [""]:
            parts = line.split("\t")
            if len(parts) == 2 and parts[0]:
                tokens.append(parts[0])
                tags.append(parts[1])
            elif tokens:
                sentences.append((tokens, tags))
                tokens, tags = [], []
        names = sorted({t for _, ts in sentences for t in ts})
        features = datasets.Features(
            {
                "tokens": datasets.Sequence(datasets.Value("string")),
                "ner_tags": datasets.Sequence(datasets.ClassLabel(names=names)),
            }
        )
        data = {
            "tokens": [t for t, _ in sentences],
            "ner_tags": [[names.index(x) for x in ts] for _, ts in sentences],
        }
    elif task == "squad":
        doc = json.loads(Path(src).read_text(encoding="utf-8"))
        data = {k: [] for k in ("id", "title", "context", "question", "answers")}
        for article in doc["data"]:
            for paragraph in article["paragraphs"]:
                for qa in paragraph["qas"]:
                    data["id"].append(qa["id"])
                    data["title"].append(article["title"])
                    data["context"].append(paragraph["context"])
                    data["question"].append(qa["question"])
                    data["answers"].append(
                        {
                            "text": [a["text"] for a in qa["answers"]],
                            "answer_start": [a["answer_start"] for a in qa["answers"]],
                        }
                    )
        # The features of the Hub's `squad` dataset.
        features = datasets.Features(
            {
                "id": datasets.Value("string"),
                "title": datasets.Value("string"),
                "context": datasets.Value("string"),
                "question": datasets.Value("string"),
                "answers": datasets.Sequence(
                    {"text": datasets.Value("string"), "answer_start": datasets.Value("int32")}
                ),
            }
        )
    else:
        raise SystemExit(f"unknown task {task}")
    dataset = datasets.Dataset.from_dict(data, features=features)
    dataset.to_parquet(str(out / "datasets.parquet"))
    dataset.save_to_disk(str(out / "saved"))
    return {"rows": len(dataset), "datasets": datasets.__version__, "pyarrow": pa.__version__}


def main() -> None:
    command, *args = sys.argv[1:]
    commands = {
        "hub-cache": hub_cache,
        "card": card,
        "tensorboard": tensorboard,
        "columnar": columnar,
    }
    out = commands[command](*args)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
