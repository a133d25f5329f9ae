"""Scale sweep: does any method return a *certified wrong* answer when the costs
or the weights are multiplied by 10**k?

For each random problem the reference value W is computed once at scale 1
(POT's network simplex with a raised iteration cap, checked against the cvxpy
LP). Then every method solves ``(c M, w a, w b)`` for ``c`` and ``w`` in
``10**k``, ``k = -12 … 12``; the exact answer is ``c w W``. An answer counts as

* ``ok``        — certified and within ``1e-7`` relative of ``c w W``
  (relative to ``c w max|M| mass``, the problem's own scale);
* ``wrong``     — certified but outside that bound (the defect this guards);
* ``refused``   — the method raised a clear error (``OTSolverError`` or
  ``ValueError``) instead of answering;
* ``crashed``   — any other exception.

Run ``python benchmarks/scale_sweep.py --label after --out
benchmarks/results/scale_sweep_after.json``; the JSON holds the counts per
method and per factor kind (``batch-*``: :func:`otgan.solve_ot_batch` on stacks
of square problems). ``--table docs/_scale_sweep.md`` writes the before/after
table from ``benchmarks/results/scale_sweep_{before,after}.json``
(``before`` was run at commit b5f907a, before the certificate became
scale-invariant; it has no batch rows).
"""
from __future__ import annotations

import argparse
import json
import platform
import time

import os

import numpy as np

import otgan
from _common import write_atomic
from otgan.errors import OTSolverError

KS = list(range(-12, 13))
METHODS = ("emd", "lp", "fast", "auto")


def problems(seed: int, count: int):
    """Random dense problems of a few kinds: uniform square, weighted, m != n,
    with zero weights, with negative costs."""
    rng = np.random.default_rng(seed)
    for t in range(count):
        kind = t % 5
        m = int(rng.integers(2, 12))
        n = m if kind in (0, 4) else int(rng.integers(2, 12))
        M = rng.random((m, n))
        a = b = None
        if kind in (1, 2):
            a = rng.dirichlet(np.ones(m))
            b = rng.dirichlet(np.ones(n))
        if kind == 3:
            a = rng.random(m) * (rng.random(m) > 0.3)
            a[0] += 0.1
            b = rng.random(n) * (rng.random(n) > 0.3)
            b[0] += 0.1
            b *= a.sum() / b.sum()
        if kind == 4:
            M = M - 3.0
        yield f"kind{kind}", M, a, b


def reference(M, a, b) -> float:
    import ot
    m, n = M.shape
    aa = np.full(m, 1 / m) if a is None else a
    bb = np.full(n, 1 / n) if b is None else b
    shift = M.min()
    return float(ot.emd2(aa, bb, M - shift, numItermax=10**7)) + shift * aa.sum()


def run(seed: int, count: int) -> dict:
    counts: dict = {}
    examples: dict = {}
    for kind, M, a, b in problems(seed, count):
        W = reference(M, a, b)
        mass = 1.0 if a is None else float(a.sum())
        scale = float(np.abs(M).max())
        for method in METHODS:
            for what in ("costs", "weights"):
                key = f"{method}/{what}"
                c = counts.setdefault(key, {"ok": 0, "wrong": 0, "refused": 0, "crashed": 0})
                for k in KS:
                    f = 10.0 ** k
                    Mk, ak, bk = M, a, b
                    if what == "costs":
                        Mk = M * f
                        expect, unit = W * f, scale * f * mass
                    else:
                        m, n = M.shape
                        ak = (np.full(m, 1 / m) if a is None else a) * f
                        bk = (np.full(n, 1 / n) if b is None else b) * f
                        expect, unit = W * f, scale * mass * f
                    try:
                        res = otgan.solve_ot(Mk, ak, bk, method=method)
                    except (OTSolverError, ValueError) as exc:
                        c["refused"] += 1
                        examples.setdefault(f"{key}/refused", f"{kind} k={k}: {exc}"[:300])
                        continue
                    except Exception as exc:  # noqa: BLE001 - counted, not hidden
                        c["crashed"] += 1
                        examples.setdefault(f"{key}/crashed",
                                            f"{kind} k={k}: {type(exc).__name__}: {exc}"[:300])
                        continue
                    err = abs(res.value - expect) / unit
                    if res.certificate.is_optimal and err <= 1e-7:
                        c["ok"] += 1
                    elif res.certificate.is_optimal:
                        c["wrong"] += 1
                        examples.setdefault(f"{key}/wrong",
                                            f"{kind} k={k}: value {res.value!r} vs {expect!r}")
                    else:  # an uncertified result must never be returned
                        c["crashed"] += 1
    _batch_sweep(seed, counts, examples)
    return {"counts": counts, "examples": examples}


def _batch_sweep(seed: int, counts: dict, examples: dict) -> None:
    rng = np.random.default_rng(seed + 1)
    stack = rng.random((6, 7, 7))
    stack[3:] -= 3.0  # negative costs in half of the problems
    W = np.array([reference(M, None, None) for M in stack])
    unit = np.abs(stack).max(axis=(1, 2))
    for method in ("auto", "emd"):
        for what in ("costs", "weights"):
            key = f"batch-{method}/{what}"
            c = counts.setdefault(key, {"ok": 0, "wrong": 0, "refused": 0, "crashed": 0})
            for k in KS:
                f = 10.0 ** k
                Ms, w = (stack * f, None) if what == "costs" else (stack, np.full(7, f / 7))
                try:
                    out = otgan.solve_ot_batch(Ms, w, w, method=method)
                except (OTSolverError, ValueError) as exc:
                    c["refused"] += len(stack)
                    examples.setdefault(f"{key}/refused", f"k={k}: {exc}"[:300])
                    continue
                except Exception as exc:  # noqa: BLE001 - counted, not hidden
                    c["crashed"] += len(stack)
                    examples.setdefault(f"{key}/crashed",
                                        f"k={k}: {type(exc).__name__}: {exc}"[:300])
                    continue
                for r, ref, u in zip(out, W, unit):
                    good = abs(r.value - ref * f) <= 1e-7 * u * f
                    if r.certificate.is_optimal and good:
                        c["ok"] += 1
                    elif r.certificate.is_optimal:
                        c["wrong"] += 1
                        examples.setdefault(f"{key}/wrong", f"k={k}: {r.value!r} vs {ref * f!r}")
                    else:
                        c["crashed"] += 1


def write_table(path: str) -> None:
    """The before/after table, from the committed JSON summaries only."""
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
    runs = {}
    for label in ("before", "after"):
        with open(os.path.join(here, f"scale_sweep_{label}.json")) as fh:
            runs[label] = json.load(fh)
    keys = sorted(set(runs["before"]["counts"]) | set(runs["after"]["counts"]))
    lines = ["<!-- generated by benchmarks/scale_sweep.py --table; do not edit -->",
             "",
             "| method / factor on | before: ok | wrong (certified!) | refused | crashed "
             "| after: ok | wrong (certified!) | refused | crashed |",
             "|---|---|---|---|---|---|---|---|---|"]
    for key in keys:
        cells = []
        for label in ("before", "after"):
            c = runs[label]["counts"].get(key)
            cells += ([str(c[f]) for f in ("ok", "wrong", "refused", "crashed")] if c
                      else ["—"] * 4)
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    lines += ["", "Commands: " + "; ".join(
        f"`{runs[x]['command']}` ({x}, otgan at commit {runs[x].get('otgan_commit', '?')})"
        for x in ("before", "after")), ""]
    write_atomic(path, "\n".join(lines))


def _commit_of_otgan() -> str:
    """The git commit of the otgan package that was measured."""
    import subprocess
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, cwd=os.path.dirname(otgan.__file__),
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problems", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None)
    ap.add_argument("--label", default="")
    ap.add_argument("--table", default=None, help="write the before/after markdown table")
    args = ap.parse_args()
    if args.table:
        write_table(args.table)
        return
    t0 = time.perf_counter()
    out = run(args.seed, args.problems)
    out.update(label=args.label, problems=args.problems, seed=args.seed, ks=[KS[0], KS[-1]],
               otgan=otgan.__version__, machine=platform.machine(),
               seconds=round(time.perf_counter() - t0, 1),
               otgan_commit=_commit_of_otgan(),
               command=("PYTHONPATH=<checkout of that commit> " if os.environ.get("PYTHONPATH")
                        else "") + f"python benchmarks/scale_sweep.py --problems "
                       f"{args.problems} --seed {args.seed} --label {args.label}")
    text = json.dumps(out, indent=1, sort_keys=True)
    if args.out:
        write_atomic(args.out, text + "\n")
    for key, c in sorted(out["counts"].items()):
        print(f"{key:16s} {c}")


if __name__ == "__main__":
    main()
