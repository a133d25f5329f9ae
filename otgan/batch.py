r"""Exact, certified OT for a stack of problems, solved in parallel.

:func:`solve_ot_batch` takes ``B`` cost matrices ``(B, m, n)`` and
:func:`solve_samples_batch` ``B`` pairs of point batches; both return one
certified :class:`~otgan.OTResult` per problem — the exact batch Wasserstein
distances over many pairs of mini-batches.

Uniform ``m = n`` problems (assignments) with ``n <=`` :data:`BATCH_DENSE_N_MAX`
are solved by the dense shortest-augmenting-path solver of
:mod:`otgan.lp.assignment`, one problem per thread in a single numba parallel
loop, and certified by one parallel kernel (the same quantities as
:func:`otgan.lp.certify_sparse`, dual feasibility over all ``m n`` pairs of
every problem). Anything else (general weights, ``m != n``, larger ``n``,
``method="emd"``) runs POT's network simplex in a thread pool (it releases the
GIL) and the usual certificate per problem.
"""
from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ._validation import (MAX_DENSE_ENTRIES, as_float_array,
                          check_metric, check_tol, check_weights)
from .kernels import raise_cost_overflow
from .lp.certificate import DEFAULT_TOL, Certificate, certify_sparse
from .lp.errors import OTSolverError
from .lp.geometry import DenseCost
from .lp.solvers import check_method, solve_certified
from .result import OTResult

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


def _balance(A, Bw, tol):
    """:func:`otgan._validation.check_marginals` and
    :func:`otgan._validation.balanced` for every problem at once: returns the
    weights the solvers get (``Bw`` rescaled to ``sum(A[k])`` exactly)."""
    sa, sb = A.sum(axis=1), Bw.sum(axis=1)
    bad = np.abs(sa - sb) > tol * np.maximum(sa, sb)
    if bad.any():
        k = int(np.argmax(bad))
        raise ValueError(f"a[{k}] and b[{k}] must have the same total mass (to {tol:g} "
                         f"relative): sum(a[{k}]) = {sa[k]!r}, sum(b[{k}]) = {sb[k]!r}")
    return np.ascontiguousarray(Bw * (sa / sb)[:, None])


def _solve_stack(M, a, b, method, tol) -> list[OTResult]:
    tol = check_tol(tol)
    method = check_method(method)
    B, m, n = M.shape
    A, _ = _stack_weights(a, B, m, "a", "the real batches (rows)")
    Bw, _ = _stack_weights(b, B, n, "b", "the generated batches (columns)")
    A = np.ascontiguousarray(A)
    Bw = np.ascontiguousarray(Bw)
    Bs = _balance(A, Bw, tol)
    fast_ok = (m == n and n <= BATCH_DENSE_N_MAX and method in ("auto", "fast")
               and _uniform(A) and _uniform(Bw) and A.min() > 0 and Bw.min() > 0)
    if fast_ok:
        return _fast_stack(M, A, Bw, tol)
    return _pool_stack(M, A, Bw, Bs, method, tol)


def _fast_stack(M, A, Bw, tol) -> list[OTResult]:
    from .lp.assignment import certify_assignments, lsa_batch
    B, n, _ = M.shape
    t0 = time.perf_counter()
    col4row, U, V, ok = lsa_batch(M)
    seconds = (time.perf_counter() - t0) / B
    if not ok.all():
        raise OTSolverError(f"batched assignment failed on problem {int(np.argmin(ok))}")
    q = certify_assignments(M, col4row, U, V, A, Bw, tol)
    rows = np.arange(n, dtype=np.int64)
    out = []
    for k, (primal, dual, resid, viol, _, slack, big) in enumerate(q.tolist()):
        cert = Certificate.from_quantities(primal, dual, resid, viol, slack, tol, big,
                                           float(A[k].sum()))
        if not cert.is_optimal:
            raise OTSolverError(f"problem {k} of the batch fails the optimality "
                                f"certificate: {cert.summary()}")
        out.append(OTResult(value=primal, u=U[k], v=V[k], a=A[k], b=Bw[k],
                            plan_rows=rows, plan_cols=col4row[k], plan_values=A[k].copy(),
                            method="fast", n_iter=1, certificate=cert, seconds=seconds))
    return out


def _pool_stack(M, A, Bw, Bs, method, tol) -> list[OTResult]:
    # POT's network simplex releases the GIL: solve in threads, then certify in
    # this thread (numba's parallel kernels must not be entered concurrently)
    from .lp.emd import solve_emd
    from .lp.solvers import AUTO, _dense_to_raw
    B = M.shape[0]

    def emd_one(k):
        t0 = time.perf_counter()
        rows_pos = np.flatnonzero(A[k] > 0)
        cols_pos = np.flatnonzero(Bw[k] > 0)
        if len(rows_pos) < A.shape[1] or len(cols_pos) < Bw.shape[1]:
            return None, 0.0  # zero weights: solved below by solve_certified
        plan, u, v = solve_emd(M[k], A[k], Bs[k])
        return _dense_to_raw(plan, u, v, "emd"), time.perf_counter() - t0

    names = [AUTO[0](DenseCost(M[k]), A[k], Bw[k]) if method == "auto" else method
             for k in range(B)]
    pooled = [k for k in range(B) if names[k] == "emd"]
    raws = {}
    if pooled:
        workers = min(len(pooled), os.cpu_count() or 1)
        with ThreadPoolExecutor(max_workers=workers) as ex:
            for k, res in zip(pooled, ex.map(emd_one, pooled)):
                raws[k] = res
    out = []
    for k in range(B):
        raw, seconds = raws.get(k, (None, 0.0))
        geom = DenseCost(M[k])
        if raw is None:
            raw, cert, seconds = solve_certified(geom, A[k], Bw[k], names[k], tol)
        else:
            cert = certify_sparse(geom, A[k], Bw[k], raw.rows, raw.cols, raw.vals,
                                  raw.u, raw.v, tol)
            if not cert.is_optimal:
                raise OTSolverError(f"problem {k} of the batch fails the optimality "
                                    f"certificate: {cert.summary()}")
        out.append(OTResult(value=cert.primal_value, u=raw.u, v=raw.v, a=A[k], b=Bw[k],
                            plan_rows=raw.rows, plan_cols=raw.cols, plan_values=raw.vals,
                            method=raw.method, n_iter=raw.n_iter, certificate=cert,
                            seconds=seconds))
    return out


def solve_ot_batch(M, a=None, b=None, *, method="auto", tol=DEFAULT_TOL) -> list[OTResult]:
    r"""Exact OT for each of ``B`` cost matrices, in parallel, each certified.

    For every ``k`` solves
    :math:`W_k = \min_{P \ge 0,\ P1 = a_k,\ P^T 1 = b_k} \sum_{ij} P_{ij} M_{kij}`
    with its Kantorovich potentials, and checks primal feasibility, dual
    feasibility over all ``m n`` pairs and a zero duality gap (SPEC section 3).

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


def solve_samples_batch(Y, X, a=None, b=None, *, metric="l1", p=None, method="auto",
                        tol=DEFAULT_TOL) -> list[OTResult]:
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
    metric, pp = check_metric(metric, p)
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
    from .kernels.candidates import batch_cost_matrix
    Y2, X2 = Y.reshape(B, m, -1), X.reshape(B, n, -1)
    C = batch_cost_matrix(Y2, X2, metric, pp if metric == "lp" else None)
    if not np.isfinite(C).all():  # finite points whose costs overflowed
        k = int(np.argmax(~np.isfinite(C).reshape(B, -1).all(axis=1)))
        raise_cost_overflow(Y2[k], X2[k], metric, pp if metric == "lp" else None)
    return _solve_stack(C, a, b, method, tol)


__all__ = ["solve_ot_batch", "solve_samples_batch", "BATCH_DENSE_N_MAX"]
