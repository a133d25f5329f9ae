"""Time ``otgan.kernels.cost_matrix`` against scipy's cdist, POT's ot.dist and torch.cdist.

Run:  .venv/bin/python benchmarks/bench_kernels.py [--quick]
Writes docs/_bench_kernels.md (assembled into docs/benchmarks.md by run_all.py);
--quick is a smoke run on small sizes that only prints. The full run takes
~6 minutes (POT's ot.dist needs ~90 s for one L1 matrix at 4096^2, d = 784).

Everything is measured side by side in one run, on 2 threads for the
parallel libraries (numba, torch; OpenBLAS as configured), best of up to 3
calls after a warm-up (slow baselines, > 2 s, are timed once). Also measured:
first-call compile time in a fresh interpreter with an empty NUMBA_CACHE_DIR,
the cached start, the peak extra memory of one call (fresh process, VmHWM),
and the fused certificate kernels against their dense numpy equivalents.
Run it on an otherwise idle machine.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

THREADS = 2
SLOW = 2.0  # seconds: time such a baseline once


def _timeit(fn, repeat=3):
    fn_t0 = time.perf_counter()
    fn()
    best = time.perf_counter() - fn_t0
    if best < SLOW:
        for _ in range(repeat - 1):
            t0 = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
    return best


def _methods(metric, y, x):
    import ot
    import torch
    from scipy.spatial.distance import cdist

    from otgan.kernels import cost_matrix

    ty, tx = torch.from_numpy(y), torch.from_numpy(x)
    scipy_name = {"l1": "cityblock", "l2": "euclidean", "sqeuclidean": "sqeuclidean"}[metric]
    out = np.empty((len(y), len(x)), dtype=y.dtype)
    meths = {"otgan": lambda: cost_matrix(y, x, metric, out=out),
             "cdist": lambda: cdist(y, x, scipy_name),
             "ot.dist": lambda: ot.dist(y, x, metric=scipy_name)}
    if metric == "l1":
        meths["torch.cdist"] = lambda: torch.cdist(ty, tx, p=1)
    elif metric == "l2":
        meths["torch.cdist"] = lambda: torch.cdist(ty, tx, p=2)
    else:
        meths["torch.cdist"] = lambda: torch.cdist(ty, tx, p=2) ** 2
    if metric != "l1":
        def gemm():
            d2 = (y * y).sum(1)[:, None] + (x * x).sum(1)[None, :] - 2 * (y @ x.T)
            np.maximum(d2, 0, out=d2)
            return np.sqrt(d2, out=d2) if metric == "l2" else d2
        meths["GEMM route"] = gemm
    return meths


def _fmt(t):
    return "—" if t is None else (f"{t * 1e3:.1f} ms" if t < 1 else f"{t:.2f} s")


def bench_cost(sizes, metrics, dtypes):
    import torch
    torch.set_num_threads(THREADS)
    from otgan.kernels import cost_matrix
    rng = np.random.default_rng(0)
    rows, results = [], []
    for m, n, d in sizes:
        y0, x0 = rng.random((m, d)), rng.random((n, d))  # pixel-like data in [0, 1)
        for dtype in dtypes:
            y, x = y0.astype(dtype), x0.astype(dtype)
            for metric in metrics:
                cost_matrix(y[:8], x[:8], metric)  # compile outside the timing
                times = {}
                for name, fn in _methods(metric, y, x).items():
                    times[name] = _timeit(fn)
                    print(f"  {m}x{n} d={d} {np.dtype(dtype).name} {metric} {name}: "
                          f"{_fmt(times[name])}", flush=True)
                ours = times["otgan"]
                results.append({"m": m, "n": n, "d": d, "dtype": np.dtype(dtype).name,
                                "metric": metric, **times})
                rows.append(
                    f"| {m}×{n}, d={d} | {metric} | {np.dtype(dtype).name} | {_fmt(ours)} "
                    f"| {_fmt(times['cdist'])} ({times['cdist'] / ours:.1f}×) "
                    f"| {_fmt(times['ot.dist'])} ({times['ot.dist'] / ours:.1f}×) "
                    f"| {_fmt(times['torch.cdist'])} ({times['torch.cdist'] / ours:.1f}×) "
                    f"| " + (f"{_fmt(times['GEMM route'])} ({ours / times['GEMM route']:.2f})"
                             if "GEMM route" in times else "—") + " |")
    head = ("| case | metric | dtype | otgan | cdist (speed-up) | ot.dist (speed-up) "
            "| torch.cdist (speed-up) | GEMM route (otgan/GEMM) |\n"
            "|---|---|---|---|---|---|---|---|")
    return head + "\n" + "\n".join(rows), results


def _targets(results):
    lines = []

    def find(metric, dtype, m, d):
        for r in results:
            if (r["metric"], r["dtype"], r["m"], r["d"]) == (metric, dtype, m, d):
                return r
        return None

    big = max(r["m"] for r in results)
    dd = max(r["d"] for r in results)
    r64 = find("l1", "float64", big, dd)
    r32 = find("l1", "float32", big, dd)
    if r64:
        s1 = r64["cdist"] / r64["otgan"]
        s2 = r64["torch.cdist"] / r64["otgan"]
        lines.append(f"- L1 float64 {big}², d={dd}: {s1:.1f}× cdist (target ≥ 15×: "
                     f"{'met' if s1 >= 15 else 'MISSED'}), {s2:.1f}× torch.cdist "
                     f"(target ≥ 4×: {'met' if s2 >= 4 else 'MISSED'})")
    if r64 and r32:
        s = r64["otgan"] / r32["otgan"]
        lines.append(f"- L1 float32 vs float64 at {big}², d={dd}: {s:.2f}× "
                     f"(target ≥ 1.7×: {'met' if s >= 1.7 else 'MISSED'})")
    for r in results:
        if r["metric"] == "l1":
            continue
        g = r["otgan"] / r["GEMM route"]
        c = r["cdist"] / r["otgan"]
        lines.append(f"- {r['metric']} {r['dtype']} {r['m']}², d={r['d']}: {g:.2f}× the "
                     f"GEMM route (target ≤ 1.2: {'met' if g <= 1.2 else 'MISSED'}), "
                     f"{c:.1f}× cdist (target ≥ 10×: {'met' if c >= 10 else 'MISSED'})")
    return "\n".join(lines)


# ----------------------------------------------------------- fresh-process probes
_COMPILE_PROBE = """
import time, numpy as np
t0 = time.perf_counter()
import otgan
from otgan.kernels import cost_matrix, dual_violation_points
t1 = time.perf_counter()
y = np.random.default_rng(0).random((16, 8))
cost_matrix(y, y, "l1")
t2 = time.perf_counter()
cost_matrix(y, y, "sqeuclidean")
t3 = time.perf_counter()
dual_violation_points(y, y, np.zeros(16), np.zeros(16))
t4 = time.perf_counter()
print({"import": t1 - t0, "l1": t2 - t1, "sqeuclidean": t3 - t2, "dual_points": t4 - t3})
"""

_MEM_PROBE = """
import sys, numpy as np
from otgan.kernels import cost_matrix, dual_violation_points
metric, n, d, what = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024
rng = np.random.default_rng(0)
z = rng.random((8, d))
cost_matrix(z, z, metric); dual_violation_points(z, z, np.zeros(8), np.zeros(8), metric)
y, x = rng.random((n, d)), rng.random((n, d))
u, v = np.zeros(n), np.zeros(n)
with open("/proc/self/clear_refs", "w") as fh:  # reset VmHWM to the current RSS
    fh.write("5")
base = status("VmRSS")
if what == "cost":
    C = cost_matrix(y, x, metric)
else:
    dual_violation_points(y, x, u, v, metric)
print(status("VmHWM") - base)
"""


def _env(cache_dir=None):
    env = dict(os.environ)
    env["NUMBA_NUM_THREADS"] = str(THREADS)
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = cache_dir
    return env


def compile_times():
    import ast
    with tempfile.TemporaryDirectory() as cache:
        runs = []
        for _ in range(2):  # 1st: empty cache (compile); 2nd: cached start
            res = subprocess.run([sys.executable, "-c", _COMPILE_PROBE], env=_env(cache),
                                 capture_output=True, text=True, check=True,
                                 cwd=HERE.parent)
            runs.append(ast.literal_eval(res.stdout.strip().splitlines()[-1]))
    rows = ["| first call | compile (empty cache) | cached start |", "|---|---|---|"]
    for key, label in (("import", "`import otgan` (compiles nothing)"),
                       ("l1", "cost_matrix l1 float64"),
                       ("sqeuclidean", "cost_matrix sqeuclidean float64"),
                       ("dual_points", "dual_violation_points l1")):
        rows.append(f"| {label} | {runs[0][key]:.2f} s | {runs[1][key]:.3f} s |")
    return "\n".join(rows)


def peak_memory(n, d, metrics):
    rows = ["| call | output | peak extra RSS |", "|---|---|---|"]
    for metric in metrics:
        for what in ("cost", "dual"):
            res = subprocess.run([sys.executable, "-c", _MEM_PROBE, metric, str(n), str(d),
                                  what], env=_env(), capture_output=True, text=True,
                                 check=True, cwd=HERE.parent)
            extra = int(res.stdout.strip().splitlines()[-1])
            label = (f"cost_matrix({metric}) float64 {n}², d={d}" if what == "cost"
                     else f"dual_violation_points({metric}) {n}², d={d}")
            output = n * n * 8 if what == "cost" else 0
            rows.append(f"| {label} | {output / 2**20:.1f} MiB | {extra / 2**20:.1f} MiB |")
    return "\n".join(rows)


def bench_fused(n, d):
    from otgan import kernels as K
    rng = np.random.default_rng(1)
    y, x = rng.random((n, d)), rng.random((n, d))
    u, v = rng.random(n), rng.random(n)
    M = K.cost_matrix(y, x)
    K.dual_violation_points(y[:8], x[:8], u[:8], v[:8])
    K.c_transform_cols_points(y[:8], x[:8], u[:8])
    cases = [
        ("dual_violation(M, u, v)", lambda: K.dual_violation(M, u, v),
         lambda: float((u[:, None] + v[None, :] - M).max())),
        ("c_transform_cols(M, u)", lambda: K.c_transform_cols(M, u),
         lambda: (M - u[:, None]).min(0)),
        ("dual_violation_points (l1)", lambda: K.dual_violation_points(y, x, u, v),
         lambda: float((u[:, None] + v[None, :] - K.cost_matrix(y, x)).max())),
        ("c_transform_cols_points (l1)", lambda: K.c_transform_cols_points(y, x, u),
         lambda: (K.cost_matrix(y, x) - u[:, None]).min(0)),
    ]
    rows = [f"| kernel ({n}², d={d}, float64) | fused | dense numpy equivalent |",
            "|---|---|---|"]
    for label, fused, dense in cases:
        rows.append(f"| {label} | {_fmt(_timeit(fused))} | {_fmt(_timeit(dense))} |")
    return "\n".join(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, smoke run")
    args = parser.parse_args(argv)
    os.environ.setdefault("NUMBA_NUM_THREADS", str(THREADS))
    from _common import write_table

    if args.quick:
        sizes = [(256, 256, 784), (512, 512, 64)]
    else:
        sizes = [(1024, 1024, 784), (4096, 4096, 784), (4096, 4096, 64)]
    dtypes = [np.float64, np.float32]
    metrics = ["l1", "sqeuclidean", "l2"]
    print("cost matrices", flush=True)
    table, results = bench_cost(sizes, metrics, dtypes)
    print("compile times", flush=True)
    ctable = compile_times()
    big_n, big_d = (512, 784) if args.quick else (4096, 784)
    print("peak memory", flush=True)
    mtable = peak_memory(big_n, big_d, ["l1", "sqeuclidean"])
    print("fused kernels", flush=True)
    ftable = bench_fused(big_n if args.quick else 4096, big_d)
    targets = _targets(results)
    text = (f"{table}\n\nTargets (issue 3, 2 cores):\n\n{targets}\n\n"
            f"Compile (fresh interpreter, empty `NUMBA_CACHE_DIR`) and cached start:\n\n"
            f"{ctable}\n\nPeak memory of one call (fresh process, VmHWM − VmRSS before "
            f"the call):\n\n{mtable}\n\nFused certificate kernels:\n\n{ftable}\n")
    notes = (f"numba and torch on {THREADS} threads; scipy cdist and POT are "
             "single-threaded by design; the GEMM route is numpy "
             "`max(‖y‖² + ‖x‖² − 2 y xᵀ, 0)` (BLAS threads as configured). "
             "Speed-ups are baseline time / otgan time; the GEMM column is otgan / GEMM.")
    print(text)
    if args.quick:  # a smoke run must not overwrite the real table
        print("(--quick: docs/_bench_kernels.md left unchanged)")
        return 0
    print("wrote", write_table("kernels", "Cost-matrix kernels (`benchmarks/bench_kernels.py`)",
                               text, notes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
