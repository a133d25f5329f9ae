"""What every solver returns: a plan as non-zeros plus potentials."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from numpy.typing import ArrayLike


#: flows at most this many times the mass are its rounding (64 ulps)
DUST = 64 * float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class RawSolution:
    """A plan as its non-zeros ``(rows, cols, vals)`` plus Kantorovich
    potentials ``(u, v)``, in the solver's index space, not yet certified.

    Examples
    --------
    >>> import numpy as np
    >>> raw = RawSolution.from_dense(np.eye(2) / 2, np.zeros(2), np.ones(2), "emd")
    >>> raw.rows.tolist(), raw.cols.tolist(), raw.vals.tolist()
    ([0, 1], [0, 1], [0.5, 0.5])
    """

    rows: np.ndarray
    cols: np.ndarray
    vals: np.ndarray
    u: np.ndarray
    v: np.ndarray
    n_iter: int | None = None
    method: str = ""

    @classmethod
    def from_dense(cls, plan: np.ndarray, u: ArrayLike, v: ArrayLike, method: str,
                   n_iter: int | None = None) -> "RawSolution":
        """From a dense plan (its non-zeros are kept)."""
        rows, cols = np.nonzero(plan)
        return cls(rows.astype(np.int64), cols.astype(np.int64),
                   plan[rows, cols].astype(np.float64), np.asarray(u, dtype=np.float64),
                   np.asarray(v, dtype=np.float64), n_iter, method)

    def shifted(self, offsets: tuple[np.ndarray, np.ndarray] | None) -> "RawSolution":
        """The potentials moved back to the caller's frame, ``u + alpha`` and
        ``v + beta`` (:func:`otgan.lp.certify.reduce_offsets`); unchanged
        for ``None``."""
        if offsets is None:
            return self
        return RawSolution(self.rows, self.cols, self.vals, self.u + offsets[0],
                           self.v + offsets[1], self.n_iter, self.method)

    def without_dust(self, mass: float) -> "RawSolution":
        """The plan without flows at the rounding level of the mass
        (:data:`DUST` times it): a solver's rounding of the marginals, not a
        choice of the plan, and not free -- on a pair of huge cost such a
        flow costs more than the whole answer. Dropping them moves the
        marginals by as little, far inside the certificate's tolerance."""
        keep = np.abs(self.vals) > DUST * mass
        if keep.all():
            return self
        return RawSolution(self.rows[keep], self.cols[keep], self.vals[keep], self.u, self.v,
                           self.n_iter, self.method)

    def renamed(self, method: str) -> "RawSolution":
        """The same solution reported under another method name."""
        return RawSolution(self.rows, self.cols, self.vals, self.u, self.v, self.n_iter,
                           method)


__all__ = ["RawSolution", "DUST"]
