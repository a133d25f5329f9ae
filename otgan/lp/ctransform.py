r"""The c-transform and dual tightening (docs/theory.md, A.5).

In Kantorovich form the best column potentials for given row potentials are
:math:`v_j = \min_i (M_{ij} - u_i)` (the WGAN-TS form
:math:`T_j = \max_i (T_i - c_{ij})` with :math:`T_J = -v`), and symmetrically
:math:`u_i = \min_j (M_{ij} - v_j)`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .._validation import check_vector
from ..geometry import as_geometry

if TYPE_CHECKING:  # pragma: no cover
    from numpy.typing import ArrayLike

    from ..geometry import Geometry


def c_transform(M: ArrayLike | Geometry, u: ArrayLike | None = None,
                v: ArrayLike | None = None) -> np.ndarray:
    r"""c-transform of one potential: returns the best partner potential.

    Give exactly one of ``u`` (row potentials, length ``m``) or ``v`` (column
    potentials, length ``n``):

    * ``c_transform(M, u=u)`` returns :math:`v_j = \min_i (M_{ij} - u_i)`;
    * ``c_transform(M, v=v)`` returns :math:`u_i = \min_j (M_{ij} - v_j)`.

    The result is the largest potential that keeps :math:`u_i + v_j \le M_{ij}`.

    Examples
    --------
    >>> import numpy as np
    >>> M = np.array([[0.0, 2.0], [3.0, 1.0]])
    >>> c_transform(M, u=np.array([0.0, 1.0]))
    array([0., 0.])
    """
    geom = as_geometry(M)
    m, n = geom.shape
    if (u is None) == (v is None):
        raise ValueError("c_transform needs exactly one of u= or v=")
    if u is not None:
        return geom.c_transform_cols(check_vector(u, "u", m, "the rows of M"))
    return geom.c_transform_rows(check_vector(v, "v", n, "the columns of M"))


def tighten(M: ArrayLike | Geometry, u: ArrayLike,
            v: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    r"""Make a dual pair tight by one round of c-transforms.

    Returns :math:`(u', v')` with :math:`v' = u^c`, :math:`u' = v'^c`. If
    ``(u, v)`` is feasible then :math:`v' \ge v`, :math:`u' \ge u`, so the dual
    objective does not decrease for non-negative weights; the result is always
    feasible and every row and every column of the constraint matrix has an
    equality :math:`u'_i + v'_j = M_{ij}`.

    Examples
    --------
    >>> import numpy as np
    >>> M = np.array([[0.0, 2.0], [3.0, 1.0]])
    >>> tighten(M, np.zeros(2), np.zeros(2))
    (array([0., 0.]), array([0., 1.]))
    """
    geom = as_geometry(M)
    m, n = geom.shape
    u = check_vector(u, "u", m, "the rows of M")
    v = check_vector(v, "v", n, "the columns of M")
    v_new = geom.c_transform_cols(u)
    u_new = geom.c_transform_rows(v_new)
    return u_new, v_new
