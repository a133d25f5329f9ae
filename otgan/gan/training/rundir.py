"""Run-directory plumbing: path validation before anything is created, an
exclusive lock for a run's lifetime, and atomic file writes.

Used by :mod:`otgan.gan.training.run`; kept apart so that the rules are in one place:

* **validate first, create last** — :func:`check_out_dir` only looks at the
  file system; a command that fails validation leaves nothing behind;
* **one run per directory** — :class:`RunLock` holds ``fcntl.flock`` on
  ``<dir>/.otgan.lock``; the kernel drops the lock when the process exits,
  however it exits, so there are no stale locks to clean up;
* **no half-written files** — :func:`write_text_atomic`
  (:mod:`otgan.gan.files`) writes a temporary file beside the target, fsyncs
  it and ``os.replace``-s it over the target.

Examples
--------
>>> import os, tempfile
>>> out = os.path.join(tempfile.mkdtemp(), "run")
>>> check_out_dir(out, "--out")  # validates, creates nothing
>>> os.path.exists(out)
False
>>> make_out_dir(out); write_text_atomic(os.path.join(out, "a.txt"), "hello")
>>> with RunLock(out):
...     open(os.path.join(out, "a.txt")).read()
'hello'
"""
from __future__ import annotations

import os

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None
    import msvcrt

from ...errors import RunError
# the atomic writes live one room down (otgan.gan.files), where the methods'
# and the evaluation's caches use them too; re-exported here, their home before
from ..files import replace_atomic, temp_path, write_bytes_atomic, write_text_atomic

__all__ = ["LOCK_NAME", "check_out_dir", "make_out_dir", "RunLock",
           "write_text_atomic", "write_bytes_atomic", "replace_atomic", "temp_path"]

#: Lock file inside a run (or compare) directory. It is left in place after the
#: run: deleting it would let a process that opened the old file and one that
#: creates a new one both "hold" the lock.
LOCK_NAME = ".otgan.lock"


def _writable(path: str) -> bool:
    # A separate function so that tests can simulate a read-only directory
    # (root ignores permission bits).
    return os.access(path, os.W_OK | os.X_OK)


def check_out_dir(path: str, name: str = "out") -> None:
    """Check that ``path`` is, or can be created as, a writable directory.

    Nothing is created. ``name`` is how the caller's user knows the argument
    (``"--out"`` on the command line), so that the message names it.

    Raises
    ------
    RunError
        ``path`` is empty, exists but is not a directory, lies below a
        non-directory, or its nearest existing ancestor is not writable.
    """
    if not isinstance(path, (str, os.PathLike)) or not os.fspath(path):
        raise RunError(f"{name} must be a directory path, got {path!r}")
    path = os.fspath(path)
    if os.path.exists(path):
        if not os.path.isdir(path):
            raise RunError(f"{name} {path!r} exists and is not a directory")
        if not _writable(path):
            raise RunError(f"{name} {path!r} is not writable")
        return
    # Walk up to the nearest existing ancestor: that is where makedirs would
    # start creating, so it must be a writable directory.
    parent = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(parent):
        up = os.path.dirname(parent)
        if up == parent:
            break
        parent = up
    if not os.path.isdir(parent):
        raise RunError(f"{name} {path!r} cannot be created: {parent!r} is not a directory")
    if not _writable(parent):
        raise RunError(f"{name} {path!r} cannot be created: {parent!r} is not writable")


def make_out_dir(path: str, name: str = "out") -> None:
    """``os.makedirs(path, exist_ok=True)`` with a one-line :class:`RunError`."""
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise RunError(f"{name} {path!r} cannot be created: {exc.strerror or exc}") from None


class RunLock:
    """Exclusive, non-blocking lock on a run directory, held while in a ``with``.

    The lock is ``flock(LOCK_EX | LOCK_NB)`` on ``<directory>/.otgan.lock``
    (``msvcrt.locking`` on Windows). A second holder — another process, or
    another open of the file in this process — is refused at once with a
    :class:`RunError` that names the directory and the holder's pid. The pid
    is written into the lock file only to make that message useful.

    Parameters
    ----------
    directory : str
        An existing directory.
    """

    def __init__(self, directory: str):
        self.directory = directory
        self.path = os.path.join(directory, LOCK_NAME)
        self._fh = None

    def __enter__(self) -> "RunLock":
        try:
            fh = open(self.path, "a+")
        except OSError as exc:
            raise RunError(f"run directory {self.directory!r}: cannot open lock file "
                           f"{self.path!r}: {exc.strerror or exc}") from None
        try:
            _lock(fh)
        except OSError:
            fh.seek(0)
            holder = fh.read().strip()
            fh.close()
            who = f" (pid {holder})" if holder.isdigit() else ""
            raise RunError(f"run directory {self.directory!r} is in use by another otgan "
                           f"run{who}; wait for it to finish or choose another --out "
                           f"(lock file {self.path!r})") from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        self._fh = fh
        return self

    def __exit__(self, *exc_info) -> None:
        fh, self._fh = self._fh, None
        if fh is not None:
            fh.seek(0)
            fh.truncate()  # no pid of a finished process in later messages
            _unlock(fh)
            fh.close()


def _lock(fh) -> None:
    if fcntl is not None:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    else:  # pragma: no cover - Windows: lock the first byte
        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)


def _unlock(fh) -> None:
    if fcntl is not None:
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    else:  # pragma: no cover
        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
