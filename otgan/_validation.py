"""Input checks shared by every layer.

Every public entry point funnels its arguments through these helpers so that a
bad input fails early with a ``ValueError``/``TypeError`` that names the
argument and shows the offending value.
"""
from __future__ import annotations

import numbers
from typing import TYPE_CHECKING

import numpy as np

from .costs import METRICS, Metric

if TYPE_CHECKING:  # pragma: no cover
    from numpy.typing import ArrayLike

#: Largest ``m * n`` accepted for a dense cost matrix / plan (float64: 8 bytes
#: each, so 2**28 entries = 2 GiB per matrix). Above it use a points-in mode.
MAX_DENSE_ENTRIES = 2 ** 28

#: Default relative tolerance on ``|sum(a) - sum(b)|`` (mass balance); the
#: same as the certificate's default tolerance, because the certificate checks
#: the plan's marginals against the weights exactly as they were passed.
MASS_RTOL = 1e-9

#: The largest mass mismatch ever put down to the weights' rounding (relative):
#: the machine epsilon of bfloat16, the coarsest floating dtype accepted. A
#: mismatch of 1% is refused whatever the dtype.
MASS_RTOL_MAX = 2.0 ** -7


def describe(value: object) -> str:
    """A short repr of ``value`` for error messages (at most 80 characters)."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def as_float_array(value: ArrayLike, name: str, *, ndim: int | None = None,
                   allow_int: bool = True) -> np.ndarray:
    """Convert ``value`` to a float64 (or float32) array, rejecting junk.

    Rejects ragged sequences, object/str/complex/bool dtypes, NaN and inf.
    Integer input is converted to float64 when ``allow_int``.
    """
    if value is None:
        raise TypeError(f"{name} must be an array of numbers, got None")
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # torch tensor
        value = value.detach().cpu()
        if str(value.dtype) == "torch.bfloat16":  # numpy has no bfloat16:
            value = value.float()                 # upcast, exact in float32
        try:
            value = value.numpy()
        except TypeError as exc:  # a dtype numpy cannot hold
            raise TypeError(f"{name} has unsupported tensor dtype {value.dtype}: {exc}") \
                from None
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise ValueError(f"{name} is ragged or not array-like: {exc}") from None
    if arr.dtype == object:
        raise ValueError(
            f"{name} is ragged or holds non-numbers (object dtype): {describe(value)}")
    kind = arr.dtype.kind
    if kind == "c":
        raise TypeError(f"{name} must be real, got complex dtype {arr.dtype}")
    if kind == "b":
        raise TypeError(f"{name} must be numeric, got boolean dtype")
    if kind in "iu":
        if not allow_int:
            raise TypeError(f"{name} must be a floating-point array, got dtype {arr.dtype}")
        arr = arr.astype(np.float64)
    elif kind != "f":
        raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}")
    if arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float64)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {arr.shape}")
    if arr.size and not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(
            f"{name} contains NaN or inf (first at index {tuple(int(i) for i in bad)}: "
            f"{arr[tuple(bad)]})")
    return arr


def check_vector(value: ArrayLike | None, name: str, size: int, size_name: str, *,
                 default: float | None = None) -> np.ndarray:
    """A float64 C-order vector of length ``size`` (that of ``size_name``).

    ``None`` gives ``np.full(size, default)`` when a ``default`` is set.
    """
    if value is None and default is not None:
        return np.full(size, float(default))
    arr = as_float_array(value, name).astype(np.float64, copy=False)
    if arr.shape != (size,):
        raise ValueError(f"{name} must have shape ({size},) to match {size_name}, "
                         f"got {arr.shape}")
    return np.ascontiguousarray(arr)


def check_points(y: ArrayLike, x: ArrayLike, name_y: str = "y", name_x: str = "x",
                 *, allow_int: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Validate two batches of points and flatten them to ``(N, d)``."""
    y = as_float_array(y, name_y, allow_int=allow_int)
    x = as_float_array(x, name_x, allow_int=allow_int)
    for arr, name in ((y, name_y), (x, name_x)):
        if arr.ndim == 0:
            raise ValueError(f"{name} must hold a batch of points, got a scalar")
        if arr.shape[0] == 0:
            raise ValueError(f"{name} is an empty batch (shape {arr.shape})")
    y2 = y.reshape(y.shape[0], -1)
    x2 = x.reshape(x.shape[0], -1)
    if y2.shape[1] != x2.shape[1] or (y.ndim > 2 and x.ndim > 2 and y.shape[1:] != x.shape[1:]):
        raise ValueError(
            f"{name_y} and {name_x} have points of different shapes: "
            f"{y.shape[1:]} vs {x.shape[1:]} (dimension {y2.shape[1]} vs {x2.shape[1]})")
    if y2.shape[1] == 0:
        raise ValueError(f"{name_y} and {name_x} have points of dimension 0")
    return y2, x2


def check_metric(metric: str | tuple | Metric,
                 p: float | None) -> tuple[str, float]:
    """Validate ``metric``/``p``; returns ``(name, p_float)`` (``p`` is 0.0 unless
    ``"lp"``). Prefer :meth:`otgan.costs.Metric.parse`, which returns the value
    object itself."""
    parsed = Metric.parse(metric, p)
    return parsed.name, parsed.kernel_p


def check_size(m: int, n: int, what: str = "cost matrix") -> None:
    if m * n > MAX_DENSE_ENTRIES:
        raise ValueError(
            f"{what} of shape ({m}, {n}) has m*n = {m * n} entries, above the dense "
            f"limit MAX_DENSE_ENTRIES = {MAX_DENSE_ENTRIES} "
            f"({MAX_DENSE_ENTRIES * 8 / 2**30:.0f} GiB in float64)")


def check_cost(M: ArrayLike, name: str = "M") -> np.ndarray:
    """Validate a cost matrix: 2-D, non-empty, finite, real; returns float64 C-order."""
    M = as_float_array(M, name)
    if M.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (m, n) cost matrix, got shape {M.shape}")
    if M.shape[0] == 0 or M.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {M.shape})")
    check_size(*M.shape)
    return np.ascontiguousarray(M, dtype=np.float64)


def check_weights(w: ArrayLike | None, size: int, name: str, batch_name: str) -> np.ndarray:
    """Validate a weight vector of length ``size``; ``None`` means uniform."""
    if w is None:
        return np.full(size, 1.0 / size)
    w = as_float_array(w, name).astype(np.float64, copy=False)
    if w.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {w.shape}")
    if w.shape[0] != size:
        raise ValueError(
            f"{name} has length {w.shape[0]} but {batch_name} has {size} points")
    if np.any(w < 0):
        i = int(np.argmin(w))
        raise ValueError(f"{name} has a negative weight: {name}[{i}] = {w[i]}")
    with np.errstate(over="ignore"):
        total = w.sum()
    if not np.isfinite(total):
        raise ValueError(f"{name}'s total mass overflows float64 (sum({name}) = {total}, "
                         f"largest weight {float(w.max())!r}); divide {name} and the other "
                         f"weights by a common factor")
    if total <= 0:
        raise ValueError(f"{name} sums to 0; weights need positive total mass")
    return np.ascontiguousarray(w)


def input_eps(value: object) -> float:
    """The machine epsilon of ``value``'s floating dtype when it is coarser than
    float64 (float32, float16, bfloat16; numpy or torch), else 0.0.

    float64, integer and Python inputs count as exact: their masses are checked
    to the caller's tolerance alone (:func:`check_marginals`).

    Examples
    --------
    >>> import numpy as np
    >>> input_eps(np.ones(3, dtype=np.float32)) == float(np.finfo(np.float32).eps)
    True
    >>> input_eps(np.ones(3)), input_eps([0.5, 0.5])
    (0.0, 0.0)
    """
    dtype = getattr(value, "dtype", None)
    if dtype is None:
        return 0.0
    if hasattr(value, "detach"):  # a torch tensor: torch is imported already
        import torch
        eps = torch.finfo(dtype).eps if value.is_floating_point() else 0.0
    else:
        try:
            dt = np.dtype(dtype)
        except TypeError:
            return 0.0
        eps = float(np.finfo(dt).eps) if dt.kind == "f" else 0.0
    return float(eps) if eps > np.finfo(np.float64).eps else 0.0


def rounding_rtol(eps: float, n: int) -> float:
    r"""The relative mass mismatch that rounding ``n`` normalised weights to a
    dtype of machine epsilon ``eps`` can leave: :math:`\epsilon\,(4 + 2\sqrt n)`,
    at most :data:`MASS_RTOL_MAX`; 0.0 for exact (float64) input.

    Each weight's rounding moves the total by at most :math:`\epsilon/2`
    relative; the normaliser :math:`\sum_i w_i` summed in that dtype adds a
    rounding error that grows like :math:`\sqrt n\,\epsilon` (a random walk;
    measured at most :math:`0.4\sqrt n\,\epsilon` for left-to-right
    float32 sums of ``n <= 65536`` uniform weights, and at most
    :math:`1.4\,\epsilon` for torch's and numpy's pairwise sums).

    Examples
    --------
    >>> import numpy as np
    >>> eps32 = float(np.finfo(np.float32).eps)
    >>> round(rounding_rtol(eps32, 64) / eps32, 6), rounding_rtol(0.0, 64)
    (20.0, 0.0)
    """
    if eps <= 0.0:
        return 0.0
    return min(eps * (4.0 + 2.0 * float(np.sqrt(n))), MASS_RTOL_MAX)


def check_marginals(a: np.ndarray, b: np.ndarray, name_a: str = "a",
                    name_b: str = "b", rtol: float = MASS_RTOL, *,
                    eps: float = 0.0) -> np.ndarray:
    r"""Check that ``a`` and ``b`` have the same total mass; the ``b`` to solve
    and certify against.

    Masses that agree to ``rtol`` (relative) are accepted as they are: the
    certificate checks the plan against the caller's ``a`` and ``b`` with the
    same tolerance. Weights that came in a coarser dtype than float64 (``eps``,
    its machine epsilon: :func:`input_eps`) may differ by more, by what their
    rounding can cause (:func:`rounding_rtol` of ``max(len(a), len(b))``); then
    ``b`` is rescaled to ``a``'s mass in float64 and that rescaled copy is
    returned: the solvers and the certificate use it, and the result's
    ``b`` is it. Anything larger is refused, naming both weights and their
    sums.

    Parameters
    ----------
    a, b : ndarray
        Validated float64 weights (:func:`check_weights`).
    name_a, name_b : str
        Their names in the caller's signature, for the error.
    rtol : float
        Tolerance for exact (float64) input: the certificate's.
    eps : float
        Machine epsilon of the coarser of the weights' input dtypes, 0.0 for
        float64 input.

    Returns
    -------
    ndarray
        ``b`` itself, or ``b * (sum(a) / sum(b))``.

    Examples
    --------
    >>> import numpy as np
    >>> a32 = np.full(3, 1 / 3, dtype=np.float32)
    >>> a, b = a32.astype(np.float64), np.full(3, 1 / 3)
    >>> bool(check_marginals(a, b, eps=input_eps(a32)).sum() == a.sum())
    True
    """
    sa, sb = float(a.sum()), float(b.sum())
    diff = abs(sa - sb)
    scale = max(sa, sb)
    if diff <= rtol * scale:
        return b
    allowed = max(rtol, rounding_rtol(eps, max(len(a), len(b))))
    if diff <= allowed * scale:
        return b * (sa / sb)  # rounding of low-precision weights: renormalised in float64
    raise ValueError(
        f"{name_a} and {name_b} must have the same total mass (to {allowed:.2g} relative): "
        f"sum({name_a}) = {sa!r}, sum({name_b}) = {sb!r} (relative difference "
        f"{diff / scale:.2g}); if the difference is only rounding, normalise both in "
        f"float64: {name_a} = {name_a} / {name_a}.sum() and {name_b} = {name_b} / "
        f"{name_b}.sum() on float64 copies (numpy: np.asarray({name_a}, dtype=np.float64); "
        f"torch: {name_a}.double())")


def balanced(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``b`` rescaled to ``sum(a)`` exactly: what the solvers are given.

    The rounding-level imbalance that :func:`check_marginals` lets through would
    make the LP infeasible for a network simplex; the certificate is still
    computed against the caller's ``b``.
    """
    sa, sb = float(a.sum()), float(b.sum())
    return b if sa == sb else b * (sa / sb)


def check_tol(tol: float, name: str = "tol") -> float:
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real):
        raise TypeError(f"{name} must be a positive real number, got {describe(tol)}")
    tol = float(tol)
    if not np.isfinite(tol) or tol <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {tol}")
    return tol
