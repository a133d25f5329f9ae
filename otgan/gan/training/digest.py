"""SHA-256 digests of nested states (checkpoints, cached networks).

Defined in :mod:`otgan.gan.files` (with the atomic writes), one room below
training, since the methods' and the evaluation's caches use them too; the
checkpoint reads them from here.

:func:`state_digest` hashes the *contents* of a state — a canonical walk of
nested dicts, lists and scalars and each tensor's dtype, shape and raw bytes —
so the digest can be stored inside the file it protects (under
:data:`DIGEST_KEY`) and the file stays a plain ``torch.load``-able dict. The
checkpoints (:mod:`otgan.gan.training.trainer`), the RFGAN autoencoder cache
(:mod:`otgan.gan.methods.autoencoder`) and the digits classifier cache
(:mod:`otgan.gan.evaluation.digits_classifier`) use it.

Examples
--------
>>> import torch
>>> a = {"w": torch.zeros(2), "step": 3}
>>> state_digest(a) == state_digest({"step": 3, "w": torch.zeros(2)})
True
>>> state_digest(a) == state_digest({"w": torch.zeros(2), "step": 3.0})
False
"""
from __future__ import annotations

from ..files import DIGEST_KEY, state_digest

__all__ = ["state_digest", "DIGEST_KEY"]
