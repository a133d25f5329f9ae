"""otgan — exact, certified optimal transport on mini-batches, and WGAN-TS.

>>> import numpy as np, otgan
>>> res = otgan.solve_samples(np.random.rand(8, 3), np.random.rand(8, 3))
>>> res.certificate.is_optimal
True
"""
# Sub-packages users name are attributes of ``otgan`` after ``import otgan``
# (``otgan.lp.tighten(...)``, ``otgan.kernels.cost_matrix(...)``); both are
# loaded by the API anyway and import neither torch nor POT.
from . import kernels, lp
from .api import solve_ot, solve_samples, wasserstein
from .batch import solve_ot_batch, solve_samples_batch
from .costs import Metric
from .errors import OTGANError, OTSolverError
from .result import OTResult
from .sliced import SlicedResult, sliced_wasserstein
from .lp import Certificate, check_optimality

__version__ = "0.2.0"

__all__ = ["solve_ot", "solve_samples", "wasserstein", "solve_ot_batch",
           "solve_samples_batch", "sliced_wasserstein", "SlicedResult", "OTResult",
           "Certificate",
           "OTSolverError", "OTGANError", "Metric", "check_optimality", "__version__"]
