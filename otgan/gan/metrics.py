r"""Evaluation metrics: exact certified W1, mode coverage, digit classes.

* :func:`exact_w1` — exact optimal transport between generated and held-out
  real samples (2 500 each by default), with its optimality certificate, and
  the real-vs-real *noise floor* (two independent real sets of the same size),
  the value a perfect generator would get on average. It calls
  :func:`otgan.solve_samples` with ``method="auto"``, which for two equal-size
  uniform sets (always the case here) runs the certified fast assignment
  solver (``"fast"``), not the network simplex; the seconds it took are
  reported as ``w1_seconds`` in each run's ``eval.json``.
* :func:`mode_metrics` — the VEEGAN/PacGAN measures: a sample is *high
  quality* if it lies within 3 standard deviations of its nearest mode; a mode
  is *captured* if it is the nearest mode of at least one high-quality sample.
* :func:`digit_metrics` — class coverage and confidence from a logistic
  regression trained on the digits training split.

Examples
--------
>>> import numpy as np
>>> modes = np.array([[0.0, 0.0], [5.0, 5.0]])
>>> m = mode_metrics(np.array([[0.0, 0.01], [0.02, 0.0], [9.0, 9.0]]), modes, std=0.05)
>>> m["modes"], round(m["pct_hq"], 1)
(1, 66.7)
"""
from __future__ import annotations

import time
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from ..api import solve_samples

if TYPE_CHECKING:  # pragma: no cover
    from numpy.typing import ArrayLike

    from .data import Dataset

__all__ = ["exact_w1", "noise_floor", "mode_metrics", "digit_metrics", "evaluate"]


def exact_w1(real: ArrayLike, fake: ArrayLike, metric: str = "l1") -> dict:
    r"""Exact :math:`W_1` between two sample sets (uniform weights), certified.

    Returns ``{"w1": float, "certified": bool, "seconds": float}``.
    """
    t0 = time.perf_counter()
    res = solve_samples(real, fake, metric=metric)
    return {"w1": float(res.value), "certified": bool(res.certificate.is_optimal),
            "seconds": time.perf_counter() - t0}


@lru_cache(maxsize=16)
def _floor(name: str, n: int, metric: str, dataset_obj) -> float:
    real = dataset_obj.heldout(n, 0)
    other = dataset_obj.heldout(n, 1)
    return exact_w1(real, other, metric)["w1"]


def noise_floor(dataset: Dataset, n: int = 2500, metric: str = "l1") -> float:
    """Exact W1 between two independent real sets of size ``n`` (cached)."""
    return _floor(dataset.name, int(n), metric, dataset)


def mode_metrics(samples: ArrayLike, modes: ArrayLike, std: float) -> dict:
    r"""Modes captured and percentage of high-quality samples.

    Parameters
    ----------
    samples : (N, d) array
    modes : (K, d) array
    std : float
        Component standard deviation; high quality means Euclidean distance to the
        nearest mode :math:`\le 3\,\mathrm{std}`.

    Returns
    -------
    dict with ``modes`` (captured), ``n_modes`` and ``pct_hq``.
    """
    s = np.asarray(samples, dtype=np.float64).reshape(len(samples), -1)
    c = np.asarray(modes, dtype=np.float64)
    d2 = ((s[:, None, :] - c[None, :, :]) ** 2).sum(-1)
    nearest = d2.argmin(1)
    hq = np.sqrt(d2[np.arange(len(s)), nearest]) <= 3.0 * std
    return {"modes": int(len(np.unique(nearest[hq]))), "n_modes": int(len(c)),
            "pct_hq": float(100.0 * hq.mean())}


_CLASSIFIERS: dict = {}


def _classifier(dataset):
    key = id(dataset.train)
    if key not in _CLASSIFIERS:
        from sklearn.linear_model import LogisticRegression

        clf = LogisticRegression(max_iter=2000)
        clf.fit(dataset.train.reshape(len(dataset.train), -1), dataset.labels_train)
        _CLASSIFIERS[key] = clf
    return _CLASSIFIERS[key]


def digit_metrics(dataset: Dataset, samples: ArrayLike) -> dict:
    """Class coverage and confidence of generated digits.

    A logistic regression is fit on the training split (its held-out accuracy is
    reported as ``clf_accuracy``). ``classes_covered`` counts classes receiving
    at least 2 % of the samples (a fifth of the uniform share), ``confidence``
    is the mean top-class probability and ``class_tv`` the total-variation
    distance between the predicted class histogram and the uniform one.
    """
    clf = _classifier(dataset)
    x = np.asarray(samples).reshape(len(samples), -1)
    prob = clf.predict_proba(x)
    hist = np.bincount(prob.argmax(1), minlength=10) / len(x)
    acc = clf.score(dataset.test.reshape(len(dataset.test), -1), dataset.labels_test)
    return {"classes_covered": int((hist >= 0.02).sum()),
            "confidence": float(prob.max(1).mean()),
            "class_tv": float(0.5 * np.abs(hist - 0.1).sum()),
            "clf_accuracy": float(acc)}


def evaluate(dataset: Dataset, fake: np.ndarray, n: int = 2500, metric: str = "l1") -> dict:
    """All metrics for ``fake`` (at least ``n`` generated samples) against ``dataset``."""
    real = dataset.heldout(n, 0)
    n_eff = len(real)
    fake = np.asarray(fake, dtype=np.float64)[:n_eff]
    out = {"n_eval": n_eff, "metric": metric}
    w = exact_w1(real, fake, metric)
    out.update(w1=w["w1"], w1_certified=w["certified"], w1_seconds=w["seconds"])
    out["noise_floor"] = noise_floor(dataset, n_eff, metric)
    floor = out["noise_floor"]
    out["w1_over_floor"] = out["w1"] / floor if floor > 0 else float("inf")
    if dataset.modes is not None:
        out.update(mode_metrics(fake.reshape(len(fake), -1), dataset.modes, dataset.mode_std))
    if dataset.labels_train is not None:
        out.update(digit_metrics(dataset, fake))
    return out
