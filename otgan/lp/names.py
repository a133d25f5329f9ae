"""The method names ``method=`` accepts: canonical names, their aliases, and
the labels results carry (:mod:`otgan.lp.registry` holds the solvers behind
them; this module holds only names, so that any module of the layer can read
them without importing the solvers).

Examples
--------
>>> canonical_method("emd"), solver_of("fast-transport")
('network-simplex', 'sparse-transport')
"""
from __future__ import annotations

#: Every method name: canonical name -> (aliases, what it is). The aliases
#: are the names of earlier versions; every entry point accepts them.
METHOD_TABLE: dict[str, tuple[tuple[str, ...], str]] = {
    "auto": ((), "the fastest exact method for the problem, as measured "
                 "(choose_method)"),
    "network-simplex": (("emd",), "POT's network simplex on the normalised problem"),
    "dual-lp": (("lp",), "the literal WGAN-TS dual LP in cvxpy (slow reference)"),
    "candidate-graph": (("fast",), "the certified candidate-graph solvers: "
                                   "sparse-assignment for uniform m = n, "
                                   "sparse-transport for every other problem"),
    "sparse-assignment": ((), "certified candidate-graph assignment solver (uniform "
                              "weights, m = n or a small lcm(m, n))"),
    "sparse-transport": ((), "certified candidate-graph transportation solver (any "
                             "weights, any m, n)"),
    "one-dimensional": (("1d",), "points on a line: the sorted (north-west corner) plan, "
                                 "O((m + n) log(m + n)), certified from the Monge "
                                 "structure (any weights, any m, n)"),
    "multiscale": ((), "certified coarse-to-fine solver for points in d <= 4 (grid "
                       "hierarchy, refined coarse support, checked over all pairs)"),
}
#: alias -> canonical name
ALIASES: dict[str, str] = {alias: name for name, (aliases, _) in METHOD_TABLE.items()
                           for alias in aliases}
#: every name ``method=`` accepts: the canonical names, then the aliases
METHOD_NAMES: tuple[str, ...] = tuple(METHOD_TABLE) + tuple(ALIASES)

#: a result's ``method`` label (what each solver writes into its
#: :class:`RawSolution`) -> the canonical name of the solver that wrote it
RESULT_LABELS: dict[str, str] = {
    "emd": "network-simplex",
    "lp": "dual-lp",
    "fast": "sparse-assignment",
    "fast-fallback": "sparse-assignment",        # the network simplex took over
    "fast-replicated": "sparse-assignment",      # uniform m != n as an lcm(m, n) assignment
    "fast-transport": "sparse-transport",
    "fast-transport-fallback": "sparse-transport",  # POT's network simplex took over
    "one-dimensional": "one-dimensional",
    "multiscale": "multiscale",
    "multiscale-fallback": "multiscale",            # POT's network simplex took over
}


def canonical_method(method: str) -> str:
    """The canonical name of ``method`` (a canonical name or an alias, any case).

    Raises ``TypeError``/``ValueError`` naming the value and the accepted names.

    Examples
    --------
    >>> canonical_method("FAST"), canonical_method("dual-lp")
    ('candidate-graph', 'dual-lp')
    """
    if not isinstance(method, str):
        raise TypeError(f"method must be a string, got {method!r}")
    name = method.lower()
    name = ALIASES.get(name, name)
    if name not in METHOD_TABLE:
        raise ValueError(f"unknown method {method!r}; expected one of {METHOD_NAMES}")
    return name


def check_method(method: str) -> str:
    """Validate a method name (``"auto"``, a solver, or an alias of either);
    returns its canonical name (:func:`canonical_method`)."""
    return canonical_method(method)


def solver_of(label: str) -> str:
    """The canonical name of the solver behind a result's ``method`` label.

    Examples
    --------
    >>> solver_of("fast-transport-fallback"), solver_of("emd")
    ('sparse-transport', 'network-simplex')
    """
    return RESULT_LABELS.get(label, label)



__all__ = ["METHOD_TABLE", "ALIASES", "METHOD_NAMES", "RESULT_LABELS", "canonical_method",
           "check_method", "solver_of"]
