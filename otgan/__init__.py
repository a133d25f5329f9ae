"""otgan — exact, certified optimal transport on mini-batches, and WGAN-TS.

>>> import numpy as np, otgan
>>> res = otgan.solve_samples(np.random.rand(8, 3), np.random.rand(8, 3))
>>> res.certificate.is_optimal
True
"""
from .api import solve_ot, solve_samples, wasserstein
from .batch import solve_ot_batch, solve_samples_batch
from .costs import Metric
from .errors import OTGANError, OTSolverError
from .result import OTResult
from .solvers import Certificate, check_optimality

__version__ = "0.2.0"

__all__ = ["solve_ot", "solve_samples", "wasserstein", "solve_ot_batch",
           "solve_samples_batch", "OTResult", "Certificate",
           "OTSolverError", "OTGANError", "Metric", "check_optimality", "__version__"]
