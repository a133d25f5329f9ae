"""The immutable result of an exact OT solve."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .lp.certify import Certificate
from .lp.raw import RawSolution
from .lp.registry import solver_of


@dataclass(frozen=True, eq=False)
class OTResult:
    r"""Exact optimal transport between two weighted batches, with its proof.

    Attributes
    ----------
    value : float
        The exact optimal cost :math:`W = \sum_{ij} P_{ij} M_{ij}` (equal to the
        dual value up to the certificate's tolerance).
    u, v : ndarray, shapes (m,), (n,)
        Kantorovich potentials, :math:`u_i + v_j \le M_{ij}`, with
        :math:`a \cdot u + b \cdot v = W`.
    a, b : ndarray
        The marginals that were solved for and certified: the caller's weights
        in float64, except that when float32, float16 or bfloat16 weights
        differed in mass by more than ``tol`` (but within their dtype's
        rounding), ``b`` is the caller's ``b`` rescaled to ``a``'s mass in
        float64 (:func:`otgan.solve_ot`).
    plan_rows, plan_cols, plan_values : ndarray
        The non-zeros of the optimal plan (a basic solution has at most
        ``m + n - 1``; see :attr:`plan` for the dense ``m x n`` view).
    method : str
        The label of the exact method that produced the answer, as its solver
        has always written it (``"emd"``, ``"fast"``, ``"fast-transport"``,
        ``"fast-fallback"``, ...; callers compare it and benchmark records
        store it); :attr:`solver` is the solver's canonical name.
    n_iter : int or None
        Iterations, where the method reports them.
    certificate : Certificate
        Primal/dual feasibility and zero-gap evidence, computed by otgan.
    seconds : float
        Wall-clock time of the solve (certificate excluded).

    Every array an :class:`OTResult` holds or returns from a property
    (:attr:`plan` included) is read-only, so the certified answer cannot be
    changed after the fact; copy one (``r.u.copy()``) to modify it. ``a`` and
    ``b`` are private copies: changing the arrays that were passed in does not
    change the result.

    Examples
    --------
    >>> import numpy as np, otgan
    >>> r = otgan.solve_ot(np.array([[0.0, 1.0], [1.0, 0.0]]))
    >>> r.u[0] = 99.0
    Traceback (most recent call last):
    ...
    ValueError: assignment destination is read-only
    """

    value: float
    u: np.ndarray
    v: np.ndarray
    a: np.ndarray
    b: np.ndarray
    plan_rows: np.ndarray
    plan_cols: np.ndarray
    plan_values: np.ndarray
    method: str
    n_iter: int | None
    certificate: Certificate
    seconds: float = field(default=float("nan"))

    def __post_init__(self) -> None:
        # (through __dict__: the frozen dataclass refuses setattr; a batch
        # builds thousands of results, so this is kept to a few microseconds)
        d = self.__dict__
        # a and b may be the caller's own arrays (validation passes float64
        # input through): copied.
        for name in ("a", "b"):
            arr = np.array(d[name], dtype=np.float64)
            arr.setflags(write=False)
            d[name] = arr
        # the solver's arrays: read-only views, no copy (whoever owns the
        # memory, e.g. a batch's stacked potentials, keeps it writable)
        for name in ("u", "v", "plan_rows", "plan_cols", "plan_values"):
            d[name] = _read_only(d[name])

    @classmethod
    def from_solution(cls, raw: RawSolution, certificate: Certificate, a: np.ndarray,
                      b: np.ndarray, seconds: float = float("nan")) -> "OTResult":
        """The one way an :class:`OTResult` is built: a solver's
        :class:`~otgan.lp.RawSolution`, its certificate (which must prove
        optimality) and the weights it certifies (the caller's, validated;
        copied here)."""
        if not certificate.is_optimal:
            raise ValueError(f"an OTResult needs a certified solution: "
                             f"{certificate.summary()}")
        return cls(value=certificate.primal_value, u=raw.u, v=raw.v, a=a, b=b,
                   plan_rows=raw.rows, plan_cols=raw.cols, plan_values=raw.vals,
                   method=raw.method, n_iter=raw.n_iter, certificate=certificate,
                   seconds=seconds)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.u.shape[0], self.v.shape[0])

    @property
    def solver(self) -> str:
        """The canonical name of the solver behind :attr:`method`
        (:data:`otgan.lp.registry.METHOD_TABLE`; ``method="emd"`` and
        ``"network-simplex"`` both give ``"network-simplex"``).

        Examples
        --------
        >>> import numpy as np, otgan
        >>> r = otgan.solve_ot(np.array([[0.0, 1.0], [1.0, 0.0]]), method="emd")
        >>> r.method, r.solver
        ('emd', 'network-simplex')
        """
        return solver_of(self.method)

    @cached_property
    def plan(self) -> np.ndarray:
        """The optimal plan as a dense ``(m, n)`` array (built on first access)."""
        P = np.zeros(self.shape)
        np.add.at(P, (self.plan_rows, self.plan_cols), self.plan_values)
        P.flags.writeable = False  # cached: one array for every access
        return P

    @property
    def plan_sparse(self) -> "scipy.sparse.csr_array":
        """The optimal plan as a scipy sparse CSR array (no dense ``m x n``
        memory); a new array on every access, sharing no memory with the result."""
        import scipy.sparse as sp  # lazily: importing it costs 0.15 s
        return sp.csr_array((self.plan_values.copy(),
                             (self.plan_rows.copy(), self.plan_cols.copy())),
                            shape=self.shape)

    @property
    def dual_value(self) -> float:
        r""":math:`a \cdot u + b \cdot v`."""
        return float(np.dot(self.a, self.u) + np.dot(self.b, self.v))

    @property
    def is_optimal(self) -> bool:
        return self.certificate.is_optimal

    def critic_targets(self) -> tuple[np.ndarray, np.ndarray]:
        r"""WGAN-TS regression targets :math:`(T_I, T_J) = (u, -v)`, centred.

        The dual in WGAN-TS form (docs/theory.md, A.2) is
        :math:`\max \sum_i a_i T_i - \sum_j b_j T_j` s.t.
        :math:`T_i - T_j \le c_{ij}`; it is shifted so that the mean over all
        ``m + n`` values is 0 (Algorithm 1, line 9).

        Examples
        --------
        >>> import numpy as np, otgan
        >>> res = otgan.solve_samples(np.array([[0.0], [1.0]]), np.array([[2.0], [3.0]]))
        >>> t_real, t_fake = res.critic_targets()
        >>> bool(abs(t_real.sum() + t_fake.sum()) < 1e-12)
        True
        """
        t_real = self.u.copy()
        t_fake = -self.v
        shift = (t_real.sum() + t_fake.sum()) / (t_real.size + t_fake.size)
        return t_real - shift, t_fake - shift

    def matching(self) -> np.ndarray:
        r"""For each generated point ``x_j`` the real index :math:`\sigma(j)` that
        receives most of its mass (the WGAN-TS OT regulariser's partner)."""
        n = self.shape[1]
        order = np.lexsort((-self.plan_values, self.plan_cols))
        cols = self.plan_cols[order]
        first = np.ones(len(cols), dtype=bool)
        first[1:] = cols[1:] != cols[:-1]
        sigma = np.full(n, -1, dtype=np.int64)
        sigma[cols[first]] = self.plan_rows[order][first]
        return sigma

    def __repr__(self) -> str:
        m, n = self.shape
        verdict = "certified" if self.is_optimal else "NOT certified"
        return (f"OTResult(value={self.value:.10g}, shape=({m}, {n}), method={self.method!r}, "
                f"{verdict}, gap={self.certificate.gap_abs:.1e})")


def _read_only(arr) -> np.ndarray:
    """A read-only view of ``arr`` (the array itself stays writable for whoever
    owns it, e.g. a batch's stacked potentials)."""
    out = np.asarray(arr).view()
    out.setflags(write=False)
    return out
