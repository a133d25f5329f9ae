"""The exceptions of otgan, under one root.

Every error otgan raises on purpose is an :class:`OTGANError` (so one
``except OTGANError`` catches them all) and also an instance of the standard
exception a caller would expect (``RuntimeError``, ``MemoryError``, ...). Bad
arguments are plain ``ValueError``/``TypeError`` naming the argument.

Examples
--------
>>> issubclass(OTSolverError, OTGANError) and issubclass(OTSolverError, RuntimeError)
True
"""
from __future__ import annotations


class OTGANError(Exception):
    """Root of every exception otgan raises on purpose."""


class OTSolverError(OTGANError, RuntimeError):
    """An exact solver stopped without a certified optimum.

    Raised instead of returning a possibly wrong answer (iteration cap reached,
    infeasible or unbounded status, a solver's internal failure, or a result
    that fails the certificate).
    """


class InsufficientMemoryError(OTGANError, MemoryError):
    """A solve was refused before allocating because it would not fit in the
    memory this process can get (instead of aborting the interpreter)."""


class ScalingError(OTGANError, RuntimeError):
    """The WGAN-TS critic could not be rescaled to satisfy the batch constraint."""


class CheckpointError(OTGANError, RuntimeError):
    """A checkpoint cannot be used: unreadable, tampered with or incompatible."""


class RunError(OTGANError, RuntimeError):
    """A training run cannot start or go on (its directory, lock or configuration)."""


__all__ = ["OTGANError", "OTSolverError", "InsufficientMemoryError", "ScalingError",
           "CheckpointError", "RunError"]
