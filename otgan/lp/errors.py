"""Solver errors."""


class OTSolverError(RuntimeError):
    """An exact solver stopped without a certified optimum.

    Raised instead of returning a possibly wrong answer (iteration cap reached,
    infeasible or unbounded status, or a result that fails the certificate).
    """


class InsufficientMemoryError(MemoryError):
    """A solve was refused before allocating because it would not fit in the
    memory this process can get (instead of aborting the interpreter)."""
