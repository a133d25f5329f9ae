"""Command-line interface: ``otgan distance``, ``otgan demo`` (and, from the
GAN layer, ``otgan train`` / ``otgan compare``)."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings

import numpy as np

from ._validation import METRICS
from .lp.errors import OTSolverError


class CLIError(Exception):
    """A user error: printed on one line, exit code 2."""


_READERS = {
    ".npy": lambda path: np.load(path, allow_pickle=False),
    ".csv": lambda path: np.loadtxt(path, delimiter=",", ndmin=2),
    ".txt": lambda path: np.loadtxt(path, ndmin=2),
}


def load_points(path: str) -> np.ndarray:
    """Load a batch of points from ``.npy`` (no pickles), ``.csv`` or ``.txt``."""
    if not os.path.isfile(path):
        raise CLIError(f"{path}: no such file")
    ext = os.path.splitext(path)[1].lower()
    if ext not in _READERS:
        raise CLIError(f"{path}: unsupported file type {ext!r} (use .npy, .csv or .txt)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # empty files are reported below
            arr = _READERS[ext](path)
    except Exception as exc:  # numpy raises many types for malformed files
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CLIError(f"{path}: cannot read points: {msg}") from None
    if arr.ndim == 0 or arr.size == 0:
        raise CLIError(f"{path}: holds no points (shape {arr.shape})")
    if arr.dtype.kind not in "iuf":
        raise CLIError(f"{path}: points must be real numbers, got dtype {arr.dtype}")
    return arr


def _certificate_dict(cert) -> dict:
    return {"is_optimal": cert.is_optimal, "primal_value": cert.primal_value,
            "dual_value": cert.dual_value, "gap_abs": cert.gap_abs,
            "gap_rel": cert.gap_rel, "primal_residual": cert.primal_residual,
            "dual_violation": cert.dual_violation,
            "slackness_violation": cert.slackness_violation, "tol": cert.tol}


def report(res, seconds: float, metric: str, as_json: bool) -> str:
    m, n = res.shape
    if as_json:
        return json.dumps({"wasserstein": res.value, "m": m, "n": n, "metric": metric,
                           "method": res.method, "seconds": seconds,
                           "certificate": _certificate_dict(res.certificate)}, indent=2)
    return (f"exact W ({metric}) = {res.value:.12g}\n"
            f"sizes: m = {m} real, n = {n} generated\n"
            f"method: {res.method}, time {seconds:.3f} s\n"
            f"certificate: {res.certificate.summary()}")


def cmd_distance(args) -> int:
    from .api import solve_samples

    y = load_points(args.A)
    x = load_points(args.B)
    t0 = time.perf_counter()
    try:
        res = solve_samples(y, x, metric=args.metric, p=args.p, method=args.method)
    except (ValueError, TypeError) as exc:
        raise CLIError(str(exc)) from None
    print(report(res, time.perf_counter() - t0, args.metric, args.json))
    return 0


def demo_batches() -> tuple[np.ndarray, np.ndarray]:
    """Two embedded batches: 64 handwritten '3's vs 64 '8's (8x8 pixels, scikit-learn)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    imgs = digits.images / 16.0
    return imgs[digits.target == 3][:64], imgs[digits.target == 8][:64]


def cmd_demo(args) -> int:
    from .api import solve_samples

    y, x = demo_batches()
    t0 = time.perf_counter()
    res = solve_samples(y, x, metric="l1")
    seconds = time.perf_counter() - t0
    print(f"Exact W1 (L1 pixel cost) between 64 handwritten 3s and 64 8s "
          f"(8x8 digits, scikit-learn):")
    print(report(res, seconds, "l1", args.json))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="otgan", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    dist = sub.add_parser("distance", help="exact Wasserstein distance between two point files")
    dist.add_argument("A", help="real points (.npy, .csv or .txt), one point per row")
    dist.add_argument("B", help="generated points, same dimension")
    dist.add_argument("--metric", default="l1", choices=METRICS)
    dist.add_argument("--p", type=float, default=None, help="exponent for --metric lp")
    dist.add_argument("--method", default="auto")
    dist.add_argument("--json", action="store_true", help="machine-readable output")
    dist.set_defaults(func=cmd_distance)

    demo = sub.add_parser("demo", help="the main job: a certified exact W on embedded data")
    demo.add_argument("--json", action="store_true")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CLIError as exc:
        print(f"otgan {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OTSolverError as exc:
        print(f"otgan {args.command}: solver error: {exc}", file=sys.stderr)
        return 1
