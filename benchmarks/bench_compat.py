"""POT's ``ot.emd2`` against its drop-in ``otgan.compat.emd2``.

Problems (seeded): uniform weights, ``n = 1024`` and ``4096`` points in
``[0, 1]^64`` with L1 costs; Dirichlet(1) weights, ``m = n = 2000`` points in
``[0, 1]^8`` with L1 costs. The dense cost matrix is built once, outside the
timings; both functions get the same ``(a, b, M)``.

* ``ot.emd2(a, b, M, numItermax=K, log=True)`` with ``K = max(1e6, 50 m n)``
  (otgan's own budget), so that POT too returns the optimum; its status is
  recorded. POT's default ``numItermax = 100000`` is also run once per problem
  to record whether it would have stopped early (status 3, a warning and a
  non-optimal value).
* ``compat.emd2(a, b, M, log=True)``: exact, certificate included (it is
  computed inside every call; its verdict is recorded).

Each timing is the median of ``--repeat`` runs, the two functions alternating,
after a warm-up on a small problem (POT import, numba compilation). The 1-minute
load average is recorded before and after each problem: the machine is shared,
so absolute times are inflated when the load exceeds the number of cores.

``python benchmarks/bench_compat.py`` writes ``benchmarks/results/compat.json``
and ``docs/_bench_compat.md`` (generated; do not edit).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

CASES = [  # (label, m, n, d, weights)
    ("uniform, n = 1024, d = 64, L1", 1024, 1024, 64, "uniform"),
    ("uniform, n = 4096, d = 64, L1", 4096, 4096, 64, "uniform"),
    ("Dirichlet weights, m = n = 2000, d = 8, L1", 2000, 2000, 8, "dirichlet"),
]


def _problem(m, n, d, weights, seed):
    from scipy.spatial.distance import cdist
    rng = np.random.default_rng(seed)
    y, x = rng.random((m, d)), rng.random((n, d))
    M = np.ascontiguousarray(cdist(y, x, "cityblock"))
    if weights == "uniform":
        return np.full(m, 1.0 / m), np.full(n, 1.0 / n), M
    a, b = rng.dirichlet(np.ones(m)), rng.dirichlet(np.ones(n))
    return a, b / b.sum() * a.sum(), M


def _load() -> float:
    return os.getloadavg()[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import ot
    from otgan import compat

    a0, b0, M0 = _problem(64, 64, 4, "dirichlet", 99)  # warm-up: imports, numba
    ot.emd2(a0, b0, M0)
    compat.emd2(a0, b0, M0)
    compat.emd2([], [], M0)

    rows = []
    for k, (label, m, n, d, weights) in enumerate(CASES):
        a, b, M = _problem(m, n, d, weights, args.seed + k)
        budget = int(max(10 ** 6, 50 * m * n))
        load_before = _load()
        t_pot, t_compat = [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            w_pot, log_pot = ot.emd2(a, b, M, numItermax=budget, log=True)
            t_pot.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            w_compat, log_compat = compat.emd2(a, b, M, log=True)
            t_compat.append(time.perf_counter() - t0)
        load_after = _load()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            w_default, log_default = ot.emd2(a, b, M, log=True)  # POT's numItermax=1e5
        cert = log_compat["certificate"]
        row = {
            "problem": label, "m": m, "n": n, "d": d, "weights": weights,
            "repeat": args.repeat,
            "pot_s": statistics.median(t_pot), "pot_runs_s": t_pot,
            "compat_s": statistics.median(t_compat), "compat_runs_s": t_compat,
            "speedup": statistics.median(t_pot) / statistics.median(t_compat),
            "pot_value": float(w_pot), "compat_value": float(w_compat),
            "rel_diff": abs(float(w_pot) - float(w_compat)) / abs(float(w_pot)),
            "pot_numItermax": budget, "pot_result_code": int(log_pot["result_code"]),
            "compat_method": log_compat["method"],
            "certificate": cert.summary(), "certified": bool(cert.is_optimal),
            "pot_default_result_code": int(log_default["result_code"]),
            "pot_default_rel_error": (float(w_default) - float(w_pot)) / abs(float(w_pot)),
            "pot_default_warnings": [str(w.message) for w in caught],
            "load_before": load_before, "load_after": load_after,
        }
        rows.append(row)
        print(json.dumps({k: v for k, v in row.items() if not k.endswith("runs_s")}),
              flush=True)

    out = {"cores": os.cpu_count(), "rows": rows,
           "measured_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "command": "python benchmarks/bench_compat.py" +
                      (f" --repeat {args.repeat}" if args.repeat != 3 else "")}
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "compat.json"), "w") as fh:
        json.dump(out, fh, indent=2)
    _write_table(out)


def _write_table(out: dict) -> None:
    from _common import machine
    rows = out["rows"]
    loads = [r[k] for r in rows for k in ("load_before", "load_after")]
    lines = [
        "<!-- generated by benchmarks/bench_compat.py; do not edit -->",
        "",
        f"Machine: {machine()}  ",
        f"Measured {out['measured_utc']}; median of {rows[0]['repeat']} runs each, "
        f"`ot.emd2` and `compat.emd2` alternating.",
        "",
        f"**Shared machine:** {out['cores']} cores, 1-minute load average between "
        f"{min(loads):.2f} and {max(loads):.2f} during the runs"
        + (" (other jobs were running), so absolute times are inflated and somewhat "
           "noisy" if max(loads) > 1.0 else "")
        + "; both functions ran under the same load.",
        "",
        "| problem | `ot.emd2` (s) | `compat.emd2` (s) | speed-up | compat method | "
        "certified | rel. value difference | `ot.emd2` with default `numItermax` |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        default = ("optimal" if r["pot_default_result_code"] == 1 else
                   f"stops early (status {r['pot_default_result_code']}, value off by "
                   f"{r['pot_default_rel_error']:+.2e}, warns)")
        lines.append(
            f"| {r['problem']} | {r['pot_s']:.3g} | {r['compat_s']:.3g} | "
            f"{r['speedup']:.1f}x | {r['compat_method']} | "
            f"{'yes' if r['certified'] else 'NO'} | "
            f"{r['rel_diff']:.1e} | {default} |")
    lines += [
        "",
        "`ot.emd2` ran with `numItermax = max(1e6, 50 m n)` so that it too reaches "
        "the optimum (status "
        + ", ".join(str(r["pot_result_code"]) for r in rows)
        + "); `compat.emd2` times include its optimality certificate. The last "
        "column is POT with its default `numItermax = 100000`.",
        "",
        f"Command: `{out['command']}`",
        "",
    ]
    text = "\n".join(lines)
    _write(os.path.join(ROOT, "docs", "_bench_compat.md"), text)
    # the same text, between the markers of docs/migration.md (tests/test_compat.py
    # checks that the two agree)
    doc = os.path.join(ROOT, "docs", "migration.md")
    if os.path.exists(doc):
        with open(doc) as fh:
            old = fh.read()
        head, sep, rest = old.partition(START)
        _, sep2, tail = rest.partition(END)
        if sep and sep2:
            _write(doc, head + START + "\n" + text + END + tail)


#: docs/migration.md holds the generated table between these markers
START = "<!-- begin bench_compat -->"
END = "<!-- end bench_compat -->"


def _write(path: str, text: str) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


if __name__ == "__main__":
    main()
