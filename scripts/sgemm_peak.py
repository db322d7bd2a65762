#!/usr/bin/env python3
"""The machine's fp32 matrix-product peak, as `burnish bench --peak-tflops` wants it.

Times large square float32 products (PyTorch's CPU sgemm: MKL / oneDNN) on THREADS threads and
prints the best rate in GFLOP/s and TFLOP/s. `burnish bench --peak-tflops T` then reports each
row as a fraction of it (model FLOPs per second over the peak), both sides on the same scale.

    scripts/sgemm_peak.py [--threads N (all cores)] [--size 4096] [--repeats 5]

Run it on an otherwise idle machine, with the same thread count as the bench.
"""

import argparse
import os
import time

import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    n = args.size
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=generator)
    b = torch.randn(n, n, generator=generator)
    out = torch.empty(n, n)
    torch.mm(a, b, out=out)  # warm-up: page in, pick the kernel
    best = float("inf")
    for _ in range(args.repeats):
        start = time.perf_counter()
        torch.mm(a, b, out=out)
        best = min(best, time.perf_counter() - start)
    gflops = 2.0 * n**3 / best / 1e9
    print(
        f"sgemm {n}x{n}x{n} float32, {args.threads} threads (torch {torch.__version__}): "
        f"{gflops:.1f} GFLOP/s = --peak-tflops {gflops / 1000:.4f}"
    )


if __name__ == "__main__":
    main()
