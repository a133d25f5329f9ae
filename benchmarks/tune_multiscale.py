"""The multiscale solver's settings compared (the choices in docs/fast_solver.md,
"Low dimensions: the multiscale solver").

Runs ``otgan.lp.multiscale.solve_multiscale`` (the solver alone, no
certificate) on four cases of ``bench_multiscale.py``'s data -- the ring
against a Gaussian with L1 / uniform and squared Euclidean / Dirichlet
weights, the 3-D cube against a shifted Gaussian with L2 / uniform, the
shifted squares with L2 / Dirichlet -- once per setting, and prints the CPU
seconds of each (process time: less disturbed than wall time by the other
jobs of a shared machine, still noisy to ~10 %). A setting is a solver
option (``k=2``) or a module constant (``LEVEL_GROWTH=4.0``):

    OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 PYTHONPATH=. .venv/bin/python \\
        benchmarks/tune_multiscale.py --n 4096 "{}" "{'dilation': 1}" "{'k': 0}" \\
        "{'LEVEL_GROWTH': 4.0}" "{'VIOLATOR_DOUBLINGS': 3}"
"""
from __future__ import annotations

import argparse
import ast
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import otgan.lp.multiscale as msm  # noqa: E402
from bench_multiscale import data, weights  # noqa: E402
from otgan.geometry import PointCost  # noqa: E402

CASES = [("ring vs Gaussian", "l1", "uniform"), ("ring vs Gaussian", "sqeuclidean", "dirichlet"),
         ("cube vs shifted Gaussian", "l2", "uniform"), ("squares shifted", "l2", "dirichlet")]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("settings", nargs="*", default=["{}"])
    ap.add_argument("--n", type=int, default=4096)
    ap.add_argument("--write", action="store_true",
                    help="append the table to docs/_bench_multiscale.md (after that "
                         "script's own run)")
    args = ap.parse_args(argv)
    out = []
    problems = []
    for kind, metric, wkind in CASES:
        rng = np.random.default_rng(1)
        y, x = data(kind, args.n, args.n, rng)
        a, b = weights(wkind, args.n, rng), weights(wkind, args.n, rng)
        problems.append((PointCost(y, x, metric), a, b * (a.sum() / b.sum())))
    g = problems[0][0]
    msm.solve_multiscale(PointCost(g.y[:300], g.x[:300], "l1"), np.full(300, 1 / 300),
                         np.full(300, 1 / 300))  # compile outside the measurement
    out.append("| setting | " + " | ".join(f"{k}, {m}, {w}" for k, m, w in CASES)
               + " | sum |")
    out.append("|---" * (len(CASES) + 2) + "|")
    print("\n".join(out), flush=True)
    for text in args.settings:
        setting = ast.literal_eval(text)
        consts = {k: v for k, v in setting.items() if k.isupper()}
        options = {k: v for k, v in setting.items() if not k.isupper()}
        saved = {k: getattr(msm, k) for k in consts}
        for k, v in consts.items():
            setattr(msm, k, v)
        times = []
        try:
            for geom, a, b in problems:
                t0 = time.process_time()
                msm.solve_multiscale(geom, a, b, **options)
                times.append(time.process_time() - t0)
        finally:
            for k, v in saved.items():
                setattr(msm, k, v)
        out.append(f"| `{text}` | " + " | ".join(f"{t:.3f} s" for t in times)
                   + f" | {sum(times):.3f} s |")
        print(out[-1], flush=True)
    if args.write:
        from _common import DOCS
        cmd = ("OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 PYTHONPATH=. .venv/bin/python "
               "benchmarks/tune_multiscale.py --n " + str(args.n) + " "
               + " ".join(f'"{t}"' for t in args.settings) + " --write")
        with open(DOCS / "_bench_multiscale.md", "a") as fh:
            fh.write(f"\n### settings (`benchmarks/tune_multiscale.py`, n = {args.n}, CPU "
                     f"seconds of the solver alone, no certificate; noisy)\n\n"
                     + "\n".join(out) + f"\n\nCommand: `{cmd}`. `{{}}` is the default "
                     "setting.\n")


if __name__ == "__main__":
    main()
