"""The numbers behind the Jacobian Clamping defaults (``otgan.gan.addons.jacobian.JCDefaults``).

For every built-in data set: the data scale ``s_data = sqrt(tr Cov(x) / min(d_z, d_x))``
(the RMS singular value a generator needs to reproduce the data's total
variance from z ~ N(0, I)), the mode std and the smallest distance between
two modes (mixtures). For each kind of generator (2-D MLP, digits conv) with
the trainer's default sizes, freshly initialised over several seeds: the
quotient Q of Jacobian Clamping at the default eps, at the published eps = 1
and the exact directional derivative ||J d|| (``torch.func.jvp``) in the same
directions, the share of Q inside the default band, the penalty at
initialisation, and the log condition number summary (and its time, one
thread, 200 points). The published setting
(Odena et al. 2018: eps = 1, band [1, 20], 32x32x3 images in [-1, 1],
d_z = 128) is put on the same scale with the commonly quoted CIFAR-10
per-channel standard deviations (quoted, not measured here).

Cited by ``docs/addons.md``. Usage::

    .venv/bin/python benchmarks/jc_defaults.py [--seeds 5] [--n 2000] \\
        [--out benchmarks/results/jc_defaults.json]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from benchmarks._common import machine, write_atomic  # noqa: E402
from otgan.gan.data import DATASETS, load_dataset  # noqa: E402
from otgan.gan.addons.jacobian import (JC_DEFAULTS, condition_number_summary,  # noqa: E402
                                       jacobian_clamping_penalty)
from otgan.gan.nets import build_nets  # noqa: E402

#: Generator sizes of the trainer's defaults: (z_dim, hidden, depth).
KINDS = {"2d": ((2,), 2, 256, 3), "image": ((1, 8, 8), 32, 128, 3)}
#: CIFAR-10 per-channel std on [0, 1] (the widely used normalisation constants).
CIFAR_STD = (0.2470, 0.2435, 0.2616)
PUBLISHED = {"eps": 1.0, "lam_min": 1.0, "lam_max": 20.0, "z_dim": 128, "d_x": 3072}


def quantiles(v) -> dict:
    v = np.asarray(v, dtype=np.float64)
    return {"p05": float(np.quantile(v, 0.05)), "median": float(np.median(v)),
            "p95": float(np.quantile(v, 0.95)), "mean": float(v.mean())}


def data_stats(name: str, z_dim: int, n: int = 20000) -> dict:
    ds = load_dataset(name)
    if ds.finite:
        x = np.asarray(ds.train, dtype=np.float64).reshape(len(ds.train), -1)
    else:
        x = ds.sample(n, torch.Generator().manual_seed(0)).double().reshape(n, -1).numpy()
    tr = float(x.var(axis=0).sum())
    out = {"shape": list(ds.shape), "z_dim": z_dim, "tr_cov": tr,
           "s_data": math.sqrt(tr / min(z_dim, x.shape[1]))}
    if ds.modes is not None:
        m = np.asarray(ds.modes, dtype=np.float64)
        d = np.linalg.norm(m[:, None] - m[None], axis=-1)
        np.fill_diagonal(d, np.inf)
        out.update(mode_std=float(ds.mode_std), min_mode_distance=float(d.min()))
    return out


def fresh_generator_stats(kind: str, seeds: int, n: int) -> dict:
    shape, z_dim, hidden, depth = KINDS[kind]
    dflt = JC_DEFAULTS[kind]
    q_def, q_one, q_exact, fd_err, inside, pens, cond_mean, cond_std, cond_seconds = (
        [] for _ in range(9))
    for seed in range(seeds):
        torch.manual_seed(seed)
        G, _ = build_nets(shape, z_dim, hidden, depth)
        z = torch.randn(n, z_dim, generator=torch.Generator().manual_seed(10_000 + seed))
        with torch.no_grad():
            pen, q = jacobian_clamping_penalty(G, z, dflt.eps, dflt.lam_min, dflt.lam_max,
                                               generator=torch.Generator().manual_seed(seed))
            _, q1 = jacobian_clamping_penalty(G, z, 1.0, dflt.lam_min, dflt.lam_max,
                                              generator=torch.Generator().manual_seed(seed))
        # the same directions as the default-eps draw (same generator seed)
        delta = torch.randn(z.shape, generator=torch.Generator().manual_seed(seed))
        delta = delta / delta.norm(dim=1, keepdim=True)
        _, jd = torch.func.jvp(G, (z,), (delta,))
        qe = jd.detach().reshape(n, -1).norm(dim=1)
        q_def += q.tolist()
        q_one += q1.tolist()
        q_exact += qe.tolist()
        fd_err += ((q - qe).abs() / qe).tolist()
        inside.append(float(((q >= dflt.lam_min) & (q <= dflt.lam_max)).double().mean()))
        pens.append(float(pen))
        t0 = time.perf_counter()
        s = condition_number_summary(G, z_dim, n=200, seed=seed)
        cond_seconds.append(time.perf_counter() - t0)
        cond_mean.append(s["log_condition_number_mean"])
        cond_std.append(s["log_condition_number_std"])
    return {"shape": list(shape), "z_dim": z_dim, "hidden": hidden, "depth": depth,
            "defaults": dflt.as_dict(), "seeds": seeds, "points_per_seed": n,
            "Q_default_eps": quantiles(q_def), "Q_eps_1": quantiles(q_one),
            "Q_exact_directional": quantiles(q_exact),
            "finite_difference_rel_error_default_eps": quantiles(fd_err),
            "fraction_inside_band": quantiles(inside), "penalty_at_init": quantiles(pens),
            "log_condition_number_mean": quantiles(cond_mean),
            "log_condition_number_std": quantiles(cond_std),
            "condition_number_summary_seconds_n200": quantiles(cond_seconds)}


def published_scale() -> dict:
    var = float(np.mean([(2 * s) ** 2 for s in CIFAR_STD]))  # on [-1, 1]
    s_data = math.sqrt(PUBLISHED["d_x"] * var / PUBLISHED["z_dim"])
    return {"setting": PUBLISHED, "cifar_std_01": list(CIFAR_STD), "s_data": s_data,
            "lam_min_over_s_data": PUBLISHED["lam_min"] / s_data,
            "lam_max_over_s_data": PUBLISHED["lam_max"] / s_data,
            "eps_over_sqrt_z_dim": PUBLISHED["eps"] / math.sqrt(PUBLISHED["z_dim"])}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5, help="fresh generators per kind")
    ap.add_argument("--n", type=int, default=2000, help="latent points per generator")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results",
                                                  "jc_defaults.json"))
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    report = {"machine": machine(),
              "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "published": published_scale(),
              "data": {name: data_stats(name, 32 if name == "digits" else 2)
                       for name in DATASETS},
              "fresh_generators": {kind: fresh_generator_stats(kind, args.seeds, args.n)
                                   for kind in KINDS}}
    report["seconds"] = time.perf_counter() - t0
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    write_atomic(args.out, json.dumps(report, indent=2) + "\n")
    pub = report["published"]
    print(f"published: s_data {pub['s_data']:.2f}, band/s_data "
          f"[{pub['lam_min_over_s_data']:.2f}, {pub['lam_max_over_s_data']:.2f}], "
          f"eps/sqrt(d_z) {pub['eps_over_sqrt_z_dim']:.3f}")
    for name, d in report["data"].items():
        extra = (f", mode std {d['mode_std']:.3g}, min mode distance {d['min_mode_distance']:.3g}"
                 if "mode_std" in d else "")
        print(f"{name:12s} s_data {d['s_data']:.3f}{extra}")
    for kind, r in report["fresh_generators"].items():
        q, qe = r["Q_default_eps"], r["Q_exact_directional"]
        print(f"{kind:6s} {r['defaults']}: Q p05/med/p95 {q['p05']:.4f}/{q['median']:.4f}/"
              f"{q['p95']:.4f} (exact {qe['median']:.4f}, eps=1 {r['Q_eps_1']['median']:.4f}), "
              f"fd rel err med {r['finite_difference_rel_error_default_eps']['median']:.2e}, "
              f"inside band {r['fraction_inside_band']['mean']:.3f}, "
              f"penalty {r['penalty_at_init']['mean']:.2e}, "
              f"log cond {r['log_condition_number_mean']['mean']:.2f} "
              f"({r['condition_number_summary_seconds_n200']['median']:.3f} s for 200 points)")
    print(f"wrote {args.out} ({report['seconds']:.1f} s)")


if __name__ == "__main__":
    main()
