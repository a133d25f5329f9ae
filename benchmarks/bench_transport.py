"""Certified fast exact OT for general weights and m != n (issue 13) against POT.

Compares, on the issue's cases, the two sparse solvers of the candidate-graph
transportation solver (``method="fast"``, ``sparse_solver="simplex"`` and
``"ssp"``, :mod:`otgan.lp.transport`) with POT's network simplex
(``ot.emd`` with its iteration cap raised, so that it returns the optimum), and
checks every value against POT's to 1e-9 relative. otgan's times include the
full certificate (dual feasibility over all m n pairs). Also: replication to an
assignment against the transportation solver for uniform m != n, the
complete-graph cut-off (``dense_n_max``), a batch of small weighted problems,
and the peak memory of points-in mode.

Run on an idle machine (timings on a loaded one are meaningless):

    cd benchmarks && ../.venv/bin/python bench_transport.py [--quick] [--only SECTION ...]

Sections: ``solvers``, ``replication``, ``cutoff``, ``batch``, ``memory``,
``breakdown`` (where the time goes: the simplex's pivots against the rest),
``start`` (the start plan's quality), ``first_check`` (columns failing the first
check per kind of problem: the ground of ``auto``'s rules).
Writes docs/_bench_transport.md (not with ``--smoke``, which runs tiny sizes
only to check that the script works).
"""
from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import ot

import otgan
from otgan.geometry import DenseCost
from otgan.lp.assignment import replication_size, solve_fast
from otgan.lp.certify import certify
from otgan.lp.transport import SPARSE_SOLVERS, solve_transport
from _common import best_of, write_table
from bench_fast import _peak_rss_mib

CAP_S = 60.0  # POT is skipped (and its time estimated) above this


def _timed(fn, repeat=3):
    """``(best seconds, last result)``; one warm-up call first (numba compile)."""
    t0 = time.perf_counter()
    out = fn()
    first = time.perf_counter() - t0
    if first > 2:
        return first, out
    box = []
    t = best_of(lambda: box.append(fn()), repeat)
    return min(first, t), box[-1]


def _fmt(t):
    if t is None:
        return "—"
    return f"{t * 1e3:.1f} ms" if t < 1 else f"{t:.2f} s"


def _pot(M, a, b):
    """POT's exact value (cap raised); POT gets unit mass and costs in [0, 1]
    (its tolerances are absolute), the value is mapped back."""
    mass, lo = a.sum(), min(0.0, float(M.min()))
    span = max(float(M.max()) - lo, 1e-300)
    Mn = (M - lo) / span
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # a capped run must not pass silently
        val = ot.emd2(a / mass, b / b.sum(), Mn, numItermax=2**31 - 1)
    return (val * span + lo) * mass


def _grid_hist(side, rng):
    """Two random smooth densities on a side x side grid (sums of Gaussian bumps)."""
    g = np.stack(np.meshgrid(np.arange(side), np.arange(side)), -1).reshape(-1, 2)
    g = g.astype(float) / side

    def density():
        c = rng.random((4, 2))
        w = rng.random(4) + 0.2
        s = 0.05 + 0.15 * rng.random(4)
        d = sum(wk * np.exp(-((g - ck) ** 2).sum(1) / (2 * sk ** 2))
                for wk, ck, sk in zip(w, c, s)) + 1e-4
        return d / d.sum()

    return g, g, density(), density()


def _cases(quick, rng):
    """(name, y, x, a, b, metric) of the issue's targets (smaller with --quick)."""
    s = 4 if quick else 1
    n1 = 2000 // s
    y, x = rng.random((n1, 8)), rng.random((n1, 8))
    yield ("weighted (Dirichlet) L1, d = 8", y, x, rng.dirichlet(np.ones(n1)),
           rng.dirichlet(np.ones(n1)), "l1")
    m2, n2 = 4096 // s, 2048 // s
    yield ("uniform m != n L1, d = 64", rng.random((m2, 64)), rng.random((n2, 64)),
           None, None, "l1")
    n3 = 8192 // s
    yield ("weighted (Dirichlet) L1, d = 64", rng.random((n3, 64)), rng.random((n3, 64)),
           rng.dirichlet(np.ones(n3)), rng.dirichlet(np.ones(n3)), "l1")
    side = 64 // (2 if quick else 1)
    gy, gx, ha, hb = _grid_hist(side, rng)
    yield (f"histograms {side}x{side}, squared Euclidean", gy, gx, ha, hb, "sqeuclidean")
    n5 = 2000 // s
    ang = 2 * np.pi * rng.integers(0, 8, (2, n5)) / 8
    ring = np.stack([np.cos(ang), np.sin(ang)], -1) + rng.normal(0, 0.02, (2, n5, 2))
    yield ("weighted ring clusters (8 modes) L1, d = 2", ring[0], ring[1],
           rng.dirichlet(np.ones(n5)), rng.dirichlet(np.ones(n5)), "l1")


#: the shortest-path solver runs only up to this many pairs (it took 197 s on
#: the weighted 8192 x 8192 case in a first run of this script, 7.6x the simplex)
SSP_MAX_PAIRS = 2 ** 23
#: filled by the sections: target name -> (measured, target text, met)
TARGETS: dict[str, tuple[str, str, bool]] = {}


def section_solvers(quick, rng, smoke=False):
    lines = ["| case | m x n | POT `emd` (cap raised) | otgan simplex | otgan ssp | "
             "`auto` (its path) | speed-up of simplex | `auto` vs POT | rounds (simplex/ssp) "
             "| max rel. error vs POT |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    pot_rate = None  # seconds per (m n)^1.5 of the last POT run, for the estimate
    for name, y, x, a, b, metric in _cases(quick, rng):
        if smoke:
            y, x = y[:150], x[:120]
            a = None if a is None else a[:150] / a[:150].sum()
            b = None if b is None else b[:120] / b[:120].sum()
        m, n = len(y), len(x)
        a = np.full(m, 1 / m) if a is None else a
        b = np.full(n, 1 / n) if b is None else b
        b = b * (a.sum() / b.sum())
        M = otgan.kernels.cost_matrix(y, x, metric)
        size = (m * n) ** 1.5
        est = None if pot_rate is None else pot_rate * size
        if est is not None and est > CAP_S:
            t_pot, ref = None, None
        else:
            t_pot, ref = _timed(lambda: _pot(M, a, b), repeat=1 if m * n > 2**22 else 3)
            pot_rate = t_pot / size
        res, times = {}, {}
        for solver in SPARSE_SOLVERS:
            if solver == "ssp" and m * n > SSP_MAX_PAIRS:
                continue
            # points in, as a user would call it; the registry densifies below 2^26 pairs
            times[solver], res[solver] = _timed(lambda: otgan.solve_samples(
                y, x, a, b, metric=metric, method="fast", sparse_solver=solver))
        t_auto, r_auto = _timed(lambda: otgan.solve_samples(y, x, a, b, metric=metric))
        res["auto"] = r_auto
        if ref is None:  # no POT value: the solvers must agree with each other
            ref = res["simplex"].value
        err = max(abs(r.value - ref) / abs(ref) for r in res.values())
        t_s = times["simplex"]
        speed = (f"{t_pot / t_s:.1f}×" if t_pot is not None
                 else f"≥ {CAP_S / t_s:.1f}× (POT est. {est:.0f} s, skipped)")
        auto_vs = (f"{t_pot / t_auto:.2f}×" if t_pot is not None
                   else f"≥ {CAP_S / t_auto:.1f}×")
        ssp = _fmt(times["ssp"]) if "ssp" in times else "not run (> 2^23 pairs)"
        rounds = f"{res['simplex'].n_iter}/{res['ssp'].n_iter if 'ssp' in res else '–'}"
        lines.append(f"| {name} | {m} x {n} | {_fmt(t_pot)} | {_fmt(t_s)} | {ssp} | "
                     f"{_fmt(t_auto)} ({r_auto.method}) | {speed} | {auto_vs} | {rounds} | "
                     f"{err:.1e} |")
        print(lines[-1], flush=True)
        _record_target(name, t_pot, t_s, t_auto, est, err, r_auto.method)
    return "\n".join(lines)


def _record_target(name, t_pot, t_s, t_auto, est, err, auto_path):
    """The issue's targets for the solver cases (values to 1e-9 of POT too)."""
    exact = err <= 1e-9
    if name.startswith("weighted (Dirichlet) L1, d = 8"):
        TARGETS["weighted 2000 x 2000, d = 8: >= 5x POT"] = (
            f"{t_pot / t_s:.1f}×", ">= 5×", t_pot / t_s >= 5 and exact)
    elif name.startswith("uniform m != n"):
        TARGETS["uniform 4096 x 2048, d = 64: >= 10x POT"] = (
            f"{t_pot / t_s:.1f}×", ">= 10×", t_pot / t_s >= 10 and exact)
    elif name.startswith("weighted (Dirichlet) L1, d = 64"):
        pot = _fmt(t_pot) if t_pot is not None else f"POT est. {est:.0f} s"
        TARGETS["weighted 8192 x 8192, d = 64: <= 2 s"] = (
            f"{_fmt(t_s)} ({pot})", "<= 2 s", t_s <= 2 and exact)
    elif name.startswith("histograms"):
        TARGETS["histograms 64 x 64 grid: >= 3x POT"] = (
            f"{t_pot / t_s:.2f}× (`auto`: {t_pot / t_auto:.2f}×)", ">= 3×",
            t_pot / t_s >= 3 and exact)
    if t_pot is not None:
        _record_auto(name, t_pot, t_auto, auto_path)


def _record_auto(name, t_pot, t_auto, path):
    """`auto` is not slower than POT: by measurement where it takes its own
    path, by construction where it runs POT's network simplex (then the
    ratio shows only the timing noise and otgan's certificate)."""
    ratio = t_pot / t_auto
    if path == "emd":
        TARGETS[f"`auto` not slower than POT: {name}"] = (
            f"{ratio:.2f}× (runs POT itself)", "same solver", True)
    else:
        TARGETS[f"`auto` not slower than POT: {name}"] = (
            f"{ratio:.2f}× ({path})", ">= 0.9×", ratio >= 0.9)


def section_replication(quick, rng, smoke=False):
    """Uniform m != n: replication to an lcm(m, n) assignment or the transport solver."""
    lines = ["| m x n | lcm | POT `emd` | replicated assignment | transport (simplex) |",
             "|---|---|---|---|---|"]
    shapes = [(1024, 512), (2048, 1024), (1536, 1024)] if not quick else [(512, 256)]
    if smoke:
        shapes = [(96, 64)]
    for m, n in shapes:
        y, x = rng.random((m, 16)), rng.random((n, 16))
        M = otgan.kernels.cost_matrix(y, x)
        a, b = np.full(m, 1 / m), np.full(n, 1 / n)
        t_pot, ref = _timed(lambda: _pot(M, a, b))
        lcm = m * n // int(np.gcd(m, n))
        if replication_size(m, n) is not None:
            t_rep, raw = _timed(lambda: solve_fast(DenseCost(M), a, b))
        else:
            t_rep, raw = None, None
        t_tr, raw_t = _timed(lambda: solve_transport(DenseCost(M), a, b))
        for r in (raw, raw_t):
            if r is not None:
                cert = certify(DenseCost(M), a, b, r)
                assert cert.is_optimal and abs(cert.primal_value - ref) <= 1e-9 * ref
        lines.append(f"| {m} x {n} | {lcm} | {_fmt(t_pot)} | "
                     f"{_fmt(t_rep) if raw is not None else 'not replicated'} | "
                     f"{_fmt(t_tr)} |")
        print(lines[-1], flush=True)
    return "\n".join(lines)


def section_cutoff(quick, rng, smoke=False):
    """Complete graph (dense_n_max large) vs candidate graph (dense_n_max = 0)."""
    lines = ["| n (weighted, d = 8) | POT `emd` | complete graph | candidate graph | `auto` |",
             "|---|---|---|---|---|"]
    sizes = [16, 32, 64, 128, 256, 512] if not smoke else [16, 32]
    for n in sizes:
        y, x = rng.random((n, 8)), rng.random((n, 8))
        M = otgan.kernels.cost_matrix(y, x)
        a, b = rng.dirichlet(np.ones(n)), rng.dirichlet(np.ones(n))
        b *= a.sum() / b.sum()
        t_pot, _ = _timed(lambda: otgan.solve_ot(M, a, b, method="emd"), repeat=5)
        t_c, _ = _timed(lambda: otgan.solve_ot(M, a, b, method="fast", dense_n_max=n),
                        repeat=5)
        t_s, _ = _timed(lambda: otgan.solve_ot(M, a, b, method="fast", dense_n_max=0),
                        repeat=5)
        t_a, r_a = _timed(lambda: otgan.solve_ot(M, a, b), repeat=5)
        lines.append(f"| {n} | {_fmt(t_pot)} | {_fmt(t_c)} | {_fmt(t_s)} | {_fmt(t_a)} "
                     f"({r_a.method}) |")
        _record_auto(f"weighted {n} x {n}", t_pot, t_a, r_a.method)
        print(lines[-1], flush=True)
    return "\n".join(lines)


def section_batch(quick, rng, smoke=False):
    import numba

    import otgan.batch  # noqa: F401
    B, m, n = (256, 64, 48) if not smoke else (8, 64, 48)
    M = rng.random((B, m, n))
    A = rng.dirichlet(np.ones(m), size=B)
    Bw = rng.dirichlet(np.ones(n), size=B)

    def loop_pot():
        return [ot.emd(A[k], Bw[k], M[k], log=True) for k in range(B)]

    def loop_fast():
        return [otgan.solve_ot(M[k], A[k], Bw[k], method="fast") for k in range(B)]

    def batch(method):
        return lambda: otgan.batch.solve_ot_batch(M, A, Bw, method=method)

    t_pot, ref = _timed(loop_pot)
    t_loop, _ = _timed(loop_fast)
    t_pool, _ = _timed(batch("emd"))
    t_auto, r_auto = _timed(batch("auto"))
    t_batch, res = _timed(batch("fast"))
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        t_one, _ = _timed(batch("fast"))
    finally:
        numba.set_num_threads(threads)
    err = max(abs(r.value - f[1]["cost"]) / f[1]["cost"] for r, f in zip(res, ref))
    lines = [f"| B = {B} weighted {m} x {n} | time | vs POT loop |", "|---|---|---|",
             f"| Python loop over `ot.emd(..., log=True)` (uncertified) | {_fmt(t_pot)} | 1× |",
             f"| Python loop over `solve_ot(method='fast')` (certified) | {_fmt(t_loop)} | "
             f"{t_pot / t_loop:.2f}× |",
             f"| `solve_ot_batch(method='emd')` (POT in a thread pool of {threads}, "
             f"certified) | {_fmt(t_pool)} | {t_pot / t_pool:.2f}× |",
             f"| `solve_ot_batch(method='auto')` (path: {r_auto[0].method}) | "
             f"{_fmt(t_auto)} | {t_pot / t_auto:.2f}× |",
             f"| `solve_ot_batch(method='fast')` (batched network simplex, {threads} numba "
             f"threads, certified) | {_fmt(t_batch)} | {t_pot / t_batch:.2f}× |",
             f"| the same on 1 numba thread | {_fmt(t_one)} | {t_pot / t_one:.2f}× |",
             "", f"max rel. error of the batched values vs POT: {err:.1e}"]
    TARGETS["batched B = 256 weighted 64 x 48: >= 5x a POT loop"] = (
        f"{t_pot / t_batch:.2f}× ({t_pot / t_one:.2f}× on 1 thread)", ">= 5×",
        t_pot / t_batch >= 5 and err <= 1e-9)
    print("\n".join(lines), flush=True)
    return "\n".join(lines)


def section_memory(quick, rng, smoke=False):
    n = 16384 if not quick else 4096
    if smoke:
        n = 512
    setup = (f"y, x = rng.random(({n}, 64)), rng.random(({n}, 64))\n"
             f"a, b = rng.dirichlet(np.ones({n})), rng.dirichlet(np.ones({n}))\n"
             f"otgan.solve_samples(y[:300], x[:300], a[:300] / a[:300].sum(), "
             f"b[:300] / b[:300].sum(), method='fast', points_in=True, dense_n_max=0)\n")
    rows = {}
    code = setup + "###otgan.solve_samples(y, x, a, b, method='fast', points_in=True)"
    rows["otgan points-in, `method='fast'` (default sparse solver)"] = _peak_rss_mib(code)
    TARGETS[f"points-in weighted n = {n}, d = 64: peak memory < 64 MiB"] = (
        f"{rows[next(iter(rows))]:.0f} MiB", "< 64 MiB", rows[next(iter(rows))] < 64)
    lines = [f"| peak RSS growth, weighted n = {n}, d = 64 | MiB | target |", "|---|---|---|"]
    lines += [f"| {k} | {v:.0f} | < 64 MiB {'met' if v < 64 else 'MISSED'} |"
              for k, v in rows.items()]
    print("\n".join(lines), flush=True)
    return "\n".join(lines)


def section_breakdown(quick, rng, smoke=False):
    """Where the candidate-graph solver's time goes: the network simplex's
    pivots against everything else (candidate lists, start plan, checks over
    all pairs), from the kernels' own counts -- the measured cause of the
    missed speed targets."""
    import otgan.kernels.transport as kt
    import otgan.lp.transport as tr

    real = kt.simplex_transport
    log = []

    def counted(*args):
        t0 = time.perf_counter()
        out = real(*args)
        log.append((time.perf_counter() - t0, out[1], len(args[0])))
        return out

    lines = ["| problem | total | simplex | pivots | µs per pivot | nodes | "
             "edges (last round) | rounds | the rest (lists, start, checks) |",
             "|---|---|---|---|---|---|---|---|---|"]
    sizes = [(1000, 8), (2000, 8), (4096, 64), (8192, 64)] if not quick else [(1000, 8)]
    if smoke:
        sizes = [(200, 8)]
    kt.simplex_transport = counted
    try:
        for n, d in sizes:
            y, x = rng.random((n, d)), rng.random((n, d))
            a, b = rng.dirichlet(np.ones(n)), rng.dirichlet(np.ones(n))
            b *= a.sum() / b.sum()
            geom = DenseCost(otgan.kernels.cost_matrix(y, x, "l1"))
            tr.solve_transport(geom, a, b)  # warm-up
            log.clear()
            t0 = time.perf_counter()
            raw = tr.solve_transport(geom, a, b)
            total = time.perf_counter() - t0
            t_s = sum(t for t, _, _ in log)
            piv = sum(p for _, p, _ in log)
            lines.append(f"| weighted {n} x {n}, d = {d} | {_fmt(total)} | {_fmt(t_s)} | "
                         f"{piv} | {t_s / max(piv, 1) * 1e6:.1f} | {2 * n} | {log[-1][2]} | "
                         f"{raw.n_iter} | {_fmt(total - t_s)} |")
            print(lines[-1], flush=True)
    finally:
        kt.simplex_transport = real
    return "\n".join(lines)


def section_start(quick, rng, smoke=False):
    """The start plan: the north-west corner rule for the mass the greedy plan
    on the candidates left over (the first version) against a greedy plan on
    the left-over block (now); and the greedy's sort."""
    import otgan.kernels.transport as kt
    import otgan.lp.transport as tr

    n = 2000 if not smoke else 200
    y, x = rng.random((n, 8)), rng.random((n, 8))
    a, b = rng.dirichlet(np.ones(n)), rng.dirichlet(np.ones(n))
    b *= a.sum() / b.sum()
    M = otgan.kernels.cost_matrix(y, x, "l1")
    geom = DenseCost(M)
    opt = _pot(M, a, b)
    rv, ri, cv, ci = geom.topk(8, 8)
    rows = np.concatenate([np.repeat(np.arange(n), ri.shape[1]), ci.ravel()])
    cols = np.concatenate([ri.ravel(), np.repeat(np.arange(n), ci.shape[1])])
    g = kt.transport_graph(rows, cols, np.concatenate([rv.ravel(), cv.ravel()]),
                           np.zeros(len(rows)), n, n)
    _, idx, cost, _, erow, _, _ = g
    thr = 1e-13 * a.sum()
    eps = 1e-13 * float(np.abs(M).max())
    starts = {}
    nr, nc, nf, cf = kt.feasible_support(a, b, erow, idx, cost, thr)
    starts["north-west corner for the left-over mass (first version)"] = (
        nr, nc, M[nr, nc], nf, cf)
    starts["greedy on the left-over block (now)"] = tr.start_plan(
        geom, a, b, erow, idx, cost, thr)
    lines = [f"| start plan (weighted {n} x {n}, d = 8) | mass left over by the greedy on "
             "the candidates | start cost above the optimum | first-solve pivots |",
             "|---|---|---|---|"]
    for name, (nr, nc, ncost, nf, cf) in starts.items():
        er, ec = np.concatenate([erow, nr]), np.concatenate([idx, nc])
        co = np.concatenate([cost, ncost])
        flow = np.concatenate([cf, nf])
        start_cost = float(flow @ co)
        tree = kt.simplex_tree(er, ec, co, flow, n, n)
        _, pivots, _ = kt.simplex_transport(er, ec, co, flow, n, *tree[:7], eps, 10 ** 9, 0)
        lines.append(f"| {name} | {nf.sum() / a.sum():.1%} | "
                     f"{start_cost / opt - 1:.1%} | {pivots} |")
    E = 64 * 48
    costs = rng.random(E)
    t_order, _ = _timed(lambda: kt.cost_order(costs), repeat=200)
    t_merge, _ = _timed(lambda: np.argsort(costs, kind="mergesort"), repeat=200)
    lines += ["", f"The greedy's order of {E} costs (a 64 x 48 problem): `cost_order` "
              f"{t_order * 1e6:.0f} µs, numpy's merge sort {t_merge * 1e6:.0f} µs."]
    print("\n".join(lines), flush=True)
    return "\n".join(lines)


class _FirstCheck(DenseCost):
    """A cost matrix that records, at the first check over all pairs (the
    first ``topk`` call with offsets), the fraction of violated columns."""

    def topk(self, kr, kc, off_r=None, off_c=None):
        out = super().topk(kr, kc, off_r, off_c)
        if off_c is not None and not hasattr(self, "violated"):
            eps = 1e-12 * float(np.abs(self.M).max())
            object.__setattr__(self, "violated", float(np.mean(out[2][:, 0] < off_c - eps)))
        return out


def section_first_check(quick, rng, smoke=False):
    """How far the optimal plan moves mass beyond the nearest neighbours: the
    fraction of columns that fail the first check over all pairs, against the
    candidate solver's and POT's times (the ground of `auto`'s rules)."""
    s = 2 if smoke else 1
    n = 2000 // (4 * s if smoke else 1)
    cases = []
    gy, gx, ha, hb = _grid_hist(32 // s, rng)
    cases.append((f"histograms {32 // s}x{32 // s}, squared Euclidean", gy, gx, ha, hb,
                  "sqeuclidean"))
    ang = 2 * np.pi * rng.integers(0, 8, (2, n)) / 8
    ring = np.stack([np.cos(ang), np.sin(ang)], -1) + rng.normal(0, 0.02, (2, n, 2))
    cases.append(("weighted ring clusters, d = 2, L1", ring[0], ring[1],
                  rng.dirichlet(np.ones(n)), rng.dirichlet(np.ones(n)), "l1"))
    for d, metric in ((2, "sqeuclidean"), (3, "l1"), (8, "l1"), (64, "l1")):
        cases.append((f"weighted uniform points, d = {d}, {metric}", rng.random((n, d)),
                      rng.random((n, d)), rng.dirichlet(np.ones(n)),
                      rng.dirichlet(np.ones(n)), metric))
    lines = ["| case | m x n | columns failing the first check | candidate solver | POT `emd` "
             "| rounds |", "|---|---|---|---|---|---|"]
    for name, y, x, a, b, metric in cases:
        b = b * (a.sum() / b.sum())
        M = otgan.kernels.cost_matrix(y, x, metric)
        t_pot, _ = _timed(lambda: _pot(M, a, b))
        geom = _FirstCheck(M)
        solve_transport(geom, a, b)  # records the first check
        t_fast, raw = _timed(lambda: solve_transport(DenseCost(M), a, b))
        lines.append(f"| {name} | {len(y)} x {len(x)} | {geom.violated:.1%} | "
                     f"{_fmt(t_fast)} | {_fmt(t_pot)} | {raw.n_iter} |")
        print(lines[-1], flush=True)
    return "\n".join(lines)


SECTIONS = {"solvers": section_solvers, "replication": section_replication,
            "cutoff": section_cutoff, "batch": section_batch, "memory": section_memory,
            "breakdown": section_breakdown, "start": section_start,
            "first_check": section_first_check}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes, nothing written: checks that the script runs")
    parser.add_argument("--only", nargs="+", choices=sorted(SECTIONS), default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    parts = []
    for name in args.only or list(SECTIONS):
        print(f"## {name}", flush=True)
        parts.append(f"### {name}\n\n" + SECTIONS[name](args.quick, rng, args.smoke))
    if TARGETS:
        rows = ["| target | measured | goal | verdict |", "|---|---|---|---|"]
        rows += [f"| {k} | {v[0]} | {v[1]} | {'met' if v[2] else 'MISSED'} |"
                 for k, v in TARGETS.items()]
        print("\n".join(rows), flush=True)
        parts.append("### targets\n\n" + "\n".join(rows))
    if args.smoke:
        return
    notes = ("otgan times include the certificate (primal feasibility, dual feasibility "
             "over all m n pairs, zero gap) and start from the points (the registry "
             "builds the cost matrix below 2^26 pairs); POT gets the cost matrix and its "
             "iteration cap raised to 2^31 - 1 (a capped run raises here). `rounds` = "
             "sparse solves before the check over all pairs held. `auto` is "
             "`solve_samples` with its default method; its path `fast-transport` is the "
             "candidate-graph solver, `fast-transport-fallback` the dense network "
             "simplex after the candidate rounds gave up, `emd` POT. The shortest-path "
             "solver runs only up to 2^23 pairs. POT is skipped where its time, "
             "estimated as (m n)^1.5 from the previous case, exceeds 60 s. Peak memory "
             "is the growth of max RSS in a fresh interpreter, after a warm-up solve "
             "that compiles the kernels. One run of each timing after a warm-up (best "
             "of 3 below 2 s).")
    path = write_table("transport", "Certified fast exact OT for general weights and "
                       "m ≠ n vs POT", "\n\n".join(parts), notes)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
