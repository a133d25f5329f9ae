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
* :func:`digit_metrics` — the digits analogues of Inception Score and FID,
  from a small CNN trained once on the digits training split
  (:mod:`otgan.gan.evaluation.digits_classifier`): :func:`classifier_score`,
  :func:`frechet_distance` of its penultimate features with its real-vs-real
  floor :func:`frechet_floor`, and the class coverage
  (:func:`class_histogram_metrics`).

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

from ...api import solve_samples

if TYPE_CHECKING:  # pragma: no cover
    from numpy.typing import ArrayLike

    from ..data import Dataset

__all__ = ["exact_w1", "noise_floor", "mode_metrics", "classifier_score",
           "class_histogram_metrics", "frechet_distance", "frechet_floor", "digit_metrics",
           "evaluate"]


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


def _float_array(x: ArrayLike, name: str) -> np.ndarray:
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a numeric array, got {type(x).__name__}") from None


def _check_probs(probs: ArrayLike, name: str = "probs") -> np.ndarray:
    p = _float_array(probs, name)
    if p.ndim != 2 or p.shape[0] < 1 or p.shape[1] < 2:
        raise ValueError(f"{name} must be class probabilities of shape (N, K) with N >= 1, "
                         f"K >= 2, got shape {p.shape}")
    if not np.all(np.isfinite(p)) or p.min() < 0:
        raise ValueError(f"{name} must be finite and non-negative")
    worst = float(np.abs(p.sum(1) - 1.0).max())
    if worst > 1e-6:
        raise ValueError(f"{name} rows must sum to 1 (within 1e-6); the worst row is off "
                         f"by {worst:.3g}")
    return p


def classifier_score(probs: ArrayLike) -> float:
    r"""The Inception-Score analogue of class probabilities ``p(y | x_i)``:

    .. math::
        \mathrm{CS} = \exp\Big(\frac1N \sum_i \mathrm{KL}\big(p(y \mid x_i)
        \,\big\|\, \hat p(y)\big)\Big), \qquad \hat p(y) = \frac1N \sum_i p(y \mid x_i),

    with :math:`0 \log 0 = 0`. Equivalently :math:`\exp(H(\hat p) - \overline{H(p(y|x))})`:
    it rewards confident predictions (low conditional entropy) spread over
    the classes (high marginal entropy). :math:`1 \le \mathrm{CS} \le K`;
    :math:`K` (10 for the digits) exactly when every prediction is one-hot and
    the classes are equally frequent. One-hot predictions with class
    frequencies :math:`h` score :math:`\exp H(h)`, the ideal of a labelled set.

    Parameters
    ----------
    probs : (N, K) array
        Rows are probability vectors (non-negative, summing to 1 within 1e-6).

    Raises
    ------
    ValueError
        Naming ``probs``, for a wrong shape or rows that are not probabilities.

    Examples
    --------
    >>> import numpy as np
    >>> round(classifier_score(np.eye(10)), 6)           # one-hot, uniform: the maximum
    10.0
    >>> round(classifier_score(np.tile(np.eye(10)[3], (7, 1))), 6)  # all one class
    1.0
    >>> round(classifier_score(np.full((5, 10), 0.1)), 6)  # no confidence
    1.0
    """
    p = _check_probs(probs)
    from scipy.special import rel_entr

    marginal = p.mean(0)
    return float(np.exp(rel_entr(p, marginal[None, :]).sum(1).mean()))


def class_histogram_metrics(probs: ArrayLike, min_share: float = 0.02) -> dict:
    r"""Class coverage of predictions ``p(y | x_i)`` (their arg-max labels).

    With :math:`h_k` the share of samples predicted as class :math:`k` (of
    :math:`K`):

    * ``classes_covered``: the number of classes with :math:`h_k \ge`
      ``min_share`` (default 2 %, a fifth of the uniform share for 10 classes);
    * ``class_kl``: :math:`\mathrm{KL}(h \,\|\, \mathrm{uniform}) = \sum_k h_k
      \log(K h_k) = \log K - H(h)`, 0 for a uniform histogram, :math:`\log K`
      (2.303 for 10 classes) when every sample is predicted as one class;
    * ``confidence``: the mean top-class probability :math:`\frac1N \sum_i
      \max_y p(y \mid x_i)`.

    Raises
    ------
    ValueError
        Naming ``probs`` or ``min_share``.

    Examples
    --------
    >>> import numpy as np
    >>> m = class_histogram_metrics(np.eye(10)[[0, 0, 1, 1]])
    >>> m["classes_covered"], round(m["class_kl"], 4), m["confidence"]
    (2, 1.6094, 1.0)
    """
    p = _check_probs(probs)
    if isinstance(min_share, bool) or not isinstance(min_share, (int, float)) \
            or not 0 < min_share <= 1:
        raise ValueError(f"min_share must be a number in (0, 1], got {min_share!r}")
    k = p.shape[1]
    hist = np.bincount(p.argmax(1), minlength=k) / len(p)
    from scipy.special import xlogy

    return {"classes_covered": int((hist >= min_share).sum()),
            "class_kl": float(max(0.0, xlogy(hist, k * hist).sum())),
            "confidence": float(p.max(1).mean())}


def _check_features(feat: ArrayLike, name: str) -> np.ndarray:
    f = _float_array(feat, name)
    if f.ndim != 2 or f.shape[0] < 2 or f.shape[1] < 1:
        raise ValueError(f"{name} must be features of shape (N, d) with N >= 2, got shape "
                         f"{f.shape}")
    if not np.all(np.isfinite(f)):
        raise ValueError(f"{name} contains NaN or inf")
    return f


def _psd_sqrt(s: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(s)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_distance(feat_a: ArrayLike, feat_b: ArrayLike) -> float:
    r"""Fréchet distance between Gaussian fits of two feature sets (the FID formula).

    .. math::
        d^2 = \|\mu_a - \mu_b\|^2 + \operatorname{tr}\Big(\Sigma_a + \Sigma_b
              - 2\,\big(\Sigma_a^{1/2} \Sigma_b \Sigma_a^{1/2}\big)^{1/2}\Big),

    the squared 2-Wasserstein distance between :math:`N(\mu_a, \Sigma_a)` and
    :math:`N(\mu_b, \Sigma_b)`; means and covariances (``ddof=1``, as in FID)
    of the rows. Numerics: :math:`\Sigma_a^{1/2} \Sigma_b \Sigma_a^{1/2}` is
    symmetric positive semi-definite and similar to :math:`\Sigma_a \Sigma_b`,
    so its square-root trace equals the :math:`\operatorname{tr}(\Sigma_a
    \Sigma_b)^{1/2}` of the usual ``scipy.linalg.sqrtm`` route; it is computed
    with two symmetric eigen-decompositions in float64 (eigenvalues below 0,
    round-off, clipped to 0), so everything stays real — no complex parts to
    drop — and singular covariances (fewer samples than dimensions) are fine.
    The result is clipped at 0 (it is :math:`\ge 0` in exact arithmetic).

    The estimate from finite samples is biased upwards (by roughly
    :math:`\operatorname{tr}\Sigma / N` per set for the covariance terms), so
    compare it with the same quantity between two real sets of the same sizes
    (:func:`frechet_floor`).

    Parameters
    ----------
    feat_a : (N, d) array
    feat_b : (M, d) array
        ``N, M >= 2``, finite, the same ``d``.

    Raises
    ------
    ValueError
        Naming the argument, for a wrong shape, NaN/inf or different widths.

    Examples
    --------
    In one dimension :math:`d^2 = (\mu_a - \mu_b)^2 + (\sigma_a - \sigma_b)^2`:

    >>> import numpy as np
    >>> a = np.array([[-1.0], [1.0]])            # mean 0, sd sqrt(2)
    >>> b = 3.0 + 2.0 * a                        # mean 3, sd 2 sqrt(2)
    >>> round(frechet_distance(a, b), 6)         # 9 + 2
    11.0
    >>> round(frechet_distance(a, a), 12)
    0.0
    """
    a = _check_features(feat_a, "feat_a")
    b = _check_features(feat_b, "feat_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"feat_a and feat_b must have the same width, got shapes {a.shape} "
                         f"and {b.shape}")
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a = np.atleast_2d(np.cov(a, rowvar=False))
    s_b = np.atleast_2d(np.cov(b, rowvar=False))
    r = _psd_sqrt(s_a)
    m = r @ s_b @ r
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(0.5 * (m + m.T)), 0.0, None)).sum()
    d2 = float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a) + np.trace(s_b) - 2.0 * cross)
    return max(0.0, d2)


def _check_digits_dataset(dataset) -> None:
    if getattr(dataset, "name", None) != "digits" or getattr(dataset, "shape", None) != (1, 8, 8):
        raise ValueError(f"dataset must be the 'digits' data set, got "
                         f"{getattr(dataset, 'name', dataset)!r}")


@lru_cache(maxsize=16)
def _frechet_floor(dataset_obj, n: int, clf) -> float:
    real = clf.features(dataset_obj.heldout(n, 0))
    other = clf.features(dataset_obj.heldout(n, 1))
    return frechet_distance(real, other)


def frechet_floor(dataset: Dataset, n: int = 2500) -> float:
    r"""The Fréchet distance's floor: :func:`frechet_distance` of the
    classifier features of two real digit sets of the same size — the
    held-out split and a random subset of the training split
    (:meth:`Dataset.heldout(n, 0) <otgan.gan.data.Dataset.heldout>` and
    ``heldout(n, 1)``, ``n`` capped at 359), as :func:`noise_floor` does for
    W1. What a perfect generator would score, up to sampling noise (cached).

    Examples
    --------
    >>> from otgan.gan import load_dataset
    >>> 0 < frechet_floor(load_dataset("digits"), 359) < 40
    True
    """
    _check_digits_dataset(dataset)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be an integer >= 2, got {n!r}")
    from .digits_classifier import load_classifier

    return _frechet_floor(dataset, int(n), load_classifier())


def digit_metrics(dataset: Dataset, samples: ArrayLike) -> dict:
    r"""Classifier-based metrics of generated digits (the IS/FID analogues).

    A small CNN trained once on the digits training split
    (:mod:`otgan.gan.evaluation.digits_classifier`, cached; test accuracy
    ``clf_accuracy``, 0.986) gives class probabilities and 64 penultimate
    features. With ``real`` the first ``min(N, 359)`` held-out digits:

    * ``classifier_score``: :func:`classifier_score` of the samples (max 10);
      ``classifier_score_real``: the same for ``real`` (what real digits get,
      9.52 for all 359, against 9.92 for one-hot predictions of their labels);
    * ``frechet_distance``: :func:`frechet_distance` between the features of
      the samples and of ``real``; ``frechet_floor``: :func:`frechet_floor`
      at ``len(real)``, the value of a second real set (20.7 at 359; the
      finite-sample bias makes it grow for fewer samples);
    * ``classes_covered``, ``class_kl``, ``confidence``:
      :func:`class_histogram_metrics`;
    * ``clf_accuracy``: the classifier's test accuracy.

    Parameters
    ----------
    dataset : Dataset
        The ``digits`` data set (its held-out split is the reference).
    samples : (N, 1, 8, 8), (N, 8, 8) or (N, 64) array
        Generated digits in ``[-1, 1]``, ``N >= 2``.

    Raises
    ------
    ValueError
        For another data set, or samples of the wrong shape or with NaN/inf.

    Examples
    --------
    >>> from otgan.gan import load_dataset
    >>> ds = load_dataset("digits")
    >>> m = digit_metrics(ds, ds.heldout(300, 1))        # real digits
    >>> floor = m["frechet_floor"]
    >>> m["classes_covered"], m["classifier_score"] > 9, m["frechet_distance"] <= 1.5 * floor
    (10, True, True)
    >>> m = digit_metrics(ds, np.repeat(ds.train[:1], 300, axis=0))  # one digit, repeated
    >>> m["classes_covered"], round(m["classifier_score"], 2), m["frechet_distance"] > 10 * floor
    (1, 1.0, True)
    """
    _check_digits_dataset(dataset)
    from .digits_classifier import check_digit_samples, load_classifier

    x = check_digit_samples(samples)
    if len(x) < 2:
        raise ValueError(f"samples must hold at least 2 digits, got {len(x)}")
    clf = load_classifier()
    real = dataset.heldout(len(x), 0)
    prob = clf.predict_proba(x)
    out = class_histogram_metrics(prob)
    out["classifier_score"] = classifier_score(prob)
    out["classifier_score_real"] = classifier_score(clf.predict_proba(real))
    # real first, as in the floor (the formula is symmetric, its round-off is not quite)
    out["frechet_distance"] = frechet_distance(clf.features(real), clf.features(x))
    out["frechet_floor"] = _frechet_floor(dataset, len(real), clf)
    out["clf_accuracy"] = clf.accuracy
    return out


def evaluate(dataset: Dataset, fake: np.ndarray, n: int = 2500, metric: str = "l1") -> dict:
    """All metrics for ``fake`` (at least ``n`` generated samples) against ``dataset``:
    the exact W1 and its noise floor, :func:`mode_metrics` for the mixtures with
    modes, :func:`digit_metrics` for ``digits`` (on the first ``n_eval``
    samples, ``n`` capped at the held-out size)."""
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
    if dataset.name == "digits":
        out.update(digit_metrics(dataset, fake))
    return out
