r"""Files that are never half-written and states that carry their own digest.

The checkpoints (:mod:`otgan.gan.training.checkpoint`), the RFGAN autoencoder
cache (:mod:`otgan.gan.methods.autoencoder`) and the digits classifier cache
(:mod:`otgan.gan.evaluation.digits_classifier`) are all written and checked
the same way, so the two rules live here, below the rooms that use them:

* **no half-written files** — :func:`write_bytes_atomic` writes a temporary
  file beside the target (:func:`temp_path`), fsyncs it and ``os.replace``-s
  it over the target (:func:`replace_atomic`): a reader sees the old file or
  the new one;
* **a state carries its digest** — :func:`state_digest` hashes the *contents*
  of a nested state (a canonical walk of dicts, lists and scalars and each
  tensor's dtype, shape and raw bytes), so the digest can be stored inside
  the file it protects (under :data:`DIGEST_KEY`) and the file stays a plain
  ``torch.load``-able dict.

Importing this module does not import torch (the digest imports it when called).

Examples
--------
>>> import os, tempfile, torch
>>> path = os.path.join(tempfile.mkdtemp(), "a.txt")
>>> write_text_atomic(path, "hello"); open(path).read()
'hello'
>>> a = {"w": torch.zeros(2), "step": 3}
>>> state_digest(a) == state_digest({"step": 3, "w": torch.zeros(2)})
True
>>> state_digest(a) == state_digest({"w": torch.zeros(2), "step": 3.0})
False
"""
from __future__ import annotations

import hashlib
import os

__all__ = ["write_bytes_atomic", "write_text_atomic", "replace_atomic", "temp_path",
           "state_digest", "DIGEST_KEY"]


def temp_path(path: str, suffix: str = "") -> str:
    """A temporary name beside ``path`` for an atomic write (``suffix`` keeps an
    extension that a writer such as ``savefig`` reads the format from)."""
    head, tail = os.path.split(path)
    return os.path.join(head, f".{tail}.tmp.{os.getpid()}{suffix}")


def replace_atomic(tmp: str, path: str) -> None:
    """fsync ``tmp`` and move it over ``path`` (``os.replace`` is atomic)."""
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def write_bytes_atomic(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: readers see the old or the new file."""
    tmp = temp_path(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
        replace_atomic(tmp, path)
    except BaseException:
        _remove_quietly(tmp)
        raise


def write_text_atomic(path: str, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    write_bytes_atomic(path, text.encode("utf-8"))


def _remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


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
    import torch

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
