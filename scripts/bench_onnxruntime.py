"""ONNX Runtime side of `burnish bench --onnx`: one measurement per invocation.

Times `InferenceSession.run` of an ONNX classifier that `burnish bench` exported
(burnish::export::export_onnx, float32 or int8) on the synthetic batch every side of the
benchmark uses (bench_batch.py): CPU execution provider, all graph optimisations, sequential
execution, THREADS intra-op threads. Prints one JSON line, as bench_torch.py does.

  python scripts/bench_onnxruntime.py --model model.onnx --variant float32 --shape minilm \
      --vocab 30522 --batch 32 --seq 128 --warmup 2 --steps 5 [--threads N]

Versions: scripts/requirements-reference.txt (onnxruntime 1.32.0).
"""

import argparse
import json
import os
import resource
import time

import numpy as np
import onnxruntime as ort

from bench_batch import synthetic_batch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--variant", required=True, help="float32 or int8: named in the result")
    ap.add_argument("--shape", required=True)
    ap.add_argument("--vocab", type=int, required=True)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0, help="0: ONNX Runtime's default")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.inter_op_num_threads = 1
    if args.threads > 0:
        options.intra_op_num_threads = args.threads
    session = ort.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])

    ids, _ = synthetic_batch(args.batch, args.seq, args.vocab, args.seed)
    ids = np.asarray(ids, dtype=np.int64)
    feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids),
             "token_type_ids": np.zeros_like(ids)}
    declared = {i.name for i in session.get_inputs()}
    feeds = {k: v for k, v in feeds.items() if k in declared}
    missing = declared - set(feeds)
    if missing:
        raise SystemExit(f"{args.model}: inputs {sorted(missing)} are not ones bench feeds")

    def step():
        return float(session.run(["logits"], feeds)[0][0, 0])

    for _ in range(args.warmup):
        step()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    seconds = time.perf_counter() - start
    per_step = seconds / max(args.steps, 1)
    result = {
        "side": "onnxruntime",
        "backend": args.variant,
        "shape": args.shape,
        "mode": "infer",
        "batch": args.batch,
        "seq": args.seq,
        "steps": args.steps,
        "seconds_per_step": per_step,
        "tokens_per_second": args.batch * args.seq / per_step,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "device": "cpu",
        "threads": args.threads,
        "versions": {"onnxruntime": ort.__version__},
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
