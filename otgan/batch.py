r"""Exact, certified OT for many problems at once: stacks, ragged lists, padding.

:func:`solve_ot_batch` takes ``B`` cost matrices and :func:`solve_samples_batch`
``B`` pairs of point batches; both return one certified :class:`~otgan.OTResult`
per problem, in order — e.g. the exact batch Wasserstein distances over many
pairs of mini-batches.

Problems come as a stack (``(B, m, n)`` costs, ``(B, m, d...)`` /
``(B, n, d...)`` points) or as a list of ``B`` problems of their own sizes
``m_k x n_k`` (ragged). Weights are ``None`` (uniform), one vector shared by
all problems, or one per problem (a ``(B, m)`` array or a list of ``B``
vectors, ``None`` entries meaning uniform). Zero weights are allowed, so a
padded stack whose padding carries zero weight solves the unpadded problems
(same values; the padded rows and columns get no mass and exact potentials).

Each problem goes the fastest exact way for it:

* **assignments** — uniform weights on ``n`` points on each side once the
  zero weights are dropped, ``n <=`` :data:`BATCH_DENSE_N_MAX` — are grouped
  by ``n`` and solved by the dense shortest-augmenting-path kernel of
  :mod:`otgan.kernels.assignment`, one problem per thread in a single numba
  parallel loop; problems without padding are certified by one parallel
  kernel (the quantities of :func:`otgan.lp.certify`), padded ones get
  their zero-weight points' potentials by the c-transform and the usual
  certificate. This is ``method="auto"``'s and ``"candidate-graph"``'s
  (alias ``"fast"``) choice.
* **small general problems** -- ``max(m, n) <=`` :data:`BATCH_TRANSPORT_N_MAX`
  (general weights, ``m != n``, zero weights) -- are grouped by shape and
  solved by the batched network simplex on all pairs
  (:func:`otgan.kernels.transport.transport_batch`, one problem per thread,
  zero-weight points included: its potentials are dual feasible for every
  pair) and certified by one parallel kernel
  (:func:`otgan.kernels.transport.certify_plans`); ``"auto"`` and
  ``"candidate-graph"``
  (on B = 256 weighted 64 x 48 problems it measured 1.25x a Python loop
  over POT, POT in a thread pool 0.76x; ``benchmarks/bench_transport.py``).
* **everything else** (and every problem under the other methods) goes to
  the solver the registry picks for the problem alone
  (:func:`otgan.lp.registry.select_solver`): the certified
  transportation solver (:mod:`otgan.lp.transport`) for ``"candidate-graph"``
  and where ``"auto"`` picks it, solved one after another in this thread (its
  numba kernels hold the GIL); POT's network simplex (``"network-simplex"``,
  alias ``"emd"``) in a thread pool, since it releases the GIL, on each
  problem's positive support.

Every problem is certified on its own against its own weights: primal
feasibility, dual feasibility over all of its ``m_k n_k`` pairs and a zero
duality gap ([theory] A.6), the tolerances relative to its own mass and
:math:`\max |c|`; :class:`~otgan.OTSolverError` names the first problem that
fails.
"""
from __future__ import annotations

import importlib
import numbers
import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Sequence

import numpy as np

from ._validation import (MAX_DENSE_ENTRIES, as_float_array, check_cost, check_marginals,
                          check_points, check_tol, check_weights, input_eps)
from .costs import Metric, as_metric
from .errors import OTSolverError
from .geometry import DenseCost, Geometry, PointCost
from .result import OTResult
from .lp import (DEFAULT_TOL, LinearProblem, RawSolution, canonical_method, certify,
                 require_optimal)
from .lp.certify import Certificate
from .lp.problem import uniform_weights
from .lp.raw import DUST
from .lp.registry import extend_support, prepare_problem, select_solver, solve_support

if TYPE_CHECKING:  # pragma: no cover
    from numpy.typing import ArrayLike

#: largest ``n`` solved by the batched dense assignment kernel
BATCH_DENSE_N_MAX = 512
#: largest ``max(m, n)`` solved by the batched network simplex on all pairs
#: (the size up to which the single-problem solver uses all pairs too)
BATCH_TRANSPORT_N_MAX = 64
#: a group of assignments whose cost matrices must be stacked (ragged lists,
#: padded problems, points) is solved in chunks of at most this many entries
GROUP_ENTRIES = 2 ** 24

_ROWS = "the real batch (rows)"
_COLS = "the generated batch (columns)"


# --------------------------------------------------------------------------- inputs

def _is_problem_list(value) -> bool:
    return isinstance(value, (list, tuple))


def _check_stack(M):
    M = as_float_array(M, "M")
    if M.ndim != 3:
        raise ValueError(f"M must be a 3-D stack (B, m, n) of cost matrices or a list of "
                         f"2-D cost matrices, got shape {M.shape}")
    if 0 in M.shape:
        raise ValueError(f"M is empty (shape {M.shape})")
    if M.size > MAX_DENSE_ENTRIES:
        raise ValueError(f"M of shape {M.shape} has {M.size} entries, above "
                         f"MAX_DENSE_ENTRIES = {MAX_DENSE_ENTRIES}")
    return np.ascontiguousarray(M, dtype=np.float64)


def _check_cost_list(M) -> list[np.ndarray]:
    if len(M) == 0:
        raise ValueError("M is an empty list; pass at least one cost matrix")
    return [check_cost(Mk, f"M[{k}]") for k, Mk in enumerate(M)]


def _vector_like(x) -> bool:
    """An entry of a per-problem list of weights: ``None`` or a vector, not a number."""
    if x is None:
        return True
    if isinstance(x, numbers.Number):
        return False
    return getattr(x, "ndim", 1) != 0


def _weights(w, sizes: Sequence[int], name: str, side: str) -> list[np.ndarray]:
    """One validated weight vector per problem (``sizes[k]`` points each).

    ``w`` is ``None`` (uniform), one vector shared by all problems (they must
    then have equal sizes), a ``(B, size)`` array, or a list of ``B`` entries,
    each ``None`` or a vector.
    """
    B = len(sizes)

    def where(k):
        return f"{side} of problem {k}"

    if w is None:
        return [np.full(s, 1.0 / s) for s in sizes]
    if _is_problem_list(w) and any(_vector_like(x) for x in w):
        if len(w) != B:
            raise ValueError(f"{name} holds {len(w)} weight vectors for {B} problems; "
                             f"pass one per problem (None for uniform)")
        return [check_weights(w[k], sizes[k], f"{name}[{k}]", where(k)) for k in range(B)]
    arr = as_float_array(w, name).astype(np.float64, copy=False)
    same = all(s == sizes[0] for s in sizes)
    if arr.ndim == 1:
        if not same:
            raise ValueError(f"{name} is one vector of length {arr.shape[0]}, but the "
                             f"problems have different sizes ({_describe_sizes(sizes)}); "
                             f"pass one vector per problem")
        one = check_weights(arr, sizes[0], name, f"{side} of every problem")
        return [one.copy() for _ in range(B)]
    if arr.ndim != 2 or arr.shape[0] != B:
        shape = f"({sizes[0]},) or ({B}, {sizes[0]})" if same else f"({B}, size)"
        raise ValueError(f"{name} must have shape {shape} for {B} problems, or be a list "
                         f"of {B} vectors; got {arr.shape}")
    return [check_weights(arr[k], sizes[k], f"{name}[{k}]", where(k)) for k in range(B)]


def _describe_sizes(sizes: Sequence[int]) -> str:
    """``sizes`` for an error message: the first few and how many there are."""
    head = ", ".join(str(s) for s in sizes[:6])
    return head if len(sizes) <= 6 else f"{head}, ... ({len(sizes)} problems)"


def _input_eps(w, B: int) -> list[float]:
    """Per problem, the machine epsilon of the weights' input dtype when coarser
    than float64 (:func:`otgan._validation.input_eps`); ``w`` already validated."""
    if _is_problem_list(w) and any(_vector_like(x) for x in w):
        return [input_eps(x) for x in w]
    return [input_eps(w)] * B


def _check_balance(A: list, Bw: list, tol: float, a=None, b=None) -> None:
    """:func:`otgan._validation.check_marginals` for every problem, naming it;
    ``a``, ``b`` are the caller's weights (for their dtypes). Replaces ``Bw[k]``
    by its float64 renormalisation where low-precision weights needed one."""
    ea, eb = _input_eps(a, len(A)), _input_eps(b, len(A))
    for k in range(len(A)):
        Bw[k] = check_marginals(A[k], Bw[k], f"a[{k}]", f"b[{k}]", rtol=tol,
                                eps=max(ea[k], eb[k]))


# --------------------------------------------------------------------------- solving

def _solve_problems(geoms: list, A: list, Bw: list, method: str, tol: float,
                    stack: np.ndarray | None = None) -> list[OTResult]:
    B = len(geoms)
    batched = method in ("auto", "candidate-graph")  # the methods the batched kernels serve
    if stack is not None and batched:
        m, n = stack.shape[1:]
        A2, B2 = np.stack(A), np.stack(Bw)
        # the stack's weights tested at once (LinearProblem.is_assignment's test)
        if (m == n <= BATCH_DENSE_N_MAX and A2.min() > 0 and B2.min() > 0
                and uniform_weights(A2).all() and uniform_weights(B2).all()):
            # the whole stack is one batch of assignments: no copies
            return _assignments(stack, list(range(B)), geoms, A, Bw, tol, full=True)
    out: list[OTResult | None] = [None] * B
    problems = [LinearProblem(g, a, b) for g, a, b in zip(geoms, A, Bw)]
    supports = [p.support for p in problems]
    if batched:
        groups: dict[int, list[int]] = {}
        for k, problem in enumerate(problems):
            n_k = problem.support_shape[0]
            if problem.is_assignment and n_k <= BATCH_DENSE_N_MAX:
                groups.setdefault(n_k, []).append(k)
        for n, members in groups.items():
            step = max(1, GROUP_ENTRIES // (n * n))
            for s in range(0, len(members), step):
                chunk = members[s:s + step]
                C = np.stack([_support_dense(geoms[k], *supports[k]) for k in chunk])
                for k, res in zip(chunk, _assignments(C, chunk, geoms, A, Bw, tol,
                                                      supports=supports)):
                    out[k] = res
        # small general problems: the batched network simplex (measured
        # faster than POT in a thread pool, bench_transport.py, batch)
        _small_transports(out, geoms, A, Bw, tol, stack)
    rest = [k for k in range(B) if out[k] is None]
    for k, res in zip(rest, _registry(rest, problems, method, tol)):
        out[k] = res
    return out


def _small_transports(out: list, geoms: list, A: list, Bw: list, tol: float,
                      stack: np.ndarray | None) -> None:
    """The problems not solved yet whose ``max(m, n)`` is at most
    :data:`BATCH_TRANSPORT_N_MAX`, grouped by shape: the batched network
    simplex on all pairs (one problem per thread) and one batched
    certificate per group; fills ``out`` in place."""
    from .kernels.transport import certify_plans, transport_batch  # numba: on first use
    groups: dict[tuple[int, int], list[int]] = {}
    for k, g in enumerate(geoms):
        if out[k] is None and max(g.shape) <= BATCH_TRANSPORT_N_MAX:
            groups.setdefault(g.shape, []).append(k)
    for (m, n), members in groups.items():
        step = max(1, GROUP_ENTRIES // (m * n))
        for s in range(0, len(members), step):
            chunk = members[s:s + step]
            if stack is not None and len(chunk) == len(geoms):
                C = stack
            else:
                C = np.stack([geoms[k].dense() for k in chunk])
            As = np.stack([A[k] for k in chunk])
            Bs = np.stack([Bw[k] for k in chunk])
            t0 = time.perf_counter()
            flows, pots, status, pivots = transport_batch(C, As, Bs)
            seconds = (time.perf_counter() - t0) / len(chunk)
            bad = np.flatnonzero(status != -1)
            if len(bad):
                raise OTSolverError(f"batched network simplex stopped early on problem "
                                    f"{chunk[int(bad[0])]} (status {int(status[bad[0]])})")
            plans = flows.reshape(len(chunk), m, n)
            # flows at the rounding level of the mass are dropped, as the
            # registry's solvers drop them (RawSolution.without_dust)
            plans[np.abs(plans) <= DUST * As.sum(axis=1)[:, None, None]] = 0.0
            U, V = pots[:, :m], pots[:, m:]
            q = certify_plans(C, plans, U, V, As, Bs, tol, geoms[chunk[0]].rounding)
            for t, k in enumerate(chunk):
                primal, dual, resid, viol, slack, big, *rest = q[t].tolist()
                cert = Certificate.from_quantities(primal, dual, resid, viol, slack, tol, big,
                                                   float(A[k].sum()), *rest)
                raw = RawSolution.from_dense(plans[t], U[t], V[t], "fast-transport",
                                             int(pivots[t]))
                if not cert.is_optimal:
                    # the full certificate also tries potentials rebuilt
                    # along the plan's support (the kernel's are the solver's)
                    cert = certify(geoms[k], A[k], Bw[k], raw, tol)
                require_optimal(cert, f"problem {k} of the batch")
                out[k] = OTResult.from_solution(raw, cert, A[k], Bw[k], seconds)


def _support_dense(geom: Geometry, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    m, n = geom.shape
    if len(rows) == m and len(cols) == n:
        return geom.dense()
    return geom.subset(rows, cols).dense()


def _assignments(C: np.ndarray, ks: list, geoms: list, A: list, Bw: list, tol: float,
                 full: bool = False, supports: list | None = None) -> list[OTResult]:
    """Problems ``ks`` whose positive supports are ``n x n`` with uniform
    weights; ``C[t]`` is problem ``ks[t]``'s cost on its support."""
    from .kernels.assignment import certify_assignments, lsa_batch  # numba: on first use
    n = C.shape[1]
    t0 = time.perf_counter()
    col4row, U, V, ok = lsa_batch(C)
    seconds = (time.perf_counter() - t0) / len(ks)
    if not ok.all():
        raise OTSolverError(f"batched assignment failed on problem {ks[int(np.argmin(ok))]}")
    rows = np.arange(n, dtype=np.int64)
    padded = set() if full else {t for t, k in enumerate(ks)
                                 if len(supports[k][0]) != len(A[k])
                                 or len(supports[k][1]) != len(Bw[k])}
    out: list[OTResult | None] = [None] * len(ks)
    whole = [t for t in range(len(ks)) if t not in padded]
    if whole:
        sel = np.asarray(whole)
        As = np.ascontiguousarray(np.stack([A[ks[t]] for t in whole]))
        Bs = np.ascontiguousarray(np.stack([Bw[ks[t]] for t in whole]))
        if len(whole) == len(ks):
            q = certify_assignments(C, col4row, U, V, As, Bs, tol, geoms[ks[0]].rounding)
        else:
            q = certify_assignments(C[sel], col4row[sel], U[sel], V[sel], As, Bs, tol,
                                    geoms[ks[0]].rounding)
        for t, (primal, dual, resid, viol, slack, big, *rest) in zip(whole, q.tolist()):
            k = ks[t]
            cert = Certificate.from_quantities(primal, dual, resid, viol, slack, tol, big,
                                               float(A[k].sum()), *rest)
            raw = RawSolution(rows, col4row[t], A[k].copy(), U[t], V[t], 1, "fast")
            if not cert.is_optimal:  # as in _small_transports
                cert = certify(geoms[k], A[k], Bw[k], raw, tol)
            require_optimal(cert, f"problem {k} of the batch")
            out[t] = OTResult.from_solution(raw, cert, A[k], Bw[k], seconds)
    for t in sorted(padded):
        k = ks[t]
        r_pos, c_pos = supports[k]
        sub = RawSolution(rows, col4row[t], A[k][r_pos], U[t], V[t], 1, "fast")
        raw = extend_support(geoms[k], sub, r_pos, c_pos)
        cert = require_optimal(certify(geoms[k], A[k], Bw[k], raw, tol),
                               f"problem {k} of the batch")
        out[t] = OTResult.from_solution(raw, cert, A[k], Bw[k], seconds)
    return out


def _registry(ks: list, problems: list, method: str, tol: float) -> list[OTResult]:
    """Each problem as a single one would be solved (the registry's choice).

    POT's network simplex releases the GIL, so ``network-simplex`` problems
    are solved in threads, each on its positive support; everything that may
    enter numba's parallel kernels (the other solvers, the potentials of
    zero-weight points, the certificate) runs in this thread, because those
    must not be entered concurrently.
    """
    if not ks:
        return []
    specs, prepared = {}, {}
    for k in ks:
        specs[k] = select_solver(problems[k], method)
        prepared[k] = prepare_problem(problems[k], specs[k])
    threaded = [k for k in ks if specs[k].name == "network-simplex"]
    if threaded:
        # POT is imported here, once, before any thread needs it: a thread
        # that finds it half-imported by another would fail
        importlib.import_module("ot")
    jobs = {k: prepared[k].on_support() for k in threaded}
    out = []
    workers = max(1, min(len(threaded), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as ex:
        futures = {k: ex.submit(solve_support, jobs[k], specs[k], {}) for k in threaded}
        for k in ks:  # certify in order while the pool solves the rest
            p = prepared[k]
            if k in futures:
                sub, seconds = futures[k].result()
                raw = sub if p.has_full_support else extend_support(p.geom, sub, *p.support)
            else:
                raw, seconds = solve_support(p, specs[k], {})
            cert = require_optimal(certify(p.geom, p.a, p.b, raw, tol),
                                   f"problem {k} of the batch")
            out.append(OTResult.from_solution(raw, cert, p.a, p.b, seconds))
    return out


# --------------------------------------------------------------------------- API

def solve_ot_batch(M: ArrayLike | Sequence[ArrayLike], a=None, b=None, *,
                   method: str = "auto", tol: float = DEFAULT_TOL) -> list[OTResult]:
    r"""Exact OT for each of ``B`` cost matrices, in parallel, each certified.

    For every ``k`` solves the transportation LP and its dual

    .. math::
        W_k = \min_{P \ge 0,\ P 1 = a_k,\ P^T 1 = b_k} \sum_{ij} P_{ij} M_{k,ij}
            = \max_{u_i + v_j \le M_{k,ij}} a_k \cdot u + b_k \cdot v

    with its Kantorovich potentials, and checks primal feasibility, dual
    feasibility over all ``m_k n_k`` pairs and a zero duality gap
    (docs/theory.md, A.6), each problem against its own weights.

    Parameters
    ----------
    M : (B, m, n) array_like, or a list of B (m_k, n_k) array_like
        A stack of cost matrices, or a list of problems of their own sizes.
    a, b : array_like or list, optional
        Weights: ``None`` (uniform); one vector ``(m,)``/``(n,)`` shared by all
        problems (equal sizes only); one per problem, as a ``(B, m)``/``(B, n)``
        array or a list of ``B`` vectors (``None`` entries: uniform). Zero
        weights are allowed (padding); the masses of ``a[k]`` and ``b[k]``
        must agree to ``tol`` relative, or, for float32/float16/bfloat16
        weights, to their dtype's rounding (then ``b[k]`` is rescaled to
        ``a[k]``'s mass in float64, as in :func:`otgan.solve_ot`).
    method : str
        A name or alias of :data:`otgan.lp.registry.METHOD_TABLE`.
        ``"auto"``: batched assignment solver for problems that are uniform
        ``n x n`` on their positive support (``n <= BATCH_DENSE_N_MAX``),
        otherwise ``auto``'s choice for the problem alone (POT for general
        weights today). ``"candidate-graph"`` (alias ``"fast"``): the same
        batched assignments, the certified transportation solver for general
        weights and ``m != n``. Any other method (``"network-simplex"``/
        ``"emd"``, ``"dual-lp"``/``"lp"``, ``"sparse-assignment"``,
        ``"sparse-transport"``): that solver for every problem it supports.
    tol : float
        Certificate tolerance (default 1e-9), relative to each problem's mass
        and :math:`\max |M_{k,ij}|`.

    Returns
    -------
    list of OTResult
        One per problem, in order, each of its own shape ``(m_k, n_k)``;
        :attr:`OTResult.seconds` is the problem's share of a batched solve.

    Raises
    ------
    ValueError, TypeError
        For bad input, naming the argument, the problem index and the value.
    OTSolverError
        If any problem's answer fails its certificate.

    Examples
    --------
    >>> import numpy as np, otgan
    >>> from otgan.batch import solve_ot_batch
    >>> M = np.array([[[0.0, 1.0], [1.0, 0.0]], [[2.0, 1.0], [1.0, 2.0]]])
    >>> [r.value for r in solve_ot_batch(M)]
    [0.0, 1.0]

    Ragged problems with their own weights, and the same first problem padded
    with a zero-weight row:

    >>> Ms = [np.array([[0.0, 2.0, 1.0], [2.0, 0.0, 1.0]]), np.array([[1.0], [3.0]])]
    >>> res = solve_ot_batch(Ms, [None, [0.25, 0.75]], [[0.25, 0.25, 0.5], None])
    >>> [r.shape for r in res], [float(round(r.value, 12)) for r in res]
    ([(2, 3), (2, 1)], [0.5, 2.5])
    >>> P = np.vstack([Ms[0], [[5.0, 5.0, 5.0]]])[None]
    >>> float(round(solve_ot_batch(P, [[0.5, 0.5, 0.0]], [0.25, 0.25, 0.5])[0].value, 12))
    0.5
    """
    tol = check_tol(tol)
    method = canonical_method(method)
    if _is_problem_list(M):
        geoms = [DenseCost(Mk) for Mk in _check_cost_list(M)]
        stack = None
    else:
        stack = _check_stack(M)
        geoms = [DenseCost(stack[k]) for k in range(stack.shape[0])]
    A = _weights(a, [g.shape[0] for g in geoms], "a", _ROWS)
    Bw = _weights(b, [g.shape[1] for g in geoms], "b", _COLS)
    _check_balance(A, Bw, tol, a, b)
    return _solve_problems(geoms, A, Bw, method, tol, stack)


def _check_point_stack(Z, name):
    Z = as_float_array(Z, name)
    if Z.ndim < 3:
        raise ValueError(f"{name} must be a stack of point batches (B, N, d...) or a list "
                         f"of point batches, got shape {Z.shape}")
    if 0 in Z.shape:
        raise ValueError(f"{name} is empty (shape {Z.shape})")
    return Z


def _point_list(Z, name) -> list:
    if _is_problem_list(Z):
        if len(Z) == 0:
            raise ValueError(f"{name} is an empty list; pass at least one point batch")
        return list(Z)
    Z = _check_point_stack(Z, name)
    return [Z[k] for k in range(Z.shape[0])]


def solve_samples_batch(Y: ArrayLike | Sequence[ArrayLike], X: ArrayLike | Sequence[ArrayLike],
                        a=None, b=None, *, metric: str | Metric = "l1",
                        p: float | None = None, method: str = "auto",
                        tol: float = DEFAULT_TOL) -> list[OTResult]:
    r"""Exact OT between ``B`` pairs of point batches, in parallel, each certified.

    Problem ``k`` transports the real batch ``Y[k]`` (``m_k`` points) to the
    generated batch ``X[k]`` (``n_k`` points) with the ground cost ``metric``
    (as in :func:`otgan.solve_samples`); points of any shape are flattened.

    Parameters
    ----------
    Y : (B, m, d...) array_like, or a list of B (m_k, d...) array_like
        Real batches.
    X : (B, n, d...) array_like, or a list of B (n_k, d...) array_like
        Generated batches, as many as ``Y``; problem ``k``'s points have the
        same per-point shape in ``Y[k]`` and ``X[k]``. Either being a list
        makes every problem its own size.
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
    >>> res = solve_samples_batch([np.zeros((2, 1)), np.zeros((3, 1))],
    ...                           [np.ones((1, 1)), np.full((2, 1), 2.0)],
    ...                           b=[None, [0.75, 0.25]], method="fast")
    >>> [r.shape for r in res], [float(round(r.value, 12)) for r in res]
    ([(2, 1), (3, 2)], [1.0, 2.0])
    """
    tol = check_tol(tol)
    method = canonical_method(method)
    metric = as_metric(metric, p)  # parsed here once; the geometries take the Metric
    if _is_problem_list(Y) or _is_problem_list(X):
        Ys, Xs = _point_list(Y, "Y"), _point_list(X, "X")
        if len(Ys) != len(Xs):
            raise ValueError(f"Y and X must hold the same number of problems B, got "
                             f"{len(Ys)} and {len(Xs)}")
        geoms = []
        for k in range(len(Ys)):
            y2, x2 = check_points(Ys[k], Xs[k], f"Y[{k}]", f"X[{k}]")
            geoms.append(PointCost(np.ascontiguousarray(y2, dtype=np.float64),
                                   np.ascontiguousarray(x2, dtype=np.float64), metric))
        stack = None
    else:
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
                             f"split the batch or pass lists of point batches")
        from .kernels.candidates import batch_cost_matrix  # numba: on first use
        Y2, X2 = Y.reshape(B, m, -1), X.reshape(B, n, -1)
        stack = batch_cost_matrix(Y2, X2, metric.for_coordinates(Y2.reshape(-1, Y2.shape[2]),
                                                                 X2.reshape(-1, X2.shape[2])))
        if not np.isfinite(stack).all():  # finite points whose costs overflowed
            k = int(np.argmax(~np.isfinite(stack).reshape(B, -1).all(axis=1)))
            metric.raise_overflow(Y2[k], X2[k])
        rounding = (Y2.shape[2] + 8) * float(np.finfo(np.float64).eps)  # computed costs
        geoms = [DenseCost(stack[k], rounding) for k in range(B)]
    A = _weights(a, [g.shape[0] for g in geoms], "a", _ROWS)
    Bw = _weights(b, [g.shape[1] for g in geoms], "b", _COLS)
    _check_balance(A, Bw, tol, a, b)
    return _solve_problems(geoms, A, Bw, method, tol, stack)


__all__ = ["solve_ot_batch", "solve_samples_batch", "BATCH_DENSE_N_MAX", "GROUP_ENTRIES"]
