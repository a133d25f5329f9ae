"""A/B speed check of this checkout against an earlier commit, on a busy machine.

Absolute timings on a shared 2-core machine drift with the load, but two
builds measured *alternately*, round after round, see the same load. This
script checks out ``--base`` into a temporary git worktree, then runs the same
timing script on the base and on this checkout in turn (``--rounds`` times
each, one numba thread, fresh processes, each keeping its best time per item)
and reports ``this / base`` per item. A ratio within about ±10 % is noise on a
loaded machine.

``python benchmarks/bench_ab.py --base b5f907a`` writes
``benchmarks/results/ab_<base>.json`` and ``docs/_bench_ab.md`` (generated;
do not edit).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

from _common import write_atomic

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

#: The timed items: only public API that both sides have.
CHILD = r"""
import json, sys, time
import numpy as np
import otgan
from otgan import kernels as K

def best(f, r):
    f()
    ts = []
    for _ in range(r):
        t0 = time.perf_counter(); f(); ts.append(time.perf_counter() - t0)
    return min(ts) * 1e3

rng = np.random.default_rng(0)
out = {}
for n in (1024, 4096):
    y, x = rng.random((n, 64)), rng.random((n, 64))
    M = K.cost_matrix(y, x)
    u, v = rng.random(n), rng.random(n)
    r = 5 if n == 1024 else 2
    out[f"solve_ot fast, M given, n={n}"] = best(lambda: otgan.solve_ot(M, method="fast"), r)
    out[f"solve_samples fast points_in, n={n}"] = best(
        lambda: otgan.solve_samples(y, x, method="fast", points_in=True), r)
    out[f"dual_violation_points, n={n}"] = best(lambda: K.dual_violation_points(y, x, u, v), r)
    out[f"c_transform_cols_points, n={n}"] = best(lambda: K.c_transform_cols_points(y, x, u), r)
    out[f"topk_candidates_points k=8, n={n}"] = best(lambda: K.topk_candidates_points(y, x, 8, 8), r)
    out[f"cost_matrix l1 d=64, n={n}"] = best(lambda: K.cost_matrix(y, x), r)
for n in (1024, 4096):  # low dimension: the k-nearest candidate graph lacks a matching
    y2, x2 = rng.random((n, 2)), rng.random((n, 2))
    out[f"solve_samples fast points_in 2-D, n={n}"] = best(
        lambda: otgan.solve_samples(y2, x2, method="fast", points_in=True), 2)
Ms = rng.random((256, 64, 64))
out["solve_ot_batch B=256 n=64"] = best(lambda: otgan.solve_ot_batch(Ms), 10)
a, b = rng.dirichlet(np.ones(500)), rng.dirichlet(np.ones(400))
C = rng.random((500, 400))
out["solve_ot emd weighted 500x400"] = best(lambda: otgan.solve_ot(C, a, b), 5)
ys, xs = rng.random((64, 2)), rng.random((64, 2))
out["solve_samples 64x2 (GAN batch)"] = best(lambda: otgan.solve_samples(ys, xs), 50)
print(json.dumps(out))
"""


def _run(tree: str) -> dict:
    env = dict(os.environ, PYTHONPATH=tree, NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-c", CHILD], cwd=tempfile.gettempdir(), env=env,
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", required=True, help="the earlier commit to compare with")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    base_dir = tempfile.mkdtemp(prefix="otgan-ab-")
    subprocess.run(["git", "worktree", "add", "--detach", "-f", base_dir, args.base],
                   cwd=ROOT, check=True, capture_output=True)
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout.strip()
    dirty = bool(subprocess.run(["git", "status", "--porcelain", "--", "otgan"], cwd=ROOT,
                                capture_output=True, text=True).stdout.strip())
    try:
        results = {"base": [], "this": []}
        for _ in range(args.rounds):
            results["base"].append(_run(base_dir))
            results["this"].append(_run(ROOT))
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", base_dir], cwd=ROOT,
                       capture_output=True)
    rows = {}
    for item in results["base"][0]:
        b = min(r[item] for r in results["base"])
        t = min(r[item] for r in results["this"])
        rows[item] = {"base_ms": round(b, 3), "this_ms": round(t, 3), "ratio": round(t / b, 3)}
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    summary = {"base": args.base, "this": head + ("+uncommitted" if dirty else ""),
               "rounds": args.rounds, "rows": rows, "load_1min_at_end": round(load, 2),
               "cpus": os.cpu_count(),
               "command": f"python benchmarks/bench_ab.py --base {args.base} "
                          f"--rounds {args.rounds}"}
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    write_atomic(os.path.join(HERE, "results", f"ab_{args.base}.json"),
           json.dumps(summary, indent=1) + "\n")
    lines = ["<!-- generated by benchmarks/bench_ab.py; do not edit -->", "",
             f"This checkout ({summary['this']}) against {args.base}: best of "
             f"{args.rounds} alternating rounds per side, one numba thread, "
             f"{summary['cpus']} CPUs shared with other jobs (1-minute load "
             f"{summary['load_1min_at_end']} at the end).", "",
             "| item | base (ms) | this (ms) | this / base |", "|---|---|---|---|"]
    for item, r in rows.items():
        lines.append(f"| {item} | {r['base_ms']:.2f} | {r['this_ms']:.2f} | "
                     f"{r['ratio']:.2f} |")
    lines += ["", f"Command: `{summary['command']}`", ""]
    write_atomic(os.path.join(ROOT, "docs", "_bench_ab.md"), "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
