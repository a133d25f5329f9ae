r"""Exact, certified OT for a stack of problems, solved in parallel.

:func:`solve_ot_batch` takes ``B`` cost matrices ``(B, m, n)`` and
:func:`solve_samples_batch` ``B`` pairs of point batches; both return one
certified :class:`~otgan.OTResult` per problem — the exact batch Wasserstein
distances over many pairs of mini-batches.

Uniform ``m = n`` problems (assignments) with ``n <=`` :data:`BATCH_DENSE_N_MAX`
are solved by the dense shortest-augmenting-path kernel of
:mod:`otgan.kernels.assignment`, one problem per thread in a single numba
parallel loop, and certified by one parallel kernel (the quantities of
:func:`otgan.solvers.certify`, dual feasibility over all ``m n`` pairs of every
problem). Anything else (general weights, ``m != n``, larger ``n``,
``method="emd"``) goes through the solver registry like a single problem, the
network simplex in a thread pool (it releases the GIL), each problem certified.
"""
from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np

from ._validation import MAX_DENSE_ENTRIES, as_float_array, check_tol, check_weights
from .costs import Metric
from .errors import OTSolverError
from .geometry import DenseCost
from .result import OTResult
from .solvers import DEFAULT_TOL, RawSolution, certify, check_method, require_optimal
from .solvers.certify import Certificate
from .solvers.registry import resolve, solve_raw

if TYPE_CHECKING:  # pragma: no cover
    from numpy.typing import ArrayLike

#: largest ``n`` solved by the batched dense assignment kernel
BATCH_DENSE_N_MAX = 512


def _stack_weights(w, B, size, name, batch_name):
    """``None``, one ``(size,)`` vector for all problems, or ``(B, size)``."""
    if w is None:
        return np.full((B, size), 1.0 / size), True
    arr = as_float_array(w, name).astype(np.float64, copy=False)
    if arr.ndim == 1:
        one = check_weights(arr, size, name, batch_name)
        return np.broadcast_to(one, (B, size)), False
    if arr.ndim != 2 or arr.shape[0] != B:
        raise ValueError(f"{name} must have shape ({size},) or ({B}, {size}) for "
                         f"{B} problems, got {arr.shape}")
    out = np.empty((B, size))
    for k in range(B):
        out[k] = check_weights(arr[k], size, f"{name}[{k}]", batch_name)
    return out, False


def _check_stack(M):
    M = as_float_array(M, "M")
    if M.ndim != 3:
        raise ValueError(f"M must be a 3-D stack (B, m, n) of cost matrices, got shape "
                         f"{M.shape}")
    if 0 in M.shape:
        raise ValueError(f"M is empty (shape {M.shape})")
    if M.size > MAX_DENSE_ENTRIES:
        raise ValueError(f"M of shape {M.shape} has {M.size} entries, above "
                         f"MAX_DENSE_ENTRIES = {MAX_DENSE_ENTRIES}")
    return np.ascontiguousarray(M, dtype=np.float64)


def _uniform(w):
    return bool(np.all(w.max(axis=1) - w.min(axis=1) <= 1e-12 * w.max(axis=1)))


def _check_balance(A, Bw, tol):
    """:func:`otgan._validation.check_marginals` for every problem at once."""
    sa, sb = A.sum(axis=1), Bw.sum(axis=1)
    bad = np.abs(sa - sb) > tol * np.maximum(sa, sb)
    if bad.any():
        k = int(np.argmax(bad))
        raise ValueError(f"a[{k}] and b[{k}] must have the same total mass (to {tol:g} "
                         f"relative): sum(a[{k}]) = {sa[k]!r}, sum(b[{k}]) = {sb[k]!r}")


def _solve_stack(M, a, b, method, tol) -> list[OTResult]:
    tol = check_tol(tol)
    method = check_method(method)
    B, m, n = M.shape
    A, _ = _stack_weights(a, B, m, "a", "the real batches (rows)")
    Bw, _ = _stack_weights(b, B, n, "b", "the generated batches (columns)")
    A = np.ascontiguousarray(A)
    Bw = np.ascontiguousarray(Bw)
    _check_balance(A, Bw, tol)
    fast_ok = (m == n and n <= BATCH_DENSE_N_MAX and method in ("auto", "fast")
               and _uniform(A) and _uniform(Bw) and A.min() > 0 and Bw.min() > 0)
    if fast_ok:
        return _fast_stack(M, A, Bw, tol)
    return _pool_stack(M, A, Bw, method, tol)


def _fast_stack(M, A, Bw, tol) -> list[OTResult]:
    from .kernels.assignment import certify_assignments, lsa_batch  # numba: on first use
    B, n, _ = M.shape
    t0 = time.perf_counter()
    col4row, U, V, ok = lsa_batch(M)
    seconds = (time.perf_counter() - t0) / B
    if not ok.all():
        raise OTSolverError(f"batched assignment failed on problem {int(np.argmin(ok))}")
    q = certify_assignments(M, col4row, U, V, A, Bw, tol)
    rows = np.arange(n, dtype=np.int64)
    masses = A.sum(axis=1).tolist()
    out = []
    for k, (primal, dual, resid, viol, _, slack, big) in enumerate(q.tolist()):
        cert = Certificate.from_quantities(primal, dual, resid, viol, slack, tol, big,
                                           masses[k])
        require_optimal(cert, f"problem {k} of the batch")
        raw = RawSolution(rows, col4row[k], A[k].copy(), U[k], V[k], 1, "fast")
        out.append(OTResult.from_solution(raw, cert, A[k], Bw[k], seconds))
    return out


def _pool_stack(M, A, Bw, method, tol) -> list[OTResult]:
    # Each problem goes through the registry as a single one would. POT's
    # network simplex releases the GIL, so full-support emd problems are solved
    # in threads; everything that may enter numba's parallel kernels (the
    # other solvers, zero-weight extension, the certificate) runs in this
    # thread, because those must not be entered concurrently.
    B = M.shape[0]
    geoms = [DenseCost(M[k]) for k in range(B)]
    specs = [resolve(geoms[k], A[k], Bw[k], method) for k in range(B)]

    def run(k: int) -> tuple[RawSolution, float]:
        return solve_raw(geoms[k], A[k], Bw[k], specs[k], {})

    threaded = [k for k in range(B)
                if specs[k].name == "emd" and A[k].min() > 0 and Bw[k].min() > 0]
    solved = {}
    if threaded:
        with ThreadPoolExecutor(max_workers=min(len(threaded), os.cpu_count() or 1)) as ex:
            solved.update(zip(threaded, ex.map(run, threaded)))
    out = []
    for k in range(B):
        raw, seconds = solved[k] if k in solved else run(k)
        cert = require_optimal(certify(geoms[k], A[k], Bw[k], raw, tol),
                               f"problem {k} of the batch")
        out.append(OTResult.from_solution(raw, cert, A[k], Bw[k], seconds))
    return out


def solve_ot_batch(M: ArrayLike, a: ArrayLike | None = None, b: ArrayLike | None = None, *,
                   method: str = "auto", tol: float = DEFAULT_TOL) -> list[OTResult]:
    r"""Exact OT for each of ``B`` cost matrices, in parallel, each certified.

    For every ``k`` solves
    :math:`W_k = \min_{P \ge 0,\ P1 = a_k,\ P^T 1 = b_k} \sum_{ij} P_{ij} M_{kij}`
    with its Kantorovich potentials, and checks primal feasibility, dual
    feasibility over all ``m n`` pairs and a zero duality gap (docs/theory.md, A.6).

    Parameters
    ----------
    M : (B, m, n) array_like
        Stack of cost matrices.
    a, b : array_like, optional
        Weights: ``None`` (uniform), one vector ``(m,)``/``(n,)`` shared by all
        problems, or one per problem ``(B, m)``/``(B, n)``.
    method : {"auto", "fast", "emd", "lp"}
        ``"auto"``/``"fast"``: batched assignment solver for uniform ``m = n``
        (``n <= BATCH_DENSE_N_MAX``), POT otherwise.
    tol : float
        Certificate tolerance (default 1e-9).

    Returns
    -------
    list of OTResult
        One per problem, in order; :attr:`OTResult.seconds` is the problem's
        share of the batched solve.

    Raises
    ------
    OTSolverError
        If any problem's answer fails its certificate.

    Examples
    --------
    >>> import numpy as np, otgan
    >>> from otgan.batch import solve_ot_batch
    >>> M = np.array([[[0.0, 1.0], [1.0, 0.0]], [[2.0, 1.0], [1.0, 2.0]]])
    >>> [r.value for r in solve_ot_batch(M)]
    [0.0, 1.0]
    """
    return _solve_stack(_check_stack(M), a, b, method, tol)


def _check_point_stack(Z, name):
    Z = as_float_array(Z, name)
    if Z.ndim < 3:
        raise ValueError(f"{name} must be a stack of point batches (B, N, d...), got "
                         f"shape {Z.shape}")
    if 0 in Z.shape:
        raise ValueError(f"{name} is empty (shape {Z.shape})")
    return Z


def solve_samples_batch(Y: ArrayLike, X: ArrayLike, a: ArrayLike | None = None,
                        b: ArrayLike | None = None, *, metric: str | Metric = "l1",
                        p: float | None = None, method: str = "auto",
                        tol: float = DEFAULT_TOL) -> list[OTResult]:
    r"""Exact OT between ``B`` pairs of point batches, in parallel, each certified.

    Problem ``k`` transports the real batch ``Y[k]`` (``m`` points) to the
    generated batch ``X[k]`` (``n`` points) with the ground cost ``metric``
    (as in :func:`otgan.solve_samples`); points of any shape are flattened.

    Parameters
    ----------
    Y : (B, m, d...) array_like
        Real batches.
    X : (B, n, d...) array_like
        Generated batches, same ``B`` and per-point shape as ``Y``.
    a, b, method, tol
        As in :func:`solve_ot_batch`.
    metric : {"l1", "l2", "sqeuclidean", "lp"}
        Ground cost; ``p`` is the exponent for ``"lp"``.

    Returns
    -------
    list of OTResult

    Examples
    --------
    >>> import numpy as np
    >>> from otgan.batch import solve_samples_batch
    >>> Y = np.zeros((3, 4, 2)); X = Y + 1.0
    >>> [round(r.value, 12) for r in solve_samples_batch(Y, X)]
    [2.0, 2.0, 2.0]
    """
    metric = Metric.parse(metric, p)
    Y = _check_point_stack(Y, "Y")
    X = _check_point_stack(X, "X")
    if Y.shape[0] != X.shape[0]:
        raise ValueError(f"Y and X must hold the same number of problems B, got "
                         f"{Y.shape[0]} and {X.shape[0]}")
    if Y.shape[2:] != X.shape[2:]:
        raise ValueError(f"Y and X have points of different shapes: {Y.shape[2:]} vs "
                         f"{X.shape[2:]}")
    B, m, n = Y.shape[0], Y.shape[1], X.shape[1]
    if B * m * n > MAX_DENSE_ENTRIES:
        raise ValueError(f"{B} problems of shape ({m}, {n}) need {B * m * n} cost "
                         f"entries, above MAX_DENSE_ENTRIES = {MAX_DENSE_ENTRIES}; "
                         f"split the batch")
    from .kernels.candidates import batch_cost_matrix  # numba: on first use
    Y2, X2 = Y.reshape(B, m, -1), X.reshape(B, n, -1)
    C = batch_cost_matrix(Y2, X2, metric)
    if not np.isfinite(C).all():  # finite points whose costs overflowed
        k = int(np.argmax(~np.isfinite(C).reshape(B, -1).all(axis=1)))
        metric.raise_overflow(Y2[k], X2[k])
    return _solve_stack(C, a, b, method, tol)


__all__ = ["solve_ot_batch", "solve_samples_batch", "BATCH_DENSE_N_MAX"]
