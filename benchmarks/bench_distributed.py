"""Distributed training (issue 14): the cost of the global LP, and iterations
per second against the number of processes.

1. **The global LP.** One WGAN-TS critic step solves the exact LP of the
   global batch ``B`` on every rank (docs/distributed.md); this times that
   solve — :func:`otgan.torch.ot_targets`, certificate included, the fast
   solver (``auto``) — for ring samples against a Gaussian batch (2-D, L1)
   and for digits against uniform noise (64-D, L1), at ``B`` = 256, 1 024,
   4 096. It bounds the useful world size: the LP does not shrink with more
   processes, while the networks' share of a step does.
2. **Scaling.** ``otgan train --nproc N`` (gloo, one torch thread per
   process) for WGAN-TS and the exact OT generator on ring, global batch 64
   and 256: seconds per generator iteration of rank 0's training loop
   (``eval.json``'s ``s_per_iter``, which includes waiting for the other
   ranks), for N = 1 .. the number of cores.

Run on an otherwise idle machine:

    .venv/bin/python benchmarks/bench_distributed.py [--smoke]

Writes docs/_bench_distributed.md (not with ``--smoke``, which runs tiny
sizes only to check that the script works).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import torch

from _common import DOCS, machine, write_atomic

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _lp_case(data: str, n: int, seed: int = 0):
    from otgan.gan.data import load_dataset

    g = torch.Generator().manual_seed(seed)
    ds = load_dataset(data)
    y = ds.sample(n, g).reshape(n, -1).double()
    if data == "digits":
        x = torch.rand(n, y.shape[1], generator=g, dtype=torch.float64) * 2 - 1
    else:
        x = torch.randn(n, y.shape[1], generator=g, dtype=torch.float64)
    return y, x


def bench_lp(sizes, repeat: int) -> list[list]:
    from otgan.torch import ot_targets

    rows = []
    for data in ("ring", "digits"):
        for n in sizes:
            y, x = _lp_case(data, n)
            ot_targets(y[:8], x[:8], "l1")  # numba kernels loaded before timing
            times, res = [], None
            for _ in range(repeat):
                t0 = time.perf_counter()
                res = ot_targets(y, x, "l1")
                times.append(time.perf_counter() - t0)
            r = res.result
            rows.append([data, n, y.shape[1], r.method, f"{statistics.median(times) * 1e3:.1f}",
                         "yes" if r.certificate.is_optimal else "NO"])
    return rows


def bench_sampling(sizes, number: int = 200) -> list[list]:
    """Seconds to draw a real batch and its noise (what global-batch sampling
    draws on every rank instead of a shard)."""
    import timeit

    from otgan.gan.data import load_dataset

    rows = []
    for data, z_dim in (("ring", 2), ("digits", 32)):
        ds = load_dataset(data)
        g = torch.Generator().manual_seed(0)
        for n in sizes:
            t = min(timeit.repeat(lambda: (ds.sample(n, g), torch.randn(n, z_dim, generator=g)),
                                  number=number, repeat=5)) / number
            rows.append([data, n, f"{t * 1e6:.0f}"])
    return rows


def _train(method: str, batch: int, nproc: int, iters: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "run")
        cmd = [sys.executable, "-m", "otgan", "train", "--method", method, "--data", "ring",
               "--batch", str(batch), "--iters", str(iters), "--eval-every", str(10 * iters),
               "--log-every", str(iters), "--eval-n", "500", "--quiet", "--out", out]
        if nproc > 1:
            cmd[4:4] = ["--nproc", str(nproc)]
        env = dict(os.environ, OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1",
                   PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
        with open(os.path.join(out, "eval.json")) as fh:
            return json.load(fh)["s_per_iter"]


def bench_scaling(batches, iters: int) -> list[list]:
    rows = []
    procs = list(range(1, (os.cpu_count() or 1) + 1))
    for method in ("wgan-ts", "ot"):
        for batch in batches:
            base = None
            for n in procs:
                s = _train(method, batch, n, iters)
                base = s if base is None else base
                rows.append([method, batch, n, f"{s * 1e3:.2f}", f"{1 / s:.1f}",
                             f"{base / s:.2f}"])
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, write nothing")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    if args.smoke:
        print(bench_sampling([16], 5))
        print(bench_lp([64], 1))
        print(bench_scaling([16], 5))
        return 0
    sampling = bench_sampling([32, 64, 256])
    lp = bench_lp([256, 1024, 4096], 3)
    scaling = bench_scaling([64, 256], 300)
    table = ("### The global batch's LP (solved on every rank each critic step)\n\n"
             "| data | global batch B | dim | solver | ms (median of 3) | certified |\n"
             "|---|---|---|---|---|---|\n"
             + "\n".join("| " + " | ".join(map(str, r)) + " |" for r in lp)
             + "\n\n### Scaling: `otgan train --nproc N` on ring (gloo, 1 thread each, "
               "300 iterations)\n\n"
               "| method | global batch | processes | ms / iteration (rank 0) | iterations / s "
               "| speed-up |\n|---|---|---|---|---|---|\n"
             + "\n".join("| " + " | ".join(map(str, r)) + " |" for r in scaling)
             + "\n\n### Drawing a global batch (real points and noise)\n\n"
               "| data | batch | µs per draw |\n|---|---|---|\n"
             + "\n".join("| " + " | ".join(map(str, r)) + " |" for r in sampling))
    notes = ("Command: `.venv/bin/python benchmarks/bench_distributed.py`. ms / iteration is "
             "rank 0's training time per generator iteration (`eval.json`: `s_per_iter`, "
             "logging and evaluation excluded), waiting for the other ranks included.")
    path = DOCS / "_bench_distributed.md"
    # assembled into docs/benchmarks.md under its title by run_all.py
    write_atomic(path, "<!-- generated by benchmarks/bench_distributed.py; do not edit -->\n\n"
                 f"Machine: {machine()}  \n"
                 f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
                 f"nothing else running\n\n{table}\n\n{notes}\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
