r"""A drop-in for POT users: :func:`emd` and :func:`emd2`, exact and certified.

``from otgan import compat; compat.emd2(a, b, M)`` takes the arguments of
POT's ``ot.emd2(a, b, M)`` in the same order, with the same conventions and
return values, and answers with otgan's certified solver
(:func:`otgan.solve_ot`).

The problem
-----------
For a cost matrix :math:`M \in \mathbb{R}^{m \times n}` and histograms
:math:`a \in \mathbb{R}^m_+`, :math:`b \in \mathbb{R}^n_+` of equal mass,

.. math::
    W(a, b, M) = \min_{G \ge 0,\ G 1 = a,\ G^T 1 = b} \langle G, M \rangle
               = \max_{u_i + v_j \le M_{ij}} a^T u + b^T v .

:func:`emd` returns an optimal plan :math:`G`, :func:`emd2` the value
:math:`W`. Both are certified: primal feasibility, dual feasibility over all
:math:`m n` pairs (over the present edges of a sparse ``M``) and a zero duality
gap are checked (:class:`otgan.Certificate`)
before anything is returned; if they cannot be, :class:`otgan.OTSolverError`
is raised. ``log["warning"]`` is therefore always ``None`` and
``log["result_code"]`` always ``1`` (POT's ``OPTIMAL``).

Conventions taken from POT
--------------------------
* ``a = []`` / ``b = []`` (or ``None``) mean uniform weights :math:`1/m`,
  :math:`1/n`.
* Masses: :math:`|\sum_i a_i - \sum_j b_j| < 1.5 \cdot 10^{-6}` is required
  (POT's ``decimal=6`` check; skipped with ``check_marginals=False``), then
  ``b`` is rescaled to the mass of ``a``, :math:`b \leftarrow b \sum a / \sum b`,
  and that problem is solved and certified.
* Potentials are centred (``center_dual=True``) so that
  :math:`a^T u = b^T v`: with :math:`u^0, v^0` the solver's potentials,

  .. math::
      c = \frac{b^T v^0 - a^T u^0}{\sum_i a_i + \sum_j b_j},\qquad
      u = u^0 + c,\quad v = v^0 - c .

* Gradients of :func:`emd2` (torch tensors): by the envelope theorem, with
  :math:`G` the plan and :math:`(u, v)` the potentials of the log,

  .. math::
      \nabla_M W = G,\qquad \nabla_a W = u - \bar u\,1,\qquad
      \nabla_b W = v - \bar v\,1,

  where :math:`\bar u = \frac1m \sum_i u_i`, :math:`\bar v = \frac1n \sum_j v_j`
  (unweighted means, as in POT: the potentials are defined up to
  :math:`(u + t, v - t)`, and the centred gradient is tangent to the simplex
  for uniform weights).
* ``b`` may be 2-D for :func:`emd2`, one column per target histogram: the
  answer is a list, one entry per column.
* Types: lists become arrays; results have the dtype of ``a`` (else ``b``,
  else ``M``) and, for torch tensors, its device.
* A sparse ``M`` (any :mod:`scipy.sparse` matrix or array, a sparse torch
  tensor) allows transport only on its stored entries, the *present edges*;
  the others are forbidden, not zero. The problem is solved by POT's sparse
  network simplex and certified on the present edges (:math:`u_i + v_j \le
  M_{ij}` for each of them, the plan supported on them); the plan is returned
  sparse (a ``scipy.sparse.coo_array``, a sparse COO tensor), and the
  gradient of :func:`emd2` with respect to a sparse tensor ``M`` is sparse
  too, the plan on the present edges. Duplicate entries are summed (as
  ``M.toarray()`` does). If no plan meets the marginals on the present edges,
  :class:`InfeasibleError` is raised.

Deliberate differences from POT are listed in ``docs/migration.md`` and in the
docstrings of :func:`emd` and :func:`emd2`; the main one: where POT warns
(``"numItermax reached"``) and returns a non-optimal plan, this returns the
optimum or raises :class:`otgan.OTSolverError`.

Examples
--------
>>> from otgan import compat
>>> compat.emd2([0.5, 0.5], [0.5, 0.5], [[0.0, 1.0], [1.0, 0.0]])
0.0

A sparse cost: only the three stored pairs may carry mass (row 0 must go to
column 1, so row 1 to column 0), whatever the missing pair would cost:

>>> import scipy.sparse as sp
>>> M = sp.coo_array(([1.0, 2.0, 0.5], ([0, 1, 1], [1, 0, 1])), shape=(2, 2))
>>> G = compat.emd([0.5, 0.5], [0.5, 0.5], M)
>>> type(G).__name__, G.toarray().tolist(), compat.emd2([], [], M)
('coo_array', [[0.0, 0.5], [0.5, 0.0]], 1.5)
"""
from __future__ import annotations

import numbers
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from . import solve_ot
from .errors import InfeasibleError, MismatchError, OTSolverError
from .geometry import SparseCost
from .lp import LinearProblem, canonical_method, choose_method

if TYPE_CHECKING:  # pragma: no cover
    import torch
    from numpy.typing import ArrayLike

__all__ = ["emd", "emd2", "center_ot_dual", "MismatchError", "InfeasibleError"]

# InfeasibleError and MismatchError (otgan.errors) are re-exported here: ``except
# compat.InfeasibleError`` next to ``except compat.MismatchError``.

#: POT's mass check: ``np.testing.assert_almost_equal(sum(a), sum(b), decimal=6)``
#: accepts ``|sum(a) - sum(b)| < 1.5e-6`` (absolute).
MASS_ATOL = 1.5e-6

#: Largest iteration budget the network simplex takes (a C ``int``).
_MAX_ITER_CAP = 2 ** 31 - 1


# --------------------------------------------------------------------------
# inputs: numpy / torch / lists, POT's type rules
# --------------------------------------------------------------------------

def _torch():
    return sys.modules.get("torch")  # never imported here: only if the caller did


def _is_torch(x) -> bool:
    torch = _torch()
    return torch is not None and isinstance(x, torch.Tensor)


def _is_sparse(x) -> bool:
    if _is_torch(x):
        return x.layout != _torch().strided
    return hasattr(x, "tocoo") and hasattr(x, "nnz")  # scipy.sparse


def _is_empty(w) -> bool:
    if w is None:
        return True
    if isinstance(w, (list, tuple)):
        return len(w) == 0
    shape = getattr(w, "shape", None)
    return shape is not None and len(shape) == 1 and shape[0] == 0


def _to_numpy64(x) -> np.ndarray:
    """float64 numpy copy of a list / array / tensor (validated later by otgan)."""
    if _is_torch(x):
        x = x.detach().cpu()
        x = (x.double() if x.is_floating_point() else x).numpy()
    arr = np.asarray(x)
    if arr.dtype.kind in "iuf":
        arr = arr.astype(np.float64, copy=False)
    return arr  # other kinds (bool, complex, object) are refused by solve_ot


@dataclass
class _Inputs:
    """The caller's arrays in float64 numpy, and how to give answers back."""

    a: np.ndarray           # (m,)
    b: np.ndarray           # (n,) or (n, k)
    M: np.ndarray | SparseCost  # (m, n); a sparse M's present edges
    a_in: object            # the caller's a (tensor for torch; None when uniform)
    b_in: object
    M_in: object
    torch: bool
    dtype: object           # numpy dtype or torch dtype of the answers
    device: object = None   # torch device of the answers

    @property
    def sparse(self) -> bool:
        return isinstance(self.M, SparseCost)

    def out(self, x: ArrayLike) -> np.ndarray | torch.Tensor:
        """``x`` (numpy) in the caller's backend, dtype and device; writable,
        as POT's answers are (an :class:`otgan.OTResult`'s arrays are not)."""
        arr = np.ascontiguousarray(x, dtype=None if self.torch else self.dtype)
        if not arr.flags.writeable:
            arr = arr.copy()
        if self.torch:
            return _torch().as_tensor(arr, dtype=self.dtype, device=self.device)
        return arr

    def out_sparse(self, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray):
        """A sparse ``(m, n)`` matrix in the caller's backend (as POT: a
        ``scipy.sparse.coo_array`` for numpy, a sparse COO tensor for torch)."""
        shape = self.M.shape
        if self.torch:
            torch = _torch()
            # valid indices by construction: torch's optional check is skipped
            # (and its warning about not being asked with it)
            return torch.sparse_coo_tensor(torch.as_tensor(np.stack([rows, cols])),
                                           torch.as_tensor(vals), size=shape,
                                           dtype=self.dtype, device=self.device,
                                           check_invariants=False)
        import scipy.sparse as sp  # loaded: the caller's M is a scipy.sparse matrix
        return sp.coo_array((np.asarray(vals, dtype=self.dtype), (rows, cols)), shape=shape)

    def plan(self, sol: "_Solution"):
        """The plan of ``sol`` as POT returns it: dense, or sparse for a sparse ``M``."""
        res = sol.result
        if self.sparse:
            # copies: the OTResult's arrays are read-only, POT's answers are not
            return self.out_sparse(res.plan_rows.copy(), res.plan_cols.copy(),
                                   res.plan_values.copy())
        return self.out(sol.plan)


def _sparse_cost(M) -> SparseCost:
    """The present edges of a scipy.sparse matrix or a sparse torch tensor."""
    if _is_torch(M):
        coo = M.detach()
        if coo.layout != _torch().sparse_coo:
            coo = coo.to_sparse_coo()
        coo = coo.coalesce().cpu()
        if coo.dim() != 2:
            raise ValueError(f"M must be a 2-D (m, n) cost matrix, got shape "
                             f"{tuple(coo.shape)}")
        values = coo.values()
        if values.is_complex() or values.dtype == _torch().bool:
            raise TypeError(f"M must have real entries, got dtype {values.dtype}")
        idx = coo.indices().numpy()
        values = (values.double() if values.is_floating_point() else values).numpy()
        return SparseCost(idx[0], idx[1], values, tuple(coo.shape))
    return SparseCost.from_scipy(M)


def _dtype(x) -> np.dtype:
    """numpy dtype of an array, a scalar or a scipy.sparse matrix."""
    return x.dtype if _is_sparse(x) else np.asarray(x).dtype


def _parse(a, b, M, *, multi_b: bool) -> _Inputs:
    for name, x in (("a", a), ("b", b)):
        if _is_sparse(x):
            raise TypeError(
                f"{name} is a sparse matrix; histograms must be dense (only M may be "
                "sparse: its missing entries are forbidden edges, as in POT)")
    arrays = [(n, x) for n, x in (("a", a), ("b", b), ("M", M))
              if x is not None and not isinstance(x, (list, tuple))]
    for name, x in arrays:
        if not (isinstance(x, np.ndarray) or _is_torch(x) or np.isscalar(x)
                or (name == "M" and _is_sparse(x))):
            raise TypeError(
                f"{name} has type {type(x).__module__}.{type(x).__name__}; otgan.compat "
                "takes numpy arrays, torch tensors and lists (convert other arrays "
                "with numpy.asarray first)")
    kinds = {_is_torch(x) for _, x in arrays}
    if len(kinds) > 1:
        raise ValueError(
            "a, b and M must all be numpy arrays or all torch tensors (lists are "
            f"converted); got {[type(x).__name__ for _, x in arrays]}")
    use_torch = kinds == {True}
    first = arrays[0][1] if arrays else None  # lists take the first array's dtype

    def convert(x: ArrayLike | None) -> ArrayLike | None:
        if not isinstance(x, (list, tuple)) or len(x) == 0:
            return x
        arr = np.asarray(x, dtype=np.float64)
        if use_torch:
            torch = _torch()
            dt = first.dtype if first.is_floating_point() else torch.float64
            return torch.as_tensor(arr, dtype=dt, device=first.device)
        if first is not None and _dtype(first).kind == "f":
            return arr.astype(_dtype(first))
        return arr

    a, b, M = convert(a), convert(b), convert(M)
    if _is_sparse(M):
        M64 = _sparse_cost(M)  # refuses an empty shape, naming M
    else:
        M64 = _to_numpy64(M)
        if M64.ndim != 2:
            raise ValueError(f"M must be a 2-D (m, n) cost matrix, got shape {M64.shape}")
        if 0 in M64.shape:  # POT divides by zero making uniform weights
            raise ValueError(f"M is empty (shape {M64.shape}); it needs at least one row "
                             "and one column")
    m, n = M64.shape
    type_as = a if not _is_empty(a) else b if not _is_empty(b) else M
    if use_torch:
        torch = _torch()
        dtype = type_as.dtype if type_as.is_floating_point() else torch.float64
        device = type_as.device
    else:
        dtype = _dtype(type_as)
        dtype = dtype if dtype.kind == "f" else np.dtype(np.float64)
        device = None

    if _is_empty(a):
        a, a64 = None, np.full(m, 1.0 / m)
    else:
        a64 = _to_numpy64(a)
    if _is_empty(b):
        b, b64 = None, np.full(n, 1.0 / n)
    else:
        b64 = _to_numpy64(b)
    if a64.ndim != 1:
        raise MismatchError(f"a must be 1-D, got shape {a64.shape}")
    if b64.ndim not in ((1, 2) if multi_b else (1,)):
        raise MismatchError(
            f"b must be 1-D{' or 2-D (one column per target)' if multi_b else ''}, "
            f"got shape {b64.shape}" + ("" if multi_b else "; use emd2 for several targets"))
    if a64.shape[0] != m or b64.shape[0] != n:
        raise MismatchError(
            "Dimension mismatch, check dimensions of M with a and b: M has shape "
            f"{M64.shape}, a has {a64.shape[0]} entries, b has {b64.shape[0]}")
    return _Inputs(a64, b64, M64, a, b, M, use_torch, dtype, device)


def _check_num_iter(numItermax):
    """``None`` or a positive integer (integral floats such as ``1e6`` too, as POT)."""
    if numItermax is None:
        return None
    if isinstance(numItermax, bool) or not isinstance(numItermax, numbers.Real):
        raise TypeError(f"numItermax must be a positive integer, got {numItermax!r}")
    if isinstance(numItermax, numbers.Integral):
        k = int(numItermax)
    elif float(numItermax).is_integer():
        k = int(float(numItermax))
    else:
        raise TypeError(f"numItermax must be a positive integer, got {numItermax!r}")
    if k < 1:
        raise ValueError(f"numItermax must be at least 1, got {numItermax!r}")
    return min(k, _MAX_ITER_CAP)


def _check_threads(numThreads) -> None:
    """POT's rule: ``None``, ``"max"`` or a positive integer. Ignored otherwise."""
    if numThreads is None or (isinstance(numThreads, str) and numThreads.lower() == "max"):
        return
    if isinstance(numThreads, bool) or not isinstance(numThreads, numbers.Integral) \
            or numThreads < 1:
        raise ValueError('numThreads should either be "max" or a strictly positive integer')


# --------------------------------------------------------------------------
# the solve
# --------------------------------------------------------------------------

def center_ot_dual(u: ArrayLike, v: ArrayLike, a: ArrayLike,
                   b: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    r"""Shift potentials to :math:`(u + c, v - c)` so that :math:`a^T u = b^T v`.

    :math:`c = (b^T v - a^T u) / (\sum a + \sum b)`; the objective
    :math:`a^T u + b^T v` is unchanged when :math:`\sum a = \sum b`. The
    same as POT's ``ot.lp.center_ot_dual`` for 1-D numpy arrays.

    Examples
    --------
    >>> import numpy as np
    >>> from otgan.compat import center_ot_dual
    >>> u, v = center_ot_dual(np.array([1.0, 3.0]), np.array([0.0, 0.0]),
    ...                       np.array([0.5, 0.5]), np.array([0.5, 0.5]))
    >>> u, v
    (array([0., 2.]), array([1., 1.]))
    """
    u, v = np.asarray(u, dtype=np.float64), np.asarray(v, dtype=np.float64)
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    c = (b @ v - a @ u) / (a.sum() + b.sum())
    return u + c, v - c


@dataclass
class _Solution:
    value: float
    u: np.ndarray           # the log's potentials (centred when center_dual)
    v: np.ndarray
    result: object          # the OTResult

    @property
    def plan(self) -> np.ndarray:
        """The dense plan, built only when asked for (emd2 alone never needs it);
        a new, writable array (as POT's): the OTResult's own is read-only."""
        r = self.result
        P = np.zeros(r.shape)
        np.add.at(P, (r.plan_rows, r.plan_cols), r.plan_values)
        return P


def _check_mass(a: np.ndarray, b: np.ndarray) -> None:
    """POT's rule, ``|sum(a) - sum(b)| < 1.5e-6``, for ``b`` 1-D or each column."""
    sa = float(a.sum())
    for sb in np.atleast_1d(b.sum(axis=0)):
        if not abs(sa - float(sb)) < MASS_ATOL:
            raise MismatchError(
                f"a and b vector must have the same sum (same total mass): sum(a) = "
                f"{sa!r}, sum(b) = {float(sb)!r}, |difference| = {abs(sa - sb):.3g} is "
                f"not below POT's {MASS_ATOL:g} (check_marginals=False rescales b "
                "to the mass of a instead)")


def _solve_one(a, b, M, *, num_iter, center_dual, method, tol) -> _Solution:
    sa, sb = float(a.sum()), float(b.sum())
    if sb > 0 and sa != sb:
        b = b * (sa / sb)  # as POT: solve for b rescaled to the mass of a
    options = {}
    if num_iter is not None:
        # numItermax caps the network simplex: passed on wherever it runs,
        # i.e. everywhere but the assignment problems that auto solves
        # without it (the weights' test is the registry's own)
        name = canonical_method(method)
        if name == "network-simplex" or isinstance(M, SparseCost) or (
                name == "auto"
                and choose_method(LinearProblem(None, a, b)) != "sparse-assignment"):
            method, options = "network-simplex", {"max_iter": num_iter}
    try:
        res = solve_ot(M, a, b, method=method, tol=tol, **options)
    except InfeasibleError:
        raise
    except OTSolverError as exc:
        if options:
            raise OTSolverError(
                f"no certified optimum within numItermax={num_iter} network-simplex "
                "iterations (POT would warn 'numItermax reached' and return a "
                "non-optimal plan); raise numItermax or leave it None for otgan's "
                f"budget. {exc}") from exc
        raise
    u, v = res.u.copy(), res.v.copy()  # writable, as POT's; the result's are read-only
    if center_dual:
        u, v = center_ot_dual(u, v, a, b)
    return _Solution(float(res.value), u, v, res)


def _log(p: _Inputs, sol: _Solution, cost) -> dict:
    return {"cost": cost, "u": p.out(sol.u), "v": p.out(sol.v), "warning": None,
            "result_code": 1, "certificate": sol.result.certificate,
            "method": sol.result.method}


def emd(a: ArrayLike | None, b: ArrayLike | None, M: ArrayLike,
        numItermax: int | float | None = None, log: bool = False, center_dual: bool = True,
        numThreads: int | str | None = 1, check_marginals: bool = True,
        potentials_init: tuple | None = None, *, method: str = "auto", tol: float = 1e-9
        ) -> np.ndarray | torch.Tensor | tuple[np.ndarray | torch.Tensor, dict]:
    r"""Optimal transport plan, POT's ``ot.emd`` signature, exact and certified.

    .. math::
        G = \arg\min_{G \ge 0,\ G 1 = a,\ G^T 1 = b} \langle G, M \rangle

    Parameters
    ----------
    a : (m,) array_like or []
        Source histogram; ``[]`` or ``None`` for uniform.
    b : (n,) array_like or []
        Target histogram; ``[]`` or ``None`` for uniform. Its mass must match
        ``a``'s to ``1.5e-6`` (absolute, as POT) unless ``check_marginals`` is
        False; it is then rescaled to ``sum(a)``.
    M : (m, n) array_like, scipy.sparse matrix or sparse tensor
        Cost matrix (any sign). Sparse: the stored entries are the only pairs
        transport may use (see the module docstring).
    numItermax : int, optional
        Iteration budget of the network simplex when the problem is solved by
        it (anything but a uniform ``m = n`` problem under ``method="auto"``,
        which the assignment solver handles). ``None`` (default): otgan's
        budget ``max(1e6, 50 m n)``, not POT's ``100000``. If the budget runs
        out, :class:`otgan.OTSolverError` is raised (POT warns and returns a
        non-optimal plan).
    log : bool
        Also return a dict: ``cost`` (float), ``u``, ``v`` (potentials,
        ``u_i + v_j <= M_ij``), ``warning`` (``None``), ``result_code``
        (``1``) and, beyond POT, ``certificate`` (:class:`otgan.Certificate`)
        and ``method`` (the label of the exact method that solved it, e.g.
        ``"fast"``, ``"emd"``; :attr:`otgan.OTResult.solver` names its solver).
    center_dual : bool
        Centre the potentials (:func:`center_ot_dual`) so that ``a.u = b.v``.
    numThreads : int or "max"
        Validated as in POT and ignored (POT ignores it too).
    check_marginals : bool
        Check the masses of ``a`` and ``b`` (POT's rule); ``b`` is rescaled to
        ``sum(a)`` either way.
    potentials_init : tuple, optional
        POT's warm start; accepted and ignored (the answer is the optimum).
    method, tol : keyword-only
        otgan's :func:`otgan.solve_ot` options (not in POT); ``method`` takes
        every name and alias of :data:`otgan.lp.registry.METHOD_TABLE`.

    Returns
    -------
    G : (m, n) array or tensor
        An optimal plan, in the dtype of ``a`` (else ``b``, else ``M``; integer
        inputs give float64) and, for tensors, on its device; never carries
        gradients (as POT). Sparse (``scipy.sparse.coo_array`` or a sparse COO
        tensor) when ``M`` is.
    log : dict
        Only if ``log=True``.

    Raises
    ------
    MismatchError
        Dimension or mass mismatch (a ``ValueError`` and an ``AssertionError``).
    ValueError, TypeError
        Invalid input: negative weights, NaN/inf, mixed numpy/torch inputs,
        ``b`` 2-D (use :func:`emd2`), ...
    otgan.OTSolverError
        No certified optimum (POT would return a non-optimal plan with a warning).
    InfeasibleError
        A sparse ``M`` whose present edges cannot carry ``a`` to ``b`` (an
        :class:`otgan.OTSolverError` and a ``ValueError``).

    Examples
    --------
    POT's own example gives the same plan:

    >>> from otgan import compat
    >>> compat.emd([.5, .5], [.5, .5], [[0., 1.], [1., 0.]])
    array([[0.5, 0. ],
           [0. , 0.5]])
    >>> G, log = compat.emd([1.0, 0.0], [], [[0., 2.], [1., 3.]], log=True)
    >>> G, log["cost"], log["warning"], log["result_code"]
    (array([[0.5, 0.5],
           [0. , 0. ]]), 1.0, None, 1)
    """
    _check_threads(numThreads)
    num_iter = _check_num_iter(numItermax)
    p = _parse(a, b, M, multi_b=False)
    if check_marginals:
        _check_mass(p.a, p.b)
    sol = _solve_one(p.a, p.b, p.M, num_iter=num_iter, center_dual=center_dual,
                     method=method, tol=tol)
    G = p.plan(sol)
    if log:
        return G, _log(p, sol, sol.value)
    return G


def emd2(a: ArrayLike | None, b: ArrayLike | None, M: ArrayLike, processes: int = 1,
         numItermax: int | float | None = None, log: bool = False,
         return_matrix: bool = False, center_dual: bool = True,
         numThreads: int | str | None = 1, check_marginals: bool = True,
         potentials_init: tuple | None = None, *, method: str = "auto", tol: float = 1e-9
         ) -> float | torch.Tensor | list:
    r"""Optimal transport cost, POT's ``ot.emd2`` signature, exact and certified.

    .. math::
        W = \min_{G \ge 0,\ G 1 = a,\ G^T 1 = b} \langle G, M \rangle

    Parameters
    ----------
    a, M, numItermax, center_dual, numThreads, check_marginals, potentials_init
        As in :func:`emd`.
    b : (n,) or (n, k) array_like or []
        Target histogram, or ``k`` of them as columns: then the answer is a
        list of ``k`` results (each as for a 1-D ``b``).
    processes : int
        POT's deprecated option; accepted and ignored.
    log : bool
        Return ``[W, log]`` with the keys of :func:`emd` (``cost`` is ``W``
        itself, with its gradient for tensors).
    return_matrix : bool
        Add the plan as ``log["G"]`` (and return the log, as POT does).
    method, tol : keyword-only
        otgan's :func:`otgan.solve_ot` options (not in POT); ``method`` takes
        every name and alias of :data:`otgan.lp.registry.METHOD_TABLE`.

    Returns
    -------
    W : float or 0-d tensor (or a list of them for a 2-D ``b``)
        The optimal cost: a Python float for numpy/list inputs, a 0-d tensor in
        the dtype of ``a`` (else ``b``, else ``M``) and on its device for torch
        inputs, differentiable w.r.t. ``a``, ``b`` and ``M``:
        :math:`\partial W/\partial M = G`, :math:`\partial W/\partial a = u -
        \mathrm{mean}(u)`, :math:`\partial W/\partial b = v - \mathrm{mean}(v)`.
    log : dict
        If ``log`` or ``return_matrix``.

    Raises
    ------
    As :func:`emd`.

    Examples
    --------
    POT's own example:

    >>> from otgan import compat
    >>> compat.emd2([.5, .5], [.5, .5], [[0., 1.], [1., 0.]])
    0.0

    Two target histograms at once (columns of ``b``):

    >>> import numpy as np
    >>> B = np.array([[0.5, 0.0], [0.5, 1.0]])
    >>> compat.emd2([.5, .5], B, [[0., 1.], [1., 0.]])
    [0.0, 0.5]

    With ``return_matrix`` the log holds the plan:

    >>> W, log = compat.emd2([], [], [[0., 1.], [1., 0.]], return_matrix=True)
    >>> W, log["G"], log["certificate"].is_optimal
    (0.0, array([[0.5, 0. ],
           [0. , 0.5]]), True)
    """
    _check_threads(numThreads)
    num_iter = _check_num_iter(numItermax)
    p = _parse(a, b, M, multi_b=True)
    if check_marginals:
        _check_mass(p.a, p.b)
    want_log = bool(log or return_matrix)
    kw = dict(num_iter=num_iter, center_dual=center_dual, method=method, tol=tol)

    def one(b64: np.ndarray, b_in: ArrayLike | None) -> float | torch.Tensor | list:
        if p.torch:
            sol, cost = _emd2_torch(p, b64, b_in, kw)
        else:
            sol = _solve_one(p.a, b64, p.M, **kw)
            cost = sol.value
        if not want_log:
            return cost
        out = _log(p, sol, cost)
        if return_matrix:
            out["G"] = p.plan(sol)
        return [cost, out]

    if p.b.ndim == 1:
        return one(p.b, p.b_in)
    return [one(np.ascontiguousarray(p.b[:, k]), None if p.b_in is None else p.b_in[:, k])
            for k in range(p.b.shape[1])]


# --------------------------------------------------------------------------
# torch: the value as an autograd Function
# --------------------------------------------------------------------------

_FUNCTION = None


def _emd2_function():
    """The ``torch.autograd.Function`` for :func:`emd2` (built on first use, so
    that importing this module never imports torch)."""
    global _FUNCTION
    if _FUNCTION is not None:
        return _FUNCTION
    import torch

    class EMD2(torch.autograd.Function):
        """Forward: solve in float64 numpy, return the value in the output dtype
        and device. Backward: ``(g (u - mean u), g (v - mean v), g G)``."""

        @staticmethod
        def forward(ctx, a: torch.Tensor | None, b: torch.Tensor | None, M: torch.Tensor,
                    job: _Job) -> torch.Tensor:
            sol = _solve_one(job.a, job.b, job.M, **job.kw)
            job.solution = sol
            grads = []
            for x, need, g in ((a, ctx.needs_input_grad[0], lambda: sol.u - sol.u.mean()),
                               (b, ctx.needs_input_grad[1], lambda: sol.v - sol.v.mean())):
                grads.append(torch.as_tensor(g(), dtype=x.dtype, device=x.device)
                             if need else None)
            if not ctx.needs_input_grad[2]:
                grads.append(None)
            elif isinstance(job.M, SparseCost):
                # a sparse M gets a sparse gradient on its present edges: the
                # plan's mass on each edge (0 where the plan does not use it)
                geom = job.M
                grads.append(torch.sparse_coo_tensor(
                    torch.as_tensor(np.stack([geom.rows, geom.cols])),
                    torch.as_tensor(_edge_values(geom, sol.result)), size=geom.shape,
                    dtype=M.dtype, device=M.device, check_invariants=False,
                    is_coalesced=True))  # the edges are sorted and unique
            else:
                grads.append(torch.as_tensor(sol.plan, dtype=M.dtype, device=M.device))
            ctx.grads = grads
            return torch.as_tensor(sol.value, dtype=job.dtype, device=job.device)

        @staticmethod
        def backward(ctx, grad_output: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
            out = []
            for g in ctx.grads:
                out.append(None if g is None else grad_output.to(g) * g)
            return out[0], out[1], out[2], None

    _FUNCTION = EMD2
    return EMD2


def _edge_values(geom: SparseCost, res) -> np.ndarray:
    """The plan of ``res`` on the present edges of ``geom``, in their order (the
    certificate has checked that the plan uses present edges only)."""
    n = geom.shape[1]
    edge = np.searchsorted(geom.keys, res.plan_rows * n + res.plan_cols)
    out = np.zeros(geom.nnz)
    np.add.at(out, edge, res.plan_values)
    return out


@dataclass
class _Job:
    a: np.ndarray
    b: np.ndarray
    M: np.ndarray | SparseCost
    kw: dict
    dtype: object
    device: object
    solution: _Solution | None = None


def _emd2_torch(p: _Inputs, b64, b_in, kw):
    """``(solution, 0-d tensor)``; uniform weights (``None``) get no gradient."""
    job = _Job(p.a, b64, p.M, kw, p.dtype, p.device)
    cost = _emd2_function().apply(p.a_in, b_in, p.M_in, job)
    return job.solution, cost
