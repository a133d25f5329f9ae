"""Seconds per generator iteration for every method, batch 64 and 256.

Same networks (MLP 3 x 256, ReLU), same data (ring); WGAN-TS with n_c = 1 LP
and n_r = 5 regression steps (+ OT regulariser, the default), WGAN-GP with
n_critic = 5 and lambda = 10, WGAN with n_critic = 5, GAN/NS-GAN with 1
discriminator step. Writes docs/_bench_gan.md.

    python benchmarks/bench_gan.py [--quick] [--threads 1] [--out docs/_bench_gan.md]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from otgan.gan import TrainConfig, Trainer  # noqa: E402

METHODS = ("wgan-ts", "wgan-gp", "wgan", "gan", "nsgan")


def time_method(method: str, batch: int, iters: int, warmup: int, repeats: int, **kw) -> float:
    """Median over ``repeats`` of the mean seconds per generator iteration."""
    cfg = TrainConfig(method=method, batch=batch, iters=10 ** 6, device="cpu", seed=0, **kw)
    tr = Trainer(cfg)
    for _ in range(warmup):
        tr.step()
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(iters):
            tr.step()
        out.append((time.perf_counter() - t0) / iters)
    return statistics.median(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer iterations (about 1 minute)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "docs",
                                                  "_bench_gan.md"))
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    iters, warmup, repeats = (10, 3, 3) if args.quick else (40, 5, 5)
    rows = {}
    for batch in (64, 256):
        for method in METHODS:
            s = time_method(method, batch, iters, warmup, repeats)
            rows[(method, batch)] = s
            print(f"{method:8s} batch {batch:4d}: {s * 1e3:8.2f} ms / generator iteration",
                  flush=True)
    ts_ablation = {b: time_method("wgan-ts", b, iters, warmup, repeats, ot_reg=0.0)
                   for b in (64, 256)}
    lines = ["# GAN training step timings", "",
             f"`python benchmarks/bench_gan.py{' --quick' if args.quick else ''} "
             f"--threads {args.threads}` on {platform.machine()}, "
             f"{os.cpu_count()} CPUs visible, torch {torch.__version__}, "
             f"{args.threads} torch thread(s); median of {repeats} x {iters} iterations "
             f"after {warmup} warm-up. Ring data, MLP 3 x 256 for G and D.", "",
             "| method | per generator step | batch 64 (ms) | batch 256 (ms) |",
             "|---|---|---|---|"]
    what = {"wgan-ts": "1 exact LP + 5 regression steps (OT reg. on) + scaling",
            "wgan-gp": "5 critic steps, GP lambda 10", "wgan": "5 critic steps, clipping",
            "gan": "1 D step", "nsgan": "1 D step"}
    for m in METHODS:
        lines.append(f"| {m} | {what[m]} | {rows[(m, 64)] * 1e3:.2f} | "
                     f"{rows[(m, 256)] * 1e3:.2f} |")
    lines.append(f"| wgan-ts, OT reg. off | 1 exact LP + 5 regression steps + scaling | "
                 f"{ts_ablation[64] * 1e3:.2f} | {ts_ablation[256] * 1e3:.2f} |")
    for b in (64, 256):
        ok = rows[("wgan-ts", b)] <= rows[("wgan-gp", b)]
        lines.append("")
        lines.append(f"Batch {b}: WGAN-TS / WGAN-GP = "
                     f"{rows[('wgan-ts', b)] / rows[('wgan-gp', b)]:.2f} "
                     f"({'meets' if ok else 'misses'} the target WGAN-TS <= WGAN-GP).")
    text = "\n".join(lines) + "\n"
    with open(args.out, "w") as fh:
        fh.write(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
