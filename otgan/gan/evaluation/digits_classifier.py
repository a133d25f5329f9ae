r"""A small CNN classifier of the 8x8 digits, trained once and cached: the
"Inception network" of the digits metrics (:func:`otgan.gan.evaluation.metrics.digit_metrics`).

The network sees the digits exactly as :func:`otgan.gan.load_dataset` presents
them (shape ``(1, 8, 8)``, values in ``[-1, 1]``) and is trained on the
training split only, so the held-out split stays unseen by both the GANs and
the classifier::

    conv 3x3 1->32, ReLU, conv 3x3 32->32, ReLU, max-pool 2   (32 x 4 x 4)
    conv 3x3 32->64, ReLU, max-pool 2                         (64 x 2 x 2)
    flatten, linear 256->64, ReLU       <- the 64 penultimate features
    linear 64->10                       <- class logits

Training (:class:`ClassifierSettings`): Adam, one-cycle learning-rate schedule
(peak 2e-3), 20 epochs of mini-batches of 64, cross-entropy, no augmentation;
a few seconds on one CPU thread. It is deterministic: the initialisation comes
from ``torch.manual_seed(seed)`` inside :func:`torch.random.fork_rng` (the
global random state is left as it was), the shuffling from its own
``torch.Generator``, and training runs on the CPU with one thread and
``torch.use_deterministic_algorithms(True)`` (both restored afterwards), so two
trainings give bit-identical weights. Test accuracy on the 359 held-out digits:
0.986 (354 of 359) with the default settings (:attr:`DigitsClassifier.accuracy`; ≥ 0.97 is
required and tested).

Cache: :func:`load_classifier` keeps one classifier per process and a file
``digits_cnn_v<version>_<settings hash>.pt`` in :func:`cache_dir`
(``$OTGAN_CACHE_DIR``, else ``$XDG_CACHE_HOME/otgan``, else
``~/.cache/otgan``). The file is written atomically and holds the settings,
a SHA-256 digest of the training data, the weights, the weights' SHA-256
digest and the test accuracy. A file that cannot be read, or whose version,
settings, data digest, weight digest or recomputed test accuracy do not match,
is not trusted: it is retrained and replaced (with a warning). An unwritable
cache directory only costs the retraining in the next process (a warning).

Examples
--------
>>> import numpy as np
>>> from otgan.gan import load_dataset
>>> clf = load_classifier()
>>> clf.accuracy >= 0.97
True
>>> ds = load_dataset("digits")
>>> p = clf.predict_proba(ds.test[:5])
>>> p.shape, bool(np.allclose(p.sum(1), 1.0))
((5, 10), True)
>>> bool((p.argmax(1) == ds.labels_test[:5]).all())
True
>>> clf.features(ds.test[:5]).shape
(5, 64)
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..files import state_digest

if TYPE_CHECKING:  # pragma: no cover
    from numpy.typing import ArrayLike

__all__ = ["ClassifierSettings", "DigitsCNN", "DigitsClassifier", "cache_dir",
           "train_classifier", "load_classifier", "check_digit_samples",
           "CLASSIFIER_VERSION", "FEATURE_DIM", "N_CLASSES"]

#: Bumped whenever the network, the training procedure or the file format
#: changes: an older cache file is then retrained, not trusted.
CLASSIFIER_VERSION = 2  # 2: the digest of otgan.gan.files.state_digest
#: Width of the penultimate layer (the Fréchet-distance features).
FEATURE_DIM = 64
N_CLASSES = 10
DIGIT_SHAPE = (1, 8, 8)
_FORMAT = "otgan-digits-cnn"
_CACHE_ENV = "OTGAN_CACHE_DIR"


@dataclasses.dataclass(frozen=True)
class ClassifierSettings:
    """Training settings of the classifier (part of the cache key).

    Examples
    --------
    >>> ClassifierSettings().epochs, ClassifierSettings(epochs=3).epochs
    (20, 3)
    """

    seed: int = 0
    epochs: int = 20
    batch: int = 64
    lr: float = 2e-3

    def __post_init__(self):
        for name in ("seed", "epochs", "batch"):
            v = getattr(self, name)
            low = 0 if name == "seed" else 1
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {v!r}")
        if isinstance(self.lr, bool) or not isinstance(self.lr, (int, float)) \
                or not np.isfinite(self.lr) or self.lr <= 0:
            raise ValueError(f"lr must be a finite number > 0, got {self.lr!r}")

    def key(self) -> str:
        """Short hash of the version and the settings (the cache file's name)."""
        text = json.dumps({"version": CLASSIFIER_VERSION, **dataclasses.asdict(self)},
                          sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


class DigitsCNN(nn.Module):
    """The network (see the module docstring): :meth:`features` gives the
    penultimate layer ``(N, 64)``, :meth:`forward` the logits ``(N, 10)``.

    Examples
    --------
    >>> net = DigitsCNN()
    >>> x = torch.zeros(2, 1, 8, 8)
    >>> tuple(net(x).shape), tuple(net.features(x).shape)
    ((2, 10), (2, 64))
    """

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(),
            nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 2 * 2, FEATURE_DIM), nn.ReLU())
        self.head = nn.Linear(FEATURE_DIM, N_CLASSES)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


def check_digit_samples(samples: ArrayLike, name: str = "samples") -> np.ndarray:
    """``samples`` as a float32 array of shape ``(N, 1, 8, 8)``.

    Accepts ``(N, 1, 8, 8)``, ``(N, 8, 8)`` or ``(N, 64)`` with ``N >= 1``
    finite values.

    Raises
    ------
    ValueError
        Naming ``name`` and the offending shape or values.

    Examples
    --------
    >>> check_digit_samples(np.zeros((3, 64))).shape
    (3, 1, 8, 8)
    >>> check_digit_samples(np.zeros((3, 2)))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: samples must be 8x8 digits of shape (N, 1, 8, 8), ... got shape (3, 2)
    """
    try:
        arr = np.asarray(samples, dtype=np.float32)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a numeric array, got "
                         f"{type(samples).__name__}") from None
    if arr.ndim < 2 or arr.shape[0] < 1 or arr.shape[1:] not in ((1, 8, 8), (8, 8), (64,)):
        raise ValueError(f"{name} must be 8x8 digits of shape (N, 1, 8, 8), (N, 8, 8) or "
                         f"(N, 64) with N >= 1, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf")
    return np.ascontiguousarray(arr.reshape((len(arr),) + DIGIT_SHAPE))


class DigitsClassifier:
    """A trained :class:`DigitsCNN` (CPU, eval mode) with its test accuracy.

    Attributes
    ----------
    net : DigitsCNN
    settings : ClassifierSettings
    accuracy : float
        Accuracy on the held-out digits split (359 images).
    train_seconds : float or None
        Seconds the training took (``None`` when loaded from the cache).
    source : str
        ``"trained"`` or ``"cache"``.

    Examples
    --------
    >>> clf = load_classifier()
    >>> round(float(clf.predict_proba(np.full((1, 64), -1.0)).sum()), 6)
    1.0
    """

    def __init__(self, net: DigitsCNN, settings: ClassifierSettings, accuracy: float,
                 train_seconds: float | None = None, source: str = "trained"):
        self.net = net.eval()
        self.settings = settings
        self.accuracy = float(accuracy)
        self.train_seconds = train_seconds
        self.source = source

    def _run(self, samples: ArrayLike, what: str) -> np.ndarray:
        x = torch.from_numpy(check_digit_samples(samples))
        out = []
        with torch.no_grad():
            for i in range(0, len(x), 1024):
                f = self.net.features(x[i:i + 1024])
                out.append(f if what == "features"
                           else torch.softmax(self.net.head(f).double(), dim=1))
        return torch.cat(out).double().numpy()

    def predict_proba(self, samples: ArrayLike) -> np.ndarray:
        """Class probabilities ``p(y | x)``, shape ``(N, 10)``, float64."""
        return self._run(samples, "proba")

    def features(self, samples: ArrayLike) -> np.ndarray:
        """Penultimate-layer features, shape ``(N, 64)``, float64."""
        return self._run(samples, "features")


def cache_dir() -> Path:
    """The cache directory: ``$OTGAN_CACHE_DIR``, else ``$XDG_CACHE_HOME/otgan``,
    else ``~/.cache/otgan`` (not created here).

    Examples
    --------
    >>> cache_dir().is_absolute()
    True
    """
    env = os.environ.get(_CACHE_ENV)
    if env:
        return Path(env).expanduser().absolute()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "otgan"
    return Path.home() / ".cache" / "otgan"


def _digits():
    from ..data import load_dataset

    return load_dataset("digits")


def _data_digest(ds) -> str:
    h = hashlib.sha256()
    for arr in (ds.train, ds.labels_train, ds.test, ds.labels_test):
        a = np.ascontiguousarray(arr)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _accuracy(net: DigitsCNN, ds) -> float:
    with torch.no_grad():
        pred = net(torch.as_tensor(ds.test, dtype=torch.float32)).argmax(1).numpy()
    return float((pred == ds.labels_test).mean())


def train_classifier(settings: ClassifierSettings | None = None) -> DigitsClassifier:
    """Train the classifier afresh (no cache), deterministically.

    Same settings, same weights, bit for bit (on the same machine and torch
    version): see the module docstring for how.

    Examples
    --------
    >>> clf = train_classifier(ClassifierSettings(epochs=1))
    >>> clf.source, 0.0 <= clf.accuracy <= 1.0
    ('trained', True)
    """
    import time

    settings = ClassifierSettings() if settings is None else settings
    if not isinstance(settings, ClassifierSettings):
        raise TypeError(f"settings must be a ClassifierSettings, got "
                        f"{type(settings).__name__}")
    ds = _digits()
    x = torch.as_tensor(ds.train, dtype=torch.float32)
    y = torch.as_tensor(ds.labels_train, dtype=torch.long)
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    t0 = time.perf_counter()
    try:
        torch.set_num_threads(1)
        torch.use_deterministic_algorithms(True)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(settings.seed)
            net = DigitsCNN()
        g = torch.Generator().manual_seed(settings.seed + 1)
        steps_per_epoch = -(-len(x) // settings.batch)
        opt = torch.optim.Adam(net.parameters(), lr=settings.lr)
        sched = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=settings.lr, total_steps=settings.epochs * steps_per_epoch)
        net.train()
        for _ in range(settings.epochs):
            perm = torch.randperm(len(x), generator=g)
            for i in range(0, len(x), settings.batch):
                idx = perm[i:i + settings.batch]
                loss = F.cross_entropy(net(x[idx]), y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
        net.eval()
        acc = _accuracy(net, ds)
    finally:
        torch.use_deterministic_algorithms(deterministic)
        torch.set_num_threads(threads)
    return DigitsClassifier(net, settings, acc, time.perf_counter() - t0, "trained")


def _cache_file(directory: Path, settings: ClassifierSettings) -> Path:
    return directory / f"digits_cnn_v{CLASSIFIER_VERSION}_{settings.key()}.pt"


def _read_cache(path: Path, settings: ClassifierSettings) -> DigitsClassifier:
    """The cached classifier, or ``ValueError`` saying why it is not trusted."""
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a damaged file
        raise ValueError(f"cannot be read ({type(exc).__name__}: {exc})") from None
    if not isinstance(blob, dict) or blob.get("format") != _FORMAT:
        raise ValueError("is not a digits-classifier file")
    if blob.get("version") != CLASSIFIER_VERSION:
        raise ValueError(f"has version {blob.get('version')!r}, expected {CLASSIFIER_VERSION}")
    if blob.get("settings") != dataclasses.asdict(settings):
        raise ValueError(f"has settings {blob.get('settings')!r}, expected "
                         f"{dataclasses.asdict(settings)}")
    ds = _digits()
    if blob.get("data_sha256") != _data_digest(ds):
        raise ValueError("was trained on different digits data")
    state = blob.get("state")
    if not isinstance(state, dict) or blob.get("sha256") != state_digest(state):
        raise ValueError("weights do not match their SHA-256 digest")
    net = DigitsCNN()
    try:
        net.load_state_dict(state)
    except (RuntimeError, TypeError, KeyError) as exc:
        raise ValueError(f"weights do not fit the network: {exc}") from None
    net.eval()
    acc = _accuracy(net, ds)
    if acc != blob.get("accuracy"):
        raise ValueError(f"test accuracy {acc} differs from the stored "
                         f"{blob.get('accuracy')!r}")
    return DigitsClassifier(net, settings, acc, None, "cache")


def _write_cache(path: Path, clf: DigitsClassifier) -> None:
    import io

    from ..files import write_bytes_atomic

    state = {k: v.detach().cpu().clone() for k, v in clf.net.state_dict().items()}
    blob = {"format": _FORMAT, "version": CLASSIFIER_VERSION,
            "settings": dataclasses.asdict(clf.settings),
            "data_sha256": _data_digest(_digits()), "state": state,
            "sha256": state_digest(state), "accuracy": clf.accuracy,
            "train_seconds": clf.train_seconds, "torch": str(torch.__version__)}
    buf = io.BytesIO()
    torch.save(blob, buf)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(str(path), buf.getvalue())


_LOADED: dict = {}


def load_classifier(directory: str | os.PathLike | None = None,
                    settings: ClassifierSettings | None = None) -> DigitsClassifier:
    """The classifier: from this process's memory, else from the cache file in
    ``directory`` (default :func:`cache_dir`), else trained
    (:func:`train_classifier`) and written there atomically.

    A cache file that is not trusted (see the module docstring) is retrained
    and replaced, with a ``UserWarning`` saying why; a cache directory that
    cannot be written gives a warning, and the classifier is still returned.

    Examples
    --------
    >>> load_classifier() is load_classifier()
    True
    """
    settings = ClassifierSettings() if settings is None else settings
    if not isinstance(settings, ClassifierSettings):
        raise TypeError(f"settings must be a ClassifierSettings, got "
                        f"{type(settings).__name__}")
    directory = cache_dir() if directory is None else Path(directory).expanduser().absolute()
    path = _cache_file(directory, settings)
    if str(path) in _LOADED:
        return _LOADED[str(path)]
    clf = None
    if path.is_file():
        try:
            clf = _read_cache(path, settings)
        except ValueError as exc:
            warnings.warn(f"digits classifier cache {path} {exc}; retraining", stacklevel=2)
    if clf is None:
        clf = train_classifier(settings)
        try:
            _write_cache(path, clf)
        except OSError as exc:
            warnings.warn(f"digits classifier cache {path} cannot be written "
                          f"({exc.strerror or exc}); the next process will retrain",
                          stacklevel=2)
    _LOADED[str(path)] = clf
    return clf
