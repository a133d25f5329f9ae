"""The immutable result of an exact OT solve."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .solvers.certify import Certificate
from .solvers.raw import RawSolution


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
        The marginals that were solved for.
    plan_rows, plan_cols, plan_values : ndarray
        The non-zeros of the optimal plan (a basic solution has at most
        ``m + n - 1``; see :attr:`plan` for the dense ``m x n`` view).
    method : str
        The exact method that produced the answer.
    n_iter : int or None
        Iterations, where the method reports them.
    certificate : Certificate
        Primal/dual feasibility and zero-gap evidence, computed by otgan.
    seconds : float
        Wall-clock time of the solve (certificate excluded).
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

    @classmethod
    def from_solution(cls, raw: RawSolution, certificate: Certificate, a: np.ndarray,
                      b: np.ndarray, seconds: float = float("nan")) -> "OTResult":
        """The one way an :class:`OTResult` is built: a solver's
        :class:`~otgan.solvers.RawSolution`, its certificate (which must prove
        optimality) and the weights as the caller passed them."""
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

    @cached_property
    def plan(self) -> np.ndarray:
        """The optimal plan as a dense ``(m, n)`` array (built on first access)."""
        P = np.zeros(self.shape)
        np.add.at(P, (self.plan_rows, self.plan_cols), self.plan_values)
        return P

    @property
    def plan_sparse(self) -> "scipy.sparse.csr_array":
        """The optimal plan as a scipy sparse CSR array (no dense ``m x n`` memory)."""
        import scipy.sparse as sp  # lazily: importing it costs 0.15 s
        return sp.csr_array((self.plan_values, (self.plan_rows, self.plan_cols)),
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
