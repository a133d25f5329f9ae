"""The exceptions and warnings of otgan, under one root each.

Every error otgan raises on purpose is an :class:`OTGANError` (so one
``except OTGANError`` catches them all) and also an instance of the standard
exception a caller would expect (``RuntimeError``, ``MemoryError``, ...). Bad
arguments are plain ``ValueError``/``TypeError`` naming the argument. Every
warning category of otgan is an :class:`OTGANWarning` (a ``UserWarning``).

The classes are defined here and imported from here; no other module defines
or re-exports one (``tests/test_errors.py`` checks it).

Examples
--------
>>> issubclass(OTSolverError, OTGANError) and issubclass(OTSolverError, RuntimeError)
True
>>> issubclass(DistributedError, RuntimeError), issubclass(CheckpointWarning, UserWarning)
(True, True)
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


class InfeasibleError(OTSolverError, ValueError):
    """No transport plan meets the marginals on the allowed pairs.

    Raised for a sparse cost (:class:`otgan.geometry.SparseCost`) whose present
    edges cannot carry ``a`` to ``b``: a row or column of positive weight
    without an edge, or any other cut the network simplex proves infeasible.
    An :class:`OTSolverError` and a ``ValueError`` (the input has no answer).
    """


class MismatchError(OTGANError, ValueError, AssertionError):
    """Dimension or mass mismatch between ``a``, ``b`` and ``M`` in the POT
    drop-in (:mod:`otgan.compat`).

    Both a :class:`ValueError` (otgan's convention for bad input) and an
    :class:`AssertionError` (what POT raises), so ``except ValueError`` and
    ``except AssertionError`` both catch it, and so do tests written for POT
    (``np.testing.assert_raises(AssertionError, ...)``).
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


class DistributedError(OTGANError, RuntimeError):
    """The distributed set-up is invalid (world size, batch, backend)."""


class CLIError(OTGANError):
    """A user error on the command line: printed on one line, exit code 2."""


class OTGANWarning(UserWarning):
    """Root of every warning category otgan issues."""


class CheckpointWarning(OTGANWarning):
    """A checkpoint was loaded without an integrity check (written before version 2)."""


class AutoencoderCacheWarning(OTGANWarning):
    """The RFGAN autoencoder cache was unreadable or corrupted and the fit was repeated."""


__all__ = ["OTGANError", "OTSolverError", "InfeasibleError", "MismatchError", "InsufficientMemoryError", "ScalingError",
           "CheckpointError", "RunError", "DistributedError", "CLIError", "OTGANWarning",
           "CheckpointWarning", "AutoencoderCacheWarning"]
