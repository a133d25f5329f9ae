"""SHA-256 digests of nested states (checkpoints, cached networks).

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

import hashlib

import torch

__all__ = ["state_digest", "DIGEST_KEY"]

#: The key under which a state stores its own digest (left out of the digest).
DIGEST_KEY = "sha256"


def state_digest(state: dict) -> str:
    """SHA-256 (hex) of a checkpoint state, every entry except ``"sha256"``.

    The digest is taken over the *contents* — a canonical walk of the nested
    dicts, lists and scalars, and each tensor's dtype, shape and raw bytes — not
    over the file, so that it can live inside the file it protects (one file,
    one atomic ``os.replace``) and ``ckpt.pt`` stays a plain ``torch.load``-able
    dict. Any change of a stored value, tensor bytes included, changes it.
    """
    h = hashlib.sha256()
    _feed(h, {k: v for k, v in state.items() if k != DIGEST_KEY})
    return h.hexdigest()


def _feed(h, obj) -> None:
    # Type tags and lengths make the encoding unambiguous ([1, 2] vs [12]).
    if isinstance(obj, torch.Tensor):
        t = obj.detach().cpu().contiguous().reshape(-1)
        h.update(f"T{t.dtype}|{tuple(obj.shape)}|{t.numel()}|".encode())
        h.update(t.view(torch.uint8).numpy().tobytes())
    elif isinstance(obj, dict):
        h.update(f"D{len(obj)}|".encode())
        # keys are str (nets, config) or int (optimiser state): order by type, then value
        for k in sorted(obj, key=lambda k: (type(k).__name__, repr(k))):
            _feed(h, k)
            _feed(h, obj[k])
    elif isinstance(obj, (list, tuple)):
        # one tag for both: a round trip through the pickle may not keep the kind
        h.update(f"L{len(obj)}|".encode())
        for item in obj:
            _feed(h, item)
    elif isinstance(obj, str):
        b = obj.encode()
        h.update(f"S{len(b)}|".encode() + b)
    elif obj is None or isinstance(obj, bool):
        h.update(f"C{obj}|".encode())
    elif isinstance(obj, int):
        h.update(f"I{obj}|".encode())
    elif isinstance(obj, float):
        h.update(f"F{obj.hex()}|".encode())  # exact, unlike a rounded repr
    else:
        raise TypeError(f"cannot digest a {type(obj).__name__} in a state")
