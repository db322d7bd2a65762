#!/usr/bin/env python3
"""Prove that a saved folder loads in PyTorch transformers with the expected outputs.

Loads DIR with a transformers class (default BertModel; eager attention, float32, eval mode) and the
tokenizer from DIR, recomputes every case of a reference JSON (the format written by
scripts/make_reference.py: "cases" with input_ids/token_type_ids and last_hidden_state,
pooler_output, sentence_embedding and head outputs such as logits; optional padded "batch"), and
prints the max |diff| of each output. Exit status 1 when any diff is above --tol (default 1e-4), when
loading reports missing, unexpected or mismatched weights (listed), when DIR's tokenizer does not
reproduce the reference input_ids, or when DIR cannot be loaded; 0 otherwise.

  HF_HUB_OFFLINE=1 ~/.cache/burnish-venv/bin/python scripts/check_hf_load.py DIR REFERENCE.json \\
      [--class BertForSequenceClassification] [--tol 1e-4] [--allow-missing REGEX] \\
      [--ignore-padded] [--no-tokenizer-check]
  HF_HUB_OFFLINE=1 ~/.cache/burnish-venv/bin/python scripts/check_hf_load.py --jobs JOBS.json [--tol 1e-4]

--jobs checks many folders in one process (torch and transformers are imported once): JOBS.json is a
list of {"dir": DIR, "reference": REFERENCE.json, "class": CLASS} objects; each is checked as above,
its lines prefixed by a `== CLASS DIR` header, and the exit status is 1 when any of them fails
(tests/compatibility.rs uses it for every head burnish saves).

  e.g.  scripts/check_hf_load.py assets/all-MiniLM-L6-v2 tests/fixtures/reference/minilm.json
        scripts/check_hf_load.py tests/fixtures/tiny-bert-bin tests/fixtures/tiny-bert-bin/reference.json \\
            --class BertForSequenceClassification

Same as `scripts/make_reference.py --check-saved DIR --reference REFERENCE.json ...`. Needs the
packages in scripts/requirements-reference.txt.
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402

from make_reference import add_check_args, check_saved, run_check  # noqa: E402


def run_jobs(path: str, tol: float) -> int:
    """Checks every {"dir", "reference", "class"} job of the JSON list in `path`."""
    jobs = json.loads(Path(path).read_text(encoding="utf-8"))
    failed = []
    for job in jobs:
        print(f"== {job['class']} {job['dir']}", flush=True)
        if check_saved(job["dir"], job["reference"], job["class"], tol) != 0:
            failed.append(f"{job['class']} {job['dir']}")
    print(f"checked {len(jobs)} folders; {len(failed)} failed" + "".join(f"\n  FAILED: {f}" for f in failed))
    return 1 if failed else 0


def main() -> int:
    if "--jobs" in sys.argv:
        p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
        p.add_argument("--jobs", required=True, metavar="JOBS.json")
        p.add_argument("--tol", type=float, default=1e-4)
        args = p.parse_args()
        torch.set_num_threads(1)
        return run_jobs(args.jobs, args.tol)
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("check_saved", metavar="DIR", help="folder in the Hugging Face layout")
    p.add_argument("reference_pos", metavar="REFERENCE.json", nargs="?",
                   help="reference JSON (or pass --reference)")
    add_check_args(p)
    args = p.parse_args()
    args.reference = args.reference or args.reference_pos
    torch.set_num_threads(1)
    return run_check(args)


if __name__ == "__main__":
    sys.exit(main())
